//! Prometheus metrics (`/metrics` on the HTTP listener, see [`crate::http`]).
//!
//! Two kinds, encoded together on each scrape in Prometheus's text format 0.0.4:
//!
//! - **Counted as it happens** ([`Metrics`]): requests, their latency and errors by API and
//!   version, bytes and connections, messages and bytes produced per topic. Each is an atomic
//!   update on the request path (a family lookup under a read lock, no allocation once a
//!   label set exists); labels are bounded (API × version, error names, topics).
//! - **Read at scrape time** ([`scrape`]): offsets, high watermarks and sizes per partition,
//!   committed offsets and lag per group and partition, group states, the cluster's view
//!   (controller, fenced brokers, under-replicated and offline partitions) and the process
//!   (RSS, open files, uptime). Nothing is kept between scrapes, so a deleted topic or group
//!   leaves no series behind; the per-partition series stop at
//!   `http.metrics.max.partitions` (the rest are counted in
//!   `weir_metrics_partitions_omitted`).
//!
//! Names follow Prometheus's conventions: `weir_` prefix, base units (`_seconds`, `_bytes`),
//! `_total` on counters. docs/operations.md lists them all.

pub mod scrape;

use std::any::Any;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{
    ApiKey, HeartbeatResponse, JoinGroupResponse, ListOffsetsResponse, OffsetCommitResponse,
    ProduceResponse, SyncGroupResponse,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::handlers::fetch::Fetched;

/// Request latency buckets, seconds: 100 µs to 30 s.
const LATENCY_BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub api: &'static str,
    pub version: i16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub api: &'static str,
    /// Kafka's error name (`NOT_LEADER_OR_FOLLOWER`), or `BROKEN_FRAME` for a request that
    /// closed its connection.
    pub error: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabels {
    pub topic: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The metrics counted as things happen. Cheap to update from any task.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RequestLabels, Histogram, fn() -> Histogram>,
    errors: Family<ErrorLabels, Counter>,
    received_bytes: Counter,
    sent_bytes: Counter,
    throttled: Counter,
    throttle_ms: Counter,
    connections: Gauge,
    connections_opened: Counter,
    messages_in: Family<TopicLabels, Counter>,
    bytes_in: Family<TopicLabels, Counter>,
    /// Per-partition series kept at most (`http.metrics.max.partitions`).
    pub max_partitions: usize,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(10_000)
    }
}

