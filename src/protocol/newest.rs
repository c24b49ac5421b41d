//! The newest request versions, which the `kafka-protocol` release weir is built on (0.15)
//! does not know, served through a second release (0.18, the `kafka-protocol-next`
//! dependency) that knows them but no longer decodes the oldest ones. Kafka 4.1 serves
//! Produce v13, Fetch v18, Metadata v13 and ListOffsets v10; so does weir:
//!
//! | API         | wire | what differs from the version below           | how weir serves it       |
//! |-------------|------|-----------------------------------------------|--------------------------|
//! | Produce     | 12   | nothing (KIP-890's implicit transaction adds)  | as v11                   |
//! | Produce     | 13   | topic ids instead of names, both ways (KIP-516)| 0.18 codec, mapped here  |
//! | Fetch       | 18   | tagged `HighWatermark` per partition (KRaft)   | as v17 (tag kept unknown)|
//! | Metadata    | 13   | response: a top-level `ErrorCode` (KIP-1102)   | as v12, answer in 0.18   |
//! | ListOffsets | 10   | request: `TimeoutMs` (tiered storage reads)    | request in 0.18, as v9   |
//!
//! "As vN": the body is read and the answer written by the 0.15 codec at vN, whose bytes are
//! the same as the wire version's. The handlers see only 0.15 types; what is mapped here is
//! pure (topic ids are resolved by a lookup the caller passes), so the v4+ path pays nothing
//! and the newest versions pay a mapping of headers only (records are `Bytes` moved, never
//! copied).

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages as old;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_protocol_next::messages as next;
use kafka_protocol_next::protocol::{
    Decodable as NextDecodable, Encodable as NextEncodable, StrBytes as NextStrBytes,
};
use uuid::Uuid;

use super::error_code as ec;
use super::ProtocolError;

/// How a request of a given API and wire version is read and answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The 0.15 codec knows this version.
    Native,
    /// Same bytes as this older version, both ways: read and answer at it.
    As(i16),
    /// Needs the 0.18 codec on at least one side; the handler runs at the given version.
    Bridge(i16),
}

/// The plan for `key` at `version` (a version the registry accepts).
pub fn plan(key: old::ApiKey, version: i16) -> Plan {
    use old::ApiKey::*;
    match (key, version) {
        (Produce, 12) => Plan::As(11),
        (Produce, 13) => Plan::Bridge(11),
        (Fetch, 18) => Plan::As(17),
        (Metadata, 13) => Plan::Bridge(12),
        (ListOffsets, 10) => Plan::Bridge(9),
        _ => Plan::Native,
    }
}

fn to_next_str(s: &StrBytes) -> NextStrBytes {
    NextStrBytes::from_string(s.as_str().to_owned())
}

fn to_old_str(s: &NextStrBytes) -> StrBytes {
    StrBytes::from_string(s.as_str().to_owned())
}

/// Re-encodes `value` with one codec and decodes it with the other, at a version whose
/// layout both know. For the rare, small messages (Metadata answers, ListOffsets requests).
fn bridge<A, B>(value: &A, version: i16) -> Result<B, ProtocolError>
where
    A: EncodeAny,
    B: DecodeAny,
{
    let mut buf = BytesMut::new();
    value.encode_any(&mut buf, version)?;
    let mut bytes = buf.freeze();
    B::decode_any(&mut bytes, version)
}

/// `Encodable` of either release.
trait EncodeAny {
    fn encode_any(&self, buf: &mut BytesMut, version: i16) -> Result<(), ProtocolError>;
}
/// `Decodable` of either release.
trait DecodeAny: Sized {
    fn decode_any(buf: &mut Bytes, version: i16) -> Result<Self, ProtocolError>;
}

macro_rules! old_codec {
    ($($t:ty),*) => {$(
        impl EncodeAny for $t {
            fn encode_any(&self, buf: &mut BytesMut, version: i16) -> Result<(), ProtocolError> {
                Encodable::encode(self, buf, version).map_err(|e| ProtocolError::Encode(e.to_string()))
            }
        }
        impl DecodeAny for $t {
            fn decode_any(buf: &mut Bytes, version: i16) -> Result<Self, ProtocolError> {
                <$t as Decodable>::decode(buf, version).map_err(|e| ProtocolError::Decode(e.to_string()))
            }
        }
    )*};
}
macro_rules! next_codec {
    ($($t:ty),*) => {$(
        impl EncodeAny for $t {
            fn encode_any(&self, buf: &mut BytesMut, version: i16) -> Result<(), ProtocolError> {
                NextEncodable::encode(self, buf, version).map_err(|e| ProtocolError::Encode(e.to_string()))
            }
        }
        impl DecodeAny for $t {
            fn decode_any(buf: &mut Bytes, version: i16) -> Result<Self, ProtocolError> {
                <$t as NextDecodable>::decode(buf, version).map_err(|e| ProtocolError::Decode(e.to_string()))
            }
        }
    )*};
}
old_codec!(old::MetadataResponse, old::ListOffsetsRequest);
next_codec!(next::MetadataResponse, next::ListOffsetsRequest);

/// Decodes a request body with the 0.18 codec.
pub fn decode_next<T: NextDecodable>(mut body: Bytes, version: i16) -> Result<T, ProtocolError> {
    T::decode(&mut body, version).map_err(|e| ProtocolError::Decode(e.to_string()))
}

/// Encodes an answer with the 0.18 codec (the body only; the caller frames it).
pub fn encode_next<T: NextEncodable>(body: &T, version: i16) -> Result<Bytes, ProtocolError> {
    let mut buf = BytesMut::new();
    body.encode(&mut buf, version)
        .map_err(|e| ProtocolError::Encode(e.to_string()))?;
    Ok(buf.freeze())
}

