//! DeleteTopics (key 20), v0-v6: by name (all versions) or by topic id (v6). A topic listed
//! twice gets INVALID_REQUEST for both entries and is not deleted.

use std::sync::Arc;

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    let version = header.api_version;
    // error_message exists from v5, topic_id from v6.
    let message = |m: &str| (version >= 5).then(|| StrBytes::from_string(m.to_string()));
    let targets: Vec<(Option<TopicName>, Uuid)> = if version >= 6 {
        req.topics
            .into_iter()
            .map(|t| (t.name, t.topic_id))
            .collect()
    } else {
        req.topic_names
            .into_iter()
            .map(|n| (Some(n), Uuid::nil()))
            .collect()
    };
    let duplicates = topics::duplicates(targets.iter().map(|(name, id)| match name {
        Some(n) => n.to_string(),
        None => id.to_string(),
    }));
    let authz = broker.authz(header);
    let mut responses = Vec::with_capacity(targets.len());
    for (name, id) in targets {
        let result = async {
            let key = name
                .as_ref()
                .map_or_else(|| id.to_string(), |n| n.to_string());
            if duplicates.contains(&key) {
                return DeletableTopicResult::default()
                    .with_name(name)
                    .with_topic_id(id)
                    .with_error_code(ec::INVALID_REQUEST)
                    .with_error_message(message("Duplicate topic name."));
            }
            let name = match name {
                Some(n) => Some(n),
                None => broker
                    .cluster
                    .topic_by_id(id)
                    .map(|t| TopicName(StrBytes::from_string(t.name.clone()))),
            };
            let result = DeletableTopicResult::default()
                .with_name(name.clone())
                .with_topic_id(id);
            let Some(name) = name else {
                return result
                    .with_error_code(ec::UNKNOWN_TOPIC_ID)
                    .with_error_message(message("This server does not host this topic ID."));
            };
            // Kafka's authorization: Delete on the topic.
            if !authz.topic(Operation::Delete, &name) {
                return result
                    .with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
                    .with_error_message(message("Authorization failed."));
            }
            match topics::delete(broker, &name).await {
                Ok(meta) if version >= 6 => result.with_topic_id(meta.id),
                Ok(_) => result,
                Err(e) => result
                    .with_error_code(e.code)
                    .with_error_message(message(&e.message)),
            }
        }
        .await;
        responses.push(result);
    }
    DeleteTopicsResponse::default().with_responses(responses)
}
