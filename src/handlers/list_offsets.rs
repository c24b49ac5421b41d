//! ListOffsets (key 2), v0-v10 (v10 through [`crate::protocol::newest`]): latest (-1), earliest (-2), max timestamp (-3, v7+),
//! earliest local (-4, v8+) and earliest tiered (-5, v9+; the local log here), or the first
//! batch whose timestamp is at or after a given time, found through the time index.
//! v0 answers in the old layout: up to `max_num_offsets` offsets, newest first, from segment
//! starts and the log end, as Kafka 0.8 did ([`crate::log::legacy_offsets`]). As Kafka's
//! `fetchOffsetForTimestamp`, a consumer (`replica_id` < 0) reads below its last fetchable
//! offset, the high watermark or, with `isolation_level` READ_COMMITTED (v2+), the last
//! stable offset (a replica: the log end): latest answers it, and a timestamp or max-timestamp lookup finding an
//! offset at or past it answers no offset (-1). From v1 a partition listed twice gets
//! INVALID_REQUEST for each entry, as in Kafka. Describe on the topic is needed (else
//! TOPIC_AUTHORIZATION_FAILED per partition, before anything else is checked).

use std::sync::Arc;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::broker::Broker;
use crate::log::{now_ms, LogError, Partition, TopicPartition};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::topics;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const EARLIEST_TIERED: i64 = -5;
const READ_COMMITTED: i8 = 1;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ListOffsetsRequest,
) -> ListOffsetsResponse {
    let version = header.api_version;
    let isolation = if req.replica_id.0 >= 0 {
        Isolation::Replica
    } else if version >= 2 && req.isolation_level == READ_COMMITTED {
        Isolation::Committed
    } else {
        Isolation::Uncommitted
    };
    let duplicates = topics::duplicate_partitions(req.topics.iter().flat_map(|t| {
        t.partitions
            .iter()
            .map(move |p| (t.name.as_str(), p.partition_index))
    }));
    let authz = broker.authz(header);
    let topics = req
        .topics
        .into_iter()
        .map(|topic| {
            let allowed = authz.topic(Operation::Describe, &topic.name);
            let partitions = topic
                .partitions
                .into_iter()
                .map(|p| {
                    let base = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
                    if !allowed {
                        return base.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
                    }
                    let tp = TopicPartition::new(topic.name.as_str(), p.partition_index);
                    if version >= 1 && duplicates.contains(&tp) {
                        return base.with_error_code(ec::INVALID_REQUEST);
                    }
                    let replica = match broker.leader_replica(&tp) {
                        Ok(r) => r,
                        Err(code) => return base.with_error_code(code),
                    };
                    let log = &replica.log;
                    if version == 0 {
                        // The old list form: up to max_num_offsets, newest first.
                        return match log.legacy_offsets_before(
                            p.timestamp,
                            p.max_num_offsets,
                            now_ms(),
                        ) {
                            Ok(offsets) => base.with_old_style_offsets(offsets),
                            Err(e) => base.with_error_code(ec::for_log_error(&e)),
                        };
                    }
                    let found = lookup(log, p.timestamp, isolation).and_then(|found| {
                        let Some((offset, ts)) = found else {
                            return Ok(None);
                        };
                        // v4+: the epoch of the leader that wrote the offset, as Kafka
                        // answers (the current one for latest), which consumers validate
                        // their position against after a leader change (KIP-320).
                        let epoch = if p.timestamp == LATEST {
                            replica.leader_epoch().unwrap_or(-1)
                        } else {
                            log.epoch_for_offset(offset)?
                        };
                        Ok(Some((offset, ts, epoch)))
                    });
                    match found {
                        Ok(Some((offset, ts, epoch))) => base
                            .with_offset(offset)
                            .with_timestamp(ts)
                            .with_leader_epoch(if version >= 4 { epoch } else { -1 }),
                        Ok(None) => base,
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

/// Who asks, and so what they may read (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    Uncommitted,
    Committed,
    /// A replica (`replica_id` >= 0): the whole log.
    Replica,
}

/// (offset, timestamp) for a ListOffsets timestamp or special value, below the asker's last
/// fetchable offset (module docs).
fn lookup(
    log: &Partition,
    timestamp: i64,
    isolation: Isolation,
) -> Result<Option<(i64, i64)>, LogError> {
    let o = log.offsets()?;
    let fetchable = match isolation {
        Isolation::Uncommitted => o.high_watermark,
        Isolation::Committed => log.last_stable_offset(),
        Isolation::Replica => o.log_end,
    };
    let below = |found: Option<(i64, i64)>| found.filter(|(offset, _)| *offset < fetchable);
    Ok(match timestamp {
        // Consumers get the high watermark (or the LSO), a replica the log end, as Kafka.
        LATEST => Some((fetchable, -1)),
        EARLIEST | EARLIEST_LOCAL | EARLIEST_TIERED => Some((o.log_start, -1)),
        MAX_TIMESTAMP => below(log.max_timestamp()?),
        ts if ts >= 0 => below(log.offset_for_timestamp(ts)?),
        _ => None,
    })
}
