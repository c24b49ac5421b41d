//! Run-time config changes (AlterConfigs and IncrementalAlterConfigs): the rules shared by
//! both handlers. Topic configs change at run time; of the broker configs, the replication
//! throttle rates and the broker-level topic defaults do ([`is_dynamic`]; per broker id, or
//! for every broker with the empty name, as Kafka's `--entity-default`), kept in the cluster
//! metadata and in force at once on every broker; the others are static.
//!
//! Each change is computed against the topic's current overrides under
//! [`Broker::config_changes`], validated as a whole (INVALID_CONFIG names the bad name or
//! value), persisted, and applied to the live partitions by [`topics::set_configs`].

use std::collections::{BTreeMap, HashSet};

use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::controller::ControllerRequest;
use crate::config::{topic_config, topic_name_of_broker_setting, ConfigType, LogConfig};
use crate::protocol::error_code as ec;
use crate::security::acl::Operation;
use crate::topics::{self, ConfigSource, TopicError};

pub const RESOURCE_TOPIC: i8 = 2;
pub const RESOURCE_BROKER: i8 = 4;

/// IncrementalAlterConfigs operations.
pub const OP_SET: i8 = 0;
pub const OP_DELETE: i8 = 1;
pub const OP_APPEND: i8 = 2;
pub const OP_SUBTRACT: i8 = 3;

/// A requested change to one resource.
pub enum Change {
    /// AlterConfigs: the overrides become exactly these.
    Replace(Vec<(String, Option<String>)>),
    /// IncrementalAlterConfigs: (name, operation, value) applied in order.
    Incremental(Vec<(String, i8, Option<String>)>),
}

fn error(code: i16, message: impl Into<String>) -> TopicError {
    TopicError {
        code,
        message: message.into(),
    }
}

fn check_duplicates<'a>(names: impl Iterator<Item = &'a str>) -> Result<(), TopicError> {
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(error(
                ec::INVALID_REQUEST,
                format!("Error due to duplicate config keys: {n}"),
            ));
        }
    }
    Ok(())
}

fn known(name: &str) -> Result<ConfigType, TopicError> {
    topic_config(name).map(|d| d.kind).ok_or_else(|| {
        error(
            ec::INVALID_CONFIG,
            format!("Unknown topic config name: {name}"),
        )
    })
}

/// The overrides after `ops`. APPEND and SUBTRACT work on list configs only, starting from
/// the value in force (the override, else the broker's value).
fn apply_incremental(
    broker: &Broker,
    mut overrides: BTreeMap<String, String>,
    ops: Vec<(String, i8, Option<String>)>,
) -> Result<BTreeMap<String, String>, TopicError> {
    check_duplicates(ops.iter().map(|(n, _, _)| n.as_str()))?;
    for (name, op, value) in ops {
        let kind = known(&name)?;
        match op {
            OP_SET => {
                let value = value.ok_or_else(|| {
                    error(
                        ec::INVALID_REQUEST,
                        format!("Null value not supported for : {name}"),
                    )
                })?;
                overrides.insert(name, value);
            }
            OP_DELETE => {
                overrides.remove(&name);
            }
            OP_APPEND | OP_SUBTRACT => {
                if kind != ConfigType::List {
                    let verb = if op == OP_APPEND {
                        "append"
                    } else {
                        "subtract"
                    };
                    return Err(error(
                        ec::INVALID_CONFIG,
                        format!("Config value {verb} is not allowed for config key: {name}"),
                    ));
                }
                let current = overrides
                    .get(&name)
                    .cloned()
                    .or_else(|| broker.log_defaults().get_topic(&name))
                    .unwrap_or_default();
                let mut items: Vec<String> = current
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                let given = value.unwrap_or_default();
                for v in given.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if op == OP_APPEND {
                        if !items.iter().any(|i| i == v) {
                            items.push(v.to_string());
                        }
                    } else {
                        items.retain(|i| i != v);
                    }
                }
                overrides.insert(name, items.join(","));
            }
            other => {
                return Err(error(
                    ec::INVALID_REQUEST,
                    format!("Unknown config operation {other} for {name}"),
                ))
            }
        }
    }
    Ok(overrides)
}

/// Broker configs that change at run time: the replication throttle rates (bytes/s, Kafka's
/// default `Long.MAX_VALUE`: unthrottled) that `kafka-reassign-partitions.sh --throttle` sets.
pub const DYNAMIC_BROKER_CONFIGS: &[&str] = &[
    "follower.replication.throttled.rate",
    "leader.replication.throttled.rate",
];

/// Whether a broker config changes at run time: the throttle rates, and every broker-level
/// default of a topic setting (`log.retention.ms`, `log.cleanup.policy`, `message.max.bytes`,
/// `compression.type`, ...), as Kafka's DynamicLogConfig allows.
pub fn is_dynamic(name: &str) -> bool {
    DYNAMIC_BROKER_CONFIGS.contains(&name) || topic_name_of_broker_setting(name).is_some()
}

