//! ExpireDelegationToken (key 40), v0-v2 (flexible from v2). Delegation tokens (KIP-48) are not served: weir has no `delegation.token.secret.key`. The
//! answer is Kafka's for that case: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED where Kafka never
//! allows token requests (a PLAINTEXT listener, an SSL one without a client certificate), else
//! DELEGATION_TOKEN_AUTH_DISABLED (see [`super::create_delegation_token::refusal`]).

use std::sync::Arc;

use kafka_protocol::messages::{ExpireDelegationTokenRequest, ExpireDelegationTokenResponse};

use crate::broker::Broker;
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    _req: ExpireDelegationTokenRequest,
) -> ExpireDelegationTokenResponse {
    ExpireDelegationTokenResponse::default()
        .with_error_code(super::create_delegation_token::refusal(broker, header))
}
