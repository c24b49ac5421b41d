//! DescribeConfigs (key 32), v0-v4: the values in force for a topic (its overrides over the
//! broker's `log.*` defaults, static or dynamic) or for this broker (every setting with its
//! source: the dynamic ones, the broker-level topic defaults and the replication throttle
//! rates, writable; the rest static and read-only), or the cluster-wide dynamic default (the
//! empty name: what is set there), with source, synonyms (v1+) and types (v3+).

use std::sync::Arc;

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::config::{topic_config, topic_name_of_broker_setting};
use crate::config_changes::{dynamic_source, is_dynamic, DYNAMIC_BROKER_CONFIGS};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::topics::{self, ConfigSource};

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const SOURCE_DEFAULT: i8 = ConfigSource::Default as i8;

/// Kafka's config type code for a topic- or broker-level name.
fn config_type(name: &str) -> i8 {
    let topic_level =
        topic_config(name).or_else(|| topic_name_of_broker_setting(name).and_then(topic_config));
    if let Some(d) = topic_level {
        return d.kind as i8;
    }
    match name {
        "listeners" | "advertised.listeners" | "log.dirs" => 2,
        "auto.create.topics.enable" | "log.cleaner.enable" => 1,
        "num.partitions" | "node.id" | "broker.id" | "socket.request.max.bytes" => 3,
        "leader.replication.throttled.rate" | "follower.replication.throttled.rate" => 5,
        _ => 5,
    }
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let version = header.api_version;
    let authz = broker.authz(header);
    let results = req
        .resources
        .into_iter()
        .map(|r| {
            let base = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            // Kafka's authorization: DescribeConfigs on the topic, group or cluster.
            if let Err(code) = authz.config_resource(
                Operation::DescribeConfigs,
                r.resource_type,
                &r.resource_name,
            ) {
                return base
                    .with_error_code(code)
                    .with_error_message(Some(StrBytes::from_static_str("Authorization failed.")));
            }
            let wanted = |name: &str| {
                r.configuration_keys
                    .as_ref()
                    .is_none_or(|keys| keys.is_empty() || keys.iter().any(|k| k.as_str() == name))
            };
            let entries = match r.resource_type {
                TOPIC => match topic_entries(
                    broker,
                    &r.resource_name,
                    req.include_synonyms && version >= 1,
                ) {
                    Ok(e) => e,
                    Err((code, msg)) => {
                        return base
                            .with_error_code(code)
                            .with_error_message(Some(StrBytes::from_string(msg)))
                    }
                },
                BROKER => {
                    let name = r.resource_name.as_str();
                    if !name.is_empty() && name != broker.config.node_id.to_string() {
                        return base
                            .with_error_code(ec::INVALID_REQUEST)
                            .with_error_message(Some(StrBytes::from_string(format!(
                                "Unexpected broker id, expected {} but received {name}",
                                broker.config.node_id
                            ))));
                    }
                    let dynamic = broker.cluster.image().broker_configs.clone();
                    if name.is_empty() {
                        // The cluster-wide default (`--entity-default`): what is set there.
                        dynamic
                            .get("")
                            .into_iter()
                            .flatten()
                            .map(|(k, v)| {
                                entry(
                                    k,
                                    v.clone(),
                                    ConfigSource::DynamicDefaultBroker as i8,
                                    Vec::new(),
                                )
                            })
                            .collect()
                    } else {
                        let node_id = broker.config.node_id;
                        let mut entries: Vec<DescribeConfigsResourceResult> = broker
                            .config
                            .broker_entries()
                            .into_iter()
                            .map(|(k, v)| {
                                let (v, source) = match dynamic_source(&dynamic, node_id, &k) {
                                    Some((source, value)) => (value, source),
                                    None if broker.config.explicit.contains(&k) => {
                                        (v, ConfigSource::StaticBroker)
                                    }
                                    None => (v, ConfigSource::Default),
                                };
                                // Only the dynamic ones may be altered, as Kafka marks them.
                                entry(&k, v, source as i8, Vec::new())
                                    .with_read_only(!is_dynamic(&k))
                            })
                            .collect();
                        entries.extend(dynamic_broker_entries(broker, name));
                        entries
                    }
                }
                _ => {
                    return base
                        .with_error_code(ec::INVALID_REQUEST)
                        .with_error_message(Some(StrBytes::from_static_str(
                            "Unsupported resource type",
                        )))
                }
            };
            let configs = entries
                .into_iter()
                .filter(|e| wanted(e.name.as_str()))
                .map(|mut e| {
                    if version == 0 {
                        e.is_default = e.config_source == SOURCE_DEFAULT;
                        e.config_source = -1;
                    }
                    if version >= 3 {
                        e.config_type = config_type(e.name.as_str());
                    }
                    e
                })
                .collect();
            base.with_configs(configs)
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

/// The dynamic broker configs in force for the broker resource `name` (this broker's id, or
/// "" for the cluster default): its own value, the default's, or Kafka's default.
fn dynamic_broker_entries(broker: &Broker, name: &str) -> Vec<DescribeConfigsResourceResult> {
    let image = broker.cluster.image();
    let own = image.broker_configs.get(name);
    let default = image.broker_configs.get("");
    DYNAMIC_BROKER_CONFIGS
        .iter()
        .map(|&k| {
            let (value, source) = match (own.and_then(|c| c.get(k)), default.and_then(|c| c.get(k)))
            {
                (Some(v), _) if !name.is_empty() => (v.clone(), ConfigSource::DynamicBroker),
                (Some(v), _) => (v.clone(), ConfigSource::DynamicDefaultBroker),
                (None, Some(v)) => (v.clone(), ConfigSource::DynamicDefaultBroker),
                (None, None) => (i64::MAX.to_string(), ConfigSource::Default),
            };
            entry(k, value, source as i8, Vec::new())
        })
        .collect()
}

fn entry(
    name: &str,
    value: String,
    source: i8,
    synonyms: Vec<DescribeConfigsSynonym>,
) -> DescribeConfigsResourceResult {
    DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_string(name.to_string()))
        .with_value(Some(StrBytes::from_string(value)))
        .with_config_source(source)
        .with_read_only(false)
        .with_synonyms(synonyms)
}

fn topic_entries(
    broker: &Broker,
    name: &str,
    include_synonyms: bool,
) -> Result<Vec<DescribeConfigsResourceResult>, (i16, String)> {
    topics::validate_name(name).map_err(|e| (e.code, e.message))?;
    let meta = broker.cluster.topic(name).ok_or((
        ec::UNKNOWN_TOPIC_OR_PARTITION,
        format!("Topic {name} does not exist"),
    ))?;
    let configs =
        topics::configs_in_force(broker, &meta.configs).map_err(|e| (e.code, e.message))?;
    Ok(configs
        .into_iter()
        .map(|c| {
            let mut synonyms = Vec::new();
            if include_synonyms {
                if c.source == ConfigSource::DynamicTopic {
                    synonyms.push(
                        DescribeConfigsSynonym::default()
                            .with_name(StrBytes::from_static_str(c.def.name))
                            .with_value(Some(StrBytes::from_string(c.value.clone())))
                            .with_source(c.source as i8),
                    );
                }
                // Topic-only settings have no broker-level synonym.
                if let Some(broker_name) = c.def.broker_name {
                    synonyms.push(
                        DescribeConfigsSynonym::default()
                            .with_name(StrBytes::from_static_str(broker_name))
                            .with_value(Some(StrBytes::from_string(c.broker_value)))
                            .with_source(c.broker_source as i8),
                    );
                }
            }
            entry(c.def.name, c.value, c.source as i8, synonyms)
        })
        .collect())
}
