//! Broker configuration: command-line flags, `WEIR_*` environment variables, an optional TOML
//! file, and Kafka-named settings (`log.segment.bytes`, `num.partitions`, ...).
//!
//! Precedence, lowest to highest: built-in defaults (Kafka's own), the TOML file, `WEIR_*`
//! environment variables, command-line flags and `--override name=value`.

mod cluster;
mod file;
pub mod listeners;
mod log;
pub mod security;
pub mod tls;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

pub use cluster::{ClusterConfig, Voter};
pub use file::{parse_properties, Applied, KAFKA_ONLY};
pub use listeners::{Listener, ResolveError, SecurityProtocol};
pub use log::{
    topic_config, topic_name_of_broker_setting, ConfigType, LogConfig, TimestampType,
    TopicConfigDef, TOPIC_CONFIGS,
};
pub use security::SecurityConfig;

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

/// The whole broker configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `listeners` (the client ones; a controller listener is in `cluster`), with their
    /// security protocols and advertised addresses: at least one, names distinct. The first
    /// is the primary one (weir's own clients, the console, use it).
    pub listeners: Vec<Listener>,
    /// Authentication: SASL mechanisms and users, the inter-broker listener, the raw
    /// listener settings (see [`listeners`]).
    pub security: SecurityConfig,
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
    /// `max.connections`: connections beyond it are closed as soon as accepted.
    pub max_connections: usize,
    /// `max.connections.per.ip`: the same bound per client address.
    pub max_connections_per_ip: usize,
    /// `connections.max.idle.ms`: a connection with no request for this long is closed.
    pub connections_max_idle_ms: u64,
    /// `socket.request.read.timeout.ms` (weir's own): once a request's first byte has
    /// arrived, the whole frame must arrive within this time, or the connection is closed.
    pub request_read_timeout_ms: u64,
    /// `queued.max.request.bytes`: request bytes held in memory by all connections
    /// together; a connection waits (reads nothing more) until its frame fits.
    pub queued_max_request_bytes: usize,
    /// `socket.sendfile` (weir's own): when fetched records go from the segment file to the
    /// socket with `sendfile(2)` instead of a vectored write from the mapped segment.
    pub sendfile: Sendfile,
    /// Broker-level defaults for every topic's log.
    pub log: LogConfig,
    /// Consumer group settings (`group.*`).
    pub group: crate::group::GroupConfig,
    /// `offsets.*`: the `__consumer_offsets` topic and the coordinator's use of it
    /// (including `offsets.retention.minutes`).
    pub offsets: crate::group::offsets_topic::OffsetsTopicConfig,
    /// `transaction.*`: the transaction coordinator and `__transaction_state`.
    pub txn: crate::txn::config::TxnConfig,
    /// `log.retention.check.interval.ms`: how often retention runs (and idle active
    /// segments past `segment.ms` roll).
    pub retention_check_interval_ms: u64,
    /// `log.cleaner.enable`: whether compacted topics are cleaned.
    pub cleaner_enable: bool,
    /// `log.cleaner.backoff.ms`: the cleaner's sleep when no log needs cleaning.
    pub cleaner_backoff_ms: u64,
    /// `log.cleaner.dedupe.buffer.size`: memory for one cleaning pass's key map (24 bytes
    /// a key); a log with more distinct keys is cleaned in several passes.
    pub cleaner_dedupe_buffer_size: u64,
    /// Cluster settings (roles, quorum voters, controller listener, rack, sessions).
    pub cluster: ClusterConfig,
    /// `http.listeners` (weir's own): where `/metrics` is served (None: nowhere). A port
    /// that cannot be bound is reported and skipped; the Kafka listener does not depend on
    /// it.
    pub http_listener: Option<SocketAddr>,
    /// `http.metrics.max.partitions` (weir's own): per-partition series (partitions, and
    /// groups' partitions) exported at most; the rest are counted, not listed.
    pub http_metrics_max_partitions: usize,
    /// `http.console.read.only` (weir's own): the console and its API refuse every change
    /// (POST, PATCH, DELETE answer 403).
    pub http_console_read_only: bool,
    /// `http.console.lag.sample.ms` (weir's own): how often the console samples every
    /// group's lag for its lag-over-time charts.
    pub http_console_lag_sample_ms: u64,
    /// Broker-level names set explicitly (file, environment, flags), reported by
    /// DescribeConfigs as STATIC_BROKER_CONFIG rather than DEFAULT_CONFIG.
    pub explicit: BTreeSet<String>,
}

