//! Table tests of the elections: each row is a partition state, the brokers' liveness and an
//! election type, and the leader and ISR it must end with, or the error code.

use uuid::Uuid;

use super::*;
use crate::cluster::image::test_broker;

fn image(live: &[i32], fenced: &[i32], partitions: &[(&[i32], &[i32], i32)]) -> Image {
    let mut image = Image::default();
    for &id in live {
        image.apply(&Record::RegisterBroker(test_broker(id, false)));
    }
    for &id in fenced {
        image.apply(&Record::RegisterBroker(test_broker(id, true)));
    }
    let topic = TopicMeta {
        name: "t".into(),
        id: Uuid::from_u128(7),
        configs: Default::default(),
        partitions: partitions
            .iter()
            .map(|&(replicas, isr, leader)| PartitionMeta {
                replicas: replicas.to_vec(),
                isr: isr.to_vec(),
                leader,
                leader_epoch: 3,
                partition_epoch: 5,
                adding_replicas: vec![],
                removing_replicas: vec![],
            })
            .collect(),
    };
    image.apply(&Record::PutTopic(topic));
    image
}

/// (replicas, isr, leader, live brokers, fenced brokers, type) -> Ok((leader, isr)) or Err(code)
type Row = (
    &'static [i32],
    &'static [i32],
    i32,
    &'static [i32],
    &'static [i32],
    ElectionType,
    Result<(i32, &'static [i32]), i16>,
);

#[test]
fn elections_follow_kafkas_rules() {
    use ElectionType::*;
    let rows: &[Row] = &[
        // Preferred: replica 1 is preferred.
        (
            &[1, 2, 3],
            &[1, 2, 3],
            2,
            &[1, 2, 3],
            &[],
            Preferred,
            Ok((1, &[1, 2, 3])),
        ),
        (
            &[1, 2, 3],
            &[1, 2, 3],
            1,
            &[1, 2, 3],
            &[],
            Preferred,
            Err(ec::ELECTION_NOT_NEEDED),
        ),
        // Preferred out of the ISR, or fenced: not available; the leader stays.
        (
            &[1, 2, 3],
            &[2, 3],
            2,
            &[1, 2, 3],
            &[],
            Preferred,
            Err(ec::PREFERRED_LEADER_NOT_AVAILABLE),
        ),
        (
            &[1, 2, 3],
            &[1, 2, 3],
            2,
            &[2, 3],
            &[1],
            Preferred,
            Err(ec::PREFERRED_LEADER_NOT_AVAILABLE),
        ),
        // A leaderless partition whose preferred replica is in the ISR and live.
        (
            &[1, 2, 3],
            &[1],
            NO_LEADER,
            &[1, 2, 3],
            &[],
            Preferred,
            Ok((1, &[1])),
        ),
        // Unclean: only without a leader.
        (
            &[1, 2, 3],
            &[1, 2],
            1,
            &[1, 2, 3],
            &[],
            Unclean,
            Err(ec::ELECTION_NOT_NEEDED),
        ),
        // An ISR member is live: it leads, ISR kept.
        (
            &[1, 2, 3],
            &[3, 2],
            NO_LEADER,
            &[2, 3],
            &[1],
            Unclean,
            Ok((2, &[3, 2])),
        ),
        // No ISR member live: the first live replica leads alone.
        (
            &[1, 2, 3],
            &[1],
            NO_LEADER,
            &[2, 3],
            &[1],
            Unclean,
            Ok((2, &[2])),
        ),
        (
            &[1, 2, 3],
            &[1],
            NO_LEADER,
            &[3],
            &[1, 2],
            Unclean,
            Ok((3, &[3])),
        ),
        // Nothing live.
        (
            &[1, 2, 3],
            &[1],
            NO_LEADER,
            &[],
            &[1, 2, 3],
            Unclean,
            Err(ec::ELIGIBLE_LEADERS_NOT_AVAILABLE),
        ),
    ];
    for (i, &(replicas, isr, leader, live, fenced, ty, want)) in rows.iter().enumerate() {
        let img = image(live, fenced, &[(replicas, isr, leader)]);
        let topic = img.topic("t").unwrap().clone();
        let got = elect(&img, &topic, 0, ty).map(|r| {
            let mut after = img.clone();
            after.apply(&r);
            let p = after.topic("t").unwrap().partitions[0].clone();
            // A new leader is a new leader epoch.
            assert_eq!(p.leader_epoch, 4, "row {i}");
            (p.leader, p.isr)
        });
        assert_eq!(got, want.map(|(l, isr)| (l, isr.to_vec())), "row {i}");
        assert_eq!(
            elect(&img, &topic, 1, ty),
            Err(ec::UNKNOWN_TOPIC_OR_PARTITION),
            "row {i}"
        );
    }
}

#[test]
fn elect_leaders_answers_what_was_asked_and_hides_unneeded_ones_for_all() {
    let img = image(
        &[1, 2, 3],
        &[],
        &[
            (&[1, 2], &[1, 2], 2), // needs it
            (&[2, 3], &[2, 3], 2), // not needed
            (&[3, 1], &[1], 1),    // preferred out of the ISR
        ],
    );
    let asked = vec![
        ("t".to_string(), vec![0, 1, 2, 9]),
        ("nope".to_string(), vec![0]),
    ];
    let (records, results) = elect_leaders(&img, ElectionType::Preferred, Some(&asked));
    assert_eq!(records.len(), 1);
    let codes: Vec<Vec<(i32, i16)>> = results
        .iter()
        .map(|(_, r)| r.iter().map(|&(p, c, _)| (p, c)).collect())
        .collect();
    assert_eq!(
        codes,
        [
            vec![
                (0, ec::NONE),
                (1, ec::ELECTION_NOT_NEEDED),
                (2, ec::PREFERRED_LEADER_NOT_AVAILABLE),
                (9, ec::UNKNOWN_TOPIC_OR_PARTITION)
            ],
            vec![(0, ec::UNKNOWN_TOPIC_OR_PARTITION)],
        ]
    );
    // All partitions: the one that needs nothing is left out.
    let (records, results) = elect_leaders(&img, ElectionType::Preferred, None);
    assert_eq!(records.len(), 1);
    assert_eq!(results.len(), 1);
    let parts: Vec<(i32, i16)> = results[0].1.iter().map(|&(p, c, _)| (p, c)).collect();
    assert_eq!(
        parts,
        [(0, ec::NONE), (2, ec::PREFERRED_LEADER_NOT_AVAILABLE)]
    );
}

#[test]
fn rebalance_moves_leadership_home_where_it_can_up_to_a_limit() {
    let img = image(
        &[1, 2, 3],
        &[4],
        &[
            (&[1, 2, 3], &[1, 2, 3], 2), // back to 1
            (&[2, 3, 1], &[2, 3, 1], 2), // balanced
            (&[3, 1, 2], &[1, 2], 1),    // 3 not in the ISR: stays
            (&[4, 1, 2], &[4, 1, 2], 1), // 4 fenced: stays
            (&[3, 1, 2], &[3, 1, 2], 1), // back to 3
        ],
    );
    let (records, more) = rebalance(&img, 10);
    assert!(!more);
    let mut after = img.clone();
    for r in &records {
        after.apply(r);
    }
    let leaders: Vec<i32> = after.topics["t"]
        .partitions
        .iter()
        .map(|p| p.leader)
        .collect();
    assert_eq!(leaders, [1, 2, 1, 1, 3]);
    let (records, more) = rebalance(&img, 1);
    assert!(more && records.len() == 1);
    assert!(imbalanced(&img.topics["t"].partitions[0]));
    assert!(!imbalanced(&after.topics["t"].partitions[0]));
}
