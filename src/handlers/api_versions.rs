//! ApiVersions (key 18), v0-v4: the registry's ranges. A request above v4 gets KIP-511's
//! answer: UNSUPPORTED_VERSION with the ranges, in the v0 layout with a v0 header.
//!
//! From v3 the answer also carries the feature levels (KIP-584), which `kafka-features.sh
//! describe` shows: `metadata.version` supported from 3.3-IV3 (7, the first KRaft level
//! Kafka 4 accepts) to 4.1-IV1 (27) and finalized at 27, the protocol weir speaks. The other
//! features Kafka 4.1 lists (`transaction.version`, `group.version`, `kraft.version`,
//! `eligible.leader.replicas.version`, `share.version`) are left out, as Kafka leaves out a
//! feature whose only supported level is 0: weir serves none of what their levels above 0
//! turn on (transactions v2, the KIP-848 consumer protocol, a dynamic quorum, ELR, share
//! groups), and a client must not be told otherwise.

use std::sync::Arc;

use kafka_protocol::messages::api_versions_response::{
    ApiVersion, FinalizedFeatureKey, SupportedFeatureKey,
};
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::StrBytes;

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

/// `metadata.version` levels: 3.3-IV3 and 4.1-IV1.
pub const METADATA_VERSION_MIN: i16 = 7;
pub const METADATA_VERSION: i16 = 27;
/// The metadata offset the finalized levels date from; they never change.
const FEATURES_EPOCH: i64 = 1;

pub async fn handle(
    _broker: &Arc<Broker>,
    _header: &RequestHeader,
    _req: ApiVersionsRequest,
) -> ApiVersionsResponse {
    let name = || StrBytes::from_static_str("metadata.version");
    ApiVersionsResponse::default()
        .with_error_code(ec::NONE)
        .with_api_keys(ranges())
        .with_supported_features(vec![SupportedFeatureKey::default()
            .with_name(name())
            .with_min_version(METADATA_VERSION_MIN)
            .with_max_version(METADATA_VERSION)])
        .with_finalized_features_epoch(FEATURES_EPOCH)
        .with_finalized_features(vec![FinalizedFeatureKey::default()
            .with_name(name())
            .with_min_version_level(METADATA_VERSION)
            .with_max_version_level(METADATA_VERSION)])
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
