//! Tables of events against the pure group state machine.

use bytes::Bytes;

use super::state::*;
use crate::protocol::error_code as ec;

const CFG: GroupConfig = GroupConfig {
    min_session_timeout_ms: 6_000,
    max_session_timeout_ms: 300_000,
    initial_rebalance_delay_ms: 3_000,
};

fn req(member_id: &str, instance: Option<&str>, protocols: &[&str]) -> JoinRequest {
    JoinRequest {
        member_id: member_id.to_string(),
        group_instance_id: instance.map(str::to_string),
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 30_000,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        require_known_member_id: true,
    }
}

fn mref(id: &str) -> MemberRef {
    MemberRef {
        member_id: id.to_string(),
        group_instance_id: None,
    }
}

/// Joins a brand-new dynamic member through the MEMBER_ID_REQUIRED round trip; returns its id.
fn join_new(g: &mut Group, now: i64) -> String {
    let Reply::Now(first) = g.join(req("", None, &["range"]), "u", now) else {
        panic!("immediate reply")
    };
    assert_eq!(first.error_code, ec::MEMBER_ID_REQUIRED);
    assert!(g.pending_member_ids().contains(&first.member_id));
    let id = first.member_id.clone();
    assert!(matches!(
        g.join(req(&id, None, &["range"]), "u", now),
        Reply::Later { .. }
    ));
    id
}

fn joins(completions: &[Completion]) -> Vec<(String, JoinResult)> {
    completions
        .iter()
        .filter_map(|c| match c {
            Completion::Join { member_id, result } => Some((member_id.clone(), result.clone())),
            _ => None,
        })
        .collect()
}

/// One member through join and sync to Stable; returns (group, member id).
fn stable_group_of_one() -> (Group, String) {
    let mut g = Group::new("g", CFG);
    let a = join_new(&mut g, 0);
    assert_eq!(g.state, GroupState::PreparingRebalance);
    g.tick(2_999);
    assert!(
        g.take_completions().is_empty(),
        "initial rebalance delay holds the join"
    );
    g.tick(3_000);
    let done = joins(&g.take_completions());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1.generation_id, 1);
    assert_eq!(done[0].1.leader, a);
    assert_eq!(
        done[0].1.members.len(),
        1,
        "the leader gets the member list"
    );
    assert_eq!(done[0].1.protocol_name.as_deref(), Some("range"));
    assert_eq!(g.state, GroupState::CompletingRebalance);
    let r = g.sync(
        &mref(&a),
        1,
        Some("consumer"),
        Some("range"),
        vec![(a.clone(), Bytes::from_static(b"A"))],
        3_001,
    );
    assert!(matches!(r, Reply::Later { .. }));
    let c = g.take_completions();
    assert!(
        matches!(&c[..], [Completion::Sync { result, .. }] if result.assignment == Bytes::from_static(b"A"))
    );
    assert_eq!(g.state, GroupState::Stable);
    (g, a)
}

#[test]
fn join_sync_reaches_stable() {
    let (g, _) = stable_group_of_one();
    assert_eq!(g.generation_id, 1);
}

#[test]
fn second_member_triggers_rebalance_and_both_get_the_new_generation() {
    let (mut g, a) = stable_group_of_one();
    let b = join_new(&mut g, 4_000);
    assert_eq!(g.state, GroupState::PreparingRebalance);
    assert_eq!(g.heartbeat(&mref(&a), 1, 4_100), ec::REBALANCE_IN_PROGRESS);
    // A sync during the rebalance is refused.
    assert_eq!(
        g.sync(&mref(&a), 1, None, None, vec![], 4_150),
        Reply::Now(SyncResult::error(ec::REBALANCE_IN_PROGRESS))
    );
    assert!(matches!(
        g.join(req(&a, None, &["range"]), "u", 4_200),
        Reply::Later { .. }
    ));
    let done = joins(&g.take_completions());
    assert_eq!(
        done.len(),
        2,
        "no initial delay for a non-empty group: completes when all rejoined"
    );
    for (_, r) in &done {
        assert_eq!(r.generation_id, 2);
        assert_eq!(r.leader, a, "the leader stays");
    }
    let leader_view = done.iter().find(|(m, _)| *m == a).unwrap();
    assert_eq!(leader_view.1.members.len(), 2);
    assert!(done
        .iter()
        .find(|(m, _)| *m == b)
        .unwrap()
        .1
        .members
        .is_empty());
    // Follower syncs first and waits; the leader's assignment completes both.
    assert!(matches!(
        g.sync(&mref(&b), 2, None, None, vec![], 4_300),
        Reply::Later { .. }
    ));
    assert!(g.take_completions().is_empty());
    let assignments = vec![
        (a.clone(), Bytes::from_static(b"p0")),
        (b.clone(), Bytes::from_static(b"p1")),
    ];
    assert!(matches!(
        g.sync(&mref(&a), 2, None, None, assignments, 4_400),
        Reply::Later { .. }
    ));
    let c = g.take_completions();
    assert_eq!(c.len(), 2);
    for comp in c {
        if let Completion::Sync { member_id, result } = comp {
            let want: &[u8] = if member_id == a { b"p0" } else { b"p1" };
            assert_eq!(&result.assignment[..], want);
        }
    }
    assert_eq!(g.state, GroupState::Stable);
}

