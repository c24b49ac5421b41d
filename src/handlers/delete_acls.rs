//! DeleteAcls (key 31), v0-v3 (flexible from v2): removes every ACL binding a filter
//! matches, committed through the controller; each filter's answer lists what it matched
//! (a binding two filters match is listed under both). Needs Alter on the cluster (else
//! every filter gets CLUSTER_AUTHORIZATION_FAILED); without an authorizer SECURITY_DISABLED.

use std::sync::Arc;

use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::{DeleteAclsRequest, DeleteAclsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::controller::{ControllerRequest, Outcome};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{AclBinding, AclFilter, Operation};

fn failed(code: i16, message: &str) -> DeleteAclsFilterResult {
    DeleteAclsFilterResult::default()
        .with_error_code(code)
        .with_error_message(Some(StrBytes::from_string(message.to_string())))
}

fn matching(b: &AclBinding) -> DeleteAclsMatchingAcl {
    DeleteAclsMatchingAcl::default()
        .with_error_message(None)
        .with_resource_type(b.resource_type.code())
        .with_resource_name(StrBytes::from_string(b.name.clone()))
        .with_pattern_type(b.pattern.code())
        .with_principal(StrBytes::from_string(b.principal.clone()))
        .with_host(StrBytes::from_string(b.host.clone()))
        .with_operation(b.operation.code())
        .with_permission_type(b.permission.code())
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DeleteAclsRequest,
) -> DeleteAclsResponse {
    let all = |code, message: &str| {
        DeleteAclsResponse::default()
            .with_filter_results(req.filters.iter().map(|_| failed(code, message)).collect())
    };
    if !broker.authz(header).cluster(Operation::Alter) {
        return all(
            ec::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.",
        );
    }
    if !broker.authorizer.enabled() {
        return all(ec::SECURITY_DISABLED, super::create_acls::NO_AUTHORIZER);
    }
    let parsed: Vec<Result<AclFilter, String>> = req
        .filters
        .iter()
        .map(|f| {
            AclFilter::from_wire(
                f.resource_type_filter,
                f.resource_name_filter.as_deref(),
                f.pattern_type_filter,
                f.principal_filter.as_deref(),
                f.host_filter.as_deref(),
                f.operation,
                f.permission_type,
            )
        })
        .collect();
    let valid: Vec<AclFilter> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
    let mut matched = Vec::new().into_iter();
    let mut failure = None;
    if !valid.is_empty() {
        match broker
            .cluster
            .submit(ControllerRequest::DeleteAcls { filters: valid })
            .await
        {
            Ok(Outcome::AclsDeleted(m)) => matched = m.into_iter(),
            Ok(_) => failure = Some((ec::UNKNOWN_SERVER_ERROR, "unexpected answer".to_string())),
            Err(e) => failure = Some((e.code, e.message)),
        }
    }
    let results = parsed
        .into_iter()
        .map(|p| match (p, &failure) {
            (Err(message), _) => failed(ec::INVALID_REQUEST, &message),
            (Ok(_), Some((code, message))) => failed(*code, message),
            (Ok(_), None) => DeleteAclsFilterResult::default()
                .with_error_message(None)
                .with_matching_acls(
                    matched
                        .next()
                        .unwrap_or_default()
                        .iter()
                        .map(matching)
                        .collect(),
                ),
        })
        .collect();
    DeleteAclsResponse::default().with_filter_results(results)
}
