//! ElectLeaders (key 43), v0-v2: what `kafka-leader-election.sh` and `Admin.electLeaders` send.
//! The controller decides (see [`crate::cluster::election`]): a preferred election hands
//! leadership back to each partition's first replica when it is live and in the ISR; an unclean
//! one (v1+) gives a leaderless partition a leader even outside the ISR. The answer comes once
//! this broker has applied the change. A null partition list means every partition; then only
//! partitions that needed an election are listed, as Kafka answers. v0 has no top-level error,
//! so a failure there is reported on every partition asked for.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::controller::{ControllerRequest, Outcome};
use crate::cluster::election::ElectionType;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ElectLeadersRequest,
) -> ElectLeadersResponse {
    let partitions: Option<Vec<(String, Vec<i32>)>> = req.topic_partitions.as_ref().map(|ts| {
        ts.iter()
            .map(|t| (t.topic.to_string(), t.partitions.clone()))
            .collect()
    });
    // Kafka's authorization: Alter on the cluster.
    if !broker.authz(header).cluster(Operation::Alter) {
        return failed(
            header.api_version,
            partitions,
            ec::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.".into(),
        );
    }
    let Some(election) = ElectionType::from_wire(req.election_type) else {
        return failed(
            header.api_version,
            partitions,
            ec::INVALID_REQUEST,
            format!("Unknown election type {}", req.election_type),
        );
    };
    let submit = broker.cluster.submit(ControllerRequest::ElectLeaders {
        election,
        partitions: partitions.clone(),
    });
    // timeout_ms 0 (librdkafka's operation_timeout=0): no wait beyond the commit itself.
    let limit = match req.timeout_ms {
        t if t > 0 => Duration::from_millis(t as u64),
        _ => Duration::MAX,
    };
    match tokio::time::timeout(limit, submit).await {
        Ok(Ok(Outcome::Elections(results))) => ElectLeadersResponse::default()
            .with_replica_election_results(results.into_iter().map(topic_result).collect()),
        Ok(Ok(_)) => failed(
            header.api_version,
            partitions,
            ec::UNKNOWN_SERVER_ERROR,
            "unexpected controller answer".into(),
        ),
        Ok(Err(e)) => failed(header.api_version, partitions, e.code, e.message),
        Err(_) => failed(
            header.api_version,
            partitions,
            ec::REQUEST_TIMED_OUT,
            "The election did not complete within the request's timeout.".into(),
        ),
    }
}

fn topic_result(
    (topic, parts): (String, Vec<(i32, i16, Option<String>)>),
) -> ReplicaElectionResult {
    ReplicaElectionResult::default()
        .with_topic(TopicName(StrBytes::from_string(topic)))
        .with_partition_result(
            parts
                .into_iter()
                .map(|(id, code, message)| {
                    PartitionResult::default()
                        .with_partition_id(id)
                        .with_error_code(code)
                        .with_error_message(message.map(StrBytes::from_string))
                })
                .collect(),
        )
}

/// The whole request failed: the top-level error from v1; on v0, every partition asked for.
fn failed(
    version: i16,
    partitions: Option<Vec<(String, Vec<i32>)>>,
    code: i16,
    message: String,
) -> ElectLeadersResponse {
    if version >= 1 {
        return ElectLeadersResponse::default().with_error_code(code);
    }
    let results = partitions
        .unwrap_or_default()
        .into_iter()
        .map(|(t, ids)| {
            let parts = ids
                .into_iter()
                .map(|id| (id, code, Some(message.clone())))
                .collect();
            topic_result((t, parts))
        })
        .collect();
    ElectLeadersResponse::default().with_replica_election_results(results)
}