#[test]
fn error_codes() {
    let (mut g, a) = stable_group_of_one();
    // Table: (description, result, expected code)
    let mut bad_timeout = req("", None, &["range"]);
    bad_timeout.session_timeout_ms = 1_000;
    let inconsistent = req("", None, &["roundrobin"]);
    let cases: Vec<(&str, i16, i16)> = vec![
        (
            "heartbeat unknown member",
            g.heartbeat(&mref("nobody"), 1, 10),
            ec::UNKNOWN_MEMBER_ID,
        ),
        (
            "heartbeat old generation",
            g.heartbeat(&mref(&a), 0, 10),
            ec::ILLEGAL_GENERATION,
        ),
        ("heartbeat ok", g.heartbeat(&mref(&a), 1, 10), ec::NONE),
        (
            "session timeout below the minimum",
            match g.join(bad_timeout, "u", 10) {
                Reply::Now(r) => r.error_code,
                _ => -99,
            },
            ec::INVALID_SESSION_TIMEOUT,
        ),
        (
            "no protocol in common",
            match g.join(inconsistent, "u", 10) {
                Reply::Now(r) => r.error_code,
                _ => -99,
            },
            ec::INCONSISTENT_GROUP_PROTOCOL,
        ),
        (
            "join with an unknown member id",
            match g.join(req("ghost", None, &["range"]), "u", 10) {
                Reply::Now(r) => r.error_code,
                _ => -99,
            },
            ec::UNKNOWN_MEMBER_ID,
        ),
        (
            "sync with the wrong generation",
            match g.sync(&mref(&a), 7, None, None, vec![], 10) {
                Reply::Now(r) => r.error_code,
                _ => -99,
            },
            ec::ILLEGAL_GENERATION,
        ),
        (
            "sync with the wrong protocol name",
            match g.sync(&mref(&a), 1, Some("consumer"), Some("sticky"), vec![], 10) {
                Reply::Now(r) => r.error_code,
                _ => -99,
            },
            ec::INCONSISTENT_GROUP_PROTOCOL,
        ),
        (
            "leave unknown member",
            g.leave(&[mref("nobody")], 10)[0],
            ec::UNKNOWN_MEMBER_ID,
        ),
    ];
    for (what, got, want) in cases {
        assert_eq!(got, want, "{what}");
    }
    assert_eq!(
        g.state,
        GroupState::Stable,
        "refused requests change nothing"
    );
}

#[test]
fn session_expiry_removes_the_member_and_rebalances_the_rest() {
    let (mut g, a) = stable_group_of_one();
    let b = join_new(&mut g, 4_000);
    assert!(matches!(
        g.join(req(&a, None, &["range"]), "u", 4_000),
        Reply::Later { .. }
    ));
    g.take_completions();
    let assignments = vec![(a.clone(), Bytes::new()), (b.clone(), Bytes::new())];
    g.sync(&mref(&a), 2, None, None, assignments, 4_000);
    g.sync(&mref(&b), 2, None, None, vec![], 4_000);
    g.take_completions();
    assert_eq!(g.state, GroupState::Stable);
    // b keeps heartbeating, a goes silent.
    assert_eq!(g.heartbeat(&mref(&b), 2, 12_000), ec::NONE);
    assert_eq!(
        g.next_deadline(),
        Some(14_000),
        "a's session ends 10 s after its last sign of life"
    );
    g.tick(14_000);
    assert!(g.member(&a).is_none(), "a expired");
    assert_eq!(g.state, GroupState::PreparingRebalance);
    assert_eq!(g.heartbeat(&mref(&b), 2, 14_100), ec::REBALANCE_IN_PROGRESS);
    assert!(matches!(
        g.join(req(&b, None, &["range"]), "u", 14_200),
        Reply::Later { .. }
    ));
    let done = joins(&g.take_completions());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1.leader, b, "a new leader is chosen");
    assert_eq!(done[0].1.generation_id, 3);
}

