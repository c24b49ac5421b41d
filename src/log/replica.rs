//! What the replication layer asks of a partition's log, in Kafka's terms: a follower's
//! append of the leader's bytes, truncation to a divergence point, a reset to an empty log
//! at an offset, the leader epoch cache, and following the leader's log start. The log stays
//! cluster-agnostic: it stores, cuts and describes batches; `replication/` decides.
//!
//! Truncation is crash-safe with the same mechanisms as retention and the cleaner:
//! - segments past the cut are renamed to `*.deleted` from the last one back (a crash leaves
//!   a prefix of the old log, longer than asked, never a hole), then unlinked;
//! - the segment holding the cut is rewritten: its kept prefix is copied to
//!   `<base>.log.cleaned`, fsynced and renamed over `<base>.log` (a crash leaves the old
//!   file or the new one; a stray `.cleaned` is removed at open). The file is never cut in
//!   place: readers may hold a map of it, and reading a map past a file's end faults;
//! - the recovery point is lowered to the new end (see [`super::durability`]) and the epoch
//!   cache, log start, cleaner checkpoint and high watermark follow.

use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;

use super::batch::{self, BatchHeader};
use super::cleaner::CleanerState;
use super::durability::{write_offset_file, CLEANER_CHECKPOINT_FILE};
use super::partition::{
    active_map_len, assign_newer_epoch, LogError, Partition, PartitionLog, LOG_START_FILE,
};
use super::producer_state::ProducerStateTable;
use super::segment::{self, file_name, Segment};

/// Calls `f` with the position and header of each batch of a segment (read from its map),
/// until `f` returns `false`.
fn each_header(s: &mut Segment, mut f: impl FnMut(u64, &BatchHeader) -> bool) -> io::Result<()> {
    let Some(map) = s.map_covering(0)? else {
        return Ok(());
    };
    let data = &map[..(s.size as usize).min(map.len())];
    let mut pos = 0usize;
    while let Some(len) = data.get(pos..).and_then(batch::peek_total_len) {
        let Ok(h) = BatchHeader::parse(&data[pos..]) else {
            break;
        };
        if pos + len > data.len() || !f(pos as u64, &h) {
            break;
        }
        pos += len;
    }
    Ok(())
}

impl Partition {
    /// A follower's append of the records of a fetch response (module docs): whole batches,
    /// stored byte for byte. Each is validated; a trailing partial batch is ignored. The first
    /// must start at or after the log end and each after the previous one's last offset
    /// (gaps are a compacted leader's), else [`LogError::OffsetMismatch`] and nothing is
    /// written. No size or timestamp checks (the leader made them). Segments roll as for the
    /// leader's appends; producer state and newer leader epochs are taken from the headers.
    /// Returns the new log end offset.
    pub fn append_replicated(&self, records: &[u8]) -> Result<i64, LogError> {
        let mut batches = Vec::new();
        let mut pos = 0usize;
        while let Some(len) = records.get(pos..).and_then(batch::peek_total_len) {
            let Some(raw) = records.get(pos..pos + len) else {
                break;
            };
            batches.push((raw, batch::validate_stored(raw)?));
            pos += len;
        }
        let now_ms = super::now_ms();
        let mut guard = self.lock()?;
        let l = &mut *guard;
        let mut expected = l.log_end_offset();
        for (_, h) in &batches {
            if h.base_offset < expected || h.last_offset() == i64::MAX {
                return Err(LogError::OffsetMismatch {
                    expected,
                    got: h.base_offset,
                });
            }
            expected = h.last_offset() + 1;
        }
        let mut epochs_changed = false;
        let mut written = Ok(());
        for (raw, h) in &batches {
            written = self.append_stored(l, raw, h, now_ms);
            if written.is_err() {
                break;
            }
            // The leader checked the batch: its state is taken as it is (Kafka's
            // REPLICATION origin).
            self.record_stored(l, h, batch::parse_control(raw, h))?;
            epochs_changed |= assign_newer_epoch(&mut l.epochs, h);
            l.unflushed_messages += h.record_count.max(1) as u64;
        }
        if epochs_changed {
            self.store_epochs(l)?;
        }
        written?;
        if l.unflushed_messages >= l.config.flush_messages {
            self.flush_locked(l, now_ms)?;
        }
        let end = l.log_end_offset();
        drop(guard);
        if !batches.is_empty() {
            self.appended.notify_waiters();
        }
        Ok(end)
    }

