//! ListPartitionReassignments (key 46), v0: what `kafka-reassign-partitions.sh --verify` and
//! `Admin.listPartitionReassignments` send. Answers the moves in progress from this broker's
//! metadata image: per partition its replicas (the target first, then the leaving ones), the
//! replicas being added and those being removed. A null topic list means every topic; unknown
//! topics and partitions, and partitions not being moved, are left out, as Kafka answers.

use std::sync::Arc;

use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{
    BrokerId, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::reassign;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ListPartitionReassignmentsRequest,
) -> ListPartitionReassignmentsResponse {
    // Kafka's authorization: Describe on the cluster.
    if !broker.authz(header).cluster(Operation::Describe) {
        return ListPartitionReassignmentsResponse::default()
            .with_error_code(crate::protocol::error_code::CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(StrBytes::from_static_str(
                "Cluster authorization failed.",
            )));
    }
    let wanted: Option<Vec<(String, Vec<i32>)>> = req.topics.as_ref().map(|ts| {
        ts.iter()
            .map(|t| (t.name.to_string(), t.partition_indexes.clone()))
            .collect()
    });
    let image = broker.cluster.image();
    let ids = |v: Vec<i32>| v.into_iter().map(BrokerId).collect::<Vec<_>>();
    let topics = reassign::list(&image, wanted.as_deref())
        .into_iter()
        .map(|(name, moves)| {
            OngoingTopicReassignment::default()
                .with_name(TopicName(StrBytes::from_string(name)))
                .with_partitions(
                    moves
                        .into_iter()
                        .map(|m| {
                            OngoingPartitionReassignment::default()
                                .with_partition_index(m.partition)
                                .with_replicas(ids(m.replicas))
                                .with_adding_replicas(ids(m.adding))
                                .with_removing_replicas(ids(m.removing))
                        })
                        .collect(),
                )
        })
        .collect();
    ListPartitionReassignmentsResponse::default().with_topics(topics)
}
