//! Security: SASL's SCRAM mechanisms ([`scram`]) and Kafka's ACLs ([`acl`]), as pure code
//! that the listeners and handlers call.

pub mod acl;
pub mod scram;
