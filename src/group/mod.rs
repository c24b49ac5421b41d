//! The group coordinator: owns the consumer groups of the `__consumer_offsets` partitions
//! this broker leads, runs each group's pure state machine ([`state::Group`]), turns its
//! delayed replies into awaited futures and runs its timers. Every offset commit and every
//! stored group change goes to the group's partition of `__consumer_offsets` in Kafka's
//! record format and is answered once committed ([`persist`]); the groups and offsets held
//! here are a cache of those partitions, rebuilt when a partition's leadership arrives.
//!
//! Locking: `appending` (serialises taking a snapshot and appending it, so the log's order
//! is the order of the snapshots) is taken before `inner` (one std mutex over all groups);
//! neither is held across an `.await`. JoinGroup and SyncGroup replies that must wait are
//! parked as oneshot senders keyed by (group, member id) and completed when the state
//! machine emits them, or failed with NOT_COORDINATOR when the group's partition is unloaded.

pub mod leadership;
pub mod load;
pub mod offsets_topic;
pub mod ownership;
mod persist;
pub mod records;
pub mod state;
mod txn_offsets;
pub mod types;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use tokio::sync::{oneshot, Notify};

pub use leadership::follow_leadership;
pub use persist::{expired_offsets, run_timers};
pub use state::{
    Completion, Group, GroupConfig, GroupState, JoinRequest, JoinResult, MemberRef, Reply,
    SyncResult,
};

use crate::log::now_ms;
use crate::metadata::offsets::CommittedOffset;
use crate::metadata::{MetadataError, MetadataStore};
use crate::protocol::error_code as ec;
use offsets_topic::{partition_for, OffsetsTopicConfig};
use ownership::Held;
use records::OffsetValue;

/// `offsets.retention.minutes`: offsets of a group without members expire after this.
pub const DEFAULT_OFFSETS_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
/// Kafka's `offset.metadata.max.bytes`.
pub const OFFSET_METADATA_MAX_BYTES: usize = 4096;

type Key = (String, String);

/// A committed offset as held here: its value and the log offset of its record (of two
/// commits completing out of order, the later record wins, as on reload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub value: OffsetValue,
    pub log_offset: i64,
}

/// What a group stored before this broker kept groups on `__consumer_offsets` (the
/// per-node store), to be written there once its partition is loaded here.
#[derive(Debug, Clone, Default)]
struct LegacyGroup {
    /// (generation, protocol type) of its stored record, if any.
    record: Option<(i32, String)>,
    offsets: Vec<CommittedOffset>,
}

type StoredView = (i32, Option<String>, Vec<String>);

#[derive(Default)]
struct Inner {
    groups: HashMap<String, Group>,
    /// Committed offsets by group, then (topic, partition).
    offsets: HashMap<String, BTreeMap<(String, i32), Committed>>,
    /// The `__consumer_offsets` partitions held here.
    held: BTreeMap<i32, Held>,
    /// The topic's partition count, which places groups.
    partitions: i32,
    /// The view of each group last stored (see [`Group::stored_view`]).
    stored: HashMap<String, StoredView>,
    /// Groups whose view may differ from the one stored.
    dirty: HashSet<String>,
    legacy: HashMap<String, LegacyGroup>,
    /// Offsets of open transactions (TxnOffsetCommit), applied at their marker.
    txn_offsets: txn_offsets::PendingTxnOffsets,
    /// Markers written to a partition while it loaded: (partition, producer id, commit,
    /// marker offset), applied once the load has staged what it read.
    late_markers: Vec<(i32, i64, bool, i64)>,
    join_waiters: HashMap<Key, oneshot::Sender<JoinResult>>,
    sync_waiters: HashMap<Key, oneshot::Sender<SyncResult>>,
}

impl Inner {
    fn partition_of(&self, group_id: &str) -> i32 {
        partition_for(group_id, self.partitions)
    }

    /// Ok(leader epoch) when this broker serves the group now (see [`ownership::status`]).
    fn check(&self, group_id: &str) -> Result<i32, i16> {
        ownership::status(&self.held, self.partition_of(group_id))
    }

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

    /// Whether `view` differs from what is stored for the group. A group never stored counts
    /// as stored new (generation 0, no members): a group that was just created and is still
    /// Empty (a member waiting for its KIP-394 id) is not written.
    fn differs(&self, group_id: &str, view: &StoredView) -> bool {
        match self.stored.get(group_id) {
            Some(stored) => stored != view,
            None => *view != (0, None, Vec::new()),
        }
    }

