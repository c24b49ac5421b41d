//! IncrementalAlterConfigs (key 44), v0-v1: SET, DELETE, APPEND and SUBTRACT on topic
//! configs, live and persisted (rules in [`crate::config_changes`]). Each resource succeeds
//! or fails on its own.

use std::sync::Arc;

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};

use crate::broker::Broker;
use crate::config_changes::{self, Change};
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let resources = req.resources.into_iter().map(|r| {
        (
            r.resource_type,
            r.resource_name,
            Change::Incremental(
                r.configs
                    .into_iter()
                    .map(|c| {
                        let value = c.value.map(|v| v.to_string());
                        (c.name.to_string(), c.config_operation, value)
                    })
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
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}