/// ListOffsets v10 → the v9 request the handler reads. `TimeoutMs` bounds a read from
/// remote (tiered) storage, which weir has not got: every offset is answered from the
/// local log at once, so it is dropped.
pub fn list_offsets_request(
    req: &next::ListOffsetsRequest,
) -> Result<old::ListOffsetsRequest, ProtocolError> {
    bridge(req, 9)
}

/// A Metadata v12 answer → v13: the same, plus the top-level error code (none: weir never
/// asks a client to rebootstrap).
pub fn metadata_response(
    resp: &old::MetadataResponse,
) -> Result<next::MetadataResponse, ProtocolError> {
    let mut out: next::MetadataResponse = bridge(resp, 12)?;
    out.error_code = ec::NONE;
    Ok(out)
}

/// The topic ids of a Produce v13 request, to answer it by id.
#[derive(Debug, Default)]
pub struct TopicIds {
    /// Name → id of every resolved topic, to answer by id.
    ids: HashMap<String, Uuid>,
    /// Topics whose id no broker knows, with their partitions: UNKNOWN_TOPIC_ID.
    unknown: Vec<(Uuid, Vec<i32>)>,
}

/// Maps a Produce v13 request to the v11 form the handler reads (the topics whose id
/// `name_of` knows, by name, in request order), resolving ids with `name_of`. Records are
/// moved, not copied.
pub fn produce_request(
    req: next::ProduceRequest,
    name_of: impl Fn(Uuid) -> Option<String>,
) -> (old::ProduceRequest, TopicIds) {
    let mut ids = HashMap::new();
    let mut unknown = Vec::new();
    let mut topic_data = Vec::with_capacity(req.topic_data.len());
    for topic in req.topic_data {
        let Some(name) = name_of(topic.topic_id) else {
            unknown.push((
                topic.topic_id,
                topic.partition_data.iter().map(|p| p.index).collect(),
            ));
            continue;
        };
        ids.insert(name.clone(), topic.topic_id);
        let partitions = topic
            .partition_data
            .into_iter()
            .map(|p| {
                old::produce_request::PartitionProduceData::default()
                    .with_index(p.index)
                    .with_records(p.records)
            })
            .collect();
        topic_data.push(
            old::produce_request::TopicProduceData::default()
                .with_name(old::TopicName(StrBytes::from_string(name)))
                .with_partition_data(partitions),
        );
    }
    let request = old::ProduceRequest::default()
        .with_transactional_id(
            req.transactional_id
                .map(|t| old::TransactionalId(to_old_str(&t.0))),
        )
        .with_acks(req.acks)
        .with_timeout_ms(req.timeout_ms)
        .with_topic_data(topic_data);
    (request, TopicIds { ids, unknown })
}

impl TopicIds {
    /// The handler's v11 answer as v13: topics by id, plus UNKNOWN_TOPIC_ID for every
    /// partition of an unknown id (Kafka's `KafkaApis.handleProduceRequest`).
    pub fn response(&self, resp: old::ProduceResponse) -> next::ProduceResponse {
        use next::produce_response::*;
        let mut responses: Vec<TopicProduceResponse> = resp
            .responses
            .into_iter()
            .map(|t| {
                let topic_id = self.ids.get(t.name.as_str()).copied().unwrap_or_default();
                TopicProduceResponse::default()
                    .with_topic_id(topic_id)
                    .with_partition_responses(
                        t.partition_responses.into_iter().map(partition).collect(),
                    )
            })
            .collect();
        for (topic_id, partitions) in &self.unknown {
            responses.push(
                TopicProduceResponse::default()
                    .with_topic_id(*topic_id)
                    .with_partition_responses(
                        partitions
                            .iter()
                            .map(|&index| {
                                PartitionProduceResponse::default()
                                    .with_index(index)
                                    .with_error_code(ec::UNKNOWN_TOPIC_ID)
                                    .with_base_offset(-1)
                            })
                            .collect(),
                    ),
            );
        }
        let node_endpoints = resp
            .node_endpoints
            .iter()
            .map(|n| {
                NodeEndpoint::default()
                    .with_node_id(next::BrokerId(n.node_id.0))
                    .with_host(to_next_str(&n.host))
                    .with_port(n.port)
                    .with_rack(n.rack.as_ref().map(to_next_str))
            })
            .collect();
        ProduceResponse::default()
            .with_responses(responses)
            .with_throttle_time_ms(resp.throttle_time_ms)
            .with_node_endpoints(node_endpoints)
    }
}

fn partition(
    p: old::produce_response::PartitionProduceResponse,
) -> next::produce_response::PartitionProduceResponse {
    use next::produce_response::*;
    PartitionProduceResponse::default()
        .with_index(p.index)
        .with_error_code(p.error_code)
        .with_base_offset(p.base_offset)
        .with_log_append_time_ms(p.log_append_time_ms)
        .with_log_start_offset(p.log_start_offset)
        .with_record_errors(
            p.record_errors
                .iter()
                .map(|e| {
                    BatchIndexAndErrorMessage::default()
                        .with_batch_index(e.batch_index)
                        .with_batch_index_error_message(
                            e.batch_index_error_message.as_ref().map(to_next_str),
                        )
                })
                .collect(),
        )
        .with_error_message(p.error_message.as_ref().map(to_next_str))
        .with_current_leader(
            LeaderIdAndEpoch::default()
                .with_leader_id(next::BrokerId(p.current_leader.leader_id.0))
                .with_leader_epoch(p.current_leader.leader_epoch),
        )
}

#[cfg(test)]
#[path = "newest_tests.rs"]
mod tests;