impl Metrics {
    pub fn new(max_partitions: usize) -> Self {
        Metrics {
            started: Instant::now(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            errors: Family::default(),
            received_bytes: Counter::default(),
            sent_bytes: Counter::default(),
            throttled: Counter::default(),
            throttle_ms: Counter::default(),
            connections: Gauge::default(),
            connections_opened: Counter::default(),
            messages_in: Family::default(),
            bytes_in: Family::default(),
            max_partitions,
        }
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// One request answered (or refused) after `took`.
    pub fn request(&self, key: ApiKey, version: i16, took: Duration) {
        let labels = RequestLabels {
            api: api_name(key),
            version,
        };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// A request whose frame or body could not be read: its connection was closed.
    pub fn broken_request(&self, key: Option<ApiKey>) {
        self.errors
            .get_or_create(&ErrorLabels {
                api: key.map_or("Unknown", api_name),
                error: "BROKEN_FRAME",
            })
            .inc();
    }

    /// The error codes in a response (per partition for the data APIs), counted by name.
    pub fn response_errors(&self, key: ApiKey, response: &dyn Any) {
        let api = api_name(key);
        let count = |code: i16| {
            if code != 0 {
                self.errors
                    .get_or_create(&ErrorLabels {
                        api,
                        error: error_name(code),
                    })
                    .inc();
            }
        };
        if let Some(r) = response.downcast_ref::<ProduceResponse>() {
            r.responses
                .iter()
                .flat_map(|t| &t.partition_responses)
                .for_each(|p| count(p.error_code));
        } else if let Some(r) = response.downcast_ref::<Fetched>() {
            count(r.response.error_code);
            r.response
                .responses
                .iter()
                .flat_map(|t| &t.partitions)
                .for_each(|p| count(p.error_code));
        } else if let Some(r) = response.downcast_ref::<ListOffsetsResponse>() {
            r.topics
                .iter()
                .flat_map(|t| &t.partitions)
                .for_each(|p| count(p.error_code));
        } else if let Some(r) = response.downcast_ref::<OffsetCommitResponse>() {
            r.topics
                .iter()
                .flat_map(|t| &t.partitions)
                .for_each(|p| count(p.error_code));
        } else if let Some(r) = response.downcast_ref::<JoinGroupResponse>() {
            count(r.error_code);
        } else if let Some(r) = response.downcast_ref::<SyncGroupResponse>() {
            count(r.error_code);
        } else if let Some(r) = response.downcast_ref::<HeartbeatResponse>() {
            count(r.error_code);
        }
    }

    pub fn received(&self, bytes: usize) {
        self.received_bytes.inc_by(bytes as u64);
    }

    pub fn sent(&self, bytes: usize) {
        self.sent_bytes.inc_by(bytes as u64);
    }

    /// A connection muted for `ms` by a client quota.
    pub fn throttled(&self, ms: i64) {
        self.throttled.inc();
        self.throttle_ms.inc_by(ms.max(0) as u64);
    }

    /// A connection accepted; the guard counts it closed when dropped.
    pub fn connection(self: &std::sync::Arc<Self>) -> ConnectionGuard {
        self.connections.inc();
        self.connections_opened.inc();
        ConnectionGuard(self.clone())
    }

    /// A batch of `messages` records, `bytes` long, appended to `topic` by a producer.
    pub fn produced(&self, topic: &str, messages: u64, bytes: u64) {
        let labels = TopicLabels {
            topic: topic.to_owned(),
        };
        self.messages_in.get_or_create(&labels).inc_by(messages);
        self.bytes_in.get_or_create(&labels).inc_by(bytes);
    }

    /// Registers the counted metrics (the families are shared, not copied).
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "weir_requests",
            "Requests answered, by API and version",
            self.requests.clone(),
        );
        registry.register(
            "weir_request_duration_seconds",
            "Time from a request's arrival to its response being ready, by API and version",
            self.request_seconds.clone(),
        );
        registry.register(
            "weir_request_errors",
            "Error codes answered (per partition for Produce, Fetch, ListOffsets and OffsetCommit), and requests that closed their connection (BROKEN_FRAME)",
            self.errors.clone(),
        );
        registry.register(
            "weir_quota_throttled",
            "Responses after which a client quota muted the connection",
            self.throttled.clone(),
        );
        registry.register(
            "weir_quota_throttle_milliseconds",
            "Time connections were muted by client quotas",
            self.throttle_ms.clone(),
        );
        registry.register(
            "weir_network_received_bytes",
            "Request bytes read from clients, frame sizes included",
            self.received_bytes.clone(),
        );
        registry.register(
            "weir_network_sent_bytes",
            "Response bytes written to clients, frame sizes included",
            self.sent_bytes.clone(),
        );
        registry.register(
            "weir_connections",
            "Client connections open now",
            self.connections.clone(),
        );
        registry.register(
            "weir_connections_opened",
            "Client connections accepted",
            self.connections_opened.clone(),
        );
        registry.register(
            "weir_topic_messages_in",
            "Records appended by producers, per topic",
            self.messages_in.clone(),
        );
        registry.register(
            "weir_topic_bytes_in",
            "Record batch bytes appended by producers, per topic",
            self.bytes_in.clone(),
        );
    }
}

/// Counts one open connection until dropped.
#[derive(Debug)]
pub struct ConnectionGuard(std::sync::Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections.dec();
    }
}

