//! OffsetCommit (key 8), v0-v9: member/generation checks (ILLEGAL_GENERATION,
//! UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID), simple commits (generation
//! -1, no member) for groups without members, per-partition checks; the accepted offsets are
//! appended to the group's partition of `__consumer_offsets` and answered once committed
//! (Kafka's coordinator errors otherwise, for every accepted partition).
//!
//! Authorization (Kafka's): Read on the group, else every partition gets
//! GROUP_AUTHORIZATION_FAILED; then Read on each topic, else TOPIC_AUTHORIZATION_FAILED.

use std::sync::Arc;

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use crate::broker::Broker;
use crate::group::records::OffsetValue;
use crate::group::{MemberRef, OFFSET_METADATA_MAX_BYTES};
use crate::log::now_ms;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::security::authorize::Authz;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: OffsetCommitRequest,
) -> OffsetCommitResponse {
    let version = header.api_version;
    let now = now_ms();
    let member = MemberRef {
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
    };
    // v0 has no generation: it is always a simple commit.
    let generation = if version >= 1 {
        req.generation_id_or_member_epoch
    } else {
        -1
    };
    let authz = broker.authz(header);
    let group_allowed = authz.group(Operation::Read, &req.group_id);
    let group_error = if req.group_id.is_empty() {
        Some(ec::INVALID_GROUP_ID)
    } else {
        broker
            .groups
            .validate_commit(&req.group_id, &member, generation)
            .err()
    };
    let mut accepted = Vec::new();
    let mut topics: Vec<OffsetCommitResponseTopic> = req
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let leader_epoch = if version >= 6 {
                        p.committed_leader_epoch
                    } else {
                        -1
                    };
                    let committed = (p.committed_offset, leader_epoch);
                    let metadata = p.committed_metadata.as_deref();
                    let checked = if !group_allowed {
                        Err(ec::GROUP_AUTHORIZATION_FAILED)
                    } else {
                        let key = (t.name.as_str(), p.partition_index);
                        checked_offset(broker, &authz, group_error, key, committed, metadata, now)
                    };
                    let code = match checked {
                        Err(code) => code,
                        Ok(mut value) => {
                            if version == 1 && p.commit_timestamp >= 0 {
                                value.commit_timestamp = p.commit_timestamp;
                            }
                            // v2-v4's retention time sets the offset's own expiry, as in Kafka
                            // (stored as OffsetCommitValue v1).
                            value.expire_timestamp = ((2..=4).contains(&version)
                                && req.retention_time_ms != -1)
                                .then(|| now.saturating_add(req.retention_time_ms));
                            accepted.push(((t.name.to_string(), p.partition_index), value));
                            ec::NONE
                        }
                    };
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    if !accepted.is_empty() {
        let stored = broker
            .groups
            .commit_offsets(broker, &req.group_id, &member, generation, accepted)
            .await;
        if let Err(code) = stored {
            for t in topics.iter_mut() {
                for p in t.partitions.iter_mut() {
                    if p.error_code == ec::NONE {
                        p.error_code = code;
                    }
                }
            }
        }
    }
    OffsetCommitResponse::default().with_topics(topics)
}

/// The checks of one committed partition after the group's authorization, in Kafka's order
/// (shared with TxnOffsetCommit): Read on the topic, the coordinator's answer for the group,
/// the partition's existence, the metadata's size. Ok: the offset to store, (offset, leader
/// epoch) `committed` at `now`, with the topic's id and no expiry of its own.
pub(crate) fn checked_offset(
    broker: &Broker,
    authz: &Authz<'_>,
    group_error: Option<i16>,
    (topic, partition): (&str, i32),
    (offset, leader_epoch): (i64, i32),
    metadata: Option<&str>,
    now: i64,
) -> Result<OffsetValue, i16> {
    if !authz.topic(Operation::Read, topic) {
        return Err(ec::TOPIC_AUTHORIZATION_FAILED);
    }
    if let Some(code) = group_error {
        return Err(code);
    }
    if !broker.partition_exists(topic, partition) {
        return Err(ec::UNKNOWN_TOPIC_OR_PARTITION);
    }
    if metadata.is_some_and(|m| m.len() > OFFSET_METADATA_MAX_BYTES) {
        return Err(ec::OFFSET_METADATA_TOO_LARGE);
    }
    Ok(OffsetValue {
        offset,
        leader_epoch,
        metadata: metadata.unwrap_or_default().to_string(),
        commit_timestamp: now,
        expire_timestamp: None,
        topic_id: broker.cluster.topic(topic).map(|t| t.id),
    })
}