#[test]
fn rebalance_timeout_expels_a_member_that_did_not_rejoin() {
    let (mut g, a) = stable_group_of_one();
    let b = join_new(&mut g, 5_000);
    // a never rejoins; it keeps heartbeating so its session stays alive.
    for t in (6_000..35_000).step_by(3_000) {
        assert_eq!(g.heartbeat(&mref(&a), 1, t), ec::REBALANCE_IN_PROGRESS);
        g.tick(t);
    }
    assert!(g.take_completions().is_empty());
    g.tick(35_000); // 5_000 + rebalance timeout 30_000
    let done = joins(&g.take_completions());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, b);
    assert!(g.member(&a).is_none(), "a was expelled");
    assert_eq!(g.heartbeat(&mref(&a), 1, 35_001), ec::UNKNOWN_MEMBER_ID);
}

#[test]
fn static_member_rejoins_without_rebalance_and_fences_the_old_id() {
    let mut g = Group::new("g", CFG);
    let r = g.join(req("", Some("i-1"), &["range"]), "x", 0);
    let Reply::Later { member_id: a } = r else {
        panic!("static members skip MEMBER_ID_REQUIRED")
    };
    let Reply::Now(first) = g.join(req("", None, &["range"]), "y", 0) else {
        panic!()
    };
    let b = first.member_id;
    assert!(matches!(
        g.join(req(&b, None, &["range"]), "y", 0),
        Reply::Later { .. }
    ));
    g.tick(3_000);
    g.take_completions();
    let leader = g.leader.clone().unwrap();
    assert_eq!(leader, a);
    g.sync(&mref(&b), 1, None, None, vec![], 3_000);
    g.sync(
        &mref(&a),
        1,
        None,
        None,
        vec![
            (a.clone(), Bytes::from_static(b"A")),
            (b.clone(), Bytes::from_static(b"B")),
        ],
        3_000,
    );
    g.take_completions();
    assert_eq!(g.state, GroupState::Stable);

    // The static member restarts: same instance id, no member id.
    let Reply::Now(back) = g.join(req("", Some("i-1"), &["range"]), "z", 5_000) else {
        panic!("answered at once")
    };
    assert_eq!(back.error_code, ec::NONE);
    assert_eq!(back.generation_id, 1, "no rebalance: same generation");
    assert_ne!(back.member_id, a);
    assert!(
        back.skip_assignment,
        "a rejoining static leader must not reassign"
    );
    assert_eq!(g.state, GroupState::Stable);
    let new_id = back.member_id.clone();
    let synced = g.sync(
        &MemberRef {
            member_id: new_id,
            group_instance_id: Some("i-1".into()),
        },
        1,
        None,
        None,
        vec![],
        5_001,
    );
    assert!(
        matches!(synced, Reply::Now(SyncResult { error_code: 0, ref assignment, .. }) if &assignment[..] == b"A")
    );
    // The old incarnation is fenced.
    let old = MemberRef {
        member_id: a,
        group_instance_id: Some("i-1".into()),
    };
    assert_eq!(g.heartbeat(&old, 1, 5_002), ec::FENCED_INSTANCE_ID);
    assert_eq!(
        g.heartbeat(&mref(&b), 1, 5_003),
        ec::NONE,
        "the other member never saw a rebalance"
    );
}

#[test]
fn last_member_leaving_empties_the_group() {
    let (mut g, a) = stable_group_of_one();
    assert_eq!(g.leave(&[mref(&a)], 5_000), vec![ec::NONE]);
    assert_eq!(g.state, GroupState::Empty);
    assert_eq!(g.generation_id, 2);
    assert!(g.next_deadline().is_none());
}

#[test]
fn protocol_is_chosen_by_votes_among_common_ones() {
    let mut g = Group::new("g", CFG);
    let mut r1 = req("", None, &["cooperative-sticky", "range"]);
    r1.require_known_member_id = false;
    let mut r2 = req("", None, &["range", "cooperative-sticky"]);
    r2.require_known_member_id = false;
    let mut r3 = req("", None, &["cooperative-sticky", "range"]);
    r3.require_known_member_id = false;
    g.join(r1, "1", 0);
    g.join(r2, "2", 0);
    g.join(r3, "3", 0);
    g.tick(3_000);
    let done = joins(&g.take_completions());
    assert_eq!(done.len(), 3);
    assert!(done
        .iter()
        .all(|(_, r)| r.protocol_name.as_deref() == Some("cooperative-sticky")));
}

