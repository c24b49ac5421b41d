//! `__transaction_state`: its creation, and following the leadership of its partitions. A
//! partition led here is loaded (every id's latest state replayed from the log, as Kafka's
//! TransactionStateManager loads it); transactions found in PrepareCommit / PrepareAbort
//! have their markers sent again and are completed. A partition no longer led here is
//! unloaded. The decisions are [`crate::group::ownership`]'s; this is the I/O around them.

use std::collections::HashMap;
use std::sync::Arc;

use super::records::{decode_key, TxnValue};
use super::state::{TxnMeta, NO_EPOCH};
use super::{markers, TXN_TOPIC};
use crate::broker::Broker;
use crate::group::offsets_topic::{
    capped_replication_factor, create_internal, led_partitions, read_while_held, scan_partition,
    LoadStats, Scanned,
};
use crate::group::ownership::{self, Held};
use crate::log::TopicPartition;
use crate::replication::Replica;
use crate::topics::TopicError;

/// Creates the topic if it does not exist yet (Kafka creates it on the first FindCoordinator
/// for a transactional id): `transaction.state.log.num.partitions` partitions, the
/// replication factor capped at the live brokers, `min.insync.replicas` from
/// `transaction.state.log.min.isr` capped at the replication factor, compacted.
pub async fn ensure_topic(broker: &Broker) -> Result<(), TopicError> {
    if broker.cluster.has_topic(TXN_TOPIC) {
        return Ok(());
    }
    let c = broker.txns.config;
    let rf = capped_replication_factor(broker, c.replication_factor);
    let min_isr = c.min_isr.clamp(1, rf);
    let configs = vec![
        ("cleanup.policy", "compact".to_string()),
        ("segment.bytes", c.segment_bytes.to_string()),
        ("min.insync.replicas", min_isr.to_string()),
        ("unclean.leader.election.enable", "false".to_string()),
        ("compression.type", "uncompressed".to_string()),
    ];
    create_internal(broker, TXN_TOPIC, c.num_partitions, rf, configs).await
}

/// Replays one partition: the latest state of each id (a tombstone forgets it). Records
/// that do not decode are counted and skipped.
pub fn read_partition(
    replica: &Replica,
) -> Result<(HashMap<String, TxnMeta>, LoadStats, u64), crate::log::LogError> {
    let mut txns: HashMap<String, TxnMeta> = HashMap::new();
    let mut damaged = 0u64;
    let stats = scan_partition(replica, |_, scanned| match scanned {
        Scanned::Records(views) => {
            for v in views {
                let Some(id) = v.key.and_then(|k| decode_key(k).ok()) else {
                    damaged += 1;
                    continue;
                };
                match v.value.map(TxnValue::decode) {
                    None => {
                        txns.remove(&id);
                    }
                    Some(Ok(value)) => {
                        let meta = restore(&id, value);
                        txns.insert(id, meta);
                    }
                    Some(Err(_)) => damaged += 1,
                }
            }
        }
        Scanned::Marker(_) => {}
        Scanned::Damaged => damaged += 1,
    })?;
    Ok((txns, stats, damaged))
}

/// The coordinator's state from a stored value (the last epoch is not stored: unknown).
fn restore(id: &str, v: TxnValue) -> TxnMeta {
    TxnMeta {
        transactional_id: id.to_string(),
        producer_id: v.producer_id,
        previous_producer_id: v.previous_producer_id,
        producer_epoch: v.producer_epoch,
        last_producer_epoch: NO_EPOCH,
        timeout_ms: v.timeout_ms,
        state: v.state,
        partitions: v.partitions,
        start_ms: v.start_ms,
        last_update_ms: v.last_update_ms,
        pending: None,
    }
}

/// Follows this broker's leaderships of `__transaction_state` partitions (after every image
/// change): one no longer led here (or led in another epoch) is unloaded at once; a newly led
/// one is loaded in the background (COORDINATOR_LOAD_IN_PROGRESS meanwhile).
pub fn follow_leadership(broker: &Arc<Broker>) {
    let (topic, led) = led_partitions(broker, TXN_TOPIC);
    let plan = {
        let mut inner = broker.txns.lock();
        if let Some(t) = &topic {
            inner.partitions = t.partitions.len() as i32;
        }
        let plan = ownership::plan(&inner.held, &led);
        for p in &plan.unload {
            inner.held.remove(p);
            let partitions = inner.partitions;
            inner
                .txns
                .retain(|id, _| crate::group::offsets_topic::partition_for(id, partitions) != *p);
            tracing::info!(partition = p, "{TXN_TOPIC}: unloaded (leadership moved)");
        }
        plan.mark_loading(&mut inner.held);
        plan
    };
    for (partition, epoch) in plan.load {
        tokio::spawn(load_partition(broker.clone(), partition, epoch));
    }
}

/// Loads one partition, retrying a read that fails every second while the partition is
/// still held in `epoch`; then completes the transactions it finds half way.
async fn load_partition(broker: Arc<Broker>, partition: i32, epoch: i32) {
    let tp = TopicPartition::new(TXN_TOPIC, partition);
    let loading = Held {
        epoch,
        loaded: false,
    };
    let still_held = |b: &Broker| b.txns.lock().held.get(&partition) == Some(&loading);
    let Some((txns, stats, damaged)) =
        read_while_held(&broker, &tp, still_held, read_partition).await
    else {
        return;
    };
    let prepared: Vec<TxnMeta> = txns
        .values()
        .filter(|m| m.marker_outcome().is_some())
        .cloned()
        .collect();
    let count = txns.len();
    {
        let mut inner = broker.txns.lock();
        if inner.held.get(&partition) != Some(&loading) {
            return;
        }
        inner.txns.extend(txns);
        inner.held.insert(
            partition,
            Held {
                epoch,
                loaded: true,
            },
        );
    }
    tracing::info!(
        partition,
        epoch,
        ids = count,
        completing = prepared.len(),
        records = stats.records,
        bytes = stats.bytes,
        damaged,
        ms = stats.elapsed.as_millis() as u64,
        "{TXN_TOPIC}: loaded"
    );
    for meta in prepared {
        markers::spawn_completion(&broker, partition, epoch, meta);
    }
    broker.txns.wake.notify_one();
}
