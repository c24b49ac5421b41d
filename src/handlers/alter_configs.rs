//! AlterConfigs (key 33), v0-v2: replaces a topic's config overrides with the given set,
//! live and persisted (rules in [`crate::config_changes`]). Each resource succeeds
//! or fails on its own.

use std::sync::Arc;

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::config_changes::{self, Change};
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: AlterConfigsRequest,
) -> AlterConfigsResponse {
    let validate_only = req.validate_only;
    let responses = tokio::task::block_in_place(|| {
        req.resources
            .into_iter()
            .map(|r| {
                let ops = r
                    .configs
                    .into_iter()
                    .map(|c| (c.name.to_string(), c.value.map(|v| v.to_string())))
                    .collect();
                let result = config_changes::alter(
                    broker,
                    r.resource_type,
                    r.resource_name.as_str(),
                    Change::Replace(ops),
                    validate_only,
                );
                let response = AlterConfigsResourceResponse::default()
                    .with_resource_type(r.resource_type)
                    .with_resource_name(r.resource_name);
                match result {
                    Ok(()) => response,
                    Err(e) => response
                        .with_error_code(e.code)
                        .with_error_message(Some(StrBytes::from_string(e.message))),
                }
            })
            .collect()
    });
    AlterConfigsResponse::default().with_responses(responses)
}
