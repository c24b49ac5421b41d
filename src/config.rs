//! Broker configuration: command-line flags, `WEIR_*` environment variables, an optional TOML
//! file, and Kafka-named settings (`log.segment.bytes`, `num.partitions`, ...).
//!
//! Precedence, lowest to highest: built-in defaults (Kafka's own), the TOML file, `WEIR_*`
//! environment variables, command-line flags and `--override name=value`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Errors building a [`Config`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown setting `{0}`")]
    Unknown(String),
    #[error("invalid value `{value}` for `{name}`: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
    #[error("reading config file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing config file {path}: {source}")]
    Toml {
        path: PathBuf,
        source: toml::de::Error,
    },
}

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

/// The log settings that a topic inherits from the broker (`log.*`) and may override.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// `log.segment.bytes` / `segment.bytes`: roll a new segment past this size.
    pub segment_bytes: u64,
    /// `log.roll.ms` / `segment.ms`: roll a new segment once the active one is this old.
    pub segment_ms: i64,
    /// `log.index.interval.bytes` / `index.interval.bytes`: bytes between sparse index entries.
    pub index_interval_bytes: u64,
    /// `log.index.size.max.bytes` / `segment.index.bytes`: preallocated size of each index file.
    pub segment_index_bytes: u64,
    /// `message.max.bytes` / `max.message.bytes`: the largest record batch accepted.
    pub max_message_bytes: u64,
    /// `log.flush.interval.messages` / `flush.messages`: fsync after this many messages.
    pub flush_messages: u64,
    /// `log.flush.interval.ms` / `flush.ms`: fsync once the oldest unflushed write is this old.
    pub flush_ms: u64,
    /// `log.retention.ms` / `retention.ms` (-1: keep forever).
    pub retention_ms: i64,
    /// `log.retention.bytes` / `retention.bytes` (-1: no size limit).
    pub retention_bytes: i64,
    /// `log.cleanup.policy` / `cleanup.policy`.
    pub cleanup_policy: String,
    /// `log.message.timestamp.type` / `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// `min.insync.replicas`: stored and reported; a single node always has one in-sync
    /// replica, so acks=all is satisfied by the leader alone.
    pub min_insync_replicas: u64,
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
            min_insync_replicas: 1,
        }
    }
}

/// The topic-level config names this broker knows, with the broker-level name each one
/// inherits from. Order is the order DescribeConfigs lists them in.
pub const TOPIC_CONFIGS: &[(&str, &str)] = &[
    ("cleanup.policy", "log.cleanup.policy"),
    ("flush.messages", "log.flush.interval.messages"),
    ("flush.ms", "log.flush.interval.ms"),
    ("index.interval.bytes", "log.index.interval.bytes"),
    ("max.message.bytes", "message.max.bytes"),
    ("message.timestamp.type", "log.message.timestamp.type"),
    ("min.insync.replicas", "min.insync.replicas"),
    ("retention.bytes", "log.retention.bytes"),
    ("retention.ms", "log.retention.ms"),
    ("segment.bytes", "log.segment.bytes"),
    ("segment.index.bytes", "log.index.size.max.bytes"),
    ("segment.ms", "log.roll.ms"),
];

