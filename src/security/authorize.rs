//! The authorization decision every handler asks: may this request's principal, from its
//! client's host, do an operation on a resource? Kafka's `AuthHelper` in one small module.
//!
//! Invariants:
//! - with no authorizer configured (`authorizer.class.name` empty) every check is one branch
//!   on a bool and allows, and the image is not read;
//! - with one, a request takes the image's current ACL set once (an `Arc` clone: the image
//!   replaces the set when a record changes it, never mutates one in place), so all the
//!   checks of one request see one consistent set and each is a few hash lookups
//!   ([`AclSet::authorize`]), not a scan;
//! - the host is the client's address without Kafka's leading `/` (`127.0.0.1`), as ACLs
//!   name hosts.

use std::sync::Arc;

use crate::broker::Broker;
use crate::config::SecurityConfig;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{AclSet, Decision, Operation, Policy, ResourceType, CLUSTER_NAME};

/// The broker's authorizer: on or off, and the settings around the ACLs.
#[derive(Debug, Clone, Default)]
pub struct Authorizer {
    enabled: bool,
    policy: Policy,
}

impl Authorizer {
    pub fn new(config: &SecurityConfig) -> Authorizer {
        Authorizer {
            enabled: config.authorizer,
            policy: Policy {
                super_users: config.super_users.iter().cloned().collect(),
                allow_if_no_acl: config.allow_everyone_if_no_acl_found,
            },
        }
    }

    /// Whether ACLs are enforced (an authorizer is configured).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The checks of one request from `principal` at `client_host` (`/1.2.3.4`), over the
    /// set `acls` gives (called only when enabled).
    pub fn request<'a>(
        &'a self,
        acls: impl FnOnce() -> Arc<AclSet>,
        principal: &'a str,
        client_host: &'a str,
    ) -> Authz<'a> {
        Authz {
            acls: self.enabled.then(acls),
            policy: &self.policy,
            principal,
            host: client_host.strip_prefix('/').unwrap_or(client_host),
        }
    }
}

impl Broker {
    /// The checks of one request (see [`Authorizer::request`]).
    pub fn authz<'a>(&'a self, header: &'a RequestHeader) -> Authz<'a> {
        self.authorizer.request(
            || self.cluster.image().acls.clone(),
            &header.principal,
            &header.client_host,
        )
    }
}

/// One request's view: its principal, its host and one snapshot of the ACLs.
pub struct Authz<'a> {
    /// None: no authorizer, everything is allowed.
    acls: Option<Arc<AclSet>>,
    policy: &'a Policy,
    principal: &'a str,
    host: &'a str,
}

/// Kafka's operations on a topic, a group and the cluster, for the `authorized_operations`
/// bit fields of Metadata, DescribeGroups and DescribeCluster.
pub const TOPIC_OPERATIONS: &[Operation] = &[
    Operation::Read,
    Operation::Write,
    Operation::Create,
    Operation::Delete,
    Operation::Alter,
    Operation::Describe,
    Operation::DescribeConfigs,
    Operation::AlterConfigs,
];
pub const GROUP_OPERATIONS: &[Operation] =
    &[Operation::Read, Operation::Describe, Operation::Delete];
pub const CLUSTER_OPERATIONS: &[Operation] = &[
    Operation::Create,
    Operation::Alter,
    Operation::Describe,
    Operation::ClusterAction,
    Operation::DescribeConfigs,
    Operation::AlterConfigs,
    Operation::IdempotentWrite,
    Operation::CreateTokens,
    Operation::DescribeTokens,
];

