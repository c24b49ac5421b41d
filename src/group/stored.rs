//! A group as `__consumer_offsets` stores it: the view written (Kafka's GroupMetadataValue),
//! a group rebuilt from it on load, and what a failed write does to the group. A child of
//! `state`, so it reaches the group's private bookkeeping (join order, static members).

use bytes::Bytes;

use super::super::records::{GroupValue, MemberValue};
use super::*;

impl Group {
    /// The assignment of generation `generation` could not be stored: clears it and starts
    /// a new rebalance if that generation is still the group's (Kafka's answer when its group
    /// write fails during SyncGroup; the members' SyncGroup replies carry the error).
    pub fn assignment_not_stored(&mut self, generation: i32, now: i64) {
        if self.generation_id != generation || self.state != GroupState::Stable {
            return;
        }
        for m in self.members.values_mut() {
            m.assignment = Bytes::new();
        }
        self.prepare_rebalance(now);
    }

    /// A group as loaded from its last `__consumer_offsets` record: Stable with the stored
    /// members and assignments (their sessions start now), or Empty without members, as
    /// Kafka's coordinator loads it.
    pub fn restore(group_id: &str, config: GroupConfig, v: &GroupValue, now: i64) -> Self {
        let mut g = Group::new(group_id, config);
        g.generation_id = v.generation;
        g.protocol_type = (!v.protocol_type.is_empty()).then(|| v.protocol_type.clone());
        g.protocol_name = v.protocol.clone();
        for m in &v.members {
            g.order += 1;
            if let Some(instance) = &m.group_instance_id {
                g.static_members
                    .insert(instance.clone(), m.member_id.clone());
            }
            let protocol = v.protocol.clone().unwrap_or_default();
            g.members.insert(
                g.order,
                Member {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    session_timeout_ms: m.session_timeout,
                    rebalance_timeout_ms: m.rebalance_timeout,
                    protocol_type: v.protocol_type.clone(),
                    protocols: vec![(protocol, m.subscription.clone())],
                    assignment: m.assignment.clone(),
                    awaiting_join: false,
                    awaiting_sync: false,
                    last_heartbeat_ms: now,
                },
            );
        }
        if !g.members.is_empty() {
            g.state = GroupState::Stable;
            g.leader = v
                .leader
                .clone()
                .filter(|l| g.member(l).is_some())
                .or_else(|| g.members.values().next().map(|m| m.member_id.clone()));
        }
        g
    }

    /// What is stored for the group in `__consumer_offsets` (Kafka's GroupMetadataValue):
    /// generation, protocol, leader and every member with its subscription to the selected
    /// protocol and its assignment.
    pub fn to_value(&self, now: i64) -> GroupValue {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        GroupValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation_id,
            protocol: self.protocol_name.clone(),
            leader: self.leader.clone(),
            current_state_timestamp: now,
            members: self
                .members
                .values()
                .map(|m| MemberValue {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout: m.rebalance_timeout_ms,
                    session_timeout: m.session_timeout_ms,
                    subscription: m.metadata(&protocol),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }

    /// What must be stored again when it changes: set in Empty and Stable (the states Kafka
    /// stores), `None` in the states between (a rebalance in progress is not stored).
    pub fn stored_view(&self) -> Option<(i32, Option<String>, Vec<String>)> {
        matches!(self.state, GroupState::Empty | GroupState::Stable).then(|| {
            (
                self.generation_id,
                self.leader.clone(),
                self.members.values().map(|m| m.member_id.clone()).collect(),
            )
        })
    }
}
