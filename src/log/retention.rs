//! Retention: which closed segments may go, and moving the log start offset.
//!
//! A segment is deleted whole, only when closed (never the active one) and wholly below the
//! high watermark (Kafka's `deletableSegments`: an uncommitted segment may still be
//! truncated by replication, never expired), and when:
//! - it lies entirely below the log start offset (moved up by DeleteRecords);
//! - with `cleanup.policy` containing `delete`: its largest timestamp is older than
//!   `retention.ms`, or the partition is larger than `retention.bytes` without it.
//!
//! Only a prefix of the log is ever deleted, so offsets stay contiguous from the log start
//! offset. Deletion is crash-safe: under the partition lock the segment's files are renamed
//! to `*.deleted` (indexes first, the `.log` last) and the directory fsynced; the files are
//! unlinked after the lock is released, or at the next start if the broker dies first.

use super::durability::write_offset_file;
use super::partition::{LogError, Partition, PartitionLog, LOG_START_FILE};
use super::segment;

/// What [`Partition::apply_retention`] removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetentionReport {
    pub segments: usize,
    pub bytes: u64,
    pub log_start_offset: i64,
}

/// How many leading closed segments may be deleted, given the high watermark `hw`.
fn deletable_prefix(l: &PartitionLog, now_ms: i64, by_policy: bool, hw: i64) -> usize {
    let segs = &l.segments;
    // Closed and wholly below the high watermark: the next segment starts at or below it.
    let closed = (0..segs.len() - 1)
        .take_while(|&i| segs[i + 1].base_offset <= hw)
        .count();
    let mut n = 0;
    // Wholly below the log start offset: the next segment starts at or before it.
    while n < closed && segs[n + 1].base_offset <= l.log_start_offset {
        n += 1;
    }
    if !(by_policy && l.config.deletes()) {
        return n;
    }
    if l.config.retention_ms >= 0 {
        while n < closed && now_ms - segs[n].largest_timestamp() > l.config.retention_ms {
            n += 1;
        }
    }
    if l.config.retention_bytes >= 0 {
        let limit = l.config.retention_bytes as u64;
        let mut size: u64 = segs[n..].iter().map(|s| s.size).sum();
        while n < closed && size > limit && size - segs[n].size >= limit {
            size -= segs[n].size;
            n += 1;
        }
    }
    n
}

impl Partition {
    /// Rolls the active segment when it holds data and is older than `segment.ms`, so that
    /// an idle partition's newest data can expire and be compacted too.
    pub fn roll_if_due(&self, now_ms: i64) -> Result<bool, LogError> {
        let mut guard = self.lock()?;
        let l = &mut *guard;
        let a = l.active();
        if a.size == 0 || now_ms - a.created_ms < l.config.roll_after_ms(a.base_offset) {
            return Ok(false);
        }
        self.roll(l, now_ms)?;
        Ok(true)
    }

    /// Deletes the closed segments retention allows (see the module docs) and advances the
    /// log start offset past them.
    pub fn apply_retention(&self, now_ms: i64) -> Result<RetentionReport, LogError> {
        self.delete_prefix(now_ms, true)
    }

    /// DeleteRecords: moves the log start offset up to `offset` (-1: the high watermark) and
    /// deletes the segments wholly below it. Returns the new log start offset. An offset
    /// above the high watermark is OFFSET_OUT_OF_RANGE; one below the current start changes
    /// nothing. Like Kafka, a partition whose `cleanup.policy` lacks `delete` refuses it
    /// (POLICY_VIOLATION).
    pub fn delete_records(&self, offset: i64) -> Result<i64, LogError> {
        {
            let mut l = self.lock()?;
            if !l.config.deletes() {
                return Err(LogError::PolicyViolation(self.tp.to_string()));
            }
            let hw = self.high_watermark();
            let target = if offset == -1 { hw } else { offset };
            if target < 0 || target > hw {
                return Err(LogError::OffsetOutOfRange {
                    offset,
                    start: l.log_start_offset,
                    end: hw,
                });
            }
            self.move_log_start(&mut l, target)?;
        }
        Ok(self.delete_prefix(super::now_ms(), false)?.log_start_offset)
    }

    /// Moves the log start offset up to `target` (no-op if not above it), persisted in
    /// [`LOG_START_FILE`]; the epoch cache follows (Kafka's `truncateFromStart`).
    pub(super) fn move_log_start(&self, l: &mut PartitionLog, target: i64) -> Result<(), LogError> {
        if target > l.log_start_offset {
            write_offset_file(self.dir(), LOG_START_FILE, target).map_err(|e| self.fail(&e))?;
            l.log_start_offset = target;
            self.clamp_high_watermark(l);
            if l.epochs.truncate_from_start(target) {
                self.store_epochs(l)?;
            }
        }
        Ok(())
    }

    pub(super) fn delete_prefix(
        &self,
        now_ms: i64,
        by_policy: bool,
    ) -> Result<RetentionReport, LogError> {
        let (removed, report) = {
            let mut guard = self.lock()?;
            let l = &mut *guard;
            let n = deletable_prefix(l, now_ms, by_policy, self.high_watermark());
            for s in &l.segments[..n] {
                if let Err(e) = segment::mark_deleted(self.dir(), s.base_offset) {
                    return Err(self.fail(&e));
                }
            }
            let removed: Vec<_> = l.segments.drain(..n).collect();
            let start = l.log_start_offset.max(l.segments[0].base_offset);
            l.log_start_offset = start;
            self.clamp_high_watermark(l);
            if l.epochs.truncate_from_start(start) {
                self.store_epochs(l)?;
            }
            let report = RetentionReport {
                segments: n,
                bytes: removed.iter().map(|s| s.size).sum(),
                log_start_offset: l.log_start_offset,
            };
            (removed, report)
        };
        for s in removed {
            if let Err(e) = segment::remove_deleted(self.dir(), s.base_offset) {
                // The files are out of the log already; the next start removes them.
                tracing::warn!(partition = %self.tp, error = %e, "removing deleted segment");
            }
        }
        if report.segments > 0 {
            tracing::info!(
                partition = %self.tp, segments = report.segments, bytes = report.bytes,
                log_start_offset = report.log_start_offset, "deleted old segments"
            );
        }
        Ok(report)
    }
}
