//! InitProducerId (key 22), v0-v5. Without a transactional id (idempotent producers): a new,
//! never reused producer id at epoch 0, as Kafka does (also for a KIP-360 epoch bump
//! request). With one: the transaction coordinator's answer ([`crate::txn`]): the id's
//! producer id with a bumped epoch, after aborting (and fencing) an earlier instance's open
//! transaction; NOT_COORDINATOR on a broker that does not coordinate the id.

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
        Some(t) => {
            // KIP-360 (v3+): the producer id and epoch the client already holds.
            let expected =
                (req.producer_id.0 >= 0).then_some((req.producer_id.0, req.producer_epoch));
            return match broker
                .txns
                .init_producer_id(broker, t, req.transaction_timeout_ms, expected)
                .await
            {
                Ok((id, epoch)) => base
                    .with_producer_id(ProducerId(id))
                    .with_producer_epoch(epoch),
                // Clients before v4 know only INVALID_PRODUCER_EPOCH.
                Err(ec::PRODUCER_FENCED) if header.api_version < 4 => {
                    base.with_error_code(ec::INVALID_PRODUCER_EPOCH)
                }
                Err(code) => base.with_error_code(code),
            };
        }
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
