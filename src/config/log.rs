//! Topic-level log settings: the values every partition log runs with, their Kafka names,
//! types, defaults and valid ranges. A topic's settings are the broker's `log.*` defaults with
//! the topic's own overrides applied on top ([`LogConfig::with_overrides`]).

use std::collections::BTreeMap;

use super::{invalid, parse_range, parse_signed, ConfigError};
use crate::replication::quota::Throttled;

/// Whether a record batch keeps the producer's timestamps or gets the broker's append time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    CreateTime,
    LogAppendTime,
}

impl TimestampType {
    pub fn name(self) -> &'static str {
        match self {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        }
    }
}

/// `compression.type`: what the broker stores batches as. `Producer` keeps each batch as its
/// producer compressed it; any other value recompresses batches of another codec on append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionType {
    Producer,
    Uncompressed,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl CompressionType {
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::Producer => "producer",
            CompressionType::Uncompressed => "uncompressed",
            CompressionType::Gzip => "gzip",
            CompressionType::Snappy => "snappy",
            CompressionType::Lz4 => "lz4",
            CompressionType::Zstd => "zstd",
        }
    }

    fn parse(name: &str, value: &str) -> Result<Self, ConfigError> {
        Ok(match value.trim() {
            "producer" => CompressionType::Producer,
            "uncompressed" => CompressionType::Uncompressed,
            "gzip" => CompressionType::Gzip,
            "snappy" => CompressionType::Snappy,
            "lz4" => CompressionType::Lz4,
            "zstd" => CompressionType::Zstd,
            _ => {
                return Err(invalid(
                    name,
                    value,
                    "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
                ))
            }
        })
    }

    /// The RecordBatch codec (attributes bits 0-2) this stores, None for `producer`.
    pub fn codec(self) -> Option<i16> {
        use crate::log::compression as c;
        match self {
            CompressionType::Producer => None,
            CompressionType::Uncompressed => Some(c::NONE),
            CompressionType::Gzip => Some(c::GZIP),
            CompressionType::Snappy => Some(c::SNAPPY),
            CompressionType::Lz4 => Some(c::LZ4),
            CompressionType::Zstd => Some(c::ZSTD),
        }
    }
}

/// Kafka's config value types, with the codes DescribeConfigs v3+ reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum ConfigType {
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// One topic-level setting: its name, the broker-level (`log.*`) name it inherits from (None
/// for a topic-only setting), and its type.
#[derive(Debug, Clone, Copy)]
pub struct TopicConfigDef {
    pub name: &'static str,
    pub broker_name: Option<&'static str>,
    pub kind: ConfigType,
}

const fn def(name: &'static str, broker_name: &'static str, kind: ConfigType) -> TopicConfigDef {
    TopicConfigDef {
        name,
        broker_name: Some(broker_name),
        kind,
    }
}

/// A topic-only setting: no broker-level default to inherit, no synonym.
const fn topic_only(name: &'static str, kind: ConfigType) -> TopicConfigDef {
    TopicConfigDef {
        name,
        broker_name: None,
        kind,
    }
}

