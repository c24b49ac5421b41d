//! ACLs as Kafka's `StandardAuthorizer` decides them: bindings of a resource pattern to an
//! access entry, matched against an action (principal, host, operation, resource).
//!
//! The decision, in order:
//! 1. a super user (`super.users`) may do anything;
//! 2. every binding whose pattern matches the resource (LITERAL with the same name, LITERAL
//!    `*`, or PREFIXED with a prefix of the name) and whose principal (`User:name` or
//!    `User:*`) and host (the address or `*`) match is looked at: a DENY for the operation
//!    (or ALL) wins over everything; an ALLOW for the operation, for ALL, or for one that
//!    implies it (READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies
//!    DESCRIBE_CONFIGS) allows;
//! 3. with no binding at all on the resource (whoever it names),
//!    `allow.everyone.if.no.acl.found` decides; otherwise the answer is no.
//!
//! Codes are Kafka's (`ResourceType`, `PatternType`, `AclOperation`, `AclPermissionType`).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// Kafka's resource types (ANY only in filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceType {
    Any = 1,
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
    DelegationToken = 6,
    User = 7,
}

/// Kafka's pattern types (ANY and MATCH only in filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PatternType {
    Any = 1,
    Match = 2,
    Literal = 3,
    Prefixed = 4,
}

/// Kafka's operations (ANY only in filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    Any = 1,
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
    CreateTokens = 13,
    DescribeTokens = 14,
    TwoPhaseCommit = 15,
}

/// Kafka's permission types (ANY only in filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    Any = 1,
    Deny = 2,
    Allow = 3,
}

macro_rules! codes {
    ($t:ty { $($v:ident),* }) => {
        impl $t {
            pub fn code(self) -> i8 {
                self as i8
            }

            /// The value of a wire code (None: UNKNOWN or out of range).
            pub fn from_code(code: i8) -> Option<$t> {
                [$(<$t>::$v),*].into_iter().find(|v| *v as i8 == code)
            }
        }
    };
}

codes!(ResourceType {
    Any,
    Topic,
    Group,
    Cluster,
    TransactionalId,
    DelegationToken,
    User
});
codes!(PatternType {
    Any,
    Match,
    Literal,
    Prefixed
});
codes!(Operation {
    Any,
    All,
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    ClusterAction,
    DescribeConfigs,
    AlterConfigs,
    IdempotentWrite,
    CreateTokens,
    DescribeTokens,
    TwoPhaseCommit
});
codes!(Permission { Any, Deny, Allow });

/// The wildcard resource name and principal, and the cluster's one resource name.
pub const WILDCARD: &str = "*";
pub const WILDCARD_PRINCIPAL: &str = "User:*";
pub const CLUSTER_NAME: &str = "kafka-cluster";

/// One ACL: a resource pattern and an access entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub name: String,
    pub pattern: PatternType,
    /// `User:alice`, or `User:*` for everyone.
    pub principal: String,
    /// An address, or `*` for any.
    pub host: String,
    pub operation: Operation,
    pub permission: Permission,
}

/// What DescribeAcls and DeleteAcls select: `None` fields match anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclFilter {
    pub resource_type: ResourceType,
    pub name: Option<String>,
    pub pattern: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: Operation,
    pub permission: Permission,
}

impl AclFilter {
    /// Kafka's `AclBindingFilter.matches`.
    pub fn matches(&self, b: &AclBinding) -> bool {
        let type_ok =
            self.resource_type == ResourceType::Any || self.resource_type == b.resource_type;
        let pattern_ok = match (self.pattern, &self.name) {
            (PatternType::Any, None) | (PatternType::Match, None) => true,
            (PatternType::Any, Some(n)) => *n == b.name,
            (PatternType::Match, Some(n)) => match b.pattern {
                PatternType::Literal => b.name == *n || b.name == WILDCARD,
                PatternType::Prefixed => n.starts_with(&b.name),
                _ => false,
            },
            (p, n) => p == b.pattern && n.as_ref().is_none_or(|n| *n == b.name),
        };
        type_ok
            && pattern_ok
            && self.principal.as_ref().is_none_or(|p| *p == b.principal)
            && self.host.as_ref().is_none_or(|h| *h == b.host)
            && (self.operation == Operation::Any || self.operation == b.operation)
            && (self.permission == Permission::Any || self.permission == b.permission)
    }
}

