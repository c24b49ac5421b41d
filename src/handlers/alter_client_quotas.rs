//! AlterClientQuotas (key 49), v0-v1 (flexible from v1): sets and removes client quotas
//! (`kafka-configs.sh --alter --entity-type users|clients --add-config producer_byte_rate=...`),
//! committed through the controller as cluster metadata. Each entry is answered alone:
//! INVALID_REQUEST with Kafka's message for a bad entity, key or value (nothing of that
//! entry is written), or for an entity named twice; `validate_only` checks and writes
//! nothing. Without AlterConfigs on the cluster every entry is CLUSTER_AUTHORIZATION_FAILED.

use std::collections::BTreeSet;
use std::sync::Arc;

use kafka_protocol::messages::alter_client_quotas_response::{EntityData, EntryData};
use kafka_protocol::messages::{AlterClientQuotasRequest, AlterClientQuotasResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::controller::ControllerRequest;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::quota::admin::{alteration, entity, WireEntity};
use crate::security::acl::Operation;

/// One entry's answer: Ok, or Kafka's code and message.
type Answer = Result<(), (i16, String)>;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: AlterClientQuotasRequest,
) -> AlterClientQuotasResponse {
    let allowed = broker.authz(header).cluster(Operation::AlterConfigs);
    let configs = broker.cluster.client_quotas();
    let mut seen = BTreeSet::new();
    let mut changes = Vec::new();
    // Per entry: its wire entity (echoed back) and its answer; Ok entries wait for the write.
    let mut answers: Vec<(Vec<EntityData>, Answer)> = Vec::new();
    for entry in &req.entries {
        let echo: Vec<EntityData> = entry
            .entity
            .iter()
            .map(|e| {
                EntityData::default()
                    .with_entity_type(e.entity_type.clone())
                    .with_entity_name(e.entity_name.clone())
            })
            .collect();
        let answer = (|| {
            if !allowed {
                return Err((
                    ec::CLUSTER_AUTHORIZATION_FAILED,
                    "Cluster authorization failed.".to_string(),
                ));
            }
            let wire: WireEntity = entry
                .entity
                .iter()
                .map(|e| {
                    (
                        e.entity_type.to_string(),
                        e.entity_name.as_ref().map(|n| n.to_string()),
                    )
                })
                .collect();
            let e = entity(&wire).map_err(|m| (ec::INVALID_REQUEST, m))?;
            if !seen.insert(e.clone()) {
                return Err((
                    ec::INVALID_REQUEST,
                    format!("Ignoring duplicate entity {e:?}"),
                ));
            }
            let ops: Vec<(String, Option<f64>)> = entry
                .ops
                .iter()
                .map(|o| (o.key.to_string(), (!o.remove).then_some(o.value)))
                .collect();
            let writes = alteration(&configs, &e, &ops).map_err(|m| (ec::INVALID_REQUEST, m))?;
            changes.extend(writes.into_iter().map(|(k, v)| (e.clone(), k, v)));
            Ok(())
        })();
        answers.push((echo, answer));
    }
    if !req.validate_only && !changes.is_empty() {
        if let Err(e) = broker
            .cluster
            .submit(ControllerRequest::AlterClientQuotas { changes })
            .await
        {
            // Not written: every entry that was to be is answered with the failure.
            for (_, a) in answers.iter_mut().filter(|(_, a)| a.is_ok()) {
                *a = Err((e.code, e.message.clone()));
            }
        }
    }
    let entries = answers
        .into_iter()
        .map(|(entity, answer)| {
            let (code, message) = match answer {
                Ok(()) => (ec::NONE, None),
                Err((code, m)) => (code, Some(StrBytes::from_string(m))),
            };
            EntryData::default()
                .with_entity(entity)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    AlterClientQuotasResponse::default().with_entries(entries)
}
