//! weir: a Kafka-wire-compatible message broker.
//!
//! Request flow:
//!
//! ```text
//! socket -> server::connection (one task per connection, requests in order)
//!        -> protocol::frame     (4-byte size, checked before allocating; bad size closes)
//!        -> protocol::request   (header: key, version, correlation id, client id)
//!        -> handlers            (registry lookup + version check, body decode, one file per API)
//!        -> log / metadata      (partition logs of stored batches; sled-backed topic metadata)
//!        -> protocol::response  (header + body at the request's version) -> socket
//! ```
//!
//! Produce validates each batch header and CRC, rewrites only the base offset and appends the
//! client's bytes; Fetch returns stored bytes as they are. Records are never decoded on
//! either path.

pub mod broker;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod config_changes;
pub mod error;
pub mod group;
pub mod handlers;
pub mod http;
pub mod log;
pub mod metadata;
pub mod metrics;
pub mod protocol;
pub mod quota;
pub mod replication;
pub mod security;
pub mod server;
pub mod topics;
pub mod txn;

pub use broker::{Broker, BrokerHandle};
pub use config::Config;
pub use error::Error;