    /// Rolls if due and writes one stored batch as it is.
    fn append_stored(
        &self,
        l: &mut PartitionLog,
        raw: &[u8],
        h: &BatchHeader,
        now_ms: i64,
    ) -> Result<(), LogError> {
        self.maybe_roll(l, raw.len() as u64, h.base_offset, h.last_offset(), now_ms)?;
        let interval = l.config.index_interval_bytes;
        let (head, body) = raw.split_at(batch::HEADER_LEN);
        l.active_mut()
            .append(head, body, h, interval)
            .map_err(|e| self.write_failed(&e))
    }

    /// The high watermark: offsets below it are committed (module docs).
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark.load(Ordering::Acquire)
    }

    /// Sets the high watermark to `hw` clamped to [log start, log end], as Kafka's
    /// `updateHighWatermark` (it may move back: a follower takes the leader's). Returns the
    /// value set.
    pub fn set_high_watermark(&self, hw: i64) -> Result<i64, LogError> {
        let mut l = self.lock()?;
        let hw = hw.clamp(l.log_start_offset, l.log_end_offset());
        self.high_watermark.store(hw, Ordering::Release);
        l.producers.on_high_watermark(hw);
        Ok(hw)
    }

    /// Moves the high watermark up to `hw` (clamped to the log end), never back, as Kafka's
    /// `maybeIncrementHighWatermark`: concurrent callers cannot undo each other's progress.
    /// Returns the high watermark.
    pub fn advance_high_watermark(&self, hw: i64) -> Result<i64, LogError> {
        let mut l = self.lock()?;
        let current = self.high_watermark();
        let hw = hw.min(l.log_end_offset()).max(current);
        self.high_watermark.store(hw, Ordering::Release);
        l.producers.on_high_watermark(hw);
        Ok(hw)
    }

    /// Holds the high watermark to [log start, log end] after either moved (under the lock).
    pub(super) fn clamp_high_watermark(&self, l: &PartitionLog) {
        let hw = self.high_watermark();
        let clamped = hw.clamp(l.log_start_offset, l.log_end_offset());
        self.high_watermark.store(clamped, Ordering::Release);
    }

    /// Kafka's `maybeAssignEpochStartOffset(epoch, logEndOffset)`, when this replica becomes
    /// leader: `epoch` starts at the log end (see [`super::epochs::LeaderEpochCache::assign`]).
    pub fn assign_leader_epoch(&self, epoch: i32) -> Result<(), LogError> {
        let mut l = self.lock()?;
        let end = l.log_end_offset();
        if l.epochs.assign(epoch, end) {
            self.store_epochs(&l)?;
        }
        Ok(())
    }

    /// Kafka's `endOffsetForEpoch`: (the largest known epoch <= `epoch`, where it ends); see
    /// [`super::epochs::LeaderEpochCache::end_offset_for`].
    pub fn end_offset_for_epoch(&self, epoch: i32) -> Result<(i32, i64), LogError> {
        let l = self.lock()?;
        Ok(l.epochs.end_offset_for(epoch, l.log_end_offset()))
    }

    /// The leader epoch that wrote `offset` (see
    /// [`super::epochs::LeaderEpochCache::epoch_for_offset`]); -1 when unknown.
    pub fn epoch_for_offset(&self, offset: i64) -> Result<i32, LogError> {
        Ok(self.lock()?.epochs.epoch_for_offset(offset).unwrap_or(-1))
    }

    /// The latest leader epoch in the cache.
    pub fn latest_epoch(&self) -> Result<Option<i32>, LogError> {
        Ok(self.lock()?.epochs.latest().map(|(e, _)| e))
    }

    /// The leader epoch cache's entries (epoch, start offset).
    pub fn epoch_entries(&self) -> Result<Vec<(i32, i64)>, LogError> {
        Ok(self.lock()?.epochs.entries().to_vec())
    }

    /// A follower follows the leader's log start: moves the log start offset up to `offset`,
    /// held to the high watermark, and deletes the segments wholly below it (as DeleteRecords
    /// does, whatever the cleanup policy). Returns the new log start offset.
    pub fn advance_log_start(&self, offset: i64) -> Result<i64, LogError> {
        {
            let mut l = self.lock()?;
            let target = offset.min(self.high_watermark());
            self.move_log_start(&mut l, target)?;
        }
        Ok(self.delete_prefix(super::now_ms(), false)?.log_start_offset)
    }

    /// Kafka's `truncateTo`: removes every batch whose last offset is >= `offset`. The log
    /// then ends after the last batch wholly below `offset` (a batch straddling it goes
    /// whole). No-op at or past the log end. Below the first segment's base offset nothing
    /// of the log could be kept: as Kafka, [`Partition::reset_to`] `offset`. Otherwise, as
    /// Kafka, a log start above the new end comes down to it. Producer state is rebuilt from
    /// the remaining batches (with the transactions and each segment's aborted entries, see
    /// [`super::transactions`]); the epoch cache is cut at the new end; the recovery point,
    /// cleaner checkpoint and high watermark are held to it. Returns the new log end offset.
    pub fn truncate_to(&self, offset: i64) -> Result<i64, LogError> {
        let (removed, end) = {
            let mut guard = self.lock()?;
            let l = &mut *guard;
            let leo = l.log_end_offset();
            if offset < 0 {
                return Err(LogError::OffsetOutOfRange {
                    offset,
                    start: l.log_start_offset,
                    end: leo,
                });
            }
            if offset >= leo {
                // Nothing to cut from the segments, but an epoch this replica assigned when
                // it led without appending anything may start at the log end: it is not on
                // the leader's log, and a follower naming it would diverge forever. Kafka's
                // `truncateTo` drops it the same way.
                if l.epochs.truncate_from_end(leo) {
                    self.store_epochs(l)?;
                }
                return Ok(leo);
            }
            if offset < l.segments[0].base_offset {
                drop(guard);
                self.reset_to(offset)?;
                return Ok(offset);
            }
            let k = l
                .segments
                .partition_point(|s| s.base_offset <= offset)
                .saturating_sub(1);
            let mut cut = l.segments[k].size;
            each_header(&mut l.segments[k], |pos, h| {
                if h.last_offset() >= offset {
                    cut = pos;
                    return false;
                }
                true
            })?;
            let removed = self.remove_segments_from(l, k + 1)?;
            self.rewrite_active(l, cut)?;
            let end = l.log_end_offset();
            self.replay_transactions(l)?;
            if l.epochs.truncate_from_end(end) {
                self.store_epochs(l)?;
            }
            if l.log_start_offset > end {
                write_offset_file(self.dir(), LOG_START_FILE, end).map_err(|e| self.fail(&e))?;
                l.log_start_offset = end;
            }
            if l.cleaner.first_dirty > end {
                let state = CleanerState {
                    first_dirty: end,
                    ..l.cleaner
                };
                self.store_cleaner(l, state)?;
            }
            self.durability
                .lower_to(self.dir(), end)
                .map_err(|e| self.fail(&e))?;
            self.clamp_high_watermark(l);
            (removed, end)
        };
        self.unlink_deleted(&removed);
        tracing::info!(partition = %self.tp, offset, end, "truncated log");
        Ok(end)
    }

    /// Kafka's `truncateFullyAndStartAt`: deletes every segment and starts an empty log at
    /// `offset` (log start = log end = high watermark = `offset`), with no producer state and
    /// an empty epoch cache. The new segment is created before the old ones go, so the log
    /// never lacks one; a crash midway leaves some old segments beside the new empty one (a
    /// log that replication truncates or resets again).
    pub fn reset_to(&self, offset: i64) -> Result<(), LogError> {
        let removed = {
            let mut guard = self.lock()?;
            let l = &mut *guard;
            if offset < 0 {
                return Err(LogError::OffsetOutOfRange {
                    offset,
                    start: l.log_start_offset,
                    end: l.log_end_offset(),
                });
            }
            // The new segment is created first (under a name no live segment has: each is
            // renamed away first if it shares it), so the log is never without one.
            let mut removed = Vec::new();
            if l.segments.iter().any(|s| s.base_offset == offset) {
                removed = self.remove_segments_from(l, 0)?;
            }
            let mut seg = match Segment::create(
                self.dir(),
                offset,
                l.config.segment_index_bytes,
                super::now_ms(),
            ) {
                Ok(seg) => seg,
                Err(e) => return Err(self.fail(&e)),
            };
            seg.map_for_reads(active_map_len(&l.config));
            removed.extend(self.remove_segments_from(l, 0)?);
            l.segments.push(seg);
            l.producers = ProducerStateTable::default();
            if l.epochs.clear() {
                self.store_epochs(l)?;
            }
            write_offset_file(self.dir(), LOG_START_FILE, offset).map_err(|e| self.fail(&e))?;
            l.log_start_offset = offset;
            let state = CleanerState {
                first_dirty: offset,
                tombstone_due_ms: None,
            };
            self.store_cleaner(l, state)?;
            self.durability
                .lower_to(self.dir(), offset)
                .map_err(|e| self.fail(&e))?;
            l.unflushed_messages = 0;
            self.clamp_high_watermark(l);
            removed
        };
        self.unlink_deleted(&removed);
        tracing::info!(partition = %self.tp, offset, "reset log");
        Ok(())
    }

    /// Takes segments `from..` out of the log durably, the last first (module docs).
    /// Returns their base offsets, to unlink once the lock is released.
    fn remove_segments_from(
        &self,
        l: &mut PartitionLog,
        from: usize,
    ) -> Result<Vec<i64>, LogError> {
        let mut removed = Vec::new();
        while l.segments.len() > from {
            let base = l.segments[l.segments.len() - 1].base_offset;
            if let Err(e) = segment::mark_deleted(self.dir(), base) {
                return Err(self.fail(&e));
            }
            l.segments.pop();
            removed.push(base);
        }
        Ok(removed)
    }

    fn unlink_deleted(&self, bases: &[i64]) {
        for &base in bases {
            if let Err(e) = segment::remove_deleted(self.dir(), base) {
                tracing::warn!(partition = %self.tp, error = %e, "removing truncated segment");
            }
        }
    }

    /// Makes the last segment the active one holding its first `cut` bytes: rewritten
    /// (module docs) and reopened with a fresh, full-size index. A failure latches the
    /// partition failed: the files may no longer match the segment list.
    fn rewrite_active(&self, l: &mut PartitionLog, cut: u64) -> Result<(), LogError> {
        let last = l.segments.len() - 1;
        let base = l.segments[last].base_offset;
        let dir = self.dir().to_path_buf();
        let tmp = dir.join(format!("{}.cleaned", file_name(base, "log")));
        let source = l.segments[last].log.clone();
        let rewrite = || -> io::Result<()> {
            let out = std::fs::File::create(&tmp)?;
            let mut buf = vec![0u8; 1 << 20];
            let mut at = 0u64;
            while at < cut {
                let n = buf.len().min((cut - at) as usize);
                source.read_exact_at(&mut buf[..n], at)?;
                out.write_all_at(&buf[..n], at)?;
                at += n as u64;
            }
            out.sync_all()?;
            std::fs::rename(&tmp, dir.join(file_name(base, "log")))?;
            segment::sync_dir(&dir)
        };
        let reopened = rewrite().and_then(|()| {
            Segment::open(
                &dir,
                base,
                l.config.segment_index_bytes,
                l.config.index_interval_bytes,
                true,
                super::now_ms(),
                |_, _| {},
            )
        });
        let (mut seg, _) = reopened.map_err(|e| self.fail(&e))?;
        seg.map_for_reads(active_map_len(&l.config));
        l.segments[last] = seg;
        Ok(())
    }

    /// Sets the cleaner's progress and checkpoints it.
    fn store_cleaner(&self, l: &mut PartitionLog, state: CleanerState) -> Result<(), LogError> {
        l.cleaner = state;
        let numbers = [state.first_dirty, state.tombstone_due_ms.unwrap_or(-1)];
        self.durability
            .write_unless_deleted(self.dir(), CLEANER_CHECKPOINT_FILE, &numbers)
            .map_err(|e| self.fail(&e))?;
        Ok(())
    }
}