/// The broker-level topic defaults in force on broker `node_id`: the static ones, then the
/// cluster-wide dynamic default (resource ""), then the broker's own (its id), as Kafka
/// layers STATIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG and DYNAMIC_BROKER_CONFIG.
/// Values were validated when they were set; one that no longer parses is skipped.
pub fn layered_log_defaults(
    static_defaults: &LogConfig,
    broker_configs: &BTreeMap<String, BTreeMap<String, String>>,
    node_id: i32,
) -> LogConfig {
    let mut cfg = static_defaults.clone();
    for scope in [String::new(), node_id.to_string()] {
        for (name, value) in broker_configs.get(&scope).into_iter().flatten() {
            if let Some(topic_name) = topic_name_of_broker_setting(name) {
                let _ = cfg.set_topic(topic_name, value);
            }
        }
    }
    cfg
}

/// Where a broker-level topic default comes from on broker `node_id`, and its value when
/// set dynamically.
pub fn dynamic_source(
    broker_configs: &BTreeMap<String, BTreeMap<String, String>>,
    node_id: i32,
    broker_name: &str,
) -> Option<(ConfigSource, String)> {
    if let Some(v) = broker_configs
        .get(&node_id.to_string())
        .and_then(|c| c.get(broker_name))
    {
        return Some((ConfigSource::DynamicBroker, v.clone()));
    }
    broker_configs
        .get("")
        .and_then(|c| c.get(broker_name))
        .map(|v| (ConfigSource::DynamicDefaultBroker, v.clone()))
}

fn check_dynamic(name: &str) -> Result<(), TopicError> {
    if is_dynamic(name) {
        return Ok(());
    }
    Err(error(
        ec::INVALID_REQUEST,
        // Kafka's words; the setting is static: set it in the config file, environment or
        // command line, and restart.
        format!("Cannot update these configs dynamically: Set({name})"),
    ))
}

fn dynamic_broker_value(name: &str, value: Option<String>) -> Result<String, TopicError> {
    check_dynamic(name)?;
    let value = value.ok_or_else(|| {
        error(
            ec::INVALID_REQUEST,
            format!("Null value not supported for : {name}"),
        )
    })?;
    if let Some(topic_name) = topic_name_of_broker_setting(name) {
        // Validated as the topic setting it defaults.
        let mut probe = LogConfig::default();
        // Kafka answers a bad broker value with INVALID_REQUEST (a topic's: INVALID_CONFIG).
        probe.set_topic(topic_name, &value).map_err(|e| {
            let reason = match e {
                crate::config::ConfigError::Invalid { reason, .. } => reason,
                other => other.to_string(),
            };
            error(
                ec::INVALID_REQUEST,
                format!("Invalid value {value} for configuration {name}: {reason}"),
            )
        })?;
        return Ok(value.trim().to_string());
    }
    match value.trim().parse::<i64>() {
        Ok(v) if v >= 0 => Ok(v.to_string()),
        _ => Err(error(
            ec::INVALID_CONFIG,
            format!("Invalid value {value} for configuration {name}: must be a long of at least 0"),
        )),
    }
}

/// A change to the dynamic configs of broker resource `resource_name` (an id, or "").
async fn alter_broker(
    broker: &Broker,
    resource_name: &str,
    change: Change,
    validate_only: bool,
) -> Result<(), TopicError> {
    if !resource_name.is_empty() && resource_name.parse::<i32>().map_or(true, |id| id < 0) {
        return Err(error(
            ec::INVALID_REQUEST,
            format!("Invalid broker id {resource_name}"),
        ));
    }
    let _serial = broker.config_changes.lock().await;
    let mut configs = broker
        .cluster
        .image()
        .broker_configs
        .get(resource_name)
        .cloned()
        .unwrap_or_default();
    match change {
        Change::Replace(entries) => {
            check_duplicates(entries.iter().map(|(n, _)| n.as_str()))?;
            configs.clear();
            for (name, value) in entries {
                let value = dynamic_broker_value(&name, value)?;
                configs.insert(name, value);
            }
        }
        Change::Incremental(ops) => {
            check_duplicates(ops.iter().map(|(n, _, _)| n.as_str()))?;
            for (name, op, value) in ops {
                match op {
                    OP_SET => {
                        let value = dynamic_broker_value(&name, value)?;
                        configs.insert(name, value);
                    }
                    OP_DELETE => {
                        check_dynamic(&name)?;
                        configs.remove(&name);
                    }
                    _ => {
                        return Err(error(
                            ec::INVALID_CONFIG,
                            format!(
                            "Config value append or subtract is not allowed for config key: {name}"
                        ),
                        ))
                    }
                }
            }
        }
    }
    if validate_only {
        return Ok(());
    }
    broker
        .cluster
        .submit(ControllerRequest::SetBrokerConfigs {
            resource: resource_name.to_string(),
            configs,
        })
        .await
        .map(|_| ())
}

