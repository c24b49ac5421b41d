#![allow(clippy::unwrap_used)]
//! Retention and DeleteRecords: old segments go by time and by size, the log start offset
//! advances (and survives a restart), and reads below it are OFFSET_OUT_OF_RANGE.

mod common;

use std::path::Path;

use common::{
    batch, create_topic_with, eventually, fetch_records_from, keyed_batch, list_offset, produce,
    start_with, topic_name, Client, TestRecord,
};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::{ApiKey, DeleteRecordsRequest};
use kafka_protocol::records::Compression;
use tokio::net::TcpStream;

const EARLIEST: i64 = -2;
const LATEST: i64 = -1;

fn fast_maintenance(c: &mut weir::Config) {
    c.retention_check_interval_ms = 20;
    c.cleaner_backoff_ms = 20;
}

/// (base offset, size) of every .log file in a partition directory, sorted.
///
/// The cleaner renames and unlinks segments while this runs, so a file listed by the
/// directory read may be gone before its size is read: such a file is left out, as a
/// listing made a moment later would leave it out.
fn log_files(dir: &Path) -> Vec<(i64, u64)> {
    let mut v: Vec<(i64, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().to_string();
            let base = weir::log::segment::parse_log_file_name(&name)?;
            match e.metadata() {
                Ok(m) => Some((base, m.len())),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(err) => panic!("{name}: {err}"),
            }
        })
        .collect();
    v.sort_unstable();
    v
}

fn now_ms() -> i64 {
    weir::log::now_ms()
}

async fn produce_at(c: &mut Client, topic: &str, ts: i64, value: &[u8]) -> i64 {
    let rec = TestRecord {
        key: None,
        value: Some(value),
        header: None,
    };
    let (err, offset) = produce(c, topic, 0, keyed_batch(&[rec], Compression::None, ts), 9).await;
    assert_eq!(err, 0);
    offset
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_segments_expire_by_time_and_the_start_offset_advances() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), fast_maintenance).await;
    let mut c = Client::connect(&broker).await;
    let configs = [("segment.bytes", "1024"), ("retention.ms", "60000")];
    assert_eq!(create_topic_with(&mut c, "aging", &configs).await.0, 0);
    let old = now_ms() - 10 * 60_000;
    let value = [b'o'; 200];
    for _ in 0..30 {
        produce_at(&mut c, "aging", old, &value).await;
    }
    // Fresh records: the segment holding them (and everything after) must stay.
    let first_fresh = produce_at(&mut c, "aging", now_ms(), &value).await;
    for _ in 0..5 {
        produce_at(&mut c, "aging", now_ms(), &value).await;
    }
    let part = dir.path().join("aging-0");
    // Sweeps run while the records are produced: wait for the one that has deleted every
    // expired segment (the first remaining one holds the first fresh record, so no later
    // sweep deletes anything more), finished unlinking and moved the log start.
    let addr = broker.local_addr;
    eventually("every expired segment deleted", || {
        let part = part.clone();
        async move {
            let files = log_files(&part);
            let base = files[0].0;
            let holds_first_fresh =
                base <= first_fresh && files.get(1).is_none_or(|f| f.0 > first_fresh);
            let unlinked = std::fs::read_dir(&part).unwrap().all(|e| {
                !e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".deleted")
            });
            let mut c = Client::from_stream(TcpStream::connect(addr).await.unwrap());
            let (_, start) = list_offset(&mut c, "aging", EARLIEST).await;
            base > 0 && holds_first_fresh && unlinked && start == base
        }
    })
    .await;
    let files = log_files(&part);
    let (_, start) = list_offset(&mut c, "aging", EARLIEST).await;
    assert_eq!(
        start, files[0].0,
        "the log starts at the first remaining segment"
    );
    assert!(
        start <= first_fresh,
        "fresh data kept: start {start} > {first_fresh}"
    );
    // Every expired segment (all old records) is gone except the one that also holds the
    // first fresh record.
    assert!(
        first_fresh - start < 6,
        "start {start}, first fresh {first_fresh}"
    );
    assert!(std::fs::read_dir(&part).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".deleted")));
    assert_eq!(
        fetch_records_from(&mut c, "aging", 0).await.unwrap_err(),
        1,
        "OFFSET_OUT_OF_RANGE below the log start"
    );
    let rest = fetch_records_from(&mut c, "aging", start).await.unwrap();
    assert_eq!(rest.len() as i64, 36 - start);
    assert_eq!(list_offset(&mut c, "aging", LATEST).await.1, 36);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_retention_keeps_the_newest_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), fast_maintenance).await;
    let addr = broker.local_addr;
    let mut c = Client::connect(&broker).await;
    // batch() stamps records in 2023: only the size limit may apply here.
    let configs = [
        ("segment.bytes", "2048"),
        ("retention.bytes", "6000"),
        ("retention.ms", "-1"),
    ];
    assert_eq!(create_topic_with(&mut c, "sized", &configs).await.0, 0);
    let value = [b's'; 300];
    for _ in 0..100 {
        let (err, _) = produce(&mut c, "sized", 0, batch(&[&value], Compression::None), 9).await;
        assert_eq!(err, 0);
    }
    let part = dir.path().join("sized-0");
    let total = |p: &Path| log_files(p).iter().map(|f| f.1).sum::<u64>();
    // Trimmed, and settled: dropping the oldest segment would go below the limit, so no
    // further deletion is due, and the start offset has reached the oldest file left.
    eventually("partition trimmed to retention.bytes", || {
        let part = part.clone();
        async move {
            let files = log_files(&part);
            let total: u64 = files.iter().map(|f| f.1).sum();
            let mut c = Client::from_stream(TcpStream::connect(addr).await.unwrap());
            let (_, start) = list_offset(&mut c, "sized", EARLIEST).await;
            total - files[0].1 < 6000 && start == files[0].0
        }
    })
    .await;
    // Never below the limit by more than a segment: only whole segments go, oldest first.
    assert!(total(&part) >= 6000 - 2048, "{:?}", log_files(&part));
    assert!(total(&part) < 6000 + 2 * 2048, "{:?}", log_files(&part));
    let files = log_files(&part);
    let (_, start) = list_offset(&mut c, "sized", EARLIEST).await;
    assert_eq!(start, files[0].0);
    let rest = fetch_records_from(&mut c, "sized", start).await.unwrap();
    assert_eq!(rest.last().unwrap().0, 99, "the newest record is kept");
    assert_eq!(
        rest.len() as i64,
        100 - start,
        "no gap from the start offset on"
    );
    broker.shutdown().await;
}

