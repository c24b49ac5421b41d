//! Topic lifecycle shared by the handlers: name rules, creation (explicit and automatic),
//! partition growth, configs and deletion. Each change is committed through the controller
//! quorum and applied here (logs opened or removed by the reconciler) before it is answered,
//! with Kafka's error codes.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::broker::Broker;
use crate::cluster::controller::{self, ControllerRequest, Outcome};
use crate::cluster::decide::CreateTopic;
use crate::config::{LogConfig, TopicConfigDef, TOPIC_CONFIGS};
use crate::log::TopicPartition;
use crate::metadata::TopicMeta;
use crate::protocol::error_code as ec;

/// Kafka's limit on topic name length.
pub const MAX_NAME_LEN: usize = 249;

/// A refusal with Kafka's error code and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopicError {
    pub code: i16,
    pub message: String,
}

impl TopicError {
    pub fn new(code: i16, message: impl Into<String>) -> Self {
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

fn topic_outcome(outcome: Outcome) -> Result<TopicMeta, TopicError> {
    match outcome {
        Outcome::Topic(t) => Ok(t),
        _ => Err(TopicError::new(
            ec::UNKNOWN_SERVER_ERROR,
            "unexpected controller answer",
        )),
    }
}

/// Sends a topic change to the controller, or with `validate_only` checks it against this
/// broker's image without writing anything.
async fn change(
    broker: &Broker,
    req: ControllerRequest,
    validate_only: bool,
) -> Result<TopicMeta, TopicError> {
    if validate_only {
        let image = broker.cluster.image();
        let (_, outcome) = controller::decide(
            &image,
            &req,
            broker.config.cluster.default_replication_factor,
        )?;
        return topic_outcome(outcome);
    }
    topic_outcome(broker.cluster.submit(req).await?)
}

/// Creates a topic through the controller: checked here (name, configs; -1 partitions
/// without assignments become `num.partitions`), placed and committed by the controller,
/// answered once this broker has applied it.
pub async fn create(
    broker: &Broker,
    mut topic: CreateTopic,
    validate_only: bool,
) -> Result<TopicMeta, TopicError> {
    validate_name(&topic.name)?;
    if broker.cluster.has_topic(&topic.name) {
        return Err(TopicError::new(
            ec::TOPIC_ALREADY_EXISTS,
            format!("Topic '{}' already exists.", topic.name),
        ));
    }
    if topic.partitions == -1 && topic.assignments.is_none() {
        topic.partitions = broker.config.num_partitions;
    }
    broker
        .log_defaults()
        .with_overrides(&topic.configs)
        .map_err(|e| TopicError::new(ec::INVALID_CONFIG, e.to_string()))?;
    change(broker, ControllerRequest::CreateTopic(topic), validate_only).await
}

/// Returns the topic, creating it with the defaults when `auto.create.topics.enable` allows.
pub async fn get_or_auto_create(
    broker: &Broker,
    name: &str,
    allow: bool,
) -> Result<Arc<TopicMeta>, TopicError> {
    if let Some(t) = broker.cluster.topic(name) {
        return Ok(t);
    }
    if !(allow && broker.config.auto_create_topics) {
        return Err(TopicError::new(
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            "This server does not host this topic-partition.",
        ));
    }
    if name == crate::group::offsets_topic::OFFSETS_TOPIC {
        // Created as the coordinator needs it, never with a client's defaults.
        crate::group::offsets_topic::ensure_topic(broker).await?;
        return broker
            .cluster
            .topic(name)
            .ok_or_else(|| TopicError::new(ec::UNKNOWN_TOPIC_OR_PARTITION, "topic vanished"));
    }
    let new = CreateTopic {
        name: name.to_string(),
        partitions: -1,
        replication_factor: -1,
        assignments: None,
        configs: BTreeMap::new(),
    };
    match create(broker, new, false).await {
        Ok(_)
        | Err(TopicError {
            code: ec::TOPIC_ALREADY_EXISTS,
            ..
        }) => broker
            .cluster
            .topic(name)
            .ok_or_else(|| TopicError::new(ec::UNKNOWN_TOPIC_OR_PARTITION, "topic vanished")),
        Err(e) => Err(e),
    }
}

/// Internal topics keep their partitions (the partition count places groups: more would
/// move every group away from its state) and are never deleted (every group's offsets
/// would go). Kafka's tools refuse both; its KRaft controller would carry them out.
fn refuse_internal(broker: &Broker, name: &str, what: &str) -> Result<(), TopicError> {
    if crate::group::offsets_topic::is_internal(name) && broker.cluster.has_topic(name) {
        return Err(TopicError::new(
            ec::INVALID_REQUEST,
            format!("Internal topic {name} cannot be {what}."),
        ));
    }
    Ok(())
}

/// Grows a topic to `count` partitions, placed by the controller or as `assignments` say.
pub async fn add_partitions(
    broker: &Broker,
    name: &str,
    count: i32,
    assignments: Option<Vec<Vec<i32>>>,
    validate_only: bool,
) -> Result<(), TopicError> {
    refuse_internal(broker, name, "given more partitions")?;
    let req = ControllerRequest::CreatePartitions {
        name: name.to_string(),
        count,
        assignments,
    };
    change(broker, req, validate_only).await.map(|_| ())
}

/// Where a topic's config value comes from, with DescribeConfigs' codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum ConfigSource {
    DynamicTopic = 1,
    DynamicBroker = 2,
    DynamicDefaultBroker = 3,
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
/// dynamic or explicitly set `log.*` value, else Kafka's default.
pub fn configs_in_force(
    broker: &Broker,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<ConfigInForce>, TopicError> {
    let base = broker.log_defaults();
    let dynamic = broker.cluster.image().broker_configs.clone();
    let cfg = base
        .with_overrides(overrides)
        .map_err(|e| TopicError::new(ec::INVALID_CONFIG, e.to_string()))?;
    Ok(TOPIC_CONFIGS
        .iter()
        .filter_map(|def| {
            let value = cfg.get_topic(def.name)?;
            let dynamic_source = def.broker_name.and_then(|b| {
                crate::config_changes::dynamic_source(&dynamic, broker.config.node_id, b)
            });
            let broker_source = if let Some((source, _)) = dynamic_source {
                source
            } else if def
                .broker_name
                .is_some_and(|b| broker.config.explicit.contains(b))
            {
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
/// committed through the controller, and applied to every replica's logs without a restart.
/// Callers build the new set under [`Broker::config_changes`] so that concurrent changes
/// through this broker are not lost.
pub async fn set_configs(
    broker: &Broker,
    name: &str,
    overrides: BTreeMap<String, String>,
    validate_only: bool,
) -> Result<(), TopicError> {
    let _: LogConfig = broker
        .log_defaults()
        .with_overrides(&overrides)
        .map_err(|e| TopicError::new(ec::INVALID_CONFIG, e.to_string()))?;
    let req = ControllerRequest::SetTopicConfigs {
        name: name.to_string(),
        configs: overrides,
    };
    change(broker, req, validate_only).await.map(|_| ())
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

/// Deletes a topic through the controller; every replica removes its logs once it applies
/// the deletion.
pub async fn delete(broker: &Broker, name: &str) -> Result<TopicMeta, TopicError> {
    refuse_internal(broker, name, "deleted")?;
    let req = ControllerRequest::DeleteTopic {
        name: name.to_string(),
    };
    change(broker, req, false).await
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
