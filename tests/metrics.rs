#![allow(clippy::unwrap_used)]
//! `/metrics` on the HTTP listener: request counts by API and version, per-partition offsets
//! and sizes, and a group's committed offsets and lag as Kafka's tools compute it (high
//! watermark minus committed offset).

mod common;

use common::{batch, coordinator_ready, create_topic, produce, start_with, topic_name, Client};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{GroupId, OffsetCommitRequest};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

/// The value of the sample with exactly this name and labels.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_requests_offsets_and_lag() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        c.http_listener = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let http = broker.http_addr.expect("the http listener is bound");
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 2).await;
    for _ in 0..4 {
        let b = batch(&[b"a", b"b", b"c"], Compression::None);
        assert_eq!(produce(&mut c, "t", 0, b, 9).await.0, 0);
    }
    let b = batch(&[b"x"], Compression::None);
    assert_eq!(produce(&mut c, "t", 1, b, 9).await.0, 0);
    coordinator_ready(&mut c, "lagging").await;
    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("lagging")))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name("t"))
            .with_partitions(vec![
                OffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(5),
                OffsetCommitRequestPartition::default()
                    .with_partition_index(1)
                    .with_committed_offset(1),
            ])]);
    let resp = c.send(&commit, 8).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 0);

    let (status, _, page) = common::http(http, "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    let want = [
        ("weir_requests_total{api=\"Produce\",version=\"9\"}", 5.0),
        (
            "weir_requests_total{api=\"OffsetCommit\",version=\"8\"}",
            1.0,
        ),
        (
            "weir_partition_high_watermark{topic=\"t\",partition=\"0\"}",
            12.0,
        ),
        (
            "weir_partition_log_end_offset{topic=\"t\",partition=\"1\"}",
            1.0,
        ),
        (
            "weir_partition_log_start_offset{topic=\"t\",partition=\"0\"}",
            0.0,
        ),
        (
            "weir_group_committed_offset{group=\"lagging\",topic=\"t\",partition=\"0\"}",
            5.0,
        ),
        (
            "weir_group_lag{group=\"lagging\",topic=\"t\",partition=\"0\"}",
            7.0,
        ),
        (
            "weir_group_lag{group=\"lagging\",topic=\"t\",partition=\"1\"}",
            0.0,
        ),
        ("weir_group_members{group=\"lagging\"}", 0.0),
        ("weir_group_state{group=\"lagging\",state=\"Empty\"}", 1.0),
        ("weir_topic_messages_in_total{topic=\"t\"}", 13.0),
        ("weir_cluster_controller_id", 1.0),
        ("weir_cluster_offline_partitions", 0.0),
        ("weir_under_replicated_partitions", 0.0),
        ("weir_metrics_partitions_omitted", 0.0),
    ];
    for (series, value) in want {
        assert_eq!(sample(&page, series), Some(value), "{series} in\n{page}");
    }
    let size = sample(
        &page,
        "weir_partition_size_bytes{topic=\"t\",partition=\"0\"}",
    )
    .unwrap();
    assert!(size > 12.0 * 7.0, "size {size}");
    assert!(sample(&page, "weir_process_resident_memory_bytes").unwrap() > 1e6);
    assert!(sample(&page, "weir_connections").unwrap() >= 1.0);
    let (status, _, _) = common::http(http, "GET", "/nothing", None).await;
    assert_eq!(status, 404);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_partition_series_stop_at_the_configured_bound() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        c.http_listener = Some("127.0.0.1:0".parse().unwrap());
        c.http_metrics_max_partitions = 3;
    })
    .await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "wide", 8).await;
    let (_, _, page) = common::http(broker.http_addr.unwrap(), "GET", "/metrics", None).await;
    let listed = page
        .lines()
        .filter(|l| l.starts_with("weir_partition_high_watermark{"))
        .count();
    assert_eq!(listed, 3);
    assert_eq!(sample(&page, "weir_metrics_partitions_omitted"), Some(5.0));
    broker.shutdown().await;
}