/// The name of a code in Kafka's messages: `UNKNOWN` for one weir does not know.
fn code_name<T: std::fmt::Debug>(v: Option<T>) -> String {
    v.map_or("UNKNOWN".to_string(), |v| format!("{v:?}").to_uppercase())
}

impl AclBinding {
    /// A binding as CreateAcls carries it (Kafka's codes); an unknown code is refused with
    /// Kafka's INVALID_REQUEST message, the rest by [`validate`].
    pub fn from_wire(
        resource_type: i8,
        name: &str,
        pattern: i8,
        principal: &str,
        host: &str,
        operation: i8,
        permission: i8,
    ) -> Result<AclBinding, String> {
        let (rt, pt, op, perm) = (
            ResourceType::from_code(resource_type),
            PatternType::from_code(pattern),
            Operation::from_code(operation),
            Permission::from_code(permission),
        );
        let (Some(rt), Some(pt), Some(op), Some(perm)) = (rt, pt, op, perm) else {
            let what = if rt.is_none() {
                format!("resourceType {}", code_name(rt))
            } else if pt.is_none() {
                format!("patternType {}", code_name(pt))
            } else if op.is_none() {
                format!("operation {}", code_name(op))
            } else {
                format!("permissionType {}", code_name(perm))
            };
            return Err(format!("Invalid {what}"));
        };
        let b = AclBinding {
            resource_type: rt,
            name: name.to_string(),
            pattern: pt,
            principal: principal.to_string(),
            host: host.to_string(),
            operation: op,
            permission: perm,
        };
        validate(&b)?;
        Ok(b)
    }
}

impl AclFilter {
    /// A filter as DescribeAcls and DeleteAcls carry it (null name, principal or host: any);
    /// an unknown code is INVALID_REQUEST, as Kafka's request parser refuses it.
    pub fn from_wire(
        resource_type: i8,
        name: Option<&str>,
        pattern: i8,
        principal: Option<&str>,
        host: Option<&str>,
        operation: i8,
        permission: i8,
    ) -> Result<AclFilter, String> {
        let (Some(rt), Some(pt), Some(op), Some(perm)) = (
            ResourceType::from_code(resource_type),
            PatternType::from_code(pattern),
            Operation::from_code(operation),
            Permission::from_code(permission),
        ) else {
            return Err("The filter contains UNKNOWN elements".to_string());
        };
        Ok(AclFilter {
            resource_type: rt,
            name: name.map(str::to_string),
            pattern: pt,
            principal: principal.map(str::to_string),
            host: host.map(str::to_string),
            operation: op,
            permission: perm,
        })
    }
}

/// Why CreateAcls refuses a binding: INVALID_REQUEST with this message (Kafka's words).
pub fn validate(b: &AclBinding) -> Result<(), String> {
    if b.resource_type == ResourceType::Any {
        return Err("Invalid resourceType ANY".to_string());
    }
    if !matches!(b.pattern, PatternType::Literal | PatternType::Prefixed) {
        return Err(format!(
            "Invalid patternType {}",
            format!("{:?}", b.pattern).to_uppercase()
        ));
    }
    if b.operation == Operation::Any {
        return Err("Invalid operation ANY".to_string());
    }
    if b.permission == Permission::Any {
        return Err("Invalid permissionType ANY".to_string());
    }
    if b.name.is_empty() {
        return Err("Resource name should not be empty".to_string());
    }
    if b.resource_type == ResourceType::Cluster
        && !(b.pattern == PatternType::Literal && b.name == CLUSTER_NAME)
    {
        return Err("The only valid name for the CLUSTER resource is kafka-cluster".to_string());
    }
    match b.principal.split_once(':') {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() => {}
        _ => return Err(format!("Could not parse principal from `{}`", b.principal)),
    }
    if b.host.is_empty() {
        return Err("Invalid host: empty".to_string());
    }
    Ok(())
}

