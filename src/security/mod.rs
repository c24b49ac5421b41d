//! Security, as pure code that the listeners and handlers call: SASL PLAIN and the settings
//! that name users ([`plain`]), SCRAM ([`scram`]), one connection's authentication
//! ([`sasl`]), Kafka's ACLs ([`acl`], decided per request by [`authorize`]), and TLS
//! ([`tls`], with certificate subjects read by [`dn`]; [`scram_client`] for a broker logging
//! in to another).

pub mod acl;
pub mod authorize;
pub mod dn;
pub mod plain;
pub mod sasl;
pub mod scram;
pub mod scram_client;
pub mod tls;
