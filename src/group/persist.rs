//! The group coordinator's writes to `__consumer_offsets` and its loading of them.
//!
//! Every write follows one pattern: under `appending`, check that the group's partition is
//! held and loaded (its leader epoch), take what to write from the groups, append it as the
//! leader of that epoch; then, holding no lock, wait until the high watermark passes it; then
//! apply it to what is held here, if the partition is still held in that epoch. A write that
//! fails leaves the cache as it was: the client gets Kafka's error and retries.
//!
//! What is written (Kafka's records, see [`super::records`]):
//! - OffsetCommit: one offset record per partition, one batch per request;
//! - SyncGroup that completes a rebalance: the group's metadata (generation, protocol,
//!   leader, members with subscriptions and assignments), before any member hears of it;
//! - a group that became Empty or changed members without a rebalance: its metadata, in the
//!   background ([`store_dirty`]);
//! - DeleteGroups, OffsetDelete, offset expiry: tombstones (null values), and a group
//!   tombstone for a group left Empty without offsets.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::offsets_topic::{self, KeyValue, OFFSETS_TOPIC};
use super::records::{GroupKey, GroupValue, OffsetValue};
use super::*;
use crate::broker::Broker;

/// Offsets of one group by (topic, partition).
pub type OffsetList = Vec<((String, i32), OffsetValue)>;

pub(super) fn offset_key(group: &str, topic: &str, partition: i32) -> Vec<u8> {
    GroupKey::Offset {
        group: group.to_string(),
        topic: topic.to_string(),
        partition,
    }
    .encode()
}

pub(super) fn group_key(group: &str) -> Vec<u8> {
    GroupKey::Group {
        group: group.to_string(),
    }
    .encode()
}

/// Offsets of a group that have expired at `now`, as Kafka's classic groups expire them:
/// none while the group has members; else those whose own expire timestamp (OffsetCommit v1)
/// has passed, and, without one, those committed more than `retention_ms` ago.
pub fn expired_offsets(
    has_members: bool,
    offsets: &BTreeMap<(String, i32), Committed>,
    now: i64,
    retention_ms: i64,
) -> Vec<(String, i32)> {
    if has_members {
        return Vec::new();
    }
    offsets
        .iter()
        .filter(|(_, c)| match c.value.expire_timestamp {
            Some(expire) => now >= expire,
            None => now - c.value.commit_timestamp >= retention_ms,
        })
        .map(|(tp, _)| tp.clone())
        .collect()
}

impl Inner {
    /// Applies committed offset records written at `base_offset` onwards.
    pub(super) fn apply_offsets(
        &mut self,
        group_id: &str,
        base_offset: i64,
        offsets: Vec<((String, i32), OffsetValue)>,
    ) {
        let cache = self.offsets.entry(group_id.to_string()).or_default();
        for (i, (tp, value)) in offsets.into_iter().enumerate() {
            let log_offset = base_offset + i as i64;
            if cache.get(&tp).is_some_and(|c| c.log_offset > log_offset) {
                continue;
            }
            cache.insert(tp, Committed { value, log_offset });
        }
    }
}

impl GroupCoordinator {
    pub(super) fn offset_value(&self, v: &OffsetValue) -> Vec<u8> {
        v.encode_as(self.offsets.value_version)
    }

