//! Following the leadership of `__consumer_offsets` partitions: a partition led here is
//! loaded (its groups and offsets rebuilt from the log, then what the per-node store of an
//! earlier weir kept for its groups migrated onto it); a partition no longer led here is
//! unloaded. The decisions are [`super::ownership`]'s; this is the I/O around them.

use std::sync::Arc;

use super::offsets_topic::{self, KeyValue, OFFSETS_TOPIC};
use super::persist::{group_key, offset_key, OffsetList};
use super::records::{GroupValue, OffsetValue};
use super::*;
use crate::broker::Broker;
use crate::log::TopicPartition;

impl Inner {
    /// Drops a partition's groups and offsets; members waiting on JoinGroup or SyncGroup
    /// get NOT_COORDINATOR and find the new coordinator.
    fn unload(&mut self, partition: i32) {
        self.held.remove(&partition);
        let partitions = self.partitions;
        let ours = |g: &str| offsets_topic::partition_for(g, partitions) == partition;
        self.groups.retain(|g, _| !ours(g));
        self.offsets.retain(|g, _| !ours(g));
        self.stored.retain(|g, _| !ours(g));
        self.dirty.retain(|g| !ours(g));
        self.unload_txn_offsets(partition);
        let joins: Vec<Key> = self
            .join_waiters
            .keys()
            .filter(|(g, _)| ours(g))
            .cloned()
            .collect();
        for k in joins {
            if let Some(tx) = self.join_waiters.remove(&k) {
                let _ = tx.send(JoinResult::error(&k.1, ec::NOT_COORDINATOR));
            }
        }
        let syncs: Vec<Key> = self
            .sync_waiters
            .keys()
            .filter(|(g, _)| ours(g))
            .cloned()
            .collect();
        for k in syncs {
            if let Some(tx) = self.sync_waiters.remove(&k) {
                let _ = tx.send(SyncResult::error(ec::NOT_COORDINATOR));
            }
        }
    }
}

/// Follows this broker's leaderships of `__consumer_offsets` partitions (after every image
/// change): a partition no longer led here (or led in another epoch) is unloaded at once; a
/// newly led one is loaded in the background (COORDINATOR_LOAD_IN_PROGRESS meanwhile).
pub fn follow_leadership(broker: &Arc<Broker>) {
    let (topic, led) = offsets_topic::led_partitions(broker, OFFSETS_TOPIC);
    let plan = {
        let mut inner = broker.groups.lock();
        if let Some(t) = &topic {
            inner.partitions = t.partitions.len() as i32;
        }
        let plan = ownership::plan(&inner.held, &led);
        for p in &plan.unload {
            inner.unload(*p);
            tracing::info!(
                partition = p,
                "{OFFSETS_TOPIC}: unloaded (leadership moved)"
            );
        }
        plan.mark_loading(&mut inner.held);
        plan
    };
    for (partition, epoch) in plan.load {
        tokio::spawn(load_partition(broker.clone(), partition, epoch));
    }
}

/// Loads one partition's groups and offsets, retrying a read that fails every second while
/// the partition is still held in `epoch`; then migrates what the per-node store held for
/// its groups.
async fn load_partition(broker: Arc<Broker>, partition: i32, epoch: i32) {
    let tp = TopicPartition::new(OFFSETS_TOPIC, partition);
    let loading = Held {
        epoch,
        loaded: false,
    };
    let still_held = |b: &Broker| b.groups.lock().held.get(&partition) == Some(&loading);
    let read = offsets_topic::read_partition;
    let Some((mut loader, stats)) =
        offsets_topic::read_while_held(&broker, &tp, still_held, read).await
    else {
        return;
    };
    let now = now_ms();
    let groups = {
        let coordinator = &broker.groups;
        let mut inner = coordinator.lock();
        if inner.held.get(&partition) != Some(&loading) {
            return;
        }
        let count = loader.groups.len();
        for (id, lg) in loader.groups {
            let g = match &lg.metadata {
                Some(v) => Group::restore(&id, coordinator.config, v, now),
                None => Group::new(&id, coordinator.config),
            };
            if let Some(view) = g.stored_view().filter(|_| lg.metadata.is_some()) {
                inner.stored.insert(id.clone(), view);
            }
            inner.groups.insert(id.clone(), g);
            if !lg.offsets.is_empty() {
                let offsets = lg
                    .offsets
                    .into_iter()
                    .map(|(tp, value)| {
                        let c = Committed {
                            value,
                            log_offset: -1,
                        };
                        (tp, c)
                    })
                    .collect();
                inner.offsets.insert(id, offsets);
            }
        }
        inner.stage_loaded(std::mem::take(&mut loader.pending_txn));
        inner.apply_late_markers(partition, stats.end);
        inner.held.insert(
            partition,
            Held {
                epoch,
                loaded: true,
            },
        );
        count
    };
    tracing::info!(
        partition,
        epoch,
        groups,
        records = stats.records,
        bytes = stats.bytes,
        other = loader.other,
        damaged = loader.damaged,
        ms = stats.elapsed.as_millis() as u64,
        "{OFFSETS_TOPIC}: loaded"
    );
    broker.groups.wake.notify_one();
    migrate(&broker, partition, epoch).await;
}

