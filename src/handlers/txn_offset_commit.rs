//! TxnOffsetCommit (key 28), v0-v4: a transactional producer commits a group's offsets inside
//! its transaction (`sendOffsetsToTransaction`). The offsets are appended to the group's
//! partition of `__consumer_offsets` as the producer's transactional batch and become the
//! group's committed offsets only when the transaction commits ([`crate::group`]'s
//! transactional offsets).
//!
//! Authorization (Kafka's): Write on the transactional id (else every partition gets
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED), Read on the group (GROUP_AUTHORIZATION_FAILED), Read
//! on each topic (TOPIC_AUTHORIZATION_FAILED). v0-v1 get COORDINATOR_NOT_AVAILABLE for
//! COORDINATOR_LOAD_IN_PROGRESS, which producers before Kafka 2.0 do not expect.

use std::sync::Arc;

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};

use crate::broker::Broker;
use crate::group::MemberRef;
use crate::handlers::offset_commit::checked_offset;
use crate::log::now_ms;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: TxnOffsetCommitRequest,
) -> TxnOffsetCommitResponse {
    let version = header.api_version;
    let now = now_ms();
    let authz = broker.authz(header);
    let txn_allowed = authz.transactional_id(Operation::Write, &req.transactional_id);
    let group_allowed = authz.group(Operation::Read, &req.group_id);
    let group_error = if req.group_id.is_empty() {
        Some(ec::INVALID_GROUP_ID)
    } else {
        broker.groups.check(&req.group_id)
    };
    let mut accepted = Vec::new();
    let mut topics: Vec<TxnOffsetCommitResponseTopic> = req
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let leader_epoch = if version >= 2 {
                        p.committed_leader_epoch
                    } else {
                        -1
                    };
                    let committed = (p.committed_offset, leader_epoch);
                    let metadata = p.committed_metadata.as_deref();
                    let checked = if !txn_allowed {
                        Err(ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
                    } else if !group_allowed {
                        Err(ec::GROUP_AUTHORIZATION_FAILED)
                    } else {
                        let key = (t.name.as_str(), p.partition_index);
                        checked_offset(broker, &authz, group_error, key, committed, metadata, now)
                    };
                    let code = match checked {
                        Err(code) => code,
                        Ok(value) => {
                            accepted.push(((t.name.to_string(), p.partition_index), value));
                            ec::NONE
                        }
                    };
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    if !accepted.is_empty() {
        let member = MemberRef {
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
        };
        let generation = if version >= 3 { req.generation_id } else { -1 };
        let stored = broker
            .groups
            .commit_txn_offsets(
                broker,
                &req.group_id,
                &member,
                generation,
                req.producer_id.0,
                req.producer_epoch,
                accepted,
            )
            .await;
        if let Err(code) = stored {
            // A write refused for the producer's epoch means a newer instance took over.
            let code = match code {
                ec::INVALID_PRODUCER_EPOCH if version >= 2 => ec::PRODUCER_FENCED,
                c => c,
            };
            for t in topics.iter_mut() {
                for p in t.partitions.iter_mut() {
                    if p.error_code == ec::NONE {
                        p.error_code = code;
                    }
                }
            }
        }
    }
    if version < 2 {
        for t in topics.iter_mut() {
            for p in t.partitions.iter_mut() {
                if p.error_code == ec::COORDINATOR_LOAD_IN_PROGRESS {
                    p.error_code = ec::COORDINATOR_NOT_AVAILABLE;
                }
            }
        }
    }
    TxnOffsetCommitResponse::default().with_topics(topics)
}