/// Applies a change to one resource, or explains why not.
pub async fn alter(
    broker: &Broker,
    resource_type: i8,
    resource_name: &str,
    change: Change,
    validate_only: bool,
) -> Result<(), TopicError> {
    match resource_type {
        RESOURCE_TOPIC => {}
        RESOURCE_BROKER => {
            return alter_broker(broker, resource_name, change, validate_only).await;
        }
        other => {
            return Err(error(
                ec::INVALID_REQUEST,
                format!("Unsupported resource type {other}"),
            ))
        }
    }
    topics::validate_name(resource_name)?;
    let _serial = broker.config_changes.lock().await;
    let Some(meta) = broker.cluster.topic(resource_name) else {
        return Err(error(
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            format!("Topic {resource_name} does not exist"),
        ));
    };
    let overrides = match change {
        Change::Replace(entries) => {
            check_duplicates(entries.iter().map(|(n, _)| n.as_str()))?;
            let mut out = BTreeMap::new();
            for (name, value) in entries {
                known(&name)?;
                let value = value.ok_or_else(|| {
                    error(
                        ec::INVALID_REQUEST,
                        format!("Null value not supported for : {name}"),
                    )
                })?;
                out.insert(name, value);
            }
            out
        }
        Change::Incremental(ops) => apply_incremental(broker, meta.configs.clone(), ops)?,
    };
    topics::set_configs(broker, resource_name, overrides, validate_only).await
}

/// One resource's outcome: (type, name, error code, error message), as both responses
/// carry it.
pub type Outcome = (i8, StrBytes, i16, Option<StrBytes>);

/// Applies each resource's change on its own, in request order. A resource `authz` may not
/// AlterConfigs (Kafka's check on the topic, group or cluster) is answered with the refusal in
/// its place and left unaltered.
pub async fn alter_each(
    broker: &Broker,
    authz: &crate::security::authorize::Authz<'_>,
    resources: impl Iterator<Item = (i8, StrBytes, Change)>,
    validate_only: bool,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (kind, name, change) in resources {
        if let Err(code) = authz.config_resource(Operation::AlterConfigs, kind, &name) {
            let message = StrBytes::from_static_str("Authorization failed.");
            out.push((kind, name, code, Some(message)));
            continue;
        }
        out.push(
            match alter(broker, kind, name.as_str(), change, validate_only).await {
                Ok(()) => (kind, name, ec::NONE, None),
                Err(e) => (kind, name, e.code, Some(StrBytes::from_string(e.message))),
            },
        );
    }
    out
}

#[cfg(test)]
mod layering_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn static_then_cluster_default_then_the_brokers_own() {
        let mut static_defaults = LogConfig::default();
        static_defaults.set_topic("retention.ms", "1000").unwrap();
        static_defaults.set_topic("segment.bytes", "5000").unwrap();
        let scope = |kv: &[(&str, &str)]| -> BTreeMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let configs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::from([
            (
                String::new(),
                scope(&[
                    ("log.retention.ms", "2000"),
                    ("message.max.bytes", "300"),
                    ("leader.replication.throttled.rate", "10"),
                ]),
            ),
            ("1".to_string(), scope(&[("log.retention.ms", "3000")])),
            ("2".to_string(), scope(&[("log.cleanup.policy", "compact")])),
        ]);
        let on1 = layered_log_defaults(&static_defaults, &configs, 1);
        assert_eq!(
            (on1.retention_ms, on1.max_message_bytes, on1.segment_bytes),
            (3000, 300, 5000)
        );
        assert_eq!(on1.cleanup_policy, "delete");
        let on2 = layered_log_defaults(&static_defaults, &configs, 2);
        assert_eq!(
            (on2.retention_ms, on2.cleanup_policy.as_str()),
            (2000, "compact")
        );
        let on3 = layered_log_defaults(&static_defaults, &BTreeMap::new(), 3);
        assert_eq!(on3, static_defaults);
        assert_eq!(
            dynamic_source(&configs, 1, "log.retention.ms"),
            Some((ConfigSource::DynamicBroker, "3000".to_string()))
        );
        assert_eq!(
            dynamic_source(&configs, 2, "log.retention.ms"),
            Some((ConfigSource::DynamicDefaultBroker, "2000".to_string()))
        );
        assert_eq!(dynamic_source(&configs, 2, "log.segment.bytes"), None);
        assert!(is_dynamic("log.retention.ms") && is_dynamic("compression.type"));
        assert!(is_dynamic("leader.replication.throttled.rate"));
        assert!(!is_dynamic("log.dirs") && !is_dynamic("num.partitions"));
    }
}
