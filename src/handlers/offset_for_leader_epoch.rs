//! OffsetForLeaderEpoch (key 23), v0-v4, answered by the partition's leader. A partition's
//! log has a single lineage (only its leader has ever written it: data replication, with
//! epoch history and truncation, is not built yet), so every epoch from 0 to the current
//! one ends at the log end offset. The client's `current_leader_epoch` is checked against
//! the metadata's: older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH.

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
                    let tp = TopicPartition::new(t.topic.to_string(), p.partition);
                    let log = match broker.leader_log(&tp) {
                        Ok(log) => log,
                        Err(code) => return base.with_error_code(code),
                    };
                    let epoch = broker
                        .cluster
                        .topic(&tp.topic)
                        .and_then(|m| m.partition(p.partition).map(|pm| pm.leader_epoch))
                        .unwrap_or(0);
                    if p.current_leader_epoch > epoch {
                        return base.with_error_code(UNKNOWN_LEADER_EPOCH);
                    }
                    if p.current_leader_epoch < -1
                        || (p.current_leader_epoch >= 0 && p.current_leader_epoch < epoch)
                    {
                        return base.with_error_code(FENCED_LEADER_EPOCH);
                    }
                    match log.offsets() {
                        Ok(o) if (0..=epoch).contains(&p.leader_epoch) => base
                            .with_leader_epoch(if header.api_version >= 1 {
                                p.leader_epoch
                            } else {
                                -1
                            })
                            .with_end_offset(o.log_end),
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
