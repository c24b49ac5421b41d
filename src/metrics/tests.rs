#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::handlers::APIS;
use crate::protocol::error_code as ec;

#[test]
fn every_served_api_has_its_kafka_name() {
    for spec in APIS {
        let name = api_name(spec.key);
        assert_ne!(name, "Other", "{:?}", spec.key);
        assert_eq!(name, format!("{:?}", spec.key));
    }
}

#[test]
fn error_names_are_kafkas() {
    let table = [
        (ec::NOT_LEADER_OR_FOLLOWER, "NOT_LEADER_OR_FOLLOWER"),
        (ec::UNKNOWN_TOPIC_OR_PARTITION, "UNKNOWN_TOPIC_OR_PARTITION"),
        (ec::UNKNOWN_TOPIC_ID, "UNKNOWN_TOPIC_ID"),
        (ec::INVALID_REQUEST, "INVALID_REQUEST"),
        (ec::CORRUPT_MESSAGE, "CORRUPT_MESSAGE"),
        (9999, "UNKNOWN_SERVER_ERROR"),
    ];
    for (code, name) in table {
        assert_eq!(error_name(code), name, "{code}");
    }
}

#[test]
fn lag_is_high_watermark_minus_committed_never_negative() {
    for (hw, committed, lag) in [(10, 4, 6), (10, 10, 0), (10, 12, 0), (0, 0, 0), (5, -1, 6)] {
        assert_eq!(
            scrape::lag_of(hw, committed),
            lag,
            "hw {hw} committed {committed}"
        );
    }
}

#[test]
fn counted_metrics_are_encoded_with_their_labels() {
    let m = Arc::new(Metrics::new(10));
    m.request(ApiKey::Produce, 13, Duration::from_micros(300));
    m.request(ApiKey::Produce, 13, Duration::from_millis(3));
    m.request(ApiKey::Fetch, 18, Duration::from_millis(1));
    m.broken_request(None);
    let produced = ProduceResponse::default().with_responses(vec![
        kafka_protocol::messages::produce_response::TopicProduceResponse::default()
            .with_partition_responses(vec![
                kafka_protocol::messages::produce_response::PartitionProduceResponse::default()
                    .with_error_code(ec::NOT_LEADER_OR_FOLLOWER),
                kafka_protocol::messages::produce_response::PartitionProduceResponse::default(),
            ]),
    ]);
    m.response_errors(ApiKey::Produce, &produced);
    m.received(100);
    m.sent(40);
    m.produced("orders", 3, 250);
    let open = m.connection();
    let mut registry = Registry::default();
    m.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
    for line in [
        "weir_requests_total{api=\"Produce\",version=\"13\"} 2",
        "weir_requests_total{api=\"Fetch\",version=\"18\"} 1",
        "weir_request_duration_seconds_count{api=\"Produce\",version=\"13\"} 2",
        "weir_request_duration_seconds_bucket{api=\"Produce\",version=\"13\",le=\"0.0005\"} 1",
        "weir_request_errors_total{api=\"Produce\",error=\"NOT_LEADER_OR_FOLLOWER\"} 1",
        "weir_request_errors_total{api=\"Unknown\",error=\"BROKEN_FRAME\"} 1",
        "weir_network_received_bytes_total 100",
        "weir_network_sent_bytes_total 40",
        "weir_connections 1",
        "weir_topic_messages_in_total{topic=\"orders\"} 3",
        "weir_topic_bytes_in_total{topic=\"orders\"} 250",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    drop(open);
    assert_eq!(m.connections.get(), 0);
    assert_eq!(m.connections_opened.get(), 1);
}
