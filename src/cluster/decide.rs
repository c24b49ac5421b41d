//! The controller's decisions: pure functions from the image and a request to the records
//! that carry it out, or to Kafka's error. The controller runs them one at a time on the
//! current image of the raft leader and proposes their records as one entry; nothing here
//! touches a socket, a clock or a file.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::image::{BrokerInfo, Image, PartitionMeta, Record, TopicMeta, NO_LEADER};
use super::placement::{self, BrokerSlot, Load, PlacementError};
use crate::protocol::error_code as ec;
use crate::topics::TopicError;

/// Kafka's bound on partitions per request (weir's own, to bound a record's size).
pub const MAX_PARTITIONS: i32 = 100_000;

/// What CreateTopics asks for one topic, after the receiving broker resolved
/// `num.partitions` and validated the name and configs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CreateTopic {
    pub name: String,
    /// -1 when `assignments` gives the partitions.
    pub partitions: i32,
    /// -1: `default.replication.factor`.
    pub replication_factor: i16,
    /// Manual replica assignment, partition by partition.
    pub assignments: Option<Vec<Vec<i32>>>,
    pub configs: BTreeMap<String, String>,
}

fn err(code: i16, message: impl Into<String>) -> TopicError {
    TopicError {
        code,
        message: message.into(),
    }
}

fn unknown_topic(name: &str) -> TopicError {
    err(
        ec::UNKNOWN_TOPIC_OR_PARTITION,
        format!("The topic '{name}' does not exist."),
    )
}

fn placement_error(e: PlacementError) -> TopicError {
    match e {
        PlacementError::ReplicationFactor(m) => err(ec::INVALID_REPLICATION_FACTOR, m),
        PlacementError::Assignment(m) => err(ec::INVALID_REPLICA_ASSIGNMENT, m),
    }
}

/// The live brokers as placement sees them.
fn slots(image: &Image) -> Vec<BrokerSlot> {
    image
        .live_brokers()
        .map(|b| BrokerSlot {
            id: b.id,
            rack: b.rack.clone(),
        })
        .collect()
}

/// Every broker's current leader and replica counts.
pub fn load(image: &Image) -> Load {
    let mut load = Load::default();
    for t in image.topics.values() {
        let lists: Vec<Vec<i32>> = t.partitions.iter().map(|p| p.replicas.clone()).collect();
        placement::add_to_load(&mut load, &lists);
    }
    load
}

/// Replica lists for `count` new partitions: the manual `assignments` checked, or placed.
fn replicas_for(
    image: &Image,
    count: usize,
    rf: i16,
    assignments: Option<&Vec<Vec<i32>>>,
    expected_rf: Option<usize>,
) -> Result<Vec<Vec<i32>>, TopicError> {
    match assignments {
        Some(lists) => {
            let known: Vec<i32> = image.brokers.keys().copied().collect();
            placement::validate_assignment(&known, lists, expected_rf).map_err(placement_error)?;
            Ok(lists.clone())
        }
        None => placement::place(&slots(image), count, i32::from(rf), &load(image))
            .map_err(placement_error),
    }
}

/// A new partition: its live replicas are in sync (every log is empty), and the first of
/// them leads (fenced brokers lead nothing and join the ISR once they catch up).
fn new_partition(image: &Image, replicas: Vec<i32>) -> PartitionMeta {
    let mut p = PartitionMeta::new(replicas);
    p.isr = p
        .replicas
        .iter()
        .copied()
        .filter(|&r| image.is_live(r))
        .collect();
    p.leader = p.isr.first().copied().unwrap_or(NO_LEADER);
    p
}

