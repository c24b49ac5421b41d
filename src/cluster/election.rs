//! Leader elections asked for by an operator (ElectLeaders, `kafka-leader-election.sh`) and the
//! controller's automatic preferred-leader rebalance (`auto.leader.rebalance.enable`). Pure:
//! each takes the image and returns the records to propose, as Kafka's
//! ReplicationControlManager decides them.
//!
//! - Preferred election: the first replica (the preferred leader) takes over when it is live
//!   and in the ISR; ELECTION_NOT_NEEDED when it leads already, PREFERRED_LEADER_NOT_AVAILABLE
//!   when it cannot. The ISR is unchanged, so no acknowledged write is lost.
//! - Unclean election, only for a partition without a leader: a live ISR member if there is
//!   one, else any live replica, whose log becomes the truth (the ISR is reset to it alone:
//!   acknowledged writes it lacks are lost, which is what the operator asked for);
//!   ELECTION_NOT_NEEDED when the partition has a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE when
//!   no replica is live.

use serde::{Deserialize, Serialize};

use super::image::{Image, PartitionMeta, Record, TopicMeta, NO_LEADER};
use crate::protocol::error_code as ec;

/// Kafka's ElectionType (ElectLeaders v1+; v0 is always preferred).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElectionType {
    Preferred,
    Unclean,
}

impl ElectionType {
    /// The wire value: 0 preferred, 1 unclean; anything else is not an election type.
    pub fn from_wire(v: i8) -> Option<Self> {
        match v {
            0 => Some(ElectionType::Preferred),
            1 => Some(ElectionType::Unclean),
            _ => None,
        }
    }
}

/// One partition's answer: its id, error code (NONE when a new leader was elected) and message.
pub type PartitionResult = (i32, i16, Option<String>);

/// The records for one election of `ty` in partition `index` of `topic`, or its error code.
pub fn elect(
    image: &Image,
    topic: &TopicMeta,
    index: i32,
    ty: ElectionType,
) -> Result<Record, i16> {
    let p = topic
        .partition(index)
        .ok_or(ec::UNKNOWN_TOPIC_OR_PARTITION)?;
    let (leader, isr) = match ty {
        ElectionType::Preferred => {
            let preferred = *p
                .replicas
                .first()
                .ok_or(ec::PREFERRED_LEADER_NOT_AVAILABLE)?;
            if p.leader == preferred {
                return Err(ec::ELECTION_NOT_NEEDED);
            }
            if !(p.isr.contains(&preferred) && image.is_live(preferred)) {
                return Err(ec::PREFERRED_LEADER_NOT_AVAILABLE);
            }
            (preferred, p.isr.clone())
        }
        ElectionType::Unclean => {
            if p.leader != NO_LEADER {
                return Err(ec::ELECTION_NOT_NEEDED);
            }
            let live = |r: &&i32| image.is_live(**r);
            match p.replicas.iter().filter(|r| p.isr.contains(r)).find(live) {
                Some(&r) => (r, p.isr.clone()),
                None => match p.replicas.iter().find(live) {
                    Some(&r) => (r, vec![r]),
                    None => return Err(ec::ELIGIBLE_LEADERS_NOT_AVAILABLE),
                },
            }
        }
    };
    Ok(Record::PartitionChange {
        topic_id: topic.id,
        partition: index,
        leader,
        isr,
    })
}

/// ElectLeaders: `partitions` by topic name, or every partition of every topic when `None`
/// (then, as Kafka answers, partitions that need no election are left out of the results).
/// Returns the records to propose and the results per topic, in the request's order (sorted
/// by name for all topics).
pub fn elect_leaders(
    image: &Image,
    ty: ElectionType,
    partitions: Option<&[(String, Vec<i32>)]>,
) -> (Vec<Record>, Vec<(String, Vec<PartitionResult>)>) {
    let mut records = Vec::new();
    let mut results = Vec::new();
    let mut one = |topic: Option<&TopicMeta>, index: i32| -> PartitionResult {
        let Some(topic) = topic else {
            return (
                index,
                ec::UNKNOWN_TOPIC_OR_PARTITION,
                Some("No such topic.".into()),
            );
        };
        match elect(image, topic, index, ty) {
            Ok(r) => {
                records.push(r);
                (index, ec::NONE, None)
            }
            Err(code) => (index, code, message(code)),
        }
    };
    match partitions {
        Some(wanted) => {
            for (name, ids) in wanted {
                let topic = image.topic(name).map(|t| &**t);
                results.push((name.clone(), ids.iter().map(|&i| one(topic, i)).collect()));
            }
        }
        None => {
            let mut names: Vec<&String> = image.topics.keys().collect();
            names.sort();
            for name in names {
                let topic = image.topic(name).map(|t| &**t);
                let count = topic.map_or(0, |t| t.partition_count());
                let res = (0..count)
                    .map(|i| one(topic, i))
                    .filter(|r| r.1 != ec::ELECTION_NOT_NEEDED)
                    .collect();
                results.push((name.clone(), res));
            }
        }
    }
    (records, results)
}

fn message(code: i16) -> Option<String> {
    Some(
        match code {
            ec::ELECTION_NOT_NEEDED => "Leader election not needed for topic partition.",
            ec::PREFERRED_LEADER_NOT_AVAILABLE => {
                "The preferred leader is not live or not in the ISR."
            }
            ec::ELIGIBLE_LEADERS_NOT_AVAILABLE => "No replica of the partition is live.",
            ec::UNKNOWN_TOPIC_OR_PARTITION => "No such partition.",
            _ => return None,
        }
        .into(),
    )
}

/// Whether a partition's leader is not its preferred replica (Kafka's imbalance).
pub fn imbalanced(p: &PartitionMeta) -> bool {
    p.replicas.first().is_some_and(|&r| r != p.leader)
}

/// The automatic rebalance: a preferred election for each imbalanced partition whose
/// preferred replica can lead, at most `max` of them (Kafka's maxElectionsPerImbalance), in
/// topic name and partition order. Returns the records and whether more are left.
pub fn rebalance(image: &Image, max: usize) -> (Vec<Record>, bool) {
    let mut names: Vec<&String> = image.topics.keys().collect();
    names.sort();
    let mut records = Vec::new();
    for name in names {
        let topic = &image.topics[name];
        for (i, p) in topic.partitions.iter().enumerate() {
            if !imbalanced(p) {
                continue;
            }
            if let Ok(r) = elect(image, topic, i as i32, ElectionType::Preferred) {
                if records.len() == max {
                    return (records, true);
                }
                records.push(r);
            }
        }
    }
    (records, false)
}

#[cfg(test)]
#[path = "election_tests.rs"]
mod tests;
