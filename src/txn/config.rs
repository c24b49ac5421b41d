//! The transaction coordinator's settings, by Kafka's broker names and with Kafka's defaults:
//!
//! - `transaction.state.log.num.partitions` (50) and `transaction.state.log.replication.factor`
//!   (3, capped at the live brokers when the topic is created, as weir does for
//!   `__consumer_offsets`), `transaction.state.log.min.isr` (2, capped at the replication
//!   factor), `transaction.state.log.segment.bytes` (100 MiB): `__transaction_state`;
//! - `transaction.max.timeout.ms` (15 min): the largest `transaction.timeout.ms` a producer
//!   may ask for (INVALID_TRANSACTION_TIMEOUT beyond it);
//! - `transaction.abort.timed.out.transaction.cleanup.interval.ms` (10 s): how often
//!   transactions past their timeout are looked for and aborted;
//! - `transactional.id.expiration.ms` (7 days) and
//!   `transaction.remove.expired.transaction.cleanup.interval.ms` (1 h): idle transactional
//!   ids are forgotten (a tombstone) after the first, looked for every second.

use crate::config::{parse_range, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnConfig {
    pub num_partitions: i32,
    pub replication_factor: i16,
    pub min_isr: i16,
    pub segment_bytes: u64,
    pub max_timeout_ms: i32,
    pub abort_interval_ms: u64,
    pub id_expiration_ms: i64,
    pub expiry_interval_ms: u64,
}

impl Default for TxnConfig {
    fn default() -> Self {
        TxnConfig {
            num_partitions: 50,
            replication_factor: 3,
            min_isr: 2,
            segment_bytes: 100 * 1024 * 1024,
            max_timeout_ms: 900_000,
            abort_interval_ms: 10_000,
            id_expiration_ms: 7 * 24 * 3600 * 1000,
            expiry_interval_ms: 3_600_000,
        }
    }
}

impl TxnConfig {
    /// Takes one setting if it is a transaction setting (Ok(false): not one of these).
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ConfigError> {
        let max = i32::MAX as u64;
        match name {
            "transaction.state.log.num.partitions" => {
                self.num_partitions = parse_range(name, value, 1, 100_000)? as i32
            }
            "transaction.state.log.replication.factor" => {
                self.replication_factor = parse_range(name, value, 1, 32_767)? as i16
            }
            "transaction.state.log.min.isr" => {
                self.min_isr = parse_range(name, value, 1, 32_767)? as i16
            }
            "transaction.state.log.segment.bytes" => {
                self.segment_bytes = parse_range(name, value, 1024, max)?
            }
            "transaction.max.timeout.ms" => {
                self.max_timeout_ms = parse_range(name, value, 1, max)? as i32
            }
            "transaction.abort.timed.out.transaction.cleanup.interval.ms" => {
                self.abort_interval_ms = parse_range(name, value, 1, max)?
            }
            "transactional.id.expiration.ms" => {
                self.id_expiration_ms = parse_range(name, value, 1, max)? as i64
            }
            "transaction.remove.expired.transaction.cleanup.interval.ms" => {
                self.expiry_interval_ms = parse_range(name, value, 1, max)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Every setting with its value (DescribeConfigs on a broker).
    pub fn entries(&self) -> Vec<(String, String)> {
        [
            (
                "transaction.state.log.num.partitions",
                self.num_partitions.to_string(),
            ),
            (
                "transaction.state.log.replication.factor",
                self.replication_factor.to_string(),
            ),
            ("transaction.state.log.min.isr", self.min_isr.to_string()),
            (
                "transaction.state.log.segment.bytes",
                self.segment_bytes.to_string(),
            ),
            (
                "transaction.max.timeout.ms",
                self.max_timeout_ms.to_string(),
            ),
            (
                "transaction.abort.timed.out.transaction.cleanup.interval.ms",
                self.abort_interval_ms.to_string(),
            ),
            (
                "transactional.id.expiration.ms",
                self.id_expiration_ms.to_string(),
            ),
            (
                "transaction.remove.expired.transaction.cleanup.interval.ms",
                self.expiry_interval_ms.to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_list() {
        let mut c = TxnConfig::default();
        assert!(c.set("transaction.max.timeout.ms", "60000").unwrap());
        assert_eq!(c.max_timeout_ms, 60_000);
        assert!(c.set("transaction.state.log.min.isr", "0").is_err());
        assert!(!c.set("log.dirs", "/x").unwrap());
        let entries = c.entries();
        assert!(entries.contains(&("transaction.max.timeout.ms".into(), "60000".into())));
        assert_eq!(entries.len(), 8);
    }
}
