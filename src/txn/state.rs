//! The transaction coordinator's state machine for one transactional id, as Kafka's
//! TransactionCoordinator and TransactionMetadata define it (transaction protocol version 0/1,
//! KIP-98 with KIP-360's epoch bumps). PURE: no I/O, no clock, no locks; the caller reads the
//! current [`TxnMeta`], asks for a [`Step`], writes the new state to `__transaction_state`
//! and only then installs it ([`TxnMeta::pending`] marks a write in flight, which every other
//! request meets as CONCURRENT_TRANSACTIONS).
//!
//! States and the transitions served:
//!
//! ```text
//!   (none) --InitProducerId--> Empty --AddPartitions/AddOffsets--> Ongoing
//!   Ongoing --EndTxn(commit)--> PrepareCommit --markers written--> CompleteCommit
//!   Ongoing --EndTxn(abort) / timeout / InitProducerId (fence)--> PrepareAbort
//!   PrepareAbort --markers written--> CompleteAbort
//!   Empty | CompleteCommit | CompleteAbort --InitProducerId--> Empty (epoch + 1)
//!   Empty | CompleteCommit | CompleteAbort --AddPartitions--> Ongoing
//!   Empty | CompleteCommit | CompleteAbort --expired--> Dead (a tombstone)
//! ```
//!
//! Invariants:
//! - only the holder of the current (producer id, epoch) changes a transaction; an older
//!   epoch is PRODUCER_FENCED, another producer id INVALID_PRODUCER_ID_MAPPING;
//! - a fence (InitProducerId meeting an Ongoing transaction, or its timeout) bumps the epoch
//!   in the same PrepareAbort state that aborts it, so the markers carry the new epoch and
//!   fence the old producer at every partition;
//! - an epoch never reaches `i16::MAX`: at `i16::MAX - 1` (exhausted) InitProducerId moves
//!   the id to a new producer id at epoch 0, remembering the old one.

use std::collections::BTreeSet;

use crate::protocol::error_code as ec;

/// Kafka's transaction states, with the ids of `TransactionLogValue.TransactionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    Dead,
    PrepareEpochFence,
}

impl TxnState {
    pub const ALL: [TxnState; 8] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::Dead,
        TxnState::PrepareEpochFence,
    ];

    pub fn id(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
            TxnState::Dead => 6,
            TxnState::PrepareEpochFence => 7,
        }
    }

    pub fn from_id(id: i8) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The name Kafka's DescribeTransactions and ListTransactions answer.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// States from which a transactional id may expire (no transaction in flight).
    pub fn is_idle(self) -> bool {
        matches!(
            self,
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
        )
    }
}

/// Kafka's `RecordBatch.NO_PRODUCER_EPOCH` / `NO_PRODUCER_ID`.
pub const NO_EPOCH: i16 = -1;
pub const NO_PRODUCER_ID: i64 = -1;

/// One transactional id's state as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnMeta {
    pub transactional_id: String,
    pub producer_id: i64,
    /// The producer id before the last rotation (-1: none).
    pub previous_producer_id: i64,
    pub producer_epoch: i16,
    /// The epoch before the last bump by InitProducerId (KIP-360 retries), -1 when none.
    pub last_producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    /// The partitions of the transaction in progress (empty when none).
    pub partitions: BTreeSet<(String, i32)>,
    /// When the transaction in progress started (-1: none).
    pub start_ms: i64,
    pub last_update_ms: i64,
    /// A state being written to the log; set by the caller, never by the functions here.
    pub pending: Option<TxnState>,
}

/// The request's end of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Commit,
    Abort,
}

/// What the coordinator does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to write: answer success (with the current producer id and epoch).
    Answer,
    /// Write this state, then answer success.
    Write(TxnMeta),
    /// InitProducerId needs a fresh producer id: allocate one and ask again.
    NeedProducerId,
    /// Abort the transaction in progress with a bumped epoch (write this PrepareAbort
    /// state, then its markers); the requester is answered CONCURRENT_TRANSACTIONS and
    /// retries.
    FenceAndAbort(TxnMeta),
}

/// InitProducerId's inputs (the transactional form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitRequest {
    pub timeout_ms: i32,
    /// KIP-360 (v3+): the producer id and epoch the client holds, if any.
    pub expected: Option<(i64, i16)>,
}

fn is_exhausted(epoch: i16) -> bool {
    epoch >= i16::MAX - 1
}

impl TxnMeta {
    /// A transactional id seen for the first time, before its first epoch.
    pub fn new(transactional_id: &str, producer_id: i64, timeout_ms: i32, now: i64) -> TxnMeta {
        TxnMeta {
            transactional_id: transactional_id.to_string(),
            producer_id,
            previous_producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_EPOCH,
            last_producer_epoch: NO_EPOCH,
            timeout_ms,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            start_ms: -1,
            last_update_ms: now,
            pending: None,
        }
    }