    /// Notes a group whose stored view may have changed, for the next store pass.
    fn touch(&mut self, group_id: &str) {
        let Some(view) = self.groups.get(group_id).and_then(Group::stored_view) else {
            return;
        };
        if self.differs(group_id, &view) {
            self.dirty.insert(group_id.to_string());
        }
    }
}

pub struct GroupCoordinator {
    inner: Mutex<Inner>,
    appending: Mutex<()>,
    config: GroupConfig,
    /// Wakes the timer task when deadlines may have moved earlier or groups need storing.
    wake: Notify,
    pub offsets: OffsetsTopicConfig,
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

/// A group's state and commits, see [`GroupCoordinator::offsets_view`].
#[derive(Debug, Clone)]
pub struct GroupOffsets {
    pub group_id: String,
    pub state: GroupState,
    pub members: usize,
    /// ((topic, partition), committed offset), sorted.
    pub offsets: Vec<((String, i32), i64)>,
}

impl GroupCoordinator {
    /// Creates the coordinator, holding no partition yet. What the per-node store of an
    /// earlier weir kept (offsets, group generations) is read to be migrated onto
    /// `__consumer_offsets` as the partitions load.
    pub fn new(
        config: GroupConfig,
        offsets: OffsetsTopicConfig,
        store: &MetadataStore,
    ) -> Result<Self, MetadataError> {
        let mut inner = Inner {
            partitions: offsets.num_partitions,
            ..Inner::default()
        };
        for id in store.group_ids()? {
            let legacy = LegacyGroup {
                record: store.group_record(&id)?,
                offsets: store.fetch_offsets(&id)?,
            };
            inner.legacy.insert(id, legacy);
        }
        Ok(GroupCoordinator {
            inner: Mutex::new(inner),
            appending: Mutex::new(()),
            config,
            wake: Notify::new(),
            offsets,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock means a panic in pure code while holding it; the state is still
        // structurally sound, so keep serving rather than taking every group down.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_appending(&self) -> std::sync::MutexGuard<'_, ()> {
        self.appending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this broker coordinates `group_id` now: None, else NOT_COORDINATOR or
    /// COORDINATOR_LOAD_IN_PROGRESS.
    pub fn check(&self, group_id: &str) -> Option<i16> {
        self.lock().check(group_id).err()
    }

    /// Whether there is anything left to migrate from the per-node store.
    pub fn has_legacy(&self) -> bool {
        !self.lock().legacy.is_empty()
    }

    /// Runs `op` on a group (created if `create`, else UNKNOWN_MEMBER_ID when unknown) and
    /// delivers what it completed. A reply that must wait is parked in the waiter map that
    /// `waiters` picks, and its receiver returned instead.
    fn run<T>(
        &self,
        group_id: &str,
        create: bool,
        op: impl FnOnce(&mut Group) -> Reply<T>,
        waiters: fn(&mut Inner) -> &mut HashMap<Key, oneshot::Sender<T>>,
    ) -> Result<Result<T, oneshot::Receiver<T>>, i16> {
        let mut inner = self.lock();
        inner.check(group_id)?;
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
            inner
                .groups
                .get_mut(group_id)
                .ok_or(ec::UNKNOWN_MEMBER_ID)?
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
        inner.touch(group_id);
        drop(inner);
        self.wake.notify_one();
        Ok(out)
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
            Ok(Ok(r)) => r,
            Ok(Err(rx)) => rx
                .await
                .unwrap_or_else(|_| JoinResult::error(&member, ec::REBALANCE_IN_PROGRESS)),
            Err(code) => JoinResult::error(&member, code),
        }
    }

    pub fn heartbeat(&self, group_id: &str, member: &MemberRef, generation_id: i32) -> i16 {
        let mut inner = self.lock();
        if let Err(code) = inner.check(group_id) {
            return code;
        }
        let Some(g) = inner.groups.get_mut(group_id) else {
            return ec::UNKNOWN_MEMBER_ID;
        };
        let code = g.heartbeat(member, generation_id, now_ms());
        let completions = g.take_completions();
        inner.deliver(group_id, completions);
        inner.touch(group_id);
        self.wake.notify_one();
        code
    }

    pub fn leave(&self, group_id: &str, members: &[MemberRef]) -> Result<Vec<i16>, i16> {
        let mut inner = self.lock();
        inner.check(group_id)?;
        let Some(g) = inner.groups.get_mut(group_id) else {
            return Err(ec::UNKNOWN_MEMBER_ID);
        };
        let codes = g.leave(members, now_ms());
        let completions = g.take_completions();
        inner.deliver(group_id, completions);
        inner.touch(group_id);
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
        let inner = self.lock();
        inner.check(group_id)?;
        validate_commit(inner.groups.get(group_id), member, generation_id)
    }

    /// None: not served here or unknown.
    pub fn describe(&self, group_id: &str) -> Result<Option<GroupSummary>, i16> {
        let inner = self.lock();
        inner.check(group_id)?;
        Ok(inner.groups.get(group_id).map(summary))
    }

    /// Every group this broker coordinates (with its partition loaded).
    pub fn list(&self) -> Vec<GroupSummary> {
        let inner = self.lock();
        let mut v: Vec<GroupSummary> = inner
            .groups
            .values()
            .filter(|g| g.state != GroupState::Dead && inner.check(&g.group_id).is_ok())
            .map(summary)
            .collect();
        v.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        v
    }

    /// Every group served here (its partition loaded) that has members or commits, with
    /// its state, member count and committed offsets, by group id: what metrics and the
    /// console show. A group with commits only is Empty.
    pub fn offsets_view(&self) -> Vec<GroupOffsets> {
        let inner = self.lock();
        let ids: BTreeSet<&String> = inner.groups.keys().chain(inner.offsets.keys()).collect();
        ids.into_iter()
            .filter(|g| inner.check(g).is_ok())
            .filter_map(|g| {
                let group = inner.groups.get(g);
                if group.is_some_and(|x| x.state == GroupState::Dead) {
                    return None;
                }
                Some(GroupOffsets {
                    group_id: g.clone(),
                    state: group.map_or(GroupState::Empty, |x| x.state),
                    members: group.map_or(0, |x| x.members.len()),
                    offsets: inner
                        .offsets
                        .get(g)
                        .map(|o| {
                            o.iter()
                                .map(|(tp, c)| (tp.clone(), c.value.offset))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Topics the group's current members subscribe to (consumer protocol only).
    pub fn subscribed_topics(&self, group_id: &str) -> Vec<String> {
        let inner = self.lock();
        inner
            .groups
            .get(group_id)
            .map(subscribed_topics)
            .unwrap_or_default()
    }
}

/// The first of Kafka's commit rules, shared by plain and transactional commits: an unknown
/// group (None) takes only a commit without a generation (and is created Empty); a dead
/// group is unavailable. Ok(None): nothing more to check.
fn commit_target(group: Option<&Group>, generation_id: i32) -> Result<Option<&Group>, i16> {
    match group {
        None if generation_id < 0 => Ok(None),
        None => Err(ec::ILLEGAL_GENERATION),
        Some(g) if g.state == GroupState::Dead => Err(ec::COORDINATOR_NOT_AVAILABLE),
        Some(g) => Ok(Some(g)),
    }
}

/// Kafka's commit rules against the group as it is (None: unknown).
fn validate_commit(
    group: Option<&Group>,
    member: &MemberRef,
    generation_id: i32,
) -> Result<(), i16> {
    let Some(g) = commit_target(group, generation_id)? else {
        return Ok(());
    };
    if generation_id >= 0 || !member.member_id.is_empty() || member.group_instance_id.is_some() {
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

/// The topics a consumer-protocol group's members subscribe to.
fn subscribed_topics(g: &Group) -> Vec<String> {
    use bytes::Buf;
    use kafka_protocol::messages::ConsumerProtocolSubscription;
    use kafka_protocol::protocol::Decodable;
    if g.protocol_type.as_deref() != Some("consumer") {
        return Vec::new();
    }
    let mut topics = Vec::new();
    for (_, mut meta) in g.member_metadata() {
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

fn summary(g: &Group) -> GroupSummary {
    GroupSummary {
        group_id: g.group_id.clone(),
        state: g.state,
        protocol_type: g.protocol_type.clone().unwrap_or_default(),
        protocol_name: g.protocol_name.clone().unwrap_or_default(),
        members: g.members.values().cloned().collect(),
    }
}
