#![allow(clippy::unwrap_used)]
//! Restarts: data survives a clean restart, and a torn tail (garbage appended to the active
//! .log, a truncated .index) is repaired with every earlier batch intact.

mod common;

use std::io::Write;

use common::{
    create_topic, fetch_all, fetch_request, produce_value, records, start, start_with, Client,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_restart_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let small_segments = |c: &mut weir::Config| c.log.segment_bytes = 4096;
    let broker = start_with(dir.path(), small_segments).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "keep", 1).await;
    for i in 0..200 {
        assert_eq!(
            produce_value(
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
    assert_eq!(produce_value(&mut c, "keep", b"after").await, 200);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_tail_and_truncated_index_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| c.log.index_interval_bytes = 100).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "torn", 1).await;
    for i in 0..50 {
        produce_value(&mut c, "torn", format!("v{i}").as_bytes()).await;
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
    assert_eq!(produce_value(&mut c, "torn", b"next").await, 50);
    // Reads from the middle use the rebuilt index.
    let mid = fetch_request("torn", 0, 37, 0);
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
    create_topic(&mut c, "crc", 1).await;
    for i in 0..10 {
        produce_value(&mut c, "crc", format!("v{i}").as_bytes()).await;
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
