//! The classic consumer-group protocol as a pure state machine: no I/O, no clock, no tokio.
//! Every call takes `now` in milliseconds; replies that must wait (JoinGroup until the
//! rebalance completes, SyncGroup until the leader's assignment arrives) are returned later
//! as [`Completion`]s, drained with [`Group::take_completions`]. Timers are the caller's:
//! [`Group::next_deadline`] says when [`Group::tick`] is next due.
//!
//! States and transitions (as Kafka's GroupCoordinator):
//!
//! ```text
//! Empty --join--> PreparingRebalance --all joined / timeout--> CompletingRebalance
//! CompletingRebalance --leader's SyncGroup--> Stable
//! Stable / CompletingRebalance --join of a new member, leader rejoin, changed
//!     protocols, leave, session expiry--> PreparingRebalance
//! PreparingRebalance --nobody rejoined--> Empty;  any --DeleteGroups--> Dead
//! ```
//!
//! Invariants: `generation_id` increases by one at every completed join; `leader` is a
//! member whenever the state is CompletingRebalance or Stable; a member awaiting a join or
//! sync reply does not expire (it is waiting on us, not the other way round).

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;

use crate::protocol::error_code as ec;

pub use super::types::*;

#[derive(Debug, Clone)]
pub struct Group {
    pub group_id: String,
    pub state: GroupState,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: Option<String>,
    /// Members in join order (the order decides a new leader).
    pub members: BTreeMap<u64, Member>,
    order: u64,
    /// instance id -> member id of static members.
    static_members: HashMap<String, String>,
    /// KIP-394 member ids handed out and not yet used: id -> expiry time.
    pending_members: HashMap<String, i64>,
    /// While PreparingRebalance: (end of the initial delay, the hard deadline).
    join_deadline: Option<(i64, i64)>,
    completions: Vec<Completion>,
    config: GroupConfig,
    next_member_seq: u64,
}

