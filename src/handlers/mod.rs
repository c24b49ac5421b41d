//! Request dispatch. The registry below is the single source of truth for which APIs and
//! versions weir serves: it drives both dispatch and the ApiVersions response.
//!
//! One Kafka API per file, named after it. Each handler is
//! `async fn handle(broker, header, request) -> response` (Produce returns `Option`, since
//! acks=0 gets no response).

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Decodable;

use crate::broker::Broker;
use crate::protocol::frame::Grant;
use crate::protocol::newest::{self, Plan};
use crate::protocol::outgoing::{Outgoing, Payload};
use crate::protocol::request::{self, RequestHeader};
use crate::protocol::{response, ProtocolError};
use crate::quota::Kind;
use crate::security::sasl::Gate;
use crate::server::session::Session;

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod alter_client_quotas;
pub mod alter_configs;
pub mod alter_partition_reassignments;
pub mod alter_user_scram_credentials;
pub mod api_versions;
pub mod create_acls;
pub mod create_delegation_token;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_acls;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_acls;
pub mod describe_client_quotas;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_delegation_token;
pub mod describe_groups;
pub mod describe_log_dirs;
pub mod describe_producers;
pub mod describe_quorum;
pub mod describe_topic_partitions;
pub mod describe_transactions;
pub mod describe_user_scram_credentials;
pub mod elect_leaders;
pub mod end_txn;
pub mod expire_delegation_token;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod list_partition_reassignments;
pub mod list_transactions;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod offset_for_leader_epoch;
pub mod produce;
pub mod renew_delegation_token;
pub mod sasl_authenticate;
pub mod sasl_handshake;
pub mod sync_group;
pub mod txn_offset_commit;
pub mod write_txn_markers;

/// An API this broker serves and the versions it accepts.
#[derive(Debug, Clone, Copy)]
pub struct ApiSpec {
    pub key: ApiKey,
    pub min: i16,
    pub max: i16,
}

macro_rules! registry {
    ($( $variant:ident => $module:ident [$min:literal, $max:literal] $($opt:ident)? ; )*) => {
        /// Every API served, with its version range, in api-key order.
        pub const APIS: &[ApiSpec] = &[
            $( ApiSpec { key: ApiKey::$variant, min: $min, max: $max }, )*
        ];

        async fn route(
            broker: &Arc<Broker>,
            key: ApiKey,
            header: &RequestHeader,
            body: Bytes,
            out: &mut Outgoing,
        ) -> Result<bool, ProtocolError> {
            let version = header.api_version;
            match key {
                $(
                    ApiKey::$variant => {
                        let req = decode(body, version)?;
                        let resp = $module::handle(broker, header, req).await;
                        let resp = registry!(@wrap resp $($opt)?);
                        match resp {
                            Some(r) => {
                                broker.metrics.response_errors(key, &r);
                                let splice = payloads(&r);
                                response::encode_into(out, key, version, header.correlation_id, &r, splice)?;
                                fetched_quota(&r, out);
                                Ok(true)
                            }
                            None => Ok(false),
                        }
                    }
                )*
                _ => Err(ProtocolError::UnknownApiKey(header.api_key)),
            }
        }
    };
    (@wrap $r:ident) => { Some($r) };
    (@wrap $r:ident optional) => { $r };
}

