//! WriteTxnMarkers (key 27), v0-v1: a transaction coordinator (another broker) has this
//! partition leader append COMMIT or ABORT markers. Each partition is answered once the
//! marker is replicated (acks=all); a marker for `__consumer_offsets` also completes the
//! producer's transactional offsets there. Only brokers may send it: ClusterAction on the
//! cluster, else CLUSTER_AUTHORIZATION_FAILED for every partition.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{WriteTxnMarkersRequest, WriteTxnMarkersResponse};

use crate::broker::Broker;
use crate::log::TopicPartition;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::txn::markers::{write_local, Marker};

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: WriteTxnMarkersRequest,
) -> WriteTxnMarkersResponse {
    let allowed = broker.authz(header).cluster(Operation::ClusterAction);
    let timeout = Duration::from_millis(broker.groups.offsets.commit_timeout_ms);
    let mut markers = Vec::with_capacity(req.markers.len());
    for m in &req.markers {
        let marker = Marker {
            producer_id: m.producer_id.0,
            producer_epoch: m.producer_epoch,
            commit: m.transaction_result,
            coordinator_epoch: m.coordinator_epoch,
        };
        let partitions: Vec<(TopicPartition, Marker)> = m
            .topics
            .iter()
            .flat_map(|t| {
                t.partition_indexes
                    .iter()
                    .map(move |p| (TopicPartition::new(t.name.0.to_string(), *p), marker))
            })
            .collect();
        let codes = if allowed {
            write_local(broker, &partitions, timeout).await
        } else {
            vec![ec::CLUSTER_AUTHORIZATION_FAILED; partitions.len()]
        };
        let mut codes = codes.into_iter();
        let topics = m
            .topics
            .iter()
            .map(|t| {
                let partitions = t
                    .partition_indexes
                    .iter()
                    .map(|p| {
                        WritableTxnMarkerPartitionResult::default()
                            .with_partition_index(*p)
                            .with_error_code(codes.next().unwrap_or(ec::UNKNOWN_SERVER_ERROR))
                    })
                    .collect();
                WritableTxnMarkerTopicResult::default()
                    .with_name(t.name.clone())
                    .with_partitions(partitions)
            })
            .collect();
        markers.push(
            WritableTxnMarkerResult::default()
                .with_producer_id(m.producer_id)
                .with_topics(topics),
        );
    }
    WriteTxnMarkersResponse::default().with_markers(markers)
}