/// Whether an ALLOW for `granted` allows `wanted`.
fn implies(granted: Operation, wanted: Operation) -> bool {
    use Operation::*;
    granted == All
        || granted == wanted
        || (wanted == Describe && matches!(granted, Read | Write | Delete | Alter))
        || (wanted == DescribeConfigs && granted == AlterConfigs)
}

/// Whether binding `b`'s pattern covers the resource `name`.
fn covers(b: &AclBinding, name: &str) -> bool {
    match b.pattern {
        PatternType::Literal => b.name == name || b.name == WILDCARD,
        PatternType::Prefixed => name.starts_with(&b.name),
        _ => false,
    }
}

/// The bindings in force, indexed by resource type and pattern name so that a decision looks
/// up the resource's name, `*` and the name's prefixes (one hash lookup each) instead of
/// scanning every binding.
///
/// Invariant: `index` holds exactly the bindings of `bindings`, each under its
/// (resource type, name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AclSet {
    bindings: BTreeSet<AclBinding>,
    index: HashMap<ResourceType, HashMap<String, Vec<AclBinding>>>,
}

/// The settings around the bindings: `super.users` and `allow.everyone.if.no.acl.found`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub super_users: BTreeSet<String>,
    pub allow_if_no_acl: bool,
}

/// What [`AclSet::authorize`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied,
}

impl AclSet {
    /// Adds a binding (already validated); false if it was there.
    pub fn add(&mut self, b: AclBinding) -> bool {
        if self.bindings.contains(&b) {
            return false;
        }
        self.index
            .entry(b.resource_type)
            .or_default()
            .entry(b.name.clone())
            .or_default()
            .push(b.clone());
        self.bindings.insert(b)
    }

    /// Removes one binding; false if it was not there.
    pub fn remove_one(&mut self, b: &AclBinding) -> bool {
        if !self.bindings.remove(b) {
            return false;
        }
        if let Some(by_name) = self.index.get_mut(&b.resource_type) {
            if let Some(list) = by_name.get_mut(&b.name) {
                list.retain(|x| x != b);
                if list.is_empty() {
                    by_name.remove(&b.name);
                }
            }
            if by_name.is_empty() {
                self.index.remove(&b.resource_type);
            }
        }
        true
    }

