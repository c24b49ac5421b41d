use uuid::Uuid;

use super::*;
use crate::cluster::decide::{alter_partition, AlterPartition};
use crate::cluster::image::{test_broker, TopicMeta};

/// Brokers 1-5 registered, 5 fenced; topic "t" with one partition per row.
fn image_with(partitions: &[PartitionMeta]) -> (Image, Uuid) {
    let mut image = Image::default();
    for id in 1..=5 {
        image.apply(&Record::RegisterBroker(test_broker(id, id == 5)));
    }
    let id = Uuid::from_u128(7);
    image.apply(&Record::PutTopic(TopicMeta {
        name: "t".into(),
        id,
        configs: Default::default(),
        partitions: partitions.to_vec(),
    }));
    (image, id)
}

/// (replicas, adding, removing, leader, isr)
type State = (
    &'static [i32],
    &'static [i32],
    &'static [i32],
    i32,
    &'static [i32],
);

fn meta((replicas, adding, removing, leader, isr): State) -> PartitionMeta {
    PartitionMeta {
        replicas: replicas.to_vec(),
        isr: isr.to_vec(),
        leader,
        leader_epoch: 3,
        partition_epoch: 5,
        adding_replicas: adding.to_vec(),
        removing_replicas: removing.to_vec(),
    }
}

fn state(p: &PartitionMeta) -> (Vec<i32>, Vec<i32>, Vec<i32>, i32, Vec<i32>) {
    (
        p.replicas.clone(),
        p.adding_replicas.clone(),
        p.removing_replicas.clone(),
        p.leader,
        p.isr.clone(),
    )
}

fn expected(s: State) -> (Vec<i32>, Vec<i32>, Vec<i32>, i32, Vec<i32>) {
    state(&meta(s))
}

#[test]
fn moves_start_complete_and_cancel_as_kafka_decides() {
    // (name, before, target (None: cancel), after or error code)
    type Row = (
        &'static str,
        State,
        Option<&'static [i32]>,
        Result<State, i16>,
    );
    let rows: &[Row] = &[
        (
            "a move starts: target first, then the leaving replicas; ISR and leader stay",
            (&[1, 2, 3], &[], &[], 1, &[1, 2, 3]),
            Some(&[2, 3, 4]),
            Ok((&[2, 3, 4, 1], &[4], &[1], 1, &[1, 2, 3])),
        ),
        (
            "a move onto new brokers only",
            (&[1, 2], &[], &[], 2, &[1, 2]),
            Some(&[3, 4]),
            Ok((&[3, 4, 1, 2], &[3, 4], &[1, 2], 2, &[1, 2])),
        ),
        (
            "a target already in sync completes at once; the leaving leader hands over",
            (&[1, 2, 3], &[], &[], 1, &[1, 2, 3]),
            Some(&[3, 2]),
            Ok((&[3, 2], &[], &[], 3, &[2, 3])),
        ),
        (
            "a new order of the same replicas is applied at once",
            (&[1, 2, 3], &[], &[], 1, &[1, 2, 3]),
            Some(&[3, 1, 2]),
            Ok((&[3, 1, 2], &[], &[], 1, &[1, 2, 3])),
        ),
        (
            "a new target replaces the move in progress, from the original replicas",
            (&[2, 3, 4, 1], &[4], &[1], 1, &[1, 2, 3, 4]),
            Some(&[1, 3]),
            Ok((&[1, 3], &[], &[], 1, &[1, 3])),
        ),
        (
            "a new target drops an added replica that is not in it",
            (&[2, 3, 4, 1], &[4], &[1], 1, &[1, 2, 3]),
            Some(&[2, 3, 5]),
            Ok((&[2, 3, 5, 1], &[5], &[1], 1, &[1, 2, 3])),
        ),
        (
            "a cancellation restores the original replicas",
            (&[2, 3, 4, 1], &[4], &[1], 1, &[1, 2, 3, 4]),
            None,
            Ok((&[2, 3, 1], &[], &[], 1, &[1, 2, 3])),
        ),
        (
            "a cancellation whose added replica led hands leadership back",
            (&[3, 4, 1, 2], &[3, 4], &[1, 2], 4, &[2, 4]),
            None,
            Ok((&[1, 2], &[], &[], 2, &[2])),
        ),
        (
            "a cancellation with no original replica in sync is refused",
            (&[3, 4, 1, 2], &[3, 4], &[1, 2], 3, &[3, 4]),
            None,
            Err(ec::INVALID_REPLICA_ASSIGNMENT),
        ),
        (
            "nothing to cancel",
            (&[1, 2, 3], &[], &[], 1, &[1, 2, 3]),
            None,
            Err(ec::NO_REASSIGNMENT_IN_PROGRESS),
        ),
        (
            "an empty target",
            (&[1, 2, 3], &[], &[], 1, &[1, 2, 3]),
            Some(&[]),
            Err(ec::INVALID_REPLICA_ASSIGNMENT),
        ),
        (
            "a broker twice",
            (&[1, 2, 3], &[], &[], 1, &[1, 2, 3]),
            Some(&[2, 2]),
            Err(ec::INVALID_REPLICA_ASSIGNMENT),
        ),
        (
            "an unregistered broker",
            (&[1, 2, 3], &[], &[], 1, &[1, 2, 3]),
            Some(&[1, 9]),
            Err(ec::INVALID_REPLICA_ASSIGNMENT),
        ),
        (
            "a fenced broker may be a target: it catches up once it is back",
            (&[1], &[], &[], 1, &[1]),
            Some(&[1, 5]),
            Ok((&[1, 5], &[5], &[], 1, &[1])),
        ),
    ];
    for (name, before, target, want) in rows {
        let (image, _) = image_with(&[meta(*before)]);
        let p = &image.topic("t").unwrap().partitions[0];
        let got = alter(&image, p, *target).map(|a| a.map(|a| state(&a)));
        match want {
            Ok(s) => assert_eq!(got, Ok(Some(expected(*s))), "{name}"),
            Err(code) => assert_eq!(got.map_err(|e| e.0), Err(*code), "{name}"),
        }
    }
    // The same replicas, in the same order, without a move: nothing to do.
    let (image, _) = image_with(&[meta((&[1, 2], &[], &[], 1, &[1, 2]))]);
    let p = &image.topic("t").unwrap().partitions[0];
    assert_eq!(alter(&image, p, Some(&[1, 2])), Ok(None));
}