fn delete_records(topic: &str, partition: i32, offset: i64) -> DeleteRecordsRequest {
    DeleteRecordsRequest::default()
        .with_timeout_ms(1000)
        .with_topics(vec![DeleteRecordsTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(vec![DeleteRecordsPartition::default()
                .with_partition_index(partition)
                .with_offset(offset)])])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_records_moves_the_start_offset_durably() {
    let dir = tempfile::tempdir().unwrap();
    let small = |c: &mut weir::Config| c.log.segment_bytes = 1024;
    let broker = start_with(dir.path(), small).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(create_topic_with(&mut c, "trim", &[]).await.0, 0);
    for i in 0..100 {
        let v = format!("value-{i:03}-{}", "p".repeat(40));
        let (err, _) = produce(
            &mut c,
            "trim",
            0,
            batch(&[v.as_bytes()], Compression::None),
            9,
        )
        .await;
        assert_eq!(err, 0);
    }
    let segments_before = log_files(&dir.path().join("trim-0")).len();
    for v in 0..=2 {
        let resp = c.send(&delete_records("trim", 0, 37 + v), v as i16).await;
        let p = &resp.topics[0].partitions[0];
        assert_eq!((p.error_code, p.low_watermark), (0, 37 + v), "v{v}");
    }
    assert!(log_files(&dir.path().join("trim-0")).len() < segments_before);
    assert_eq!(list_offset(&mut c, "trim", EARLIEST).await, (0, 39));
    assert_eq!(fetch_records_from(&mut c, "trim", 38).await.unwrap_err(), 1);
    let rest = fetch_records_from(&mut c, "trim", 39).await.unwrap();
    assert_eq!(rest[0].0, 39);
    assert_eq!(
        rest[0].2.as_deref().unwrap(),
        format!("value-039-{}", "p".repeat(40)).as_bytes()
    );
    // Below the start: no change. Above the high watermark, unknown partitions: errors.
    let resp = c.send(&delete_records("trim", 0, 5), 2).await;
    assert_eq!(resp.topics[0].partitions[0].low_watermark, 39);
    let resp = c.send(&delete_records("trim", 0, 101), 2).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 1);
    let resp = c.send(&delete_records("trim", 7, 1), 2).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 3);
    let resp = c.send(&delete_records("nope", 0, 1), 2).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 3);
    // As in Kafka, a topic whose policy lacks `delete` refuses it: POLICY_VIOLATION.
    let compacted = [("cleanup.policy", "compact")];
    assert_eq!(create_topic_with(&mut c, "kept", &compacted).await.0, 0);
    let resp = c.send(&delete_records("kept", 0, 0), 2).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 44);
    broker.shutdown().await;

    // The start offset survives a restart, though it lies inside a segment.
    let broker = start_with(dir.path(), small).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(list_offset(&mut c, "trim", EARLIEST).await, (0, 39));
    let resp = c.send(&delete_records("trim", 0, -1), 2).await;
    assert_eq!(resp.topics[0].partitions[0].low_watermark, 100);
    assert!(fetch_records_from(&mut c, "trim", 100)
        .await
        .unwrap()
        .is_empty());
    assert!(weir::handlers::spec(ApiKey::DeleteRecords).is_some());
    broker.shutdown().await;
}
