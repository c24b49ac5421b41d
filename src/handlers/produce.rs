//! Produce (key 0), v0-v11. From v3 each partition carries exactly one RecordBatch (magic 2),
//! which is validated (length, magic, CRC-32C, record count), checked against the idempotent
//! producer state, given its offsets and appended as sent. v0-v2 carry the old message sets
//! of magic 0 or 1 (Kafka 0.8-0.10 clients): every CRC and length is checked, then the set
//! becomes one RecordBatch v2 compressed with its codec ([`message_set`]) and goes the same
//! way (a RecordBatch in v0-v2 is taken as it is). A topic whose `compression.type` names a
//! codec gets every batch of another codec recompressed to it ([`recompress`]) before the
//! append. acks=0 gets no response. A partition
//! listed twice gets INVALID_REQUEST for both entries and nothing is appended to it.
//!
//! Authorization (Kafka's): Write on each topic, else TOPIC_AUTHORIZATION_FAILED for its
//! partitions; a transactional id needs Write on it, else every partition gets
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED, and so does a request carrying a transactional batch
//! without a transactional id. Idempotent batches need nothing more (KIP-679).
//!
//! As Kafka's LogValidator, a client's control batch (only transaction coordinators write
//! markers) and a batch with a producer id but no base sequence are INVALID_RECORD for
//! their partition.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::group::offsets_topic;
use crate::log::batch::{self, BatchError};
use crate::log::message_set;
use crate::log::recompress;
use crate::log::record::MAX_DECOMPRESSED_BATCH;
use crate::log::{now_ms, TopicPartition};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::replication::replica::{AppendError, Replica};
use crate::security::acl::Operation;
use crate::topics;

