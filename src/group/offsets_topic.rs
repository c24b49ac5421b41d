//! `__consumer_offsets`, the internal topic that holds every group's state: its settings and
//! creation, Kafka's placement of a group on one of its partitions, and the thin I/O between
//! the group coordinator and the partition logs (appending records as the partition's leader
//! and waiting until they are committed; reading a partition back when its leadership, and
//! with it the coordination of its groups, arrives here).
//!
//! Invariants:
//! - a group lives on partition `abs(javaHashCode(group)) % partitions` ([`partition_for`],
//!   Kafka's `Utils.abs`: `Integer.MIN_VALUE` maps to 0), so weir and Kafka's tools agree;
//! - the coordinator of a group is the leader of that partition; it appends with acks=all
//!   semantics ([`append`] then [`wait_committed`]) and answers only once the high watermark
//!   has passed the records;
//! - errors reach clients as Kafka's group coordinator maps them ([`normalize`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::broker::Broker;
use crate::cluster::decide::CreateTopic;
use crate::cluster::image::java_hash;
use crate::cluster::image::TopicMeta;
use crate::log::batch::{self, BatchHeader};
use crate::log::record::{parse_records, records_of};
use crate::log::{now_ms, TopicPartition};
use crate::protocol::error_code as ec;
use crate::replication::replica::AppendError;
use crate::replication::Replica;
use crate::topics::{self, TopicError};

use super::load::Loader;

/// The topic's name.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// One record for the topic: a key and a value (`None`: a tombstone).
pub type KeyValue = (Vec<u8>, Option<Vec<u8>>);

/// Whether `topic` is one of Kafka's internal topics (`Topic.isInternal`: the group, the
/// transaction and the share-group state topics; Metadata's `is_internal`): clients may read
/// them but not produce to them, delete them or add partitions to them. Another name
/// starting with `__` is an ordinary topic, as in Kafka.
pub fn is_internal(topic: &str) -> bool {
    matches!(
        topic,
        OFFSETS_TOPIC | "__transaction_state" | "__share_group_state"
    )
}

/// The partition of `__consumer_offsets` that holds `group`: Kafka's
/// `Utils.abs(group.hashCode()) % partitions`.
pub fn partition_for(group: &str, partitions: i32) -> i32 {
    let h = java_hash(group);
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions.max(1)
}

/// Settings of the topic and of the coordinator's use of it (Kafka's broker names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetsTopicConfig {
    /// `offsets.topic.num.partitions`: used when the topic is created; afterwards the
    /// topic's own partition count places groups.
    pub num_partitions: i32,
    /// `offsets.topic.replication.factor`: capped at the live brokers when the topic is
    /// created (weir's default for small clusters; Kafka refuses to create it instead).
    pub replication_factor: i16,
    /// `offsets.topic.segment.bytes`.
    pub segment_bytes: u64,
    /// `offsets.commit.timeout.ms`: how long a commit waits for the replicas.
    pub commit_timeout_ms: u64,
    /// `offsets.retention.minutes`, in ms: offsets of a group without members expire this
    /// long after their commit (or at their own expire timestamp, OffsetCommit v1).
    pub retention_ms: i64,
    /// `offsets.retention.check.interval.ms`.
    pub retention_check_interval_ms: u64,
    /// `offsets.commit.value.version` (weir's own): the OffsetCommitValue version written
    /// without an expire timestamp: 3 (Kafka 2.1-3.x, what monitoring tools such as Burrow
    /// decode) or 4 (Kafka 4.1, flexible, with the topic id).
    pub value_version: i16,
}

impl Default for OffsetsTopicConfig {
    fn default() -> Self {
        OffsetsTopicConfig {
            num_partitions: 50,
            replication_factor: 3,
            segment_bytes: 100 * 1024 * 1024,
            commit_timeout_ms: 5_000,
            retention_ms: super::DEFAULT_OFFSETS_RETENTION_MS,
            retention_check_interval_ms: 600_000,
            value_version: 3,
        }
    }
}