/// `socket.sendfile`. On loopback there is no zero-copy: the receiving socket copies the
/// bytes into the client either way, and with sendfile it reads them cold from the page
/// cache instead of warm from the broker's copy, which measured slower on this path
/// (docs/benchmarks.md). A remote client's bytes leave through the network device, which
/// reads the pages itself, so sendfile spares the broker its only copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sendfile {
    /// For clients on other hosts, not for loopback ones.
    Auto,
    Always,
    Never,
}

impl Sendfile {
    /// Whether a connection from `peer` sends records with sendfile.
    pub fn for_peer(self, peer: std::net::IpAddr) -> bool {
        match self {
            Sendfile::Auto => !peer.is_loopback(),
            Sendfile::Always => true,
            Sendfile::Never => false,
        }
    }
}

impl std::fmt::Display for Sendfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sendfile::Auto => "auto",
            Sendfile::Always => "always",
            Sendfile::Never => "never",
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listeners: vec![Listener::plaintext(SocketAddr::from((
                [127, 0, 0, 1],
                9092,
            )))],
            security: SecurityConfig::default(),
            data_dir: PathBuf::from("data"),
            node_id: 1,
            num_partitions: 1,
            auto_create_topics: true,
            socket_request_max_bytes: 100 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_ip: 10_000,
            connections_max_idle_ms: 600_000,
            request_read_timeout_ms: 30_000,
            queued_max_request_bytes: 512 * 1024 * 1024,
            sendfile: Sendfile::Auto,
            log: LogConfig::default(),
            group: crate::group::GroupConfig::default(),
            offsets: Default::default(),
            txn: Default::default(),
            retention_check_interval_ms: 300_000,
            cleaner_enable: true,
            cleaner_backoff_ms: 15_000,
            cleaner_dedupe_buffer_size: 128 * 1024 * 1024,
            cluster: ClusterConfig::default(),
            http_listener: Some(SocketAddr::from(([127, 0, 0, 1], 9644))),
            http_metrics_max_partitions: 10_000,
            http_console_read_only: false,
            http_console_lag_sample_ms: 10_000,
            explicit: BTreeSet::new(),
        }
    }
}

