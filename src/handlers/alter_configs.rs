//! AlterConfigs (key 33), v0-v2: replaces a topic's config overrides with the given set,
//! live and persisted (rules in [`crate::config_changes`]). Each resource succeeds
//! or fails on its own.

use std::sync::Arc;

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};

use crate::broker::Broker;
use crate::config_changes::{self, Change};
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: AlterConfigsRequest,
) -> AlterConfigsResponse {
    let resources = req.resources.into_iter().map(|r| {
        (
            r.resource_type,
            r.resource_name,
            Change::Replace(
                r.configs
                    .into_iter()
                    .map(|c| (c.name.to_string(), c.value.map(|v| v.to_string())))
                    .collect(),
            ),
        )
    });
    let responses = config_changes::alter_each(broker, resources, req.validate_only)
        .await
        .into_iter()
        .map(|(kind, name, code, message)| {
            AlterConfigsResourceResponse::default()
                .with_resource_type(kind)
                .with_resource_name(name)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}