/// Creates the topic if it does not exist yet (Kafka creates it on the first FindCoordinator
/// for a group): `offsets.topic.num.partitions` partitions, the replication factor capped at
/// the live brokers, compacted, `offsets.topic.segment.bytes` segments. Waits until this
/// broker has applied it.
pub async fn ensure_topic(broker: &Broker) -> Result<(), TopicError> {
    if broker.cluster.has_topic(OFFSETS_TOPIC) {
        return Ok(());
    }
    let c = broker.groups.offsets;
    let rf = capped_replication_factor(broker, c.replication_factor);
    let configs = vec![
        ("cleanup.policy", "compact".to_string()),
        ("segment.bytes", c.segment_bytes.to_string()),
    ];
    create_internal(broker, OFFSETS_TOPIC, c.num_partitions, rf, configs).await
}

/// An internal topic's replication factor: the configured one (at least 1) capped at the
/// live brokers, as Kafka creates its internal topics on a small cluster.
pub fn capped_replication_factor(broker: &Broker, configured: i16) -> i16 {
    let live = broker.cluster.live_brokers().len().max(1);
    (configured.max(1) as usize).min(live) as i16
}

/// Creates an internal topic with these settings; one that a concurrent request created
/// first is success.
pub async fn create_internal(
    broker: &Broker,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: Vec<(&str, String)>,
) -> Result<(), TopicError> {
    let new = CreateTopic {
        name: name.to_string(),
        partitions,
        replication_factor,
        assignments: None,
        configs: configs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    };
    match topics::create(broker, new, false).await {
        Ok(_) => {
            tracing::info!(partitions, replication_factor, "created {name}");
            Ok(())
        }
        Err(e) if e.code == ec::TOPIC_ALREADY_EXISTS => Ok(()),
        Err(e) => Err(e),
    }
}

/// The partitions of an internal topic this broker leads, with their leader epochs, and the
/// topic as the image holds it. Until this process is registered, the leaderships in the
/// image are its previous incarnation's: its registration moves them to a new epoch (a
/// restart is an unclean shutdown), so none is reported before that.
pub fn led_partitions(broker: &Broker, name: &str) -> (Option<Arc<TopicMeta>>, BTreeMap<i32, i32>) {
    let mut led = BTreeMap::new();
    let topic = broker.cluster.topic(name);
    let registered = broker.cluster.is_registered();
    if let Some(t) = topic.as_ref().filter(|_| registered) {
        for p in 0..t.partitions.len() as i32 {
            let tp = TopicPartition::new(name, p);
            if let Some(epoch) = broker.replicas.get(&tp).and_then(|r| r.leader_epoch()) {
                led.insert(p, epoch);
            }
        }
    }
    (topic, led)
}

