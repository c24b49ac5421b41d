//! Topic lifecycle shared by the handlers: name rules, creation (explicit and automatic),
//! partition growth and deletion. Each change is durable in the metadata store before the
//! logs are touched, and answered with Kafka's error codes.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::broker::Broker;
use crate::config::{LogConfig, TopicConfigDef, TOPIC_CONFIGS};
use crate::log::TopicPartition;
use crate::metadata::TopicMeta;
use crate::protocol::error_code as ec;

/// Kafka's limit on topic name length.
pub const MAX_NAME_LEN: usize = 249;

/// A refusal with Kafka's error code and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicError {
    pub code: i16,
    pub message: String,
}

impl TopicError {
    fn new(code: i16, message: impl Into<String>) -> Self {
        TopicError {
            code,
            message: message.into(),
        }
    }
}

/// Kafka's topic name rules: 1..=249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn validate_name(name: &str) -> Result<(), TopicError> {
    if name.is_empty() {
        return Err(TopicError::new(
            ec::INVALID_TOPIC_EXCEPTION,
            "Topic name is illegal, it can't be empty",
        ));
    }
    if name == "." || name == ".." {
        return Err(TopicError::new(
            ec::INVALID_TOPIC_EXCEPTION,
            "Topic name cannot be \".\" or \"..\"",
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(TopicError::new(
            ec::INVALID_TOPIC_EXCEPTION,
            format!("Topic name is illegal, it can't be longer than {MAX_NAME_LEN} characters"),
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(TopicError::new(
            ec::INVALID_TOPIC_EXCEPTION,
            format!("Topic name {name} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"),
        ));
    }
    Ok(())
}

/// Creates a topic. `partitions` of -1 means `num.partitions`; `replication_factor` must be
/// 1 or -1 on a single node. With `validate_only` nothing is written.
pub fn create(
    broker: &Broker,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: BTreeMap<String, String>,
    validate_only: bool,
) -> Result<TopicMeta, TopicError> {
    validate_name(name)?;
    if broker.metadata.topic(name).is_some() {
        return Err(TopicError::new(
            ec::TOPIC_ALREADY_EXISTS,
            format!("Topic '{name}' already exists."),
        ));
    }
    let partitions = if partitions == -1 {
        broker.config.num_partitions
    } else {
        partitions
    };
    if partitions <= 0 {
        return Err(TopicError::new(
            ec::INVALID_PARTITIONS,
            "Number of partitions must be larger than 0.",
        ));
    }
    if partitions > 100_000 {
        return Err(TopicError::new(
            ec::INVALID_PARTITIONS,
            "Number of partitions is too large.",
        ));
    }
    if replication_factor != -1 && replication_factor != 1 {
        let message = if replication_factor <= 0 {
            "Replication factor must be larger than 0, or -1 to use the default value.".to_string()
        } else {
            format!("Unable to replicate the partition {replication_factor} time(s): The target replication factor of {replication_factor} cannot be reached because only 1 broker(s) are registered.")
        };
        return Err(TopicError::new(ec::INVALID_REPLICATION_FACTOR, message));
    }
    let log_config = broker
        .config
        .log
        .with_overrides(&configs)
        .map_err(|e| TopicError::new(ec::INVALID_CONFIG, e.to_string()))?;
    let meta = TopicMeta {
        name: name.to_string(),
        id: Uuid::new_v4(),
        partitions,
        configs,
    };
    if validate_only {
        return Ok(meta);
    }
    broker
        .metadata
        .put_topic(meta.clone())
        .map_err(|e| TopicError::new(ec::UNKNOWN_SERVER_ERROR, e.to_string()))?;
    for p in 0..partitions {
        broker
            .logs
            .open(TopicPartition::new(name, p), log_config.clone())
            .map_err(|e| TopicError::new(ec::KAFKA_STORAGE_ERROR, e.to_string()))?;
    }
    tracing::info!(topic = name, partitions, "created topic");
    Ok(meta)
}

/// Returns the topic, creating it with the defaults when `auto.create.topics.enable` allows.
pub fn get_or_auto_create(
    broker: &Broker,
    name: &str,
    allow: bool,
) -> Result<TopicMeta, TopicError> {
    if let Some(t) = broker.metadata.topic(name) {
        return Ok(t);
    }
    if !(allow && broker.config.auto_create_topics) {
        return Err(TopicError::new(
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            "This server does not host this topic-partition.",
        ));
    }
    match create(broker, name, -1, -1, BTreeMap::new(), false) {
        Ok(t) => Ok(t),
        // Lost a race with another creator: fine.
        Err(e) if e.code == ec::TOPIC_ALREADY_EXISTS => broker
            .metadata
            .topic(name)
            .ok_or_else(|| TopicError::new(ec::UNKNOWN_TOPIC_OR_PARTITION, "topic vanished")),
        Err(e) => Err(e),
    }
}

/// Grows a topic to `count` partitions.
pub fn add_partitions(
    broker: &Broker,
    name: &str,
    count: i32,
    validate_only: bool,
) -> Result<(), TopicError> {
    let Some(mut meta) = broker.metadata.topic(name) else {
        return Err(TopicError::new(
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            format!("The topic '{name}' does not exist."),
        ));
    };
    if count < meta.partitions {
        return Err(TopicError::new(
            ec::INVALID_PARTITIONS,
            format!(
                "Topic currently has {} partitions, which is higher than the requested {count}.",
                meta.partitions
            ),
        ));
    }
    if count == meta.partitions {
        return Err(TopicError::new(
            ec::INVALID_PARTITIONS,
            format!("Topic already has {count} partitions."),
        ));
    }
    if count > 100_000 {
        return Err(TopicError::new(
            ec::INVALID_PARTITIONS,
            "Number of partitions is too large.",
        ));
    }
    if validate_only {
        return Ok(());
    }
    let log_config = broker
        .config
        .log
        .with_overrides(&meta.configs)
        .map_err(|e| TopicError::new(ec::INVALID_CONFIG, e.to_string()))?;
    let old = meta.partitions;
    meta.partitions = count;
    broker
        .metadata
        .put_topic(meta)
        .map_err(|e| TopicError::new(ec::UNKNOWN_SERVER_ERROR, e.to_string()))?;
    for p in old..count {
        broker
            .logs
            .open(TopicPartition::new(name, p), log_config.clone())
            .map_err(|e| TopicError::new(ec::KAFKA_STORAGE_ERROR, e.to_string()))?;
    }
    Ok(())
}

/// Where a topic's config value comes from, with DescribeConfigs' codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum ConfigSource {
    DynamicTopic = 1,
    StaticBroker = 4,
    Default = 5,
}

/// One topic config in force: its definition, value and source.
#[derive(Debug, Clone)]
pub struct ConfigInForce {
    pub def: &'static TopicConfigDef,
    pub value: String,
    pub source: ConfigSource,
    /// The broker-level value it would fall back to, and that value's source.
    pub broker_value: String,
    pub broker_source: ConfigSource,
}

/// Every topic config in force given a topic's `overrides`: the override, else the broker's
/// explicitly set `log.*` value, else Kafka's default.
pub fn configs_in_force(
    broker: &Broker,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<ConfigInForce>, TopicError> {
    let base = &broker.config.log;
    let cfg = base
        .with_overrides(overrides)
        .map_err(|e| TopicError::new(ec::INVALID_CONFIG, e.to_string()))?;
    Ok(TOPIC_CONFIGS
        .iter()
        .filter_map(|def| {
            let value = cfg.get_topic(def.name)?;
            let broker_source = if broker.config.explicit.contains(def.broker_name) {
                ConfigSource::StaticBroker
            } else {
                ConfigSource::Default
            };
            let source = if overrides.contains_key(def.name) {
                ConfigSource::DynamicTopic
            } else {
                broker_source
            };
            Some(ConfigInForce {
                def,
                value,
                source,
                broker_value: base.get_topic(def.name)?,
                broker_source,
            })
        })
        .collect())
}

/// Replaces a topic's config overrides: validated (INVALID_CONFIG names the bad value),
/// persisted, then applied to every partition without a restart. Callers build the new set
/// under [`Broker::config_changes`] so concurrent changes are not lost.
pub fn set_configs(
    broker: &Broker,
    mut meta: TopicMeta,
    overrides: BTreeMap<String, String>,
    validate_only: bool,
) -> Result<(), TopicError> {
    let log_config: LogConfig = broker
        .config
        .log
        .with_overrides(&overrides)
        .map_err(|e| TopicError::new(ec::INVALID_CONFIG, e.to_string()))?;
    if validate_only {
        return Ok(());
    }
    meta.configs = overrides;
    let (name, partitions) = (meta.name.clone(), meta.partitions);
    broker
        .metadata
        .put_topic(meta)
        .map_err(|e| TopicError::new(ec::UNKNOWN_SERVER_ERROR, e.to_string()))?;
    for p in 0..partitions {
        if let Some(log) = broker.logs.get(&TopicPartition::new(name.as_str(), p)) {
            log.set_config(log_config.clone());
        }
    }
    tracing::info!(topic = name, "topic configs changed");
    Ok(())
}

/// The items named more than once in one request (a topic or partition listed twice: Kafka
/// answers every entry of it with INVALID_REQUEST and acts on none). Allocates nothing for
/// a request of one item (the common Produce), and the result only for duplicates found.
pub fn duplicates<T: Eq + std::hash::Hash + Clone>(
    items: impl IntoIterator<Item = T>,
) -> std::collections::HashSet<T> {
    let mut items = items.into_iter().peekable();
    let mut dup = std::collections::HashSet::new();
    let Some(first) = items.next() else {
        return dup;
    };
    if items.peek().is_none() {
        return dup;
    }
    let mut seen = std::collections::HashSet::from([first]);
    for item in items {
        if !seen.insert(item.clone()) {
            dup.insert(item);
        }
    }
    dup
}

/// The partitions named more than once in one request, from its (topic, partition) pairs
/// (see [`duplicates`]).
pub fn duplicate_partitions<'a>(
    pairs: impl IntoIterator<Item = (&'a str, i32)>,
) -> std::collections::HashSet<TopicPartition> {
    duplicates(pairs)
        .into_iter()
        .map(|(topic, index)| TopicPartition::new(topic, index))
        .collect()
}

/// Deletes a topic: forgets it durably, then removes its logs.
pub fn delete(broker: &Broker, name: &str) -> Result<TopicMeta, TopicError> {
    let meta = broker
        .metadata
        .remove_topic(name)
        .map_err(|e| TopicError::new(ec::UNKNOWN_SERVER_ERROR, e.to_string()))?
        .ok_or_else(|| {
            TopicError::new(
                ec::UNKNOWN_TOPIC_OR_PARTITION,
                "This server does not host this topic-partition.",
            )
        })?;
    broker
        .logs
        .delete_topic(name)
        .map_err(|e| TopicError::new(ec::KAFKA_STORAGE_ERROR, e.to_string()))?;
    tracing::info!(topic = name, "deleted topic");
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_each_item_named_twice() {
        assert!(duplicates(Vec::<i32>::new()).is_empty());
        assert!(duplicates([7]).is_empty());
        assert!(duplicates([1, 2, 3]).is_empty());
        let d = duplicates([("a", 0), ("a", 1), ("a", 0), ("b", 1), ("a", 0)]);
        assert_eq!(d, std::collections::HashSet::from([("a", 0)]));
    }

    #[test]
    fn name_rules() {
        assert!(validate_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "a b", "ä", "a/b"] {
            assert_eq!(
                validate_name(bad).unwrap_err().code,
                ec::INVALID_TOPIC_EXCEPTION,
                "{bad:?}"
            );
        }
        assert!(validate_name(&"a".repeat(249)).is_ok());
        assert!(validate_name(&"a".repeat(250)).is_err());
    }
}