impl Group {
    pub fn new(group_id: &str, config: GroupConfig) -> Self {
        Group {
            group_id: group_id.to_string(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            order: 0,
            static_members: HashMap::new(),
            pending_members: HashMap::new(),
            join_deadline: None,
            completions: Vec::new(),
            config,
            next_member_seq: 0,
        }
    }

    pub fn take_completions(&mut self) -> Vec<Completion> {
        std::mem::take(&mut self.completions)
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn key_of(&self, member_id: &str) -> Option<u64> {
        self.members
            .iter()
            .find(|(_, m)| m.member_id == member_id)
            .map(|(k, _)| *k)
    }

    pub fn member(&self, member_id: &str) -> Option<&Member> {
        self.members.values().find(|m| m.member_id == member_id)
    }

    fn member_mut(&mut self, member_id: &str) -> Option<&mut Member> {
        self.members.values_mut().find(|m| m.member_id == member_id)
    }

    /// A new member id: `<client id or instance id>-<unique suffix>`, as Kafka forms them.
    fn new_member_id(&mut self, prefix: &str, unique: &str) -> String {
        self.next_member_seq += 1;
        format!("{prefix}-{unique}-{}", self.next_member_seq)
    }

    /// Handles a JoinGroup. `unique` is a fresh random string for a new member id.
    pub fn join(&mut self, req: JoinRequest, unique: &str, now: i64) -> Reply<JoinResult> {
        let c = self.config;
        if req.session_timeout_ms < c.min_session_timeout_ms
            || req.session_timeout_ms > c.max_session_timeout_ms
        {
            return Reply::Now(JoinResult::error(
                &req.member_id,
                ec::INVALID_SESSION_TIMEOUT,
            ));
        }
        if req.protocol_type.is_empty() || req.protocols.is_empty() {
            return Reply::Now(JoinResult::error(
                &req.member_id,
                ec::INCONSISTENT_GROUP_PROTOCOL,
            ));
        }
        if self.state == GroupState::Dead {
            return Reply::Now(JoinResult::error(
                &req.member_id,
                ec::COORDINATOR_NOT_AVAILABLE,
            ));
        }
        if !self.supports(&req.protocol_type, &req.protocols) {
            return Reply::Now(JoinResult::error(
                &req.member_id,
                ec::INCONSISTENT_GROUP_PROTOCOL,
            ));
        }
        if req.member_id.is_empty() {
            self.join_unknown(req, unique, now)
        } else {
            self.join_known(req, now)
        }
    }

    /// Whether a member with these protocols could join: same protocol type, and (if the
    /// group has members) at least one protocol every member supports.
    fn supports(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if self.members.is_empty() {
            return true;
        }
        if self.protocol_type.as_deref() != Some(protocol_type) {
            return false;
        }
        protocols.iter().any(|(name, _)| {
            self.members
                .values()
                .all(|m| m.protocols.iter().any(|(n, _)| n == name))
        })
    }

    fn join_unknown(&mut self, req: JoinRequest, unique: &str, now: i64) -> Reply<JoinResult> {
        if let Some(instance) = req.group_instance_id.clone() {
            let member_id = self.new_member_id(&instance, unique);
            if let Some(old_id) = self.static_members.get(&instance).cloned() {
                return self.replace_static_member(&old_id, member_id, req, now);
            }
            self.add_member(member_id.clone(), req, now);
            return self.after_member_joined(&member_id, now);
        }
        let prefix = if req.client_id.is_empty() {
            "consumer".to_string()
        } else {
            req.client_id.clone()
        };
        let member_id = self.new_member_id(&prefix, unique);
        if req.require_known_member_id {
            let expiry = now + i64::from(req.session_timeout_ms);
            self.pending_members.insert(member_id.clone(), expiry);
            return Reply::Now(JoinResult::error(&member_id, ec::MEMBER_ID_REQUIRED));
        }
        self.add_member(member_id.clone(), req, now);
        self.after_member_joined(&member_id, now)
    }

    fn join_known(&mut self, req: JoinRequest, now: i64) -> Reply<JoinResult> {
        let member_id = req.member_id.clone();
        if self.pending_members.remove(&member_id).is_some() {
            self.add_member(member_id.clone(), req, now);
            return self.after_member_joined(&member_id, now);
        }
        if let Some(instance) = &req.group_instance_id {
            if let Some(current) = self.static_members.get(instance) {
                if *current != member_id {
                    return Reply::Now(JoinResult::error(&member_id, ec::FENCED_INSTANCE_ID));
                }
            }
        }
        let Some(member) = self.member(&member_id) else {
            return Reply::Now(JoinResult::error(&member_id, ec::UNKNOWN_MEMBER_ID));
        };
        let same = member.protocols == req.protocols;
        let is_leader = self.leader.as_deref() == Some(member_id.as_str());
        match self.state {
            GroupState::CompletingRebalance if same => {
                Reply::Now(self.join_result_for(&member_id, false))
            }
            GroupState::Stable if same && !is_leader => {
                Reply::Now(self.join_result_for(&member_id, false))
            }
            // Rejoining during a rebalance, or a change that needs one (a no-op start when
            // one is already under way).
            _ => {
                self.update_member(&member_id, &req, now);
                self.prepare_rebalance(now);
                self.after_member_joined(&member_id, now)
            }
        }
    }

    /// A static member came back with a new member id: fence the old id and take its place.
    /// In a Stable group with unchanged protocols, no rebalance happens (KIP-345).
    fn replace_static_member(
        &mut self,
        old_id: &str,
        new_id: String,
        req: JoinRequest,
        now: i64,
    ) -> Reply<JoinResult> {
        let Some(key) = self.key_of(old_id) else {
            self.static_members
                .remove(req.group_instance_id.as_deref().unwrap_or_default());
            self.add_member(new_id.clone(), req, now);
            return self.after_member_joined(&new_id, now);
        };
        self.fail_pending(old_id, ec::FENCED_INSTANCE_ID);
        // As Kafka: a static member rejoining a Stable group causes a rebalance only if the
        // group's selected protocol would change (its metadata may differ, e.g. the Java
        // client embeds its generation in it).
        let before = self.select_protocol();
        if let Some(m) = self.members.get_mut(&key) {
            m.member_id = new_id.clone();
        }
        self.update_member(&new_id, &req, now);
        if let Some(instance) = &req.group_instance_id {
            self.static_members.insert(instance.clone(), new_id.clone());
        }
        let was_leader = self.leader.as_deref() == Some(old_id);
        if was_leader {
            self.leader = Some(new_id.clone());
        }
        if self.state == GroupState::Stable && self.select_protocol() == before {
            // KIP-814: a rejoining leader gets the members but must not reassign.
            return Reply::Now(self.join_result_for(&new_id, was_leader));
        }
        self.prepare_rebalance(now);
        self.after_member_joined(&new_id, now)
    }

    fn add_member(&mut self, member_id: String, req: JoinRequest, now: i64) {
        if self.members.is_empty() {
            self.protocol_type = Some(req.protocol_type.clone());
        }
        if let Some(instance) = &req.group_instance_id {
            self.static_members
                .insert(instance.clone(), member_id.clone());
        }
        self.order += 1;
        self.members.insert(
            self.order,
            Member {
                member_id,
                group_instance_id: req.group_instance_id,
                client_id: req.client_id,
                client_host: req.client_host,
                session_timeout_ms: req.session_timeout_ms,
                rebalance_timeout_ms: req.rebalance_timeout_ms,
                protocol_type: req.protocol_type,
                protocols: req.protocols,
                assignment: Bytes::new(),
                awaiting_join: false,
                awaiting_sync: false,
                last_heartbeat_ms: now,
            },
        );
        self.prepare_rebalance(now);
    }

    fn update_member(&mut self, member_id: &str, req: &JoinRequest, now: i64) {
        if let Some(m) = self.member_mut(member_id) {
            m.protocols = req.protocols.clone();
            m.session_timeout_ms = req.session_timeout_ms;
            m.rebalance_timeout_ms = req.rebalance_timeout_ms;
            m.client_id = req.client_id.clone();
            m.client_host = req.client_host.clone();
            m.last_heartbeat_ms = now;
        }
    }

    /// Marks the member as waiting for the join to complete, then tries to complete it.
    fn after_member_joined(&mut self, member_id: &str, now: i64) -> Reply<JoinResult> {
        if let Some(m) = self.member_mut(member_id) {
            m.awaiting_join = true;
        }
        self.try_complete_join(now);
        Reply::Later {
            member_id: member_id.to_string(),
        }
    }

    /// Starts a rebalance (if not already in one): every member must rejoin.
    fn prepare_rebalance(&mut self, now: i64) {
        if self.state == GroupState::PreparingRebalance {
            return;
        }
        // Members still waiting for an assignment get told to rejoin.
        self.complete_syncs(Some(ec::REBALANCE_IN_PROGRESS));
        let max_rebalance = self
            .members
            .values()
            .map(|m| i64::from(m.rebalance_timeout_ms))
            .max()
            .unwrap_or(0);
        let delay = if self.state == GroupState::Empty {
            i64::from(self.config.initial_rebalance_delay_ms).min(max_rebalance)
        } else {
            0
        };
        self.join_deadline = Some((now + delay, now + max_rebalance));
        self.state = GroupState::PreparingRebalance;
    }

    fn all_joined(&self) -> bool {
        self.pending_members.is_empty() && self.members.values().all(|m| m.awaiting_join)
    }

    fn try_complete_join(&mut self, now: i64) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let Some((delay_end, hard)) = self.join_deadline else {
            return;
        };
        if (self.all_joined() && now >= delay_end) || now >= hard {
            self.complete_join(now);
        }
    }

    fn complete_join(&mut self, now: i64) {
        self.join_deadline = None;
        // Members that did not rejoin in time are out.
        let gone: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.awaiting_join)
            .map(|m| m.member_id.clone())
            .collect();
        for id in gone {
            self.remove_member(&id);
        }
        self.generation_id += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol_name = None;
            self.leader = None;
            return;
        }
        self.protocol_name = self.select_protocol();
        let leader_present = self
            .leader
            .as_ref()
            .is_some_and(|l| self.member(l).is_some());
        if !leader_present {
            self.leader = self.members.values().next().map(|m| m.member_id.clone());
        }
        self.state = GroupState::CompletingRebalance;
        let ids: Vec<String> = self.members.values().map(|m| m.member_id.clone()).collect();
        for id in ids {
            let result = self.join_result_for(&id, false);
            if let Some(m) = self.member_mut(&id) {
                m.awaiting_join = false;
                m.last_heartbeat_ms = now;
                m.assignment = Bytes::new();
            }
            self.completions.push(Completion::Join {
                member_id: id,
                result,
            });
        }
    }

    /// The protocol every member supports that most members prefer (ties: the first
    /// member's preference order).
    fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&String> = first
            .protocols
            .iter()
            .map(|(n, _)| n)
            .filter(|n| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|(p, _)| p == *n))
            })
            .collect();
        let mut votes: HashMap<&String, usize> = HashMap::new();
        for m in self.members.values() {
            if let Some((vote, _)) = m.protocols.iter().find(|(n, _)| candidates.contains(&n)) {
                *votes.entry(vote).or_default() += 1;
            }
        }
        let best = candidates
            .iter()
            .map(|c| votes.get(c).copied().unwrap_or(0))
            .max()?;
        candidates
            .into_iter()
            .find(|c| votes.get(c).copied().unwrap_or(0) == best)
            .cloned()
    }

    fn join_result_for(&self, member_id: &str, skip_assignment: bool) -> JoinResult {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let is_leader = self.leader.as_deref() == Some(member_id);
        JoinResult {
            error_code: ec::NONE,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_string(),
            members: if is_leader {
                self.members
                    .values()
                    .map(|m| JoinMember {
                        member_id: m.member_id.clone(),
                        group_instance_id: m.group_instance_id.clone(),
                        metadata: m.metadata(&protocol),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            skip_assignment,
        }
    }

    /// Removes a member; a reply it was waiting for completes with UNKNOWN_MEMBER_ID.
    fn remove_member(&mut self, member_id: &str) {
        let Some(key) = self.key_of(member_id) else {
            return;
        };
        let Some(m) = self.members.remove(&key) else {
            return;
        };
        if let Some(instance) = &m.group_instance_id {
            if self.static_members.get(instance).map(String::as_str) == Some(member_id) {
                self.static_members.remove(instance);
            }
        }
        self.fail_replies(
            member_id,
            m.awaiting_join,
            m.awaiting_sync,
            ec::UNKNOWN_MEMBER_ID,
        );
        if self.leader.as_deref() == Some(member_id) {
            self.leader = None;
        }
    }

    /// Removes a member and rebalances the rest (leave, session expiry).
    fn remove_and_rebalance(&mut self, member_id: &str, now: i64) {
        self.remove_member(member_id);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                if self.members.is_empty() {
                    self.generation_id += 1;
                    self.state = GroupState::Empty;
                    self.protocol_name = None;
                    self.leader = None;
                } else {
                    self.prepare_rebalance(now);
                }
            }
            GroupState::PreparingRebalance => self.try_complete_join(now),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// Handles a SyncGroup. The leader's call carries every member's assignment.
    pub fn sync(
        &mut self,
        member: &MemberRef,
        generation_id: i32,
        protocol_type: Option<&str>,
        protocol_name: Option<&str>,
        assignments: Vec<(String, Bytes)>,
        now: i64,
    ) -> Reply<SyncResult> {
        if let Err(code) = self.check_member(member) {
            return Reply::Now(SyncResult::error(code));
        }
        if generation_id != self.generation_id {
            return Reply::Now(SyncResult::error(ec::ILLEGAL_GENERATION));
        }
        if protocol_type.is_some_and(|t| Some(t) != self.protocol_type.as_deref())
            || protocol_name.is_some_and(|n| Some(n) != self.protocol_name.as_deref())
        {
            return Reply::Now(SyncResult::error(ec::INCONSISTENT_GROUP_PROTOCOL));
        }
        let id = member.member_id.clone();
        match self.state {
            GroupState::Empty | GroupState::Dead => {
                Reply::Now(SyncResult::error(ec::UNKNOWN_MEMBER_ID))
            }
            GroupState::PreparingRebalance => {
                Reply::Now(SyncResult::error(ec::REBALANCE_IN_PROGRESS))
            }
            GroupState::Stable => {
                if let Some(m) = self.member_mut(&id) {
                    m.last_heartbeat_ms = now;
                }
                Reply::Now(self.sync_result_for(&id))
            }
            GroupState::CompletingRebalance => {
                if let Some(m) = self.member_mut(&id) {
                    m.awaiting_sync = true;
                    m.last_heartbeat_ms = now;
                }
                if self.leader.as_deref() == Some(id.as_str()) {
                    let given: HashMap<String, Bytes> = assignments.into_iter().collect();
                    for m in self.members.values_mut() {
                        m.assignment = given.get(&m.member_id).cloned().unwrap_or_default();
                    }
                    self.state = GroupState::Stable;
                    self.complete_syncs(None);
                }
                Reply::Later { member_id: id }
            }
        }
    }

    /// Answers every member waiting on SyncGroup: with its assignment, or with `error`.
    fn complete_syncs(&mut self, error: Option<i16>) {
        for m in self.members.values_mut().filter(|m| m.awaiting_sync) {
            m.awaiting_sync = false;
            let result = match error {
                Some(code) => SyncResult::error(code),
                None => SyncResult {
                    error_code: ec::NONE,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: m.assignment.clone(),
                },
            };
            self.completions.push(Completion::Sync {
                member_id: m.member_id.clone(),
                result,
            });
        }
    }

    /// Fails whatever JoinGroup/SyncGroup reply the member is waiting for with `code` and
    /// clears its waiting flags (a fenced static member, a removed member).
    fn fail_pending(&mut self, member_id: &str, code: i16) {
        let Some(m) = self.member_mut(member_id) else {
            return;
        };
        let (join, sync) = (m.awaiting_join, m.awaiting_sync);
        m.awaiting_join = false;
        m.awaiting_sync = false;
        self.fail_replies(member_id, join, sync, code);
    }

    fn fail_replies(&mut self, member_id: &str, join: bool, sync: bool, code: i16) {
        if join {
            self.completions.push(Completion::Join {
                member_id: member_id.to_string(),
                result: JoinResult::error(member_id, code),
            });
        }
        if sync {
            self.completions.push(Completion::Sync {
                member_id: member_id.to_string(),
                result: SyncResult::error(code),
            });
        }
    }

    fn sync_result_for(&self, member_id: &str) -> SyncResult {
        SyncResult {
            error_code: ec::NONE,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            assignment: self
                .member(member_id)
                .map(|m| m.assignment.clone())
                .unwrap_or_default(),
        }
    }

    /// UNKNOWN_MEMBER_ID for a stranger, FENCED_INSTANCE_ID for a replaced static member.
    pub fn check_member(&self, member: &MemberRef) -> Result<(), i16> {
        if let Some(instance) = &member.group_instance_id {
            match self.static_members.get(instance) {
                Some(current) if *current != member.member_id => {
                    return Err(ec::FENCED_INSTANCE_ID)
                }
                _ => {}
            }
        }
        if self.member(&member.member_id).is_none() {
            return Err(ec::UNKNOWN_MEMBER_ID);
        }
        Ok(())
    }

    /// Handles a Heartbeat: keeps the session alive and tells members to rejoin during a
    /// rebalance.
    pub fn heartbeat(&mut self, member: &MemberRef, generation_id: i32, now: i64) -> i16 {
        if self.state == GroupState::Dead {
            return ec::COORDINATOR_NOT_AVAILABLE;
        }
        if let Err(code) = self.check_member(member) {
            return code;
        }
        if generation_id != self.generation_id {
            return ec::ILLEGAL_GENERATION;
        }
        if let Some(m) = self.member_mut(&member.member_id) {
            m.last_heartbeat_ms = now;
        }
        match self.state {
            GroupState::PreparingRebalance => ec::REBALANCE_IN_PROGRESS,
            _ => ec::NONE,
        }
    }

    /// Handles a LeaveGroup for each member (v3+: several, static ones by instance id).
    pub fn leave(&mut self, members: &[MemberRef], now: i64) -> Vec<i16> {
        members
            .iter()
            .map(|r| {
                let id = match (&r.group_instance_id, r.member_id.is_empty()) {
                    (Some(instance), _) => match self.static_members.get(instance) {
                        Some(current) if !r.member_id.is_empty() && *current != r.member_id => {
                            return ec::FENCED_INSTANCE_ID
                        }
                        Some(current) => current.clone(),
                        None => return ec::UNKNOWN_MEMBER_ID,
                    },
                    (None, false) => r.member_id.clone(),
                    (None, true) => return ec::UNKNOWN_MEMBER_ID,
                };
                if self.pending_members.remove(&id).is_some() {
                    self.try_complete_join(now);
                    return ec::NONE;
                }
                if self.member(&id).is_none() {
                    return ec::UNKNOWN_MEMBER_ID;
                }
                self.remove_and_rebalance(&id, now);
                ec::NONE
            })
            .collect()
    }

    /// Expires sessions and pending member ids, and completes a rebalance whose time is up.
    pub fn tick(&mut self, now: i64) {
        self.pending_members.retain(|_, expiry| *expiry > now);
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| {
                !m.awaiting_join
                    && !m.awaiting_sync
                    && now - m.last_heartbeat_ms >= i64::from(m.session_timeout_ms)
            })
            .map(|m| m.member_id.clone())
            .collect();
        for id in expired {
            self.remove_and_rebalance(&id, now);
        }
        self.try_complete_join(now);
    }

    /// When [`Group::tick`] next has something to do, if ever.
    pub fn next_deadline(&self) -> Option<i64> {
        let sessions = self
            .members
            .values()
            .filter(|m| !m.awaiting_join && !m.awaiting_sync)
            .map(|m| m.last_heartbeat_ms + i64::from(m.session_timeout_ms));
        let pending = self.pending_members.values().copied();
        let join = self
            .join_deadline
            .map(|(delay, hard)| if self.all_joined() { delay } else { hard });
        sessions.chain(pending).chain(join).min()
    }

    /// Marks the group deleted (DeleteGroups); only an empty group may be.
    pub fn mark_dead(&mut self) {
        self.state = GroupState::Dead;
    }

    /// The protocol-level subscriptions of members, for OffsetDelete: (member, metadata of
    /// the selected protocol).
    pub fn member_metadata(&self) -> Vec<(String, Bytes)> {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        self.members
            .values()
            .map(|m| (m.member_id.clone(), m.metadata(&protocol)))
            .collect()
    }

    /// Ids of pending (KIP-394) members, for tests and descriptions.
    pub fn pending_member_ids(&self) -> HashSet<String> {
        self.pending_members.keys().cloned().collect()
    }
}

#[path = "stored.rs"]
mod stored;
