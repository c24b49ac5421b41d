//! DescribeCluster (key 60), v0-v1: the cluster id, the controller and every live broker
//! with its endpoint and rack. With broker endpoints the controller id is a broker (the
//! active controller, or a live broker standing in for a controller-only one, see
//! [`crate::cluster::Cluster::client_controller_id`]). Endpoint type 2 (controllers, v1)
//! names the active controller and lists the quorum's voters with their controller endpoints.

use std::sync::Arc;

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{ResourceType, CLUSTER_NAME};

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeClusterRequest,
) -> DescribeClusterResponse {
    // Endpoint type 1 = brokers; 2 = controllers.
    if req.endpoint_type != 1 && req.endpoint_type != 2 {
        return DescribeClusterResponse::default()
            .with_error_code(ec::INVALID_REQUEST)
            .with_error_message(Some(StrBytes::from_static_str("Unsupported endpoint type")));
    }
    // Kafka asks no permission here; the cluster's authorized operations when asked.
    let cluster_ops = if req.include_cluster_authorized_operations {
        broker.authz(header).operations(
            ResourceType::Cluster,
            CLUSTER_NAME,
            crate::security::authorize::CLUSTER_OPERATIONS,
        )
    } else {
        i32::MIN
    };
    let live = broker.cluster.live_brokers();
    let brokers = if req.endpoint_type == 1 {
        live.into_iter()
            .filter_map(|b| b.on_listener(&header.listener))
            .map(|b| {
                DescribeClusterBroker::default()
                    .with_broker_id(BrokerId(b.id))
                    .with_host(StrBytes::from_string(b.host))
                    .with_port(i32::from(b.port))
                    .with_rack(b.rack.map(StrBytes::from_string))
            })
            .collect()
    } else {
        let quorum = broker.cluster.quorum();
        quorum
            .voters
            .iter()
            .filter_map(|(id, _)| {
                let b = live.iter().find(|b| b.id == *id)?;
                let (host, port) = b.controller_addr.rsplit_once(':')?;
                Some(
                    DescribeClusterBroker::default()
                        .with_broker_id(BrokerId(*id))
                        .with_host(StrBytes::from_string(host.to_string()))
                        .with_port(port.parse().unwrap_or(-1))
                        .with_rack(b.rack.clone().map(StrBytes::from_string)),
                )
            })
            .collect()
    };
    DescribeClusterResponse::default()
        .with_endpoint_type(req.endpoint_type)
        .with_cluster_id(StrBytes::from_string(
            broker.cluster.cluster_id().unwrap_or_default(),
        ))
        .with_controller_id(BrokerId(if req.endpoint_type == 2 {
            broker.cluster.leader_id().unwrap_or(-1)
        } else {
            broker.cluster.client_controller_id()
        }))
        .with_brokers(brokers)
        .with_cluster_authorized_operations(cluster_ops)
}
