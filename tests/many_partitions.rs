#![allow(clippy::unwrap_used)]
//! A topic of many partitions: its creation (thousands of files opened, a leader epoch
//! checkpoint written for each) outlasts the broker session, and the broker must not fence
//! itself meanwhile: its heartbeats do not wait for the logs to be opened.

mod common;

use common::{create_topic, start_with, topic_name, Client};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::MetadataRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_many_partitions_does_not_fence_the_broker() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        // A session shorter than opening 600 partitions takes in a debug build (seconds).
        c.cluster.session_timeout_ms = 1000;
        c.cluster.heartbeat_interval_ms = 100;
    })
    .await;
    let mut c = Client::connect(&broker).await;
    let started = std::time::Instant::now();
    create_topic(&mut c, "wide", 600).await;
    let took = started.elapsed();
    let req = MetadataRequest::default()
        .with_allow_auto_topic_creation(false)
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic_name("wide")))
        ]));
    let resp = c.send(&req, 12).await;
    let parts = &resp.topics[0].partitions;
    assert_eq!(parts.len(), 600);
    // A fenced broker would have lost and regained every leadership: new epochs.
    let moved: Vec<i32> = parts
        .iter()
        .filter(|p| p.leader_epoch != 0 || p.leader_id.0 != 1)
        .map(|p| p.partition_index)
        .collect();
    assert!(
        moved.is_empty(),
        "partitions moved after {took:?}: {moved:?}"
    );
    broker.shutdown().await;
}