    /// SyncGroup. When the leader's assignment completes the rebalance, the group with every
    /// member's assignment is stored before any member hears of it; if that fails every
    /// member gets the (normalised) error and the group rebalances again.
    #[allow(clippy::too_many_arguments)]
    pub async fn sync(
        &self,
        broker: &Broker,
        group_id: &str,
        member: MemberRef,
        generation_id: i32,
        protocol_type: Option<String>,
        protocol_name: Option<String>,
        assignments: Vec<(String, bytes::Bytes)>,
    ) -> SyncResult {
        let now = now_ms();
        let appending = self.lock_appending();
        let step = self.sync_step(
            group_id,
            &member,
            generation_id,
            protocol_type,
            protocol_name,
            assignments,
            now,
        );
        let (partition, epoch, generation, view, value, completions, own) = match step {
            SyncStep::Done(own) => {
                drop(appending);
                self.wake.notify_one();
                return await_sync(own).await;
            }
            SyncStep::Store {
                partition,
                epoch,
                generation,
                view,
                value,
                completions,
                own,
            } => (partition, epoch, generation, view, value, completions, own),
        };
        let record = (group_key(group_id), Some(value.encode()));
        let appended = offsets_topic::append(broker, partition, epoch, &[record]);
        drop(appending);
        let written = match appended {
            Ok(a) => offsets_topic::wait_committed(broker, &a).await,
            Err(code) => Err(code),
        };
        {
            let mut inner = self.lock();
            match written {
                Ok(()) => {
                    if let Some(view) = view {
                        inner.stored.insert(group_id.to_string(), view);
                    }
                    inner.deliver(group_id, completions);
                }
                Err(code) => {
                    tracing::warn!(
                        group = group_id,
                        code,
                        "storing the group's assignment failed"
                    );
                    let failed = completions
                        .into_iter()
                        .map(|c| match c {
                            Completion::Sync { member_id, .. } => Completion::Sync {
                                member_id,
                                result: SyncResult::error(code),
                            },
                            other => other,
                        })
                        .collect();
                    inner.deliver(group_id, failed);
                    if inner.check(group_id) == Ok(epoch) {
                        if let Some(g) = inner.groups.get_mut(group_id) {
                            g.assignment_not_stored(generation, now_ms());
                            let more = g.take_completions();
                            inner.deliver(group_id, more);
                        }
                    }
                    inner.touch(group_id);
                }
            }
        }
        self.wake.notify_one();
        await_sync(own).await
    }

    /// SyncGroup's state change, under the lock: what to store before answering, if anything.
    #[allow(clippy::too_many_arguments)]
    fn sync_step(
        &self,
        group_id: &str,
        member: &MemberRef,
        generation_id: i32,
        protocol_type: Option<String>,
        protocol_name: Option<String>,
        assignments: Vec<(String, bytes::Bytes)>,
        now: i64,
    ) -> SyncStep {
        let mut inner = self.lock();
        let epoch = match inner.check(group_id) {
            Ok(e) => e,
            Err(code) => return SyncStep::Done(Ok(SyncResult::error(code))),
        };
        let partition = inner.partition_of(group_id);
        let Some(g) = inner.groups.get_mut(group_id) else {
            return SyncStep::Done(Ok(SyncResult::error(ec::UNKNOWN_MEMBER_ID)));
        };
        let reply = g.sync(
            member,
            generation_id,
            protocol_type.as_deref(),
            protocol_name.as_deref(),
            assignments,
            now,
        );
        let completions = g.take_completions();
        let generation = g.generation_id;
        let view = g.stored_view();
        let value = g.to_value(now);
        let own = match reply {
            Reply::Now(r) => Ok(r),
            Reply::Later { member_id } => {
                let (tx, rx) = oneshot::channel();
                inner
                    .sync_waiters
                    .insert((group_id.to_string(), member_id), tx);
                Err(rx)
            }
        };
        let needed =
            !completions.is_empty() && view.as_ref().is_some_and(|v| inner.differs(group_id, v));
        if !needed {
            inner.deliver(group_id, completions);
            inner.touch(group_id);
            return SyncStep::Done(own);
        }
        SyncStep::Store {
            partition,
            epoch,
            generation,
            view,
            value: Box::new(value),
            completions,
            own,
        }
    }

    /// Stores committed offsets (OffsetCommit, after the handler's per-partition checks):
    /// checked against the group again, appended, answered once committed, then visible to
    /// OffsetFetch. A simple commit (no member) to an unknown group creates it, Empty.
    pub async fn commit_offsets(
        &self,
        broker: &Broker,
        group_id: &str,
        member: &MemberRef,
        generation_id: i32,
        offsets: Vec<((String, i32), OffsetValue)>,
    ) -> Result<(), i16> {
        let (mut inner, base_offset) = self
            .append_offsets(broker, group_id, &offsets, None, |g| {
                validate_commit(g, member, generation_id)
            })
            .await?;
        inner.apply_offsets(group_id, base_offset, offsets);
        Ok(())
    }

