//! LeaveGroup (key 13), v0-v5: one member (v0-v2) or a batch identified by member id or,
//! for static members, instance id (v3+), each with its own error code.

use std::sync::Arc;

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use crate::broker::Broker;
use crate::group::MemberRef;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: LeaveGroupRequest,
) -> LeaveGroupResponse {
    let version = header.api_version;
    // Kafka's authorization: Read on the group.
    if !broker.authz(header).group(Operation::Read, &req.group_id) {
        return LeaveGroupResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let members: Vec<MemberRef> = if version >= 3 {
        req.members
            .iter()
            .map(|m| MemberRef {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|s| s.to_string()),
            })
            .collect()
    } else {
        vec![MemberRef {
            member_id: req.member_id.to_string(),
            group_instance_id: None,
        }]
    };
    match broker.groups.leave(&req.group_id, &members) {
        Err(code) => LeaveGroupResponse::default().with_error_code(code),
        Ok(codes) if version >= 3 => {
            let responses = req
                .members
                .into_iter()
                .zip(codes)
                .map(|(m, code)| {
                    MemberResponse::default()
                        .with_member_id(m.member_id)
                        .with_group_instance_id(m.group_instance_id)
                        .with_error_code(code)
                })
                .collect();
            LeaveGroupResponse::default().with_members(responses)
        }
        Ok(codes) => LeaveGroupResponse::default()
            .with_error_code(codes.first().copied().unwrap_or_default()),
    }
}
