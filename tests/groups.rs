#![allow(clippy::unwrap_used)]
//! Consumer-group APIs at every advertised version over raw protocol, and committed offsets
//! surviving a restart.

mod common;

use bytes::Bytes;
use common::{coordinator_ready, start_with, Client};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use weir::handlers::spec;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn versions(key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let sp = spec(key).unwrap();
    sp.min..=sp.max
}

/// Joins `group` at JoinGroup `v` (with the MEMBER_ID_REQUIRED round trip from v4) and syncs
/// as the only member; returns (member id, generation).
async fn join_and_sync(c: &mut Client, group: &str, v: i16) -> (String, i32) {
    let join = |member: &str| {
        JoinGroupRequest::default()
            .with_group_id(GroupId(s(group)))
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(if v >= 1 { 10_000 } else { -1 })
            .with_member_id(s(member))
            .with_protocol_type(s("consumer"))
            .with_protocols(vec![JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(Bytes::from_static(b"\x00\x01meta"))])
    };
    let mut resp = c.send(&join(""), v).await;
    if v >= 4 {
        assert_eq!(resp.error_code, 79, "v{v}: MEMBER_ID_REQUIRED");
        assert!(!resp.member_id.is_empty());
        resp = c.send(&join(&resp.member_id), v).await;
    }
    assert_eq!(resp.error_code, 0, "JoinGroup v{v}");
    assert_eq!(resp.leader, resp.member_id, "v{v}: the only member leads");
    assert_eq!(resp.members.len(), 1);
    let member = resp.member_id.to_string();
    let generation = resp.generation_id;
    let sync = SyncGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id(generation)
        .with_member_id(s(&member))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(s(&member))
            .with_assignment(Bytes::from_static(b"assigned"))]);
    let sv = v.min(*versions(ApiKey::SyncGroup).end());
    let sync = if sv >= 5 {
        sync.with_protocol_type(Some(s("consumer")))
            .with_protocol_name(Some(s("range")))
    } else {
        sync
    };
    let resp = c.send(&sync, sv).await;
    assert_eq!(resp.error_code, 0, "SyncGroup v{sv}");
    assert_eq!(&resp.assignment[..], b"assigned");
    (member, generation)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_group_api_version_answers() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| c.group.initial_rebalance_delay_ms = 0).await;
    let mut c = Client::connect(&broker).await;
    let ct = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(TopicName(s("gt")))
        .with_num_partitions(2)
        .with_replication_factor(1)]);
    assert_eq!(c.send(&ct, 7).await.topics[0].error_code, 0);

    for v in versions(ApiKey::FindCoordinator) {
        let req = if v >= 4 {
            FindCoordinatorRequest::default().with_coordinator_keys(vec![s("g"), s("h")])
        } else {
            FindCoordinatorRequest::default().with_key(s("g"))
        };
        let resp = c.send(&req, v).await;
        if v >= 4 {
            assert_eq!(resp.coordinators.len(), 2);
            assert_eq!(
                resp.coordinators[0].port,
                i32::from(broker.local_addr.port())
            );
        } else {
            assert_eq!(resp.error_code, 0);
            assert_eq!(resp.port, i32::from(broker.local_addr.port()));
        }
    }
    for v in versions(ApiKey::JoinGroup) {
        let group = format!("g{v}");
        coordinator_ready(&mut c, &group).await;
        let (member, generation) = join_and_sync(&mut c, &group, v).await;
        let hv = v.min(*versions(ApiKey::Heartbeat).end());
        let hb = HeartbeatRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_generation_id(generation)
            .with_member_id(s(&member));
        assert_eq!(c.send(&hb, hv).await.error_code, 0, "Heartbeat v{hv}");
        let stale = hb.clone().with_generation_id(generation + 5);
        assert_eq!(
            c.send(&stale, hv).await.error_code,
            22,
            "ILLEGAL_GENERATION"
        );

        let cv = v.min(*versions(ApiKey::OffsetCommit).end());
        let commit = OffsetCommitRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_generation_id_or_member_epoch(if cv == 0 { -1 } else { generation })
            .with_member_id(s(if cv == 0 { "" } else { &member }))
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(TopicName(s("gt")))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(42)
                        .with_committed_metadata(Some(s("md"))),
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(9)
                        .with_committed_offset(1),
                ])]);
        let resp = c.send(&commit, cv).await;
        // v0 is a simple commit (no member), refused with UNKNOWN_MEMBER_ID while the group
        // has a member, as Kafka does.
        let want = if cv == 0 { 25 } else { 0 };
        assert_eq!(
            resp.topics[0].partitions[0].error_code, want,
            "OffsetCommit v{cv}"
        );
        assert_eq!(
            resp.topics[0].partitions[1].error_code,
            if cv == 0 { 25 } else { 3 }
        );

        for fv in versions(ApiKey::OffsetFetch) {
            let resp = if fv >= 8 {
                let req = OffsetFetchRequest::default().with_groups(vec![
                    OffsetFetchRequestGroup::default()
                        .with_group_id(GroupId(s(&group)))
                        .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                            .with_name(TopicName(s("gt")))
                            .with_partition_indexes(vec![0, 1])])),
                ]);
                let r = c.send(&req, fv).await;
                r.groups[0].topics[0]
                    .partitions
                    .iter()
                    .map(|p| p.committed_offset)
                    .collect::<Vec<_>>()
            } else {
                let req = OffsetFetchRequest::default()
                    .with_group_id(GroupId(s(&group)))
                    .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                        .with_name(TopicName(s("gt")))
                        .with_partition_indexes(vec![0, 1])]));
                let r = c.send(&req, fv).await;
                r.topics[0]
                    .partitions
                    .iter()
                    .map(|p| p.committed_offset)
                    .collect::<Vec<_>>()
            };
            let want0 = if cv == 0 { -1 } else { 42 };
            assert_eq!(
                resp,
                vec![want0, -1],
                "OffsetFetch v{fv} after OffsetCommit v{cv}"
            );
        }
        for dv in versions(ApiKey::DescribeGroups) {
            let resp = c
                .send(
                    &DescribeGroupsRequest::default()
                        .with_groups(vec![GroupId(s(&group)), GroupId(s("none"))]),
                    dv,
                )
                .await;
            assert_eq!(
                resp.groups[0].group_state.as_str(),
                "Stable",
                "DescribeGroups v{dv}"
            );
            assert_eq!(resp.groups[0].members.len(), 1);
            assert_eq!(
                &resp.groups[0].members[0].member_assignment[..],
                b"assigned"
            );
            assert_eq!(resp.groups[1].group_state.as_str(), "Dead");
        }
        for lv in versions(ApiKey::ListGroups) {
            let resp = c.send(&ListGroupsRequest::default(), lv).await;
            assert!(
                resp.groups.iter().any(|g| g.group_id.as_str() == group),
                "ListGroups v{lv}"
            );
        }
        let dg = DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(&group))]);
        assert_eq!(
            c.send(&dg, 2).await.results[0].error_code,
            68,
            "NON_EMPTY_GROUP"
        );

        let lv = v.min(*versions(ApiKey::LeaveGroup).end());
        let leave = if lv >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_members(vec![MemberIdentity::default().with_member_id(s(&member))])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(s(&member))
        };
        let resp = c.send(&leave, lv).await;
        if lv >= 3 {
            assert_eq!(resp.members[0].error_code, 0, "LeaveGroup v{lv}");
        } else {
            assert_eq!(resp.error_code, 0, "LeaveGroup v{lv}");
        }
        assert_eq!(
            c.send(&hb, hv).await.error_code,
            25,
            "UNKNOWN_MEMBER_ID after leaving"
        );

        let od = OffsetDeleteRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_topics(vec![OffsetDeleteRequestTopic::default()
                .with_name(TopicName(s("gt")))
                .with_partitions(vec![
                    OffsetDeleteRequestPartition::default().with_partition_index(0)
                ])]);
        assert_eq!(c.send(&od, 0).await.topics[0].partitions[0].error_code, 0);
        for dv in versions(ApiKey::DeleteGroups) {
            let code = c.send(&dg, dv).await.results[0].error_code;
            assert!(
                code == 0 || code == 69,
                "DeleteGroups v{dv}: deleted, then not found"
            );
        }
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_offsets_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |_| {}).await;
    let mut c = Client::connect(&broker).await;
    let ct = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(TopicName(s("kept")))
        .with_num_partitions(1)
        .with_replication_factor(1)]);
    c.send(&ct, 7).await;
    coordinator_ready(&mut c, "simple").await;
    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(s("simple")))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(TopicName(s("kept")))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(7)])]);
    assert_eq!(
        c.send(&commit, 9).await.topics[0].partitions[0].error_code,
        0
    );
    broker.shutdown().await;

    let broker = start_with(dir.path(), |_| {}).await;
    let mut c = Client::connect(&broker).await;
    coordinator_ready(&mut c, "simple").await;
    let fetch = OffsetFetchRequest::default()
        .with_group_id(GroupId(s("simple")))
        .with_topics(None);
    let resp = c.send(&fetch, 7).await;
    assert_eq!(resp.topics[0].partitions[0].committed_offset, 7);
    let listed = c.send(&ListGroupsRequest::default(), 4).await;
    let g = listed
        .groups
        .iter()
        .find(|g| g.group_id.as_str() == "simple")
        .expect("group listed after restart");
    assert_eq!(g.group_state.as_str(), "Empty");
    broker.shutdown().await;
}
