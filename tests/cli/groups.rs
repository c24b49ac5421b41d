//! `weir groups ...` and `weir consume --group`: offsets, lag, resets, members, deletion.

use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, GroupId, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::{Encodable, StrBytes};
use serde_json::Value;

use crate::common;
use crate::support::{create_topic, weir, weir_in, Broker};

/// JoinGroup (with the MEMBER_ID_REQUIRED round trip) and SyncGroup as the leader, giving
/// itself `topic` partitions 0 and 1: a group with one member, as a real consumer makes.
async fn join_with_member(addr: &str, group: &str, topic: &str) -> (common::Client, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut c = common::Client::from_stream(stream);
    let gid = GroupId(StrBytes::from_string(group.to_string()));
    let mut member = StrBytes::from_static_str("");
    let deadline = Instant::now() + Duration::from_secs(30);
    let joined = loop {
        let req = JoinGroupRequest::default()
            .with_group_id(gid.clone())
            .with_session_timeout_ms(30_000)
            .with_rebalance_timeout_ms(30_000)
            .with_member_id(member.clone())
            .with_protocol_type(StrBytes::from_static_str("consumer"))
            .with_protocols(vec![JoinGroupRequestProtocol::default()
                .with_name(StrBytes::from_static_str("range"))
                .with_metadata(bytes::Bytes::from_static(b"\0\0\0\0\0\0\0\0\0\0"))]);
        let resp = common::Client::send(&mut c, &req, 5).await;
        match resp.error_code {
            0 => break resp,
            79 => member = resp.member_id,
            14..=16 if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("JoinGroup: {other}"),
        }
    };
    let mut assignment = BytesMut::new();
    assignment.put_i16(0);
    ConsumerProtocolAssignment::default()
        .with_assigned_partitions(vec![TopicPartition::default()
            .with_topic(common::topic_name(topic))
            .with_partitions(vec![0, 1])])
        .encode(&mut assignment, 0)
        .unwrap();
    let sync = SyncGroupRequest::default()
        .with_group_id(gid)
        .with_generation_id(joined.generation_id)
        .with_member_id(joined.member_id.clone())
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(joined.member_id.clone())
            .with_assignment(assignment.freeze())]);
    assert_eq!(c.send(&sync, 3).await.error_code, 0);
    (c, joined.member_id.to_string())
}