/// Every topic-level setting this broker knows, in the order DescribeConfigs lists them.
pub const TOPIC_CONFIGS: &[TopicConfigDef] = &[
    def("cleanup.policy", "log.cleanup.policy", ConfigType::List),
    def(
        "compression.gzip.level",
        "compression.gzip.level",
        ConfigType::Int,
    ),
    def(
        "compression.lz4.level",
        "compression.lz4.level",
        ConfigType::Int,
    ),
    def("compression.type", "compression.type", ConfigType::String),
    def(
        "compression.zstd.level",
        "compression.zstd.level",
        ConfigType::Int,
    ),
    def(
        "delete.retention.ms",
        "log.cleaner.delete.retention.ms",
        ConfigType::Long,
    ),
    def(
        "file.delete.delay.ms",
        "log.segment.delete.delay.ms",
        ConfigType::Long,
    ),
    def(
        "flush.messages",
        "log.flush.interval.messages",
        ConfigType::Long,
    ),
    def("flush.ms", "log.flush.interval.ms", ConfigType::Long),
    // Topic-only (no broker-level setting): the replicas a partition move throttles.
    topic_only("follower.replication.throttled.replicas", ConfigType::List),
    def(
        "index.interval.bytes",
        "log.index.interval.bytes",
        ConfigType::Int,
    ),
    topic_only("leader.replication.throttled.replicas", ConfigType::List),
    def(
        "local.retention.bytes",
        "log.local.retention.bytes",
        ConfigType::Long,
    ),
    def(
        "local.retention.ms",
        "log.local.retention.ms",
        ConfigType::Long,
    ),
    def(
        "max.compaction.lag.ms",
        "log.cleaner.max.compaction.lag.ms",
        ConfigType::Long,
    ),
    def("max.message.bytes", "message.max.bytes", ConfigType::Int),
    def(
        "message.timestamp.after.max.ms",
        "log.message.timestamp.after.max.ms",
        ConfigType::Long,
    ),
    def(
        "message.timestamp.before.max.ms",
        "log.message.timestamp.before.max.ms",
        ConfigType::Long,
    ),
    def(
        "message.timestamp.type",
        "log.message.timestamp.type",
        ConfigType::String,
    ),
    def(
        "min.cleanable.dirty.ratio",
        "log.cleaner.min.cleanable.ratio",
        ConfigType::Double,
    ),
    def(
        "min.compaction.lag.ms",
        "log.cleaner.min.compaction.lag.ms",
        ConfigType::Long,
    ),
    def(
        "min.insync.replicas",
        "min.insync.replicas",
        ConfigType::Int,
    ),
    def("preallocate", "log.preallocate", ConfigType::Boolean),
    topic_only("remote.log.copy.disable", ConfigType::Boolean),
    topic_only("remote.log.delete.on.disable", ConfigType::Boolean),
    topic_only("remote.storage.enable", ConfigType::Boolean),
    def("retention.bytes", "log.retention.bytes", ConfigType::Long),
    def("retention.ms", "log.retention.ms", ConfigType::Long),
    def("segment.bytes", "log.segment.bytes", ConfigType::Int),
    def(
        "segment.index.bytes",
        "log.index.size.max.bytes",
        ConfigType::Int,
    ),
    def("segment.jitter.ms", "log.roll.jitter.ms", ConfigType::Long),
    def("segment.ms", "log.roll.ms", ConfigType::Long),
    def(
        "unclean.leader.election.enable",
        "unclean.leader.election.enable",
        ConfigType::Boolean,
    ),
];

/// Settings Kafka 4.1 lists that weir reports at Kafka's default and accepts only at it,
/// with why: what they turn on is not served (tiered storage, preallocated segment files,
/// automatic unclean elections).
const FIXED: &[(&str, &str, &str)] = &[
    ("local.retention.bytes", "-2", "tiered storage is not supported: the local log is the whole log (retention.bytes applies)"),
    ("local.retention.ms", "-2", "tiered storage is not supported: the local log is the whole log (retention.ms applies)"),
    ("preallocate", "false", "segment files are not preallocated"),
    ("remote.storage.enable", "false", "tiered storage is not supported"),
    ("remote.log.copy.disable", "false", "tiered storage is not supported"),
    ("remote.log.delete.on.disable", "false", "tiered storage is not supported"),
    ("unclean.leader.election.enable", "false", "leaders are elected from the ISR only; an unclean election is made on request (ElectLeaders with UNCLEAN, kafka-leader-election.sh --election-type unclean)"),
];

/// The definition of a topic-level setting, by its topic-level name.
pub fn topic_config(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// The topic-level name of a broker-level `log.*` setting.
pub fn topic_name_of_broker_setting(broker_name: &str) -> Option<&'static str> {
    TOPIC_CONFIGS
        .iter()
        .find(|d| d.broker_name == Some(broker_name))
        .map(|d| d.name)
}

