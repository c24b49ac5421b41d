//! Metadata (key 3), v0-v12: every live broker with its advertised endpoint and rack (v1+),
//! the active controller (v1+), each partition's leader, leader epoch (v7+), replicas and
//! ISR; a partition without a leader carries LEADER_NOT_AVAILABLE, as Kafka answers. Topic
//! ids from v10; unknown topics auto-created through the controller when allowed (v4+ asks
//! per request).
//!
//! Authorization (Kafka's): all-topics requests list only the topics the principal may
//! Describe; a named topic it may not Describe is answered TOPIC_AUTHORIZATION_FAILED; an
//! unknown one is auto-created only with Create on the cluster or on the topic (else
//! TOPIC_AUTHORIZATION_FAILED). The authorized-operations fields (v8+) are filled when asked.

use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::broker::Broker;
use crate::metadata::TopicMeta;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{Operation, ResourceType, CLUSTER_NAME};
use crate::security::authorize::{CLUSTER_OPERATIONS, TOPIC_OPERATIONS};
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: MetadataRequest,
) -> MetadataResponse {
    let version = header.api_version;
    // v0: an empty list means all topics; v1+: null means all, empty means none.
    let all = match &req.topics {
        None => true,
        Some(t) => t.is_empty() && version == 0,
    };
    let allow_auto = version < 4 || req.allow_auto_topic_creation;
    let authz = broker.authz(header);
    let with_ops = version >= 8 && req.include_topic_authorized_operations;
    let entry = |meta: &TopicMeta| {
        let e = topic_entry(meta, version);
        if with_ops {
            e.with_topic_authorized_operations(authz.operations(
                ResourceType::Topic,
                &meta.name,
                TOPIC_OPERATIONS,
            ))
        } else {
            e
        }
    };
    let refused = |name: TopicName| {
        MetadataResponseTopic::default()
            .with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
            .with_name(Some(name))
    };
    let topics = if all {
        broker
            .cluster
            .topics()
            .iter()
            .filter(|t| authz.topic(Operation::Describe, &t.name))
            .map(|t| entry(t))
            .collect()
    } else {
        let requested = req.topics.unwrap_or_default();
        let mut out = Vec::with_capacity(requested.len());
        for t in requested {
            out.push(match t.name {
                Some(name) if !authz.topic(Operation::Describe, &name) => refused(name),
                Some(name)
                    if allow_auto
                        && broker.config.auto_create_topics
                        && !broker.cluster.has_topic(&name)
                        && !authz.cluster(Operation::Create)
                        && !authz.topic(Operation::Create, &name) =>
                {
                    refused(name)
                }
                Some(name) => match topics::get_or_auto_create(broker, &name, allow_auto).await {
                    Ok(meta) => entry(&meta),
                    Err(e) => MetadataResponseTopic::default()
                        .with_error_code(e.code)
                        .with_name(Some(name)),
                },
                None => match broker.cluster.topic_by_id(t.topic_id) {
                    Some(meta) if !authz.topic(Operation::Describe, &meta.name) => {
                        MetadataResponseTopic::default()
                            .with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
                            .with_name((version < 12).then(TopicName::default))
                            .with_topic_id(t.topic_id)
                    }
                    Some(meta) => entry(&meta),
                    None => MetadataResponseTopic::default()
                        .with_error_code(ec::UNKNOWN_TOPIC_ID)
                        .with_name((version < 12).then(TopicName::default))
                        .with_topic_id(t.topic_id),
                },
            });
        }
        out
    };
    let brokers = broker
        .cluster
        .live_brokers()
        .into_iter()
        .filter_map(|b| b.on_listener(&header.listener))
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(b.id))
                .with_host(StrBytes::from_string(b.host))
                .with_port(i32::from(b.port))
                .with_rack(b.rack.map(StrBytes::from_string))
        })
        .collect();
    let controller = broker.cluster.client_controller_id();
    let cluster_ops = if (8..=10).contains(&version) && req.include_cluster_authorized_operations {
        authz.operations(ResourceType::Cluster, CLUSTER_NAME, CLUSTER_OPERATIONS)
    } else {
        i32::MIN
    };
    MetadataResponse::default()
        .with_cluster_authorized_operations(cluster_ops)
        .with_brokers(brokers)
        .with_cluster_id(
            broker
                .cluster
                .cluster_id()
                .filter(|_| version >= 2)
                .map(StrBytes::from_string),
        )
        .with_controller_id(BrokerId(if version >= 1 { controller } else { -1 }))
        .with_topics(topics)
}

fn topic_entry(meta: &TopicMeta, version: i16) -> MetadataResponseTopic {
    let partitions = meta
        .partitions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            MetadataResponsePartition::default()
                .with_error_code(p.error_code())
                .with_partition_index(i as i32)
                .with_leader_id(BrokerId(p.leader))
                .with_leader_epoch(if version >= 7 { p.leader_epoch } else { -1 })
                .with_replica_nodes(p.replicas.iter().map(|&r| BrokerId(r)).collect())
                .with_isr_nodes(p.isr.iter().map(|&r| BrokerId(r)).collect())
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(meta.name.clone()))))
        .with_topic_id(if version >= 10 { meta.id } else { Uuid::nil() })
        .with_is_internal(meta.is_internal())
        .with_partitions(partitions)
}
