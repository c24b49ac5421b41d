//! Producer state per partition: for each producer id, its epoch and the sequence ranges and
//! offsets of its last five batches (idempotence), and its transaction state (KIP-98), as
//! Kafka's ProducerStateManager and ProducerAppendInfo keep them.
//!
//! Rules (Kafka's, for a batch carrying a producer id, appended by the leader):
//! - an unknown producer id is accepted at any sequence (its state may have been lost to
//!   retention);
//! - an epoch older than the known one is INVALID_PRODUCER_EPOCH (data and markers alike);
//! - a batch with base sequence -1 (the coordinators' writes) skips the sequence checks;
//! - a newer epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
//! - in the same epoch, a batch whose sequence range equals one of the last five is a
//!   duplicate (answered with the original offset, not appended again); otherwise its first
//!   sequence must follow the last one (wrapping after `i32::MAX`), else
//!   OUT_OF_ORDER_SEQUENCE_NUMBER;
//! - a non-transactional data batch while the producer's transaction is open is
//!   INVALID_TXN_STATE;
//! - a marker whose coordinator epoch is older than the producer's last marker's is
//!   TRANSACTION_COORDINATOR_FENCED.
//!
//! Transactions: a transactional data batch opens its producer's transaction at its base
//! offset when none is open; a marker (COMMIT or ABORT) closes it. A closed transaction stays
//! *unreplicated* until the high watermark passes its marker (Kafka's `unreplicatedTxns`).
//! The first unstable offset is the smallest first offset of the open and unreplicated
//! transactions; the last stable offset is min(high watermark, first unstable offset).
//! A marker for a producer with no open transaction is written and closes nothing.
//!
//! Followers and recovery [`record`](ProducerStateTable::record) every stored batch without
//! the checks. The state is rebuilt on start from the batches in the log.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::batch::{BatchHeader, ControlMarker};
use super::txn_index::AbortedTxn;

/// Batches remembered per producer for duplicate detection (Kafka's limit for in-flight
/// requests with idempotence).
pub const CACHED_BATCHES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMeta {
    first_seq: i32,
    last_seq: i32,
    first_offset: i64,
}

#[derive(Debug, Clone)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
    /// The coordinator epoch of the producer's last marker (-1: none seen).
    coordinator_epoch: i32,
    /// The max timestamp of the producer's last batch (-1: none).
    last_timestamp: i64,
    /// The first offset of the producer's open transaction.
    current_txn_first_offset: Option<i64>,
    /// The offset of its last batch when that is a marker.
    last_marker: Option<i64>,
}

impl Default for ProducerEntry {
    fn default() -> Self {
        ProducerEntry {
            epoch: -1,
            batches: VecDeque::new(),
            coordinator_epoch: -1,
            last_timestamp: -1,
            current_txn_first_offset: None,
            last_marker: None,
        }
    }
}

/// One producer as DescribeProducers reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerView {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The last sequence of its last batch with a sequence, -1 if none.
    pub last_sequence: i32,
    pub last_timestamp: i64,
    pub coordinator_epoch: i32,
    /// The first offset of its open transaction, -1 if none.
    pub current_txn_start_offset: i64,
}