/// The log settings that a topic inherits from the broker (`log.*`) and may override.
/// Defaults are Apache Kafka 4.x's.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// `segment.bytes`: roll a new segment past this size.
    pub segment_bytes: u64,
    /// `segment.ms`: roll a new segment once the active one is this old.
    pub segment_ms: i64,
    /// `index.interval.bytes`: bytes between sparse index entries.
    pub index_interval_bytes: u64,
    /// `segment.index.bytes`: preallocated size of each index file.
    pub segment_index_bytes: u64,
    /// `max.message.bytes`: the largest record batch accepted.
    pub max_message_bytes: u64,
    /// `flush.messages`: fsync after this many messages.
    pub flush_messages: u64,
    /// `flush.ms`: fsync once the oldest unflushed write is this old.
    pub flush_ms: u64,
    /// `retention.ms` (-1: keep forever): closed segments whose newest record is older are
    /// deleted.
    pub retention_ms: i64,
    /// `retention.bytes` (-1: no size limit): the oldest closed segments are deleted while a
    /// partition is larger.
    pub retention_bytes: i64,
    /// `cleanup.policy`: `delete`, `compact` or both, normalised to sorted `compact,delete`.
    pub cleanup_policy: String,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// `message.timestamp.before.max.ms`: how far in the past a CreateTime may be.
    pub timestamp_before_max_ms: i64,
    /// `message.timestamp.after.max.ms`: how far in the future a CreateTime may be.
    pub timestamp_after_max_ms: i64,
    /// `min.insync.replicas`: stored and reported; a single node always has one in-sync
    /// replica, so acks=all is satisfied by the leader alone.
    pub min_insync_replicas: u64,
    /// `delete.retention.ms`: how long a tombstone outlives its key's compaction.
    pub delete_retention_ms: i64,
    /// `min.compaction.lag.ms`: records younger than this are never compacted.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`: a dirty record older than this forces a cleaning pass.
    pub max_compaction_lag_ms: i64,
    /// `min.cleanable.dirty.ratio`: clean once this share of the cleanable log is dirty.
    pub min_cleanable_dirty_ratio: f64,
    /// `leader.replication.throttled.replicas` (topic-only): `partition:broker` pairs, `*` or
    /// empty (see [`crate::replication::quota`]).
    pub leader_throttled_replicas: Throttled,
    /// `follower.replication.throttled.replicas` (topic-only), likewise.
    pub follower_throttled_replicas: Throttled,
    /// `file.delete.delay.ms`: how long Kafka keeps a deleted segment's files for readers
    /// still at them. weir's readers hold the segment itself (its map and file handle), so
    /// the file can go at once whatever this says; it is kept and reported.
    pub file_delete_delay_ms: i64,
    /// `segment.jitter.ms`: `segment.ms` is shortened by up to this for each segment (see
    /// [`LogConfig::roll_after_ms`]), so partitions created together do not all roll at once.
    pub segment_jitter_ms: i64,
    /// `compression.type` (KIP-390's levels below apply when the broker compresses).
    pub compression_type: CompressionType,
    /// `compression.gzip.level`: -1 (zlib's default, 6) or 1-9.
    pub compression_gzip_level: i32,
    /// `compression.lz4.level`: 1-17 (lz4's HC levels; above 12 is 12).
    pub compression_lz4_level: i32,
    /// `compression.zstd.level`: -131072 to 22.
    pub compression_zstd_level: i32,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            index_interval_bytes: 4096,
            segment_index_bytes: 10 * 1024 * 1024,
            max_message_bytes: 1_048_588,
            flush_messages: i64::MAX as u64,
            flush_ms: i64::MAX as u64,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            cleanup_policy: "delete".to_string(),
            timestamp_type: TimestampType::CreateTime,
            timestamp_before_max_ms: i64::MAX,
            timestamp_after_max_ms: 3_600_000,
            min_insync_replicas: 1,
            delete_retention_ms: 24 * 3600 * 1000,
            min_compaction_lag_ms: 0,
            max_compaction_lag_ms: i64::MAX,
            min_cleanable_dirty_ratio: 0.5,
            leader_throttled_replicas: Throttled::None,
            follower_throttled_replicas: Throttled::None,
            file_delete_delay_ms: 60_000,
            segment_jitter_ms: 0,
            compression_type: CompressionType::Producer,
            compression_gzip_level: -1,
            compression_lz4_level: 9,
            compression_zstd_level: 3,
        }
    }
}

/// Parses a `cleanup.policy` value: a comma-separated, non-empty subset of delete and compact.
fn parse_policy(name: &str, value: &str) -> Result<String, ConfigError> {
    let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
    parts.sort_unstable();
    parts.dedup();
    if parts.is_empty() || parts.iter().any(|p| *p != "delete" && *p != "compact") {
        return Err(invalid(name, value, "expected delete, compact or both"));
    }
    Ok(parts.join(","))
}

fn parse_ratio(name: &str, value: &str) -> Result<f64, ConfigError> {
    match value.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(invalid(name, value, "must be a number in [0, 1]")),
    }
}