/// Reads a partition of an internal topic on the blocking pool, retrying every second a
/// read that fails, while `still_held` says the partition is still to be loaded here.
/// `None`: leadership moved, the replica went, or the broker is shutting down.
pub async fn read_while_held<T: Send + 'static>(
    broker: &Broker,
    tp: &TopicPartition,
    still_held: impl Fn(&Broker) -> bool,
    read: fn(&Replica) -> Result<T, crate::log::LogError>,
) -> Option<T> {
    loop {
        if !still_held(broker) || broker.shutdown.is_cancelled() {
            return None;
        }
        let replica = broker.replicas.get(tp)?;
        let partition = tp.partition;
        match tokio::task::spawn_blocking(move || read(&replica)).await {
            Ok(Ok(done)) => return Some(done),
            Ok(Err(e)) => tracing::error!(partition, error = %e, "loading {}", tp.topic),
            Err(e) => tracing::error!(partition, error = %e, "loading {}", tp.topic),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Records appended as leader, to wait for.
pub struct Appended {
    replica: Arc<Replica>,
    /// The offset of the first record.
    pub base_offset: i64,
    required: i64,
    leader_epoch: i32,
}

/// Kafka's group coordinator's mapping of a failed write to what its clients get
/// (`CoordinatorRuntime`'s normalisation): the partition is gone or too few replicas are in
/// sync or the write timed out -> COORDINATOR_NOT_AVAILABLE (retry here); leadership moved ->
/// NOT_COORDINATOR (find the coordinator again); too large -> INVALID_COMMIT_OFFSET_SIZE.
pub fn normalize(code: i16) -> i16 {
    match code {
        ec::UNKNOWN_TOPIC_OR_PARTITION
        | ec::NOT_ENOUGH_REPLICAS
        | ec::NOT_ENOUGH_REPLICAS_AFTER_APPEND
        | ec::REQUEST_TIMED_OUT => ec::COORDINATOR_NOT_AVAILABLE,
        ec::NOT_LEADER_OR_FOLLOWER | ec::KAFKA_STORAGE_ERROR | ec::FENCED_LEADER_EPOCH => {
            ec::NOT_COORDINATOR
        }
        ec::MESSAGE_TOO_LARGE | ec::RECORD_LIST_TOO_LARGE | ec::INVALID_FETCH_SIZE => {
            ec::INVALID_COMMIT_OFFSET_SIZE
        }
        other => other,
    }
}

/// Appends `records` as one uncompressed batch to `partition`, which this broker must lead
/// in `leader_epoch` (else NOT_COORDINATOR). Refused before writing when the ISR is below
/// `min.insync.replicas`. Errors are already [`normalize`]d.
pub fn append(
    broker: &Broker,
    partition: i32,
    leader_epoch: i32,
    records: &[KeyValue],
) -> Result<Appended, i16> {
    let raw = batch::encode_batch(records, now_ms());
    append_batch(broker, OFFSETS_TOPIC, partition, leader_epoch, &raw)
}

/// Appends one encoded batch (`raw`, base offset 0) to a partition of an internal topic
/// that this broker leads in `leader_epoch` (else NOT_COORDINATOR), as a coordinator does:
/// refused before writing when the ISR is below `min.insync.replicas`; errors
/// [`normalize`]d. The group and the transaction coordinators share it.
pub fn append_batch(
    broker: &Broker,
    topic: &str,
    partition: i32,
    leader_epoch: i32,
    raw: &[u8],
) -> Result<Appended, i16> {
    let tp = TopicPartition::new(topic, partition);
    let replica = broker.replicas.leader(&tp).map_err(normalize)?;
    if replica.leader_epoch() != Some(leader_epoch) {
        return Err(ec::NOT_COORDINATOR);
    }
    let h = batch::validate(raw).map_err(|_| ec::UNKNOWN_SERVER_ERROR)?;
    match replica.append_as_leader(raw, &h, now_ms(), true) {
        Ok((info, required, epoch)) if epoch == leader_epoch => Ok(Appended {
            replica,
            base_offset: info.base_offset,
            required,
            leader_epoch,
        }),
        Ok(_) | Err(AppendError::NotLeader) | Err(AppendError::Removed) => Err(ec::NOT_COORDINATOR),
        Err(AppendError::NotEnoughReplicas) => Err(ec::COORDINATOR_NOT_AVAILABLE),
        Err(AppendError::Log(e)) => Err(normalize(ec::for_log_error(&e))),
    }
}

/// Waits until appended records are committed (the high watermark passed them), at most
/// `offsets.commit.timeout.ms`. Errors are [`normalize`]d.
pub async fn wait_committed(broker: &Broker, a: &Appended) -> Result<(), i16> {
    let timeout = Duration::from_millis(broker.groups.offsets.commit_timeout_ms);
    wait_committed_within(a, timeout).await
}

/// [`wait_committed`] with its own bound.
pub async fn wait_committed_within(a: &Appended, timeout: Duration) -> Result<(), i16> {
    match a
        .replica
        .wait_committed(a.required, a.leader_epoch, timeout)
        .await
    {
        ec::NONE => Ok(()),
        code => Err(normalize(code)),
    }
}

/// What loading one partition found and cost.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadStats {
    /// The log end the read stopped at: later records were not read.
    pub end: i64,
    pub batches: u64,
    pub records: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Reads a partition this broker leads from its log start to its log end (what the leader
/// holds is what will be committed: a leader never truncates) into a [`Loader`]. The records
/// of a transactional batch (TxnOffsetCommit) wait for their producer's marker: a commit
/// applies them, an abort drops them, and those still waiting at the end stay pending. A
/// batch that cannot be decompressed or parsed is counted as damaged.
pub fn read_partition(replica: &Replica) -> Result<(Loader, LoadStats), crate::log::LogError> {
    let mut loader = Loader::default();
    let stats = scan_partition(replica, |h, records| match records {
        // A transaction's end: its offsets apply (commit) or are dropped (abort).
        Scanned::Marker(m) => loader.end_txn(h.producer_id, m.commit),
        Scanned::Records(views) => {
            for v in views {
                match v.key {
                    Some(key) if h.is_transactional() => loader.stage(h.producer_id, key, v.value),
                    Some(key) => loader.apply(key, v.value),
                    None => loader.damaged += 1,
                }
            }
        }
        Scanned::Damaged => loader.damaged += 1,
    })?;
    Ok((loader, stats))
}

/// What [`scan_partition`] found in one batch.
pub enum Scanned<'a> {
    /// A transaction marker (other control batches are skipped).
    Marker(batch::ControlMarker),
    /// The batch's records, in order.
    Records(Vec<crate::log::record::RecordView<'a>>),
    /// A batch that could not be decompressed or parsed.
    Damaged,
}

/// Reads an internal topic's partition that this broker leads, from its log start to its log
/// end, handing each batch to `on_batch` in log order. Shared by the group and the
/// transaction coordinators' loads.
pub fn scan_partition(
    replica: &Replica,
    mut on_batch: impl FnMut(&BatchHeader, Scanned<'_>),
) -> Result<LoadStats, crate::log::LogError> {
    const CHUNK: usize = 1024 * 1024;
    let started = Instant::now();
    let mut stats = LoadStats::default();
    let offsets = replica.log.offsets()?;
    let end = offsets.log_end;
    stats.end = end;
    let mut next = offsets.log_start;
    while next < end {
        let read = replica.log.read(next, CHUNK, true, end)?;
        if read.records.is_empty() {
            tracing::warn!(
                partition = %replica.tp,
                offset = next,
                end,
                "nothing readable before the log end; loaded what was read"
            );
            break;
        }
        let mut buf = &read.records[..];
        while buf.len() >= batch::HEADER_LEN {
            let Ok(h) = BatchHeader::parse(buf) else {
                break;
            };
            let len = h.total_len();
            if len > buf.len() {
                break;
            }
            let raw = &buf[..len];
            buf = &buf[len..];
            stats.batches += 1;
            stats.bytes += len as u64;
            next = next.max(h.last_offset() + 1);
            if h.is_control() {
                if let Some(m) = batch::parse_control(raw, &h) {
                    on_batch(&h, Scanned::Marker(m));
                }
                continue;
            }
            let records = records_of(raw, &h);
            match records.as_deref().map(|r| parse_records(r, h.record_count)) {
                Some(Ok(views)) => {
                    stats.records += views.len() as u64;
                    on_batch(&h, Scanned::Records(views));
                }
                _ => on_batch(&h, Scanned::Damaged),
            }
        }
    }
    stats.elapsed = started.elapsed();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_follows_kafkas_abs_hash_mod() {
        // Kafka: Utils.abs("group".hashCode()) % 50; "group".hashCode() == 98629247.
        assert_eq!(java_hash("group"), 98_629_247);
        assert_eq!(partition_for("group", 50), 98_629_247 % 50);
        // A negative hash: Math.abs.
        let h = java_hash("console-consumer-1");
        assert_eq!(partition_for("console-consumer-1", 50), h.abs() % 50);
        assert_eq!(partition_for("", 50), 0);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Utils.abs gives 0.
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
        assert_eq!(partition_for("polygenelubricants", 50), 0);
        assert_eq!(partition_for("g", 1), 0);
    }

    #[test]
    fn write_errors_map_as_kafkas_coordinator_maps_them() {
        let table = [
            (ec::NOT_ENOUGH_REPLICAS, ec::COORDINATOR_NOT_AVAILABLE),
            (
                ec::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
                ec::COORDINATOR_NOT_AVAILABLE,
            ),
            (ec::REQUEST_TIMED_OUT, ec::COORDINATOR_NOT_AVAILABLE),
            (
                ec::UNKNOWN_TOPIC_OR_PARTITION,
                ec::COORDINATOR_NOT_AVAILABLE,
            ),
            (ec::NOT_LEADER_OR_FOLLOWER, ec::NOT_COORDINATOR),
            (ec::KAFKA_STORAGE_ERROR, ec::NOT_COORDINATOR),
            (ec::MESSAGE_TOO_LARGE, ec::INVALID_COMMIT_OFFSET_SIZE),
            (ec::RECORD_LIST_TOO_LARGE, ec::INVALID_COMMIT_OFFSET_SIZE),
            (ec::NONE, ec::NONE),
        ];
        for (from, to) in table {
            assert_eq!(normalize(from), to, "{from}");
        }
    }
}
