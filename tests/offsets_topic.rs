#![allow(clippy::unwrap_used)]
//! `__consumer_offsets` as clients see it: created by the first FindCoordinator with Kafka's
//! settings, internal, readable, refused to producers, deletion and new partitions; a commit
//! lands on the group's partition as Kafka's offset record, and a deleted group leaves
//! tombstones.

mod common;

use bytes::Buf;
use common::*;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::RecordBatchDecoder;
use weir::group::offsets_topic::{partition_for, OFFSETS_TOPIC};
use weir::group::records::{GroupKey, OffsetValue};

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// Every (key, value) of one partition of the topic, from its start (a fetch per segment).
async fn read_partition(c: &mut Client, partition: i32) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let resp = c
            .send(&fetch_request(OFFSETS_TOPIC, partition, next, 0), 12)
            .await;
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0, "fetch from {OFFSETS_TOPIC}-{partition}");
        let mut bytes = p.records.clone().unwrap_or_default();
        let mut after = next;
        while bytes.has_remaining() {
            // Past the whole batch, even when compaction left it with fewer records.
            let base = i64::from_be_bytes(bytes[..8].try_into().unwrap());
            let delta = i32::from_be_bytes(bytes[23..27].try_into().unwrap());
            after = after.max(base + i64::from(delta) + 1);
            for r in RecordBatchDecoder::decode(&mut bytes).unwrap().records {
                if r.offset >= next {
                    out.push((r.key.unwrap().to_vec(), r.value.map(|v| v.to_vec())));
                }
            }
        }
        if after == next {
            return out;
        }
        next = after;
    }
}

fn commit(group: &str, topic: &str, offset: i64) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)
                .with_committed_metadata(Some(s("meta")))])])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offsets_topic_holds_kafkas_records_and_refuses_changes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 1).await;
    assert!(
        !broker.broker.cluster.has_topic(OFFSETS_TOPIC),
        "created on need"
    );
    coordinator_ready(&mut c, "g").await;

    // Internal, 50 partitions, one replica (capped at the one live broker).
    let md = c
        .send(
            &MetadataRequest::default().with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(TopicName(s(OFFSETS_TOPIC))))
            ])),
            12,
        )
        .await;
    let t = &md.topics[0];
    assert_eq!(t.error_code, 0);
    assert!(t.is_internal);
    assert_eq!(t.partitions.len(), 50);
    assert!(t.partitions.iter().all(|p| p.replica_nodes.len() == 1));
    // Compacted, 100 MiB segments.
    let configs = c
        .send(
            &DescribeConfigsRequest::default().with_resources(vec![
                DescribeConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(s(OFFSETS_TOPIC)),
            ]),
            4,
        )
        .await;
    let value = |name: &str| {
        configs.results[0]
            .configs
            .iter()
            .find(|c| c.name.as_str() == name)
            .and_then(|c| c.value.as_ref().map(|v| v.to_string()))
    };
    assert_eq!(value("cleanup.policy").as_deref(), Some("compact"));
    assert_eq!(value("segment.bytes").as_deref(), Some("104857600"));

    // A commit is Kafka's offset record on the group's partition.
    let resp = c.send(&commit("g", "t", 7), 8).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 0);
    let p = partition_for("g", 50);
    let records = read_partition(&mut c, p).await;
    let (key, value) = records.last().unwrap();
    assert_eq!(
        GroupKey::decode(key).unwrap(),
        GroupKey::Offset {
            group: "g".into(),
            topic: "t".into(),
            partition: 0
        }
    );
    let value = value.as_ref().unwrap();
    assert_eq!(&value[..2], &[0, 3], "OffsetCommitValue v3 by default");
    let v = OffsetValue::decode(value).unwrap();
    assert_eq!((v.offset, v.metadata.as_str()), (7, "meta"));

    // Producing to it, deleting it and adding partitions are refused.
    let (err, _) = produce(
        &mut c,
        OFFSETS_TOPIC,
        p,
        batch(&[b"x"], kafka_protocol::records::Compression::None),
        9,
    )
    .await;
    assert_eq!(err, 17, "INVALID_TOPIC_EXCEPTION");
    let del = c
        .send(
            &DeleteTopicsRequest::default()
                .with_topic_names(vec![TopicName(s(OFFSETS_TOPIC))])
                .with_timeout_ms(5000),
            4,
        )
        .await;
    assert_eq!(del.responses[0].error_code, 42, "INVALID_REQUEST");
    let grow = c
        .send(
            &CreatePartitionsRequest::default()
                .with_timeout_ms(5000)
                .with_topics(vec![CreatePartitionsTopic::default()
                    .with_name(TopicName(s(OFFSETS_TOPIC)))
                    .with_count(60)]),
            3,
        )
        .await;
    assert_eq!(grow.results[0].error_code, 42, "INVALID_REQUEST");
    assert_eq!(
        broker
            .broker
            .cluster
            .topic(OFFSETS_TOPIC)
            .unwrap()
            .partition_count(),
        50
    );

    // Deleting the group writes tombstones for its offset and for itself.
    let deleted = c
        .send(
            &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("g"))]),
            2,
        )
        .await;
    assert_eq!(deleted.results[0].error_code, 0);
    let records = read_partition(&mut c, p).await;
    let tail: Vec<_> = records[records.len() - 2..]
        .iter()
        .map(|(k, v)| (GroupKey::decode(k).unwrap(), v.is_none()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (
                GroupKey::Offset {
                    group: "g".into(),
                    topic: "t".into(),
                    partition: 0
                },
                true
            ),
            (GroupKey::Group { group: "g".into() }, true),
        ]
    );
    let fetched = c
        .send(
            &OffsetFetchRequest::default()
                .with_group_id(GroupId(s("g")))
                .with_topics(None),
            5,
        )
        .await;
    assert_eq!(fetched.error_code, 0);
    assert!(fetched.topics.is_empty(), "no offsets left");
    broker.shutdown().await;

    // After a restart the partition loads again: offsets of another group committed before
    // the restart are still there.
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    coordinator_ready(&mut c, "h").await;
    let resp = c.send(&commit("h", "t", 11), 8).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 0);
    broker.shutdown().await;
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    coordinator_ready(&mut c, "h").await;
    let fetched = c
        .send(
            &OffsetFetchRequest::default()
                .with_group_id(GroupId(s("h")))
                .with_topics(None),
            5,
        )
        .await;
    assert_eq!(fetched.topics[0].partitions[0].committed_offset, 11);
    broker.shutdown().await;
}

