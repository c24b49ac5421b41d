//! The transaction coordinator (KIP-98): owns the transactional ids whose partition of
//! `__transaction_state` this broker leads, runs each id's pure state machine
//! ([`state::TxnMeta`]), writes every state change to that partition in Kafka's record
//! format ([`records`]) and answers only once it is committed, then has the transaction's
//! COMMIT or ABORT markers written to every partition it touched ([`markers`]) and records
//! its completion. The ids held here are a cache of those partitions, rebuilt when a
//! partition's leadership arrives ([`load`]), as the group coordinator does for
//! `__consumer_offsets`.
//!
//! Invariants:
//! - the coordinator of an id is the leader of partition `abs(javaHashCode(id)) % partitions`
//!   of `__transaction_state`; its coordinator epoch is that partition's leader epoch, which
//!   every marker carries so partition leaders can refuse a deposed coordinator's markers;
//! - a state is installed only after its record is committed; while it is being written the
//!   id is `pending` and every other request for it is CONCURRENT_TRANSACTIONS;
//! - a transaction in PrepareCommit / PrepareAbort always reaches CompleteCommit /
//!   CompleteAbort: the markers are retried until written, also by a new coordinator that
//!   loads the Prepare state after a failover.
//!
//! Locking: one std mutex over all ids, never held across an `.await`.

pub mod config;
pub mod load;
pub mod markers;
pub mod records;
pub mod state;
pub mod timers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use crate::broker::Broker;
use crate::group::offsets_topic::{self, partition_for};
use crate::group::ownership::{self, Held};
use crate::log::batch;
use crate::log::now_ms;
use crate::protocol::error_code as ec;
use config::TxnConfig;
use state::{InitRequest, Outcome, Step, TxnMeta, TxnState};

/// The topic's name.
pub const TXN_TOPIC: &str = "__transaction_state";

#[derive(Default)]
struct Inner {
    txns: HashMap<String, TxnMeta>,
    /// The `__transaction_state` partitions held here, with their leader epoch.
    held: BTreeMap<i32, Held>,
    /// The topic's partition count, which places ids.
    partitions: i32,
}

impl Inner {
    fn partition_of(&self, transactional_id: &str) -> i32 {
        partition_for(transactional_id, self.partitions)
    }

    /// Ok(coordinator epoch) when this broker coordinates the id now.
    fn check(&self, transactional_id: &str) -> Result<i32, i16> {
        ownership::status(&self.held, self.partition_of(transactional_id))
    }
}

/// One transaction as DescribeTransactions and ListTransactions report it.
pub type TxnView = TxnMeta;

pub struct TransactionCoordinator {
    inner: Mutex<Inner>,
    pub config: TxnConfig,
    /// Woken when a partition is loaded (its timers may be due).
    pub wake: Notify,
    /// Connections to other brokers for WriteTxnMarkers, by broker id (with its address).
    channels: Mutex<HashMap<i32, (String, crate::server::peer::PeerStream)>>,
}

/// Where a write goes: the id's partition and the coordinator epoch it was decided in.
#[derive(Debug, Clone, Copy)]
struct Slot {
    partition: i32,
    epoch: i32,
}

