use super::*;
use Operation::*;
use ResourceType::{Cluster, Group, Topic};

fn acl(
    rt: ResourceType,
    name: &str,
    pattern: PatternType,
    principal: &str,
    host: &str,
    op: Operation,
    perm: Permission,
) -> AclBinding {
    AclBinding {
        resource_type: rt,
        name: name.to_string(),
        pattern,
        principal: principal.to_string(),
        host: host.to_string(),
        operation: op,
        permission: perm,
    }
}

use PatternType::{Literal, Prefixed};
use Permission::{Allow, Deny};

fn acls(bindings: &[AclBinding], allow_if_no_acl: bool) -> Acls {
    let mut a = Acls::new(["User:admin".to_string()], allow_if_no_acl);
    for b in bindings {
        validate(b).unwrap();
        a.add(b.clone());
    }
    a
}

/// The decision table: (bindings, principal, host, operation, resource, expected).
#[test]
fn decisions() {
    let alice_read = acl(Topic, "orders", Literal, "User:alice", "*", Read, Allow);
    let everyone_write_prefixed = acl(Topic, "logs-", Prefixed, "User:*", "*", Write, Allow);
    let bob_deny_all_from_host = acl(Topic, "*", Literal, "User:bob", "10.0.0.9", All, Deny);
    let bob_all = acl(Topic, "*", Literal, "User:bob", "*", All, Allow);
    let carol_alter_configs = acl(
        Topic,
        "orders",
        Literal,
        "User:carol",
        "*",
        AlterConfigs,
        Allow,
    );
    let dave_deny_read = acl(Topic, "orders", Literal, "User:dave", "*", Read, Deny);
    let dave_allow_all = acl(Topic, "orders", Literal, "User:dave", "*", All, Allow);
    let group_read = acl(Group, "billing", Literal, "User:alice", "*", Read, Allow);
    let cluster_create = acl(
        Cluster,
        CLUSTER_NAME,
        Literal,
        "User:ops",
        "*",
        Create,
        Allow,
    );
    let everything = [
        alice_read.clone(),
        everyone_write_prefixed.clone(),
        bob_deny_all_from_host.clone(),
        bob_all.clone(),
        carol_alter_configs.clone(),
        dave_deny_read.clone(),
        dave_allow_all.clone(),
        group_read.clone(),
        cluster_create.clone(),
    ];
    use Decision::{Allowed as A, Denied as D};
    #[rustfmt::skip]
    let table: Vec<(&str, &str, Operation, ResourceType, &str, Decision)> = vec![
        // A literal ACL: the operation and what it implies, nothing else.
        ("User:alice", "1.2.3.4", Read, Topic, "orders", A),
        ("User:alice", "1.2.3.4", Describe, Topic, "orders", A),
        ("User:alice", "1.2.3.4", Write, Topic, "orders", D),
        ("User:alice", "1.2.3.4", Read, Topic, "orders2", D),
        ("User:alice", "1.2.3.4", Read, Group, "orders", D),
        // Prefixed and the wildcard principal.
        ("User:zed", "1.2.3.4", Write, Topic, "logs-app", A),
        ("User:zed", "1.2.3.4", Describe, Topic, "logs-app", A),
        ("User:zed", "1.2.3.4", Write, Topic, "logs", D),
        ("User:zed", "1.2.3.4", Read, Topic, "logs-app", D),
        // Deny beats allow, and only from the denied host.
        ("User:bob", "10.0.0.9", Read, Topic, "anything", D),
        ("User:bob", "10.0.0.8", Read, Topic, "anything", A),
        ("User:bob", "10.0.0.8", Delete, Topic, "orders", A),
        // ALTER_CONFIGS implies DESCRIBE_CONFIGS, not DESCRIBE.
        ("User:carol", "h", DescribeConfigs, Topic, "orders", A),
        ("User:carol", "h", Describe, Topic, "orders", D),
        // A DENY on one operation leaves the others of an ALL allowed.
        ("User:dave", "h", Read, Topic, "orders", D),
        ("User:dave", "h", Write, Topic, "orders", A),
        // Other resource types.
        ("User:alice", "h", Read, Group, "billing", A),
        ("User:ops", "h", Create, Cluster, CLUSTER_NAME, A),
        ("User:ops", "h", Alter, Cluster, CLUSTER_NAME, D),
        // Super users pass everything, even a deny.
        ("User:admin", "10.0.0.9", Write, Topic, "orders", A),
        ("User:admin", "h", ClusterAction, Cluster, CLUSTER_NAME, A),
        // A resource without any ACL: no (allow.everyone.if.no.acl.found=false).
        ("User:alice", "h", Read, Group, "other", D),
    ];
    let a = acls(&everything, false);
    for (principal, host, op, rt, name, want) in &table {
        assert_eq!(
            a.authorize(principal, host, *op, *rt, name),
            *want,
            "{principal}@{host} {op:?} {rt:?}:{name}"
        );
    }
}

