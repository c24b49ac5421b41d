//! DescribeUserScramCredentials (key 50), v0 (flexible): each user's SCRAM mechanisms and
//! iteration counts (never the salt or keys), from the cluster metadata; all users when the
//! list is null or empty. Kafka's answers: RESOURCE_NOT_FOUND for a user without
//! credentials, DUPLICATE_RESOURCE for a user named twice, CLUSTER_AUTHORIZATION_FAILED
//! (for the whole request) without Describe on the cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

fn refused(user: &str, code: i16, message: String) -> DescribeUserScramCredentialsResult {
    DescribeUserScramCredentialsResult::default()
        .with_user(StrBytes::from_string(user.to_string()))
        .with_error_code(code)
        .with_error_message(Some(StrBytes::from_string(message)))
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeUserScramCredentialsRequest,
) -> DescribeUserScramCredentialsResponse {
    if !broker.authz(header).cluster(Operation::Describe) {
        return DescribeUserScramCredentialsResponse::default()
            .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(StrBytes::from_static_str(
                "Cluster authorization failed.",
            )));
    }
    // Requested users: whether each was named more than once (None: all users).
    let wanted: Option<BTreeMap<String, bool>> = req.users.filter(|u| !u.is_empty()).map(|users| {
        let mut m = BTreeMap::new();
        for u in users {
            m.entry(u.name.to_string())
                .and_modify(|twice| *twice = true)
                .or_insert(false);
        }
        m
    });
    let image = broker.cluster.image();
    let mut results = Vec::new();
    for (user, creds) in &image.scram {
        if wanted.as_ref().is_some_and(|w| w.get(user) != Some(&false)) {
            continue;
        }
        let infos = creds
            .iter()
            .map(|(m, c)| {
                CredentialInfo::default()
                    .with_mechanism(m.code())
                    .with_iterations(i32::try_from(c.iterations).unwrap_or(i32::MAX))
            })
            .collect();
        results.push(
            DescribeUserScramCredentialsResult::default()
                .with_user(StrBytes::from_string(user.clone()))
                .with_error_message(None)
                .with_credential_infos(infos),
        );
    }
    for (user, twice) in wanted.iter().flatten() {
        if *twice {
            results.push(refused(
                user,
                ec::DUPLICATE_RESOURCE,
                format!(
                    "Cannot describe SCRAM credentials for the same user twice in a single request: {user}"
                ),
            ));
        } else if !image.scram.contains_key(user) {
            results.push(refused(
                user,
                ec::RESOURCE_NOT_FOUND,
                format!("Attempt to describe a user credential that does not exist: {user}"),
            ));
        }
    }
    DescribeUserScramCredentialsResponse::default()
        .with_error_message(None)
        .with_results(results)
}
