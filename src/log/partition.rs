//! One partition's log: its segments, offsets, producer state and append notifications.
//!
//! Invariants:
//! - `segments` is sorted by base offset and never empty; the last one is active.
//! - `log_end_offset` == the active segment's `next_offset`.
//! - `log_start_offset <= high_watermark <= log_end_offset` whenever the lock is free: the high
//!   watermark is only written under the lock, clamped (see [`Partition::set_high_watermark`]),
//!   and every operation that moves the log start or end clamps it. The log module never
//!   advances it by itself: the replication layer (or, on one node, the produce path) does.
//! - The leader epoch cache never names an offset at or past the log end (every truncation
//!   cuts it, recovery too) and is persisted whenever it changes (see [`super::epochs`]).
//! - Every byte below a segment's `size` is a whole, validated batch; readers take a snapshot
//!   of (file, size) under the lock and read without it.
//! - A failed write (a full disk, a read-only file system) fails only that append, with
//!   KAFKA_STORAGE_ERROR: the segment's state is unchanged (see [`Segment::append`]), reads go
//!   on, and appends succeed again once the disk has room.
//! - A failed fsync latches the partition failed: after one, the kernel may have dropped the
//!   unwritten pages, so what the file holds is unknown. Every later append and read gets
//!   KAFKA_STORAGE_ERROR until restart, when recovery validates the tail.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

use super::batch::{self, BatchHeader};
use super::durability::{read_offset_file, Durability, RECOVERY_POINT_FILE};
use super::epochs::LeaderEpochCache;
use super::producer_state::{ProducerError, ProducerStateTable, SequenceCheck};
use super::segment::{self, Segment};
use crate::config::{LogConfig, TimestampType};

/// A topic name and partition index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }

    /// The partition's directory name, `<topic>-<partition>`.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("storage error on {0}")]
    Storage(String),
    #[error("{0} has been deleted")]
    Deleted(String),
    /// A batch the log refuses to store (Kafka's InvalidRecordException): a control batch
    /// that is no transaction marker.
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    #[error("offset {offset} out of range [{start}, {end}]")]
    OffsetOutOfRange { offset: i64, start: i64, end: i64 },
    #[error(transparent)]
    Producer(#[from] ProducerError),
    #[error("batch of {size} bytes is larger than max.message.bytes ({max})")]
    MessageTooLarge { size: usize, max: u64 },
    #[error(
        "timestamp {timestamp} is out of the range message.timestamp.before/after.max.ms allow"
    )]
    InvalidTimestamp { timestamp: i64 },
    #[error("records of {0} can not be deleted due to the configured policy")]
    PolicyViolation(String),
    #[error("corrupt batch: {0}")]
    Corrupt(#[from] batch::BatchError),
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// A replicated batch does not follow the log: its base offset is below the log end (the
    /// first batch) or not above the previous batch's last offset.
    #[error("replicated batch at offset {got} does not follow offset {expected}")]
    OffsetMismatch { expected: i64, got: i64 },
}

/// A partition's offsets, read together under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offsets {
    pub log_start: i64,
    pub high_watermark: i64,
    pub log_end: i64,
}

/// The result of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: i64,
    /// The broker time stamped into the batches, or -1 for CreateTime.
    pub log_append_time: i64,
    pub log_start_offset: i64,
}

/// A segment file and a byte position in it.
pub type FileSlice = (Arc<File>, u64);

/// What a read returns: whole batches from one segment.
#[derive(Debug, Clone)]
pub struct ReadInfo {
    pub records: Bytes,
    /// The segment file `records` were read from and their position in it: the same bytes
    /// can be sent from the page cache without passing through user space (sendfile).
    /// `None` when `records` is empty.
    pub file: Option<FileSlice>,
    pub high_watermark: i64,
    /// The last stable offset when the read was made (see
    /// [`super::producer_state`]): what READ_COMMITTED consumers may read up to.
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
}

