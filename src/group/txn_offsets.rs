//! Transactional offset commits (TxnOffsetCommit, KIP-98): offsets a transactional producer
//! commits for a group are appended to the group's `__consumer_offsets` partition in a
//! transactional batch and held aside, per producer id, until the transaction's marker is
//! written to that partition: a COMMIT makes them the group's committed offsets, an ABORT
//! drops them. Until then OffsetFetch with `require_stable` answers UNSTABLE_OFFSET_COMMIT
//! for their partitions, so a read_committed consumer never starts from an offset that may
//! yet be rolled back.

use std::collections::BTreeMap;

use super::offsets_topic::{self, KeyValue};
use super::records::{GroupKey, OffsetValue};
use super::*;
use crate::broker::Broker;

/// Offsets held for open transactions: by producer id, group, then (topic, partition).
pub(super) type PendingTxnOffsets =
    HashMap<i64, HashMap<String, BTreeMap<(String, i32), OffsetValue>>>;

/// Kafka's checks for a transactional commit: a dead group is unavailable; a member id, if
/// given, must be a member; a generation, if given (>= 0), must be the group's. An unknown
/// group is created Empty, as for a simple commit.
fn validate_txn_commit(
    group: Option<&Group>,
    member: &MemberRef,
    generation_id: i32,
) -> Result<(), i16> {
    let Some(g) = super::commit_target(group, generation_id)? else {
        return Ok(());
    };
    if !member.member_id.is_empty() {
        g.check_member(member)?;
    }
    if generation_id >= 0 && generation_id != g.generation_id {
        return Err(ec::ILLEGAL_GENERATION);
    }
    Ok(())
}

impl Inner {
    /// Applies (commit) or drops (abort) the producer's held offsets for the groups on
    /// `partition`.
    pub(super) fn complete_txn(
        &mut self,
        partition: i32,
        producer_id: i64,
        commit: bool,
        marker_offset: i64,
    ) {
        let partitions = self.partitions;
        let Some(groups) = self.txn_offsets.get_mut(&producer_id) else {
            return;
        };
        let ours: Vec<String> = groups
            .keys()
            .filter(|g| offsets_topic::partition_for(g, partitions) == partition)
            .cloned()
            .collect();
        let mut done = Vec::new();
        for g in ours {
            if let Some(offsets) = groups.remove(&g) {
                done.push((g, offsets));
            }
        }
        if groups.is_empty() {
            self.txn_offsets.remove(&producer_id);
        }
        if commit {
            for (g, offsets) in done {
                self.apply_offsets(&g, marker_offset, offsets.into_iter().collect());
            }
        }
    }

    /// Applies the markers written to `partition` while it loaded that the load's read (up to
    /// `end`) did not see.
    pub(super) fn apply_late_markers(&mut self, partition: i32, end: i64) {
        let late = std::mem::take(&mut self.late_markers);
        for (p, pid, commit, offset) in late {
            if p != partition {
                self.late_markers.push((p, pid, commit, offset));
            } else if offset >= end {
                self.complete_txn(p, pid, commit, offset);
            }
        }
    }

    /// Forgets the held offsets of the groups on `partition` (unloaded).
    pub(super) fn unload_txn_offsets(&mut self, partition: i32) {
        self.late_markers.retain(|m| m.0 != partition);
        let partitions = self.partitions;
        for groups in self.txn_offsets.values_mut() {
            groups.retain(|g, _| offsets_topic::partition_for(g, partitions) != partition);
        }
        self.txn_offsets.retain(|_, g| !g.is_empty());
    }

    /// Holds what a load found staged for open transactions.
    pub(super) fn stage_loaded(&mut self, pending: HashMap<i64, Vec<KeyValue>>) {
        for (pid, records) in pending {
            for (key, value) in records {
                let Ok(GroupKey::Offset {
                    group,
                    topic,
                    partition,
                }) = GroupKey::decode(&key)
                else {
                    continue;
                };
                let held = self.txn_offsets.entry(pid).or_default();
                match value.as_deref().map(OffsetValue::decode) {
                    Some(Ok(v)) => {
                        held.entry(group).or_default().insert((topic, partition), v);
                    }
                    _ => {
                        if let Some(g) = held.get_mut(&group) {
                            g.remove(&(topic, partition));
                        }
                    }
                }
            }
        }
    }
}

impl GroupCoordinator {
    /// TxnOffsetCommit for one group: checked, appended as producer `producer_id`'s
    /// transactional batch, and held once committed by the replicas.
    #[allow(clippy::too_many_arguments)]
    pub async fn commit_txn_offsets(
        &self,
        broker: &Broker,
        group_id: &str,
        member: &MemberRef,
        generation_id: i32,
        producer_id: i64,
        producer_epoch: i16,
        offsets: Vec<((String, i32), OffsetValue)>,
    ) -> Result<(), i16> {
        let txn = Some((producer_id, producer_epoch));
        let (mut inner, _) = self
            .append_offsets(broker, group_id, &offsets, txn, |g| {
                validate_txn_commit(g, member, generation_id)
            })
            .await?;
        let held = inner
            .txn_offsets
            .entry(producer_id)
            .or_default()
            .entry(group_id.to_string())
            .or_default();
        held.extend(offsets);
        Ok(())
    }

    /// A transaction's marker was written to `__consumer_offsets` partition `partition` at
    /// `marker_offset`: the producer's held offsets for the groups there apply (commit) or
    /// are dropped (abort).
    pub fn complete_txn(&self, partition: i32, producer_id: i64, commit: bool, marker_offset: i64) {
        let mut inner = self.lock();
        // A partition still loading may have read the log before this marker: the marker is
        // applied again once the load has staged what it read.
        if inner.held.get(&partition).is_some_and(|h| !h.loaded) {
            inner
                .late_markers
                .push((partition, producer_id, commit, marker_offset));
            return;
        }
        inner.complete_txn(partition, producer_id, commit, marker_offset);
    }

    /// Whether an open transaction holds an offset for this group's partition (OffsetFetch
    /// `require_stable`: UNSTABLE_OFFSET_COMMIT).
    pub fn has_pending_txn_offset(&self, group_id: &str, topic: &str, partition: i32) -> bool {
        let inner = self.lock();
        let key = (topic.to_string(), partition);
        inner
            .txn_offsets
            .values()
            .any(|groups| groups.get(group_id).is_some_and(|o| o.contains_key(&key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> MemberRef {
        MemberRef {
            member_id: id.to_string(),
            group_instance_id: None,
        }
    }

    #[test]
    fn txn_commit_checks_follow_kafka() {
        // An unknown group: only without a generation.
        assert_eq!(validate_txn_commit(None, &member(""), -1), Ok(()));
        assert_eq!(
            validate_txn_commit(None, &member(""), 3),
            Err(ec::ILLEGAL_GENERATION)
        );
        // A known group: the old API (no member, no generation) commits whatever its state.
        let g = Group::new("g", GroupConfig::default());
        assert_eq!(validate_txn_commit(Some(&g), &member(""), -1), Ok(()));
        assert_eq!(
            validate_txn_commit(Some(&g), &member("m-1"), -1),
            Err(ec::UNKNOWN_MEMBER_ID)
        );
        assert_eq!(
            validate_txn_commit(Some(&g), &member(""), 5),
            Err(ec::ILLEGAL_GENERATION)
        );
    }
}
