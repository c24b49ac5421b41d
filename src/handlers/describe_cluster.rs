//! DescribeCluster (key 60), v0-v1: this node, the cluster id, this node as controller.

use std::sync::Arc;

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let node = BrokerId(broker.config.node_id);
    let (host, port) = broker.config.advertised();
    // Endpoint type 1 = brokers; 2 = controllers, which a combined single node also is.
    if req.endpoint_type != 1 && req.endpoint_type != 2 {
        return DescribeClusterResponse::default()
            .with_error_code(ec::INVALID_REQUEST)
            .with_error_message(Some(StrBytes::from_static_str("Unsupported endpoint type")));
    }
    DescribeClusterResponse::default()
        .with_endpoint_type(req.endpoint_type)
        .with_cluster_id(StrBytes::from_string(
            broker.metadata.cluster_id().to_string(),
        ))
        .with_controller_id(node)
        .with_brokers(vec![DescribeClusterBroker::default()
            .with_broker_id(node)
            .with_host(StrBytes::from_string(host))
            .with_port(i32::from(port))])
}
