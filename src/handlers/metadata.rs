//! Metadata (key 3), v0-v12: this node as the only broker and every partition's leader;
//! topic ids from v10; unknown topics auto-created when allowed (v4+ asks per request).

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
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: MetadataRequest,
) -> MetadataResponse {
    let version = header.api_version;
    let node = BrokerId(broker.config.node_id);
    let (host, port) = broker.config.advertised();
    // v0: an empty list means all topics; v1+: null means all, empty means none.
    let all = match &req.topics {
        None => true,
        Some(t) => t.is_empty() && version == 0,
    };
    let allow_auto = version < 4 || req.allow_auto_topic_creation;
    let topics = if all {
        broker
            .metadata
            .topics()
            .iter()
            .map(|t| topic_entry(broker, t, version))
            .collect()
    } else {
        let requested = req.topics.unwrap_or_default();
        let broker = broker.clone();
        tokio::task::block_in_place(|| {
            requested
                .into_iter()
                .map(|t| match t.name {
                    Some(name) => match topics::get_or_auto_create(&broker, &name, allow_auto) {
                        Ok(meta) => topic_entry(&broker, &meta, version),
                        Err(e) => MetadataResponseTopic::default()
                            .with_error_code(e.code)
                            .with_name(Some(name)),
                    },
                    None => match broker.metadata.topic_by_id(t.topic_id) {
                        Some(meta) => topic_entry(&broker, &meta, version),
                        None => MetadataResponseTopic::default()
                            .with_error_code(ec::UNKNOWN_TOPIC_ID)
                            .with_name((version < 12).then(TopicName::default))
                            .with_topic_id(t.topic_id),
                    },
                })
                .collect()
        })
    };
    MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(node)
            .with_host(StrBytes::from_string(host))
            .with_port(i32::from(port))])
        .with_cluster_id(
            (version >= 2).then(|| StrBytes::from_string(broker.metadata.cluster_id().to_string())),
        )
        .with_controller_id(if version >= 1 { node } else { BrokerId(-1) })
        .with_topics(topics)
}

fn topic_entry(broker: &Broker, meta: &TopicMeta, version: i16) -> MetadataResponseTopic {
    let node = BrokerId(broker.config.node_id);
    let partitions = (0..meta.partitions)
        .map(|p| {
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(node)
                .with_leader_epoch(if version >= 7 { 0 } else { -1 })
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(meta.name.clone()))))
        .with_topic_id(if version >= 10 { meta.id } else { Uuid::nil() })
        .with_partitions(partitions)
}

/// The topic id to report for a name, or nil if unknown.
pub fn topic_id(broker: &Broker, name: &str) -> Uuid {
    broker
        .metadata
        .topic(name)
        .map(|t| t.id)
        .unwrap_or(Uuid::nil())
}