pub(super) struct PartitionLog {
    pub(super) segments: Vec<Segment>,
    /// The first offset a consumer may read: at least the first segment's base offset, more
    /// after DeleteRecords (then persisted in [`LOG_START_FILE`]).
    pub(super) log_start_offset: i64,
    pub(super) producers: ProducerStateTable,
    pub(super) config: LogConfig,
    pub(super) cleaner: super::cleaner::CleanerState,
    pub(super) epochs: LeaderEpochCache,
    pub(super) unflushed_messages: u64,
    last_flush_ms: i64,
}

/// The file in a partition directory holding a log start offset that lies inside the first
/// segment (set by DeleteRecords): the offset in decimal and a newline. Written to a
/// temporary file, fsynced and renamed over the old one.
pub const LOG_START_FILE: &str = "log-start-offset";

impl PartitionLog {
    pub(super) fn active(&self) -> &Segment {
        // Invariant: never empty.
        &self.segments[self.segments.len() - 1]
    }

    pub(super) fn active_mut(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    pub(super) fn log_end_offset(&self) -> i64 {
        self.active().next_offset
    }
}

pub struct Partition {
    pub tp: TopicPartition,
    dir: PathBuf,
    pub(super) log: Mutex<PartitionLog>,
    /// The failed and deleted flags and the recovery point, shared with background syncs.
    /// Once `deleted` is set no operation that takes the lock touches the files.
    pub(super) durability: Arc<Durability>,
    /// Woken after every append, for long-polling fetches.
    pub appended: Notify,
    /// The high watermark: written only under the `log` lock, clamped to
    /// [log start, log end]; read without it.
    pub(super) high_watermark: AtomicI64,
}

/// How much of its file the active segment's read map covers: all a segment can grow to
/// before it rolls (a larger `segment.bytes` set later falls back to positional reads).
pub(super) fn active_map_len(config: &LogConfig) -> u64 {
    config
        .segment_bytes
        .saturating_add(config.max_message_bytes)
        .saturating_add(batch::LOG_OVERHEAD as u64)
}

/// The largest read of one partition in one fetch (Kafka's broker `fetch.max.bytes`).
pub const MAX_READ_BYTES: usize = 55 * 1024 * 1024;

impl Partition {
    /// Opens (recovering) or creates the log in `dir`. The high watermark starts at
    /// `high_watermark` (the broker's checkpoint) clamped to the log, or at the log start.
    ///
    /// The leader epoch cache is loaded from its checkpoint; every segment recovery scans
    /// (from the recovery point on, or every segment when there is no valid checkpoint) first
    /// cuts it at the segment's base offset, then assigns the epochs of its batches that are
    /// newer than the latest; finally it is cut at the log end and moved to the log start.
    pub fn open(
        tp: TopicPartition,
        dir: PathBuf,
        config: LogConfig,
        now_ms: i64,
        high_watermark: Option<i64>,
    ) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        // A cleaning pass that reached its commit point is completed first; one that did not
        // is discarded below with its `.cleaned` file.
        super::cleaner::complete_swaps(&dir)?;
        let mut bases = Vec::new();
        let mut indexes = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(base) = segment::parse_log_file_name(&name) {
                bases.push(base);
            } else if let Some(base) = segment::parse_index_file_name(&name) {
                indexes.push((base, entry.path()));
            } else if name.ends_with(".deleted")
                || name.ends_with(".cleaned")
                || name.ends_with(".txnindex.tmp")
            {
                std::fs::remove_file(entry.path())?;
            }
        }
        // Index files whose `.log` is gone: a deletion interrupted between the renames.
        for (base, path) in indexes {
            if !bases.contains(&base) {
                std::fs::remove_file(path)?;
            }
        }
        bases.sort_unstable();
        // Segments from the recovery point on may not have reached the disk whole: scan them.
        let recovery_point = read_offset_file(&dir, RECOVERY_POINT_FILE)?.unwrap_or(0);
        let mut producers = ProducerStateTable::default();
        let loaded = LeaderEpochCache::load(&dir)?;
        let rebuild = loaded.is_none();
        let mut epochs = loaded.clone().unwrap_or_default();
        let mut segments = Vec::with_capacity(bases.len().max(1));
        let count = bases.len();
        for (i, base) in bases.into_iter().enumerate() {
            let active = i + 1 == count;
            let verify = active || base >= recovery_point;
            let scan_epochs = verify || rebuild;
            if scan_epochs {
                epochs.truncate_from_end(base);
            }
            let mut aborted = Vec::new();
            let (mut seg, report) = Segment::open(
                &dir,
                base,
                config.segment_index_bytes,
                config.index_interval_bytes,
                verify,
                now_ms,
                |h, marker| {
                    aborted.extend(producers.record(h, marker));
                    if scan_epochs {
                        assign_newer_epoch(&mut epochs, h);
                    }
                },
            )?;
            // The log is the truth: a torn, stale or missing `.txnindex` is rewritten.
            if seg.txn.replace(aborted)? {
                tracing::info!(partition = %tp, segment = base, "rebuilt transaction index");
            }
            if report.truncated_bytes > 0 || (report.index_rebuilt && !active) {
                tracing::warn!(
                    partition = %tp, segment = base, truncated = report.truncated_bytes,
                    index_rebuilt = report.index_rebuilt, "recovered segment"
                );
            }
            // An empty segment starting inside its predecessor is a roll whose creation failed
            // and whose files could not be removed then: not part of the log.
            if seg.size == 0
                && segments
                    .last()
                    .is_some_and(|p: &Segment| base < p.next_offset)
            {
                drop(seg);
                segment::remove_files(&dir, base)?;
                continue;
            }
            segments.push(seg);
        }
        if segments.is_empty() {
            segments.push(Segment::create(
                &dir,
                0,
                config.segment_index_bytes,
                now_ms,
            )?);
        }
        if let Some(active) = segments.last_mut() {
            active.map_for_reads(active_map_len(&config));
        }
        let end = segments[segments.len() - 1].next_offset;
        let log_start_offset = read_offset_file(&dir, LOG_START_FILE)?
            .unwrap_or(0)
            .max(segments[0].base_offset)
            .min(end);
        let cleaner = super::cleaner::CleanerState::load(&dir, end)?;
        epochs.truncate_from_end(end);
        epochs.truncate_from_start(log_start_offset);
        if loaded.as_ref() != Some(&epochs) && !(loaded.is_none() && epochs.is_empty()) {
            epochs.store(&dir)?;
        }
        let high_watermark = high_watermark
            .unwrap_or(log_start_offset)
            .clamp(log_start_offset, end);
        producers.on_high_watermark(high_watermark);
        Ok(Partition {
            tp,
            dir,
            log: Mutex::new(PartitionLog {
                segments,
                log_start_offset,
                producers,
                config,
                cleaner,
                epochs,
                unflushed_messages: 0,
                last_flush_ms: now_ms,
            }),
            durability: Arc::new(Durability::new(recovery_point)),
            appended: Notify::new(),
            high_watermark: AtomicI64::new(high_watermark),
        })
    }

    pub(super) fn lock(&self) -> Result<MutexGuard<'_, PartitionLog>, LogError> {
        if self.durability.failed.load(Ordering::Acquire) {
            return Err(LogError::Storage(self.tp.to_string()));
        }
        let guard = self
            .log
            .lock()
            .map_err(|_| LogError::Storage(self.tp.to_string()))?;
        if self.durability.deleted.load(Ordering::Acquire) {
            return Err(LogError::Deleted(self.tp.to_string()));
        }
        Ok(guard)
    }

    /// Takes the partition out of service for a topic deletion: waits for the operation
    /// holding the lock (an append in progress completes), then every later one fails with
    /// [`LogError::Deleted`]. Returns at once if a poisoned lock already stops everything.
    pub(super) fn mark_deleted(&self) {
        let _guard = self.log.lock();
        self.durability.deleted.store(true, Ordering::Release);
    }

    /// An fsync (or other state-losing) error: latches the partition failed until restart.
    pub(super) fn fail(&self, e: &io::Error) -> LogError {
        tracing::error!(partition = %self.tp, error = %e, "I/O error; partition marked failed");
        self.durability.failed.store(true, Ordering::Release);
        LogError::Storage(self.tp.to_string())
    }

    /// A write that failed and left the log as it was: fails this operation only.
    pub(super) fn write_failed(&self, e: &io::Error) -> LogError {
        tracing::warn!(partition = %self.tp, error = %e, "write failed; the log is unchanged");
        LogError::Storage(format!("{}: {e}", self.tp))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log start offset, high watermark and log end offset, read together.
    pub fn offsets(&self) -> Result<Offsets, LogError> {
        let l = self.lock()?;
        Ok(Offsets {
            log_start: l.log_start_offset,
            high_watermark: self.high_watermark(),
            log_end: l.log_end_offset(),
        })
    }

    /// The bytes of every segment's `.log` (indexes not counted), as DescribeLogDirs and
    /// the size metrics report them.
    pub fn size_bytes(&self) -> u64 {
        self.lock()
            .map(|l| l.segments.iter().map(|s| s.size).sum())
            .unwrap_or(0)
    }

    /// The leader's append of one batch (already checked by [`batch::validate`]; Produce
    /// carries exactly one per partition): checks its size against `max.message.bytes` and
    /// its producer sequence, assigns its offsets, stamps `leader_epoch` into its header and
    /// writes it. A retried duplicate is answered with the original offset and not written
    /// again. An epoch newer than the cache's latest starts at the batch's base offset (an
    /// older one, from a caller that does not know the epoch yet, changes nothing).
    pub fn append(
        &self,
        raw: &[u8],
        h: &BatchHeader,
        now_ms: i64,
        leader_epoch: i32,
    ) -> Result<AppendInfo, LogError> {
        let mut guard = self.lock()?;
        let l = &mut *guard;
        if raw.len() as u64
            > l.config
                .max_message_bytes
                .saturating_add(batch::LOG_OVERHEAD as u64)
        {
            return Err(LogError::MessageTooLarge {
                size: raw.len(),
                max: l.config.max_message_bytes,
            });
        }
        if l.config.timestamp_type == TimestampType::CreateTime {
            // The batch's first and largest timestamps bound the check (no record is decoded).
            for ts in [h.base_timestamp, h.max_timestamp] {
                let too_old = ts < now_ms.saturating_sub(l.config.timestamp_before_max_ms);
                let too_new = ts > now_ms.saturating_add(l.config.timestamp_after_max_ms);
                if ts >= 0 && (too_old || too_new) {
                    return Err(LogError::InvalidTimestamp { timestamp: ts });
                }
            }
        }
        let marker = if h.is_control() {
            Some(super::transactions::leader_marker(l, raw, h)?)
        } else if let SequenceCheck::Duplicate { base_offset } = l.producers.check(h)? {
            return Ok(AppendInfo {
                base_offset,
                log_append_time: -1,
                log_start_offset: l.log_start_offset,
            });
        } else {
            None
        };
        let append_time =
            (l.config.timestamp_type == TimestampType::LogAppendTime).then_some(now_ms);
        let offset = l.log_end_offset();
        let last = offset.saturating_add(i64::from(h.last_offset_delta));
        self.maybe_roll(l, raw.len() as u64, offset, last, now_ms)?;
        let head = batch::assigned_header(raw, offset, leader_epoch, append_time);
        let assigned = BatchHeader::parse(&head)?;
        let interval = l.config.index_interval_bytes;
        if let Err(e) = l
            .active_mut()
            .append(&head, &raw[batch::HEADER_LEN..], &assigned, interval)
        {
            return Err(self.write_failed(&e));
        }
        self.record_stored(l, &assigned, marker)?;
        if assign_newer_epoch(&mut l.epochs, &assigned) {
            self.store_epochs(l)?;
        }
        l.unflushed_messages += assigned.record_count.max(1) as u64;
        if l.unflushed_messages >= l.config.flush_messages {
            self.flush_locked(l, now_ms)?;
        }
        let info = AppendInfo {
            base_offset: offset,
            log_append_time: append_time.unwrap_or(-1),
            log_start_offset: l.log_start_offset,
        };
        drop(guard);
        self.appended.notify_waiters();
        Ok(info)
    }

    /// The codec and level `compression.type` stores batches with (None: as produced).
    pub fn recompression(&self) -> Option<(i16, i32)> {
        self.lock().ok()?.config.recompression()
    }

    /// Applies changed topic settings; they take effect from the next append, read or
    /// maintenance pass (new segments use the new index size).
    pub fn set_config(&self, config: LogConfig) {
        if let Ok(mut l) = self.lock() {
            l.config = config;
        }
    }

    /// Rolls before a batch of `incoming` bytes holding offsets `base..=last` when the active
    /// segment is full, old, or could not index it; the new segment starts at `base` (the log
    /// end for a leader; a follower's batch may start later, after a compacted gap).
    pub(super) fn maybe_roll(
        &self,
        l: &mut PartitionLog,
        incoming: u64,
        base: i64,
        last: i64,
        now_ms: i64,
    ) -> Result<(), LogError> {
        let a = l.active();
        let full = a.size > 0 && a.size + incoming > l.config.segment_bytes;
        let old = a.size > 0 && now_ms - a.created_ms >= l.config.roll_after_ms(a.base_offset);
        // Positions and relative offsets in the index are u32: never let a segment pass
        // 4 GiB or 2^32 offsets.
        let too_far = a.size + incoming > u32::MAX as u64
            || last.saturating_sub(a.base_offset) > u32::MAX as i64 - (1 << 20);
        if too_far && a.size == 0 {
            // Only a follower's batch after a gap of 2^32 offsets gets here: the empty active
            // segment cannot index it (a follower that far behind resets its log instead).
            return Err(LogError::OffsetMismatch {
                expected: a.base_offset,
                got: base,
            });
        }
        if !(full || old || a.index_full() || too_far) {
            return Ok(());
        }
        self.roll_at(l, base, now_ms)
    }

    /// Seals the active segment and starts a new one at the log end offset (see
    /// [`Partition::roll_at`]).
    pub(super) fn roll(&self, l: &mut PartitionLog, now_ms: i64) -> Result<(), LogError> {
        let next = l.log_end_offset();
        self.roll_at(l, next, now_ms)
    }

    /// Seals the active segment and starts a new one at `next` (at least the log end); the
    /// sealed log is synced in the background (see [`super::durability`]). A segment that
    /// cannot be created (a full disk) fails this roll only: its files are removed and the
    /// sealed segment stays active, so the next append tries again. An empty active segment
    /// at the log end is kept as it is.
    fn roll_at(&self, l: &mut PartitionLog, next: i64, now_ms: i64) -> Result<(), LogError> {
        let next = next.max(l.log_end_offset());
        if l.active().size == 0 && l.log_end_offset() == l.active().base_offset {
            // Empty: a new segment would have the same base offset (and files).
            return Ok(());
        }
        let index_bytes = l.config.segment_index_bytes;
        if let Err(e) = l.active_mut().seal_indexes() {
            return Err(self.fail(&e));
        }
        match Segment::create(&self.dir, next, index_bytes, now_ms) {
            Ok(mut seg) => {
                seg.map_for_reads(active_map_len(&l.config));
                // The sealed segment's map can now be exactly its size.
                let sealed = l.segments.len() - 1;
                let size = l.segments[sealed].size;
                l.segments[sealed].map_for_reads(size);
                let unsynced = self.unsynced(l);
                l.segments.push(seg);
                self.sync_in_background(unsynced, next, self.durability.truncations());
                Ok(())
            }
            Err(e) => {
                if let Err(r) = segment::remove_files(&self.dir, next) {
                    tracing::warn!(partition = %self.tp, error = %r, "cannot remove a half-created segment");
                }
                Err(self.write_failed(&e))
            }
        }
    }

    pub(super) fn flush_locked(&self, l: &mut PartitionLog, now_ms: i64) -> Result<(), LogError> {
        if let Err(e) = l.active_mut().flush() {
            return Err(self.fail(&e));
        }
        l.unflushed_messages = 0;
        l.last_flush_ms = now_ms;
        Ok(())
    }

    /// fsyncs when `flush.ms` has passed since the last flush and there are unflushed writes.
    pub fn flush_if_due(&self, now_ms: i64) -> Result<(), LogError> {
        let mut l = self.lock()?;
        if l.unflushed_messages > 0 && now_ms - l.last_flush_ms >= l.config.flush_ms as i64 {
            self.flush_locked(&mut l, now_ms)?;
        }
        Ok(())
    }

    /// Reads whole batches starting with the one holding `offset`, up to `max_bytes` (at least
    /// one whole batch when `min_one`, as KIP-74 requires), from a single segment, and only
    /// batches whose base offset is below `max_offset` (the high watermark for consumers, the
    /// log end for followers): a read at or past `max_offset` returns no records. An offset
    /// outside [log start, log end] is [`LogError::OffsetOutOfRange`].
    pub fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        min_one: bool,
        max_offset: i64,
    ) -> Result<ReadInfo, LogError> {
        let (map, file, start, end, leo, lso, stable) = {
            let mut guard = self.lock()?;
            let l = &mut *guard;
            let (lso, leo) = (l.log_start_offset, l.log_end_offset());
            if offset < lso || offset > leo {
                return Err(LogError::OffsetOutOfRange {
                    offset,
                    start: lso,
                    end: leo,
                });
            }
            // The last segment starting at or before `offset`; if it holds nothing at or
            // after `offset` (a gap, or a segment compaction emptied), the next one.
            let mut i = l
                .segments
                .partition_point(|s| s.base_offset <= offset)
                .saturating_sub(1);
            while i + 1 < l.segments.len()
                && (l.segments[i].size == 0 || l.segments[i].next_offset <= offset)
            {
                i += 1;
            }
            let grow = if i + 1 == l.segments.len() {
                active_map_len(&l.config)
            } else {
                0
            };
            let s = &mut l.segments[i];
            // A failed map (address space, map count) leaves the data intact: this read gets
            // KAFKA_STORAGE_ERROR, the partition is not latched.
            let map = s.map_covering(grow)?;
            let stable = l.producers.last_stable_offset(self.high_watermark());
            (
                map,
                l.segments[i].log.clone(),
                l.segments[i].position_floor(offset),
                l.segments[i].size,
                leo,
                lso,
                stable,
            )
        };
        let (records, file) = match map {
            Some(map) if offset < leo && offset < max_offset => {
                let records = segment::read_mapped(
                    &map,
                    start,
                    end,
                    offset,
                    max_bytes.min(MAX_READ_BYTES),
                    min_one,
                );
                let records = records.slice(..below(&records, max_offset));
                // `records` is a slice of `map`, which maps the file from position 0.
                let pos = (records.as_ptr() as usize).wrapping_sub(map.as_ptr() as usize);
                let file = (!records.is_empty()).then_some((file, pos as u64));
                (records, file)
            }
            _ => (Bytes::new(), None),
        };
        Ok(ReadInfo {
            records,
            file,
            high_watermark: self.high_watermark(),
            last_stable_offset: stable,
            log_start_offset: lso,
        })
    }

    /// Persists the leader epoch cache; a failure latches the partition failed (the
    /// checkpoint may be torn on disk and the cache no longer matches it).
    pub(super) fn store_epochs(&self, l: &PartitionLog) -> Result<(), LogError> {
        l.epochs.store(&self.dir).map_err(|e| self.fail(&e))
    }

    /// The first record whose timestamp is >= `ts`: (its offset, its timestamp). The time
    /// index finds the batch; only that one batch is decoded (decompressed if need be).
    pub fn offset_for_timestamp(&self, ts: i64) -> Result<Option<(i64, i64)>, LogError> {
        let (file, start, end) = {
            let l = self.lock()?;
            let Some(s) = l.segments.iter().find(|s| s.max_timestamp >= ts) else {
                return Ok(None);
            };
            (s.log.clone(), s.position_for_timestamp(ts), s.size)
        };
        let mut pos = start;
        while pos < end {
            let Some(h) = segment::read_header_at(&file, pos).map_err(|e| self.fail(&e))? else {
                break;
            };
            if h.max_timestamp >= ts {
                let mut buf = vec![0u8; h.total_len()];
                file.read_exact_at(&mut buf, pos)
                    .map_err(|e| self.fail(&e))?;
                return Ok(Some(batch::first_record_at_or_after(&buf, &h, ts)));
            }
            pos += h.total_len() as u64;
        }
        Ok(None)
    }

    /// The batch holding the largest timestamp: (its base offset, the timestamp).
    pub fn max_timestamp(&self) -> Result<Option<(i64, i64)>, LogError> {
        let l = self.lock()?;
        let best = l
            .segments
            .iter()
            .filter(|s| s.size > 0)
            .max_by_key(|s| s.max_timestamp);
        Ok(best.map(|s| (s.max_timestamp_offset(), s.max_timestamp)))
    }

    /// Syncs every segment and seals the active one's indexes (clean shutdown); the next
    /// start scans only the active segment.
    pub fn close(&self) -> Result<(), LogError> {
        let mut l = self.lock()?;
        let unsynced = self.unsynced(&l);
        let active = l.active().base_offset;
        let synced = l.active_mut().seal().and_then(|()| {
            let truncations = self.durability.truncations();
            self.durability
                .sync_sealed(&self.dir, &unsynced, active, truncations)
        });
        synced.map_err(|e| self.fail(&e))
    }

    /// The log files of the sealed segments not yet known synced (the last segment counts as
    /// sealed: call this before pushing a new active segment, or for every segment).
    fn unsynced(&self, l: &PartitionLog) -> Vec<Arc<File>> {
        let from = self.durability.seen();
        let sealed = &l.segments[..l.segments.len() - 1];
        sealed
            .iter()
            .filter(|s| s.next_offset > from)
            .map(|s| s.log.clone())
            .collect()
    }

    /// Syncs `files` and moves the recovery point to `target` on a blocking thread (inline
    /// when no runtime runs, e.g. in tools and tests). A failure latches the partition failed.
    fn sync_in_background(&self, files: Vec<Arc<File>>, target: i64, truncations: u64) {
        let durability = self.durability.clone();
        let dir = self.dir.clone();
        let tp = self.tp.clone();
        let sync = move || {
            match durability.sync_sealed(&dir, &files, target, truncations) {
                Ok(()) => {}
                // The topic was deleted meanwhile: its directory may be gone.
                Err(e) if durability.deleted.load(Ordering::Acquire) => {
                    tracing::debug!(partition = %tp, error = %e, "sync of a deleted partition");
                }
                Err(e) => {
                    tracing::error!(partition = %tp, error = %e, "syncing a rolled segment failed; partition marked failed");
                    durability.failed.store(true, Ordering::Release);
                }
            }
        };
        super::in_background(sync);
    }
}

/// Assigns the leader epoch of a stored batch `h` when it is newer than the cache's latest
/// (Kafka's rule on appends and at recovery). Returns whether the cache changed.
pub(super) fn assign_newer_epoch(epochs: &mut LeaderEpochCache, h: &BatchHeader) -> bool {
    let epoch = h.partition_leader_epoch;
    let newer = epochs.latest().is_none_or(|(latest, _)| epoch > latest);
    newer && epochs.assign(epoch, h.base_offset)
}

/// The length of the prefix of `records` (whole batches) holding the batches whose base
/// offset is below `max_offset`; only the batch length fields are read.
fn below(records: &[u8], max_offset: i64) -> usize {
    let mut pos = 0;
    while let Some(len) = records.get(pos..).and_then(batch::peek_total_len) {
        let Some(base) = records.get(pos..pos + 8) else {
            break;
        };
        let base = i64::from_be_bytes([
            base[0], base[1], base[2], base[3], base[4], base[5], base[6], base[7],
        ]);
        if base >= max_offset || pos + len > records.len() {
            break;
        }
        pos += len;
    }
    pos
}

#[cfg(test)]
#[path = "partition_tests.rs"]
mod tests;
