//! SaslHandshake (v0-v1): picks the SASL mechanism of a connection on a SASL listener. v0
//! is followed by raw tokens (no request header), v1 by SaslAuthenticate requests.
//!
//! On a listener without SASL, or once a connection has authenticated, the request reaches
//! [`handle`], which answers ILLEGAL_SASL_STATE as Kafka's request handler does.

use std::sync::Arc;

use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::request::RequestHeader;
use crate::security::sasl::ILLEGAL_SASL_STATE;
use crate::server::session::Session;

pub async fn handle(
    _broker: &Arc<Broker>,
    _header: &RequestHeader,
    _req: SaslHandshakeRequest,
) -> SaslHandshakeResponse {
    SaslHandshakeResponse::default().with_error_code(ILLEGAL_SASL_STATE)
}

/// The handshake of a connection that is authenticating. A mechanism that is not enabled
/// is answered with UNSUPPORTED_SASL_MECHANISM and the enabled ones, and the connection is
/// then closed.
pub fn authenticating(
    session: &mut Session,
    req: &SaslHandshakeRequest,
    version: i16,
) -> SaslHandshakeResponse {
    let Some(sasl) = session.sasl.as_mut() else {
        return SaslHandshakeResponse::default().with_error_code(ILLEGAL_SASL_STATE);
    };
    let answer = sasl.handshake(req.mechanism.as_str(), version);
    if answer.error_code != 0 {
        session.close_after_response = true;
    }
    SaslHandshakeResponse::default()
        .with_error_code(answer.error_code)
        .with_mechanisms(
            answer
                .mechanisms
                .into_iter()
                .map(StrBytes::from_string)
                .collect(),
        )
}