/// The log cleaner compacts `__consumer_offsets` like any compacted topic: a group that
/// commits the same partition over and over leaves one record for it, and a coordinator
/// that loads the compacted partition serves the last commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cleaner_keeps_the_offsets_topic_small() {
    let dir = tempfile::tempdir().unwrap();
    let tweak = |c: &mut weir::Config| {
        c.offsets.segment_bytes = 2048;
        c.cleaner_backoff_ms = 20;
        c.retention_check_interval_ms = 20;
        c.log.min_cleanable_dirty_ratio = 0.01;
    };
    let broker = start_with(dir.path(), tweak).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 1).await;
    coordinator_ready(&mut c, "busy").await;
    const COMMITS: i64 = 500;
    for offset in 1..=COMMITS {
        let resp = c.send(&commit("busy", "t", offset), 8).await;
        assert_eq!(resp.topics[0].partitions[0].error_code, 0);
    }
    let p = partition_for("busy", 50);
    let tp = weir::log::TopicPartition::new(OFFSETS_TOPIC, p);
    let end = broker
        .broker
        .logs
        .get(&tp)
        .unwrap()
        .offsets()
        .unwrap()
        .log_end;
    assert_eq!(end, COMMITS, "one record per commit was appended");
    // Every cleaned segment keeps one record for the key; what is left is the active
    // segment's share.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left = read_partition(&mut c, p).await.len();
        if left < 40 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} records left of {COMMITS}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    broker.shutdown().await;
    let broker = start_with(dir.path(), tweak).await;
    let mut c = Client::connect(&broker).await;
    coordinator_ready(&mut c, "busy").await;
    let fetched = c
        .send(
            &OffsetFetchRequest::default()
                .with_group_id(GroupId(s("busy")))
                .with_topics(None),
            5,
        )
        .await;
    assert_eq!(fetched.topics[0].partitions[0].committed_offset, COMMITS);
    broker.shutdown().await;
}