registry! {
    Produce => produce [0, 13] optional;
    Fetch => fetch [0, 18];
    ListOffsets => list_offsets [0, 10];
    Metadata => metadata [0, 13];
    OffsetCommit => offset_commit [0, 9];
    OffsetFetch => offset_fetch [0, 9];
    FindCoordinator => find_coordinator [0, 6];
    JoinGroup => join_group [0, 9];
    Heartbeat => heartbeat [0, 4];
    LeaveGroup => leave_group [0, 5];
    SyncGroup => sync_group [0, 5];
    DescribeGroups => describe_groups [0, 5];
    ListGroups => list_groups [0, 5];
    SaslHandshake => sasl_handshake [0, 1];
    ApiVersions => api_versions [0, 4];
    CreateTopics => create_topics [0, 7];
    DeleteTopics => delete_topics [0, 6];
    DeleteRecords => delete_records [0, 2];
    InitProducerId => init_producer_id [0, 5];
    OffsetForLeaderEpoch => offset_for_leader_epoch [0, 4];
    DescribeAcls => describe_acls [0, 3];
    CreateAcls => create_acls [0, 3];
    DeleteAcls => delete_acls [0, 3];
    DescribeClientQuotas => describe_client_quotas [0, 1];
    AlterClientQuotas => alter_client_quotas [0, 1];
    DescribeConfigs => describe_configs [0, 4];
    AlterConfigs => alter_configs [0, 2];
    DescribeLogDirs => describe_log_dirs [0, 4];
    SaslAuthenticate => sasl_authenticate [0, 2];
    CreatePartitions => create_partitions [0, 3];
    CreateDelegationToken => create_delegation_token [0, 3];
    RenewDelegationToken => renew_delegation_token [0, 2];
    ExpireDelegationToken => expire_delegation_token [0, 2];
    DescribeDelegationToken => describe_delegation_token [0, 3];
    DeleteGroups => delete_groups [0, 2];
    ElectLeaders => elect_leaders [0, 2];
    IncrementalAlterConfigs => incremental_alter_configs [0, 1];
    AlterPartitionReassignments => alter_partition_reassignments [0, 0];
    ListPartitionReassignments => list_partition_reassignments [0, 0];
    OffsetDelete => offset_delete [0, 0];
    DescribeUserScramCredentials => describe_user_scram_credentials [0, 0];
    AlterUserScramCredentials => alter_user_scram_credentials [0, 0];
    DescribeQuorum => describe_quorum [0, 2];
    DescribeCluster => describe_cluster [0, 1];
    DescribeTopicPartitions => describe_topic_partitions [0, 0];
    AddPartitionsToTxn => add_partitions_to_txn [0, 5];
    AddOffsetsToTxn => add_offsets_to_txn [0, 4];
    EndTxn => end_txn [0, 4];
    WriteTxnMarkers => write_txn_markers [0, 1];
    TxnOffsetCommit => txn_offset_commit [0, 4];
    DescribeProducers => describe_producers [0, 0];
    DescribeTransactions => describe_transactions [0, 0];
    ListTransactions => list_transactions [0, 1];
}

/// The parts of a response to splice into the output rather than copy: fetched records.
fn payloads(response: &dyn Any) -> &[Payload] {
    match response.downcast_ref::<fetch::Fetched>() {
        Some(f) => &f.payloads,
        None => &[],
    }
}

