#![allow(clippy::unwrap_used)]
//! Connection bounds: a slow-loris frame and an idle connection are closed, a flood beyond
//! `max.connections.per.ip` is refused at once, request memory (wire bytes and what decoding
//! takes) is shared with back-pressure, and a healthy client keeps producing and fetching
//! throughout.

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
        c.queued_max_request_bytes = 10_000;
        c.request_read_timeout_ms = 500;
    })
    .await;
    // One connection holds 9,500 of the 10,000 bytes with a frame it never finishes.
    let mut hog = Client::connect(&broker).await;
    hog.write_raw(&9_500i32.to_be_bytes()).await;
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

/// A request whose decoded form would exceed `queued.max.request.bytes` is refused before it
/// is decoded (its connection closed), though its wire bytes fit: 3,000 empty topic names
/// are 6 KB on the wire and over 200 KB decoded. Other connections do not notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_decodes_beyond_the_memory_budget_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| c.queued_max_request_bytes = 10_000).await;
    let mut other = Client::connect(&broker).await;
    healthy(&mut other).await;
    let mut amplifier = Client::connect(&broker).await;
    // Metadata v0: api key 3, version 0, correlation id 7, client id "x", then the topics.
    let mut body = vec![0, 3, 0, 0, 0, 0, 0, 7, 0, 1, b'x'];
    body.extend_from_slice(&3_000i32.to_be_bytes());
    body.extend(std::iter::repeat_n(0u8, 2 * 3_000));
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    amplifier.write_raw(&frame).await;
    assert!(
        amplifier.is_closed().await,
        "refused: the connection is closed"
    );
    healthy(&mut other).await;
    // A Metadata request of 30 topics fits, and is answered.
    let topics: Vec<_> = (0..30)
        .map(|i| {
            kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
                .with_name(Some(common::topic_name(&format!("t{i}"))))
        })
        .collect();
    let req = MetadataRequest::default()
        .with_topics(Some(topics))
        .with_allow_auto_topic_creation(false);
    assert_eq!(other.send(&req, 4).await.topics.len(), 30);
    broker.shutdown().await;
}
