//! OffsetFetch (key 9), v0-v9: committed offsets of a group (v0-v7) or of several groups
//! (v8+); all of a group's offsets when no topics are named (v2+). A partition without a
//! commit gets offset -1. With `require_stable` (v7+, read_committed consumers), a partition
//! for which an open transaction holds an offset (TxnOffsetCommit not yet committed or
//! aborted) gets UNSTABLE_OFFSET_COMMIT, and the consumer asks again.
//!
//! Authorization (Kafka's): Describe on the group, else GROUP_AUTHORIZATION_FAILED; a named
//! topic the principal may not Describe gets TOPIC_AUTHORIZATION_FAILED per partition, and
//! an all-offsets answer leaves such topics out.

use std::collections::HashMap;
use std::sync::Arc;

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::group::records::OffsetValue;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::security::authorize::Authz;

/// (topic, partition, offset, leader epoch, metadata, error code) for the requested
/// partitions, or for all committed ones when `wanted` is None.
type Row = (String, i32, i64, i32, String, i16);

fn lookup(
    broker: &Broker,
    authz: &Authz<'_>,
    group: &str,
    wanted: Option<Vec<(String, Vec<i32>)>>,
    require_stable: bool,
) -> Result<Vec<Row>, i16> {
    if !authz.group(Operation::Describe, group) {
        return Err(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let by_key: HashMap<(String, i32), OffsetValue> =
        broker.groups.committed(group)?.into_iter().collect();
    Ok(match wanted {
        None => {
            let mut rows: Vec<Row> = by_key
                .into_iter()
                .filter(|((t, _), _)| authz.topic(Operation::Describe, t))
                .map(|((t, p), c)| {
                    if require_stable && broker.groups.has_pending_txn_offset(group, &t, p) {
                        (t, p, -1, -1, String::new(), ec::UNSTABLE_OFFSET_COMMIT)
                    } else {
                        (t, p, c.offset, c.leader_epoch, c.metadata, ec::NONE)
                    }
                })
                .collect();
            rows.sort();
            rows
        }
        Some(topics) => topics
            .into_iter()
            .flat_map(|(t, ps)| ps.into_iter().map(move |p| (t.clone(), p)))
            .map(|(t, p)| {
                if !authz.topic(Operation::Describe, &t) {
                    return (t, p, -1, -1, String::new(), ec::TOPIC_AUTHORIZATION_FAILED);
                }
                if require_stable && broker.groups.has_pending_txn_offset(group, &t, p) {
                    return (t, p, -1, -1, String::new(), ec::UNSTABLE_OFFSET_COMMIT);
                }
                match by_key.get(&(t.clone(), p)) {
                    Some(c) => (t, p, c.offset, c.leader_epoch, c.metadata.clone(), ec::NONE),
                    None => (t, p, -1, -1, String::new(), ec::NONE),
                }
            })
            .collect(),
    })
}

/// Groups rows by topic, keeping first-seen order.
fn by_topic(rows: Vec<Row>) -> Vec<(String, Vec<Row>)> {
    let mut out: Vec<(String, Vec<Row>)> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|(t, _)| *t == r.0) {
            Some((_, v)) => v.push(r),
            None => out.push((r.0.clone(), vec![r])),
        }
    }
    out
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: OffsetFetchRequest,
) -> OffsetFetchResponse {
    let version = header.api_version;
    let epoch = |e: i32| if version >= 5 { e } else { -1 };
    let authz = broker.authz(header);
    if version >= 8 {
        let groups = req
            .groups
            .into_iter()
            .map(|g| {
                let wanted = g.topics.map(|ts| {
                    ts.into_iter()
                        .map(|t| (t.name.to_string(), t.partition_indexes))
                        .collect()
                });
                match lookup(broker, &authz, &g.group_id, wanted, req.require_stable) {
                    Err(code) => OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id)
                        .with_error_code(code),
                    Ok(rows) => {
                        let topics = by_topic(rows)
                            .into_iter()
                            .map(|(t, rows)| {
                                OffsetFetchResponseTopics::default()
                                    .with_name(TopicName(StrBytes::from_string(t)))
                                    .with_partitions(
                                        rows.into_iter()
                                            .map(|(_, p, o, e, m, code)| {
                                                OffsetFetchResponsePartitions::default()
                                                    .with_error_code(code)
                                                    .with_partition_index(p)
                                                    .with_committed_offset(o)
                                                    .with_committed_leader_epoch(e)
                                                    .with_metadata(Some(StrBytes::from_string(m)))
                                            })
                                            .collect(),
                                    )
                            })
                            .collect();
                        OffsetFetchResponseGroup::default()
                            .with_group_id(g.group_id)
                            .with_topics(topics)
                    }
                }
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let wanted = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.name.to_string(), t.partition_indexes))
            .collect()
    });
    let stable = version >= 7 && req.require_stable;
    match lookup(broker, &authz, &req.group_id, wanted.clone(), stable) {
        // v0-v1 have no group-level error: each requested partition carries it.
        Err(code) if version < 2 => {
            let topics = wanted
                .unwrap_or_default()
                .into_iter()
                .map(|(t, ps)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t)))
                        .with_partitions(
                            ps.into_iter()
                                .map(|p| {
                                    OffsetFetchResponsePartition::default()
                                        .with_partition_index(p)
                                        .with_committed_offset(-1)
                                        .with_error_code(code)
                                })
                                .collect(),
                        )
                })
                .collect();
            OffsetFetchResponse::default().with_topics(topics)
        }
        Err(code) => OffsetFetchResponse::default().with_error_code(code),
        Ok(rows) => {
            let topics = by_topic(rows)
                .into_iter()
                .map(|(t, rows)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t)))
                        .with_partitions(
                            rows.into_iter()
                                .map(|(_, p, o, e, m, code)| {
                                    OffsetFetchResponsePartition::default()
                                        .with_error_code(code)
                                        .with_partition_index(p)
                                        .with_committed_offset(o)
                                        .with_committed_leader_epoch(epoch(e))
                                        .with_metadata(Some(StrBytes::from_string(m)))
                                })
                                .collect(),
                        )
                })
                .collect();
            OffsetFetchResponse::default().with_topics(topics)
        }
    }
}
