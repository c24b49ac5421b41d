//! CreatePartitions (key 37), v0-v3: grows a topic's partition count (never shrinks it). A
//! topic listed twice gets INVALID_REQUEST for both entries and is not changed.

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let duplicates = topics::duplicates(req.topics.iter().map(|t| t.name.to_string()));
    let results = tokio::task::block_in_place(|| {
        req.topics
            .into_iter()
            .map(|t| {
                let result = CreatePartitionsTopicResult::default().with_name(t.name.clone());
                if duplicates.contains(t.name.as_str()) {
                    return result
                        .with_error_code(ec::INVALID_REQUEST)
                        .with_error_message(Some(StrBytes::from_static_str(
                            "Duplicate topic in request.",
                        )));
                }
                match topics::add_partitions(broker, &t.name, t.count, req.validate_only) {
                    Ok(()) => result,
                    Err(e) => result
                        .with_error_code(e.code)
                        .with_error_message(Some(StrBytes::from_string(e.message))),
                }
            })
            .collect()
    });
    CreatePartitionsResponse::default().with_results(results)
}
