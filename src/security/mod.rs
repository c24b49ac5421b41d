//! Security, as pure code that the listeners and handlers call: SASL PLAIN and the settings
//! that name users ([`plain`]), SCRAM ([`scram`]), one connection's authentication
//! ([`sasl`]), and Kafka's ACLs ([`acl`]).

pub mod acl;
pub mod authorize;
pub mod plain;
pub mod sasl;
pub mod scram;
