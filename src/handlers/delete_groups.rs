//! DeleteGroups (key 42), v0-v2: deletes groups without members, with their committed
//! offsets (NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND if unknown).

use std::sync::Arc;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: DeleteGroupsRequest,
) -> DeleteGroupsResponse {
    let results = req
        .groups_names
        .into_iter()
        .map(|id| {
            let code = match broker
                .cluster
                .coordinator_error(&id)
                .map_or_else(|| broker.groups.delete(&id), Err)
            {
                Err(code) => code,
                Ok(()) => match tokio::task::block_in_place(|| broker.metadata.remove_group(&id)) {
                    Ok(()) => ec::NONE,
                    Err(e) => {
                        tracing::error!(group = %id.as_str(), error = %e, "deleting group offsets");
                        ec::UNKNOWN_SERVER_ERROR
                    }
                },
            };
            DeletableGroupResult::default()
                .with_group_id(id)
                .with_error_code(code)
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}
