//! Partition reassignment (AlterPartitionReassignments, ListPartitionReassignments: what
//! `kafka-reassign-partitions.sh --execute/--verify/--cancel` and `Admin.alterPartitionReassignments`
//! send), decided as Kafka's ReplicationControlManager does. Pure: each function takes the image
//! and returns the records to propose.
//!
//! A move from replicas `C` to a target `T`:
//! - starts by listing `T` then `C - T` as the replicas, with `adding = T - C` and
//!   `removing = C - T`; the ISR and the leader stay. The adding replicas open their logs and
//!   fetch from the leader as any follower; the leader adds each to the ISR once it has caught
//!   up (AlterPartition).
//! - completes when every adding replica is in the ISR (in the same record as the ISR change
//!   that puts the last one there, or at once when the target is already in sync): the
//!   replicas become `T`, the removing replicas leave the ISR, and if the leader is leaving,
//!   the first target replica in the ISR that is live takes over. The leaving brokers then
//!   delete their copies.
//! - a new target for a partition being moved replaces the old one, computed from the
//!   replicas as they were before the move (`C` = replicas - adding).
//! - a cancellation (a null target) restores `C`: the adding replicas leave the replicas and
//!   the ISR. It is refused (INVALID_REPLICA_ASSIGNMENT) when no original replica is in the
//!   ISR, which would lose committed data; NO_REASSIGNMENT_IN_PROGRESS without a move.
//!
//! Acknowledged writes are never lost: a replica leaves only once the target replicas are in
//! the ISR, so each holds every committed record; a leader is always an ISR member.

use std::collections::BTreeSet;

use super::image::{Image, PartitionMeta, Record, NO_LEADER};
use crate::protocol::error_code as ec;

/// One partition's answer: error code and message (None with NONE).
pub type Answer = (i16, Option<String>);

/// What AlterPartitionReassignments asks, per topic name: (partition, target replicas or None
/// to cancel).
pub type Targets = Vec<(String, Vec<(i32, Option<Vec<i32>>)>)>;

/// Its answers, per topic name: (partition, answer).
pub type Answers = Vec<(String, Vec<(i32, Answer)>)>;

fn fail(code: i16, message: impl Into<String>) -> Answer {
    (code, Some(message.into()))
}

/// The record that sets `p` to `after` (leader, ISR, replicas, adding, removing).
fn record(topic_id: uuid::Uuid, partition: i32, after: &PartitionMeta) -> Record {
    Record::Reassign {
        topic_id,
        partition,
        replicas: after.replicas.clone(),
        adding: after.adding_replicas.clone(),
        removing: after.removing_replicas.clone(),
        leader: after.leader,
        isr: after.isr.clone(),
    }
}

/// The leader after the replicas or the ISR changed: the current one if it is still an ISR
/// member, else the first replica (in replica order) in the ISR that is live, else none.
fn leader_for(image: &Image, p: &PartitionMeta) -> i32 {
    if p.leader != NO_LEADER && p.isr.contains(&p.leader) {
        return p.leader;
    }
    p.replicas
        .iter()
        .copied()
        .find(|r| p.isr.contains(r) && image.is_live(*r))
        .unwrap_or(NO_LEADER)
}

/// Completes `p`'s reassignment if every adding replica is in its ISR: the replicas become
/// the target, the removing replicas leave the ISR, and a leaving leader hands over. Returns
/// whether it completed. An ISR of removing replicas only is left as it is (the move waits).
pub fn maybe_complete(image: &Image, p: &mut PartitionMeta) -> bool {
    if !p.reassigning() || !p.adding_replicas.iter().all(|r| p.isr.contains(r)) {
        return false;
    }
    let target: Vec<i32> = p
        .replicas
        .iter()
        .copied()
        .filter(|r| !p.removing_replicas.contains(r))
        .collect();
    let isr: Vec<i32> = p
        .isr
        .iter()
        .copied()
        .filter(|r| target.contains(r))
        .collect();
    if isr.is_empty() {
        return false;
    }
    p.replicas = target;
    p.isr = isr;
    p.adding_replicas.clear();
    p.removing_replicas.clear();
    p.leader = leader_for(image, p);
    true
}

/// The replicas as they were before the move in progress (all of them without one).
pub fn original(p: &PartitionMeta) -> Vec<i32> {
    p.replicas
        .iter()
        .copied()
        .filter(|r| !p.adding_replicas.contains(r))
        .collect()
}

