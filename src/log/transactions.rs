//! A partition's side of transactions (KIP-98): the last stable offset, the aborted
//! transactions a READ_COMMITTED fetch needs, the producers DescribeProducers lists, and
//! keeping the producer state and each segment's `.txnindex` in step with the log.
//!
//! Invariants (under the partition lock):
//! - the producer state is the replay, in offset order, of every batch in the log
//!   ([`super::producer_state`]); appends, follower appends, truncation and recovery all go
//!   through [`super::producer_state::ProducerStateTable::record`];
//! - every aborted transaction the replay finds is an entry of the `.txnindex` of the
//!   segment holding its ABORT marker, in marker order;
//! - closed transactions whose marker is below the high watermark are forgotten as the high
//!   watermark moves, so computing the last stable offset looks at few entries.

use super::batch::{self, BatchHeader, ControlMarker};
use super::partition::{LogError, Partition, PartitionLog};
use super::producer_state::{ProducerStateTable, ProducerView};
use super::txn_index::{self, AbortedTxn};

impl Partition {
    /// The last stable offset: min(high watermark, first unstable offset). READ_COMMITTED
    /// consumers read below it. The high watermark while the partition is unavailable
    /// (failed or deleted), when every read of it fails anyway.
    pub fn last_stable_offset(&self) -> i64 {
        match self.lock() {
            Ok(l) => l.producers.last_stable_offset(self.high_watermark()),
            Err(_) => self.high_watermark(),
        }
    }

    /// (producer id, first offset) of every aborted transaction with last offset >= `from`
    /// and first offset < `upper`, as Kafka's `collectAbortedTransactions`: searched from the
    /// segment holding `from` on, until an entry's last stable offset reaches `upper`.
    pub fn aborted_transactions(&self, from: i64, upper: i64) -> Result<Vec<(i64, i64)>, LogError> {
        Ok(self
            .aborted_entries(from, upper)?
            .into_iter()
            .map(|e| (e.producer_id, e.first_offset))
            .collect())
    }

    /// The whole entries [`Partition::aborted_transactions`] answers from.
    pub fn aborted_entries(&self, from: i64, upper: i64) -> Result<Vec<AbortedTxn>, LogError> {
        let l = self.lock()?;
        let first = l
            .segments
            .partition_point(|s| s.base_offset <= from)
            .saturating_sub(1);
        let mut out = Vec::new();
        for s in &l.segments[first..] {
            if txn_index::collect(s.txn.entries(), from, upper, &mut out) {
                break;
            }
        }
        Ok(out)
    }

    /// Every producer with state in this partition (DescribeProducers).
    pub fn producer_states(&self) -> Result<Vec<ProducerView>, LogError> {
        Ok(self.lock()?.producers.views())
    }

    /// (producer id, first offset) of every open transaction, by first offset; empty when
    /// the partition is unavailable.
    pub fn open_transactions(&self) -> Vec<(i64, i64)> {
        self.lock()
            .map(|l| l.producers.open_transactions())
            .unwrap_or_default()
    }

    /// Records a batch just written to the active segment in the producer state; an ABORT
    /// marker closing a transaction adds its entry to the active segment's `.txnindex`. A
    /// failed index write latches the partition failed (its entry is kept in memory; the
    /// file is rebuilt at the next start).
    pub(super) fn record_stored(
        &self,
        l: &mut PartitionLog,
        h: &BatchHeader,
        marker: Option<ControlMarker>,
    ) -> Result<(), LogError> {
        if let Some(aborted) = l.producers.record(h, marker) {
            if let Err(e) = l.active_mut().txn.append(aborted) {
                return Err(self.fail(&e));
            }
        }
        Ok(())
    }

    /// Rebuilds the producer state and every segment's aborted entries by replaying the
    /// batches in the segments' maps (after a truncation). A changed `.txnindex` is
    /// rewritten.
    pub(super) fn replay_transactions(&self, l: &mut PartitionLog) -> Result<(), LogError> {
        let mut producers = ProducerStateTable::default();
        for s in &mut l.segments {
            let map = match s.map_covering(0) {
                Ok(map) => map,
                Err(e) => return Err(self.fail(&e)),
            };
            let mut aborted = Vec::new();
            if let Some(map) = map {
                let data = &map[..(s.size as usize).min(map.len())];
                replay_batches(data, &mut producers, &mut aborted);
            }
            if let Err(e) = s.txn.replace(aborted) {
                return Err(self.fail(&e));
            }
        }
        producers.on_high_watermark(self.high_watermark());
        l.producers = producers;
        Ok(())
    }
}

/// The marker of a control batch appended as leader, which only a transaction coordinator
/// does (Produce refuses clients' control batches): it must be an ABORT or COMMIT marker
/// (else INVALID_RECORD), checked against its producer's epochs.
pub(super) fn leader_marker(
    l: &PartitionLog,
    raw: &[u8],
    h: &BatchHeader,
) -> Result<ControlMarker, LogError> {
    let m = batch::parse_control(raw, h).ok_or_else(|| {
        LogError::InvalidRecord("a control batch that is no transaction marker".into())
    })?;
    l.producers.check_marker(h, &m)?;
    Ok(m)
}

/// Replays the whole batches of `data` (a segment's bytes) into `producers`, collecting the
/// aborted transactions they close.
pub(super) fn replay_batches(
    data: &[u8],
    producers: &mut ProducerStateTable,
    aborted: &mut Vec<AbortedTxn>,
) {
    let mut pos = 0usize;
    while let Some(len) = data.get(pos..).and_then(batch::peek_total_len) {
        let Some(raw) = data.get(pos..pos + len) else {
            break;
        };
        let Ok(h) = BatchHeader::parse(raw) else {
            break;
        };
        let marker = batch::parse_control(raw, &h);
        aborted.extend(producers.record(&h, marker));
        pos += len;
    }
}

/// The offset after the last whole batch of `records` (stored batches as a read returns
/// them), or `None` when there is none. Only batch headers are read.
pub fn end_of_batches(records: &[u8]) -> Option<i64> {
    let mut pos = 0usize;
    let mut end = None;
    while let Some(len) = records.get(pos..).and_then(batch::peek_total_len) {
        if pos + len > records.len() {
            break;
        }
        let Ok(h) = BatchHeader::parse(&records[pos..]) else {
            break;
        };
        end = Some(h.last_offset().saturating_add(1));
        pos += len;
    }
    end
}
