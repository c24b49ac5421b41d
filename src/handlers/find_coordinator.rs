//! FindCoordinator (key 10), v0-v6: the broker that coordinates a group (key type 0): the
//! leader of the group's partition of `__consumer_offsets`, or a transactional id (key type
//! 1): the leader of its partition of `__transaction_state`; the same on every broker
//! (`cluster::image::Image::coordinator`). Each topic is created here on first need. Batched
//! keys from v4; another key type is INVALID_REQUEST.

use std::sync::Arc;

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::image::BrokerInfo;
use crate::group::offsets_topic;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let version = header.api_version;
    let wants_groups = req.key_type == GROUP
        && (version >= 4 && req.coordinator_keys.iter().any(|k| !k.is_empty())
            || version < 4 && !req.key.is_empty());
    let has_keys = version >= 4 && req.coordinator_keys.iter().any(|k| !k.is_empty())
        || version < 4 && !req.key.is_empty();
    if wants_groups {
        if let Err(e) = offsets_topic::ensure_topic(broker).await {
            tracing::warn!(error = %e.message, "creating {}", offsets_topic::OFFSETS_TOPIC);
        }
    } else if req.key_type == TRANSACTION && has_keys {
        if let Err(e) = crate::txn::load::ensure_topic(broker).await {
            tracing::warn!(error = %e.message, "creating {}", crate::txn::TXN_TOPIC);
        }
    }
    // Kafka's authorization: Describe on the group, or on the transactional id.
    let authz = broker.authz(header);
    let answer = |key: &str| -> (i16, Option<&'static str>, Option<BrokerInfo>) {
        if req.key_type == GROUP && !authz.group(Operation::Describe, key) {
            (
                ec::GROUP_AUTHORIZATION_FAILED,
                Some("Group authorization failed."),
                None,
            )
        } else if req.key_type != GROUP && !authz.transactional_id(Operation::Describe, key) {
            (
                ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                Some("Transactional Id authorization failed."),
                None,
            )
        } else if req.key_type != GROUP && req.key_type != TRANSACTION {
            (
                ec::INVALID_REQUEST,
                Some("Unknown coordinator key type."),
                None,
            )
        } else if key.is_empty() && req.key_type == GROUP {
            (ec::INVALID_GROUP_ID, Some("The group id is empty."), None)
        } else if key.is_empty() {
            (
                ec::INVALID_REQUEST,
                Some("The transactional id is empty."),
                None,
            )
        } else {
            let node = if req.key_type == GROUP {
                broker.cluster.coordinator(key)
            } else {
                broker.cluster.txn_coordinator(key)
            };
            match node.and_then(|b| b.on_listener(&header.listener)) {
                Some(b) => (ec::NONE, None, Some(b)),
                None => (
                    ec::COORDINATOR_NOT_AVAILABLE,
                    Some("The coordinator is not available."),
                    None,
                ),
            }
        }
    };
    if version >= 4 {
        let coordinators = req
            .coordinator_keys
            .iter()
            .map(|key| {
                let (code, msg, node) = answer(key);
                let c = Coordinator::default()
                    .with_key(key.clone())
                    .with_error_code(code)
                    .with_error_message(msg.map(StrBytes::from_static_str));
                match node {
                    Some(b) => c
                        .with_node_id(BrokerId(b.id))
                        .with_host(StrBytes::from_string(b.host))
                        .with_port(i32::from(b.port)),
                    None => c.with_node_id(BrokerId(-1)).with_port(-1),
                }
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let (code, msg, node) = answer(&req.key);
    let resp = FindCoordinatorResponse::default()
        .with_error_code(code)
        .with_error_message(if version >= 1 {
            msg.map(StrBytes::from_static_str)
        } else {
            None
        });
    match node {
        Some(b) => resp
            .with_node_id(BrokerId(b.id))
            .with_host(StrBytes::from_string(b.host))
            .with_port(i32::from(b.port)),
        None => resp.with_node_id(BrokerId(-1)).with_port(-1),
    }
}