/// One partition of AlterPartitionReassignments: `target` moves it (None cancels the move in
/// progress). On success, the partition as it will be (None when nothing changes).
pub fn alter(
    image: &Image,
    p: &PartitionMeta,
    target: Option<&[i32]>,
) -> Result<Option<PartitionMeta>, Answer> {
    let Some(target) = target else {
        if !p.reassigning() {
            return Err(fail(
                ec::NO_REASSIGNMENT_IN_PROGRESS,
                "No reassignment is in progress for this partition.",
            ));
        }
        let mut after = p.clone();
        after.replicas = original(p);
        after.isr.retain(|r| after.replicas.contains(r));
        if after.isr.is_empty() {
            return Err(fail(
                ec::INVALID_REPLICA_ASSIGNMENT,
                "Cannot cancel: no original replica is in sync.",
            ));
        }
        after.adding_replicas.clear();
        after.removing_replicas.clear();
        after.leader = leader_for(image, &after);
        return Ok(Some(after));
    };
    if target.is_empty() {
        return Err(fail(
            ec::INVALID_REPLICA_ASSIGNMENT,
            "The target replica list is empty.",
        ));
    }
    let mut seen = BTreeSet::new();
    if let Some(d) = target.iter().find(|r| !seen.insert(**r)) {
        return Err(fail(
            ec::INVALID_REPLICA_ASSIGNMENT,
            format!("The target replica list names broker {d} more than once."),
        ));
    }
    if let Some(b) = target.iter().find(|r| !image.brokers.contains_key(r)) {
        return Err(fail(
            ec::INVALID_REPLICA_ASSIGNMENT,
            format!("The manual partition assignment includes broker {b}, but no such broker is registered."),
        ));
    }
    let current = original(p);
    if target == current.as_slice() && !p.reassigning() {
        return Ok(None);
    }
    let mut after = p.clone();
    after.adding_replicas = target
        .iter()
        .copied()
        .filter(|r| !current.contains(r))
        .collect();
    after.removing_replicas = current
        .iter()
        .copied()
        .filter(|r| !target.contains(r))
        .collect();
    after.replicas = target.to_vec();
    after.replicas.extend(&after.removing_replicas);
    // Replicas added by the move being replaced and not in the new target leave now.
    after.isr.retain(|r| after.replicas.contains(r));
    if after.isr.is_empty() {
        return Err(fail(
            ec::INVALID_REPLICA_ASSIGNMENT,
            "The move would leave no replica in sync.",
        ));
    }
    after.leader = leader_for(image, &after);
    maybe_complete(image, &mut after);
    // (Epochs are untouched until the record applies: equal means nothing changes.)
    Ok((after != *p).then_some(after))
}

/// AlterPartitionReassignments: per topic, per partition, a target (None cancels). Each is
/// decided on the image as the earlier ones leave it. Returns the records and the answers
/// in the request's order.
pub fn alter_all(image: &Image, wanted: &Targets) -> (Vec<Record>, Answers) {
    let mut scratch = image.clone();
    let mut records = Vec::new();
    let mut answers = Vec::new();
    for (name, parts) in wanted {
        let mut topic_answers = Vec::new();
        for (index, target) in parts {
            let found = scratch
                .topic(name)
                .and_then(|t| Some((t.id, t.partition(*index)?.clone())));
            let answer = match found {
                None => fail(
                    ec::UNKNOWN_TOPIC_OR_PARTITION,
                    "The partition does not exist.",
                ),
                Some((id, p)) => match alter(&scratch, &p, target.as_deref()) {
                    Ok(Some(after)) => {
                        let r = record(id, *index, &after);
                        scratch.apply(&r);
                        records.push(r);
                        (ec::NONE, None)
                    }
                    Ok(None) => (ec::NONE, None),
                    Err(a) => a,
                },
            };
            topic_answers.push((*index, answer));
        }
        answers.push((name.clone(), topic_answers));
    }
    (records, answers)
}

/// The record that completes the move of partition `p` when the ISR `isr` (an AlterPartition's)
/// holds every replica it adds, with the partition as that record leaves it; None when the
/// move is not done (or there is none).
pub fn completion(
    image: &Image,
    topic_id: uuid::Uuid,
    partition: i32,
    p: &PartitionMeta,
    isr: &[i32],
) -> Option<(Record, PartitionMeta)> {
    let mut after = p.clone();
    after.isr = isr.to_vec();
    if !maybe_complete(image, &mut after) {
        return None;
    }
    let record = record(topic_id, partition, &after);
    let mut done = p.clone();
    done.replicas = after.replicas;
    done.adding_replicas.clear();
    done.removing_replicas.clear();
    done.change(after.leader, after.isr);
    Some((record, done))
}

/// One partition being moved, as ListPartitionReassignments lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ongoing {
    pub partition: i32,
    pub replicas: Vec<i32>,
    pub adding: Vec<i32>,
    pub removing: Vec<i32>,
}

/// ListPartitionReassignments: the moves in progress among `wanted` (by topic name; all
/// topics when None), topics sorted by name when listing all. Unknown topics and
/// partitions are left out, as Kafka answers.
pub fn list(image: &Image, wanted: Option<&[(String, Vec<i32>)]>) -> Vec<(String, Vec<Ongoing>)> {
    let ongoing = |p: &PartitionMeta, i: i32| {
        p.reassigning().then(|| Ongoing {
            partition: i,
            replicas: p.replicas.clone(),
            adding: p.adding_replicas.clone(),
            removing: p.removing_replicas.clone(),
        })
    };
    let mut out = Vec::new();
    match wanted {
        Some(wanted) => {
            for (name, ids) in wanted {
                let Some(t) = image.topic(name) else { continue };
                let moves: Vec<Ongoing> = ids
                    .iter()
                    .filter_map(|&i| ongoing(t.partition(i)?, i))
                    .collect();
                if !moves.is_empty() {
                    out.push((name.clone(), moves));
                }
            }
        }
        None => {
            let mut names: Vec<&String> = image.topics.keys().collect();
            names.sort();
            for name in names {
                let t = &image.topics[name];
                let moves: Vec<Ongoing> = t
                    .partitions
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| ongoing(p, i as i32))
                    .collect();
                if !moves.is_empty() {
                    out.push((name.clone(), moves));
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "reassign_tests.rs"]
mod tests;
