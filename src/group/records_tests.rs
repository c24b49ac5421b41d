use super::*;

/// Hex without spaces, for byte-exact expectations.
fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn member() -> MemberValue {
    MemberValue {
        member_id: "m-1".into(),
        group_instance_id: None,
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        rebalance_timeout: 300_000,
        session_timeout: 45_000,
        subscription: Bytes::from_static(&[0, 1]),
        assignment: Bytes::from_static(&[9]),
    }
}

/// The expected bytes are what Apache Kafka 4.1.1's own generated classes write
/// (`MessageUtil.toVersionPrefixedByteBuffer` of OffsetCommitKey/Value and GroupMetadataKey/
/// Value at the versions its GroupCoordinatorRecordHelpers picks), captured once with the
/// reference distribution; no test runs Kafka.
#[test]
fn keys_and_values_are_written_byte_for_byte_as_kafka_writes_them() {
    // (what, encoded, expected bytes)
    let rows: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "offset commit key v1: group, topic, partition",
            GroupKey::Offset {
                group: "g".into(),
                topic: "t".into(),
                partition: 7,
            }
            .encode(),
            hex("0001 0001 67 0001 74 00000007"),
        ),
        (
            "group metadata key v2",
            GroupKey::Group { group: "gr".into() }.encode(),
            hex("0002 0002 6772"),
        ),
        (
            "offset commit value v4: offset, leader epoch, compact metadata, commit timestamp, \
             no tagged field",
            OffsetValue {
                offset: 42,
                leader_epoch: 5,
                metadata: "m".into(),
                commit_timestamp: 1000,
                expire_timestamp: None,
                topic_id: None,
            }
            .encode(),
            hex("0004 000000000000002a 00000005 02 6d 00000000000003e8 00"),
        ),
        (
            "offset commit value v4 with the topic id: tagged field 0, 16 bytes",
            OffsetValue {
                offset: 42,
                leader_epoch: 5,
                metadata: "m".into(),
                commit_timestamp: 1000,
                expire_timestamp: None,
                topic_id: Some(uuid::Uuid::from_u128(0x0102030405060708090a0b0c0d0e0f10)),
            }
            .encode(),
            hex("0004 000000000000002a 00000005 02 6d 00000000000003e8 01 00 10 0102030405060708090a0b0c0d0e0f10"),
        ),
        (
            "offset commit value v1 with an expire timestamp (no leader epoch)",
            OffsetValue {
                offset: 1,
                leader_epoch: 9,
                metadata: String::new(),
                commit_timestamp: 2,
                expire_timestamp: Some(3),
                topic_id: None,
            }
            .encode(),
            hex("0001 0000000000000001 0000 0000000000000002 0000000000000003"),
        ),
        (
            "group metadata value v3",
            GroupValue {
                protocol_type: "consumer".into(),
                generation: 4,
                protocol: Some("range".into()),
                leader: Some("m-1".into()),
                current_state_timestamp: 16,
                members: vec![member()],
            }
            .encode(),
            hex(concat!(
                "0003",
                "0008 636f6e73756d6572",
                "00000004",
                "0005 72616e6765",
                "0003 6d2d31",
                "0000000000000010",
                "00000001",
                "0003 6d2d31",
                "ffff",
                "0001 63",
                "000a 2f3132372e302e302e31",
                "000493e0",
                "0000afc8",
                "00000002 0001",
                "00000001 09",
            )),
        ),
        (
            "an empty group: no protocol, no leader, no members",
            GroupValue {
                protocol_type: "consumer".into(),
                generation: 0,
                protocol: None,
                leader: None,
                current_state_timestamp: -1,
                members: vec![],
            }
            .encode(),
            hex("0003 0008 636f6e73756d6572 00000000 ffff ffff ffffffffffffffff 00000000"),
        ),
    ];
    for (what, got, want) in rows {
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn what_is_written_reads_back() {
    let keys = [
        GroupKey::Offset {
            group: "grüppe".into(),
            topic: "topic.a".into(),
            partition: 0,
        },
        GroupKey::Group {
            group: String::new(),
        },
    ];
    for k in keys {
        assert_eq!(GroupKey::decode(&k.encode()), Ok(k.clone()));
    }
    for v in [
        OffsetValue {
            offset: i64::MAX,
            leader_epoch: -1,
            metadata: "x".repeat(300),
            commit_timestamp: 5,
            expire_timestamp: None,
            topic_id: Some(uuid::Uuid::from_u128(7)),
        },
        OffsetValue {
            offset: 0,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp: 5,
            expire_timestamp: Some(6),
            topic_id: None,
        },
    ] {
        assert_eq!(OffsetValue::decode(&v.encode()), Ok(v.clone()));
    }
    let mut static_member = member();
    static_member.group_instance_id = Some("instance-1".into());
    let g = GroupValue {
        protocol_type: "consumer".into(),
        generation: 12,
        protocol: Some("cooperative-sticky".into()),
        leader: Some("m-1".into()),
        current_state_timestamp: 1_700_000_000_000,
        members: vec![member(), static_member],
    };
    assert_eq!(GroupValue::decode(&g.encode()), Ok(g.clone()));
}

#[test]
fn older_and_flexible_versions_are_read() {
    // Offset commit key v0 (older Kafka): the same layout as v1.
    assert_eq!(
        GroupKey::decode(&hex("0000 0001 67 0001 74 00000001")),
        Ok(GroupKey::Offset {
            group: "g".into(),
            topic: "t".into(),
            partition: 1,
        })
    );
    let offset = |leader_epoch, metadata: &str, expire| OffsetValue {
        offset: 42,
        leader_epoch,
        metadata: metadata.into(),
        commit_timestamp: 1000,
        expire_timestamp: expire,
        topic_id: None,
    };
    let rows: &[(&str, &str, OffsetValue)] = &[
        (
            "offset value v0",
            "0000 000000000000002a 0001 6d 00000000000003e8",
            offset(-1, "m", None),
        ),
        (
            "offset value v2 (v0's fields)",
            "0002 000000000000002a 0001 6d 00000000000003e8",
            offset(-1, "m", None),
        ),
        (
            "offset value v3 (Kafka before 4.0)",
            "0003 000000000000002a 00000005 0001 6d 00000000000003e8",
            offset(5, "m", None),
        ),
        (
            "offset value v4, flexible: compact metadata, an unknown tagged field skipped",
            "0004 000000000000002a 00000003 02 6d 00000000000003e8 01 05 02 abcd",
            offset(3, "m", None),
        ),
    ];
    for (what, bytes, want) in rows {
        assert_eq!(
            OffsetValue::decode(&hex(bytes)).as_ref(),
            Ok(want),
            "{what}"
        );
    }
    // Group value v0: no rebalance timeout (it takes the session timeout), no timestamp.
    let v0 = hex(concat!(
        "0000 0008 636f6e73756d6572 00000001 0005 72616e6765 0003 6d2d31",
        "00000001 0003 6d2d31 0001 63 000a 2f3132372e302e302e31 0000afc8 00000002 0001 00000001 09",
    ));
    let g = GroupValue::decode(&v0).unwrap();
    assert_eq!(g.current_state_timestamp, -1);
    assert_eq!(
        (g.members[0].rebalance_timeout, g.members[0].session_timeout),
        (45_000, 45_000)
    );
    // Group value v4, flexible: compact strings, bytes and array, tagged fields per struct.
    let v4 = hex(concat!(
        "0004 09 636f6e73756d6572 00000002 00 00 0000000000000007",
        "02 04 6d2d31 00 02 63 0b 2f3132372e302e302e31 000493e0 0000afc8 03 0001 02 09 00",
        "00",
    ));
    let g = GroupValue::decode(&v4).unwrap();
    assert_eq!((g.protocol.as_deref(), g.leader.as_deref()), (None, None));
    let mut want = member();
    want.client_host = "/127.0.0.1".into();
    assert_eq!(g.members, vec![want]);
}

#[test]
fn damaged_or_foreign_records_are_refused_without_panicking() {
    assert_eq!(
        GroupKey::decode(&hex("0003 0001 67")),
        Err(RecordError::OtherKey(3))
    );
    assert!(matches!(
        GroupKey::decode(&hex("ffff")),
        Err(RecordError::UnknownVersion { .. })
    ));
    assert_eq!(
        GroupKey::decode(&hex("0001 0005 67")),
        Err(RecordError::Truncated)
    );
    assert_eq!(
        GroupKey::decode(&hex("0002 0001 67 00")),
        Err(RecordError::Trailing(1))
    );
    assert_eq!(
        GroupKey::decode(&hex("0002 0002 ff fe")),
        Err(RecordError::BadString)
    );
    assert_eq!(
        GroupKey::decode(&hex("0002 fffe")),
        Err(RecordError::BadString)
    );
    assert!(matches!(
        OffsetValue::decode(&hex("0005 00")),
        Err(RecordError::UnknownVersion { .. })
    ));
    // A member count far beyond the bytes left: refused before any allocation.
    let huge = hex("0003 0000 00000000 ffff ffff ffffffffffffffff 7fffffff");
    assert_eq!(GroupValue::decode(&huge), Err(RecordError::Truncated));
    // Every prefix of a valid value fails cleanly.
    let full = GroupValue {
        protocol_type: "consumer".into(),
        generation: 1,
        protocol: Some("range".into()),
        leader: Some("m-1".into()),
        current_state_timestamp: 0,
        members: vec![member()],
    }
    .encode();
    for n in 0..full.len() {
        assert!(
            GroupValue::decode(&full[..n]).is_err(),
            "prefix of {n} bytes"
        );
    }
}

#[test]
fn offset_value_v3_is_written_as_kafka_before_4_0_writes_it() {
    // OffsetCommitValue v3 (Kafka 2.1-3.9): offset int64, leaderEpoch int32, metadata int16
    // length + UTF-8, commitTimestamp int64; no topic id, no tagged fields.
    let v = OffsetValue {
        offset: 42,
        leader_epoch: 5,
        metadata: "m".into(),
        commit_timestamp: 1000,
        expire_timestamp: None,
        topic_id: Some(uuid::Uuid::from_u128(7)),
    };
    let bytes = v.encode_as(3);
    assert_eq!(
        bytes,
        hex("0003 000000000000002a 00000005 0001 6d 00000000000003e8")
    );
    let mut back = OffsetValue::decode(&bytes).unwrap();
    assert_eq!(back.topic_id, None, "v3 has no topic id");
    back.topic_id = v.topic_id;
    assert_eq!(back, v);
    // An expire timestamp forces version 1 whatever the version asked for.
    let expiring = OffsetValue {
        expire_timestamp: Some(2000),
        ..v.clone()
    };
    assert_eq!(
        expiring.encode_as(3),
        hex("0001 000000000000002a 0001 6d 00000000000003e8 00000000000007d0")
    );
    assert_eq!(expiring.encode_as(3), expiring.encode_as(4));
}