/// What a handler reports about the request it handles, besides its answer.
#[derive(Default)]
struct RequestContext {
    /// Time spent waiting (a fetch's long poll, an acks=all produce's wait for replication),
    /// which request quotas do not charge: Kafka counts a request handler thread's time, and
    /// waits happen outside it (in purgatory).
    waited: std::cell::Cell<std::time::Duration>,
    /// The connection must close though no answer is due (a failed acks=0 Produce).
    close_unanswered: std::cell::Cell<bool>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Reports that the request being handled waited `d`.
pub fn waited(d: std::time::Duration) {
    let _ = REQUEST.try_with(|r| r.waited.set(r.waited.get() + d));
}

/// Asks for the connection of the request being handled to be closed (see
/// [`ProtocolError::Acks0Failed`]).
pub fn close_unanswered() {
    let _ = REQUEST.try_with(|r| r.close_unanswered.set(true));
}

/// A fetch's part in the client quotas: its throttle mutes the connection; a follower's
/// fetch is exempt from request quotas.
fn fetched_quota(response: &dyn Any, out: &mut Outgoing) {
    if let Some(f) = response.downcast_ref::<fetch::Fetched>() {
        out.mute_ms = out.mute_ms.max(i64::from(f.response.throttle_time_ms));
        out.quota_exempt = f.from_follower;
    }
}

fn decode<T: Decodable>(mut body: Bytes, version: i16) -> Result<T, ProtocolError> {
    T::decode(&mut body, version).map_err(|e| ProtocolError::Decode(e.to_string()))
}

/// The registry entry for an API key, if weir serves it.
pub fn spec(key: ApiKey) -> Option<ApiSpec> {
    APIS.iter().copied().find(|s| s.key == key)
}

/// Handles one request frame of a connection on a PLAINTEXT listener, appending its
/// response frame to `out`. `Ok(false)`: no response is due (acks=0). `Err`: the frame is
/// broken or refused, and the connection must be closed. Decoding is not charged to any
/// memory budget (see [`handle_frame_within`]).
pub async fn handle_frame(
    broker: &Arc<Broker>,
    frame: Bytes,
    client_host: &Arc<str>,
    out: &mut Outgoing,
) -> Result<bool, ProtocolError> {
    let mut session = Session::plaintext(client_host.clone());
    handle_frame_within(broker, frame, &mut session, out, None).await
}

/// [`handle_frame`] for the connection's `session`, charging what decoding the body takes
/// (bounded by the layout walk) to the request's `grant` before it is decoded, so
/// `queued.max.request.bytes` bounds decoded requests too, not only their wire bytes (a
/// 2-byte Metadata topic becomes 72).
pub async fn handle_frame_within(
    broker: &Arc<Broker>,
    frame: Bytes,
    session: &mut Session,
    out: &mut Outgoing,
    grant: Option<&mut Grant>,
) -> Result<bool, ProtocolError> {
    let started = std::time::Instant::now();
    let peeked = request::peek(&frame).ok();
    // The client id, for request quotas (a slice of the frame, no copy), only when quotas
    // are set: otherwise nothing per request but one look at the image's pointer.
    let client_id = if broker.cluster.client_quotas().is_empty() {
        None
    } else {
        request::client_id_of(&frame)
    };
    let (handled, waited) = REQUEST
        .scope(RequestContext::default(), async {
            let handled = dispatch(broker, frame, session, out, grant).await;
            REQUEST.with(|r| match handled {
                Ok(false) if r.close_unanswered.get() => {
                    (Err(ProtocolError::Acks0Failed), r.waited.get())
                }
                other => (other, r.waited.get()),
            })
        })
        .await;
    if handled.is_ok() && !out.quota_exempt {
        // request_percentage: the share of one thread this request took, as Kafka counts
        // a request handler's time (percent-seconds per second).
        let worked = started.elapsed().saturating_sub(waited);
        let percent_seconds = worked.as_secs_f64() * 100.0;
        let throttle = broker.quota_throttle(
            &session.principal,
            client_id.as_deref(),
            Kind::Request,
            percent_seconds,
        );
        out.mute_ms = out.mute_ms.max(throttle);
    }
    let key = peeked.and_then(|(k, ..)| ApiKey::try_from(k).ok());
    match (&handled, key, peeked) {
        (Ok(_), Some(key), Some((_, version, _))) => {
            broker.metrics.request(key, version, started.elapsed())
        }
        _ => broker.metrics.broken_request(key),
    }
    handled
}

/// [`handle_frame_within`] without the request metrics.
async fn dispatch(
    broker: &Arc<Broker>,
    frame: Bytes,
    session: &mut Session,
    out: &mut Outgoing,
    grant: Option<&mut Grant>,
) -> Result<bool, ProtocolError> {
    let (raw_key, version, correlation_id) = request::peek(&frame)?;
    if let Some(sasl) = &session.sasl {
        // Before authentication only ApiVersions and the SASL exchange are served; anything
        // else closes the connection unanswered, as Kafka does.
        if sasl.gate_at(raw_key, crate::log::now_ms()) == Gate::Close {
            return Err(ProtocolError::Unauthenticated(raw_key));
        }
    }
    let key = ApiKey::try_from(raw_key).map_err(|_| ProtocolError::UnknownApiKey(raw_key))?;
    let spec = spec(key).ok_or(ProtocolError::UnknownApiKey(raw_key))?;
    if version < spec.min || version > spec.max {
        if key == ApiKey::ApiVersions && version > spec.max {
            // KIP-511: answer in the v0 layout with the supported ranges.
            api_versions::unsupported_version_response(out, correlation_id)?;
            return Ok(true);
        }
        return Err(ProtocolError::UnsupportedVersion {
            key: raw_key,
            version,
        });
    }
    tracing::trace!(api = ?key, version, correlation_id, "request");
    let (mut header, body) = request::parse(frame, key)?;
    // Bound every wire length before kafka-protocol reserves memory for it.
    let decoded = crate::protocol::layout::check(key, version, &body)?;
    if let Some(grant) = grant {
        grant.extend(decoded).await?;
    }
    header.client_host = session.client_host.clone();
    header.listener = session.listener.clone();
    header.principal = session.principal.clone();
    if key == ApiKey::Produce {
        // Kafka's producer quota counts the request's size; the answer carries the
        // throttle and the connection is muted for it after the answer (KIP-219).
        let throttle = broker.quota_throttle(
            &header.principal,
            header.client_id.as_deref(),
            Kind::Produce,
            body.len() as f64,
        );
        header.throttle_ms = throttle.min(i32::MAX as i64) as i32;
        out.mute_ms = throttle;
    }
    if session.authenticating() || (key == ApiKey::SaslHandshake && session.reauthenticates()) {
        match key {
            ApiKey::SaslHandshake => {
                let resp =
                    sasl_handshake::authenticating(session, &decode(body, version)?, version);
                response::encode_into(out, key, version, correlation_id, &resp, &[])?;
                return Ok(true);
            }
            ApiKey::SaslAuthenticate => {
                let req = decode(body, version)?;
                let resp = sasl_authenticate::authenticating(broker, session, &req, version);
                response::encode_into(out, key, version, correlation_id, &resp, &[])?;
                return Ok(true);
            }
            _ => {}
        }
    }
    match newest::plan(key, version) {
        Plan::Native => route(broker, key, &header, body, out).await,
        Plan::As(older) => {
            header.api_version = older;
            route(broker, key, &header, body, out).await
        }
        Plan::Bridge(older) => {
            header.api_version = older;
            bridge(broker, key, version, &header, body, out).await
        }
    }
}

/// The newest versions that need the newer codec on one side ([`newest`]): the handler runs
/// at `header.api_version`, the client reads `version`.
async fn bridge(
    broker: &Arc<Broker>,
    key: ApiKey,
    version: i16,
    header: &RequestHeader,
    body: Bytes,
    out: &mut Outgoing,
) -> Result<bool, ProtocolError> {
    let correlation_id = header.correlation_id;
    let answer = match key {
        ApiKey::Produce => {
            let req = newest::decode_next(body, version)?;
            let (req, ids) = newest::produce_request(req, |id| {
                broker.cluster.topic_by_id(id).map(|t| t.name.clone())
            });
            match produce::handle(broker, header, req).await {
                Some(resp) => {
                    broker.metrics.response_errors(key, &resp);
                    newest::encode_next(&ids.response(resp), version)?
                }
                None => return Ok(false), // acks=0
            }
        }
        ApiKey::Metadata => {
            let resp = metadata::handle(broker, header, decode(body, header.api_version)?).await;
            newest::encode_next(&newest::metadata_response(&resp)?, version)?
        }
        ApiKey::ListOffsets => {
            let req = newest::list_offsets_request(&newest::decode_next(body, version)?)?;
            let resp = list_offsets::handle(broker, header, req).await;
            broker.metrics.response_errors(key, &resp);
            // v10's answer has v9's layout (and its response header).
            response::encode_into(out, key, header.api_version, correlation_id, &resp, &[])?;
            return Ok(true);
        }
        _ => {
            return Err(ProtocolError::UnsupportedVersion {
                key: header.api_key,
                version,
            })
        }
    };
    response::encode_encoded_into(out, key, version, correlation_id, &answer)?;
    Ok(true)
}
