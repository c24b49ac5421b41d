//! DescribeTopicPartitions (key 75), v0: topics with their partitions, paged by
//! `response_partition_limit` and a cursor, as `kafka-topics --describe` (3.8+) uses it.

use std::sync::Arc;

use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::metadata::TopicMeta;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeTopicPartitionsRequest,
) -> DescribeTopicPartitionsResponse {
    // Kafka's authorization: Describe on each topic; all-topics requests leave the others
    // out, named ones get TOPIC_AUTHORIZATION_FAILED.
    let authz = broker.authz(header);
    let mut names: Vec<String> = if req.topics.is_empty() {
        broker
            .cluster
            .topics()
            .into_iter()
            .map(|t| t.name.clone())
            .filter(|n| authz.topic(Operation::Describe, n))
            .collect()
    } else {
        req.topics.iter().map(|t| t.name.to_string()).collect()
    };
    names.sort();
    names.dedup();
    let (start_topic, start_partition) = match &req.cursor {
        Some(c) => (Some(c.topic_name.to_string()), c.partition_index.max(0)),
        None => (None, 0),
    };
    let mut budget = req.response_partition_limit.clamp(1, 2000);
    let mut out = Vec::new();
    let mut next_cursor = None;
    for name in names {
        if start_topic.as_ref().is_some_and(|s| name < *s) {
            continue;
        }
        let first = if start_topic.as_deref() == Some(name.as_str()) {
            start_partition
        } else {
            0
        };
        let topic_name = TopicName(StrBytes::from_string(name.clone()));
        let meta: Arc<TopicMeta> = match topics::validate_name(&name).and_then(|_| {
            if !authz.topic(Operation::Describe, &name) {
                return Err(topics::TopicError {
                    code: ec::TOPIC_AUTHORIZATION_FAILED,
                    message: String::new(),
                });
            }
            broker.cluster.topic(&name).ok_or(topics::TopicError {
                code: ec::UNKNOWN_TOPIC_OR_PARTITION,
                message: String::new(),
            })
        }) {
            Ok(m) => m,
            Err(e) => {
                out.push(
                    DescribeTopicPartitionsResponseTopic::default()
                        .with_error_code(e.code)
                        .with_name(Some(topic_name)),
                );
                continue;
            }
        };
        if budget == 0 {
            next_cursor = Some(
                Cursor::default()
                    .with_topic_name(topic_name)
                    .with_partition_index(first),
            );
            break;
        }
        let mut partitions = Vec::new();
        let mut p = first;
        while let Some(pm) = meta.partition(p).filter(|_| budget > 0) {
            partitions.push(
                DescribeTopicPartitionsResponsePartition::default()
                    .with_error_code(pm.error_code())
                    .with_partition_index(p)
                    .with_leader_id(BrokerId(pm.leader))
                    .with_leader_epoch(pm.leader_epoch)
                    .with_replica_nodes(pm.replicas.iter().map(|&r| BrokerId(r)).collect())
                    .with_isr_nodes(pm.isr.iter().map(|&r| BrokerId(r)).collect())
                    .with_eligible_leader_replicas(Some(Vec::new()))
                    .with_last_known_elr(Some(Vec::new())),
            );
            p += 1;
            budget -= 1;
        }
        out.push(
            DescribeTopicPartitionsResponseTopic::default()
                .with_name(Some(topic_name.clone()))
                .with_topic_id(meta.id)
                .with_is_internal(meta.is_internal())
                .with_partitions(partitions),
        );
        if p < meta.partition_count() {
            next_cursor = Some(
                Cursor::default()
                    .with_topic_name(topic_name)
                    .with_partition_index(p),
            );
            break;
        }
    }
    DescribeTopicPartitionsResponse::default()
        .with_topics(out)
        .with_next_cursor(next_cursor)
}