const ZSTD: i16 = 4;
const DUPLICATE: &str = "The partition appears more than once in the request.";

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ProduceRequest,
) -> Option<ProduceResponse> {
    let version = header.api_version;
    let acks = req.acks;
    let now = now_ms();
    let duplicates = topics::duplicate_partitions(req.topic_data.iter().flat_map(|t| {
        t.partition_data
            .iter()
            .map(move |p| (t.name.as_str(), p.index))
    }));
    let acks_all = acks == -1;
    // Kafka's order: a transactional id needs Write on it (else the whole request is
    // refused), then each topic needs Write, before anything else is looked at.
    let authz = broker.authz(header);
    let transactional_batches = req
        .topic_data
        .iter()
        .flat_map(|t| &t.partition_data)
        .any(|p| p.records.as_deref().is_some_and(is_transactional));
    let transaction_denied = match &req.transactional_id {
        Some(id) => !authz.transactional_id(Operation::Write, id),
        None => transactional_batches,
    };
    let mut waits: Vec<(usize, usize, Commit)> = Vec::new();
    let mut responses: Vec<TopicProduceResponse> = req
        .topic_data
        .into_iter()
        .enumerate()
        .map(|(ti, topic)| {
            let name = topic.name.to_string();
            let topic_error = if transaction_denied {
                Some(ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
            } else if !authz.topic(Operation::Write, &name) {
                Some(ec::TOPIC_AUTHORIZATION_FAILED)
            } else if acks != 0 && acks != 1 && acks != -1 {
                Some(ec::INVALID_REQUIRED_ACKS)
            } else if let Err(e) = topics::validate_name(&name) {
                Some(e.code)
            } else if !broker.cluster.has_topic(&name) {
                Some(ec::UNKNOWN_TOPIC_OR_PARTITION)
            } else {
                None
            };
            let partitions = topic
                .partition_data
                .into_iter()
                .enumerate()
                .map(|(pi, p)| {
                    let base = PartitionProduceResponse::default().with_index(p.index);
                    if let Some(code) = topic_error {
                        return base.with_error_code(code);
                    }
                    if !duplicates.is_empty()
                        && duplicates.contains(&TopicPartition::new(name.as_str(), p.index))
                    {
                        // Appending either entry would be arbitrary: refuse both, as
                        // ListOffsets does.
                        return base
                            .with_error_code(ec::INVALID_REQUEST)
                            .with_error_message(
                                (version >= 8).then(|| StrBytes::from_static_str(DUPLICATE)),
                            );
                    }
                    let (response, commit) = produce_partition(
                        broker, &name, p.index, p.records, version, now, acks_all, base,
                    );
                    if let Some(c) = commit {
                        waits.push((ti, pi, c));
                    }
                    response
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_partition_responses(partitions)
        })
        .collect();
    if acks == 0 {
        // No answer is due; an error closes the connection, so that the producer notices
        // and refreshes its metadata (Kafka's broker does the same).
        let failed = responses
            .iter()
            .flat_map(|t| &t.partition_responses)
            .any(|p| p.error_code != ec::NONE);
        if failed {
            super::close_unanswered();
        }
        return None;
    }
    if acks_all && !waits.is_empty() {
        // Every partition waits until the same deadline: waiting in turn takes no longer
        // than waiting at once. The wait is not charged to request quotas.
        let wait_started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now()
            + std::time::Duration::from_millis(req.timeout_ms.max(0) as u64);
        for (ti, pi, c) in waits {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let code = match c
                .replica
                .wait_committed(c.required, c.leader_epoch, left)
                .await
            {
                // The replica went while the batch waited: a deleted topic is
                // UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers a pending produce then.
                ec::NOT_LEADER_OR_FOLLOWER => {
                    let tp = &c.replica.tp;
                    match broker.cluster.check_leader(&tp.topic, tp.partition) {
                        Err(ec::UNKNOWN_TOPIC_OR_PARTITION) => ec::UNKNOWN_TOPIC_OR_PARTITION,
                        _ => ec::NOT_LEADER_OR_FOLLOWER,
                    }
                }
                code => code,
            };
            if code != ec::NONE {
                responses[ti].partition_responses[pi].error_code = code;
            }
        }
        super::waited(wait_started.elapsed());
    }
    Some(
        ProduceResponse::default()
            .with_responses(responses)
            .with_throttle_time_ms(header.throttle_ms),
    )
}

/// An appended batch an acks=all producer waits for.
struct Commit {
    replica: Arc<Replica>,
    /// The high watermark that commits it.
    required: i64,
    leader_epoch: i32,
}

/// Appends one partition's batch; with acks=all, also what to wait for.
#[allow(clippy::too_many_arguments)]
fn produce_partition(
    broker: &Broker,
    topic: &str,
    index: i32,
    records: Option<Bytes>,
    version: i16,
    now: i64,
    acks_all: bool,
    base: PartitionProduceResponse,
) -> (PartitionProduceResponse, Option<Commit>) {
    if offsets_topic::is_internal(topic) && broker.partition_exists(topic, index) {
        // Kafka: "Cannot append to internal topic" (only the coordinators write there).
        return (base.with_error_code(ec::INVALID_TOPIC_EXCEPTION), None);
    }
    let replica = match broker.leader_replica(&TopicPartition::new(topic, index)) {
        Ok(r) => r,
        Err(code) => return (base.with_error_code(code), None),
    };
    let fail = |code: i16, msg: String| {
        // error_message exists from v8.
        let response = base
            .clone()
            .with_error_code(code)
            .with_error_message((version >= 8).then(|| StrBytes::from_string(msg)));
        (response, None)
    };
    let mut records = records.unwrap_or_default();
    // The magic byte sits at offset 16 in both formats.
    if version < 3 && records.get(16).is_some_and(|m| *m < 2) {
        let converted = message_set::parse(&records, MAX_DECOMPRESSED_BATCH)
            .and_then(|set| message_set::to_batch(&set));
        match converted {
            Ok(b) => records = Bytes::from(b),
            Err(e) => return fail(e.code(), e.to_string()),
        }
    }
    let batches = match batch::split_batches(records) {
        Ok(b) => b,
        Err(BatchError::BadMagic(m)) => {
            return fail(
                ec::INVALID_RECORD,
                format!("Produce requests with version {version} are only allowed to contain record batches with magic version 2 (got {m})."),
            )
        }
        Err(e @ BatchError::BadCodec(_)) => return fail(ec::INVALID_RECORD, e.to_string()),
        Err(e) => return fail(ec::CORRUPT_MESSAGE, e.to_string()),
    };
    let [(raw, h)] = &batches[..] else {
        return fail(
            ec::INVALID_RECORD,
            format!("Produce requests with version {version} must have exactly one record batch per partition."),
        );
    };
    if h.is_control() {
        return fail(
            ec::INVALID_RECORD,
            format!("Clients are not allowed to write control records in topic partition {topic}-{index}"),
        );
    }
    if h.has_producer_id() && h.base_sequence < 0 {
        return fail(
            ec::INVALID_RECORD,
            format!(
                "Invalid sequence number {} in record batch with producerId {} in topic partition {topic}-{index}",
                h.base_sequence, h.producer_id
            ),
        );
    }
    if version < 7 && h.codec() == ZSTD {
        return fail(
            ec::UNSUPPORTED_FOR_MESSAGE_FORMAT,
            "Produce requests with ZStandard compression need version 7 or later.".into(),
        );
    }
    // compression.type other than `producer`: stored with the topic's codec.
    let recompressed = match recompress::needed(h, replica.log.recompression()) {
        None => None,
        Some((codec, level)) => {
            match recompress::recompress(raw, h, codec, level)
                .and_then(|b| Ok((batch::validate(&b).map_err(|e| e.to_string())?, b)))
            {
                Ok(done) => Some(done),
                Err(e) => return fail(ec::CORRUPT_MESSAGE, e),
            }
        }
    };
    let (raw, h) = match &recompressed {
        Some((nh, b)) => (&b[..], nh),
        None => (&raw[..], h),
    };
    match replica.append_as_leader(raw, h, now, acks_all) {
        Ok((info, required, leader_epoch)) => {
            broker
                .metrics
                .produced(topic, h.record_count.max(0) as u64, raw.len() as u64);
            let response = base
                .with_base_offset(info.base_offset)
                .with_log_append_time_ms(info.log_append_time)
                .with_log_start_offset(if version >= 5 {
                    info.log_start_offset
                } else {
                    -1
                });
            let commit = acks_all.then(|| Commit {
                replica,
                required,
                leader_epoch,
            });
            (response, commit)
        }
        // Removed between the lookup and the append (a deletion): what a deleted topic gets.
        Err(AppendError::Removed) => (base.with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION), None),
        Err(AppendError::NotLeader) => (base.with_error_code(ec::NOT_LEADER_OR_FOLLOWER), None),
        Err(AppendError::NotEnoughReplicas) => fail(
            ec::NOT_ENOUGH_REPLICAS,
            "The in-sync replicas are fewer than min.insync.replicas.".into(),
        ),
        Err(AppendError::Log(e)) => fail(ec::for_log_error(&e), e.to_string()),
    }
}

/// Whether a partition's records start with a transactional RecordBatch (magic 2, attribute
/// bit 4); only the header bytes are read.
fn is_transactional(records: &[u8]) -> bool {
    records.get(16) == Some(&2)
        && records
            .get(batch::ATTR_POS + 1)
            .is_some_and(|low| low & 0x10 != 0)
}
