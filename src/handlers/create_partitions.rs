//! CreatePartitions (key 37), v0-v3: grows a topic's partition count (never shrinks it),
//! placing the new partitions' replicas, or as the request's `assignments` say (validated:
//! INVALID_REPLICA_ASSIGNMENT). A topic listed twice gets INVALID_REQUEST for both entries
//! and is not changed.

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let authz = broker.authz(header);
    let duplicates = topics::duplicates(req.topics.iter().map(|t| t.name.to_string()));
    let mut results = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let result = async {
            let result = CreatePartitionsTopicResult::default().with_name(t.name.clone());
            if duplicates.contains(t.name.as_str()) {
                return result
                    .with_error_code(ec::INVALID_REQUEST)
                    .with_error_message(Some(StrBytes::from_static_str(
                        "Duplicate topic in request.",
                    )));
            }
            // Kafka's authorization: Alter on the topic.
            if !authz.topic(Operation::Alter, &t.name) {
                return result
                    .with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
                    .with_error_message(Some(StrBytes::from_static_str("Authorization failed.")));
            }
            let assignments = t.assignments.as_ref().filter(|a| !a.is_empty()).map(|a| {
                a.iter()
                    .map(|p| p.broker_ids.iter().map(|b| b.0).collect())
                    .collect()
            });
            match topics::add_partitions(broker, &t.name, t.count, assignments, req.validate_only)
                .await
            {
                Ok(()) => result,
                Err(e) => result
                    .with_error_code(e.code)
                    .with_error_message(Some(StrBytes::from_string(e.message))),
            }
        }
        .await;
        results.push(result);
    }
    CreatePartitionsResponse::default().with_results(results)
}