/// The outcome of checking a batch against the producer state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Append the batch.
    Append,
    /// Already in the log: answer with this base offset and do not append.
    Duplicate { base_offset: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProducerError {
    #[error("producer epoch {got} is older than the current epoch {current}")]
    InvalidEpoch { got: i16, current: i16 },
    #[error("out of order sequence {got}, expected {expected}")]
    OutOfOrder { got: i32, expected: i32 },
    #[error("coordinator epoch {got} is older than the current coordinator epoch {current}")]
    CoordinatorFenced { got: i32, current: i32 },
    #[error("a non-transactional batch from producer {producer_id} while its transaction is open")]
    InvalidTxnState { producer_id: i64 },
}

#[derive(Debug, Default)]
pub struct ProducerStateTable {
    producers: HashMap<i64, ProducerEntry>,
    /// Open transactions: first offset -> producer id.
    ongoing: BTreeMap<i64, i64>,
    /// Closed transactions whose marker is not yet below the high watermark:
    /// first offset -> marker offset.
    unreplicated: BTreeMap<i64, i64>,
}

fn next_sequence(last: i32) -> i32 {
    if last == i32::MAX {
        0
    } else {
        last + 1
    }
}

impl ProducerStateTable {
    /// Checks a data batch (header as sent) against the state, without changing it.
    pub fn check(&self, h: &BatchHeader) -> Result<SequenceCheck, ProducerError> {
        if !h.has_producer_id() {
            return Ok(SequenceCheck::Append);
        }
        let Some(entry) = self.producers.get(&h.producer_id) else {
            return Ok(SequenceCheck::Append);
        };
        if h.producer_epoch < entry.epoch {
            return Err(ProducerError::InvalidEpoch {
                got: h.producer_epoch,
                current: entry.epoch,
            });
        }
        if entry.current_txn_first_offset.is_some() && !h.is_transactional() {
            return Err(ProducerError::InvalidTxnState {
                producer_id: h.producer_id,
            });
        }
        if h.base_sequence < 0 {
            return Ok(SequenceCheck::Append);
        }
        if h.producer_epoch > entry.epoch {
            return if h.base_sequence == 0 {
                Ok(SequenceCheck::Append)
            } else {
                Err(ProducerError::OutOfOrder {
                    got: h.base_sequence,
                    expected: 0,
                })
            };
        }
        let last_seq = h.last_sequence();
        if let Some(dup) = entry
            .batches
            .iter()
            .find(|b| b.first_seq == h.base_sequence && b.last_seq == last_seq)
        {
            return Ok(SequenceCheck::Duplicate {
                base_offset: dup.first_offset,
            });
        }
        let expected = entry
            .batches
            .back()
            .map(|b| next_sequence(b.last_seq))
            .unwrap_or(h.base_sequence);
        if h.base_sequence != expected {
            return Err(ProducerError::OutOfOrder {
                got: h.base_sequence,
                expected,
            });
        }
        Ok(SequenceCheck::Append)
    }

    /// Checks a marker of producer `h.producer_id` against the state: an older producer
    /// epoch is fenced, so is an older coordinator epoch.
    pub fn check_marker(
        &self,
        h: &BatchHeader,
        marker: &ControlMarker,
    ) -> Result<(), ProducerError> {
        let Some(entry) = self.producers.get(&h.producer_id) else {
            return Ok(());
        };
        if h.producer_epoch < entry.epoch {
            return Err(ProducerError::InvalidEpoch {
                got: h.producer_epoch,
                current: entry.epoch,
            });
        }
        if marker.coordinator_epoch < entry.coordinator_epoch {
            return Err(ProducerError::CoordinatorFenced {
                got: marker.coordinator_epoch,
                current: entry.coordinator_epoch,
            });
        }
        Ok(())
    }

    /// Records a stored batch (header with its assigned offsets; `marker` when it is a
    /// transaction marker). Returns the aborted transaction it closes, if it is an ABORT
    /// marker closing an open transaction, with the last stable offset for the index.
    /// A control batch that is no marker changes nothing.
    pub fn record(&mut self, h: &BatchHeader, marker: Option<ControlMarker>) -> Option<AbortedTxn> {
        if !h.has_producer_id() || (h.is_control() && marker.is_none()) {
            return None;
        }
        let pid = h.producer_id;
        let entry = self.producers.entry(pid).or_default();
        if h.producer_epoch != entry.epoch {
            entry.epoch = h.producer_epoch;
            entry.batches.clear();
        }
        entry.last_timestamp = h.max_timestamp;
        entry.last_marker = marker.map(|_| h.base_offset);
        if let Some(m) = marker {
            entry.coordinator_epoch = m.coordinator_epoch;
            let first = entry.current_txn_first_offset.take()?;
            self.ongoing.remove(&first);
            self.unreplicated.insert(first, h.base_offset);
            if m.commit {
                return None;
            }
            let last_stable_offset = self
                .ongoing
                .keys()
                .next()
                .copied()
                .unwrap_or(h.base_offset.saturating_add(1));
            return Some(AbortedTxn {
                producer_id: pid,
                first_offset: first,
                last_offset: h.base_offset,
                last_stable_offset,
            });
        }
        if h.is_transactional() && entry.current_txn_first_offset.is_none() {
            entry.current_txn_first_offset = Some(h.base_offset);
            self.ongoing.insert(h.base_offset, pid);
        }
        if h.base_sequence < 0 {
            return None;
        }
        if entry.batches.len() == CACHED_BATCHES {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMeta {
            first_seq: h.base_sequence,
            last_seq: h.last_sequence(),
            first_offset: h.base_offset,
        });
        None
    }

    /// The high watermark moved to `hw`: closed transactions whose marker is below it are
    /// stable and forgotten.
    pub fn on_high_watermark(&mut self, hw: i64) {
        self.unreplicated.retain(|_, marker| *marker >= hw);
    }

    /// The first unstable offset given the high watermark `hw`: the smallest first offset
    /// of an open transaction or of a closed one whose marker is at or above `hw`.
    pub fn first_unstable_offset(&self, hw: i64) -> Option<i64> {
        let open = self.ongoing.keys().next().copied();
        let closed = self
            .unreplicated
            .iter()
            .find(|(_, marker)| **marker >= hw)
            .map(|(first, _)| *first);
        match (open, closed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The last stable offset given the high watermark `hw` (module docs).
    pub fn last_stable_offset(&self, hw: i64) -> i64 {
        self.first_unstable_offset(hw).map_or(hw, |f| f.min(hw))
    }

    /// (producer id, first offset) of every open transaction, by first offset.
    pub fn open_transactions(&self) -> Vec<(i64, i64)> {
        self.ongoing
            .iter()
            .map(|(first, pid)| (*pid, *first))
            .collect()
    }

    /// Every producer, by producer id.
    pub fn views(&self) -> Vec<ProducerView> {
        let mut out: Vec<ProducerView> = self
            .producers
            .iter()
            .map(|(pid, e)| ProducerView {
                producer_id: *pid,
                producer_epoch: e.epoch,
                last_sequence: e.batches.back().map_or(-1, |b| b.last_seq),
                last_timestamp: e.last_timestamp,
                coordinator_epoch: e.coordinator_epoch,
                current_txn_start_offset: e.current_txn_first_offset.unwrap_or(-1),
            })
            .collect();
        out.sort_by_key(|v| v.producer_id);
        out
    }

    /// (producer id, base offset) of every producer's last batch in the log: the batches the
    /// log cleaner must keep (if only as empty batches) so the sequence state survives.
    pub fn last_batches(&self) -> std::collections::HashSet<(i64, i64)> {
        self.producers
            .iter()
            .filter_map(|(pid, e)| Some((*pid, e.batches.back()?.first_offset)))
            .collect()
    }

    /// (producer id, offset) of every producer whose last batch is a marker: the log cleaner
    /// keeps it, so the producer's epochs survive (Kafka's `lastRecordsOfActiveProducers`).
    pub fn last_markers(&self) -> std::collections::HashSet<(i64, i64)> {
        self.producers
            .iter()
            .filter_map(|(pid, e)| Some((*pid, e.last_marker?)))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::{tests::make_batch, BatchHeader};

    fn header(offset: i64, count: i32, pid: i64, epoch: i16, seq: i32) -> BatchHeader {
        BatchHeader::parse(&make_batch(offset, count, Some((pid, epoch, seq)))).unwrap()
    }

    #[test]
    fn sequence_rules() {
        let mut t = ProducerStateTable::default();
        let first = header(0, 3, 9, 0, 0);
        assert_eq!(t.check(&first), Ok(SequenceCheck::Append));
        t.record(&first, None);
        // A retry of the same batch is a duplicate with its original offset.
        assert_eq!(
            t.check(&header(-1, 3, 9, 0, 0)),
            Ok(SequenceCheck::Duplicate { base_offset: 0 })
        );
        // A gap is out of order.
        assert_eq!(
            t.check(&header(-1, 1, 9, 0, 5)),
            Err(ProducerError::OutOfOrder {
                got: 5,
                expected: 3
            })
        );
        let next = header(3, 2, 9, 0, 3);
        assert_eq!(t.check(&next), Ok(SequenceCheck::Append));
        t.record(&next, None);
        // An older epoch is fenced; a newer one must start at 0.
        assert!(matches!(
            t.check(&header(-1, 1, 9, -1, 5)),
            Err(ProducerError::InvalidEpoch { .. })
        ));
        assert!(matches!(
            t.check(&header(-1, 1, 9, 1, 5)),
            Err(ProducerError::OutOfOrder { .. })
        ));
        assert_eq!(t.check(&header(-1, 1, 9, 1, 0)), Ok(SequenceCheck::Append));
        // Unknown producers are accepted anywhere.
        assert_eq!(
            t.check(&header(-1, 1, 10, 0, 77)),
            Ok(SequenceCheck::Append)
        );
    }

    #[test]
    fn only_five_batches_are_remembered() {
        let mut t = ProducerStateTable::default();
        for i in 0..7 {
            t.record(&header(i64::from(i), 1, 1, 0, i), None);
        }
        assert_eq!(
            t.check(&header(-1, 1, 1, 0, 2)),
            Ok(SequenceCheck::Duplicate { base_offset: 2 })
        );
        // Batch 0 and 1 fell out of the cache: no longer recognised as duplicates.
        assert!(t.check(&header(-1, 1, 1, 0, 1)).is_err());
        assert_eq!(t.len(), 1);
    }
}
