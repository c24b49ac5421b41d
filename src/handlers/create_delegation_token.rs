//! CreateDelegationToken (key 38), v0-v3 (flexible from v2). Delegation tokens (KIP-48) are not served: weir has no `delegation.token.secret.key`. The
//! answer is Kafka's for that case: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED where Kafka never
//! allows token requests (a PLAINTEXT listener, an SSL one without a client certificate), else
//! DELEGATION_TOKEN_AUTH_DISABLED (see [`super::create_delegation_token::refusal`]).

use std::sync::Arc;

use kafka_protocol::messages::{CreateDelegationTokenRequest, CreateDelegationTokenResponse};

use crate::broker::Broker;
use crate::config::SecurityProtocol;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::server::session::ANONYMOUS;

/// Kafka's answer to a token request here (`KafkaApis.allowTokenRequests`, then
/// `tokenAuthEnabled`, which is never true for weir).
pub fn refusal(broker: &Broker, header: &RequestHeader) -> i16 {
    let protocol = broker
        .config
        .listeners
        .iter()
        .find(|l| *l.name == *header.listener)
        .map(|l| l.protocol);
    let allowed = match protocol {
        Some(SecurityProtocol::Plaintext) | None => false,
        Some(SecurityProtocol::Ssl) => *header.principal != *ANONYMOUS,
        Some(SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl) => true,
    };
    if allowed {
        ec::DELEGATION_TOKEN_AUTH_DISABLED
    } else {
        ec::DELEGATION_TOKEN_REQUEST_NOT_ALLOWED
    }
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    _req: CreateDelegationTokenRequest,
) -> CreateDelegationTokenResponse {
    CreateDelegationTokenResponse::default().with_error_code(refusal(broker, header))
}
