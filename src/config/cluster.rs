//! Cluster settings, by Kafka's names: `process.roles`, `controller.quorum.voters`, the
//! CONTROLLER listener, `broker.rack`, `default.replication.factor` and the broker session.

use std::net::SocketAddr;

use super::{invalid, parse_range, ConfigError};

/// One voter of the controller quorum: `id@host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voter {
    pub id: i32,
    pub addr: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// `process.roles` contains `broker`.
    pub broker_role: bool,
    /// `process.roles` contains `controller`: this node votes in the quorum.
    pub controller_role: bool,
    /// `controller.quorum.voters`. Empty: a quorum of this node alone.
    pub voters: Vec<Voter>,
    /// The CONTROLLER listener (raft RPCs and broker registration). None: not bound (a single
    /// node with no cluster settings needs no port but its client one).
    pub controller_listener: Option<SocketAddr>,
    /// `controller.listener.names`.
    pub controller_listener_names: Vec<String>,
    /// The controller listener's name when it is SSL (see [`super::listeners::Resolved`]).
    pub controller_tls: Option<String>,
    /// `broker.rack`.
    pub rack: Option<String>,
    /// `default.replication.factor`.
    pub default_replication_factor: i16,
    /// `broker.heartbeat.interval.ms`.
    pub heartbeat_interval_ms: u64,
    /// `broker.session.timeout.ms`: a broker without a heartbeat for this long is fenced.
    pub session_timeout_ms: u64,
    /// `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR.
    pub replica_lag_time_max_ms: u64,
    /// `replica.fetch.wait.max.ms`: how long a follower's fetch waits at the leader.
    pub replica_fetch_wait_max_ms: u64,
    /// `replica.fetch.max.bytes`: a follower's per-partition fetch size.
    pub replica_fetch_max_bytes: u64,
    /// `replica.fetch.response.max.bytes`: a follower's whole fetch response.
    pub replica_fetch_response_max_bytes: u64,
    /// `replica.fetch.backoff.ms`: the pause after a failed fetch.
    pub replica_fetch_backoff_ms: u64,
    /// `replica.high.watermark.checkpoint.interval.ms`.
    pub high_watermark_checkpoint_interval_ms: u64,
    /// `auto.leader.rebalance.enable`: the controller hands leadership back to preferred
    /// replicas that are in sync.
    pub auto_leader_rebalance: bool,
    /// `leader.imbalance.check.interval.seconds`: how often it looks.
    pub leader_imbalance_check_interval_s: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            broker_role: true,
            controller_role: true,
            voters: Vec::new(),
            controller_listener: None,
            controller_listener_names: vec!["CONTROLLER".to_string()],
            controller_tls: None,
            rack: None,
            default_replication_factor: 1,
            heartbeat_interval_ms: 2000,
            session_timeout_ms: 9000,
            replica_lag_time_max_ms: 30_000,
            replica_fetch_wait_max_ms: 500,
            replica_fetch_max_bytes: 1024 * 1024,
            replica_fetch_response_max_bytes: 10 * 1024 * 1024,
            replica_fetch_backoff_ms: 1000,
            high_watermark_checkpoint_interval_ms: 5000,
            auto_leader_rebalance: true,
            leader_imbalance_check_interval_s: 300,
        }
    }
}

/// Parses `controller.quorum.voters`: `1@127.0.0.1:9093,2@127.0.0.2:9093`.
pub fn parse_voters(name: &str, value: &str) -> Result<Vec<Voter>, ConfigError> {
    let mut voters: Vec<Voter> = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part
            .split_once('@')
            .ok_or_else(|| invalid(name, value, "expected id@host:port"))?;
        let id: i32 = id
            .trim()
            .parse()
            .map_err(|_| invalid(name, value, "bad node id"))?;
        let (_, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| invalid(name, value, "expected id@host:port"))?;
        port.parse::<u16>()
            .map_err(|_| invalid(name, value, "bad port"))?;
        if id < 0 || voters.iter().any(|v| v.id == id) {
            return Err(invalid(name, value, "node ids must be distinct and >= 0"));
        }
        voters.push(Voter {
            id,
            addr: addr.trim().to_string(),
        });
    }
    Ok(voters)
}