#[test]
fn static_rejoin_with_changed_metadata_but_same_protocol_does_not_rebalance() {
    let mut g = Group::new("g", CFG);
    let Reply::Later { member_id: a } = g.join(req("", Some("i-1"), &["range"]), "x", 0) else {
        panic!()
    };
    g.tick(3_000);
    g.take_completions();
    g.sync(
        &mref(&a),
        1,
        None,
        None,
        vec![(a.clone(), Bytes::from_static(b"A"))],
        3_000,
    );
    g.take_completions();
    // Same protocol name, different metadata bytes (e.g. a generation embedded by the client).
    let mut again = req("", Some("i-1"), &["range"]);
    again.protocols[0].1 = Bytes::from_static(b"other-metadata");
    let Reply::Now(r) = g.join(again, "y", 4_000) else {
        panic!("no rebalance: answered at once")
    };
    assert_eq!((r.error_code, r.generation_id), (ec::NONE, 1));
    assert!(r.skip_assignment, "the static leader must not reassign");
    assert_eq!(g.state, GroupState::Stable);
    // A protocol change that alters the group's choice does rebalance.
    let Reply::Now(current) = g.join(req("", Some("i-1"), &["range"]), "z", 5_000) else {
        panic!()
    };
    // (Offering only a new protocol would be INCONSISTENT_GROUP_PROTOCOL, as in Kafka: the
    // group's members, this one included, must all support it.)
    let mut switch = req(&current.member_id, Some("i-1"), &["roundrobin", "range"]);
    switch.require_known_member_id = false;
    let _ = g.join(switch, "w", 5_001);
    assert_eq!(
        g.state,
        GroupState::CompletingRebalance,
        "sole member: the rebalance completes at once"
    );
    assert_eq!(g.protocol_name.as_deref(), Some("roundrobin"));
}

#[test]
fn offsets_of_member_less_groups_expire_after_retention() {
    use super::records::OffsetValue;
    use super::{expired_offsets, Committed};
    use std::collections::BTreeMap;
    let committed = |ts: i64, expire: Option<i64>| Committed {
        value: OffsetValue {
            offset: 5,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp: ts,
            expire_timestamp: expire,
            topic_id: None,
        },
        log_offset: 0,
    };
    let offsets: BTreeMap<(String, i32), Committed> = [
        (("old", 0), committed(1_000, None)),
        (("fresh", 0), committed(90_000, None)),
        (("edge", 0), committed(40_000, None)),
        (("own-expiry-passed", 0), committed(99_000, Some(100_000))),
        (("own-expiry-ahead", 0), committed(1_000, Some(100_001))),
    ]
    .into_iter()
    .map(|((t, p), c)| ((t.to_string(), p), c))
    .collect();
    let names = |v: Vec<(String, i32)>| v.into_iter().map(|(t, _)| t).collect::<Vec<_>>();
    // now 100_000, retention 60_000: committed at or before 40_000 expire.
    assert_eq!(
        names(expired_offsets(false, &offsets, 100_000, 60_000)),
        vec!["edge", "old", "own-expiry-passed"]
    );
    // A group with members keeps every offset, whatever its age.
    assert!(expired_offsets(true, &offsets, 100_000, 60_000).is_empty());
    assert!(expired_offsets(false, &BTreeMap::new(), 100_000, 60_000).is_empty());
}

#[test]
fn a_stored_group_restores_as_stored() {
    let mut g = Group::new("g", CFG);
    let a = join_new(&mut g, 0);
    let _ = g.take_completions();
    g.tick(3_001);
    let _ = g.take_completions();
    let Reply::Later { .. } = g.sync(
        &mref(&a),
        1,
        None,
        None,
        vec![(a.clone(), Bytes::from_static(b"assignment"))],
        3_001,
    ) else {
        panic!("the leader waits for its own completion")
    };
    assert_eq!(g.state, GroupState::Stable);
    let stored = g.to_value(5_000);
    assert_eq!(stored.generation, 1);
    assert_eq!(stored.leader.as_deref(), Some(a.as_str()));
    assert_eq!(stored.members.len(), 1);
    assert_eq!(
        stored.members[0].assignment,
        Bytes::from_static(b"assignment")
    );
    assert_eq!(
        stored.members[0].subscription,
        Bytes::from_static(b"meta-range")
    );
    let back = Group::restore("g", CFG, &stored, 9_000);
    assert_eq!(back.state, GroupState::Stable);
    assert_eq!(back.stored_view(), g.stored_view());
    assert_eq!(back.to_value(5_000), stored);
    // Its member's session runs from the load: it expires one session later, not before.
    assert_eq!(back.next_deadline(), Some(9_000 + 10_000));
    // A member that heartbeats at the stored generation is known.
    let mut back = back;
    assert_eq!(back.heartbeat(&mref(&a), 1, 9_500), ec::NONE);
    // An empty group restores Empty with its generation.
    let empty = super::records::GroupValue {
        members: vec![],
        leader: None,
        ..stored
    };
    let e = Group::restore("g", CFG, &empty, 0);
    assert_eq!((e.state, e.generation_id), (GroupState::Empty, 1));
    // Storing fails: the assignment is cleared and the group rebalances.
    g.assignment_not_stored(1, 6_000);
    assert_eq!(g.state, GroupState::PreparingRebalance);
    assert!(g.members.values().all(|m| m.assignment.is_empty()));
}