    /// Every binding `filter` matches, in order.
    pub fn select(&self, filter: &AclFilter) -> Vec<AclBinding> {
        self.bindings
            .iter()
            .filter(|b| filter.matches(b))
            .cloned()
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &AclBinding> {
        self.bindings.iter()
    }

    pub fn contains(&self, b: &AclBinding) -> bool {
        self.bindings.contains(b)
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The bindings whose pattern covers the resource: LITERAL on the name or `*`, PREFIXED
    /// on the name or any of its prefixes.
    fn covering<'a>(
        &'a self,
        resource_type: ResourceType,
        name: &'a str,
    ) -> impl Iterator<Item = &'a AclBinding> + 'a {
        let by_name = self.index.get(&resource_type);
        let prefixes = name
            .char_indices()
            .skip(1)
            .map(move |(i, _)| &name[..i])
            .chain(std::iter::once(name));
        let wildcard = (!name.starts_with(WILDCARD)).then_some(WILDCARD);
        prefixes
            .chain(wildcard)
            .filter_map(move |n| by_name.and_then(|m| m.get(n)))
            .flatten()
            .filter(move |b| covers(b, name))
    }

    /// May `principal` connected from `host` do `op` on the resource?
    pub fn authorize(
        &self,
        policy: &Policy,
        principal: &str,
        host: &str,
        op: Operation,
        resource_type: ResourceType,
        name: &str,
    ) -> Decision {
        if policy.super_users.contains(principal) {
            return Decision::Allowed;
        }
        let mut any_on_resource = false;
        let mut allowed = false;
        for b in self.covering(resource_type, name) {
            any_on_resource = true;
            if !entry_matches(b, principal, host) {
                continue;
            }
            match b.permission {
                Permission::Deny if b.operation == op || b.operation == Operation::All => {
                    return Decision::Denied
                }
                Permission::Allow if implies(b.operation, op) => allowed = true,
                _ => {}
            }
        }
        if allowed || (!any_on_resource && policy.allow_if_no_acl) {
            Decision::Allowed
        } else {
            Decision::Denied
        }
    }

    /// May the principal do `op` on SOME resource of the type (Kafka's
    /// `Authorizer.authorizeByResourceType`, e.g. InitProducerId's "Write on any topic")?
    /// Allowed if allowed on a resource no binding names (as Kafka's default method checks a
    /// made-up name); otherwise denied by a DENY on the wildcard, allowed by an ALLOW whose
    /// pattern no DENY of the principal's covers.
    pub fn authorize_any(
        &self,
        policy: &Policy,
        principal: &str,
        host: &str,
        op: Operation,
        resource_type: ResourceType,
    ) -> Decision {
        let probe = "hardcode";
        if self.authorize(policy, principal, host, op, resource_type, probe) == Decision::Allowed {
            return Decision::Allowed;
        }
        let Some(by_name) = self.index.get(&resource_type) else {
            return Decision::Denied;
        };
        let mine = || {
            by_name
                .values()
                .flatten()
                .filter(|b| entry_matches(b, principal, host))
        };
        let denies: Vec<&AclBinding> = mine()
            .filter(|b| {
                b.permission == Permission::Deny
                    && (b.operation == op || b.operation == Operation::All)
            })
            .collect();
        if denies
            .iter()
            .any(|d| d.pattern == PatternType::Literal && d.name == WILDCARD)
        {
            return Decision::Denied;
        }
        let allowed = mine()
            .filter(|b| b.permission == Permission::Allow && implies(b.operation, op))
            .any(|a| !denies.iter().any(|d| covers(d, &a.name)));
        if allowed {
            Decision::Allowed
        } else {
            Decision::Denied
        }
    }
}

/// Whether a binding's principal (`User:*` for all) and host (`*` for any) match.
fn entry_matches(b: &AclBinding, principal: &str, host: &str) -> bool {
    (b.principal == principal || b.principal == WILDCARD_PRINCIPAL)
        && (b.host == host || b.host == WILDCARD)
}

/// The ACLs in force and the settings around them: an [`AclSet`] with its [`Policy`].
#[derive(Debug, Clone, Default)]
pub struct Acls {
    set: AclSet,
    policy: Policy,
}

impl Acls {
    pub fn new(super_users: impl IntoIterator<Item = String>, allow_if_no_acl: bool) -> Acls {
        Acls {
            set: AclSet::default(),
            policy: Policy {
                super_users: super_users.into_iter().collect(),
                allow_if_no_acl,
            },
        }
    }

    /// Adds a binding (already validated); false if it was there.
    pub fn add(&mut self, b: AclBinding) -> bool {
        self.set.add(b)
    }

    /// Removes and returns every binding `filter` matches.
    pub fn remove(&mut self, filter: &AclFilter) -> Vec<AclBinding> {
        let gone = self.set.select(filter);
        for b in &gone {
            self.set.remove_one(b);
        }
        gone
    }

    /// Every binding `filter` matches.
    pub fn select(&self, filter: &AclFilter) -> Vec<AclBinding> {
        self.set.select(filter)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// May `principal` connected from `host` do `op` on the resource?
    pub fn authorize(
        &self,
        principal: &str,
        host: &str,
        op: Operation,
        resource_type: ResourceType,
        name: &str,
    ) -> Decision {
        self.set
            .authorize(&self.policy, principal, host, op, resource_type, name)
    }

    /// See [`AclSet::authorize_any`].
    pub fn authorize_any(
        &self,
        principal: &str,
        host: &str,
        op: Operation,
        resource_type: ResourceType,
    ) -> Decision {
        self.set
            .authorize_any(&self.policy, principal, host, op, resource_type)
    }
}

#[cfg(test)]
#[path = "acl_tests.rs"]
mod tests;