impl LogConfig {
    /// Applies one topic-level setting (`segment.bytes`, ...), validating its value.
    pub fn set_topic(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        match name {
            "segment.bytes" => self.segment_bytes = parse_range(name, value, 14, i32::MAX as u64)?,
            "segment.ms" => self.segment_ms = parse_range(name, value, 1, i64::MAX as u64)? as i64,
            "index.interval.bytes" => {
                self.index_interval_bytes = parse_range(name, value, 0, i32::MAX as u64)?
            }
            "segment.index.bytes" => {
                self.segment_index_bytes = parse_range(name, value, 4096, i32::MAX as u64)?
            }
            "max.message.bytes" => {
                self.max_message_bytes = parse_range(name, value, 0, i32::MAX as u64)?
            }
            "flush.messages" => self.flush_messages = parse_range(name, value, 1, i64::MAX as u64)?,
            "flush.ms" => self.flush_ms = parse_range(name, value, 0, i64::MAX as u64)?,
            "retention.ms" => self.retention_ms = parse_signed(name, value, -1)?,
            "min.insync.replicas" => {
                self.min_insync_replicas = parse_range(name, value, 1, i32::MAX as u64)?
            }
            "retention.bytes" => self.retention_bytes = parse_signed(name, value, -1)?,
            "cleanup.policy" => {
                let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
                parts.sort_unstable();
                parts.dedup();
                if parts.is_empty() || parts.iter().any(|p| *p != "delete" && *p != "compact") {
                    return Err(invalid(name, value, "expected delete, compact or both"));
                }
                self.cleanup_policy = parts.join(",");
            }
            "message.timestamp.type" => {
                self.timestamp_type = match value {
                    "CreateTime" => TimestampType::CreateTime,
                    "LogAppendTime" => TimestampType::LogAppendTime,
                    _ => return Err(invalid(name, value, "expected CreateTime or LogAppendTime")),
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
}

/// The whole broker configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `listeners`: the address to bind (host:port).
    pub listener: SocketAddr,
    /// `advertised.listeners`: host:port given to clients; defaults to the bound address.
    pub advertised_listener: Option<(String, u16)>,
    /// `log.dirs`: where partitions, metadata and the cluster id live.
    pub data_dir: PathBuf,
    /// `node.id`.
    pub node_id: i32,
    /// `num.partitions`: partitions of an auto-created topic or CreateTopics with -1.
    pub num_partitions: i32,
    /// `auto.create.topics.enable`.
    pub auto_create_topics: bool,
    /// `socket.request.max.bytes`: the largest request frame accepted.
    pub socket_request_max_bytes: usize,
    /// Broker-level defaults for every topic's log.
    pub log: LogConfig,
    /// Consumer group settings (`group.*`).
    pub group: crate::group::GroupConfig,
    /// `offsets.retention.minutes`, in ms: committed offsets of a group without members
    /// expire this long after their commit.
    pub offsets_retention_ms: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listener: SocketAddr::from(([127, 0, 0, 1], 9092)),
            advertised_listener: None,
            data_dir: PathBuf::from("data"),
            node_id: 1,
            num_partitions: 1,
            auto_create_topics: true,
            socket_request_max_bytes: 100 * 1024 * 1024,
            log: LogConfig::default(),
            group: crate::group::GroupConfig::default(),
            offsets_retention_ms: crate::group::DEFAULT_OFFSETS_RETENTION_MS,
        }
    }
}

impl Config {
    /// Applies one setting by its Kafka broker name (or one of weir's own names).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        match name {
            "listeners" => self.listener = parse_listener(name, value)?,
            "advertised.listeners" => {
                let addr = strip_scheme(value);
                let (host, port) = addr
                    .rsplit_once(':')
                    .ok_or_else(|| invalid(name, value, "expected host:port"))?;
                let port = port.parse().map_err(|_| invalid(name, value, "bad port"))?;
                self.advertised_listener = Some((host.to_string(), port));
            }
            "log.dirs" | "log.dir" | "data.dir" => self.data_dir = PathBuf::from(value),
            "node.id" | "broker.id" => {
                self.node_id = parse_range(name, value, 0, i32::MAX as u64)? as i32
            }
            "num.partitions" => {
                self.num_partitions = parse_range(name, value, 1, 1_000_000)? as i32
            }
            "auto.create.topics.enable" => {
                self.auto_create_topics = parse_bool(name, value)?;
            }
            "offsets.retention.minutes" => {
                self.offsets_retention_ms =
                    parse_range(name, value, 1, i32::MAX as u64)? as i64 * 60_000
            }
            "group.min.session.timeout.ms" => {
                self.group.min_session_timeout_ms =
                    parse_range(name, value, 0, i32::MAX as u64)? as i32
            }
            "group.max.session.timeout.ms" => {
                self.group.max_session_timeout_ms =
                    parse_range(name, value, 0, i32::MAX as u64)? as i32
            }
            "group.initial.rebalance.delay.ms" => {
                self.group.initial_rebalance_delay_ms =
                    parse_range(name, value, 0, i32::MAX as u64)? as i32
            }
            "socket.request.max.bytes" => {
                self.socket_request_max_bytes =
                    parse_range(name, value, 1, i32::MAX as u64)? as usize
            }
            other => {
                let topic_name = TOPIC_CONFIGS
                    .iter()
                    .find(|(_, broker)| *broker == other)
                    .map(|(topic, _)| *topic);
                match (topic_name, other) {
                    (Some(t), _) => self.log.set_topic(t, value)?,
                    (None, "log.retention.hours") => {
                        let h = parse_range(other, value, 0, i32::MAX as u64)? as i64;
                        self.log.retention_ms = h * 3600 * 1000;
                    }
                    (None, "log.retention.minutes") => {
                        let m = parse_range(other, value, 0, i32::MAX as u64)? as i64;
                        self.log.retention_ms = m * 60 * 1000;
                    }
                    (None, "log.roll.hours") => {
                        let h = parse_range(other, value, 1, i32::MAX as u64)? as i64;
                        self.log.segment_ms = h * 3600 * 1000;
                    }
                    _ => return Err(ConfigError::Unknown(other.to_string())),
                }
            }
        }
        Ok(())
    }

    /// Applies a TOML file: top-level keys are Kafka names, either dotted strings
    /// (`"log.segment.bytes" = 1048576`) or nested tables (`[log] segment.bytes = ...`).
    pub fn apply_toml_file(&mut self, path: &std::path::Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let table: toml::Table = text.parse().map_err(|source| ConfigError::Toml {
            path: path.to_path_buf(),
            source,
        })?;
        let mut flat = Vec::new();
        flatten_toml("", &toml::Value::Table(table), &mut flat);
        for (k, v) in flat {
            self.set(&k, &v)?;
        }
        Ok(())
    }

    /// The host and port this broker tells clients to connect to.
    pub fn advertised(&self) -> (String, u16) {
        self.advertised_listener
            .clone()
            .unwrap_or_else(|| (self.listener.ip().to_string(), self.listener.port()))
    }

    /// Every broker-level setting with its value, for DescribeConfigs on the broker.
    pub fn broker_entries(&self) -> Vec<(String, String)> {
        let (host, port) = self.advertised();
        let mut v = vec![
            (
                "listeners".to_string(),
                format!("PLAINTEXT://{}", self.listener),
            ),
            (
                "advertised.listeners".to_string(),
                format!("PLAINTEXT://{host}:{port}"),
            ),
            ("log.dirs".to_string(), self.data_dir.display().to_string()),
            ("node.id".to_string(), self.node_id.to_string()),
            ("broker.id".to_string(), self.node_id.to_string()),
            (
                "num.partitions".to_string(),
                self.num_partitions.to_string(),
            ),
            (
                "auto.create.topics.enable".to_string(),
                self.auto_create_topics.to_string(),
            ),
            (
                "socket.request.max.bytes".to_string(),
                self.socket_request_max_bytes.to_string(),
            ),
            ("default.replication.factor".to_string(), "1".to_string()),
            (
                "offsets.retention.minutes".to_string(),
                (self.offsets_retention_ms / 60_000).to_string(),
            ),
            (
                "group.min.session.timeout.ms".to_string(),
                self.group.min_session_timeout_ms.to_string(),
            ),
            (
                "group.max.session.timeout.ms".to_string(),
                self.group.max_session_timeout_ms.to_string(),
            ),
            (
                "group.initial.rebalance.delay.ms".to_string(),
                self.group.initial_rebalance_delay_ms.to_string(),
            ),
        ];
        for (topic, broker) in TOPIC_CONFIGS {
            if let Some(value) = self.log.get_topic(topic) {
                v.push((broker.to_string(), value));
            }
        }
        v
    }
}

