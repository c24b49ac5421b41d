//! CreateTopics (key 19), v0-v7: partitions (-1 for `num.partitions`), replication factor
//! (-1 for `default.replication.factor`, at most the live brokers) or a manual replica
//! assignment, config overrides, validate_only (v1+). Committed through the controller.
//! From v5 a success carries the topic id, partition count, replication factor and the
//! configs in force.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::decide::CreateTopic;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: CreateTopicsRequest,
) -> CreateTopicsResponse {
    let version = header.api_version;
    let duplicates = topics::duplicates(req.topics.iter().map(|t| t.name.to_string()));
    let authz = broker.authz(header);
    let cluster_create = authz.cluster(Operation::Create);
    let mut results = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let result = async {
            let name = t.name.clone();
            let result = CreatableTopicResult::default().with_name(t.name.clone());
            // error_message exists from v1; topic_id from v7; counts and configs from v5.
            let message = |m: &str| (version >= 1).then(|| StrBytes::from_string(m.to_string()));
            if duplicates.contains(name.as_str()) {
                return result
                    .with_error_code(ec::INVALID_REQUEST)
                    .with_error_message(message("Duplicate topic name."));
            }
            // Kafka's authorization: Create on the cluster, or on the topic.
            if !cluster_create && !authz.topic(Operation::Create, &name) {
                return result
                    .with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
                    .with_error_message(message("Authorization failed."));
            }
            let assignments = (!t.assignments.is_empty()).then(|| {
                let mut lists: Vec<_> = t
                    .assignments
                    .iter()
                    .map(|a| {
                        (
                            a.partition_index,
                            a.broker_ids.iter().map(|b| b.0).collect::<Vec<i32>>(),
                        )
                    })
                    .collect();
                lists.sort_by_key(|(p, _)| *p);
                lists
            });
            if let Some(lists) = &assignments {
                if lists.iter().enumerate().any(|(i, (p, _))| *p != i as i32) {
                    return result
                        .with_error_code(ec::INVALID_REPLICA_ASSIGNMENT)
                        .with_error_message(message(
                            "Partitions should be consecutive and start from 0.",
                        ));
                }
            }
            let assignments =
                assignments.map(|l| l.into_iter().map(|(_, b)| b).collect::<Vec<_>>());
            let configs: BTreeMap<String, String> = t
                .configs
                .iter()
                .filter_map(|c| {
                    c.value
                        .as_ref()
                        .map(|v| (c.name.to_string(), v.to_string()))
                })
                .collect();
            let new = CreateTopic {
                name: name.to_string(),
                partitions: t.num_partitions,
                replication_factor: t.replication_factor,
                assignments,
                configs,
            };
            match topics::create(broker, new, req.validate_only).await {
                Ok(meta) => {
                    let mut r = result;
                    if version >= 7 {
                        r = r.with_topic_id(meta.id);
                    }
                    if version >= 5 {
                        r = r
                            .with_num_partitions(meta.partition_count())
                            .with_replication_factor(meta.replication_factor())
                            .with_configs(Some(configs_in_force(broker, &meta.configs)));
                    }
                    r
                }
                Err(e) => result
                    .with_error_code(e.code)
                    .with_error_message(message(&e.message)),
            }
        }
        .await;
        results.push(result);
    }
    CreateTopicsResponse::default().with_topics(results)
}

fn configs_in_force(
    broker: &Broker,
    overrides: &BTreeMap<String, String>,
) -> Vec<CreatableTopicConfigs> {
    topics::configs_in_force(broker, overrides)
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            CreatableTopicConfigs::default()
                .with_name(StrBytes::from_static_str(c.def.name))
                .with_value(Some(StrBytes::from_string(c.value)))
                .with_config_source(c.source as i8)
        })
        .collect()
}
