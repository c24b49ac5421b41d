//! DescribeGroups (key 15), v0-v5: state, protocol and members (with their metadata and
//! assignment). An unknown group is reported as Dead with no error, as Kafka does up to v5.

use std::sync::Arc;

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, GroupId};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{Operation, ResourceType};
use crate::security::authorize::GROUP_OPERATIONS;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeGroupsRequest,
) -> DescribeGroupsResponse {
    let version = header.api_version;
    // Kafka's authorization: Describe on each group, else GROUP_AUTHORIZATION_FAILED; its
    // authorized operations (v3+) when asked.
    let authz = broker.authz(header);
    let groups = req
        .groups
        .into_iter()
        .map(|id| {
            if !authz.group(Operation::Describe, &id) {
                return DescribedGroup::default()
                    .with_error_code(ec::GROUP_AUTHORIZATION_FAILED)
                    .with_group_id(id);
            }
            let ops = (version >= 3 && req.include_authorized_operations)
                .then(|| authz.operations(ResourceType::Group, &id, GROUP_OPERATIONS));
            let described = describe(broker, id, version);
            match ops {
                Some(bits) => described.with_authorized_operations(bits),
                None => described,
            }
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}

fn describe(broker: &Broker, id: GroupId, version: i16) -> DescribedGroup {
    match broker.groups.describe(&id) {
        Err(code) => DescribedGroup::default()
            .with_error_code(code)
            .with_group_id(id),
        Ok(None) => DescribedGroup::default()
            .with_group_id(id)
            .with_group_state(StrBytes::from_static_str("Dead")),
        Ok(Some(s)) => {
            let members = s
                .members
                .iter()
                .map(|m| {
                    let metadata = m.metadata(&s.protocol_name);
                    DescribedGroupMember::default()
                        .with_member_id(StrBytes::from_string(m.member_id.clone()))
                        .with_group_instance_id(if version >= 4 {
                            m.group_instance_id.clone().map(StrBytes::from_string)
                        } else {
                            None
                        })
                        .with_client_id(StrBytes::from_string(m.client_id.clone()))
                        .with_client_host(StrBytes::from_string(m.client_host.clone()))
                        .with_member_metadata(metadata)
                        .with_member_assignment(m.assignment.clone())
                })
                .collect();
            DescribedGroup::default()
                .with_group_id(id)
                .with_group_state(StrBytes::from_static_str(s.state.name()))
                .with_protocol_type(StrBytes::from_string(s.protocol_type))
                .with_protocol_data(StrBytes::from_string(s.protocol_name))
                .with_members(members)
        }
    }
}
