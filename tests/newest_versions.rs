#![allow(clippy::unwrap_used)]
//! The newest versions, which weir serves through the newer kafka-protocol release
//! (src/protocol/newest.rs), written and read here by that release as Kafka 4.1's clients
//! write and read them: Produce v12-v13 (topic ids), Fetch v18, Metadata v13, ListOffsets
//! v10. Each gets a whole, decodable answer and the connection stays open.

mod common;

use bytes::Bytes;
use common::{batch, create_topic, records, start, Client};
use kafka_protocol::records::Compression;
use kafka_protocol_next::messages::*;
use kafka_protocol_next::protocol::StrBytes;
use uuid::Uuid;

fn name(s: &'static str) -> TopicName {
    TopicName(StrBytes::from_static_str(s))
}

fn produce_to(topic: produce_request::TopicProduceData, acks: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(1000)
        .with_topic_data(vec![topic])
}

fn partitions(records: &Bytes, indexes: &[i32]) -> Vec<produce_request::PartitionProduceData> {
    indexes
        .iter()
        .map(|&i| {
            produce_request::PartitionProduceData::default()
                .with_index(i)
                .with_records(Some(records.clone()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_versions_answer() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t0", 2).await;

    // Metadata v13: v12's answer plus a top-level error code, 0.
    let req = MetadataRequest::default()
        .with_topics(Some(vec![
            metadata_request::MetadataRequestTopic::default().with_name(Some(name("t0"))),
            metadata_request::MetadataRequestTopic::default().with_name(Some(name("absent"))),
        ]))
        .with_allow_auto_topic_creation(false);
    let meta = c.send_next(&req, 13).await;
    assert_eq!(meta.error_code, 0);
    assert_eq!(meta.brokers[0].port, i32::from(broker.local_addr.port()));
    assert_eq!(meta.topics[0].partitions.len(), 2);
    assert_eq!(meta.topics[1].error_code, 3);
    let id = meta.topics[0].topic_id;
    assert_ne!(id, Uuid::nil());

    // Produce v12 by name, v13 by id; an unknown id gets UNKNOWN_TOPIC_ID per partition.
    let one = batch(&[b"twelve"], Compression::None);
    let resp = c
        .send_next(
            &produce_to(
                produce_request::TopicProduceData::default()
                    .with_name(name("t0"))
                    .with_partition_data(partitions(&one, &[0, 9])),
                -1,
            ),
            12,
        )
        .await;
    let parts = &resp.responses[0].partition_responses;
    assert_eq!((parts[0].error_code, parts[0].base_offset), (0, 0));
    assert_eq!(parts[1].error_code, 3);

    let two = batch(&[b"thirteen-a", b"thirteen-b"], Compression::Lz4);
    let mut req = produce_to(
        produce_request::TopicProduceData::default()
            .with_topic_id(id)
            .with_partition_data(partitions(&two, &[0, 9])),
        -1,
    );
    let unknown = Uuid::from_u128(0xdead);
    req.topic_data.push(
        produce_request::TopicProduceData::default()
            .with_topic_id(unknown)
            .with_partition_data(partitions(&two, &[1])),
    );
    let resp = c.send_next(&req, 13).await;
    assert_eq!(resp.responses.len(), 2);
    let known = resp.responses.iter().find(|t| t.topic_id == id).unwrap();
    let p = &known.partition_responses;
    assert_eq!((p[0].index, p[0].error_code, p[0].base_offset), (0, 0, 1));
    assert_eq!((p[1].index, p[1].error_code), (9, 3));
    let lost = resp
        .responses
        .iter()
        .find(|t| t.topic_id == unknown)
        .unwrap();
    assert_eq!(lost.partition_responses[0].index, 1);
    assert_eq!(lost.partition_responses[0].error_code, 100);

    // acks=0 at v13: no answer; the next request's answer comes next.
    c.send_next_only(
        &produce_to(
            produce_request::TopicProduceData::default()
                .with_topic_id(id)
                .with_partition_data(partitions(&one, &[1])),
            0,
        ),
        13,
    )
    .await;

    // Fetch v18 (with the tagged high watermark a follower sends) reads all three records.
    let fetch = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![fetch_request::FetchTopic::default()
            .with_topic_id(id)
            .with_partitions(
                [0, 1]
                    .map(|p| {
                        fetch_request::FetchPartition::default()
                            .with_partition(p)
                            .with_fetch_offset(0)
                            .with_partition_max_bytes(1 << 20)
                            .with_high_watermark(-1)
                    })
                    .to_vec(),
            )]);
    let resp = c.send_next(&fetch, 18).await;
    let got = &resp.responses[0].partitions;
    assert_eq!((got[0].error_code, got[0].high_watermark), (0, 3));
    let values: Vec<Bytes> = records(got[0].records.clone().unwrap())
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        values,
        ["twelve", "thirteen-a", "thirteen-b"].map(Bytes::from)
    );
    // The acks=0 write landed too (same connection, so already appended).
    assert_eq!(got[1].high_watermark, 1);

    // ListOffsets v10 (with its timeout).
    let list = |timestamp: i64| {
        ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_timeout_ms(30_000)
            .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
                .with_name(name("t0"))
                .with_partitions(vec![
                    list_offsets_request::ListOffsetsPartition::default()
                        .with_partition_index(0)
                        .with_timestamp(timestamp),
                    list_offsets_request::ListOffsetsPartition::default()
                        .with_partition_index(7)
                        .with_timestamp(timestamp),
                ])])
    };
    let latest = c.send_next(&list(-1), 10).await;
    let earliest = c.send_next(&list(-2), 10).await;
    let (l, e) = (&latest.topics[0].partitions, &earliest.topics[0].partitions);
    assert_eq!((l[0].error_code, l[0].offset), (0, 3));
    assert_eq!((e[0].error_code, e[0].offset), (0, 0));
    assert_eq!((l[1].error_code, e[1].error_code), (3, 3));
    broker.shutdown().await;
}
