#![allow(clippy::unwrap_used)]
//! Connection bounds: a slow-loris frame and an idle connection are closed, a flood beyond
//! `max.connections.per.ip` is refused at once, request memory is shared with
//! back-pressure, and a healthy client keeps producing and fetching throughout.

mod common;

use std::time::Duration;

use common::{create_topic, fetch_all, produce_value, start_with, Client};
use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
use tokio::time::{sleep, timeout, Instant};

async fn healthy(c: &mut Client) {
    let resp = c
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(resp.brokers.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_others_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        c.request_read_timeout_ms = 300;
        c.connections_max_idle_ms = 600;
    })
    .await;
    let mut good = Client::connect(&broker).await;
    create_topic(&mut good, "steady", 1).await;

    // Slow loris: a 100-byte frame, one byte every 50 ms.
    let mut loris = Client::connect(&broker).await;
    loris.write_raw(&100i32.to_be_bytes()).await;
    let started = Instant::now();
    let mut sent = 0;
    let mut produced = 0;
    loop {
        use tokio::io::AsyncWriteExt;
        if loris.stream.write_all(&[0]).await.is_err() {
            break;
        }
        sent += 1;
        // The healthy client works while the slow one dribbles.
        assert_eq!(produce_value(&mut good, "steady", b"v").await, produced);
        produced += 1;
        sleep(Duration::from_millis(50)).await;
        assert!(sent < 60, "a 100-byte frame at 20 B/s was never cut off");
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(loris.is_closed().await);

    // Idle: nothing sent for connections.max.idle.ms closes it; a busy one stays.
    let mut idle = Client::connect(&broker).await;
    healthy(&mut idle).await;
    for _ in 0..8 {
        sleep(Duration::from_millis(100)).await;
        healthy(&mut good).await;
    }
    assert!(idle.is_closed().await, "an idle connection is closed");
    assert_eq!(
        fetch_all(&mut good, "steady").await.len(),
        produced as usize
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_is_refused_per_ip() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| c.max_connections_per_ip = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = Client::connect(&broker).await;
        c.send(&ApiVersionsRequest::default(), 3).await;
        held.push(c);
    }
    for _ in 0..20 {
        let mut extra = Client::connect(&broker).await;
        assert!(extra.is_closed().await, "over the limit: closed at once");
    }
    // The held ones never noticed.
    for c in &mut held {
        healthy(c).await;
    }
    // A closed connection frees its slot (the broker notices the close asynchronously).
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = Client::connect(&broker).await;
        c.send_only(&ApiVersionsRequest::default(), 3).await;
        let answered = timeout(Duration::from_secs(2), c.read_frame()).await;
        if matches!(answered, Ok(Some(_))) {
            break;
        }
        assert!(Instant::now() < deadline, "a freed slot is reused");
        sleep(Duration::from_millis(20)).await;
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_memory_is_shared_with_back_pressure() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        c.queued_max_request_bytes = 1000;
        c.request_read_timeout_ms = 500;
    })
    .await;
    // One connection holds 900 of the 1000 bytes with a frame it never finishes.
    let mut hog = Client::connect(&broker).await;
    hog.write_raw(&900i32.to_be_bytes()).await;
    hog.write_raw(&[0; 10]).await;
    // The probe's round trip lets the broker take the hog's memory before `big` asks;
    // a request needing more than what is left then waits, and does not fail.
    let mut probe = Client::connect(&broker).await;
    healthy(&mut probe).await;
    let mut big = Client::connect(&broker).await;
    let asked = Instant::now();
    let topics: Vec<_> = (0..40)
        .map(|i| {
            kafka_protocol::messages::metadata_request::MetadataRequestTopic::default().with_name(
                Some(common::topic_name(&format!("topic-with-a-long-name-{i}"))),
            )
        })
        .collect();
    let req = MetadataRequest::default()
        .with_topics(Some(topics))
        .with_allow_auto_topic_creation(false);
    let resp = big.send(&req, 12).await;
    assert_eq!(resp.topics.len(), 40);
    assert!(
        asked.elapsed() >= Duration::from_millis(300),
        "the larger request waited for the hog's memory ({:?})",
        asked.elapsed()
    );
    assert!(hog.is_closed().await, "the hog timed out");
    broker.shutdown().await;
}