    /// Appends a group's offset records as one batch (`txn`: as that producer's (id, epoch)
    /// transactional batch) once `validate` accepts the group as it is, and waits until the
    /// replicas have committed it. Answers the coordinator's lock, with the group present
    /// (an unknown one created Empty), and the batch's base offset; NOT_COORDINATOR when the
    /// partition's leadership moved meanwhile. Appends are serialized, so batches reach the
    /// log in the order their checks passed.
    pub(super) async fn append_offsets(
        &self,
        broker: &Broker,
        group_id: &str,
        offsets: &[((String, i32), OffsetValue)],
        txn: Option<(i64, i16)>,
        validate: impl FnOnce(Option<&Group>) -> Result<(), i16>,
    ) -> Result<(std::sync::MutexGuard<'_, Inner>, i64), i16> {
        let appending = self.lock_appending();
        let (partition, epoch) = {
            let inner = self.lock();
            let epoch = inner.check(group_id)?;
            validate(inner.groups.get(group_id))?;
            (inner.partition_of(group_id), epoch)
        };
        let records: Vec<KeyValue> = offsets
            .iter()
            .map(|((t, p), v)| (offset_key(group_id, t, *p), Some(self.offset_value(v))))
            .collect();
        let appended = match txn {
            None => offsets_topic::append(broker, partition, epoch, &records)?,
            Some((id, producer_epoch)) => {
                let raw =
                    crate::log::batch::encode_txn_batch(&records, now_ms(), id, producer_epoch);
                offsets_topic::append_batch(broker, OFFSETS_TOPIC, partition, epoch, &raw)?
            }
        };
        drop(appending);
        offsets_topic::wait_committed(broker, &appended).await?;
        let mut inner = self.lock();
        if inner.check(group_id) != Ok(epoch) {
            return Err(ec::NOT_COORDINATOR);
        }
        let config = self.config;
        inner
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(group_id, config));
        Ok((inner, appended.base_offset))
    }

    /// A group's committed offsets (OffsetFetch): NOT_COORDINATOR or
    /// COORDINATOR_LOAD_IN_PROGRESS when not served here; none for an unknown group.
    pub fn committed(&self, group_id: &str) -> Result<OffsetList, i16> {
        let inner = self.lock();
        inner.check(group_id)?;
        Ok(inner
            .offsets
            .get(group_id)
            .map(|o| {
                o.iter()
                    .map(|(tp, c)| (tp.clone(), c.value.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// DeleteGroups for one group: GROUP_ID_NOT_FOUND if unknown, NON_EMPTY_GROUP while it has
    /// members; else tombstones for its offsets and itself, answered once committed.
    pub async fn delete_group(&self, broker: &Broker, group_id: &str) -> Result<(), i16> {
        let appending = self.lock_appending();
        let (partition, epoch, records) = {
            let mut inner = self.lock();
            let epoch = inner.check(group_id)?;
            let partition = inner.partition_of(group_id);
            match inner.groups.get_mut(group_id) {
                None => return Err(ec::GROUP_ID_NOT_FOUND),
                Some(g) if g.state == GroupState::Dead => return Err(ec::GROUP_ID_NOT_FOUND),
                Some(g) if !g.is_empty() => return Err(ec::NON_EMPTY_GROUP),
                Some(g) => g.mark_dead(),
            }
            let mut records: Vec<KeyValue> = inner
                .offsets
                .get(group_id)
                .map(|o| {
                    o.keys()
                        .map(|(t, p)| (offset_key(group_id, t, *p), None))
                        .collect()
                })
                .unwrap_or_default();
            records.push((group_key(group_id), None));
            (partition, epoch, records)
        };
        let appended = offsets_topic::append(broker, partition, epoch, &records);
        drop(appending);
        let written = match appended {
            Ok(a) => offsets_topic::wait_committed(broker, &a)
                .await
                .map(|()| a.base_offset + records.len() as i64),
            Err(code) => Err(code),
        };
        let mut inner = self.lock();
        let still = inner.check(group_id) == Ok(epoch);
        let dead = inner
            .groups
            .get(group_id)
            .is_some_and(|g| g.state == GroupState::Dead);
        match written {
            Ok(end) if still && dead => {
                inner.groups.remove(group_id);
                inner.stored.remove(group_id);
                inner.dirty.remove(group_id);
                if let Some(o) = inner.offsets.get_mut(group_id) {
                    o.retain(|_, c| c.log_offset >= end);
                    if o.is_empty() {
                        inner.offsets.remove(group_id);
                    }
                }
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(code) => {
                // Not deleted after all: Empty again, as it was.
                if let Some(g) = inner.groups.get_mut(group_id).filter(|_| dead) {
                    g.state = GroupState::Empty;
                }
                Err(code)
            }
        }
    }

    /// OffsetDelete: tombstones for these partitions' offsets, answered once committed.
    pub async fn delete_offsets(
        &self,
        broker: &Broker,
        group_id: &str,
        partitions: Vec<(String, i32)>,
    ) -> Result<(), i16> {
        if partitions.is_empty() {
            return Ok(());
        }
        let appending = self.lock_appending();
        let (partition, epoch) = {
            let inner = self.lock();
            (inner.partition_of(group_id), inner.check(group_id)?)
        };
        let records: Vec<KeyValue> = partitions
            .iter()
            .map(|(t, p)| (offset_key(group_id, t, *p), None))
            .collect();
        let a = offsets_topic::append(broker, partition, epoch, &records)?;
        drop(appending);
        offsets_topic::wait_committed(broker, &a).await?;
        let end = a.base_offset + records.len() as i64;
        let mut inner = self.lock();
        if inner.check(group_id) == Ok(epoch) {
            if let Some(o) = inner.offsets.get_mut(group_id) {
                for tp in &partitions {
                    if o.get(tp).is_some_and(|c| c.log_offset < end) {
                        o.remove(tp);
                    }
                }
            }
        }
        Ok(())
    }

    /// Expires offsets (see [`expired_offsets`]) of every group held here and deletes groups
    /// left Empty without offsets: one batch of tombstones per partition.
    pub(crate) async fn expire(&self, broker: &Broker, now: i64) {
        let held: Vec<i32> = self
            .lock()
            .held
            .iter()
            .filter(|(_, h)| h.loaded)
            .map(|(p, _)| *p)
            .collect();
        for partition in held {
            let appending = self.lock_appending();
            let (epoch, doomed, groups) = {
                let inner = self.lock();
                let Some(h) = inner.held.get(&partition).filter(|h| h.loaded) else {
                    continue;
                };
                let mut doomed: Vec<(String, Vec<(String, i32)>)> = Vec::new();
                let mut groups = Vec::new();
                for (id, g) in inner.groups.iter() {
                    if inner.partition_of(id) != partition {
                        continue;
                    }
                    let offsets = inner.offsets.get(id);
                    let expired = offsets
                        .map(|o| expired_offsets(!g.is_empty(), o, now, self.offsets.retention_ms))
                        .unwrap_or_default();
                    let left = offsets.map_or(0, |o| o.len()) - expired.len();
                    if g.state == GroupState::Empty && left == 0 {
                        groups.push(id.clone());
                    }
                    if !expired.is_empty() {
                        doomed.push((id.clone(), expired));
                    }
                }
                (h.epoch, doomed, groups)
            };
            if doomed.is_empty() && groups.is_empty() {
                continue;
            }
            let mut records: Vec<KeyValue> = Vec::new();
            for (g, tps) in &doomed {
                records.extend(tps.iter().map(|(t, p)| (offset_key(g, t, *p), None)));
            }
            records.extend(groups.iter().map(|g| (group_key(g), None)));
            let appended = offsets_topic::append(broker, partition, epoch, &records);
            drop(appending);
            let written = match appended {
                Ok(a) => offsets_topic::wait_committed(broker, &a)
                    .await
                    .map(|()| a.base_offset + records.len() as i64),
                Err(code) => Err(code),
            };
            let Ok(end) = written else {
                tracing::warn!(
                    partition,
                    "{OFFSETS_TOPIC}: expiring offsets failed; next pass"
                );
                continue;
            };
            let mut inner = self.lock();
            if inner.held.get(&partition).map(|h| h.epoch) != Some(epoch) {
                continue;
            }
            let count: usize = doomed.iter().map(|(_, t)| t.len()).sum();
            for (g, tps) in doomed {
                if let Some(o) = inner.offsets.get_mut(&g) {
                    for tp in tps {
                        if o.get(&tp).is_some_and(|c| c.log_offset < end) {
                            o.remove(&tp);
                        }
                    }
                    if o.is_empty() {
                        inner.offsets.remove(&g);
                    }
                }
            }
            for g in &groups {
                let gone = inner
                    .groups
                    .get(g)
                    .is_some_and(|g| g.state == GroupState::Empty)
                    && !inner.offsets.contains_key(g);
                if gone {
                    inner.groups.remove(g);
                    inner.stored.remove(g);
                    inner.dirty.remove(g);
                }
            }
            tracing::info!(
                partition,
                offsets = count,
                groups = groups.len(),
                "expired group offsets"
            );
        }
    }

    /// Stores the groups whose view changed (Empty after the last member left, a static
    /// member replaced), one batch per partition.
    pub(crate) async fn store_dirty(&self, broker: &Broker) {
        let dirty: Vec<String> = {
            let mut inner = self.lock();
            inner.dirty.drain().collect()
        };
        if dirty.is_empty() {
            return;
        }
        let mut by_partition: HashMap<i32, Vec<String>> = HashMap::new();
        {
            let inner = self.lock();
            for g in dirty {
                by_partition
                    .entry(inner.partition_of(&g))
                    .or_default()
                    .push(g);
            }
        }
        for (partition, ids) in by_partition {
            let now = now_ms();
            let appending = self.lock_appending();
            let (epoch, views, records) = {
                let inner = self.lock();
                let Some(h) = inner.held.get(&partition).filter(|h| h.loaded) else {
                    continue;
                };
                let mut views = Vec::new();
                let mut records: Vec<KeyValue> = Vec::new();
                for id in ids {
                    let Some(g) = inner.groups.get(&id) else {
                        continue;
                    };
                    let Some(view) = g.stored_view() else {
                        continue;
                    };
                    if !inner.differs(&id, &view) {
                        continue;
                    }
                    records.push((group_key(&id), Some(g.to_value(now).encode())));
                    views.push((id, view));
                }
                (h.epoch, views, records)
            };
            if records.is_empty() {
                continue;
            }
            let appended = offsets_topic::append(broker, partition, epoch, &records);
            drop(appending);
            let written = match appended {
                Ok(a) => offsets_topic::wait_committed(broker, &a).await,
                Err(code) => Err(code),
            };
            let mut inner = self.lock();
            match written {
                Ok(()) if inner.held.get(&partition).map(|h| h.epoch) == Some(epoch) => {
                    for (id, view) in views {
                        inner.stored.insert(id, view);
                    }
                }
                Ok(()) => {}
                Err(code) => {
                    tracing::warn!(partition, code, "storing groups failed; will retry");
                    for (id, _) in views {
                        inner.dirty.insert(id);
                    }
                }
            }
        }
    }
}

/// What a SyncGroup does after its state change.
enum SyncStep {
    /// Nothing to store: the reply (now, or a receiver for it).
    Done(Result<SyncResult, oneshot::Receiver<SyncResult>>),
    /// The rebalance completed: store the group, then deliver `completions`.
    Store {
        partition: i32,
        epoch: i32,
        generation: i32,
        view: Option<StoredView>,
        value: Box<GroupValue>,
        completions: Vec<Completion>,
        own: Result<SyncResult, oneshot::Receiver<SyncResult>>,
    },
}

async fn await_sync(own: Result<SyncResult, oneshot::Receiver<SyncResult>>) -> SyncResult {
    match own {
        Ok(r) => r,
        Err(rx) => rx
            .await
            .unwrap_or_else(|_| SyncResult::error(ec::REBALANCE_IN_PROGRESS)),
    }
}

/// Session expiry, rebalance deadlines, storing changed groups and offset expiry, until
/// shutdown.
pub async fn run_timers(broker: Arc<Broker>) {
    let coordinator = &broker.groups;
    let mut last_expiry = now_ms();
    let interval = coordinator.offsets.retention_check_interval_ms as i64;
    loop {
        let next = {
            let inner = coordinator.lock();
            inner
                .groups
                .values()
                .filter_map(|g| g.next_deadline())
                .min()
        };
        let now = now_ms();
        let wait = next
            .map(|t| Duration::from_millis((t - now).clamp(0, 1000) as u64))
            .unwrap_or(Duration::from_secs(1));
        tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            _ = coordinator.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        let now = now_ms();
        {
            let mut inner = coordinator.lock();
            let ids: Vec<String> = inner.groups.keys().cloned().collect();
            for id in ids {
                let completions = match inner.groups.get_mut(&id) {
                    Some(g) => {
                        g.tick(now);
                        g.take_completions()
                    }
                    None => continue,
                };
                inner.deliver(&id, completions);
                inner.touch(&id);
            }
        }
        if !coordinator.lock().dirty.is_empty() {
            let b = broker.clone();
            tokio::spawn(async move { b.groups.store_dirty(&b).await });
        }
        if now - last_expiry >= interval {
            last_expiry = now;
            let b = broker.clone();
            tokio::spawn(async move { b.groups.expire(&b, now).await });
        }
    }
}
