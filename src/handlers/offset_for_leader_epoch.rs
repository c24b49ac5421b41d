//! OffsetForLeaderEpoch (key 23), v0-v4, answered by the partition's leader from its leader
//! epoch cache (Kafka's `leader-epoch-checkpoint`): for a requested epoch, the largest epoch
//! it knows at or below it and where that epoch ends (the start of the next one, or the log
//! end for the current one). Consumers use it to detect a log truncated under them (KIP-320),
//! followers to find where their log diverges. The client's `current_leader_epoch` is
//! checked against the leader's: older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH.

use std::sync::Arc;

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use crate::broker::Broker;
use crate::log::TopicPartition;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    // Kafka's authorization: ClusterAction on the cluster for a follower (v3+ names its
    // replica id), Describe on each topic for a client.
    let authz = broker.authz(header);
    let follower_allowed = req.replica_id.0 < 0 || authz.cluster(Operation::ClusterAction);
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let allowed = if req.replica_id.0 >= 0 {
                follower_allowed
            } else {
                authz.topic(Operation::Describe, &t.topic)
            };
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let base = EpochEndOffset::default()
                        .with_partition(p.partition)
                        .with_leader_epoch(-1)
                        .with_end_offset(-1);
                    if !allowed {
                        return base.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
                    }
                    let tp = TopicPartition::new(t.topic.to_string(), p.partition);
                    let replica = match broker.leader_replica(&tp) {
                        Ok(r) => r,
                        Err(code) => return base.with_error_code(code),
                    };
                    if let Err(code) = replica.check_epoch(p.current_leader_epoch) {
                        return base.with_error_code(code);
                    }
                    match replica.log.end_offset_for_epoch(p.leader_epoch) {
                        Ok((epoch, end)) => base
                            .with_leader_epoch(if header.api_version >= 1 { epoch } else { -1 })
                            .with_end_offset(end),
                        Err(e) => base.with_error_code(ec::for_log_error(&e)),
                    }
                })
                .collect();
            OffsetForLeaderTopicResult::default()
                .with_topic(t.topic)
                .with_partitions(partitions)
        })
        .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}
