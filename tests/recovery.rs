#![allow(clippy::unwrap_used)]
//! Restarts: data survives a clean restart, and a torn tail (garbage appended to the active
//! .log, a truncated .index) is repaired with every earlier batch intact.

mod common;

use std::io::Write;

use common::{batch, records, start, start_with, Client};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

async fn create(c: &mut Client, topic: &str) {
    let req = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(name(topic))
        .with_num_partitions(1)
        .with_replication_factor(1)]);
    assert_eq!(c.send(&req, 7).await.topics[0].error_code, 0);
}

async fn produce(c: &mut Client, topic: &str, value: &[u8]) -> i64 {
    let req = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(1000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(batch(&[value], Compression::None)))])]);
    let resp = c.send(&req, 9).await;
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, 0);
    p.base_offset
}

/// Fetches everything from offset 0 (in several fetches if needed).
async fn fetch_all(c: &mut Client, topic: &str) -> Vec<(i64, bytes::Bytes)> {
    let mut out = Vec::new();
    loop {
        let next = out.last().map(|(o, _)| o + 1).unwrap_or(0);
        let req = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_bytes(1 << 20)
            .with_topics(vec![FetchTopic::default()
                .with_topic(name(topic))
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(0)
                    .with_fetch_offset(next)
                    .with_partition_max_bytes(1 << 20)])]);
        let resp = c.send(&req, 12).await;
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        let got = records(p.records.clone().unwrap_or_default());
        if got.is_empty() {
            return out;
        }
        out.extend(got.into_iter().filter(|(o, _)| *o >= next));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_restart_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let small_segments = |c: &mut weir::Config| c.log.segment_bytes = 4096;
    let broker = start_with(dir.path(), small_segments).await;
    let mut c = Client::connect(&broker).await;
    create(&mut c, "keep").await;
    for i in 0..200 {
        assert_eq!(
            produce(
                &mut c,
                "keep",
                format!("value-{i:04}-{}", "x".repeat(50)).as_bytes()
            )
            .await,
            i
        );
    }
    let before = fetch_all(&mut c, "keep").await;
    assert_eq!(before.len(), 200);
    broker.shutdown().await;
    let segments = std::fs::read_dir(dir.path().join("keep-0"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".log")
        })
        .count();
    assert!(segments > 2, "small segments rolled: {segments}");

    let broker = start_with(dir.path(), small_segments).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(fetch_all(&mut c, "keep").await, before);
    assert_eq!(produce(&mut c, "keep", b"after").await, 200);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_tail_and_truncated_index_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| c.log.index_interval_bytes = 100).await;
    let mut c = Client::connect(&broker).await;
    create(&mut c, "torn").await;
    for i in 0..50 {
        produce(&mut c, "torn", format!("v{i}").as_bytes()).await;
    }
    let before = fetch_all(&mut c, "torn").await;
    broker.shutdown().await;

    let part = dir.path().join("torn-0");
    let log = part.join("00000000000000000000.log");
    let clean_len = std::fs::metadata(&log).unwrap().len();
    // A torn write: half a batch header and garbage after the last whole batch.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&[0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 200, 1, 2, 3, 4, 5, 6, 7])
        .unwrap();
    drop(f);
    // A truncated index.
    let index = part.join("00000000000000000000.index");
    let len = std::fs::metadata(&index).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&index)
        .unwrap()
        .set_len(len / 2 + 3)
        .unwrap();

    let broker = start(dir.path()).await;
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        clean_len,
        "torn tail truncated"
    );
    let mut c = Client::connect(&broker).await;
    assert_eq!(
        fetch_all(&mut c, "torn").await,
        before,
        "every earlier batch intact"
    );
    // New writes continue right after the last good batch.
    assert_eq!(produce(&mut c, "torn", b"next").await, 50);
    // Reads from the middle use the rebuilt index.
    let mid = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(name("torn"))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(37)
                .with_partition_max_bytes(1 << 20)])]);
    let got = records(
        c.send(&mid, 12).await.responses[0].partitions[0]
            .records
            .clone()
            .unwrap(),
    );
    assert_eq!(got[0].0, 37);
    assert_eq!(&got[0].1[..], b"v37");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_batch_in_the_middle_of_the_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create(&mut c, "crc").await;
    for i in 0..10 {
        produce(&mut c, "crc", format!("v{i}").as_bytes()).await;
    }
    let before = fetch_all(&mut c, "crc").await;
    broker.shutdown().await;
    // Flip a byte inside the last batch's records: its CRC no longer matches.
    let log = dir.path().join("crc-0/00000000000000000000.log");
    let mut bytes = std::fs::read(&log).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 0xff;
    std::fs::write(&log, &bytes).unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(fetch_all(&mut c, "crc").await, before[..9].to_vec());
    broker.shutdown().await;
}
