//! Samples of the newest versions ([`crate::protocol::newest`]), built and decoded with the
//! newer `kafka-protocol` release, in the same way as [`super::samples`]: a non-empty array
//! at every level, every field of the version set, an unknown tagged field everywhere.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use kafka_protocol_next::messages::*;
use kafka_protocol_next::protocol::{Decodable, Encodable, StrBytes};
use uuid::Uuid;

/// The last version of `key` the older release knows; samples above it are built here.
pub(super) fn is_newest(key: ApiKey, version: i16) -> bool {
    let last = match key {
        ApiKey::Produce => 11,
        ApiKey::Fetch => 17,
        ApiKey::ListOffsets => 9,
        ApiKey::Metadata => 12,
        _ => return false,
    };
    version > last
}

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
}
fn unknown() -> BTreeMap<i32, Bytes> {
    BTreeMap::from([(99, Bytes::from_static(b"??"))])
}

fn encode<T: Encodable>(request: &T, version: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    if let Err(e) = request.encode(&mut buf, version) {
        panic!("encoding {} v{version}: {e}", std::any::type_name::<T>());
    }
    buf.to_vec()
}

fn decode<T: Decodable>(version: i16, body: &[u8]) -> Option<usize> {
    let mut buf = Bytes::copy_from_slice(body);
    T::decode(&mut buf, version)
        .ok()
        .map(|_| body.len() - buf.len())
}

/// kafka-protocol's (newer) decoder: `Some(bytes consumed)` if it accepts `body`.
pub(super) fn kafka_decode(key: ApiKey, version: i16, body: &[u8]) -> Option<usize> {
    match key {
        ApiKey::Produce => decode::<ProduceRequest>(version, body),
        ApiKey::Fetch => decode::<FetchRequest>(version, body),
        ApiKey::ListOffsets => decode::<ListOffsetsRequest>(version, body),
        ApiKey::Metadata => decode::<MetadataRequest>(version, body),
        other => panic!("no newest sample for {other:?}"),
    }
}

/// The Default request of `key`, encoded at `version`.
pub(super) fn default_body(key: ApiKey, version: i16) -> Vec<u8> {
    match key {
        ApiKey::Produce => encode(&ProduceRequest::default(), version),
        ApiKey::Fetch => encode(&FetchRequest::default(), version),
        ApiKey::ListOffsets => encode(&ListOffsetsRequest::default(), version),
        ApiKey::Metadata => encode(&MetadataRequest::default(), version),
        other => panic!("no newest sample for {other:?}"),
    }
}

/// The full sample of `key`, encoded at `version`.
pub(super) fn full_body(key: ApiKey, v: i16) -> Vec<u8> {
    match key {
        ApiKey::Produce => encode(&produce(v), v),
        ApiKey::Fetch => encode(&fetch(), v),
        ApiKey::ListOffsets => encode(&list_offsets(), v),
        ApiKey::Metadata => encode(&metadata(), v),
        other => panic!("no newest sample for {other:?}"),
    }
}

fn produce(v: i16) -> ProduceRequest {
    use produce_request::*;
    let partition = PartitionProduceData::default()
        .with_index(2)
        .with_records(Some(Bytes::from_static(b"not a batch, just bytes")))
        .with_unknown_tagged_fields(unknown());
    let topic = TopicProduceData::default().with_partition_data(vec![partition.clone(), partition]);
    let topic = if v >= 13 {
        topic.with_topic_id(Uuid::from_u128(1))
    } else {
        topic.with_name(TopicName(s("t")))
    };
    ProduceRequest::default()
        .with_transactional_id(Some(TransactionalId(s("tx"))))
        .with_acks(-1)
        .with_timeout_ms(1000)
        .with_topic_data(vec![topic])
        .with_unknown_tagged_fields(unknown())
}

fn fetch() -> FetchRequest {
    use fetch_request::*;
    let partition = FetchPartition::default()
        .with_partition(1)
        .with_current_leader_epoch(3)
        .with_fetch_offset(42)
        .with_last_fetched_epoch(2)
        .with_log_start_offset(7)
        .with_partition_max_bytes(1 << 20)
        .with_replica_directory_id(Uuid::from_u128(5))
        .with_high_watermark(40)
        .with_unknown_tagged_fields(unknown());
    let topic_ = FetchTopic::default()
        .with_topic_id(Uuid::from_u128(1))
        .with_partitions(vec![partition.clone(), partition]);
    let forgotten = ForgottenTopic::default()
        .with_topic_id(Uuid::from_u128(2))
        .with_partitions(vec![4, 5]);
    FetchRequest::default()
        .with_cluster_id(Some(s("cluster")))
        .with_replica_state(
            ReplicaState::default()
                .with_replica_id(BrokerId(3))
                .with_replica_epoch(9)
                .with_unknown_tagged_fields(unknown()),
        )
        .with_max_wait_ms(500)
        .with_min_bytes(1)
        .with_isolation_level(1)
        .with_topics(vec![topic_.clone(), topic_])
        .with_forgotten_topics_data(vec![forgotten])
        .with_rack_id(s("rack"))
        .with_unknown_tagged_fields(unknown())
}

fn list_offsets() -> ListOffsetsRequest {
    use list_offsets_request::*;
    let partition = ListOffsetsPartition::default()
        .with_partition_index(0)
        .with_current_leader_epoch(1)
        .with_timestamp(-1)
        .with_unknown_tagged_fields(unknown());
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(1)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(s("t")))
            .with_partitions(vec![partition])
            .with_unknown_tagged_fields(unknown())])
        .with_timeout_ms(30_000)
        .with_unknown_tagged_fields(unknown())
}

fn metadata() -> MetadataRequest {
    use metadata_request::*;
    let topic_ = MetadataRequestTopic::default()
        .with_topic_id(Uuid::from_u128(7))
        .with_name(Some(TopicName(s("t"))))
        .with_unknown_tagged_fields(unknown());
    MetadataRequest::default()
        .with_topics(Some(vec![topic_.clone(), topic_]))
        .with_include_topic_authorized_operations(true)
        .with_unknown_tagged_fields(unknown())
}
