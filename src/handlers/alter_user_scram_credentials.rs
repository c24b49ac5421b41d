//! AlterUserScramCredentials (key 51), v0 (flexible): adds, replaces and deletes users'
//! SCRAM credentials, what `kafka-configs.sh --alter --add-config 'SCRAM-SHA-512=[...]'
//! --entity-type users` and the Admin's `alterUserScramCredentials` send. The client sends
//! the salted password; the controller stores the salt, iteration count, StoredKey and
//! ServerKey (never a password) as cluster metadata, and answers per user as Kafka's
//! `ScramControlManager` does (see [`crate::cluster::security::alter_scram`]). Needs Alter
//! on the cluster: else every user named gets CLUSTER_AUTHORIZATION_FAILED.

use std::sync::Arc;

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::cluster::controller::{ControllerRequest, Outcome};
use crate::cluster::security::{ScramDeletion, ScramUpsertion};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

fn result(user: &str, code: i16, message: Option<String>) -> AlterUserScramCredentialsResult {
    AlterUserScramCredentialsResult::default()
        .with_user(StrBytes::from_string(user.to_string()))
        .with_error_code(code)
        .with_error_message(message.map(StrBytes::from_string))
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: AlterUserScramCredentialsRequest,
) -> AlterUserScramCredentialsResponse {
    let mut users: Vec<String> = Vec::new();
    for name in req
        .deletions
        .iter()
        .map(|d| &d.name)
        .chain(req.upsertions.iter().map(|u| &u.name))
    {
        if !users.iter().any(|u| u == name.as_str()) {
            users.push(name.to_string());
        }
    }
    let all = |code, message: &str| {
        AlterUserScramCredentialsResponse::default().with_results(
            users
                .iter()
                .map(|u| result(u, code, Some(message.to_string())))
                .collect(),
        )
    };
    if !broker.authz(header).cluster(Operation::Alter) {
        return all(
            ec::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.",
        );
    }
    if users.is_empty() {
        return AlterUserScramCredentialsResponse::default();
    }
    let deletions = req
        .deletions
        .iter()
        .map(|d| ScramDeletion {
            user: d.name.to_string(),
            mechanism: d.mechanism,
        })
        .collect();
    let upsertions = req
        .upsertions
        .iter()
        .map(|u| ScramUpsertion {
            user: u.name.to_string(),
            mechanism: u.mechanism,
            iterations: u.iterations,
            salt: u.salt.to_vec(),
            salted_password: u.salted_password.to_vec(),
        })
        .collect();
    let submitted = broker
        .cluster
        .submit(ControllerRequest::AlterScram {
            deletions,
            upsertions,
        })
        .await;
    match submitted {
        Ok(Outcome::Scram(answers)) => AlterUserScramCredentialsResponse::default().with_results(
            answers
                .into_iter()
                .map(|(user, r)| match r {
                    Ok(()) => result(&user, ec::NONE, None),
                    Err((code, message)) => result(&user, code, Some(message)),
                })
                .collect(),
        ),
        Ok(_) => all(ec::UNKNOWN_SERVER_ERROR, "Unexpected answer."),
        Err(e) => all(e.code, &e.message),
    }
}