    fn to(&self, state: TxnState, now: i64) -> TxnMeta {
        TxnMeta {
            state,
            last_update_ms: now,
            pending: None,
            ..self.clone()
        }
    }

    /// InitProducerId with a transactional id. `meta` is None for an unknown id; `fresh` is a
    /// newly allocated producer id once [`Step::NeedProducerId`] was answered.
    pub fn init_producer_id(
        meta: Option<&TxnMeta>,
        transactional_id: &str,
        req: InitRequest,
        fresh: Option<i64>,
        now: i64,
    ) -> Result<Step, i16> {
        let created;
        let meta = match (meta, fresh) {
            (Some(m), _) => m,
            (None, None) => return Ok(Step::NeedProducerId),
            (None, Some(pid)) => {
                created = TxnMeta::new(transactional_id, pid, req.timeout_ms, now);
                &created
            }
        };
        if meta.pending.is_some() {
            return Err(ec::CONCURRENT_TRANSACTIONS);
        }
        if let Some((pid, epoch)) = req.expected {
            let valid = meta.producer_epoch == NO_EPOCH
                || pid == meta.producer_id
                || (pid == meta.previous_producer_id && is_exhausted(epoch));
            if !valid {
                return Err(ec::PRODUCER_FENCED);
            }
        }
        match meta.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => Err(ec::CONCURRENT_TRANSACTIONS),
            TxnState::Ongoing => Ok(Step::FenceAndAbort(meta.fence(now)?)),
            TxnState::Dead | TxnState::PrepareEpochFence => Err(ec::UNKNOWN_SERVER_ERROR),
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                let expected_epoch = req.expected.map(|(_, e)| e);
                if is_exhausted(meta.producer_epoch)
                    && expected_epoch.is_none_or(|e| e == meta.producer_epoch)
                {
                    // Rotation: a new producer id at epoch 0.
                    let Some(pid) = fresh.filter(|p| *p != meta.producer_id) else {
                        return Ok(Step::NeedProducerId);
                    };
                    let mut next = meta.to(TxnState::Empty, now);
                    next.previous_producer_id = meta.producer_id;
                    next.producer_id = pid;
                    next.producer_epoch = 0;
                    next.last_producer_epoch = if req.expected.is_some() {
                        meta.producer_epoch
                    } else {
                        NO_EPOCH
                    };
                    next.timeout_ms = req.timeout_ms;
                    next.partitions.clear();
                    next.start_ms = -1;
                    return Ok(Step::Write(next));
                }
                if is_exhausted(meta.producer_epoch) {
                    return Err(ec::PRODUCER_FENCED);
                }
                let bumped = meta.producer_epoch + 1;
                let (epoch, last) = match expected_epoch {
                    None => (bumped, NO_EPOCH),
                    Some(e) if meta.producer_epoch == NO_EPOCH || e == meta.producer_epoch => {
                        (bumped, meta.producer_epoch)
                    }
                    // A retry of a call that succeeded: the current epoch again.
                    Some(e) if e == meta.last_producer_epoch => {
                        (meta.producer_epoch, meta.last_producer_epoch)
                    }
                    Some(_) => return Err(ec::PRODUCER_FENCED),
                };
                let mut next = meta.to(TxnState::Empty, now);
                next.producer_epoch = epoch;
                next.last_producer_epoch = last;
                next.timeout_ms = req.timeout_ms;
                next.partitions.clear();
                next.start_ms = -1;
                Ok(Step::Write(next))
            }
        }
    }

    /// The PrepareAbort state that fences the current producer (epoch + 1) and aborts its
    /// transaction in progress: InitProducerId from a new instance, or the timeout.
    pub fn fence(&self, now: i64) -> Result<TxnMeta, i16> {
        if self.producer_epoch == i16::MAX {
            return Err(ec::UNKNOWN_SERVER_ERROR);
        }
        let mut next = self.to(TxnState::PrepareAbort, now);
        next.producer_epoch = self.producer_epoch + 1;
        next.last_producer_epoch = NO_EPOCH;
        Ok(next)
    }

    fn check_producer(&self, producer_id: i64, epoch: i16) -> Result<(), i16> {
        if self.producer_id != producer_id {
            Err(ec::INVALID_PRODUCER_ID_MAPPING)
        } else if self.producer_epoch != epoch {
            Err(ec::PRODUCER_FENCED)
        } else if self.pending.is_some() {
            Err(ec::CONCURRENT_TRANSACTIONS)
        } else {
            Ok(())
        }
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn, with the group's `__consumer_offsets`
    /// partition).
    pub fn add_partitions(
        &self,
        producer_id: i64,
        epoch: i16,
        partitions: &BTreeSet<(String, i32)>,
        now: i64,
    ) -> Result<Step, i16> {
        self.check_producer(producer_id, epoch)?;
        match self.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => Err(ec::CONCURRENT_TRANSACTIONS),
            TxnState::Ongoing if partitions.is_subset(&self.partitions) => Ok(Step::Answer),
            TxnState::Dead | TxnState::PrepareEpochFence => Err(ec::UNKNOWN_SERVER_ERROR),
            state => {
                let mut next = self.to(TxnState::Ongoing, now);
                next.partitions.extend(partitions.iter().cloned());
                if state != TxnState::Ongoing {
                    next.start_ms = now;
                }
                Ok(Step::Write(next))
            }
        }
    }

    /// AddPartitionsToTxn v4+ with `verify_only` (KIP-890): for each partition, NONE if it is
    /// in the transaction in progress, TRANSACTION_ABORTABLE if not; or one error for all.
    pub fn verify_partitions(
        &self,
        producer_id: i64,
        epoch: i16,
        partitions: &[(String, i32)],
    ) -> Result<Vec<i16>, i16> {
        if self.producer_id != producer_id {
            return Err(ec::INVALID_PRODUCER_ID_MAPPING);
        }
        if self.producer_epoch != epoch {
            return Err(ec::PRODUCER_FENCED);
        }
        if matches!(self.state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
            return Err(ec::CONCURRENT_TRANSACTIONS);
        }
        Ok(partitions
            .iter()
            .map(|tp| {
                if self.partitions.contains(tp) {
                    ec::NONE
                } else {
                    ec::TRANSACTION_ABORTABLE
                }
            })
            .collect())
    }

    /// EndTxn from the client.
    pub fn end_txn(
        &self,
        producer_id: i64,
        epoch: i16,
        outcome: Outcome,
        now: i64,
    ) -> Result<Step, i16> {
        if self.producer_id != producer_id {
            return Err(ec::INVALID_PRODUCER_ID_MAPPING);
        }
        if epoch != self.producer_epoch {
            return Err(ec::PRODUCER_FENCED);
        }
        if self.pending.is_some() {
            return Err(ec::CONCURRENT_TRANSACTIONS);
        }
        use Outcome::*;
        use TxnState::*;
        match (self.state, outcome) {
            (Ongoing, Commit) => Ok(Step::Write(self.to(PrepareCommit, now))),
            (Ongoing, Abort) => Ok(Step::Write(self.to(PrepareAbort, now))),
            (CompleteCommit, Commit) | (CompleteAbort, Abort) => Ok(Step::Answer),
            (PrepareCommit, Commit) | (PrepareAbort, Abort) => Err(ec::CONCURRENT_TRANSACTIONS),
            (Dead | PrepareEpochFence, _) => Err(ec::UNKNOWN_SERVER_ERROR),
            _ => Err(ec::INVALID_TXN_STATE),
        }
    }

    /// The state after every marker of a PrepareCommit / PrepareAbort transaction is written:
    /// CompleteCommit / CompleteAbort, with no partitions. None from any other state.
    pub fn complete(&self, now: i64) -> Option<TxnMeta> {
        let state = match self.state {
            TxnState::PrepareCommit => TxnState::CompleteCommit,
            TxnState::PrepareAbort => TxnState::CompleteAbort,
            _ => return None,
        };
        let mut next = self.to(state, now);
        next.partitions.clear();
        Some(next)
    }

    /// The outcome whose markers a Prepare state waits for.
    pub fn marker_outcome(&self) -> Option<Outcome> {
        match self.state {
            TxnState::PrepareCommit => Some(Outcome::Commit),
            TxnState::PrepareAbort => Some(Outcome::Abort),
            _ => None,
        }
    }

    /// Whether the coordinator must abort this transaction now: Ongoing past its timeout,
    /// with no write in flight (Kafka's `timedOutTransactions`).
    pub fn timed_out(&self, now: i64) -> bool {
        self.state == TxnState::Ongoing
            && self.pending.is_none()
            && self.start_ms.saturating_add(i64::from(self.timeout_ms)) < now
    }

    /// Whether the id may be forgotten: idle for `expiration_ms`
    /// (`transactional.id.expiration.ms`).
    pub fn expired(&self, now: i64, expiration_ms: i64) -> bool {
        self.state.is_idle()
            && self.pending.is_none()
            && self.last_update_ms.saturating_add(expiration_ms) <= now
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
