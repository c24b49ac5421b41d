//! ListOffsets (key 2), v0-v9: latest (-1), earliest (-2), max timestamp (-3, v7+),
//! earliest local (-4, v8+) and earliest tiered (-5, v9+; the local log here), or the first
//! batch whose timestamp is at or after a given time, found through the time index.
//! v0 answers in the old layout (a list of offsets). From v1 a partition listed twice gets
//! INVALID_REQUEST for each entry, as in Kafka.

use std::sync::Arc;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::broker::Broker;
use crate::log::{LogError, Partition, TopicPartition};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::topics;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const EARLIEST_TIERED: i64 = -5;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ListOffsetsRequest,
) -> ListOffsetsResponse {
    let version = header.api_version;
    let duplicates = topics::duplicate_partitions(req.topics.iter().flat_map(|t| {
        t.partitions
            .iter()
            .map(move |p| (t.name.as_str(), p.partition_index))
    }));
    let topics = req
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .into_iter()
                .map(|p| {
                    let base = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
                    let tp = TopicPartition::new(topic.name.as_str(), p.partition_index);
                    if version >= 1 && duplicates.contains(&tp) {
                        return base.with_error_code(ec::INVALID_REQUEST);
                    }
                    let log = match broker.leader_log(&tp) {
                        Ok(log) => log,
                        Err(code) => return base.with_error_code(code),
                    };
                    match lookup(&log, p.timestamp) {
                        Ok(found) => {
                            if version == 0 {
                                base.with_old_style_offsets(
                                    found.map(|(o, _)| vec![o]).unwrap_or_default(),
                                )
                            } else {
                                match found {
                                    Some((offset, ts)) => base
                                        .with_offset(offset)
                                        .with_timestamp(ts)
                                        .with_leader_epoch(if version >= 4 { 0 } else { -1 }),
                                    None => base,
                                }
                            }
                        }
                        Err(e) => base.with_error_code(ec::for_log_error(&e)),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// (offset, timestamp) for a ListOffsets timestamp or special value.
fn lookup(log: &Partition, timestamp: i64) -> Result<Option<(i64, i64)>, LogError> {
    let o = log.offsets()?;
    Ok(match timestamp {
        // Consumers are answered with the high watermark, as Kafka does.
        LATEST => Some((o.high_watermark, -1)),
        EARLIEST | EARLIEST_LOCAL | EARLIEST_TIERED => Some((o.log_start, -1)),
        MAX_TIMESTAMP => log.max_timestamp()?,
        ts if ts >= 0 => log.offset_for_timestamp(ts)?,
        _ => None,
    })
}
