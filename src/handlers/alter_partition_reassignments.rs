//! AlterPartitionReassignments (key 45), v0: what `kafka-reassign-partitions.sh --execute` and
//! `--cancel` and `Admin.alterPartitionReassignments` send. Each partition names its target
//! replicas, or none to cancel the move in progress; the controller decides (see
//! [`crate::cluster::reassign`]) and the answer comes once this broker has applied the
//! change. The move itself then proceeds in the background: the added replicas catch up as
//! followers, and the old ones leave once the new ones are in sync (ListPartitionReassignments
//! shows the moves in progress).

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::controller::{ControllerRequest, Outcome};
use crate::cluster::reassign;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: AlterPartitionReassignmentsRequest,
) -> AlterPartitionReassignmentsResponse {
    // Kafka's authorization: Alter on the cluster.
    if !broker.authz(header).cluster(Operation::Alter) {
        return AlterPartitionReassignmentsResponse::default()
            .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(StrBytes::from_static_str(
                "Cluster authorization failed.",
            )));
    }
    let partitions: reassign::Targets = req
        .topics
        .iter()
        .map(|t| {
            let parts = t
                .partitions
                .iter()
                .map(|p| {
                    let target = p.replicas.as_ref().map(|r| r.iter().map(|b| b.0).collect());
                    (p.partition_index, target)
                })
                .collect();
            (t.name.to_string(), parts)
        })
        .collect();
    let submit = broker
        .cluster
        .submit(ControllerRequest::AlterReassignments { partitions });
    let limit = match req.timeout_ms {
        t if t > 0 => Duration::from_millis(t as u64),
        _ => Duration::MAX,
    };
    let (code, message) = match tokio::time::timeout(limit, submit).await {
        Ok(Ok(Outcome::Reassignments(answers))) => {
            return AlterPartitionReassignmentsResponse::default().with_responses(
                answers
                    .into_iter()
                    .map(|(name, parts)| {
                        ReassignableTopicResponse::default()
                            .with_name(TopicName(StrBytes::from_string(name)))
                            .with_partitions(
                                parts
                                    .into_iter()
                                    .map(|(index, (code, message))| {
                                        ReassignablePartitionResponse::default()
                                            .with_partition_index(index)
                                            .with_error_code(code)
                                            .with_error_message(message.map(StrBytes::from_string))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
        }
        Ok(Ok(_)) => (
            ec::UNKNOWN_SERVER_ERROR,
            "unexpected controller answer".to_string(),
        ),
        Ok(Err(e)) => (e.code, e.message),
        Err(_) => (
            ec::REQUEST_TIMED_OUT,
            "The reassignment was not decided within the request's timeout.".to_string(),
        ),
    };
    AlterPartitionReassignmentsResponse::default()
        .with_error_code(code)
        .with_error_message(Some(StrBytes::from_string(message)))
}
