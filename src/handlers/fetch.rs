//! Fetch (key 1), v0-v17: whole stored batches, untouched, per partition (v0-v3: converted
//! down to the magic 0 or 1 message sets those clients read, see
//! [`crate::log::message_set::down_convert`]; zstd data answers UNSUPPORTED_COMPRESSION_TYPE
//! there); topic ids from
//! v13; `max_wait_ms`/`min_bytes` long polling woken by appends and high watermark moves.
//! Consumers read up to the high watermark (READ_UNCOMMITTED) or the last stable offset
//! (READ_COMMITTED, v4+: then with the aborted transactions overlapping the batches returned,
//! from the fetch offset to the end of the last one, as Kafka's `collectAbortedTransactions`;
//! an empty list when there are none, null for READ_UNCOMMITTED); every v4+ answer carries
//! the real last stable offset. A follower (a fetch naming its replica id) reads up to the
//! log end, and its fetch offset is its progress (see [`crate::replication`]). The leader
//! epoch checks of KIP-320 and the diverging epoch of v12+ apply to both; `max_bytes` for
//! the whole response and `partition_max_bytes` per partition, with at least one whole batch
//! for the first non-empty partition (KIP-74). No fetch sessions: `session_id` is always 0.
//!
//! As on Kafka, a partition named twice is fetched once, where it was first named, with the
//! offset and limit it was named with last; the response lists partitions in that order,
//! one topic entry per run of consecutive partitions of the same topic.
//!
//! Authorization (Kafka's): a consumer needs Read on each topic, a follower ClusterAction on
//! the cluster; refused partitions get TOPIC_AUTHORIZATION_FAILED.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, EpochEndOffset, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse, ProducerId, TopicName};
use kafka_protocol::protocol::buf::ByteBufMut;
use kafka_protocol::protocol::{Encodable, StrBytes};
use tokio::time::Instant;
use uuid::Uuid;

use crate::broker::Broker;
use crate::log::message_set;
use crate::log::partition::{FileSlice, MAX_READ_BYTES};
use crate::log::{end_of_batches, now_ms, Partition, TopicPartition};
use crate::protocol::error_code as ec;
use crate::protocol::outgoing::{Payload, SPLICE_MIN};
use crate::protocol::request::RequestHeader;
use crate::replication::Replica;
use crate::security::acl::Operation;

/// The longest a fetch may wait, whatever the client asks.
const MAX_WAIT: Duration = Duration::from_secs(60);
const READ_COMMITTED: i8 = 1;

/// One requested partition, resolved to its log (or an error code).
struct Target {
    /// The topic as the request names it and the response echoes it: by `topic` below v13
    /// (`topic_id` nil), by `topic_id` from v13 (`topic` empty).
    topic: TopicName,
    topic_id: Uuid,
    partition: i32,
    fetch_offset: i64,
    max_bytes: usize,
    log: Result<Arc<Partition>, i16>,
    /// The leader's epoch and its end offset when the fetcher's last fetched epoch is not
    /// on this log up to its fetch offset (KIP-595's `diverging_epoch`): nothing is read.
    diverging: Option<(i32, i64)>,
    /// A follower's throttled replica (see [`crate::replication::quota`]): answered without
    /// records while the leader's replication quota is exceeded; what it reads counts.
    throttled: bool,
}

/// A Fetch response, and its record sets worth splicing into the output rather than copying
/// (in encoding order; see [`crate::protocol::outgoing`]). Encodes as the response alone.
#[derive(Debug)]
pub struct Fetched {
    pub response: FetchResponse,
    pub payloads: Vec<Payload>,
    /// A follower's fetch (exempt from client quotas).
    pub from_follower: bool,
}

impl Encodable for Fetched {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> anyhow::Result<()> {
        self.response.encode(buf, version)
    }

    fn compute_size(&self, version: i16) -> anyhow::Result<usize> {
        self.response.compute_size(version)
    }
}

