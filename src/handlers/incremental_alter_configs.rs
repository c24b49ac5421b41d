//! IncrementalAlterConfigs (key 44), v0-v1: SET, DELETE, APPEND and SUBTRACT on topic
//! configs, live and persisted (rules in [`crate::config_changes`]). Each resource succeeds
//! or fails on its own. AlterConfigs is needed on the topic (TOPIC_AUTHORIZATION_FAILED),
//! the group, or the cluster for broker resources (CLUSTER_AUTHORIZATION_FAILED), as Kafka checks.

use std::sync::Arc;

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};

use crate::broker::Broker;
use crate::config_changes::{self, Change};
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let resources: Vec<_> = req
        .resources
        .into_iter()
        .map(|r| {
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
        })
        .collect();
    let answers = config_changes::alter_each(
        broker,
        &broker.authz(header),
        resources.into_iter(),
        req.validate_only,
    )
    .await;
    let responses = answers
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
