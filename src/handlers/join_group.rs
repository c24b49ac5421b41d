//! JoinGroup (key 11), v0-v9: joins (or rejoins) a consumer group and waits until the
//! rebalance completes. MEMBER_ID_REQUIRED round trip from v4 (KIP-394), static membership
//! from v5 (KIP-345), protocol type/name in the response from v7, skip_assignment from v9.

use std::sync::Arc;

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::group::{JoinRequest, JoinResult};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: JoinGroupRequest,
) -> JoinGroupResponse {
    let version = header.api_version;
    // Kafka's authorization: Read on the group.
    let result = if !broker.authz(header).group(Operation::Read, &req.group_id) {
        JoinResult::error(&req.member_id, ec::GROUP_AUTHORIZATION_FAILED)
    } else if req.group_id.is_empty() {
        JoinResult::error(&req.member_id, ec::INVALID_GROUP_ID)
    } else {
        let join = JoinRequest {
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
            client_id: header.client_id(),
            client_host: header.client_host.to_string(),
            session_timeout_ms: req.session_timeout_ms,
            // v0 has no rebalance timeout: the session timeout serves.
            rebalance_timeout_ms: if version >= 1 {
                req.rebalance_timeout_ms
            } else {
                req.session_timeout_ms
            },
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .iter()
                .map(|p| (p.name.to_string(), p.metadata.clone()))
                .collect(),
            require_known_member_id: version >= 4,
        };
        tokio::select! {
            r = broker.groups.join(&req.group_id, join) => r,
            _ = broker.shutdown.cancelled() => JoinResult::error(&req.member_id, ec::COORDINATOR_NOT_AVAILABLE),
        }
    };
    let members = result
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(StrBytes::from_string(m.member_id))
                .with_group_instance_id(if version >= 5 {
                    m.group_instance_id.map(StrBytes::from_string)
                } else {
                    None
                })
                .with_metadata(m.metadata)
        })
        .collect();
    JoinGroupResponse::default()
        .with_error_code(result.error_code)
        .with_generation_id(result.generation_id)
        .with_protocol_type(if version >= 7 {
            result.protocol_type.map(StrBytes::from_string)
        } else {
            None
        })
        .with_protocol_name(if version >= 7 {
            result.protocol_name.map(StrBytes::from_string)
        } else {
            Some(StrBytes::from_string(
                result.protocol_name.unwrap_or_default(),
            ))
        })
        .with_leader(StrBytes::from_string(result.leader))
        .with_skip_assignment(version >= 9 && result.skip_assignment)
        .with_member_id(StrBytes::from_string(result.member_id))
        .with_members(members)
}