impl ClusterConfig {
    /// Applies a cluster setting; `Ok(false)` if `name` is not one.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ConfigError> {
        match name {
            "process.roles" => {
                let roles: Vec<&str> = value.split(',').map(str::trim).collect();
                if roles.iter().any(|r| *r != "broker" && *r != "controller") {
                    return Err(invalid(name, value, "expected broker, controller or both"));
                }
                self.broker_role = roles.contains(&"broker");
                self.controller_role = roles.contains(&"controller");
                if !self.broker_role && !self.controller_role {
                    return Err(invalid(name, value, "expected broker, controller or both"));
                }
            }
            "controller.quorum.voters" => self.voters = parse_voters(name, value)?,
            "controller.listener.names" => {
                self.controller_listener_names =
                    value.split(',').map(|s| s.trim().to_string()).collect()
            }
            "broker.rack" => {
                self.rack = (!value.trim().is_empty()).then(|| value.trim().to_string())
            }
            "default.replication.factor" => {
                self.default_replication_factor = parse_range(name, value, 1, 32767)? as i16
            }
            "broker.heartbeat.interval.ms" => {
                self.heartbeat_interval_ms = parse_range(name, value, 10, i32::MAX as u64)?
            }
            "broker.session.timeout.ms" => {
                self.session_timeout_ms = parse_range(name, value, 100, i32::MAX as u64)?
            }
            "replica.lag.time.max.ms" => {
                self.replica_lag_time_max_ms = parse_range(name, value, 100, i32::MAX as u64)?
            }
            "replica.fetch.wait.max.ms" => {
                self.replica_fetch_wait_max_ms = parse_range(name, value, 0, i32::MAX as u64)?
            }
            "replica.fetch.max.bytes" => {
                self.replica_fetch_max_bytes = parse_range(name, value, 1024, i32::MAX as u64)?
            }
            "replica.fetch.response.max.bytes" => {
                self.replica_fetch_response_max_bytes =
                    parse_range(name, value, 1024, i32::MAX as u64)?
            }
            "replica.fetch.backoff.ms" => {
                self.replica_fetch_backoff_ms = parse_range(name, value, 0, i32::MAX as u64)?
            }
            "replica.high.watermark.checkpoint.interval.ms" => {
                self.high_watermark_checkpoint_interval_ms =
                    parse_range(name, value, 10, i32::MAX as u64)?
            }
            "auto.leader.rebalance.enable" => {
                self.auto_leader_rebalance = super::parse_bool(name, value)?
            }
            "leader.imbalance.check.interval.seconds" => {
                self.leader_imbalance_check_interval_s =
                    parse_range(name, value, 1, i32::MAX as u64)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether this node runs with other nodes (voters other than itself).
    pub fn is_multi_node(&self, node_id: i32) -> bool {
        self.voters.iter().any(|v| v.id != node_id) || !self.controller_role
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voters_parse_and_refuse() {
        let v = parse_voters("v", "1@127.0.0.1:9093, 2@127.0.0.2:9093").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[1].id, v[1].addr.as_str()), (2, "127.0.0.2:9093"));
        for bad in ["1", "x@a:1", "1@a", "1@a:b", "1@a:1,1@b:2", "-1@a:1"] {
            assert!(parse_voters("v", bad).is_err(), "{bad}");
        }
        let mut c = ClusterConfig::default();
        assert!(c.set("process.roles", "broker").unwrap());
        assert!(c.broker_role && !c.controller_role);
        assert!(c.set("process.roles", "x").is_err());
        assert!(!c.set("num.partitions", "1").unwrap());
    }
}