/// Writes what the per-node store of an earlier weir held for the groups of `partition`
/// (offsets not committed since, and the group's generation) to `__consumer_offsets`, then
/// removes it from that store: one source of truth.
async fn migrate(broker: &Broker, partition: i32, epoch: i32) {
    let coordinator = &broker.groups;
    let now = now_ms();
    let appending = coordinator.lock_appending();
    let (records, plan) = {
        let inner = coordinator.lock();
        if inner.held.get(&partition)
            != Some(&Held {
                epoch,
                loaded: true,
            })
        {
            return;
        }
        let mut records: Vec<KeyValue> = Vec::new();
        let mut plan: Vec<(String, OffsetList, Option<GroupValue>)> = Vec::new();
        for (id, legacy) in &inner.legacy {
            if inner.partition_of(id) != partition {
                continue;
            }
            let held = inner.offsets.get(id);
            let offsets: Vec<((String, i32), OffsetValue)> = legacy
                .offsets
                .iter()
                .filter(|o| !held.is_some_and(|h| h.contains_key(&(o.topic.clone(), o.partition))))
                .map(|o| {
                    let v = OffsetValue {
                        offset: o.offset,
                        leader_epoch: o.leader_epoch,
                        metadata: o.metadata.clone(),
                        commit_timestamp: o.commit_timestamp,
                        expire_timestamp: None,
                        topic_id: None,
                    };
                    ((o.topic.clone(), o.partition), v)
                })
                .collect();
            let value = legacy
                .record
                .as_ref()
                .filter(|_| !inner.stored.contains_key(id))
                .map(|(generation, protocol_type)| GroupValue {
                    protocol_type: protocol_type.clone(),
                    generation: *generation,
                    protocol: None,
                    leader: None,
                    current_state_timestamp: now,
                    members: Vec::new(),
                });
            records.extend(
                offsets
                    .iter()
                    .map(|((t, p), v)| (offset_key(id, t, *p), Some(coordinator.offset_value(v)))),
            );
            if let Some(v) = &value {
                records.push((group_key(id), Some(v.encode())));
            }
            plan.push((id.clone(), offsets, value));
        }
        (records, plan)
    };
    if plan.is_empty() {
        return;
    }
    let appended = if records.is_empty() {
        None
    } else {
        Some(offsets_topic::append(broker, partition, epoch, &records))
    };
    drop(appending);
    let written = match appended {
        None => Ok(0),
        Some(Ok(a)) => offsets_topic::wait_committed(broker, &a)
            .await
            .map(|()| a.base_offset),
        Some(Err(code)) => Err(code),
    };
    let Ok(mut base) = written else {
        tracing::warn!(
            partition,
            "migrating the per-node offsets store failed; retried when the partition loads again"
        );
        return;
    };
    let ids: Vec<String> = {
        let mut inner = coordinator.lock();
        if inner.held.get(&partition).map(|h| h.epoch) != Some(epoch) {
            return;
        }
        let mut ids = Vec::new();
        for (id, offsets, value) in plan {
            let n = offsets.len() as i64;
            inner.apply_offsets(&id, base, offsets);
            base += n;
            if let Some(v) = value {
                base += 1;
                let g = Group::restore(&id, coordinator.config, &v, now);
                if let Some(view) = g.stored_view() {
                    inner.stored.insert(id.clone(), view);
                }
                inner.groups.entry(id.clone()).or_insert(g);
            } else {
                let config = coordinator.config;
                inner
                    .groups
                    .entry(id.clone())
                    .or_insert_with(|| Group::new(&id, config));
            }
            inner.legacy.remove(&id);
            ids.push(id);
        }
        ids
    };
    let removed = tokio::task::block_in_place(|| {
        ids.iter()
            .try_for_each(|id| broker.metadata.remove_group(id))
    });
    match removed {
        Ok(()) => tracing::info!(
            partition,
            groups = ids.len(),
            "migrated committed offsets onto {OFFSETS_TOPIC}"
        ),
        Err(e) => {
            tracing::error!(partition, error = %e, "removing migrated groups from the per-node store")
        }
    }
}