impl Config {
    /// Applies one setting by its Kafka broker name (or one of weir's own names).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        if self.cluster.set(name, value)? {
            self.explicit.insert(name.to_string());
            if name == "controller.listener.names" {
                let settings = self.security.listener_settings.clone();
                self.resolve_listeners(settings, name, value)?;
            }
            return Ok(());
        }
        if self.txn.set(name, value)? {
            self.explicit.insert(name.to_string());
            return Ok(());
        }
        if self.security.set(name, value)? {
            self.explicit.insert(name.to_string());
            return Ok(());
        }
        match name {
            "listeners" | "advertised.listeners" | "listener.security.protocol.map" => {
                let mut settings = self.security.listener_settings.clone();
                if let Some(slot) = settings.slot(name) {
                    *slot = Some(value.to_string());
                }
                self.resolve_listeners(settings, name, value)?;
            }
            "http.listeners" => {
                self.http_listener = match value.split(',').map(str::trim).find(|e| !e.is_empty()) {
                    None => None,
                    Some(entry) => Some(parse_listener(name, entry)?),
                }
            }
            "http.metrics.max.partitions" => {
                self.http_metrics_max_partitions = parse_range(name, value, 0, 10_000_000)? as usize
            }
            "http.console.read.only" => self.http_console_read_only = parse_bool(name, value)?,
            "http.console.lag.sample.ms" => {
                self.http_console_lag_sample_ms = parse_range(name, value, 100, 86_400_000)?
            }
            "log.dirs" | "log.dir" | "data.dir" => {
                // Kafka takes a comma-separated list; weir keeps every partition in one
                // directory, so a list of several is refused rather than half used.
                let dirs: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .collect();
                match dirs[..] {
                    [one] => self.data_dir = PathBuf::from(one),
                    _ => {
                        return Err(invalid(
                            name,
                            value,
                            "weir keeps every partition in one log directory: give exactly one",
                        ))
                    }
                }
            }
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
                self.offsets.retention_ms =
                    parse_range(name, value, 1, i32::MAX as u64)? as i64 * 60_000
            }
            "offsets.retention.check.interval.ms" => {
                self.offsets.retention_check_interval_ms =
                    parse_range(name, value, 1, i64::MAX as u64)?
            }
            "offsets.topic.num.partitions" => {
                self.offsets.num_partitions = parse_range(name, value, 1, 100_000)? as i32
            }
            "offsets.topic.replication.factor" => {
                self.offsets.replication_factor = parse_range(name, value, 1, 32_767)? as i16
            }
            "offsets.topic.segment.bytes" => {
                self.offsets.segment_bytes = parse_range(name, value, 1024, i32::MAX as u64)?
            }
            "offsets.commit.timeout.ms" => {
                self.offsets.commit_timeout_ms = parse_range(name, value, 1, i32::MAX as u64)?
            }
            "offsets.commit.value.version" => {
                self.offsets.value_version = match value {
                    "3" => 3,
                    "4" => 4,
                    _ => return Err(invalid(name, value, "3 or 4")),
                }
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
            "max.connections" => {
                self.max_connections = parse_range(name, value, 1, i32::MAX as u64)? as usize
            }
            "max.connections.per.ip" => {
                self.max_connections_per_ip = parse_range(name, value, 1, i32::MAX as u64)? as usize
            }
            "connections.max.idle.ms" => {
                self.connections_max_idle_ms = parse_range(name, value, 1, i64::MAX as u64)?
            }
            "socket.request.read.timeout.ms" => {
                self.request_read_timeout_ms = parse_range(name, value, 1, i64::MAX as u64)?
            }
            "queued.max.request.bytes" => {
                self.queued_max_request_bytes =
                    parse_range(name, value, 1, i32::MAX as u64)? as usize
            }
            "socket.sendfile" => {
                self.sendfile = match value.trim() {
                    "auto" => Sendfile::Auto,
                    "always" => Sendfile::Always,
                    "never" => Sendfile::Never,
                    _ => return Err(invalid(name, value, "expected auto, always or never")),
                }
            }
            "log.retention.check.interval.ms" => {
                self.retention_check_interval_ms = parse_range(name, value, 1, i64::MAX as u64)?
            }
            "log.cleaner.enable" => self.cleaner_enable = parse_bool(name, value)?,
            "log.cleaner.backoff.ms" => {
                self.cleaner_backoff_ms = parse_range(name, value, 0, i64::MAX as u64)?
            }
            "log.cleaner.dedupe.buffer.size" => {
                self.cleaner_dedupe_buffer_size =
                    parse_range(name, value, 24 * 1024, i64::MAX as u64)?
            }
            other => match (topic_name_of_broker_setting(other), other) {
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
            },
        }
        let canonical = match name {
            "log.retention.hours" | "log.retention.minutes" => "log.retention.ms",
            "log.roll.hours" => "log.roll.ms",
            other => other,
        };
        self.explicit.insert(canonical.to_string());
        Ok(())
    }

    /// Applies a TOML file: top-level keys are Kafka names, either dotted strings
    /// (`"log.segment.bytes" = 1048576`) or nested tables (`[log] segment.bytes = ...`).
    /// Returns the names it set.
    pub fn apply_toml_file(&mut self, path: &std::path::Path) -> Result<Vec<String>, ConfigError> {
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
        for (k, v) in &flat {
            self.set(k, v)?;
        }
        Ok(flat.into_iter().map(|(k, _)| k).collect())
    }

    /// Takes `settings` (the listener settings with `name` changed) and what they resolve
    /// to. A value wrong in itself is refused and changes nothing; settings that do not fit
    /// together yet are kept, and refused by [`Config::check`] if nothing mends them (they
    /// may come in any order).
    fn resolve_listeners(
        &mut self,
        settings: listeners::ListenerSettings,
        name: &str,
        value: &str,
    ) -> Result<(), ConfigError> {
        match self.resolve_with(&settings) {
            Ok(r) => {
                self.listeners = r.listeners;
                if r.controller.is_some() {
                    self.cluster.controller_listener = r.controller;
                    self.cluster.controller_tls = r.controller_tls;
                }
            }
            Err(ResolveError::Mismatch(_)) => {}
            Err(ResolveError::Invalid(e)) => return Err(invalid(name, value, &e)),
        }
        self.security.listener_settings = settings;
        Ok(())
    }

    fn resolve_with(
        &self,
        settings: &listeners::ListenerSettings,
    ) -> Result<listeners::Resolved, ResolveError> {
        listeners::resolve(
            settings,
            &self.cluster.controller_listener_names,
            &[Listener::plaintext(self.listener())],
        )
    }

    /// Checks what only the whole configuration can tell: the listener settings fit
    /// together, the inter-broker listener exists, SASL listeners have mechanisms.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.resolve_with(&self.security.listener_settings)
            .map_err(|e| invalid("listeners", "", &e.to_string()))?;
        self.security.check(
            &self.listeners,
            self.inter_broker_listener(),
            self.cluster.is_multi_node(self.node_id),
        )
    }

    /// The primary client listener's address.
    pub fn listener(&self) -> SocketAddr {
        self.listeners[0].addr
    }

    /// The listener other brokers fetch from (`inter.broker.listener.name`, else the first).
    pub fn inter_broker_listener(&self) -> &Listener {
        self.security
            .inter_broker_listener
            .as_ref()
            .and_then(|n| self.listeners.iter().find(|l| &l.name == n))
            .unwrap_or(&self.listeners[0])
    }

    /// The host and port this broker tells other brokers to fetch from.
    pub fn advertised(&self) -> (String, u16) {
        self.inter_broker_listener().advertised()
    }

    /// Every broker-level setting with its value, for DescribeConfigs on the broker.
    pub fn broker_entries(&self) -> Vec<(String, String)> {
        let mut v = vec![
            (
                "listeners".to_string(),
                self.listeners
                    .iter()
                    .map(|l| format!("{}://{}", l.name, l.addr))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "advertised.listeners".to_string(),
                self.listeners
                    .iter()
                    .map(|l| {
                        let (host, port) = l.advertised();
                        format!("{}://{host}:{port}", l.name)
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "listener.security.protocol.map".to_string(),
                self.listeners
                    .iter()
                    .map(|l| format!("{}:{}", l.name, l.protocol.name()))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "inter.broker.listener.name".to_string(),
                self.inter_broker_listener().name.clone(),
            ),
            (
                "http.listeners".to_string(),
                self.http_listener
                    .map(|a| format!("http://{a}"))
                    .unwrap_or_default(),
            ),
            (
                "http.metrics.max.partitions".to_string(),
                self.http_metrics_max_partitions.to_string(),
            ),
            (
                "http.console.read.only".to_string(),
                self.http_console_read_only.to_string(),
            ),
            (
                "http.console.lag.sample.ms".to_string(),
                self.http_console_lag_sample_ms.to_string(),
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
            (
                "default.replication.factor".to_string(),
                self.cluster.default_replication_factor.to_string(),
            ),
            (
                "process.roles".to_string(),
                match (self.cluster.broker_role, self.cluster.controller_role) {
                    (true, true) => "broker,controller",
                    (true, false) => "broker",
                    _ => "controller",
                }
                .to_string(),
            ),
            (
                "controller.quorum.voters".to_string(),
                self.cluster
                    .voters
                    .iter()
                    .map(|v| format!("{}@{}", v.id, v.addr))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "broker.rack".to_string(),
                self.cluster.rack.clone().unwrap_or_default(),
            ),
            (
                "broker.heartbeat.interval.ms".to_string(),
                self.cluster.heartbeat_interval_ms.to_string(),
            ),
            (
                "broker.session.timeout.ms".to_string(),
                self.cluster.session_timeout_ms.to_string(),
            ),
            (
                "replica.lag.time.max.ms".to_string(),
                self.cluster.replica_lag_time_max_ms.to_string(),
            ),
            (
                "replica.fetch.wait.max.ms".to_string(),
                self.cluster.replica_fetch_wait_max_ms.to_string(),
            ),
            (
                "replica.fetch.max.bytes".to_string(),
                self.cluster.replica_fetch_max_bytes.to_string(),
            ),
            (
                "replica.fetch.response.max.bytes".to_string(),
                self.cluster.replica_fetch_response_max_bytes.to_string(),
            ),
            (
                "replica.fetch.backoff.ms".to_string(),
                self.cluster.replica_fetch_backoff_ms.to_string(),
            ),
            (
                "replica.high.watermark.checkpoint.interval.ms".to_string(),
                self.cluster
                    .high_watermark_checkpoint_interval_ms
                    .to_string(),
            ),
            (
                "auto.leader.rebalance.enable".to_string(),
                self.cluster.auto_leader_rebalance.to_string(),
            ),
            (
                "leader.imbalance.check.interval.seconds".to_string(),
                self.cluster.leader_imbalance_check_interval_s.to_string(),
            ),
            (
                "max.connections".to_string(),
                self.max_connections.to_string(),
            ),
            (
                "max.connections.per.ip".to_string(),
                self.max_connections_per_ip.to_string(),
            ),
            (
                "connections.max.idle.ms".to_string(),
                self.connections_max_idle_ms.to_string(),
            ),
            (
                "socket.request.read.timeout.ms".to_string(),
                self.request_read_timeout_ms.to_string(),
            ),
            (
                "queued.max.request.bytes".to_string(),
                self.queued_max_request_bytes.to_string(),
            ),
            ("socket.sendfile".to_string(), self.sendfile.to_string()),
            (
                "offsets.retention.minutes".to_string(),
                (self.offsets.retention_ms / 60_000).to_string(),
            ),
            (
                "offsets.retention.check.interval.ms".to_string(),
                self.offsets.retention_check_interval_ms.to_string(),
            ),
            (
                "offsets.topic.num.partitions".to_string(),
                self.offsets.num_partitions.to_string(),
            ),
            (
                "offsets.topic.replication.factor".to_string(),
                self.offsets.replication_factor.to_string(),
            ),
            (
                "offsets.topic.segment.bytes".to_string(),
                self.offsets.segment_bytes.to_string(),
            ),
            (
                "offsets.commit.timeout.ms".to_string(),
                self.offsets.commit_timeout_ms.to_string(),
            ),
            (
                "offsets.commit.value.version".to_string(),
                self.offsets.value_version.to_string(),
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
            (
                "log.retention.check.interval.ms".to_string(),
                self.retention_check_interval_ms.to_string(),
            ),
            (
                "log.cleaner.enable".to_string(),
                self.cleaner_enable.to_string(),
            ),
            (
                "log.cleaner.backoff.ms".to_string(),
                self.cleaner_backoff_ms.to_string(),
            ),
            (
                "log.cleaner.dedupe.buffer.size".to_string(),
                self.cleaner_dedupe_buffer_size.to_string(),
            ),
        ];
        v.extend(self.txn.entries());
        for d in TOPIC_CONFIGS {
            if let (Some(broker_name), Some(value)) = (d.broker_name, self.log.get_topic(d.name)) {
                v.push((broker_name.to_string(), value));
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
    listeners::parse_bind(strip_scheme(value)).map_err(|e| invalid(name, value, &e))
}

pub(crate) fn invalid(name: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

pub(crate) fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(name, value, "expected true or false")),
    }
}

pub(crate) fn parse_range(name: &str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
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
    fn sendfile_modes() {
        let local: std::net::IpAddr = [127, 0, 0, 1].into();
        let remote: std::net::IpAddr = [10, 1, 2, 3].into();
        let mut c = Config::default();
        assert!(!c.sendfile.for_peer(local) && c.sendfile.for_peer(remote));
        c.set("socket.sendfile", "always").unwrap();
        assert!(c.sendfile.for_peer(local) && c.sendfile.for_peer(remote));
        c.set("socket.sendfile", "never").unwrap();
        assert!(!c.sendfile.for_peer(local) && !c.sendfile.for_peer(remote));
        assert!(c.set("socket.sendfile", "yes").is_err());
        assert_eq!(c.sendfile, Sendfile::Never);
    }

    #[test]
    fn one_log_dir() {
        let mut c = Config::default();
        c.set("log.dirs", " /var/lib/weir ").unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/weir"));
        c.set("log.dirs", "/a,").unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/a"));
        let e = c.set("log.dirs", "/a,/b").unwrap_err().to_string();
        assert!(e.contains("one log directory"), "{e}");
        assert!(c.set("log.dirs", "").is_err());
    }

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
        assert_eq!(c.listener().port(), 19092);
        assert!(c.set("no.such.thing", "1").is_err());
        assert!(c.set("log.segment.bytes", "abc").is_err());
    }
}