/// CreateTopics for one topic: the topic as it will be, and its record.
pub fn create_topic(
    image: &Image,
    req: &CreateTopic,
    default_replication_factor: i16,
    id: Uuid,
) -> Result<(TopicMeta, Vec<Record>), TopicError> {
    if image.topics.contains_key(&req.name) {
        return Err(err(
            ec::TOPIC_ALREADY_EXISTS,
            format!("Topic '{}' already exists.", req.name),
        ));
    }
    let replicas = match &req.assignments {
        Some(lists) => {
            if req.partitions != -1 || req.replication_factor != -1 {
                return Err(err(
                    ec::INVALID_REQUEST,
                    "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.",
                ));
            }
            if lists.is_empty() || lists.len() > MAX_PARTITIONS as usize {
                return Err(err(ec::INVALID_PARTITIONS, "Invalid number of partitions."));
            }
            replicas_for(image, lists.len(), -1, Some(lists), None)?
        }
        None => {
            if req.partitions <= 0 {
                return Err(err(
                    ec::INVALID_PARTITIONS,
                    "Number of partitions must be larger than 0.",
                ));
            }
            if req.partitions > MAX_PARTITIONS {
                return Err(err(
                    ec::INVALID_PARTITIONS,
                    "Number of partitions is too large.",
                ));
            }
            let rf = if req.replication_factor == -1 {
                default_replication_factor
            } else {
                req.replication_factor
            };
            replicas_for(image, req.partitions as usize, rf, None, None)?
        }
    };
    let topic = TopicMeta {
        name: req.name.clone(),
        id,
        configs: req.configs.clone(),
        partitions: replicas
            .into_iter()
            .map(|r| new_partition(image, r))
            .collect(),
    };
    Ok((topic.clone(), vec![Record::PutTopic(topic)]))
}

/// CreatePartitions: grows `name` to `count` partitions, placed or as `assignments` give
/// the new ones (one list per new partition, of the topic's replication factor).
pub fn create_partitions(
    image: &Image,
    name: &str,
    count: i32,
    assignments: Option<&Vec<Vec<i32>>>,
) -> Result<(TopicMeta, Vec<Record>), TopicError> {
    let topic = image.topic(name).ok_or_else(|| unknown_topic(name))?;
    let current = topic.partition_count();
    if count < current {
        return Err(err(
            ec::INVALID_PARTITIONS,
            format!(
                "Topic currently has {current} partitions, which is higher than the requested {count}."
            ),
        ));
    }
    if count == current {
        return Err(err(
            ec::INVALID_PARTITIONS,
            format!("Topic already has {count} partitions."),
        ));
    }
    if count > MAX_PARTITIONS {
        return Err(err(
            ec::INVALID_PARTITIONS,
            "Number of partitions is too large.",
        ));
    }
    let added = (count - current) as usize;
    let rf = topic.replication_factor();
    if let Some(lists) = assignments {
        if lists.len() != added {
            return Err(err(
                ec::INVALID_REPLICA_ASSIGNMENT,
                format!(
                    "Increasing the number of partitions by {added} but {} assignments provided.",
                    lists.len()
                ),
            ));
        }
    }
    let replicas = replicas_for(image, added, rf, assignments, Some(rf as usize))?;
    let mut grown = (**topic).clone();
    grown
        .partitions
        .extend(replicas.into_iter().map(|r| new_partition(image, r)));
    Ok((grown.clone(), vec![Record::PutTopic(grown)]))
}

/// DeleteTopics for one topic.
pub fn delete_topic(image: &Image, name: &str) -> Result<(TopicMeta, Vec<Record>), TopicError> {
    let topic = image.topic(name).ok_or_else(|| {
        err(
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            "This server does not host this topic-partition.",
        )
    })?;
    Ok((
        (**topic).clone(),
        vec![Record::RemoveTopic {
            name: name.to_string(),
            id: topic.id,
        }],
    ))
}

/// Replaces a topic's config overrides (validated by the receiving broker).
pub fn set_configs(
    image: &Image,
    name: &str,
    configs: BTreeMap<String, String>,
) -> Result<(TopicMeta, Vec<Record>), TopicError> {
    let topic = image.topic(name).ok_or_else(|| unknown_topic(name))?;
    let mut changed = (**topic).clone();
    changed.configs = configs;
    Ok((changed.clone(), vec![Record::PutTopic(changed)]))
}

