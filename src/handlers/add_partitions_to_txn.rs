//! AddPartitionsToTxn (key 24), v0-v5: a transactional producer adds partitions to its
//! transaction before writing to them (v0-v3, one transaction per request, from clients);
//! v4+ carries several transactions at once and `verify_only` (KIP-890's broker form: a
//! partition leader asking whether a partition is in the transaction).
//!
//! Kafka's checks, per transaction: Write on the transactional id (v0-v3; else
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition); Write on each topic (v0-v3)
//! and the partition's existence. Any partition failing those fails the whole transaction:
//! those get TOPIC_AUTHORIZATION_FAILED / UNKNOWN_TOPIC_OR_PARTITION and the others
//! OPERATION_NOT_ATTEMPTED. Otherwise the coordinator's answer is every partition's code;
//! v0-v1 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED, as those clients know only it. v4+
//! needs ClusterAction on the cluster (top-level CLUSTER_AUTHORIZATION_FAILED).

use std::collections::BTreeSet;
use std::sync::Arc;

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::group::offsets_topic::is_internal;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::security::authorize::Authz;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: AddPartitionsToTxnRequest,
) -> AddPartitionsToTxnResponse {
    let version = header.api_version;
    let authz = broker.authz(header);
    if version < 4 {
        let results = one(
            broker,
            &authz,
            version,
            &req.v3_and_below_transactional_id,
            req.v3_and_below_producer_id.0,
            req.v3_and_below_producer_epoch,
            false,
            &req.v3_and_below_topics,
        )
        .await;
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results);
    }
    if !authz.cluster(Operation::ClusterAction) {
        return AddPartitionsToTxnResponse::default()
            .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED);
    }
    let mut out = Vec::with_capacity(req.transactions.len());
    for t in &req.transactions {
        let results = one(
            broker,
            &authz,
            version,
            &t.transactional_id,
            t.producer_id.0,
            t.producer_epoch,
            t.verify_only,
            &t.topics,
        )
        .await;
        out.push(
            AddPartitionsToTxnResult::default()
                .with_transactional_id(t.transactional_id.clone())
                .with_topic_results(results),
        );
    }
    AddPartitionsToTxnResponse::default().with_results_by_transaction(out)
}

/// One transaction's partitions with their codes.
#[allow(clippy::too_many_arguments)]
async fn one(
    broker: &Arc<Broker>,
    authz: &Authz<'_>,
    version: i16,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
    verify_only: bool,
    topics: &[AddPartitionsToTxnTopic],
) -> Vec<AddPartitionsToTxnTopicResult> {
    let asked: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.0.to_string(), *p)))
        .collect();
    let all = |code: i16| asked.iter().map(|_| code).collect::<Vec<i16>>();
    let codes: Vec<i16> =
        if version < 4 && !authz.transactional_id(Operation::Write, transactional_id) {
            all(ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        } else {
            let checks: Vec<i16> = asked
                .iter()
                .map(|(t, p)| {
                    if version < 4 && !is_internal(t) && !authz.topic(Operation::Write, t) {
                        ec::TOPIC_AUTHORIZATION_FAILED
                    } else if broker
                        .cluster
                        .topic(t)
                        .and_then(|m| m.partition(*p).cloned())
                        .is_none()
                    {
                        ec::UNKNOWN_TOPIC_OR_PARTITION
                    } else {
                        ec::NONE
                    }
                })
                .collect();
            if checks.iter().any(|c| *c != ec::NONE) {
                checks
                    .into_iter()
                    .map(|c| {
                        if c == ec::NONE {
                            ec::OPERATION_NOT_ATTEMPTED
                        } else {
                            c
                        }
                    })
                    .collect()
            } else if transactional_id.is_empty() {
                all(ec::INVALID_REQUEST)
            } else if verify_only {
                match broker.txns.verify_partitions(
                    transactional_id,
                    producer_id,
                    producer_epoch,
                    &asked,
                ) {
                    Ok(codes) => codes,
                    Err(code) => all(code),
                }
            } else {
                let set: BTreeSet<(String, i32)> = asked.iter().cloned().collect();
                let code = match broker
                    .txns
                    .add_partitions(broker, transactional_id, producer_id, producer_epoch, &set)
                    .await
                {
                    Ok(()) => ec::NONE,
                    Err(ec::PRODUCER_FENCED) if version < 2 => ec::INVALID_PRODUCER_EPOCH,
                    Err(code) => code,
                };
                all(code)
            }
        };
    let mut out: Vec<AddPartitionsToTxnTopicResult> = Vec::new();
    for ((topic, partition), code) in asked.into_iter().zip(codes) {
        let result = AddPartitionsToTxnPartitionResult::default()
            .with_partition_index(partition)
            .with_partition_error_code(code);
        match out.iter_mut().find(|r| r.name.0.as_str() == topic) {
            Some(r) => r.results_by_partition.push(result),
            None => out.push(
                AddPartitionsToTxnTopicResult::default()
                    .with_name(TopicName(StrBytes::from_string(topic)))
                    .with_results_by_partition(vec![result]),
            ),
        }
    }
    out
}
