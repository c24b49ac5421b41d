//! Heartbeat (key 12), v0-v4: keeps a member's session alive; REBALANCE_IN_PROGRESS tells
//! it to rejoin.

use std::sync::Arc;

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::broker::Broker;
use crate::group::MemberRef;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: HeartbeatRequest,
) -> HeartbeatResponse {
    // Kafka's authorization: Read on the group.
    if !broker.authz(header).group(Operation::Read, &req.group_id) {
        return HeartbeatResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let member = MemberRef {
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
    };
    HeartbeatResponse::default().with_error_code(broker.groups.heartbeat(
        &req.group_id,
        &member,
        req.generation_id,
    ))
}