#[test]
fn groups_offsets_and_lag() {
    let b = Broker::start(false);
    create_topic(&b, "work", "2");
    weir_in(
        &b,
        &["produce", "work", "--partition", "0"],
        "1\n2\n3\n4\n5\n6\n",
    )
    .ok();
    weir_in(&b, &["produce", "work", "--partition", "1"], "a\nb\n").ok();

    // consume --group: reads 3 records from the start, commits where it stopped.
    let first = weir(
        &b,
        &[
            "consume",
            "work",
            "--group",
            "g",
            "--from-beginning",
            "--max-messages",
            "3",
        ],
    )
    .ok();
    assert_eq!(first.stdout.lines().count(), 3);
    let listed = weir(&b, &["groups", "list", "--json"]).ok().json();
    let g = listed["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "g")
        .cloned()
        .unwrap();
    assert_eq!(g["state"], "Empty");
    assert!(weir(&b, &["groups", "list"]).ok().stdout.contains("g "));

    let described = weir(&b, &["groups", "describe", "g", "--json"]).ok().json();
    assert_eq!(described["group"], "g");
    assert_eq!(described["state"], "Empty");
    assert_eq!(described["members"], serde_json::json!([]));
    let offsets = described["offsets"].as_array().unwrap();
    let total_lag: i64 = offsets.iter().map(|o| o["lag"].as_i64().unwrap()).sum();
    let consumed: i64 = offsets
        .iter()
        .map(|o| o["current_offset"].as_i64().unwrap())
        .sum();
    assert_eq!(consumed, 3, "{offsets:?}");
    assert_eq!(total_lag, 5);
    for o in offsets {
        assert_eq!(o["topic"], "work");
        let end = if o["partition"] == 0 { 6 } else { 2 };
        assert_eq!(o["log_end_offset"], end);
        assert_eq!(
            o["lag"].as_i64().unwrap(),
            end - o["current_offset"].as_i64().unwrap()
        );
    }
    // The table, as kafka-consumer-groups.sh --describe prints it.
    let table = weir(&b, &["groups", "describe", "g"]).ok().stdout;
    assert!(
        table.contains("CURRENT-OFFSET  LOG-END-OFFSET  LAG"),
        "{table}"
    );

    // The same group carries on where it committed.
    let rest = weir(
        &b,
        &[
            "consume",
            "work",
            "--group",
            "g",
            "--max-messages",
            "5",
            "--timeout-ms",
            "20000",
        ],
    )
    .ok();
    assert_eq!(rest.stdout.lines().count(), 5, "{}", rest.stdout);
    let after = weir(&b, &["groups", "describe", "g", "--json"]).ok().json();
    assert!(after["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["lag"] == 0));

    // reset-offsets: a dry run changes nothing; --execute commits.
    let dry = weir(
        &b,
        &[
            "groups",
            "reset-offsets",
            "g",
            "--topic",
            "work",
            "--to-earliest",
            "--json",
        ],
    )
    .ok();
    assert!(dry.stderr.contains("Dry run"));
    let plan = dry.json();
    assert_eq!(plan["executed"], false);
    assert!(plan["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["new_offset"] == 0));
    let unchanged = weir(&b, &["groups", "describe", "g", "--json"]).ok().json();
    assert_eq!(unchanged["offsets"], after["offsets"]);
    weir(
        &b,
        &[
            "groups",
            "reset-offsets",
            "g",
            "--topic",
            "work:0",
            "--shift-by",
            "-2",
            "--execute",
        ],
    )
    .ok();
    weir(
        &b,
        &[
            "groups",
            "reset-offsets",
            "g",
            "--topic",
            "work:1",
            "--to-offset",
            "1",
            "--execute",
        ],
    )
    .ok();
    let reset = weir(&b, &["groups", "describe", "g", "--json"]).ok().json();
    let off = |p: i64| {
        reset["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["partition"] == p)
            .unwrap()["current_offset"]
            .as_i64()
            .unwrap()
    };
    assert_eq!((off(0), off(1)), (4, 1));
    let latest = weir(
        &b,
        &[
            "groups",
            "reset-offsets",
            "g",
            "--all-topics",
            "--to-latest",
            "--execute",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(latest["executed"], true);
    assert_eq!(latest["partitions"].as_array().unwrap().len(), 2);

    // A group with a member: described with its assignment; reset refused (exit 1).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut conn, member) = rt.block_on(join_with_member(&b.addr, "live", "work"));
    let live = weir(&b, &["groups", "describe", "live", "--json"])
        .ok()
        .json();
    assert_eq!(live["state"], "Stable");
    assert_eq!(live["protocol"], "range");
    assert_eq!(live["members"][0]["member_id"], member);
    assert_eq!(live["members"][0]["assignment"][0]["topic"], "work");
    assert_eq!(
        live["members"][0]["assignment"][0]["partitions"],
        serde_json::json!([0, 1])
    );
    assert_eq!(live["offsets"][0]["member_id"], member);
    assert_eq!(live["offsets"][0]["log_end_offset"], 6);
    assert_eq!(live["offsets"][0]["current_offset"], Value::Null);
    let refused = weir(
        &b,
        &[
            "groups",
            "reset-offsets",
            "live",
            "--topic",
            "work",
            "--to-earliest",
        ],
    );
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("inactive"), "{}", refused.stderr);
    let busy = weir(&b, &["groups", "delete", "live"]);
    assert_eq!(busy.code, 1);
    assert!(busy.stdout.contains("NON_EMPTY_GROUP"), "{}", busy.stdout);
    rt.block_on(async {
        let leave = LeaveGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str("live")))
            .with_member_id(StrBytes::from_string(member.clone()));
        assert_eq!(conn.send(&leave, 1).await.error_code, 0);
    });

    // delete: then the group is missing (exit 1).
    let deleted = weir(&b, &["groups", "delete", "g", "live", "--json"])
        .ok()
        .json();
    assert_eq!(deleted["groups"][0]["group"], "g");
    assert_eq!(deleted["groups"][0]["error"], Value::Null);
    assert_eq!(deleted["groups"][1]["error"], Value::Null);
    let missing = weir(&b, &["groups", "describe", "g"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("GROUP_ID_NOT_FOUND"),
        "{}",
        missing.stderr
    );
}
