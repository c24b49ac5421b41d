//! CreatePartitions (key 37), v0-v3: grows a topic's partition count (never shrinks it).

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::request::RequestHeader;
use crate::topics;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let results = tokio::task::block_in_place(|| {
        req.topics
            .into_iter()
            .map(|t| {
                let result = CreatePartitionsTopicResult::default().with_name(t.name.clone());
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
