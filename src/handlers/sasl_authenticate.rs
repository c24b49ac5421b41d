//! SaslAuthenticate (v0-v2): one SASL token of a connection on a SASL listener, after a
//! SaslHandshake v1. A failure is answered (SASL_AUTHENTICATION_FAILED with Kafka's message)
//! and the connection closed. After a SaslHandshake v0 the same tokens come raw, framed by
//! their size only ([`raw_token`]).
//!
//! With `connections.max.reauth.ms` set, a success answers the session's lifetime
//! (`session_lifetime_ms`, v1+) and the client re-authenticates before it ends (KIP-368; see
//! [`crate::security::sasl`]); otherwise it is 0.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::request::RequestHeader;
use crate::security::sasl::ILLEGAL_SASL_STATE;
use crate::server::session::{Session, Users};

pub async fn handle(
    _broker: &Arc<Broker>,
    _header: &RequestHeader,
    _req: SaslAuthenticateRequest,
) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::default()
        .with_error_code(ILLEGAL_SASL_STATE)
        .with_error_message(Some(StrBytes::from_static_str(
            "SaslAuthenticate request received after successful authentication",
        )))
}

/// One token of a connection that is authenticating.
pub fn authenticating(
    broker: &Broker,
    session: &mut Session,
    req: &SaslAuthenticateRequest,
    version: i16,
) -> SaslAuthenticateResponse {
    let listener = session.listener.clone();
    let Some(sasl) = session.sasl.as_mut() else {
        return SaslAuthenticateResponse::default().with_error_code(ILLEGAL_SASL_STATE);
    };
    let users = Users {
        broker,
        listener: &listener,
    };
    let answer = sasl.authenticate_at(&req.auth_bytes, &users, crate::log::now_ms());
    if answer.error_code != 0 {
        session.close_after_response = true;
        tracing::info!(
            client = %session.client_host,
            listener = %listener,
            error = answer.error_message.as_deref().unwrap_or_default(),
            "authentication failed"
        );
    }
    session.update_principal();
    SaslAuthenticateResponse::default()
        .with_error_code(answer.error_code)
        .with_error_message(answer.error_message.map(StrBytes::from_string))
        .with_auth_bytes(Bytes::from(answer.token))
        // v0 has no lifetime field: such a client is disconnected when the session ends.
        .with_session_lifetime_ms(if version >= 1 {
            answer.session_lifetime_ms
        } else {
            0
        })
}

/// A raw token (after SaslHandshake v0): the server's token to send back framed by its
/// size, or None when authentication failed and the connection must close (old clients
/// read no error from a raw exchange).
pub fn raw_token(broker: &Broker, session: &mut Session, token: &[u8]) -> Option<Vec<u8>> {
    let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::copy_from_slice(token));
    let resp = authenticating(broker, session, &req, 0);
    (resp.error_code == 0).then(|| resp.auth_bytes.to_vec())
}
