//! The group coordinator: owns every consumer group's pure state machine
//! ([`state::Group`]), turns its delayed replies into awaited futures, runs its timers, and
//! keeps committed offsets durable in the metadata store.
//!
//! Locking: one std mutex over all groups, never held across an `.await` or while writing to
//! the metadata store. JoinGroup and SyncGroup replies that must wait are parked as oneshot
//! senders keyed by (group, member id) and completed when the state machine emits them.

pub mod load;
pub mod records;
pub mod state;
pub mod types;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{oneshot, Notify};
use tokio_util::sync::CancellationToken;

pub use state::{
    Completion, Group, GroupConfig, GroupState, JoinRequest, JoinResult, MemberRef, Reply,
    SyncResult,
};

use crate::log::now_ms;
use crate::metadata::{MetadataError, MetadataStore};
use crate::protocol::error_code as ec;

/// `offsets.retention.minutes`: offsets of a group without members expire after this.
pub const DEFAULT_OFFSETS_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
/// Kafka's `offset.metadata.max.bytes`.
pub const OFFSET_METADATA_MAX_BYTES: usize = 4096;

type Key = (String, String);

#[derive(Default)]
struct Inner {
    groups: HashMap<String, Group>,
    join_waiters: HashMap<Key, oneshot::Sender<JoinResult>>,
    sync_waiters: HashMap<Key, oneshot::Sender<SyncResult>>,
}

impl Inner {
    fn deliver(&mut self, group_id: &str, completions: Vec<Completion>) {
        for c in completions {
            match c {
                Completion::Join { member_id, result } => {
                    if let Some(tx) = self.join_waiters.remove(&(group_id.to_string(), member_id)) {
                        let _ = tx.send(result);
                    }
                }
                Completion::Sync { member_id, result } => {
                    if let Some(tx) = self.sync_waiters.remove(&(group_id.to_string(), member_id)) {
                        let _ = tx.send(result);
                    }
                }
            }
        }
    }
}

pub struct GroupCoordinator {
    inner: Mutex<Inner>,
    config: GroupConfig,
    /// Wakes the timer task when deadlines may have moved earlier.
    wake: Notify,
    pub offsets_retention_ms: i64,
}

/// What a group looks like from the outside (DescribeGroups, ListGroups).
#[derive(Debug, Clone)]
pub struct GroupSummary {
    pub group_id: String,
    pub state: GroupState,
    pub protocol_type: String,
    pub protocol_name: String,
    pub members: Vec<state::Member>,
}