impl TransactionCoordinator {
    pub fn new(config: TxnConfig) -> Self {
        TransactionCoordinator {
            inner: Mutex::new(Inner {
                partitions: config.num_partitions,
                ..Inner::default()
            }),
            config,
            wake: Notify::new(),
            channels: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The partition of `__transaction_state` that holds `transactional_id`.
    pub fn partition_of(&self, transactional_id: &str) -> i32 {
        self.lock().partition_of(transactional_id)
    }

    /// Marks `meta` pending and returns where to write it; the id must be served here.
    fn begin(&self, inner: &mut Inner, next: &TxnMeta) -> Result<Slot, i16> {
        let epoch = inner.check(&next.transactional_id)?;
        let partition = inner.partition_of(&next.transactional_id);
        let entry = inner
            .txns
            .entry(next.transactional_id.clone())
            .or_insert_with(|| TxnMeta {
                // A new id: held as never written (epoch -1) until its record commits.
                producer_epoch: state::NO_EPOCH,
                state: TxnState::Empty,
                ..next.clone()
            });
        entry.pending = Some(next.state);
        Ok(Slot { partition, epoch })
    }

    /// Writes `next` (already marked pending by [`Self::begin`]) and installs it once
    /// committed; on failure the id is no longer pending (a never-written id is forgotten).
    async fn write(&self, broker: &Broker, slot: Slot, next: TxnMeta) -> Result<(), i16> {
        let value = records::TxnValue {
            producer_id: next.producer_id,
            producer_epoch: next.producer_epoch,
            timeout_ms: next.timeout_ms,
            state: next.state,
            partitions: next.partitions.clone(),
            last_update_ms: next.last_update_ms,
            start_ms: next.start_ms,
            previous_producer_id: next.previous_producer_id,
        };
        let record = (
            records::encode_key(&next.transactional_id),
            Some(value.encode()),
        );
        let result = self.append_committed(broker, &slot, record).await;
        let mut inner = self.lock();
        let served = inner.check(&next.transactional_id) == Ok(slot.epoch);
        match result {
            Ok(()) if served => {
                inner.txns.insert(next.transactional_id.clone(), next);
                Ok(())
            }
            failed => {
                let id = &next.transactional_id;
                if let Some(m) = inner.txns.get_mut(id) {
                    m.pending = None;
                    if m.producer_epoch == state::NO_EPOCH {
                        inner.txns.remove(id);
                    }
                }
                Err(failed.err().unwrap_or(ec::NOT_COORDINATOR))
            }
        }
    }

    /// Writes a tombstone for an expired id; forgets it once committed.
    async fn write_tombstone(&self, broker: &Broker, slot: Slot, id: &str) -> Result<(), i16> {
        let tombstone = (records::encode_key(id), None);
        let result = self.append_committed(broker, &slot, tombstone).await;
        let mut inner = self.lock();
        match result {
            Ok(()) if inner.check(id) == Ok(slot.epoch) => {
                inner.txns.remove(id);
                Ok(())
            }
            failed => {
                if let Some(m) = inner.txns.get_mut(id) {
                    m.pending = None;
                }
                Err(failed.err().unwrap_or(ec::NOT_COORDINATOR))
            }
        }
    }

    /// Appends one record to the slot's partition of `__transaction_state` as its leader in
    /// the slot's epoch, and waits until the replicas have committed it (within
    /// `offsets.commit.timeout.ms`, as Kafka's coordinator waits).
    async fn append_committed(
        &self,
        broker: &Broker,
        slot: &Slot,
        record: offsets_topic::KeyValue,
    ) -> Result<(), i16> {
        let raw = batch::encode_batch(&[record], now_ms());
        let appended =
            offsets_topic::append_batch(broker, TXN_TOPIC, slot.partition, slot.epoch, &raw)?;
        let timeout = Duration::from_millis(broker.groups.offsets.commit_timeout_ms);
        offsets_topic::wait_committed_within(&appended, timeout).await
    }

    /// InitProducerId with a transactional id: the producer id and epoch to use, after the
    /// new state is committed. An Ongoing transaction of an earlier instance is aborted
    /// first (with a bumped epoch, which fences that instance) and CONCURRENT_TRANSACTIONS
    /// answered; the client retries.
    pub async fn init_producer_id(
        &self,
        broker: &Arc<Broker>,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
    ) -> Result<(i64, i16), i16> {
        if timeout_ms <= 0 || timeout_ms > self.config.max_timeout_ms {
            return Err(ec::INVALID_TRANSACTION_TIMEOUT);
        }
        let req = InitRequest {
            timeout_ms,
            expected,
        };
        let mut fresh = None;
        loop {
            let now = now_ms();
            let (slot, step) = {
                let mut inner = self.lock();
                inner.check(transactional_id)?;
                let meta = inner.txns.get(transactional_id);
                let step = TxnMeta::init_producer_id(meta, transactional_id, req, fresh, now)?;
                match &step {
                    Step::Write(next) | Step::FenceAndAbort(next) => {
                        (Some(self.begin(&mut inner, next)?), step)
                    }
                    _ => (None, step),
                }
            };
            match (step, slot) {
                (Step::NeedProducerId, _) => {
                    fresh = Some(broker.cluster.next_producer_id().await.map_err(|e| {
                        tracing::warn!(error = %e.message, "allocating a producer id");
                        e.code
                    })?);
                }
                (Step::Write(next), Some(slot)) => {
                    let answer = (next.producer_id, next.producer_epoch);
                    self.write(broker, slot, next).await?;
                    return Ok(answer);
                }
                (Step::FenceAndAbort(next), Some(slot)) => {
                    self.write(broker, slot, next.clone()).await?;
                    markers::spawn_completion(broker, slot.partition, slot.epoch, next);
                    return Err(ec::CONCURRENT_TRANSACTIONS);
                }
                _ => return Err(ec::UNKNOWN_SERVER_ERROR),
            }
        }
    }

    /// AddPartitionsToTxn / AddOffsetsToTxn: the partitions join the transaction once the
    /// new state is committed.
    pub async fn add_partitions(
        &self,
        broker: &Broker,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &BTreeSet<(String, i32)>,
    ) -> Result<(), i16> {
        let decide = |m: &TxnMeta| m.add_partitions(producer_id, epoch, partitions, now_ms());
        match self.begin_step(transactional_id, decide)? {
            Some((slot, next)) => self.write(broker, slot, next).await,
            None => Ok(()),
        }
    }

    /// The state machine's step for an existing id (INVALID_PRODUCER_ID_MAPPING if unknown);
    /// a state to write is begun (its slot taken), else None: nothing to write.
    fn begin_step(
        &self,
        transactional_id: &str,
        decide: impl FnOnce(&TxnMeta) -> Result<Step, i16>,
    ) -> Result<Option<(Slot, TxnMeta)>, i16> {
        let mut inner = self.lock();
        inner.check(transactional_id)?;
        let meta = inner
            .txns
            .get(transactional_id)
            .ok_or(ec::INVALID_PRODUCER_ID_MAPPING)?;
        match decide(meta)? {
            Step::Write(next) => Ok(Some((self.begin(&mut inner, &next)?, next))),
            _ => Ok(None),
        }
    }

    /// AddPartitionsToTxn v4+ `verify_only`: whether each partition is in the transaction.
    pub fn verify_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(String, i32)],
    ) -> Result<Vec<i16>, i16> {
        let inner = self.lock();
        inner.check(transactional_id)?;
        inner
            .txns
            .get(transactional_id)
            .ok_or(ec::INVALID_PRODUCER_ID_MAPPING)?
            .verify_partitions(producer_id, epoch, partitions)
    }

