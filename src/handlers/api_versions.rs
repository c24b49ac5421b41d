//! ApiVersions (key 18), v0-v4: the registry's ranges. A request above v4 gets KIP-511's
//! answer: UNSUPPORTED_VERSION with the ranges, in the v0 layout with a v0 header.

use std::sync::Arc;

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

use super::APIS;
use crate::broker::Broker;
use crate::protocol::outgoing::Outgoing;
use crate::protocol::request::RequestHeader;
use crate::protocol::{error_code as ec, response, ProtocolError};

fn ranges() -> Vec<ApiVersion> {
    APIS.iter()
        .map(|s| {
            ApiVersion::default()
                .with_api_key(s.key as i16)
                .with_min_version(s.min)
                .with_max_version(s.max)
        })
        .collect()
}

pub async fn handle(
    _broker: &Arc<Broker>,
    _header: &RequestHeader,
    _req: ApiVersionsRequest,
) -> ApiVersionsResponse {
    ApiVersionsResponse::default()
        .with_error_code(ec::NONE)
        .with_api_keys(ranges())
}

/// The v0-layout response to an ApiVersions request newer than this broker knows.
pub fn unsupported_version_response(
    out: &mut Outgoing,
    correlation_id: i32,
) -> Result<(), ProtocolError> {
    let body = ApiVersionsResponse::default()
        .with_error_code(ec::UNSUPPORTED_VERSION)
        .with_api_keys(ranges());
    response::encode_with_header_into(out, 0, 0, correlation_id, &body, &[])
}