#[test]
fn a_move_completes_with_the_isr_change_that_brings_in_the_last_added_replica() {
    let (mut image, id) = image_with(&[meta((&[1, 2, 3], &[], &[], 1, &[1, 2, 3]))]);
    let (records, answers) = alter_all(&image, &vec![("t".into(), vec![(0, Some(vec![3, 4, 2]))])]);
    assert_eq!(answers, [("t".to_string(), vec![(0, (ec::NONE, None))])]);
    for r in &records {
        image.apply(r);
    }
    let p = image.topic("t").unwrap().partitions[0].clone();
    assert_eq!(
        state(&p),
        expected((&[3, 4, 2, 1], &[4], &[1], 1, &[1, 2, 3]))
    );
    assert_eq!(p.partition_epoch, 6);
    let alter_isr = |image: &Image, isr: &[i32]| {
        let p = &image.topic("t").unwrap().partitions[0];
        alter_partition(
            image,
            &AlterPartition {
                broker: p.leader,
                incarnation: Uuid::nil(),
                topic_id: id,
                partition: 0,
                leader_epoch: p.leader_epoch,
                partition_epoch: p.partition_epoch,
                isr: isr.to_vec(),
            },
        )
        .unwrap()
    };
    // An ISR change without the added replica: the move goes on.
    let (records, after) = alter_isr(&image, &[1, 3]);
    assert_eq!(
        state(&after),
        expected((&[3, 4, 2, 1], &[4], &[1], 1, &[1, 3]))
    );
    for r in &records {
        image.apply(r);
    }
    // The added replica joins: the move completes in the same record, the leader (leaving)
    // hands over to the first target replica in the ISR, and the epochs go up.
    let (records, after) = alter_isr(&image, &[1, 3, 4]);
    assert_eq!(records.len(), 1);
    assert_eq!(state(&after), expected((&[3, 4, 2], &[], &[], 3, &[3, 4])));
    for r in &records {
        image.apply(r);
    }
    let p = &image.topic("t").unwrap().partitions[0];
    assert_eq!(state(p), state(&after));
    assert_eq!((p.leader_epoch, p.partition_epoch), (4, 8));
    assert!(list(&image, None).is_empty());
}

#[test]
fn requests_are_decided_in_order_and_listed() {
    let (image, _) = image_with(&[
        meta((&[1, 2], &[], &[], 1, &[1, 2])),
        meta((&[2, 3], &[], &[], 2, &[2, 3])),
    ]);
    let wanted = vec![
        (
            "t".to_string(),
            vec![
                (0, Some(vec![3, 4])),
                (1, None),
                (0, Some(vec![1, 4])),
                (7, None),
            ],
        ),
        ("gone".to_string(), vec![(0, Some(vec![1]))]),
    ];
    let (records, answers) = alter_all(&image, &wanted);
    let codes: Vec<Vec<i16>> = answers
        .iter()
        .map(|(_, a)| a.iter().map(|(_, (c, _))| *c).collect())
        .collect();
    assert_eq!(
        codes,
        [
            vec![
                ec::NONE,
                ec::NO_REASSIGNMENT_IN_PROGRESS,
                ec::NONE,
                ec::UNKNOWN_TOPIC_OR_PARTITION
            ],
            vec![ec::UNKNOWN_TOPIC_OR_PARTITION]
        ]
    );
    assert_eq!(records.len(), 2);
    let mut after = image.clone();
    for r in &records {
        after.apply(r);
    }
    // The second target for partition 0 replaced the first, from the original [1, 2].
    let moves = list(&after, None);
    assert_eq!(
        moves,
        [(
            "t".to_string(),
            vec![Ongoing {
                partition: 0,
                replicas: vec![1, 4, 2],
                adding: vec![4],
                removing: vec![2],
            }]
        )]
    );
    let asked = [
        ("t".to_string(), vec![1, 0, 9]),
        ("gone".to_string(), vec![0]),
    ];
    assert_eq!(list(&after, Some(&asked)), moves);
    assert!(list(&after, Some(&[("t".to_string(), vec![1])])).is_empty());
}

#[test]
fn reassign_records_that_do_not_hold_together_are_ignored() {
    let (mut image, id) = image_with(&[meta((&[1, 2], &[], &[], 1, &[1, 2]))]);
    let before = state(&image.topic("t").unwrap().partitions[0]);
    let bad = |replicas: &[i32], adding: &[i32], leader: i32, isr: &[i32]| Record::Reassign {
        topic_id: id,
        partition: 0,
        replicas: replicas.to_vec(),
        adding: adding.to_vec(),
        removing: vec![],
        leader,
        isr: isr.to_vec(),
    };
    for r in [
        bad(&[1, 1], &[], 1, &[1]),
        bad(&[1, 2], &[3], 1, &[1]),
        bad(&[1, 2], &[], 1, &[1, 3]),
        bad(&[1, 2], &[], 2, &[1]),
        bad(&[1, 2], &[], 3, &[1, 2]),
    ] {
        image.apply(&r);
        assert_eq!(state(&image.topic("t").unwrap().partitions[0]), before);
    }
}