impl Authz<'_> {
    /// Whether the authorizer is on (and so the checks can deny).
    pub fn enforced(&self) -> bool {
        self.acls.is_some()
    }

    pub fn allows(&self, op: Operation, resource_type: ResourceType, name: &str) -> bool {
        match &self.acls {
            None => true,
            Some(acls) => {
                acls.authorize(
                    self.policy,
                    self.principal,
                    self.host,
                    op,
                    resource_type,
                    name,
                ) == Decision::Allowed
            }
        }
    }

    pub fn topic(&self, op: Operation, name: &str) -> bool {
        self.allows(op, ResourceType::Topic, name)
    }

    pub fn group(&self, op: Operation, name: &str) -> bool {
        self.allows(op, ResourceType::Group, name)
    }

    pub fn cluster(&self, op: Operation) -> bool {
        self.allows(op, ResourceType::Cluster, CLUSTER_NAME)
    }

    pub fn transactional_id(&self, op: Operation, id: &str) -> bool {
        self.allows(op, ResourceType::TransactionalId, id)
    }

    /// May the principal do `op` on some resource of the type (see
    /// [`AclSet::authorize_any`])?
    pub fn any(&self, op: Operation, resource_type: ResourceType) -> bool {
        match &self.acls {
            None => true,
            Some(acls) => {
                acls.authorize_any(self.policy, self.principal, self.host, op, resource_type)
                    == Decision::Allowed
            }
        }
    }

    /// A config resource (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs) by Kafka's
    /// `ConfigResource.Type` code: a topic or group is checked on itself, a broker, broker
    /// logger or anything else on the cluster; the error is the matching
    /// *_AUTHORIZATION_FAILED.
    pub fn config_resource(&self, op: Operation, resource_type: i8, name: &str) -> Result<(), i16> {
        use crate::protocol::error_code as ec;
        let (allowed, code) = match resource_type {
            2 => (self.topic(op, name), ec::TOPIC_AUTHORIZATION_FAILED),
            32 => (self.group(op, name), ec::GROUP_AUTHORIZATION_FAILED),
            _ => (self.cluster(op), ec::CLUSTER_AUTHORIZATION_FAILED),
        };
        if allowed {
            Ok(())
        } else {
            Err(code)
        }
    }

    /// Kafka's `authorized_operations` bit field: bit `code` set for each of `ops` allowed.
    pub fn operations(&self, resource_type: ResourceType, name: &str, ops: &[Operation]) -> i32 {
        ops.iter()
            .filter(|op| self.allows(**op, resource_type, name))
            .fold(0, |bits, op| bits | (1 << op.code()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::acl::{AclBinding, PatternType, Permission};

    #[test]
    fn off_allows_everything_without_reading_the_acls() {
        let a = Authorizer::default();
        let z = a.request(|| unreachable!("not read when off"), "User:x", "/1.2.3.4");
        assert!(!z.enforced());
        assert!(z.topic(Operation::Write, "t") && z.cluster(Operation::Alter));
        assert!(z.any(Operation::Write, ResourceType::Topic));
    }

    #[test]
    fn on_checks_principal_and_host_without_the_slash() {
        let config = SecurityConfig {
            authorizer: true,
            super_users: vec!["User:admin".into()],
            ..SecurityConfig::default()
        };
        let a = Authorizer::new(&config);
        let mut set = AclSet::default();
        set.add(AclBinding {
            resource_type: ResourceType::Topic,
            name: "t".into(),
            pattern: PatternType::Literal,
            principal: "User:alice".into(),
            host: "10.0.0.1".into(),
            operation: Operation::Write,
            permission: Permission::Allow,
        });
        let set = Arc::new(set);
        let z = |p, h| a.request(|| set.clone(), p, h);
        assert!(z("User:alice", "/10.0.0.1").topic(Operation::Write, "t"));
        assert!(z("User:alice", "/10.0.0.1").topic(Operation::Describe, "t"));
        assert!(!z("User:alice", "/10.0.0.2").topic(Operation::Write, "t"));
        assert!(!z("User:bob", "/10.0.0.1").topic(Operation::Write, "t"));
        assert!(z("User:admin", "/9.9.9.9").cluster(Operation::Alter));
        // Write and Describe (implied) of the eight topic operations: bits 4 and 8.
        let bits =
            z("User:alice", "/10.0.0.1").operations(ResourceType::Topic, "t", TOPIC_OPERATIONS);
        assert_eq!(bits, (1 << 4) | (1 << 8));
    }
}