fn format_double(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

impl LogConfig {
    /// Applies one topic-level setting (`segment.bytes`, ...), validating its value.
    pub fn set_topic(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let long = |min: i64| parse_signed(name, value, min);
        match name {
            "segment.bytes" => self.segment_bytes = parse_range(name, value, 14, i32::MAX as u64)?,
            "segment.ms" => self.segment_ms = long(1)?,
            "index.interval.bytes" => {
                self.index_interval_bytes = parse_range(name, value, 0, i32::MAX as u64)?
            }
            "segment.index.bytes" => {
                self.segment_index_bytes = parse_range(name, value, 4096, i32::MAX as u64)?
            }
            "max.message.bytes" => {
                self.max_message_bytes = parse_range(name, value, 0, i32::MAX as u64)?
            }
            "flush.messages" => self.flush_messages = long(1)? as u64,
            "flush.ms" => self.flush_ms = long(0)? as u64,
            "retention.ms" => self.retention_ms = long(-1)?,
            "retention.bytes" => self.retention_bytes = long(-1)?,
            "min.insync.replicas" => {
                self.min_insync_replicas = parse_range(name, value, 1, i32::MAX as u64)?
            }
            "cleanup.policy" => self.cleanup_policy = parse_policy(name, value)?,
            "message.timestamp.type" => {
                self.timestamp_type = match value.trim() {
                    "CreateTime" => TimestampType::CreateTime,
                    "LogAppendTime" => TimestampType::LogAppendTime,
                    _ => return Err(invalid(name, value, "expected CreateTime or LogAppendTime")),
                }
            }
            "compression.type" => self.compression_type = CompressionType::parse(name, value)?,
            "compression.gzip.level" => {
                self.compression_gzip_level = match parse_signed(name, value, -1)? {
                    v @ (-1 | 1..=9) => v as i32,
                    _ => return Err(invalid(name, value, "must be -1 or in [1, 9]")),
                }
            }
            "compression.lz4.level" => {
                self.compression_lz4_level = parse_range(name, value, 1, 17)? as i32
            }
            "compression.zstd.level" => {
                self.compression_zstd_level = match parse_signed(name, value, -131_072)? {
                    v @ -131_072..=22 => v as i32,
                    _ => return Err(invalid(name, value, "must be in [-131072, 22]")),
                }
            }
            "file.delete.delay.ms" => self.file_delete_delay_ms = long(0)?,
            "segment.jitter.ms" => self.segment_jitter_ms = long(0)?,
            fixed if FIXED.iter().any(|(n, ..)| *n == fixed) => {
                let Some((_, only, why)) = FIXED.iter().find(|(n, ..)| *n == fixed) else {
                    return Err(ConfigError::Unknown(name.to_string()));
                };
                if value.trim() != *only {
                    return Err(invalid(
                        name,
                        value,
                        &format!("only {only} is supported: {why}"),
                    ));
                }
            }
            "message.timestamp.before.max.ms" => self.timestamp_before_max_ms = long(0)?,
            "message.timestamp.after.max.ms" => self.timestamp_after_max_ms = long(0)?,
            "delete.retention.ms" => self.delete_retention_ms = long(0)?,
            "min.compaction.lag.ms" => self.min_compaction_lag_ms = long(0)?,
            "max.compaction.lag.ms" => self.max_compaction_lag_ms = long(1)?,
            "min.cleanable.dirty.ratio" => {
                self.min_cleanable_dirty_ratio = parse_ratio(name, value)?
            }
            "leader.replication.throttled.replicas" | "follower.replication.throttled.replicas" => {
                let v = Throttled::parse(value).map_err(|bad| {
                    invalid(
                        name,
                        value,
                        &format!("'{bad}' is not partition:broker; expected such pairs separated by commas, or *"),
                    )
                })?;
                if name.starts_with("leader") {
                    self.leader_throttled_replicas = v;
                } else {
                    self.follower_throttled_replicas = v;
                }
            }
            _ => return Err(ConfigError::Unknown(name.to_string())),
        }
        Ok(())
    }

    /// The value of a topic-level setting as Kafka prints it.
    pub fn get_topic(&self, name: &str) -> Option<String> {
        Some(match name {
            "segment.bytes" => self.segment_bytes.to_string(),
            "segment.ms" => self.segment_ms.to_string(),
            "index.interval.bytes" => self.index_interval_bytes.to_string(),
            "segment.index.bytes" => self.segment_index_bytes.to_string(),
            "max.message.bytes" => self.max_message_bytes.to_string(),
            "flush.messages" => self.flush_messages.to_string(),
            "flush.ms" => self.flush_ms.to_string(),
            "retention.ms" => self.retention_ms.to_string(),
            "retention.bytes" => self.retention_bytes.to_string(),
            "min.insync.replicas" => self.min_insync_replicas.to_string(),
            "cleanup.policy" => self.cleanup_policy.clone(),
            "message.timestamp.type" => self.timestamp_type.name().to_string(),
            "compression.type" => self.compression_type.name().to_string(),
            "compression.gzip.level" => self.compression_gzip_level.to_string(),
            "compression.lz4.level" => self.compression_lz4_level.to_string(),
            "compression.zstd.level" => self.compression_zstd_level.to_string(),
            "file.delete.delay.ms" => self.file_delete_delay_ms.to_string(),
            "segment.jitter.ms" => self.segment_jitter_ms.to_string(),
            fixed if FIXED.iter().any(|(n, ..)| *n == fixed) => {
                FIXED.iter().find(|(n, ..)| *n == fixed)?.1.to_string()
            }
            "message.timestamp.before.max.ms" => self.timestamp_before_max_ms.to_string(),
            "message.timestamp.after.max.ms" => self.timestamp_after_max_ms.to_string(),
            "delete.retention.ms" => self.delete_retention_ms.to_string(),
            "min.compaction.lag.ms" => self.min_compaction_lag_ms.to_string(),
            "max.compaction.lag.ms" => self.max_compaction_lag_ms.to_string(),
            "min.cleanable.dirty.ratio" => format_double(self.min_cleanable_dirty_ratio),
            "leader.replication.throttled.replicas" => self.leader_throttled_replicas.to_string(),
            "follower.replication.throttled.replicas" => {
                self.follower_throttled_replicas.to_string()
            }
            _ => return None,
        })
    }

    /// Applies topic-level overrides on top of these (broker-level) defaults.
    pub fn with_overrides(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut cfg = self.clone();
        for (k, v) in overrides {
            cfg.set_topic(k, v)?;
        }
        Ok(cfg)
    }

    /// Whether old segments are deleted by time and size (`cleanup.policy` has `delete`).
    pub fn deletes(&self) -> bool {
        self.cleanup_policy.split(',').any(|p| p == "delete")
    }

    /// The codec and level batches of another codec are recompressed to on append; None
    /// with `compression.type=producer`.
    pub fn recompression(&self) -> Option<(i16, i32)> {
        let codec = self.compression_type.codec()?;
        let level = match self.compression_type {
            CompressionType::Gzip => self.compression_gzip_level,
            CompressionType::Lz4 => self.compression_lz4_level,
            CompressionType::Zstd => self.compression_zstd_level,
            _ => 0,
        };
        Some((codec, level))
    }

    /// How old a segment starting at `base_offset` may grow before it rolls: `segment.ms`
    /// less a jitter in `[0, segment.jitter.ms)` that is fixed per segment (derived from its
    /// base offset, so a restart keeps it), as Kafka draws one per segment.
    pub fn roll_after_ms(&self, base_offset: i64) -> i64 {
        if self.segment_jitter_ms <= 0 {
            return self.segment_ms;
        }
        // A multiplicative hash spreads consecutive base offsets over the range.
        let h = (base_offset as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        let jitter = (h % self.segment_jitter_ms as u64) as i64;
        self.segment_ms.saturating_sub(jitter).max(1)
    }

    /// Whether the log is compacted (`cleanup.policy` has `compact`).
    pub fn compacts(&self) -> bool {
        self.cleanup_policy.split(',').any(|p| p == "compact")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_overrides_validate() {
        let base = LogConfig::default();
        let mut o = BTreeMap::new();
        o.insert("cleanup.policy".to_string(), "delete, compact".to_string());
        let cfg = base.with_overrides(&o).unwrap();
        assert_eq!(cfg.cleanup_policy, "compact,delete");
        assert!(cfg.compacts() && cfg.deletes());
        o.insert("retention.ms".to_string(), "-2".to_string());
        assert!(base.with_overrides(&o).is_err());
    }

    /// The 33 topic settings `kafka-configs.sh --describe --all` lists for a Kafka 4.1.1
    /// topic, in its order.
    #[test]
    fn every_kafka_4_1_topic_setting_is_listed() {
        let kafka = "cleanup.policy compression.gzip.level compression.lz4.level \
            compression.type compression.zstd.level delete.retention.ms file.delete.delay.ms \
            flush.messages flush.ms follower.replication.throttled.replicas \
            index.interval.bytes leader.replication.throttled.replicas local.retention.bytes \
            local.retention.ms max.compaction.lag.ms max.message.bytes \
            message.timestamp.after.max.ms message.timestamp.before.max.ms \
            message.timestamp.type min.cleanable.dirty.ratio min.compaction.lag.ms \
            min.insync.replicas preallocate remote.log.copy.disable \
            remote.log.delete.on.disable remote.storage.enable retention.bytes retention.ms \
            segment.bytes segment.index.bytes segment.jitter.ms segment.ms \
            unclean.leader.election.enable";
        let ours: Vec<&str> = TOPIC_CONFIGS.iter().map(|d| d.name).collect();
        assert_eq!(ours, kafka.split_whitespace().collect::<Vec<_>>());
        // And each at Kafka's default.
        let base = LogConfig::default();
        for (name, value) in [
            ("file.delete.delay.ms", "60000"),
            ("local.retention.bytes", "-2"),
            ("local.retention.ms", "-2"),
            ("preallocate", "false"),
            ("remote.storage.enable", "false"),
            ("segment.jitter.ms", "0"),
            ("unclean.leader.election.enable", "false"),
        ] {
            assert_eq!(base.get_topic(name).unwrap(), value, "{name}");
        }
    }

    #[test]
    fn what_weir_cannot_honour_is_refused_with_why() {
        let mut c = LogConfig::default();
        for (name, value, why) in [
            ("remote.storage.enable", "true", "tiered storage"),
            ("local.retention.ms", "1000", "tiered storage"),
            ("preallocate", "true", "not preallocated"),
            ("unclean.leader.election.enable", "true", "ISR only"),
        ] {
            let e = c.set_topic(name, value).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(value), "{name}: {e}");
        }
        c.set_topic("unclean.leader.election.enable", "false")
            .unwrap();
        c.set_topic("file.delete.delay.ms", "0").unwrap();
        assert!(c.set_topic("segment.jitter.ms", "-1").is_err());
    }

    #[test]
    fn segment_jitter_shortens_segment_ms_per_segment() {
        let mut c = LogConfig::default();
        assert_eq!(c.roll_after_ms(123), c.segment_ms);
        c.set_topic("segment.ms", "100000").unwrap();
        c.set_topic("segment.jitter.ms", "30000").unwrap();
        let rolls: Vec<i64> = (0..200).map(|b| c.roll_after_ms(b * 1000)).collect();
        assert!(
            rolls.iter().all(|r| (70_001..=100_000).contains(r)),
            "{rolls:?}"
        );
        assert_eq!(
            c.roll_after_ms(5000),
            c.roll_after_ms(5000),
            "fixed per segment"
        );
        let distinct: std::collections::BTreeSet<_> = rolls.iter().collect();
        assert!(distinct.len() > 100, "spread: {}", distinct.len());
    }

    #[test]
    fn every_listed_config_round_trips() {
        let base = LogConfig::default();
        for d in TOPIC_CONFIGS {
            let v = base.get_topic(d.name).expect(d.name);
            let mut c = base.clone();
            c.set_topic(d.name, &v).expect(d.name);
            assert_eq!(c, base, "{}", d.name);
        }
        assert_eq!(base.get_topic("min.cleanable.dirty.ratio").unwrap(), "0.5");
        let mut c = base.clone();
        c.set_topic("min.cleanable.dirty.ratio", "1").unwrap();
        assert_eq!(c.get_topic("min.cleanable.dirty.ratio").unwrap(), "1.0");
        for (name, bad) in [
            ("min.cleanable.dirty.ratio", "1.5"),
            ("cleanup.policy", "bogus"),
            ("delete.retention.ms", "-1"),
            ("max.compaction.lag.ms", "0"),
            ("retention.ms", "abc"),
            ("compression.type", "brotli"),
            ("compression.type", "none"),
            ("compression.gzip.level", "0"),
            ("compression.gzip.level", "10"),
            ("compression.lz4.level", "18"),
            ("compression.zstd.level", "23"),
            ("compression.zstd.level", "-131073"),
        ] {
            let e = c.set_topic(name, bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
        for (name, good) in [
            ("compression.type", "zstd"),
            ("compression.gzip.level", "-1"),
            ("compression.gzip.level", "9"),
            ("compression.lz4.level", "17"),
            ("compression.zstd.level", "-131072"),
        ] {
            c.set_topic(name, good).unwrap();
            assert_eq!(c.get_topic(name).unwrap(), good);
        }
        assert_eq!(c.recompression(), Some((4, -131072)));
        assert_eq!(base.recompression(), None);
        assert!(matches!(
            c.set_topic("no.such", "1"),
            Err(ConfigError::Unknown(_))
        ));
    }
}
