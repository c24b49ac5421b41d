//! The coordinator's timers (Kafka's `transaction-abort` and
//! `transactionalId-expiration` tasks): every
//! `transaction.abort.timed.out.transaction.cleanup.interval.ms`, transactions Ongoing past
//! their `transaction.timeout.ms` are aborted with a bumped epoch (which fences the producer
//! that abandoned them); every `transaction.remove.expired.transaction.cleanup.interval.ms`,
//! ids idle for `transactional.id.expiration.ms` are forgotten with a tombstone.

use std::sync::Arc;
use std::time::Duration;

use super::state::TxnMeta;
use super::{markers, Slot};
use crate::broker::Broker;
use crate::log::now_ms;

/// Runs both timers until shutdown.
pub async fn run_timers(broker: Arc<Broker>) {
    let c = broker.txns.config;
    let abort_every = Duration::from_millis(c.abort_interval_ms.max(1));
    let expire_every = Duration::from_millis(c.expiry_interval_ms.max(1));
    let mut abort = tokio::time::interval(abort_every);
    let mut expire = tokio::time::interval(expire_every);
    abort.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    expire.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            _ = abort.tick() => abort_timed_out(&broker).await,
            _ = expire.tick() => expire_idle(&broker).await,
        }
    }
}

/// Aborts every transaction past its timeout that this broker coordinates.
pub async fn abort_timed_out(broker: &Arc<Broker>) {
    let now = now_ms();
    let due: Vec<(Slot, TxnMeta)> = {
        let mut inner = broker.txns.lock();
        let ids: Vec<String> = inner
            .txns
            .values()
            .filter(|m| m.timed_out(now))
            .map(|m| m.transactional_id.clone())
            .collect();
        let mut due = Vec::new();
        for id in ids {
            let Some(next) = inner.txns.get(&id).and_then(|m| m.fence(now).ok()) else {
                continue;
            };
            if let Ok(slot) = broker.txns.begin(&mut inner, &next) {
                due.push((slot, next));
            }
        }
        due
    };
    for (slot, next) in due {
        let id = next.transactional_id.clone();
        match broker.txns.write(broker, slot, next.clone()).await {
            Ok(()) => {
                tracing::info!(
                    transactional_id = %id,
                    producer_id = next.producer_id,
                    epoch = next.producer_epoch,
                    "aborting a transaction past its timeout"
                );
                markers::spawn_completion(broker, slot.partition, slot.epoch, next);
            }
            Err(code) => tracing::debug!(transactional_id = %id, code, "timeout abort not written"),
        }
    }
}

/// Forgets ids idle for `transactional.id.expiration.ms`.
pub async fn expire_idle(broker: &Arc<Broker>) {
    let now = now_ms();
    let expiration = broker.txns.config.id_expiration_ms;
    let due: Vec<(Slot, String)> = {
        let mut inner = broker.txns.lock();
        let ids: Vec<String> = inner
            .txns
            .values()
            .filter(|m| m.expired(now, expiration))
            .map(|m| m.transactional_id.clone())
            .collect();
        let mut due = Vec::new();
        for id in ids {
            let Ok(epoch) = inner.check(&id) else {
                continue;
            };
            let partition = inner.partition_of(&id);
            if let Some(m) = inner.txns.get_mut(&id) {
                m.pending = Some(super::state::TxnState::Dead);
                due.push((Slot { partition, epoch }, id));
            }
        }
        due
    };
    for (slot, id) in due {
        match broker.txns.write_tombstone(broker, slot, &id).await {
            Ok(()) => tracing::info!(transactional_id = %id, "transactional id expired"),
            Err(code) => tracing::debug!(transactional_id = %id, code, "expiry not written"),
        }
    }
}