/// Fencing broker `id`: it leaves every ISR it is in (unless it is the last member, which
/// Kafka keeps so that the partition can come back with it), and every partition it led gets
/// the first other live ISR member, in replica order, as leader, or no leader.
pub fn fence(image: &Image, id: i32) -> Vec<Record> {
    if !image.is_live(id) {
        return vec![];
    }
    let mut records = vec![Record::BrokerFencing { id, fenced: true }];
    let mut topics: Vec<&TopicMeta> = image.topics.values().map(|t| &**t).collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    for t in topics {
        for (i, p) in t.partitions.iter().enumerate() {
            if p.leader != id && !p.isr.contains(&id) {
                continue;
            }
            let mut isr: Vec<i32> = p.isr.iter().copied().filter(|&r| r != id).collect();
            if isr.is_empty() {
                isr = vec![id];
            }
            let leader = if p.leader == id {
                p.replicas
                    .iter()
                    .copied()
                    .find(|&r| r != id && isr.contains(&r) && image.is_live(r))
                    .unwrap_or(NO_LEADER)
            } else {
                p.leader
            };
            if leader != p.leader || isr != p.isr {
                records.push(Record::PartitionChange {
                    topic_id: t.id,
                    partition: i as i32,
                    leader,
                    isr,
                });
            }
        }
    }
    records
}

/// Broker `id` is live again (unfenced or re-registered): every leaderless partition whose
/// ISR holds it gets it as leader.
fn elect_returning(image: &Image, id: i32, records: &mut Vec<Record>) {
    let mut topics: Vec<&TopicMeta> = image.topics.values().map(|t| &**t).collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    for t in topics {
        for (i, p) in t.partitions.iter().enumerate() {
            if p.leader == NO_LEADER && p.isr.contains(&id) && p.replicas.contains(&id) {
                records.push(Record::PartitionChange {
                    topic_id: t.id,
                    partition: i as i32,
                    leader: id,
                    isr: p.isr.clone(),
                });
            }
        }
    }
}

/// Unfences broker `id` (a heartbeat from a fenced broker).
pub fn unfence(image: &Image, id: i32) -> Vec<Record> {
    match image.brokers.get(&id) {
        Some(b) if b.fenced => {
            let mut records = vec![Record::BrokerFencing { id, fenced: false }];
            elect_returning(image, id, &mut records);
            records
        }
        _ => vec![],
    }
}

/// A broker registers (at every start): its endpoints are recorded and it is live. A new
/// incarnation while the old one is still live is a restart the controller had not seen
/// (killed and back within its session): as Kafka treats an unclean shutdown, the broker
/// first leaves every ISR and leadership (see [`fence`]), so the partitions it led get new
/// leaders (and new leader epochs) among the replicas that kept running, and it rejoins the
/// ISRs once it has caught up. It never takes back, at the same epoch, a leadership its
/// previous process held.
pub fn register(image: &Image, info: &BrokerInfo) -> Vec<Record> {
    let mut info = info.clone();
    info.fenced = false;
    if image.brokers.get(&info.id) == Some(&info) {
        return vec![];
    }
    let restarted = image
        .brokers
        .get(&info.id)
        .is_some_and(|old| !old.fenced && old.incarnation != info.incarnation);
    if !restarted {
        let mut records = vec![Record::RegisterBroker(info.clone())];
        elect_returning(image, info.id, &mut records);
        return records;
    }
    let mut records = fence(image, info.id);
    let mut after = image.clone();
    for r in &records {
        after.apply(r);
    }
    records.push(Record::RegisterBroker(info.clone()));
    elect_returning(&after, info.id, &mut records);
    records
}

/// What a partition leader asks in AlterPartition (Kafka's key 56, carried here on the
/// controller channel): a new ISR, with the leader and partition epochs it was computed from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlterPartition {
    pub broker: i32,
    /// The asking broker's incarnation: a stale process's request is refused.
    pub incarnation: Uuid,
    pub topic_id: Uuid,
    pub partition: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub isr: Vec<i32>,
}

