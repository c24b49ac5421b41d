#![allow(clippy::unwrap_used)]
//! Every API at every advertised version gets a decodable answer on a live connection, and
//! the connection stays open. This catches fields set in a version that does not carry them.

mod common;

use common::{batch, start, topic_name, Client};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_topic_partitions_request::TopicRequest;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use weir::handlers::spec;

/// The advertised versions this codec (kafka-protocol 0.15) writes; the newest ones, served
/// through the newer release, are in `tests/newest_versions.rs`.
fn versions(key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let s = spec(key).expect("served");
    let known = match key {
        ApiKey::Produce => 11,
        ApiKey::Fetch => 17,
        ApiKey::ListOffsets => 9,
        ApiKey::Metadata => 12,
        _ => s.max,
    };
    s.min..=s.max.min(known)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_advertised_version_answers() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;

    for v in versions(ApiKey::CreateTopics) {
        let topic = format!("t{v}");
        let req = CreateTopicsRequest::default()
            .with_topics(vec![
                CreatableTopic::default()
                    .with_name(topic_name(&topic))
                    .with_num_partitions(2)
                    .with_replication_factor(1),
                CreatableTopic::default()
                    .with_name(topic_name("bad/name"))
                    .with_num_partitions(1)
                    .with_replication_factor(1),
                CreatableTopic::default()
                    .with_name(topic_name(&format!("rf{v}")))
                    .with_num_partitions(1)
                    .with_replication_factor(3),
            ])
            .with_timeout_ms(1000);
        let resp = c.send(&req, v).await;
        assert_eq!(resp.topics[0].error_code, 0, "v{v}");
        assert_eq!(resp.topics[1].error_code, 17, "v{v}");
        assert_eq!(resp.topics[2].error_code, 38, "v{v}");
        let again = c.send(&req, v).await;
        assert_eq!(again.topics[0].error_code, 36, "v{v}: TOPIC_ALREADY_EXISTS");
    }
    for v in versions(ApiKey::Metadata) {
        let topics = if v == 0 { Some(vec![]) } else { None };
        let resp = c
            .send(&MetadataRequest::default().with_topics(topics), v)
            .await;
        assert!(resp.topics.len() >= 8, "v{v}: all topics");
        let one = MetadataRequest::default().with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic_name("t0"))),
            MetadataRequestTopic::default().with_name(Some(topic_name("bad name"))),
        ]));
        let resp = c.send(&one, v).await;
        assert_eq!(resp.topics[0].partitions.len(), 2, "v{v}");
        assert_eq!(resp.topics[1].error_code, 17, "v{v}");
        assert_eq!(resp.brokers[0].port, i32::from(broker.local_addr.port()));
    }
    for v in versions(ApiKey::Produce) {
        // v0-v2 carry old message sets: magic 0 up to v1, magic 1 in v2.
        let records = if v < 3 {
            let mut set = Vec::new();
            let magic = if v < 2 { 0 } else { 1 };
            weir::log::message_set::encode_message(&mut set, 0, magic, 0, 5, None, Some(b"v"));
            bytes::Bytes::from(set)
        } else {
            batch(&[b"v"], Compression::None)
        };
        let req = ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(1000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic_name("t0"))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(records.clone())),
                    PartitionProduceData::default()
                        .with_index(9)
                        .with_records(Some(records)),
                ])]);
        let resp = c.send(&req, v).await;
        let parts = &resp.responses[0].partition_responses;
        assert_eq!(parts[0].error_code, 0, "v{v}");
        assert_eq!(parts[1].error_code, 3, "v{v}");
    }
    let topic_id = c
        .send(
            &MetadataRequest::default().with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(topic_name("t0")))
            ])),
            12,
        )
        .await
        .topics[0]
        .topic_id;
    for v in versions(ApiKey::Fetch) {
        let req = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(0)
            .with_max_bytes(1 << 20)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic_name("t0"))
                .with_topic_id(topic_id)
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_fetch_offset(0)
                        .with_partition_max_bytes(1 << 20),
                    FetchPartition::default()
                        .with_partition(1)
                        .with_fetch_offset(1000)
                        .with_partition_max_bytes(1 << 20),
                ])]);
        let resp = c.send(&req, v).await;
        let parts = &resp.responses[0].partitions;
        assert_eq!(parts[0].error_code, 0, "v{v}");
        assert!(parts[0].high_watermark >= 9, "v{v}");
        assert!(!parts[0].records.as_ref().unwrap().is_empty(), "v{v}");
        assert_eq!(parts[1].partition_index, 1, "v{v}");
        assert_eq!(parts[1].error_code, 1, "v{v}: OFFSET_OUT_OF_RANGE");
    }
    for v in versions(ApiKey::ListOffsets) {
        let req = |timestamp: i64| {
            ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_topics(vec![ListOffsetsTopic::default()
                    .with_name(topic_name("t0"))
                    .with_partitions(vec![
                        ListOffsetsPartition::default()
                            .with_partition_index(0)
                            .with_timestamp(timestamp)
                            .with_max_num_offsets(1),
                        ListOffsetsPartition::default()
                            .with_partition_index(7)
                            .with_timestamp(-1)
                            .with_max_num_offsets(1),
                    ])])
        };
        let latest = c.send(&req(-1), v).await;
        let earliest = c.send(&req(-2), v).await;
        let (l, e) = (&latest.topics[0].partitions, &earliest.topics[0].partitions);
        if v == 0 {
            assert!(l[0].old_style_offsets[0] >= 9, "v0 latest");
            assert_eq!(e[0].old_style_offsets, vec![0], "v0 earliest");
        } else {
            assert!(l[0].offset >= 9, "v{v} latest");
            assert_eq!(e[0].offset, 0, "v{v} earliest");
        }
        assert_eq!((l[1].error_code, e[1].error_code), (3, 3), "v{v}");
    }
    for v in versions(ApiKey::InitProducerId) {
        let resp = c
            .send(
                &InitProducerIdRequest::default().with_transaction_timeout_ms(1000),
                v,
            )
            .await;
        assert_eq!(resp.error_code, 0, "v{v}");
        assert!(resp.producer_id.0 >= 0);
    }
    for v in versions(ApiKey::OffsetForLeaderEpoch) {
        let req = OffsetForLeaderEpochRequest::default().with_topics(vec![
            OffsetForLeaderTopic::default()
                .with_topic(topic_name("t0"))
                .with_partitions(vec![OffsetForLeaderPartition::default()
                    .with_partition(0)
                    .with_leader_epoch(0)]),
        ]);
        let resp = c.send(&req, v).await;
        assert!(resp.topics[0].partitions[0].end_offset >= 9, "v{v}");
    }
    for v in versions(ApiKey::DescribeConfigs) {
        let req = DescribeConfigsRequest::default()
            .with_include_synonyms(v >= 1)
            .with_resources(vec![
                DescribeConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(StrBytes::from_static_str("t0")),
                DescribeConfigsResource::default()
                    .with_resource_type(4)
                    .with_resource_name(StrBytes::from_static_str("1")),
                DescribeConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(StrBytes::from_static_str("missing")),
            ]);
        let resp = c.send(&req, v).await;
        assert!(
            resp.results[0]
                .configs
                .iter()
                .any(|c| c.name.as_str() == "retention.ms"),
            "v{v}"
        );
        assert!(
            resp.results[1]
                .configs
                .iter()
                .any(|c| c.name.as_str() == "log.segment.bytes"),
            "v{v}"
        );
        // Static broker settings are read-only; the replication throttle rates and the
        // broker-level topic defaults are dynamic.
        assert!(
            resp.results[1]
                .configs
                .iter()
                .all(|c| c.read_only != weir::config_changes::is_dynamic(c.name.as_str())),
            "v{v}: static broker settings read-only, the dynamic ones not"
        );
        for (name, read_only) in [
            ("log.dirs", true),
            ("num.partitions", true),
            ("log.segment.bytes", false),
            ("leader.replication.throttled.rate", false),
        ] {
            let c = resp.results[1]
                .configs
                .iter()
                .find(|c| c.name.as_str() == name)
                .unwrap_or_else(|| panic!("v{v}: {name} listed"));
            assert_eq!(c.read_only, read_only, "v{v}: {name}");
        }
        assert_eq!(
            resp.results[1]
                .configs
                .iter()
                .filter(|c| c.name.as_str().ends_with(".replication.throttled.rate"))
                .count(),
            2,
            "v{v}: both throttle rates described"
        );
        assert!(
            resp.results[0].configs.iter().all(|c| !c.read_only),
            "v{v}: topic settings can change"
        );
        assert_eq!(resp.results[2].error_code, 3, "v{v}");
    }
    for v in versions(ApiKey::CreatePartitions) {
        let req = CreatePartitionsRequest::default()
            .with_timeout_ms(1000)
            .with_topics(vec![
                CreatePartitionsTopic::default()
                    .with_name(topic_name(&format!("t{}", v + 4)))
                    .with_count(3),
                CreatePartitionsTopic::default()
                    .with_name(topic_name("t0"))
                    .with_count(1),
            ]);
        let resp = c.send(&req, v).await;
        assert_eq!(resp.results[0].error_code, 0, "v{v}");
        assert_eq!(resp.results[1].error_code, 37, "v{v}: INVALID_PARTITIONS");
    }
    for v in versions(ApiKey::DescribeCluster) {
        let resp = c.send(&DescribeClusterRequest::default(), v).await;
        assert_eq!(resp.brokers.len(), 1, "v{v}");
        assert_eq!(resp.cluster_id.len(), 22);
    }
    for v in versions(ApiKey::DescribeQuorum) {
        use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
        let req = DescribeQuorumRequest::default().with_topics(vec![TopicData::default()
            .with_topic_name(topic_name("__cluster_metadata"))
            .with_partitions(vec![
                PartitionData::default().with_partition_index(0),
                PartitionData::default().with_partition_index(1),
            ])]);
        let resp = c.send(&req, v).await;
        let p = &resp.topics[0].partitions;
        assert_eq!((p[0].error_code, p[0].leader_id.0), (0, 1), "v{v}");
        assert!(p[0].leader_epoch >= 1 && p[0].high_watermark > 0, "v{v}");
        let voters: Vec<_> = p[0].current_voters.iter().map(|r| r.replica_id.0).collect();
        assert_eq!(voters, [1], "v{v}");
        assert!(p[0].current_voters[0].log_end_offset > 0, "v{v}");
        assert_eq!(p[1].error_code, 3, "v{v}: no such partition");
    }
    for v in versions(ApiKey::DescribeTopicPartitions) {
        let req = DescribeTopicPartitionsRequest::default()
            .with_response_partition_limit(2000)
            .with_topics(vec![
                TopicRequest::default().with_name(topic_name("t4")),
                TopicRequest::default().with_name(topic_name("nope")),
            ]);
        let resp = c.send(&req, v).await;
        // Topics come back sorted by name, as Kafka sorts them.
        assert_eq!(
            resp.topics[0].name.as_deref().map(|n| n.as_str()),
            Some("nope")
        );
        assert_eq!(resp.topics[0].error_code, 3);
        assert_eq!(resp.topics[1].partitions.len(), 3, "v{v}");
    }
    for v in versions(ApiKey::DescribeLogDirs) {
        use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
        // t0 has 2 partitions and 9+ records in partition 0 (written above).
        let one = DescribeLogDirsRequest::default().with_topics(Some(vec![
            DescribableLogDirTopic::default()
                .with_topic(topic_name("t0"))
                .with_partitions(vec![0, 1, 7]),
            DescribableLogDirTopic::default()
                .with_topic(topic_name("nope"))
                .with_partitions(vec![0]),
        ]));
        let resp = c.send(&one, v).await;
        assert_eq!(resp.results.len(), 1, "v{v}: one log dir");
        let dir = &resp.results[0];
        assert_eq!(dir.error_code, 0);
        assert!(
            dir.log_dir.starts_with('/'),
            "an absolute path: {}",
            dir.log_dir.as_str()
        );
        assert_eq!(dir.topics.len(), 1, "v{v}: only t0 has replicas here");
        let parts = &dir.topics[0].partitions;
        assert_eq!(
            parts.iter().map(|p| p.partition_index).collect::<Vec<_>>(),
            [0, 1],
            "v{v}"
        );
        assert!(parts[0].partition_size > 0, "v{v}");
        assert_eq!(parts[1].partition_size, 0, "v{v}");
        assert_eq!(parts[0].offset_lag, 0);
        if v >= 4 {
            assert!(dir.total_bytes > 0 && dir.usable_bytes > 0, "v{v}");
            assert!(dir.usable_bytes <= dir.total_bytes);
        }
        let all = c
            .send(&DescribeLogDirsRequest::default().with_topics(None), v)
            .await;
        assert!(all.results[0].topics.len() >= 8, "v{v}: every topic");
    }
    for v in versions(ApiKey::DeleteTopics) {
        let topic = format!("t{v}");
        let req = if v >= 6 {
            DeleteTopicsRequest::default().with_topics(vec![
                DeleteTopicState::default().with_name(Some(topic_name(&topic)))
            ])
        } else {
            DeleteTopicsRequest::default().with_topic_names(vec![topic_name(&topic)])
        };
        let resp = c.send(&req, v).await;
        assert_eq!(resp.responses[0].error_code, 0, "v{v}");
        let resp = c.send(&req, v).await;
        assert_eq!(resp.responses[0].error_code, 3, "v{v}: already gone");
    }
    broker.shutdown().await;
}