impl GroupCoordinator {
    /// Creates the coordinator, with an Empty group for every group the store knows.
    pub fn new(config: GroupConfig, store: &MetadataStore) -> Result<Self, MetadataError> {
        let mut inner = Inner::default();
        for id in store.group_ids()? {
            let mut g = Group::new(&id, config);
            if let Some((generation, protocol_type)) = store.group_record(&id)? {
                g.generation_id = generation;
                g.protocol_type = (!protocol_type.is_empty()).then_some(protocol_type);
            }
            inner.groups.insert(id, g);
        }
        Ok(GroupCoordinator {
            inner: Mutex::new(inner),
            config,
            wake: Notify::new(),
            offsets_retention_ms: DEFAULT_OFFSETS_RETENTION_MS,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock means a panic in pure code while holding it; the state is still
        // structurally sound, so keep serving rather than taking every group down.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `op` on a group (created if `create`, else `None` when unknown) and delivers
    /// what it completed. A reply that must wait is parked in the waiter map that `waiters`
    /// picks, and its receiver returned instead.
    fn run<T>(
        &self,
        group_id: &str,
        create: bool,
        op: impl FnOnce(&mut Group) -> Reply<T>,
        waiters: fn(&mut Inner) -> &mut HashMap<Key, oneshot::Sender<T>>,
    ) -> Option<Result<T, oneshot::Receiver<T>>> {
        let mut inner = self.lock();
        let config = self.config;
        let g = if create {
            let g = inner
                .groups
                .entry(group_id.to_string())
                .or_insert_with(|| Group::new(group_id, config));
            if g.state == GroupState::Dead {
                *g = Group::new(group_id, config);
            }
            g
        } else {
            inner.groups.get_mut(group_id)?
        };
        let reply = op(g);
        let completions = g.take_completions();
        let out = match reply {
            Reply::Now(r) => Ok(r),
            Reply::Later { member_id } => {
                let (tx, rx) = oneshot::channel();
                waiters(&mut inner).insert((group_id.to_string(), member_id), tx);
                Err(rx)
            }
        };
        inner.deliver(group_id, completions);
        drop(inner);
        self.wake.notify_one();
        Some(out)
    }

    /// JoinGroup: waits until the rebalance completes (or the reply is immediate).
    pub async fn join(&self, group_id: &str, req: JoinRequest) -> JoinResult {
        let member = req.member_id.clone();
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let now = now_ms();
        match self.run(
            group_id,
            true,
            |g| g.join(req, &unique, now),
            |i| &mut i.join_waiters,
        ) {
            Some(Ok(r)) => r,
            Some(Err(rx)) => rx
                .await
                .unwrap_or_else(|_| JoinResult::error(&member, ec::REBALANCE_IN_PROGRESS)),
            None => JoinResult::error(&member, ec::COORDINATOR_NOT_AVAILABLE),
        }
    }

    /// SyncGroup: the leader's assignment, handed to each member.
    pub async fn sync(
        &self,
        group_id: &str,
        member: MemberRef,
        generation_id: i32,
        protocol_type: Option<String>,
        protocol_name: Option<String>,
        assignments: Vec<(String, bytes::Bytes)>,
    ) -> SyncResult {
        let now = now_ms();
        let op = |g: &mut Group| {
            g.sync(
                &member,
                generation_id,
                protocol_type.as_deref(),
                protocol_name.as_deref(),
                assignments,
                now,
            )
        };
        match self.run(group_id, false, op, |i| &mut i.sync_waiters) {
            Some(Ok(r)) => r,
            Some(Err(rx)) => rx
                .await
                .unwrap_or_else(|_| SyncResult::error(ec::REBALANCE_IN_PROGRESS)),
            None => SyncResult::error(ec::UNKNOWN_MEMBER_ID),
        }
    }

    pub fn heartbeat(&self, group_id: &str, member: &MemberRef, generation_id: i32) -> i16 {
        let mut inner = self.lock();
        let Some(g) = inner.groups.get_mut(group_id) else {
            return ec::UNKNOWN_MEMBER_ID;
        };
        let code = g.heartbeat(member, generation_id, now_ms());
        let completions = g.take_completions();
        inner.deliver(group_id, completions);
        self.wake.notify_one();
        code
    }

    pub fn leave(&self, group_id: &str, members: &[MemberRef]) -> Result<Vec<i16>, i16> {
        let mut inner = self.lock();
        let Some(g) = inner.groups.get_mut(group_id) else {
            return Err(ec::UNKNOWN_MEMBER_ID);
        };
        let codes = g.leave(members, now_ms());
        let completions = g.take_completions();
        inner.deliver(group_id, completions);
        self.wake.notify_one();
        Ok(codes)
    }

    /// Checks that a member may commit offsets now (Kafka's rules; a generation below 0 with
    /// no member is a "simple" commit, allowed while the group has no members).
    pub fn validate_commit(
        &self,
        group_id: &str,
        member: &MemberRef,
        generation_id: i32,
    ) -> Result<(), i16> {
        let mut inner = self.lock();
        let config = self.config;
        let Some(g) = inner.groups.get_mut(group_id) else {
            if generation_id < 0 {
                inner
                    .groups
                    .insert(group_id.to_string(), Group::new(group_id, config));
                return Ok(());
            }
            return Err(ec::ILLEGAL_GENERATION);
        };
        if g.state == GroupState::Dead {
            return Err(ec::COORDINATOR_NOT_AVAILABLE);
        }
        if generation_id >= 0 || !member.member_id.is_empty() || member.group_instance_id.is_some()
        {
            g.check_member(member)?;
            if generation_id != g.generation_id {
                return Err(ec::ILLEGAL_GENERATION);
            }
        } else if !g.is_empty() {
            // Only members may commit to a group that has members.
            return Err(ec::UNKNOWN_MEMBER_ID);
        }
        if g.state == GroupState::CompletingRebalance {
            return Err(ec::REBALANCE_IN_PROGRESS);
        }
        Ok(())
    }

    pub fn describe(&self, group_id: &str) -> Option<GroupSummary> {
        let inner = self.lock();
        inner.groups.get(group_id).map(summary)
    }

    pub fn list(&self) -> Vec<GroupSummary> {
        let inner = self.lock();
        let mut v: Vec<GroupSummary> = inner
            .groups
            .values()
            .filter(|g| g.state != GroupState::Dead)
            .map(summary)
            .collect();
        v.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        v
    }

    /// Deletes an empty group (DeleteGroups): NON_EMPTY_GROUP if it has members,
    /// GROUP_ID_NOT_FOUND if it does not exist.
    pub fn delete(&self, group_id: &str) -> Result<(), i16> {
        let mut inner = self.lock();
        match inner.groups.get_mut(group_id) {
            None => Err(ec::GROUP_ID_NOT_FOUND),
            Some(g) if g.state == GroupState::Dead => Err(ec::GROUP_ID_NOT_FOUND),
            Some(g) if !g.is_empty() => Err(ec::NON_EMPTY_GROUP),
            Some(g) => {
                g.mark_dead();
                inner.groups.remove(group_id);
                Ok(())
            }
        }
    }

    /// Topics the group's current members subscribe to (consumer protocol only).
    pub fn subscribed_topics(&self, group_id: &str) -> Vec<String> {
        use kafka_protocol::messages::ConsumerProtocolSubscription;
        use kafka_protocol::protocol::Decodable;
        let inner = self.lock();
        let Some(g) = inner.groups.get(group_id) else {
            return Vec::new();
        };
        if g.protocol_type.as_deref() != Some("consumer") {
            return Vec::new();
        }
        let mut topics = Vec::new();
        for (_, mut meta) in g.member_metadata() {
            use bytes::Buf;
            if meta.remaining() < 2 {
                continue;
            }
            let version = meta.get_i16();
            if let Ok(sub) = ConsumerProtocolSubscription::decode(&mut meta, version.clamp(0, 3)) {
                topics.extend(sub.topics.into_iter().map(|t| t.to_string()));
            }
        }
        topics.sort();
        topics.dedup();
        topics
    }

    /// Whether the group has members right now.
    pub fn has_members(&self, group_id: &str) -> bool {
        self.lock()
            .groups
            .get(group_id)
            .is_some_and(|g| !g.is_empty())
    }

    /// Records that a group exists with this generation (called after state changes that
    /// should survive a restart).
    fn records(&self) -> Vec<(String, i32, String)> {
        self.lock()
            .groups
            .values()
            .filter(|g| g.state != GroupState::Dead)
            .map(|g| {
                (
                    g.group_id.clone(),
                    g.generation_id,
                    g.protocol_type.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Runs timers: session expiry, rebalance completion, and offset retention.
    pub async fn run_timers(&self, store: &MetadataStore, shutdown: &CancellationToken) {
        let mut last_retention = 0i64;
        let mut persisted: HashMap<String, i32> = HashMap::new();
        loop {
            let next = {
                let inner = self.lock();
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
                _ = shutdown.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            let now = now_ms();
            {
                let mut inner = self.lock();
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
                }
            }
            // Persist generation changes (outside the lock).
            for (id, generation, protocol_type) in self.records() {
                if persisted.get(&id) != Some(&generation) {
                    let put = tokio::task::block_in_place(|| {
                        store.put_group(&id, generation, &protocol_type)
                    });
                    if let Err(e) = put {
                        tracing::error!(group = %id, error = %e, "persisting group");
                    } else {
                        persisted.insert(id, generation);
                    }
                }
            }
            if now - last_retention >= 60_000 {
                last_retention = now;
                tokio::task::block_in_place(|| self.expire_offsets(store, now));
            }
        }
    }

    /// Deletes offsets of member-less groups committed longer than the retention ago.
    fn expire_offsets(&self, store: &MetadataStore, now: i64) {
        let Ok(ids) = store.group_ids() else { return };
        for id in ids {
            if self.has_members(&id) {
                continue;
            }
            let Ok(offsets) = store.fetch_offsets(&id) else {
                continue;
            };
            let old: Vec<(String, i32)> = offsets
                .iter()
                .filter(|o| now - o.commit_timestamp > self.offsets_retention_ms)
                .map(|o| (o.topic.clone(), o.partition))
                .collect();
            if !old.is_empty() {
                if let Err(e) = store.delete_offsets(&id, Some(&old)) {
                    tracing::error!(group = %id, error = %e, "expiring offsets");
                }
            }
        }
    }
}

fn summary(g: &Group) -> GroupSummary {
    GroupSummary {
        group_id: g.group_id.clone(),
        state: g.state,
        protocol_type: g.protocol_type.clone().unwrap_or_default(),
        protocol_name: g.protocol_name.clone().unwrap_or_default(),
        members: g.members.values().cloned().collect(),
    }
}
