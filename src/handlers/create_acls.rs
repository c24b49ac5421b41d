//! CreateAcls (key 30), v0-v3 (flexible from v2): adds ACL bindings, committed through the
//! controller as cluster metadata. Needs Alter on the cluster (else every creation gets
//! CLUSTER_AUTHORIZATION_FAILED); without an authorizer every creation gets
//! SECURITY_DISABLED, as Kafka answers, so `kafka-acls.sh` says security is disabled. A bad
//! binding gets INVALID_REQUEST with Kafka's message; the others still go ahead. Creating
//! an ACL that exists succeeds and changes nothing.

use std::sync::Arc;

use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::{CreateAclsRequest, CreateAclsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::controller::{ControllerRequest, Outcome};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{AclBinding, Operation};

/// Kafka's message when no authorizer is configured.
pub const NO_AUTHORIZER: &str = "No Authorizer is configured.";

fn result(code: i16, message: Option<&str>) -> AclCreationResult {
    AclCreationResult::default()
        .with_error_code(code)
        .with_error_message(message.map(|m| StrBytes::from_string(m.to_string())))
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: CreateAclsRequest,
) -> CreateAclsResponse {
    let all = |code, message: &str| {
        CreateAclsResponse::default().with_results(
            req.creations
                .iter()
                .map(|_| result(code, Some(message)))
                .collect(),
        )
    };
    if !broker.authz(header).cluster(Operation::Alter) {
        return all(
            ec::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.",
        );
    }
    if !broker.authorizer.enabled() {
        return all(ec::SECURITY_DISABLED, NO_AUTHORIZER);
    }
    let parsed: Vec<Result<AclBinding, String>> = req
        .creations
        .iter()
        .map(|c| {
            AclBinding::from_wire(
                c.resource_type,
                &c.resource_name,
                c.resource_pattern_type,
                &c.principal,
                &c.host,
                c.operation,
                c.permission_type,
            )
        })
        .collect();
    let valid: Vec<AclBinding> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
    let n = valid.len();
    let answers: Vec<Option<(i16, String)>> = if n == 0 {
        Vec::new()
    } else {
        let submitted = broker
            .cluster
            .submit(ControllerRequest::CreateAcls { bindings: valid })
            .await;
        match submitted {
            Ok(Outcome::AclsCreated(a)) if a.len() == n => a.into_iter().map(Result::err).collect(),
            Ok(_) => vec![Some((ec::UNKNOWN_SERVER_ERROR, "Unexpected answer.".into())); n],
            // A failed submission (no controller in time) answers every binding alike.
            Err(e) => vec![Some((e.code, e.message)); n],
        }
    };
    let mut answers = answers.into_iter();
    let results = parsed
        .into_iter()
        .map(|p| match p.map(|_| answers.next().flatten()) {
            Err(message) => result(ec::INVALID_REQUEST, Some(&message)),
            Ok(None) => result(ec::NONE, None),
            Ok(Some((code, message))) => result(code, Some(&message)),
        })
        .collect();
    CreateAclsResponse::default().with_results(results)
}
