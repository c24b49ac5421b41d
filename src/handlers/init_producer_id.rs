//! InitProducerId (key 22), v0-v5, for idempotent producers: a new, never reused producer id
//! at epoch 0 (as Kafka does when there is no transactional id, also for a KIP-360 epoch
//! bump request). Transactions are not served yet: a transactional id gets
//! COORDINATOR_NOT_AVAILABLE... (no FindCoordinator is advertised, so clients do not try).

use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::broker::Broker;
use crate::protocol::request::RequestHeader;

const COORDINATOR_NOT_AVAILABLE: i16 = 15;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let base = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    if req.transactional_id.as_ref().is_some_and(|t| !t.is_empty()) {
        return base.with_error_code(COORDINATOR_NOT_AVAILABLE);
    }
    match broker.cluster.next_producer_id().await {
        Ok(id) => base.with_producer_id(ProducerId(id)).with_producer_epoch(0),
        Err(e) => {
            tracing::warn!(error = %e.message, "allocating a producer id");
            base.with_error_code(e.code)
        }
    }
}