    /// EndTxn: the Prepare state is committed, then answered; the markers and the
    /// completion follow in the background.
    pub async fn end_txn(
        &self,
        broker: &Arc<Broker>,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        outcome: Outcome,
    ) -> Result<(), i16> {
        let decide = |m: &TxnMeta| m.end_txn(producer_id, epoch, outcome, now_ms());
        let Some((slot, next)) = self.begin_step(transactional_id, decide)? else {
            return Ok(());
        };
        self.write(broker, slot, next.clone()).await?;
        markers::spawn_completion(broker, slot.partition, slot.epoch, next);
        Ok(())
    }

    /// Writes the completion of a transaction whose markers are all written, if the id is
    /// still in that Prepare state with that producer (Ok(false) when it moved on).
    async fn complete(&self, broker: &Broker, prepared: &TxnMeta, epoch: i32) -> Result<bool, i16> {
        let (slot, next) = {
            let mut inner = self.lock();
            if inner.check(&prepared.transactional_id) != Ok(epoch) {
                return Err(ec::NOT_COORDINATOR);
            }
            let Some(meta) = inner.txns.get(&prepared.transactional_id) else {
                return Ok(false);
            };
            let same = meta.producer_id == prepared.producer_id
                && meta.producer_epoch == prepared.producer_epoch
                && meta.state == prepared.state;
            if !same {
                return Ok(false);
            }
            if meta.pending.is_some() {
                return Err(ec::CONCURRENT_TRANSACTIONS);
            }
            let Some(next) = meta.complete(now_ms()) else {
                return Ok(false);
            };
            (self.begin(&mut inner, &next)?, next)
        };
        self.write(broker, slot, next).await.map(|_| true)
    }

    /// Whether the id is still in `prepared`'s Prepare state in coordinator epoch `epoch`
    /// (the markers are still due).
    fn still_prepared(&self, prepared: &TxnMeta, epoch: i32) -> bool {
        let inner = self.lock();
        inner.check(&prepared.transactional_id) == Ok(epoch)
            && inner.txns.get(&prepared.transactional_id).is_some_and(|m| {
                m.state == prepared.state
                    && m.producer_id == prepared.producer_id
                    && m.producer_epoch == prepared.producer_epoch
            })
    }

    /// DescribeTransactions for one id.
    pub fn describe(&self, transactional_id: &str) -> Result<TxnView, i16> {
        let inner = self.lock();
        inner.check(transactional_id)?;
        match inner.txns.get(transactional_id) {
            Some(m) if m.producer_epoch != state::NO_EPOCH && m.state != TxnState::Dead => {
                Ok(m.clone())
            }
            _ => Err(ec::TRANSACTIONAL_ID_NOT_FOUND),
        }
    }

    /// Every id coordinated here (loaded partitions only).
    pub fn list(&self) -> Vec<TxnView> {
        let inner = self.lock();
        let mut v: Vec<TxnView> = inner
            .txns
            .values()
            .filter(|m| m.producer_epoch != state::NO_EPOCH && m.state != TxnState::Dead)
            .filter(|m| inner.check(&m.transactional_id).is_ok())
            .cloned()
            .collect();
        v.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        v
    }

    /// Whether any partition held here is still loading (ListTransactions answers
    /// COORDINATOR_LOAD_IN_PROGRESS then, as Kafka does).
    pub fn loading(&self) -> bool {
        self.lock().held.values().any(|h| !h.loaded)
    }
}
