//! DescribeProducers (key 61), v0: the active producers of partitions this broker leads, from
//! the partition's producer state (`kafka-transactions.sh describe-producers`, and its
//! `find-hanging`): producer id and epoch, last sequence and timestamp, the coordinator epoch
//! of its last marker and the first offset of its open transaction (-1: none).
//!
//! Per partition (Kafka's): Read on the topic, else TOPIC_AUTHORIZATION_FAILED; an unknown one
//! UNKNOWN_TOPIC_OR_PARTITION; one led elsewhere NOT_LEADER_OR_FOLLOWER.

use std::sync::Arc;

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};

use crate::broker::Broker;
use crate::log::TopicPartition;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeProducersRequest,
) -> DescribeProducersResponse {
    let authz = broker.authz(header);
    let topics = req
        .topics
        .iter()
        .map(|t| {
            let allowed = authz.topic(Operation::Read, &t.name);
            let partitions = t
                .partition_indexes
                .iter()
                .map(|p| {
                    let base = PartitionResponse::default().with_partition_index(*p);
                    if !allowed {
                        return base.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
                    }
                    let tp = TopicPartition::new(t.name.to_string(), *p);
                    let replica = match broker.cluster.check_leader(&t.name, *p) {
                        Err(code) => return base.with_error_code(code),
                        Ok(()) => broker.replicas.leader(&tp),
                    };
                    let states = match replica.map(|r| r.log.producer_states()) {
                        Err(code) => return base.with_error_code(code),
                        Ok(Err(e)) => return base.with_error_code(ec::for_log_error(&e)),
                        Ok(Ok(states)) => states,
                    };
                    let active = states
                        .into_iter()
                        .map(|s| {
                            ProducerState::default()
                                .with_producer_id(ProducerId(s.producer_id))
                                .with_producer_epoch(i32::from(s.producer_epoch))
                                .with_last_sequence(s.last_sequence)
                                .with_last_timestamp(s.last_timestamp)
                                .with_coordinator_epoch(s.coordinator_epoch)
                                .with_current_txn_start_offset(s.current_txn_start_offset)
                        })
                        .collect();
                    base.with_active_producers(active)
                })
                .collect();
            TopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    DescribeProducersResponse::default().with_topics(topics)
}
