//! SyncGroup (key 14), v0-v5: the leader hands in every member's assignment; each member
//! gets its own. Protocol type and name are checked and returned from v5.

use std::sync::Arc;

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::group::{MemberRef, SyncResult};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: SyncGroupRequest,
) -> SyncGroupResponse {
    let version = header.api_version;
    // Kafka's authorization: Read on the group.
    if !broker.authz(header).group(Operation::Read, &req.group_id) {
        return SyncGroupResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let member = MemberRef {
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
    };
    let assignments = req
        .assignments
        .into_iter()
        .map(|a| (a.member_id.to_string(), a.assignment))
        .collect();
    let result = {
        tokio::select! {
        r = broker.groups.sync(
            broker,
            &req.group_id,
            member,
            req.generation_id,
            req.protocol_type.map(|s| s.to_string()),
            req.protocol_name.map(|s| s.to_string()),
            assignments,
        ) => r,
        _ = broker.shutdown.cancelled() => SyncResult::error(ec::COORDINATOR_NOT_AVAILABLE),
        }
    };
    let resp = SyncGroupResponse::default()
        .with_error_code(result.error_code)
        .with_assignment(result.assignment);
    if version >= 5 && result.error_code == ec::NONE {
        resp.with_protocol_type(result.protocol_type.map(StrBytes::from_string))
            .with_protocol_name(result.protocol_name.map(StrBytes::from_string))
    } else {
        resp
    }
}
