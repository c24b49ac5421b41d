//! ListGroups (key 16), v0-v5: every group with its protocol type; state from v4 (with a
//! states filter) and type from v5 (all groups here are "classic").

use std::sync::Arc;

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ListGroupsRequest,
) -> ListGroupsResponse {
    let version = header.api_version;
    let states: Vec<String> = req
        .states_filter
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let types: Vec<String> = req
        .types_filter
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    // Kafka's authorization: Describe on the cluster lists every group; otherwise only the
    // groups the principal may Describe.
    let authz = broker.authz(header);
    let every = authz.cluster(Operation::Describe);
    let groups = broker
        .groups
        .list()
        .into_iter()
        .filter(|g| every || authz.group(Operation::Describe, &g.group_id))
        .filter(|g| states.is_empty() || states.contains(&g.state.name().to_ascii_lowercase()))
        .filter(|_| types.is_empty() || types.iter().any(|t| t == "classic"))
        .map(|g| {
            let mut listed = ListedGroup::default()
                .with_group_id(GroupId(StrBytes::from_string(g.group_id)))
                .with_protocol_type(StrBytes::from_string(g.protocol_type));
            if version >= 4 {
                listed = listed.with_group_state(StrBytes::from_static_str(g.state.name()));
            }
            if version >= 5 {
                listed = listed.with_group_type(StrBytes::from_static_str("classic"));
            }
            listed
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}