/// The whole `/metrics` page for `broker`.
pub fn render(broker: &crate::Broker) -> String {
    let mut registry = Registry::default();
    broker.metrics.register(&mut registry);
    scrape::register(broker, &mut registry);
    let mut out = String::with_capacity(64 * 1024);
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

/// Kafka's name of an API (`Produce`, `FindCoordinator`), as its request metrics use.
pub fn api_name(key: ApiKey) -> &'static str {
    use ApiKey::*;
    match key {
        Produce => "Produce",
        Fetch => "Fetch",
        ListOffsets => "ListOffsets",
        Metadata => "Metadata",
        OffsetCommit => "OffsetCommit",
        OffsetFetch => "OffsetFetch",
        FindCoordinator => "FindCoordinator",
        JoinGroup => "JoinGroup",
        Heartbeat => "Heartbeat",
        LeaveGroup => "LeaveGroup",
        SyncGroup => "SyncGroup",
        DescribeGroups => "DescribeGroups",
        ListGroups => "ListGroups",
        ApiVersions => "ApiVersions",
        CreateTopics => "CreateTopics",
        DeleteTopics => "DeleteTopics",
        DeleteRecords => "DeleteRecords",
        InitProducerId => "InitProducerId",
        OffsetForLeaderEpoch => "OffsetForLeaderEpoch",
        DescribeConfigs => "DescribeConfigs",
        AlterConfigs => "AlterConfigs",
        CreatePartitions => "CreatePartitions",
        DeleteGroups => "DeleteGroups",
        ElectLeaders => "ElectLeaders",
        IncrementalAlterConfigs => "IncrementalAlterConfigs",
        AlterPartitionReassignments => "AlterPartitionReassignments",
        ListPartitionReassignments => "ListPartitionReassignments",
        OffsetDelete => "OffsetDelete",
        DescribeLogDirs => "DescribeLogDirs",
        SaslHandshake => "SaslHandshake",
        SaslAuthenticate => "SaslAuthenticate",
        DescribeQuorum => "DescribeQuorum",
        DescribeCluster => "DescribeCluster",
        DescribeTopicPartitions => "DescribeTopicPartitions",
        AddPartitionsToTxn => "AddPartitionsToTxn",
        AddOffsetsToTxn => "AddOffsetsToTxn",
        EndTxn => "EndTxn",
        WriteTxnMarkers => "WriteTxnMarkers",
        TxnOffsetCommit => "TxnOffsetCommit",
        DescribeProducers => "DescribeProducers",
        DescribeTransactions => "DescribeTransactions",
        ListTransactions => "ListTransactions",
        DescribeAcls => "DescribeAcls",
        CreateAcls => "CreateAcls",
        DeleteAcls => "DeleteAcls",
        DescribeUserScramCredentials => "DescribeUserScramCredentials",
        AlterUserScramCredentials => "AlterUserScramCredentials",
        DescribeClientQuotas => "DescribeClientQuotas",
        CreateDelegationToken => "CreateDelegationToken",
        RenewDelegationToken => "RenewDelegationToken",
        ExpireDelegationToken => "ExpireDelegationToken",
        DescribeDelegationToken => "DescribeDelegationToken",
        AlterClientQuotas => "AlterClientQuotas",
        _ => "Other",
    }
}

/// Kafka's name of an error code (`NOT_LEADER_OR_FOLLOWER`); `UNKNOWN_SERVER_ERROR` for one
/// this table does not know.
pub fn error_name(code: i16) -> &'static str {
    match code {
        1 => "OFFSET_OUT_OF_RANGE",
        2 => "CORRUPT_MESSAGE",
        3 => "UNKNOWN_TOPIC_OR_PARTITION",
        5 => "LEADER_NOT_AVAILABLE",
        6 => "NOT_LEADER_OR_FOLLOWER",
        7 => "REQUEST_TIMED_OUT",
        10 => "MESSAGE_TOO_LARGE",
        12 => "OFFSET_METADATA_TOO_LARGE",
        14 => "COORDINATOR_LOAD_IN_PROGRESS",
        15 => "COORDINATOR_NOT_AVAILABLE",
        16 => "NOT_COORDINATOR",
        17 => "INVALID_TOPIC_EXCEPTION",
        18 => "RECORD_LIST_TOO_LARGE",
        19 => "NOT_ENOUGH_REPLICAS",
        20 => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        21 => "INVALID_REQUIRED_ACKS",
        22 => "ILLEGAL_GENERATION",
        23 => "INCONSISTENT_GROUP_PROTOCOL",
        24 => "INVALID_GROUP_ID",
        25 => "UNKNOWN_MEMBER_ID",
        26 => "INVALID_SESSION_TIMEOUT",
        27 => "REBALANCE_IN_PROGRESS",
        28 => "INVALID_COMMIT_OFFSET_SIZE",
        32 => "INVALID_TIMESTAMP",
        35 => "UNSUPPORTED_VERSION",
        42 => "INVALID_REQUEST",
        43 => "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        45 => "OUT_OF_ORDER_SEQUENCE_NUMBER",
        46 => "DUPLICATE_SEQUENCE_NUMBER",
        47 => "INVALID_PRODUCER_EPOCH",
        56 => "KAFKA_STORAGE_ERROR",
        74 => "FENCED_LEADER_EPOCH",
        75 => "UNKNOWN_LEADER_EPOCH",
        76 => "UNSUPPORTED_COMPRESSION_TYPE",
        79 => "MEMBER_ID_REQUIRED",
        82 => "FENCED_INSTANCE_ID",
        87 => "INVALID_RECORD",
        100 => "UNKNOWN_TOPIC_ID",
        _ => "UNKNOWN_SERVER_ERROR",
    }
}

#[cfg(test)]
mod tests;
