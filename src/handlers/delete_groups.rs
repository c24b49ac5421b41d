//! DeleteGroups (key 42), v0-v2: deletes groups without members, with their committed
//! offsets (NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND if unknown), by
//! writing their tombstones to `__consumer_offsets`; answered once they are committed.

use std::sync::Arc;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DeleteGroupsRequest,
) -> DeleteGroupsResponse {
    let authz = broker.authz(header);
    let mut results = Vec::with_capacity(req.groups_names.len());
    for id in req.groups_names {
        // Kafka's authorization: Delete on each group.
        let deleted = if authz.group(Operation::Delete, &id) {
            broker.groups.delete_group(broker, &id).await
        } else {
            Err(ec::GROUP_AUTHORIZATION_FAILED)
        };
        let code = match deleted {
            Ok(()) => ec::NONE,
            Err(code) => code,
        };
        results.push(
            DeletableGroupResult::default()
                .with_group_id(id)
                .with_error_code(code),
        );
    }
    DeleteGroupsResponse::default().with_results(results)
}