#[test]
fn allow_everyone_if_no_acl_found_only_where_no_acl_names_the_resource() {
    let a = acls(
        &[acl(
            Topic,
            "orders",
            Literal,
            "User:alice",
            "*",
            Read,
            Allow,
        )],
        true,
    );
    // No ACL on "free": everyone.
    assert_eq!(
        a.authorize("User:x", "h", Write, Topic, "free"),
        Decision::Allowed
    );
    // An ACL on "orders" (for someone else): the ACLs decide.
    assert_eq!(
        a.authorize("User:x", "h", Read, Topic, "orders"),
        Decision::Denied
    );
    let none = acls(&[], false);
    assert_eq!(
        none.authorize("User:x", "h", Read, Topic, "t"),
        Decision::Denied
    );
    assert!(none.is_empty());
}

#[test]
fn filters_select_as_kafka_does() {
    let lit = acl(Topic, "orders", Literal, "User:alice", "*", Read, Allow);
    let wild = acl(Topic, "*", Literal, "User:bob", "*", Write, Allow);
    let pre = acl(Topic, "ord", Prefixed, "User:carol", "h1", Read, Deny);
    let grp = acl(Group, "orders", Literal, "User:alice", "*", Read, Allow);
    let mut a = acls(
        &[lit.clone(), wild.clone(), pre.clone(), grp.clone()],
        false,
    );
    let f = |rt, name: Option<&str>, pattern, principal: Option<&str>, op, perm| AclFilter {
        resource_type: rt,
        name: name.map(str::to_string),
        pattern,
        principal: principal.map(str::to_string),
        host: None,
        operation: op,
        permission: perm,
    };
    use PatternType::{Any as PAny, Match};
    use Permission::Any as Anyone;
    use ResourceType::Any as AnyType;
    #[rustfmt::skip]
    let table = vec![
        (f(AnyType, None, PAny, None, Any, Anyone), vec![&lit, &wild, &pre, &grp]),
        (f(Topic, None, PAny, None, Any, Anyone), vec![&lit, &wild, &pre]),
        (f(AnyType, Some("orders"), PAny, None, Any, Anyone), vec![&lit, &grp]),
        (f(Topic, Some("orders"), Match, None, Any, Anyone), vec![&lit, &wild, &pre]),
        (f(Topic, Some("other"), Match, None, Any, Anyone), vec![&wild]),
        (f(Topic, Some("ord"), Prefixed, None, Any, Anyone), vec![&pre]),
        (f(Topic, Some("orders"), Literal, None, Any, Anyone), vec![&lit]),
        (f(AnyType, None, PAny, Some("User:alice"), Any, Anyone), vec![&lit, &grp]),
        (f(AnyType, None, PAny, None, Write, Anyone), vec![&wild]),
        (f(AnyType, None, PAny, None, Any, Deny), vec![&pre]),
    ];
    for (filter, want) in &table {
        let mut got = a.select(filter);
        got.sort();
        let mut want: Vec<AclBinding> = want.iter().map(|b| (*b).clone()).collect();
        want.sort();
        assert_eq!(got, want, "{filter:?}");
    }
    let gone = a.remove(&f(AnyType, None, PAny, Some("User:alice"), Any, Anyone));
    assert_eq!(gone.len(), 2);
    assert_eq!(a.len(), 2);
    assert!(!a.add(wild));
}

#[test]
fn creation_is_validated() {
    let ok = acl(Topic, "t", Literal, "User:a", "*", Read, Allow);
    assert_eq!(validate(&ok), Ok(()));
    let bad = |f: &dyn Fn(&mut AclBinding)| {
        let mut b = ok.clone();
        f(&mut b);
        validate(&b).unwrap_err()
    };
    assert_eq!(
        bad(&|b| b.resource_type = ResourceType::Any),
        "Invalid resourceType ANY"
    );
    assert_eq!(
        bad(&|b| b.pattern = PatternType::Match),
        "Invalid patternType MATCH"
    );
    assert_eq!(
        bad(&|b| b.operation = Operation::Any),
        "Invalid operation ANY"
    );
    assert_eq!(
        bad(&|b| b.permission = Permission::Any),
        "Invalid permissionType ANY"
    );
    assert!(bad(&|b| b.principal = "alice".into()).contains("Could not parse principal"));
    assert!(bad(&|b| b.name.clear()).contains("should not be empty"));
    assert!(bad(&|b| {
        b.resource_type = Cluster;
        b.name = "c".into();
    })
    .contains("kafka-cluster"));
    for code in 1..=7 {
        assert_eq!(ResourceType::from_code(code).unwrap().code(), code);
    }
    assert_eq!(ResourceType::from_code(0), None);
    assert_eq!(Operation::from_code(15), Some(TwoPhaseCommit));
    assert_eq!(Operation::from_code(16), None);
    assert_eq!(Permission::from_code(3), Some(Allow));
    assert_eq!(PatternType::from_code(4), Some(Prefixed));
}