/// AlterPartition, as Kafka's controller checks it:
/// - an unknown broker incarnation is STALE_BROKER_EPOCH;
/// - an unknown topic id or partition is UNKNOWN_TOPIC_OR_PARTITION;
/// - a leader epoch other than the partition's is FENCED_LEADER_EPOCH (older) or
///   NOT_LEADER_OR_FOLLOWER (newer, or the asker does not lead);
/// - a partition epoch other than the partition's is INVALID_UPDATE_VERSION: the leader
///   computed its change from a state that has since changed;
/// - an ISR without the leader, with a duplicate or a non-replica is INVALID_REQUEST; one
///   adding a fenced broker is INELIGIBLE_REPLICA (Kafka lets members stay, only new ones are
///   checked).
///
/// The same ISR again changes nothing and answers the current state. Otherwise the record
/// changes the ISR (the partition epoch goes up by one) and the partition as it will be; an
/// ISR that holds every replica a reassignment adds completes the move in the same record
/// (see [`super::reassign`]).
pub fn alter_partition(
    image: &Image,
    req: &AlterPartition,
) -> Result<(Vec<Record>, PartitionMeta), TopicError> {
    if image
        .brokers
        .get(&req.broker)
        .is_none_or(|b| b.incarnation != req.incarnation)
    {
        return Err(err(ec::STALE_BROKER_EPOCH, "unknown broker incarnation"));
    }
    let p = image
        .topic_by_id(req.topic_id)
        .and_then(|t| t.partition(req.partition))
        .ok_or_else(|| err(ec::UNKNOWN_TOPIC_OR_PARTITION, "unknown partition"))?;
    if req.leader_epoch < p.leader_epoch {
        return Err(err(ec::FENCED_LEADER_EPOCH, "stale leader epoch"));
    }
    if req.leader_epoch > p.leader_epoch || p.leader != req.broker {
        return Err(err(
            ec::NOT_LEADER_OR_FOLLOWER,
            "not the partition's leader",
        ));
    }
    if req.partition_epoch != p.partition_epoch {
        return Err(err(ec::INVALID_UPDATE_VERSION, "stale partition epoch"));
    }
    let mut seen = std::collections::BTreeSet::new();
    let valid = req.isr.contains(&req.broker)
        && req
            .isr
            .iter()
            .all(|r| p.replicas.contains(r) && seen.insert(*r));
    if !valid {
        return Err(err(
            ec::INVALID_REQUEST,
            "the ISR must be replicas and hold the leader",
        ));
    }
    if req
        .isr
        .iter()
        .any(|r| !p.isr.contains(r) && !image.is_live(*r))
    {
        return Err(err(
            ec::INELIGIBLE_REPLICA,
            "a fenced broker cannot join the ISR",
        ));
    }
    if req.isr == p.isr {
        return Ok((vec![], p.clone()));
    }
    // The last replica a move adds has caught up: the move completes in the same record.
    if let Some((record, done)) =
        super::reassign::completion(image, req.topic_id, req.partition, p, &req.isr)
    {
        return Ok((vec![record], done));
    }
    let mut after = p.clone();
    after.change(p.leader, req.isr.clone());
    let record = Record::PartitionChange {
        topic_id: req.topic_id,
        partition: req.partition,
        leader: p.leader,
        isr: req.isr.clone(),
    };
    Ok((vec![record], after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::image::test_broker as broker;

    fn image_with(brokers: &[(i32, bool)]) -> Image {
        let mut image = Image::default();
        for &(id, fenced) in brokers {
            image.apply(&Record::RegisterBroker(broker(id, fenced)));
        }
        image
    }

    fn apply(image: &mut Image, records: &[Record]) {
        for r in records {
            image.apply(r);
        }
    }

    fn create(image: &mut Image, name: &str, partitions: i32, rf: i16) -> Result<Uuid, i16> {
        let req = CreateTopic {
            name: name.into(),
            partitions,
            replication_factor: rf,
            assignments: None,
            configs: BTreeMap::new(),
        };
        let (t, records) = create_topic(image, &req, 1, Uuid::new_v4()).map_err(|e| e.code)?;
        apply(image, &records);
        Ok(t.id)
    }

    fn leaders(image: &Image, name: &str) -> Vec<i32> {
        image.topics[name]
            .partitions
            .iter()
            .map(|p| p.leader)
            .collect()
    }

    #[test]
    fn creation_validates_and_places() {
        let mut image = image_with(&[(1, false), (2, false), (3, true)]);
        assert!(create(&mut image, "t", 4, 2).is_ok());
        for p in &image.topics["t"].partitions {
            assert_eq!(p.replicas.len(), 2);
            assert!(!p.replicas.contains(&3), "a fenced broker got a replica");
            assert_eq!(p.isr, p.replicas);
        }
        assert_eq!(create(&mut image, "t", 1, 1), Err(ec::TOPIC_ALREADY_EXISTS));
        assert_eq!(
            create(&mut image, "u", 1, 3),
            Err(ec::INVALID_REPLICATION_FACTOR)
        );
        assert_eq!(create(&mut image, "u", 0, 1), Err(ec::INVALID_PARTITIONS));
        assert_eq!(
            create(&mut image, "u", MAX_PARTITIONS + 1, 1),
            Err(ec::INVALID_PARTITIONS)
        );

        let manual = |lists: Vec<Vec<i32>>, partitions: i32| CreateTopic {
            name: "m".into(),
            partitions,
            replication_factor: -1,
            assignments: Some(lists),
            configs: BTreeMap::new(),
        };
        let bad = [
            (
                manual(vec![vec![1], vec![9]], -1),
                ec::INVALID_REPLICA_ASSIGNMENT,
            ),
            (manual(vec![vec![1, 1]], -1), ec::INVALID_REPLICA_ASSIGNMENT),
            (
                manual(vec![vec![1, 2], vec![2]], -1),
                ec::INVALID_REPLICA_ASSIGNMENT,
            ),
            (manual(vec![vec![1]], 1), ec::INVALID_REQUEST),
        ];
        for (req, code) in bad {
            let got = create_topic(&image, &req, 1, Uuid::new_v4()).map(|_| ());
            assert_eq!(got.map_err(|e| e.code), Err(code), "{req:?}");
        }
        // A fenced broker may be assigned by hand; it does not lead while fenced.
        let (t, _) = create_topic(
            &image,
            &manual(vec![vec![3, 1], vec![2, 3]], -1),
            1,
            Uuid::new_v4(),
        )
        .unwrap();
        assert_eq!(
            t.partitions.iter().map(|p| p.leader).collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn partitions_grow_only() {
        let mut image = image_with(&[(1, false), (2, false)]);
        create(&mut image, "t", 2, 2).unwrap();
        let code =
            |r: Result<(TopicMeta, Vec<Record>), TopicError>| r.map(|_| ()).map_err(|e| e.code);
        assert_eq!(
            code(create_partitions(&image, "t", 2, None)),
            Err(ec::INVALID_PARTITIONS)
        );
        assert_eq!(
            code(create_partitions(&image, "t", 1, None)),
            Err(ec::INVALID_PARTITIONS)
        );
        assert_eq!(
            code(create_partitions(&image, "x", 3, None)),
            Err(ec::UNKNOWN_TOPIC_OR_PARTITION)
        );
        // Wrong count of lists, wrong replication factor.
        assert_eq!(
            code(create_partitions(&image, "t", 4, Some(&vec![vec![1, 2]]))),
            Err(ec::INVALID_REPLICA_ASSIGNMENT)
        );
        assert_eq!(
            code(create_partitions(&image, "t", 3, Some(&vec![vec![1]]))),
            Err(ec::INVALID_REPLICA_ASSIGNMENT)
        );
        let (t, records) = create_partitions(&image, "t", 3, Some(&vec![vec![2, 1]])).unwrap();
        assert_eq!(t.partitions[2].replicas, [2, 1]);
        apply(&mut image, &records);
        assert_eq!(image.topics["t"].partition_count(), 3);
    }

    /// Fencing moves leadership within the ISR, or leaves the partition leaderless; the
    /// broker's return brings back the partitions only it can lead.
    #[test]
    fn fencing_and_return() {
        // (replicas, isr, leader) before; broker 1 is fenced; (leader, isr) after.
        type Row = (&'static [i32], &'static [i32], i32, i32, &'static [i32]);
        let table: &[Row] = &[
            (&[1], &[1], 1, NO_LEADER, &[1]),
            (&[1, 2], &[1, 2], 1, 2, &[2]),
            (&[1, 2, 3], &[1, 3], 1, 3, &[3]),
            (&[2, 1], &[2, 1], 2, 2, &[2]),
            (&[2, 3], &[2, 3], 2, 2, &[2, 3]),
            (&[1, 2], &[1], 1, NO_LEADER, &[1]),
        ];
        let mut image = image_with(&[(1, false), (2, false), (3, false)]);
        let id = Uuid::new_v4();
        let topic = TopicMeta {
            name: "t".into(),
            id,
            configs: BTreeMap::new(),
            partitions: table
                .iter()
                .map(|(replicas, isr, leader, _, _)| PartitionMeta {
                    replicas: replicas.to_vec(),
                    isr: isr.to_vec(),
                    leader: *leader,
                    leader_epoch: 0,
                    partition_epoch: 0,
                    adding_replicas: vec![],
                    removing_replicas: vec![],
                })
                .collect(),
        };
        image.apply(&Record::PutTopic(topic));
        let records = fence(&image, 1);
        apply(&mut image, &records);
        assert!(image.brokers[&1].fenced);
        for (i, (_, _, before, leader, isr)) in table.iter().enumerate() {
            let p = &image.topics["t"].partitions[i];
            assert_eq!((p.leader, p.isr.as_slice()), (*leader, *isr), "row {i}");
            assert_eq!(p.leader_epoch, i32::from(before != leader), "row {i}");
        }
        assert!(fence(&image, 1).is_empty(), "fencing twice changes nothing");

        let records = unfence(&image, 1);
        apply(&mut image, &records);
        assert!(!image.brokers[&1].fenced);
        assert_eq!(leaders(&image, "t"), [1, 2, 3, 2, 2, 1]);
        assert!(unfence(&image, 1).is_empty());
    }

    #[test]
    fn registration_is_idempotent_and_elects() {
        let mut image = image_with(&[(1, false)]);
        create(&mut image, "t", 1, 1).unwrap();
        let records = fence(&image, 1);
        apply(&mut image, &records);
        assert_eq!(leaders(&image, "t"), [NO_LEADER]);
        let records = register(&image, &broker(1, true));
        apply(&mut image, &records);
        assert_eq!(leaders(&image, "t"), [1]);
        assert!(register(&image, &broker(1, false)).is_empty());
    }

    #[test]
    fn a_restart_within_the_session_moves_leadership_away_first() {
        let mut image = image_with(&[(1, false), (2, false), (3, false)]);
        let id = Uuid::new_v4();
        image.apply(&Record::PutTopic(TopicMeta {
            name: "t".into(),
            id,
            configs: BTreeMap::new(),
            // (replicas, isr, leader): led by 1 with followers in sync; led by 1 alone; led
            // by 2 with 1 in sync.
            partitions: [
                (vec![1, 2, 3], vec![1, 2, 3], 1),
                (vec![1, 2], vec![1], 1),
                (vec![2, 1], vec![2, 1], 2),
            ]
            .into_iter()
            .map(|(replicas, isr, leader)| PartitionMeta {
                replicas,
                isr,
                leader,
                leader_epoch: 4,
                partition_epoch: 4,
                adding_replicas: vec![],
                removing_replicas: vec![],
            })
            .collect(),
        }));
        let mut again = broker(1, false);
        again.incarnation = Uuid::from_u128(99);
        let records = register(&image, &again);
        apply(&mut image, &records);
        assert!(!image.brokers[&1].fenced);
        assert_eq!(image.brokers[&1].incarnation, again.incarnation);
        let t = &image.topics["t"];
        let got: Vec<(i32, Vec<i32>, i32)> = t
            .partitions
            .iter()
            .map(|p| (p.leader, p.isr.clone(), p.leader_epoch))
            .collect();
        assert_eq!(
            got,
            [
                // Another ISR member leads, in a new epoch; 1 rejoins once caught up.
                (2, vec![2, 3], 5),
                // The only ISR member leads again, in a new epoch.
                (1, vec![1], 6),
                (2, vec![2], 4),
            ]
        );
        // The same incarnation again changes nothing.
        assert!(register(&image, &again).is_empty());
    }
    #[test]
    fn alter_partition_checks_epochs_and_members() {
        let mut image = image_with(&[(1, false), (2, false), (3, false), (4, true)]);
        let id = Uuid::new_v4();
        image.apply(&Record::PutTopic(TopicMeta {
            name: "t".into(),
            id,
            configs: BTreeMap::new(),
            partitions: vec![PartitionMeta {
                replicas: vec![1, 2, 3, 4],
                isr: vec![1, 2, 4],
                leader: 1,
                leader_epoch: 3,
                partition_epoch: 7,
                adding_replicas: vec![],
                removing_replicas: vec![],
            }],
        }));
        let ok = AlterPartition {
            broker: 1,
            incarnation: Uuid::nil(),
            topic_id: id,
            partition: 0,
            leader_epoch: 3,
            partition_epoch: 7,
            isr: vec![1, 2, 3],
        };
        // (change to the request, expected error or None)
        type Row = (fn(&mut AlterPartition), Option<i16>);
        let table: &[Row] = &[
            (|_| {}, None),
            (
                |r| r.incarnation = Uuid::new_v4(),
                Some(ec::STALE_BROKER_EPOCH),
            ),
            (|r| r.broker = 2, Some(ec::NOT_LEADER_OR_FOLLOWER)),
            (
                |r| r.topic_id = Uuid::new_v4(),
                Some(ec::UNKNOWN_TOPIC_OR_PARTITION),
            ),
            (|r| r.partition = 1, Some(ec::UNKNOWN_TOPIC_OR_PARTITION)),
            (|r| r.leader_epoch = 2, Some(ec::FENCED_LEADER_EPOCH)),
            (|r| r.leader_epoch = 4, Some(ec::NOT_LEADER_OR_FOLLOWER)),
            (|r| r.partition_epoch = 6, Some(ec::INVALID_UPDATE_VERSION)),
            (|r| r.partition_epoch = 8, Some(ec::INVALID_UPDATE_VERSION)),
            (|r| r.isr = vec![2, 3], Some(ec::INVALID_REQUEST)),
            (|r| r.isr = vec![1, 2, 2], Some(ec::INVALID_REQUEST)),
            (|r| r.isr = vec![1, 5], Some(ec::INVALID_REQUEST)),
            // A fenced broker may stay in the ISR but not join it.
            (|r| r.isr = vec![1, 4], None),
            (|r| r.isr = vec![1, 3, 4], None),
        ];
        for (i, (change, expected)) in table.iter().enumerate() {
            let mut req = ok.clone();
            change(&mut req);
            let got = alter_partition(&image, &req);
            assert_eq!(got.as_ref().err().map(|e| e.code), *expected, "row {i}");
            if let Ok((records, after)) = got {
                assert_eq!(
                    (after.isr.clone(), after.partition_epoch),
                    (req.isr.clone(), 8)
                );
                let mut applied = image.clone();
                apply(&mut applied, &records);
                assert_eq!(applied.topics["t"].partitions[0], after, "row {i}");
            }
        }
        image.brokers.get_mut(&3).unwrap().fenced = true;
        let refused = alter_partition(&image, &ok).unwrap_err();
        assert_eq!(refused.code, ec::INELIGIBLE_REPLICA);
        // The same ISR again: nothing to write.
        let same = AlterPartition {
            isr: vec![1, 2, 4],
            ..ok
        };
        let (records, after) = alter_partition(&image, &same).unwrap();
        assert!(records.is_empty());
        assert_eq!(after.partition_epoch, 7);
    }
}
