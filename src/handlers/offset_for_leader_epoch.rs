//! OffsetForLeaderEpoch (key 23), v0-v4. A single node has one leader epoch, 0, for every
//! partition: its end offset is the log end offset. Clients use this to validate positions
//! after a leader change; a later epoch than 0 is unknown here.

use std::sync::Arc;

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use crate::broker::Broker;
use crate::log::TopicPartition;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;

const FENCED_LEADER_EPOCH: i16 = 74;
const UNKNOWN_LEADER_EPOCH: i16 = 75;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let base = EpochEndOffset::default()
                        .with_partition(p.partition)
                        .with_leader_epoch(-1)
                        .with_end_offset(-1);
                    let Some(log) = broker
                        .logs
                        .get(&TopicPartition::new(t.topic.to_string(), p.partition))
                    else {
                        return base.with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION);
                    };
                    if p.current_leader_epoch > 0 {
                        return base.with_error_code(UNKNOWN_LEADER_EPOCH);
                    }
                    if p.current_leader_epoch < -1 {
                        return base.with_error_code(FENCED_LEADER_EPOCH);
                    }
                    match log.offsets() {
                        Ok((_, end)) if p.leader_epoch == 0 => base
                            .with_leader_epoch(if header.api_version >= 1 { 0 } else { -1 })
                            .with_end_offset(end),
                        // Epochs below 0 are unknown; above 0 they are in the future.
                        Ok(_) => base,
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