/// The indexed lookup decides as a scan of every binding would, over names that are
/// prefixes of each other, the wildcard, names starting with `*` and multi-byte names; and
/// the index forgets removed bindings.
#[test]
fn indexed_decisions_equal_a_scan() {
    let names = ["", "*", "*x", "a", "ab", "abc", "b", "é", "éa"];
    let mut bindings = Vec::new();
    for (i, name) in names.iter().enumerate().filter(|(_, n)| !n.is_empty()) {
        for pattern in [Literal, Prefixed] {
            let perm = if i % 3 == 0 { Deny } else { Allow };
            bindings.push(acl(Topic, name, pattern, "User:u", "*", Read, perm));
        }
    }
    let scan = |set: &[AclBinding], name: &str| {
        let mine: Vec<_> = set.iter().filter(|b| covers(b, name)).collect();
        if mine.is_empty() || mine.iter().any(|b| b.permission == Deny) {
            Decision::Denied
        } else {
            Decision::Allowed
        }
    };
    let policy = Policy::default();
    let mut set = AclSet::default();
    for b in &bindings {
        assert!(set.add(b.clone()));
    }
    let mut live = bindings.clone();
    // Remove every other binding, checking every name after each step.
    for step in 0..=bindings.len() {
        for name in names {
            assert_eq!(
                set.authorize(&policy, "User:u", "h", Read, Topic, name),
                scan(&live, name),
                "{name:?} after {step} removals"
            );
        }
        if step < bindings.len() && step % 2 == 0 {
            assert!(set.remove_one(&bindings[step]));
            assert!(!set.remove_one(&bindings[step]));
            live.retain(|b| *b != bindings[step]);
        }
    }
    assert_eq!(set.len(), live.len());
}

/// InitProducerId's "Write on any topic" (Kafka's authorizeByResourceType).
#[test]
fn authorize_any_by_resource_type() {
    let write = |name: &str, pattern, perm| acl(Topic, name, pattern, "User:p", "*", Write, perm);
    #[rustfmt::skip]
    let table: Vec<(Vec<AclBinding>, bool, &str, Decision)> = vec![
        (vec![], false, "User:p", Decision::Denied),
        (vec![], true, "User:p", Decision::Allowed),
        (vec![write("t", Literal, Allow)], false, "User:p", Decision::Allowed),
        (vec![write("t", Literal, Allow)], false, "User:q", Decision::Denied),
        (vec![write("logs-", Prefixed, Allow)], false, "User:p", Decision::Allowed),
        // A deny on the wildcard beats any allow.
        (vec![write("t", Literal, Allow), write("*", Literal, Deny)], false, "User:p", Decision::Denied),
        // A prefixed deny covering the only allow.
        (vec![write("logs-a", Literal, Allow), write("logs-", Prefixed, Deny)], false, "User:p", Decision::Denied),
        // Read does not imply Write.
        (vec![acl(Topic, "t", Literal, "User:p", "*", Read, Allow)], false, "User:p", Decision::Denied),
        // Super users.
        (vec![write("*", Literal, Deny)], false, "User:admin", Decision::Allowed),
    ];
    for (bindings, allow_if_no_acl, principal, want) in table {
        let a = acls(&bindings, allow_if_no_acl);
        assert_eq!(
            a.authorize_any(principal, "h", Write, Topic),
            want,
            "{bindings:?} {principal}"
        );
    }
}

#[test]
fn wire_codes_convert_or_are_refused() {
    let ok = AclBinding::from_wire(2, "t", 3, "User:a", "*", 3, 3).unwrap();
    assert_eq!(ok, acl(Topic, "t", Literal, "User:a", "*", Read, Allow));
    #[rustfmt::skip]
    let refused = [
        ((0, 3, 3, 3), "Invalid resourceType UNKNOWN"),
        ((1, 3, 3, 3), "Invalid resourceType ANY"),
        ((2, 0, 3, 3), "Invalid patternType UNKNOWN"),
        ((2, 2, 3, 3), "Invalid patternType MATCH"),
        ((2, 3, 99, 3), "Invalid operation UNKNOWN"),
        ((2, 3, 3, 0), "Invalid permissionType UNKNOWN"),
    ];
    for ((rt, pt, op, perm), want) in refused {
        assert_eq!(
            AclBinding::from_wire(rt, "t", pt, "User:a", "*", op, perm).unwrap_err(),
            want
        );
    }
    let f = AclFilter::from_wire(1, None, 1, Some("User:a"), None, 1, 1).unwrap();
    assert!(f.matches(&ok));
    assert!(AclFilter::from_wire(0, None, 1, None, None, 1, 1).is_err());
}
