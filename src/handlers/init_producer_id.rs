//! InitProducerId (key 22), v0-v5, for idempotent producers: a new, never reused producer id
//! at epoch 0 (as Kafka does when there is no transactional id, also for a KIP-360 epoch
//! bump request). Transactions are not served yet: a transactional id gets
//! COORDINATOR_NOT_AVAILABLE... (no FindCoordinator is advertised, so clients do not try).

use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{Operation, ResourceType};

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let base = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    let authz = broker.authz(header);
    match req.transactional_id.as_ref().filter(|t| !t.is_empty()) {
        // Kafka's authorization: Write on the transactional id.
        Some(t) if !authz.transactional_id(Operation::Write, t) => {
            return base.with_error_code(ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        }
        Some(_) => return base.with_error_code(ec::COORDINATOR_NOT_AVAILABLE),
        // An idempotent producer: IdempotentWrite on the cluster, or Write on any topic
        // (KIP-679).
        None if !authz.cluster(Operation::IdempotentWrite)
            && !authz.any(Operation::Write, ResourceType::Topic) =>
        {
            return base.with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
        }
        None => {}
    }
    match broker.cluster.next_producer_id().await {
        Ok(id) => base.with_producer_id(ProducerId(id)).with_producer_epoch(0),
        Err(e) => {
            tracing::warn!(error = %e.message, "allocating a producer id");
            base.with_error_code(e.code)
        }
    }
}
