//! Idempotent producer state per partition: for each producer id, its epoch and the sequence
//! ranges and offsets of its last five batches, as Kafka's ProducerStateManager keeps them.
//!
//! Rules (Kafka's, for a batch carrying a producer id):
//! - an unknown producer id is accepted at any sequence (its state may have been lost to
//!   retention);
//! - an epoch older than the known one is INVALID_PRODUCER_EPOCH;
//! - a newer epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
//! - in the same epoch, a batch whose sequence range equals one of the last five is a
//!   duplicate (answered with the original offset, not appended again); otherwise its first
//!   sequence must follow the last one (wrapping after `i32::MAX`), else
//!   OUT_OF_ORDER_SEQUENCE_NUMBER.
//!
//! The state is rebuilt on start from the batch headers in the log.

use std::collections::{HashMap, VecDeque};

use super::batch::BatchHeader;

/// Batches remembered per producer for duplicate detection (Kafka's limit for in-flight
/// requests with idempotence).
pub const CACHED_BATCHES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMeta {
    first_seq: i32,
    last_seq: i32,
    first_offset: i64,
}

#[derive(Debug, Clone, Default)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
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
}

#[derive(Debug, Default)]
pub struct ProducerStateTable {
    producers: HashMap<i64, ProducerEntry>,
}

fn next_sequence(last: i32) -> i32 {
    if last == i32::MAX {
        0
    } else {
        last + 1
    }
}

impl ProducerStateTable {
    /// Checks a batch (header as sent) against the state, without changing it.
    pub fn check(&self, h: &BatchHeader) -> Result<SequenceCheck, ProducerError> {
        if !h.has_producer_id() || h.base_sequence < 0 {
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

    /// Records an appended batch (header with its assigned offsets).
    pub fn record(&mut self, h: &BatchHeader) {
        if !h.has_producer_id() {
            return;
        }
        let entry = self.producers.entry(h.producer_id).or_default();
        if h.producer_epoch != entry.epoch {
            entry.epoch = h.producer_epoch;
            entry.batches.clear();
        }
        if h.base_sequence < 0 {
            return;
        }
        if entry.batches.len() == CACHED_BATCHES {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMeta {
            first_seq: h.base_sequence,
            last_seq: h.last_sequence(),
            first_offset: h.base_offset,
        });
    }

    /// (producer id, base offset) of every producer's last batch in the log: the batches the
    /// log cleaner must keep (if only as empty batches) so the sequence state survives.
    pub fn last_batches(&self) -> std::collections::HashSet<(i64, i64)> {
        self.producers
            .iter()
            .filter_map(|(pid, e)| Some((*pid, e.batches.back()?.first_offset)))
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
        t.record(&first);
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
        t.record(&next);
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
            t.record(&header(i64::from(i), 1, 1, 0, i));
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