pub async fn handle(broker: &Arc<Broker>, header: &RequestHeader, req: FetchRequest) -> Fetched {
    let version = header.api_version;
    // A follower names itself: `replica_id` below v15, `replica_state` from it.
    let replica_id = if version >= 15 {
        req.replica_state.replica_id.0
    } else {
        req.replica_id.0
    };
    let now = now_ms();
    // Kafka's checks: a follower needs ClusterAction on the cluster, a consumer Read on
    // each topic; refused partitions get TOPIC_AUTHORIZATION_FAILED (an unknown topic id
    // stays UNKNOWN_TOPIC_ID).
    let authz = broker.authz(header);
    let follower_allowed = replica_id < 0 || authz.cluster(Operation::ClusterAction);
    let mut targets = Vec::new();
    for topic in &req.topics {
        let name: Result<String, i16> = if version >= 13 {
            broker
                .cluster
                .topic_by_id(topic.topic_id)
                .map(|t| t.name.clone())
                .ok_or(ec::UNKNOWN_TOPIC_ID)
        } else {
            Ok(topic.topic.to_string())
        };
        let name = name.and_then(|n| {
            let allowed = if replica_id >= 0 {
                follower_allowed
            } else {
                authz.topic(Operation::Read, &n)
            };
            if allowed {
                Ok(n)
            } else {
                Err(ec::TOPIC_AUTHORIZATION_FAILED)
            }
        });
        for p in &topic.partitions {
            let replica = name.clone().and_then(|n| {
                broker
                    .leader_replica(&TopicPartition::new(n, p.partition))
                    .map_err(|code| match code {
                        ec::UNKNOWN_TOPIC_OR_PARTITION if version >= 13 => ec::UNKNOWN_TOPIC_ID,
                        code => code,
                    })
            });
            let (log, diverging, throttled) = match replica {
                Ok(r) => match leader_checks(broker, &r, p, replica_id, version, now) {
                    Ok((diverging, throttled)) => (Ok(r.log.clone()), diverging, throttled),
                    Err(code) => (Err(code), None, false),
                },
                Err(code) => (Err(code), None, false),
            };
            targets.push(Target {
                topic: if version >= 13 {
                    TopicName(StrBytes::default())
                } else {
                    topic.topic.clone()
                },
                topic_id: if version >= 13 {
                    topic.topic_id
                } else {
                    Uuid::nil()
                },
                partition: p.partition,
                fetch_offset: p.fetch_offset,
                max_bytes: p.partition_max_bytes.max(0) as usize,
                log,
                diverging,
                throttled,
            });
        }
    }
    collapse_duplicates(&mut targets);
    // The whole response is bounded like Kafka's broker `fetch.max.bytes`, whatever the
    // client asks (0 or less: no limit of its own).
    let max_bytes = if req.max_bytes <= 0 {
        MAX_READ_BYTES
    } else {
        (req.max_bytes as usize).min(MAX_READ_BYTES)
    };
    let min_bytes = req.min_bytes.max(0) as usize;
    let wait = Duration::from_millis(req.max_wait_ms.max(0) as u64).min(MAX_WAIT);
    let deadline = Instant::now() + wait;
    let read_committed = req.isolation_level == READ_COMMITTED;

    let quota = &broker.replicas.quotas.leader;
    let any_throttled = targets.iter().any(|t| t.throttled);
    let logs: Vec<Arc<Partition>> = targets.iter().filter_map(|t| t.log.clone().ok()).collect();
    let started = Instant::now();
    let parts = loop {
        // Register for append notifications before reading, so no append is missed.
        let mut notified: Vec<_> = logs
            .iter()
            .map(|p| Box::pin(p.appended.notified()))
            .collect();
        for n in notified.iter_mut() {
            n.as_mut().enable();
        }
        let over_quota = any_throttled && quota.exceeded(now_ms());
        let (parts, total, errors) = read_all(
            &targets,
            max_bytes,
            read_committed,
            version,
            replica_id >= 0,
            over_quota,
        );
        if total >= min_bytes || errors || Instant::now() >= deadline {
            tracing::trace!(
                replica_id,
                bytes = total,
                waited_ms = started.elapsed().as_millis() as u64,
                "fetch answered"
            );
            break parts;
        }
        let any_append = std::future::poll_fn(|cx| {
            for n in notified.iter_mut() {
                if n.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        });
        let wait_started = Instant::now();
        tokio::select! {
            _ = any_append => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = broker.shutdown.cancelled() => {}
        }
        // Waiting for records is not charged to request quotas.
        super::waited(wait_started.elapsed());
        if broker.shutdown.is_cancelled() {
            break read_all(
                &targets,
                max_bytes,
                read_committed,
                version,
                replica_id >= 0,
                any_throttled && quota.exceeded(now_ms()),
            )
            .0;
        }
    };
    if any_throttled {
        let bytes: usize = targets
            .iter()
            .zip(&parts)
            .filter(|(t, _)| t.throttled)
            .map(|(_, (data, _))| data.records.as_ref().map_or(0, |r| r.len()))
            .sum();
        quota.record(now_ms(), bytes);
    }
    // Targets are in request order: the order the response encodes them.
    let mut topics_out: Vec<FetchableTopicResponse> = Vec::with_capacity(req.topics.len());
    let mut payloads = Vec::new();
    for (target, (data, file)) in targets.iter().zip(parts) {
        if let Some(records) = data.records.as_ref().filter(|r| r.len() >= SPLICE_MIN) {
            payloads.push(Payload {
                bytes: records.clone(),
                file,
            });
        }
        match topics_out.last_mut() {
            Some(last) if last.topic == target.topic && last.topic_id == target.topic_id => {
                last.partitions.push(data)
            }
            _ => topics_out.push(
                FetchableTopicResponse::default()
                    .with_topic(target.topic.clone())
                    .with_topic_id(target.topic_id)
                    .with_partitions(vec![data]),
            ),
        }
    }
    if replica_id < 0 {
        // consumer_byte_rate: the records answered count; a client over its quota gets no
        // records and the throttle (Kafka's throttled response), and what it did not get
        // is not counted.
        let bytes: usize = payloads_len(&topics_out);
        let throttle = broker.quota_throttle(
            &header.principal,
            header.client_id.as_deref(),
            crate::quota::Kind::Fetch,
            bytes as f64,
        );
        if throttle > 0 {
            return Fetched {
                response: FetchResponse::default()
                    .with_session_id(0)
                    .with_throttle_time_ms(throttle.min(i32::MAX as i64) as i32),
                payloads: Vec::new(),
                from_follower: false,
            };
        }
    }
    Fetched {
        response: FetchResponse::default()
            .with_session_id(0)
            .with_responses(topics_out),
        payloads,
        from_follower: replica_id >= 0,
    }
}

/// The record bytes of a response.
fn payloads_len(topics: &[FetchableTopicResponse]) -> usize {
    topics
        .iter()
        .flat_map(|t| &t.partitions)
        .map(|p| p.records.as_ref().map_or(0, |r| r.len()))
        .sum()
}

/// The leader's checks of one partition's fetch: the client's `current_leader_epoch`
/// (KIP-320, v9+); whether its last fetched epoch diverges from this log (v12+; then the
/// answer is the diverging epoch); and, for a follower, its progress, which may move the
/// high watermark and add it to the ISR, and whether its fetch is throttled.
fn leader_checks(
    broker: &Arc<Broker>,
    replica: &Arc<Replica>,
    p: &FetchPartition,
    replica_id: i32,
    version: i16,
    now: i64,
) -> Result<(Option<(i32, i64)>, bool), i16> {
    if version >= 9 {
        replica.check_epoch(p.current_leader_epoch)?;
    }
    if version >= 12 && p.last_fetched_epoch >= 0 {
        let (epoch, end) = replica
            .log
            .end_offset_for_epoch(p.last_fetched_epoch)
            .map_err(|e| ec::for_log_error(&e))?;
        if epoch < p.last_fetched_epoch || end < p.fetch_offset {
            return Ok((Some((epoch, end)), false));
        }
    }
    if replica_id < 0 {
        return Ok((None, false));
    }
    let (proposal, throttled) = replica.on_follower_fetch(replica_id, p.fetch_offset, now)?;
    if let Some(proposal) = proposal {
        crate::replication::propose(broker, replica.clone(), proposal);
    }
    Ok((None, throttled))
}

/// Fetches a partition named more than once in the request only once: where it was first
/// named, with the offset and limit it was named with last (Kafka keeps the request's
/// partitions in an insertion-ordered map).
fn collapse_duplicates(targets: &mut Vec<Target>) {
    if !has_duplicates(targets) {
        return;
    }
    let mut first: HashMap<(TopicName, Uuid, i32), usize> = HashMap::new();
    let mut keep: Vec<Target> = Vec::with_capacity(targets.len());
    for t in targets.drain(..) {
        match first.entry((t.topic.clone(), t.topic_id, t.partition)) {
            Entry::Occupied(at) => {
                let earlier = &mut keep[*at.get()];
                earlier.fetch_offset = t.fetch_offset;
                earlier.max_bytes = t.max_bytes;
            }
            Entry::Vacant(at) => {
                at.insert(keep.len());
                keep.push(t);
            }
        }
    }
    *targets = keep;
}

/// Whether any partition is named twice, without allocating for the usual few partitions.
fn has_duplicates(targets: &[Target]) -> bool {
    fn key(t: &Target) -> (&TopicName, Uuid, i32) {
        (&t.topic, t.topic_id, t.partition)
    }
    if targets.len() <= 16 {
        return (1..targets.len()).any(|i| targets[..i].iter().any(|b| key(b) == key(&targets[i])));
    }
    let mut seen = HashSet::with_capacity(targets.len());
    !targets.iter().all(|t| seen.insert(key(t)))
}

/// Reads every target once. Returns the partition data (with the segment file and position
/// its records came from), the bytes of records gathered, and whether any partition has an
/// error (which ends a long poll at once).
/// A follower reads up to the log end, a consumer up to the high watermark. Throttled
/// targets get no records while `over_quota`.
fn read_all(
    targets: &[Target],
    max_bytes: usize,
    read_committed: bool,
    version: i16,
    follower: bool,
    over_quota: bool,
) -> (Vec<(PartitionData, Option<FileSlice>)>, usize, bool) {
    // log_start_offset exists from v5.
    let lso = |o: i64| if version >= 5 { o } else { -1 };
    let mut total = 0usize;
    let mut errors = false;
    let parts = targets
        .iter()
        .map(|t| {
            let base = PartitionData::default()
                .with_partition_index(t.partition)
                .with_aborted_transactions(if read_committed {
                    Some(Vec::new())
                } else {
                    None
                });
            let log = match &t.log {
                Ok(l) => l,
                Err(code) => {
                    errors = true;
                    return (base.with_error_code(*code).with_high_watermark(-1), None);
                }
            };
            if let Some((epoch, end)) = t.diverging {
                errors = true;
                let (start, hw) = log
                    .offsets()
                    .map(|o| (o.log_start, o.high_watermark))
                    .unwrap_or((-1, -1));
                let data = base
                    .with_high_watermark(hw)
                    .with_last_stable_offset(if hw < 0 { hw } else { log.last_stable_offset() })
                    .with_log_start_offset(lso(start))
                    .with_diverging_epoch(
                        EpochEndOffset::default()
                            .with_epoch(epoch)
                            .with_end_offset(end),
                    )
                    .with_records(Some(Bytes::new()));
                return (data, None);
            }
            let remaining = max_bytes.saturating_sub(total);
            let held = t.throttled && over_quota;
            let limit = if held { 0 } else { t.max_bytes.min(remaining) };
            let max_offset = if follower {
                i64::MAX
            } else if read_committed {
                log.last_stable_offset()
            } else {
                log.high_watermark()
            };
            match log.read(t.fetch_offset, limit, total == 0 && !held, max_offset) {
                Ok(read) if version < 4 && !read.records.is_empty() => {
                    // Clients of v0-v3 read magic 0 (v0-v1) or 1 (v2-v3) message sets.
                    let magic = if version < 2 { 0 } else { 1 };
                    let data = base
                        .with_high_watermark(read.high_watermark)
                        .with_last_stable_offset(read.last_stable_offset)
                        .with_log_start_offset(lso(read.log_start_offset));
                    match message_set::down_convert(&read.records, magic, t.fetch_offset, limit) {
                        Ok(set) => {
                            total += set.len();
                            (data.with_records(Some(Bytes::from(set))), None)
                        }
                        Err(message_set::DownError::Zstd) => {
                            errors = true;
                            let data = data
                                .with_error_code(ec::UNSUPPORTED_COMPRESSION_TYPE)
                                .with_records(Some(Bytes::new()));
                            (data, None)
                        }
                    }
                }
                Ok(read) => {
                    let aborted = match (read_committed && !follower, end_of_batches(&read.records))
                    {
                        (true, Some(upper)) => {
                            match log.aborted_transactions(t.fetch_offset, upper) {
                                Ok(found) => Some(aborted_list(found)),
                                Err(e) => {
                                    errors = true;
                                    let data = base
                                        .with_error_code(ec::for_log_error(&e))
                                        .with_high_watermark(read.high_watermark)
                                        .with_last_stable_offset(read.last_stable_offset)
                                        .with_log_start_offset(lso(read.log_start_offset));
                                    return (data, None);
                                }
                            }
                        }
                        _ => None,
                    };
                    total += read.records.len();
                    let mut data = base
                        .with_high_watermark(read.high_watermark)
                        .with_last_stable_offset(read.last_stable_offset)
                        .with_log_start_offset(lso(read.log_start_offset))
                        .with_records(Some(read.records));
                    if aborted.is_some() {
                        data.aborted_transactions = aborted;
                    }
                    (data, read.file)
                }
                Err(e) => {
                    errors = true;
                    let (start, hw) = log
                        .offsets()
                        .map_or((-1, -1), |o| (o.log_start, o.high_watermark));
                    let data = base
                        .with_error_code(ec::for_log_error(&e))
                        .with_high_watermark(hw)
                        .with_last_stable_offset(if hw < 0 { hw } else { log.last_stable_offset() })
                        .with_log_start_offset(lso(start));
                    (data, None)
                }
            }
        })
        .collect();
    (parts, total, errors)
}

/// The response form of (producer id, first offset) pairs.
fn aborted_list(found: Vec<(i64, i64)>) -> Vec<AbortedTransaction> {
    found
        .into_iter()
        .map(|(producer_id, first_offset)| {
            AbortedTransaction::default()
                .with_producer_id(ProducerId(producer_id))
                .with_first_offset(first_offset)
        })
        .collect()
}
