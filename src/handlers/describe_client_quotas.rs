//! DescribeClientQuotas (key 48), v0-v1 (flexible from v1): the client quotas the cluster
//! metadata holds for the entities a filter selects (see [`crate::quota::admin::describe`]).
//! A bad filter is INVALID_REQUEST (an unknown entity type UNSUPPORTED_VERSION, as Kafka
//! answers) for the whole request; without DescribeConfigs on the cluster,
//! CLUSTER_AUTHORIZATION_FAILED.

use std::sync::Arc;

use kafka_protocol::messages::describe_client_quotas_response::{EntityData, EntryData, ValueData};
use kafka_protocol::messages::{DescribeClientQuotasRequest, DescribeClientQuotasResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::quota::admin::{component, describe};
use crate::quota::{QuotaEntity, CLIENT_ID, USER};
use crate::security::acl::Operation;

fn refused(code: i16, message: String) -> DescribeClientQuotasResponse {
    DescribeClientQuotasResponse::default()
        .with_error_code(code)
        .with_error_message(Some(StrBytes::from_string(message)))
        .with_entries(None)
}

/// The entity on the wire: user first, then client-id, as Kafka lists them.
fn wire_entity(e: &QuotaEntity) -> Vec<EntityData> {
    [(USER, &e.user), (CLIENT_ID, &e.client_id)]
        .into_iter()
        .filter_map(|(kind, name)| {
            let name = name.as_ref()?;
            Some(
                EntityData::default()
                    .with_entity_type(StrBytes::from_static_str(kind))
                    .with_entity_name(name.to_wire().map(|n| StrBytes::from_string(n.into()))),
            )
        })
        .collect()
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeClientQuotasRequest,
) -> DescribeClientQuotasResponse {
    if !broker.authz(header).cluster(Operation::DescribeConfigs) {
        return refused(
            ec::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.".into(),
        );
    }
    let components: Result<Vec<_>, String> = req
        .components
        .iter()
        .map(|c| component(&c.entity_type, c.match_type, c._match.as_deref()))
        .collect();
    let components = match components {
        Ok(c) => c,
        Err(m) => return refused(ec::INVALID_REQUEST, m),
    };
    let configs = broker.cluster.client_quotas();
    let selected = match describe(&configs, &components, req.strict) {
        Ok(s) => s,
        Err(m) if m.starts_with("Unsupported entity type") => {
            return refused(ec::UNSUPPORTED_VERSION, m)
        }
        Err(m) => return refused(ec::INVALID_REQUEST, m),
    };
    let entries = selected
        .into_iter()
        .map(|(entity, values)| {
            EntryData::default()
                .with_entity(wire_entity(entity))
                .with_values(
                    values
                        .iter()
                        .map(|(k, v)| {
                            ValueData::default()
                                .with_key(StrBytes::from_string(k.clone()))
                                .with_value(*v)
                        })
                        .collect(),
                )
        })
        .collect();
    DescribeClientQuotasResponse::default().with_entries(Some(entries))
}
