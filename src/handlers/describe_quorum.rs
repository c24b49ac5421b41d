//! DescribeQuorum (key 55), v0-v2: the metadata quorum, as `kafka-metadata-quorum describe
//! --status` asks for it: partition 0 of `__cluster_metadata` with the raft leader, its term
//! (Kafka's leader epoch), the high watermark (last applied index) and every voter and
//! observer (learner) with its log end offset, as the active controller sees them (a
//! follower asks it, as Kafka's brokers forward this request; if it cannot, it reports its
//! own view, with -1 for progress it does not know). v2 adds the controller endpoints.

use std::sync::Arc;

use kafka_protocol::messages::describe_quorum_response::{
    Listener, Node, PartitionData, ReplicaState, TopicData,
};
use kafka_protocol::messages::{
    BrokerId, DescribeQuorumRequest, DescribeQuorumResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

/// Kafka's name for the metadata log.
pub const METADATA_TOPIC: &str = "__cluster_metadata";

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeQuorumRequest,
) -> DescribeQuorumResponse {
    let version = header.api_version;
    // Kafka's authorization: Describe on the cluster.
    if !broker.authz(header).cluster(Operation::Describe) {
        return DescribeQuorumResponse::default().with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED);
    }
    let quorum = broker.cluster.describe_quorum().await;
    let replica = |(id, end): &(i32, i64)| {
        ReplicaState::default()
            .with_replica_id(BrokerId(*id))
            .with_log_end_offset(*end)
            .with_last_fetch_timestamp(-1)
            .with_last_caught_up_timestamp(-1)
    };
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let ours = t.topic_name.as_str() == METADATA_TOPIC;
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let base = PartitionData::default().with_partition_index(p.partition_index);
                    if !ours || p.partition_index != 0 {
                        return base.with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION);
                    }
                    base.with_leader_id(BrokerId(quorum.leader))
                        .with_leader_epoch(i32::try_from(quorum.term).unwrap_or(i32::MAX))
                        .with_high_watermark(quorum.high_watermark)
                        .with_current_voters(quorum.voters.iter().map(replica).collect())
                        .with_observers(quorum.learners.iter().map(replica).collect())
                })
                .collect();
            TopicData::default()
                .with_topic_name(TopicName(t.topic_name.0))
                .with_partitions(partitions)
        })
        .collect();
    let nodes = if version >= 2 {
        broker
            .cluster
            .image()
            .brokers
            .values()
            .filter(|b| quorum.voters.iter().any(|(id, _)| *id == b.id))
            .filter_map(|b| {
                let (host, port) = b.controller_addr.rsplit_once(':')?;
                Some(Node::default().with_node_id(BrokerId(b.id)).with_listeners(
                    vec![Listener::default()
                            .with_name(StrBytes::from_static_str("CONTROLLER"))
                            .with_host(StrBytes::from_string(host.to_string()))
                            .with_port(port.parse().ok()?)],
                ))
            })
            .collect()
    } else {
        Vec::new()
    };
    DescribeQuorumResponse::default()
        .with_topics(topics)
        .with_nodes(nodes)
}