fn flatten_toml(prefix: &str, value: &toml::Value, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_toml(&key, v, out);
            }
        }
        toml::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn strip_scheme(value: &str) -> &str {
    value.split_once("://").map(|(_, a)| a).unwrap_or(value)
}

fn parse_listener(name: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    let addr = strip_scheme(value);
    let addr = if addr.starts_with(':') {
        format!("0.0.0.0{addr}")
    } else {
        addr.replace("localhost:", "127.0.0.1:")
    };
    addr.parse()
        .map_err(|_| invalid(name, value, "expected ip:port"))
}

fn invalid(name: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(name, value, "expected true or false")),
    }
}

fn parse_range(name: &str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    let n: u64 = value
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, "not a non-negative integer"))?;
    if n < min || n > max {
        return Err(invalid(name, value, &format!("must be in [{min}, {max}]")));
    }
    Ok(n)
}

fn parse_signed(name: &str, value: &str, min: i64) -> Result<i64, ConfigError> {
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, "not an integer"))?;
    if n < min {
        return Err(invalid(name, value, &format!("must be at least {min}")));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_names_set_values() {
        let mut c = Config::default();
        c.set("log.segment.bytes", "1048576").unwrap();
        c.set("num.partitions", "3").unwrap();
        c.set("auto.create.topics.enable", "false").unwrap();
        c.set("listeners", "PLAINTEXT://127.0.0.1:19092").unwrap();
        assert_eq!(c.log.segment_bytes, 1048576);
        assert_eq!(c.num_partitions, 3);
        assert!(!c.auto_create_topics);
        assert_eq!(c.listener.port(), 19092);
        assert!(c.set("no.such.thing", "1").is_err());
        assert!(c.set("log.segment.bytes", "abc").is_err());
    }

    #[test]
    fn topic_overrides_validate() {
        let base = LogConfig::default();
        let mut o = BTreeMap::new();
        o.insert("cleanup.policy".to_string(), "compact,delete".to_string());
        let cfg = base.with_overrides(&o).unwrap();
        assert_eq!(cfg.cleanup_policy, "compact,delete");
        o.insert("retention.ms".to_string(), "-2".to_string());
        assert!(base.with_overrides(&o).is_err());
    }
}
