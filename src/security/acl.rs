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

use std::collections::BTreeSet;

/// Kafka's resource types (ANY only in filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatternType {
    Any = 1,
    Match = 2,
    Literal = 3,
    Prefixed = 4,
}

/// Kafka's operations (ANY only in filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The ACLs in force and the settings around them.
#[derive(Debug, Clone, Default)]
pub struct Acls {
    bindings: BTreeSet<AclBinding>,
    super_users: BTreeSet<String>,
    allow_if_no_acl: bool,
}

/// What [`Acls::authorize`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied,
}

impl Acls {
    pub fn new(super_users: impl IntoIterator<Item = String>, allow_if_no_acl: bool) -> Acls {
        Acls {
            bindings: BTreeSet::new(),
            super_users: super_users.into_iter().collect(),
            allow_if_no_acl,
        }
    }

    /// Adds a binding (already validated); false if it was there.
    pub fn add(&mut self, b: AclBinding) -> bool {
        self.bindings.insert(b)
    }

    /// Removes and returns every binding `filter` matches.
    pub fn remove(&mut self, filter: &AclFilter) -> Vec<AclBinding> {
        let gone: Vec<AclBinding> = self.select(filter);
        for b in &gone {
            self.bindings.remove(b);
        }
        gone
    }

    /// Every binding `filter` matches.
    pub fn select(&self, filter: &AclFilter) -> Vec<AclBinding> {
        self.bindings
            .iter()
            .filter(|b| filter.matches(b))
            .cloned()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
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
        if self.super_users.contains(principal) {
            return Decision::Allowed;
        }
        let mut any_on_resource = false;
        let mut allowed = false;
        for b in self
            .bindings
            .iter()
            .filter(|b| b.resource_type == resource_type && covers(b, name))
        {
            any_on_resource = true;
            if !(b.principal == principal || b.principal == WILDCARD_PRINCIPAL) {
                continue;
            }
            if !(b.host == host || b.host == WILDCARD) {
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
        if allowed || (!any_on_resource && self.allow_if_no_acl) {
            Decision::Allowed
        } else {
            Decision::Denied
        }
    }
}

#[cfg(test)]
#[path = "acl_tests.rs"]
mod tests;
