//! Test samples: every request weir accepts, built with kafka-protocol's builders and
//! encoded by kafka-protocol at a given version, with a non-empty array at every level, a
//! non-null value in every nullable field, known tagged fields set and an unknown tagged
//! field added wherever the version is flexible. Also kafka-protocol's decoder, per API key.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use uuid::Uuid;

use super::samples_next as next;
use super::samples_security as security;
use super::samples_txn as txn;

pub(super) fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
}
pub(super) fn topic(text: &str) -> TopicName {
    TopicName(s(text))
}
pub(super) fn group(text: &str) -> GroupId {
    GroupId(s(text))
}
fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}
/// `value` at the versions that have the field, the default (which the encoder requires)
/// elsewhere.
fn on<T: Default>(present: bool, value: T) -> T {
    if present {
        value
    } else {
        T::default()
    }
}
/// `value` at the versions that have the field, the encoder's required `absent` elsewhere.
pub(super) fn pick<T>(present: bool, value: T, absent: T) -> T {
    if present {
        value
    } else {
        absent
    }
}
/// An unknown tagged field (tag 99), in flexible versions only.
pub(super) fn unknown(flexible: bool) -> BTreeMap<i32, Bytes> {
    let mut tags = BTreeMap::new();
    if flexible {
        tags.insert(99, Bytes::from_static(b"??"));
    }
    tags
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

/// Runs `$f::<RequestType>` for the request type of `$key`.
macro_rules! per_key {
    ($key:expr, $f:ident ( $($arg:expr),* )) => {
        match $key {
            ApiKey::Produce => $f::<ProduceRequest>($($arg),*),
            ApiKey::Fetch => $f::<FetchRequest>($($arg),*),
            ApiKey::ListOffsets => $f::<ListOffsetsRequest>($($arg),*),
            ApiKey::Metadata => $f::<MetadataRequest>($($arg),*),
            ApiKey::OffsetCommit => $f::<OffsetCommitRequest>($($arg),*),
            ApiKey::OffsetFetch => $f::<OffsetFetchRequest>($($arg),*),
            ApiKey::FindCoordinator => $f::<FindCoordinatorRequest>($($arg),*),
            ApiKey::JoinGroup => $f::<JoinGroupRequest>($($arg),*),
            ApiKey::Heartbeat => $f::<HeartbeatRequest>($($arg),*),
            ApiKey::LeaveGroup => $f::<LeaveGroupRequest>($($arg),*),
            ApiKey::SyncGroup => $f::<SyncGroupRequest>($($arg),*),
            ApiKey::DescribeGroups => $f::<DescribeGroupsRequest>($($arg),*),
            ApiKey::ListGroups => $f::<ListGroupsRequest>($($arg),*),
            ApiKey::ApiVersions => $f::<ApiVersionsRequest>($($arg),*),
            ApiKey::CreateTopics => $f::<CreateTopicsRequest>($($arg),*),
            ApiKey::DeleteTopics => $f::<DeleteTopicsRequest>($($arg),*),
            ApiKey::DeleteRecords => $f::<DeleteRecordsRequest>($($arg),*),
            ApiKey::InitProducerId => $f::<InitProducerIdRequest>($($arg),*),
            ApiKey::OffsetForLeaderEpoch => $f::<OffsetForLeaderEpochRequest>($($arg),*),
            ApiKey::DescribeConfigs => $f::<DescribeConfigsRequest>($($arg),*),
            ApiKey::AlterConfigs => $f::<AlterConfigsRequest>($($arg),*),
            ApiKey::CreatePartitions => $f::<CreatePartitionsRequest>($($arg),*),
            ApiKey::DeleteGroups => $f::<DeleteGroupsRequest>($($arg),*),
            ApiKey::ElectLeaders => $f::<ElectLeadersRequest>($($arg),*),
            ApiKey::IncrementalAlterConfigs => $f::<IncrementalAlterConfigsRequest>($($arg),*),
            ApiKey::AlterPartitionReassignments => $f::<AlterPartitionReassignmentsRequest>($($arg),*),
            ApiKey::ListPartitionReassignments => $f::<ListPartitionReassignmentsRequest>($($arg),*),
            ApiKey::OffsetDelete => $f::<OffsetDeleteRequest>($($arg),*),
            ApiKey::DescribeLogDirs => $f::<DescribeLogDirsRequest>($($arg),*),
            ApiKey::SaslHandshake => $f::<SaslHandshakeRequest>($($arg),*),
            ApiKey::SaslAuthenticate => $f::<SaslAuthenticateRequest>($($arg),*),
            ApiKey::DescribeQuorum => $f::<DescribeQuorumRequest>($($arg),*),
            ApiKey::DescribeCluster => $f::<DescribeClusterRequest>($($arg),*),
            ApiKey::DescribeTopicPartitions => $f::<DescribeTopicPartitionsRequest>($($arg),*),
            ApiKey::DescribeAcls => $f::<DescribeAclsRequest>($($arg),*),
            ApiKey::CreateAcls => $f::<CreateAclsRequest>($($arg),*),
            ApiKey::DeleteAcls => $f::<DeleteAclsRequest>($($arg),*),
            ApiKey::DescribeUserScramCredentials => $f::<DescribeUserScramCredentialsRequest>($($arg),*),
            ApiKey::AlterUserScramCredentials => $f::<AlterUserScramCredentialsRequest>($($arg),*),
            ApiKey::DescribeClientQuotas => $f::<DescribeClientQuotasRequest>($($arg),*),
            ApiKey::CreateDelegationToken => $f::<CreateDelegationTokenRequest>($($arg),*),
            ApiKey::RenewDelegationToken => $f::<RenewDelegationTokenRequest>($($arg),*),
            ApiKey::ExpireDelegationToken => $f::<ExpireDelegationTokenRequest>($($arg),*),
            ApiKey::DescribeDelegationToken => $f::<DescribeDelegationTokenRequest>($($arg),*),
            ApiKey::AlterClientQuotas => $f::<AlterClientQuotasRequest>($($arg),*),
            ApiKey::AddPartitionsToTxn => $f::<AddPartitionsToTxnRequest>($($arg),*),
            ApiKey::AddOffsetsToTxn => $f::<AddOffsetsToTxnRequest>($($arg),*),
            ApiKey::EndTxn => $f::<EndTxnRequest>($($arg),*),
            ApiKey::WriteTxnMarkers => $f::<WriteTxnMarkersRequest>($($arg),*),
            ApiKey::TxnOffsetCommit => $f::<TxnOffsetCommitRequest>($($arg),*),
            ApiKey::DescribeProducers => $f::<DescribeProducersRequest>($($arg),*),
            ApiKey::DescribeTransactions => $f::<DescribeTransactionsRequest>($($arg),*),
            ApiKey::ListTransactions => $f::<ListTransactionsRequest>($($arg),*),
            other => panic!("no sample for {other:?}"),
        }
    };
}

/// kafka-protocol's decoder: `Some(bytes consumed)` if it accepts `body`.
pub(super) fn kafka_decode(key: ApiKey, version: i16, body: &[u8]) -> Option<usize> {
    if next::is_newest(key, version) {
        return next::kafka_decode(key, version, body);
    }
    per_key!(key, decode(version, body))
}

fn encode_default<T: Encodable + Default>(version: i16) -> Vec<u8> {
    encode(&T::default(), version)
}

/// The Default request of `key`, encoded at `version`.
pub(super) fn default_body(key: ApiKey, version: i16) -> Vec<u8> {
    if next::is_newest(key, version) {
        return next::default_body(key, version);
    }
    per_key!(key, encode_default(version))
}

/// The full sample of `key` (see the module doc), encoded at `version`.
pub(super) fn full_body(key: ApiKey, v: i16) -> Vec<u8> {
    if next::is_newest(key, v) {
        return next::full_body(key, v);
    }
    match key {
        ApiKey::Produce => encode(&produce(v), v),
        ApiKey::Fetch => encode(&fetch(v), v),
        ApiKey::ListOffsets => encode(&list_offsets(v), v),
        ApiKey::Metadata => encode(&metadata(v), v),
        ApiKey::OffsetCommit => encode(&offset_commit(v), v),
        ApiKey::OffsetFetch => encode(&offset_fetch(v), v),
        ApiKey::FindCoordinator => encode(&find_coordinator(v), v),
        ApiKey::JoinGroup => encode(&join_group(v), v),
        ApiKey::Heartbeat => encode(&heartbeat(v), v),
        ApiKey::LeaveGroup => encode(&leave_group(v), v),
        ApiKey::SyncGroup => encode(&sync_group(v), v),
        ApiKey::DescribeGroups => encode(&describe_groups(v), v),
        ApiKey::ListGroups => encode(&list_groups(v), v),
        ApiKey::ApiVersions => encode(&api_versions(v), v),
        ApiKey::CreateTopics => encode(&create_topics(v), v),
        ApiKey::DeleteTopics => encode(&delete_topics(v), v),
        ApiKey::DeleteRecords => encode(&delete_records(v), v),
        ApiKey::InitProducerId => encode(&init_producer_id(v), v),
        ApiKey::OffsetForLeaderEpoch => encode(&offset_for_leader_epoch(v), v),
        ApiKey::DescribeConfigs => encode(&describe_configs(v), v),
        ApiKey::AlterConfigs => encode(&alter_configs(v), v),
        ApiKey::CreatePartitions => encode(&create_partitions(v), v),
        ApiKey::DeleteGroups => encode(&delete_groups(v), v),
        ApiKey::ElectLeaders => encode(&elect_leaders(v), v),
        ApiKey::IncrementalAlterConfigs => encode(&incremental_alter_configs(v), v),
        ApiKey::AlterPartitionReassignments => encode(&alter_partition_reassignments(v), v),
        ApiKey::ListPartitionReassignments => encode(&list_partition_reassignments(v), v),
        ApiKey::OffsetDelete => encode(&offset_delete(v), v),
        ApiKey::DescribeLogDirs => encode(&describe_log_dirs(v), v),
        ApiKey::SaslHandshake => encode(
            &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN")),
            v,
        ),
        ApiKey::SaslAuthenticate => encode(
            &SaslAuthenticateRequest::default()
                .with_auth_bytes(bytes::Bytes::from_static(b"\0alice\0secret"))
                .with_unknown_tagged_fields(unknown(v >= 2)),
            v,
        ),
        ApiKey::DescribeQuorum => encode(&describe_quorum(v), v),
        ApiKey::DescribeCluster => encode(&describe_cluster(v), v),
        ApiKey::DescribeTopicPartitions => encode(&describe_topic_partitions(v), v),
        ApiKey::DescribeAcls => encode(&security::describe_acls(v), v),
        ApiKey::CreateAcls => encode(&security::create_acls(v), v),
        ApiKey::DeleteAcls => encode(&security::delete_acls(v), v),
        ApiKey::DescribeUserScramCredentials => encode(&security::describe_user_scram(v), v),
        ApiKey::AlterUserScramCredentials => encode(&security::alter_user_scram(v), v),
        ApiKey::DescribeClientQuotas => encode(&security::describe_client_quotas(v), v),
        ApiKey::CreateDelegationToken => encode(&security::create_delegation_token(v), v),
        ApiKey::RenewDelegationToken => encode(
            &RenewDelegationTokenRequest::default()
                .with_hmac(Bytes::from_static(b"hmac"))
                .with_renew_period_ms(1000)
                .with_unknown_tagged_fields(unknown(v >= 2)),
            v,
        ),
        ApiKey::ExpireDelegationToken => encode(
            &ExpireDelegationTokenRequest::default()
                .with_hmac(Bytes::from_static(b"hmac"))
                .with_expiry_time_period_ms(1000)
                .with_unknown_tagged_fields(unknown(v >= 2)),
            v,
        ),
        ApiKey::DescribeDelegationToken => encode(&security::describe_delegation_token(v), v),
        ApiKey::AlterClientQuotas => encode(&security::alter_client_quotas(v), v),
        ApiKey::AddPartitionsToTxn => encode(&txn::add_partitions_to_txn(v), v),
        ApiKey::AddOffsetsToTxn => encode(&txn::add_offsets_to_txn(v), v),
        ApiKey::EndTxn => encode(&txn::end_txn(v), v),
        ApiKey::WriteTxnMarkers => encode(&txn::write_txn_markers(v), v),
        ApiKey::TxnOffsetCommit => encode(&txn::txn_offset_commit(v), v),
        ApiKey::DescribeProducers => encode(&txn::describe_producers(v), v),
        ApiKey::DescribeTransactions => encode(&txn::describe_transactions(v), v),
        ApiKey::ListTransactions => encode(&txn::list_transactions(v), v),
        other => panic!("no sample for {other:?}"),
    }
}

fn produce(v: i16) -> ProduceRequest {
    use produce_request::*;
    let partition = PartitionProduceData::default()
        .with_index(2)
        .with_records(Some(Bytes::from_static(b"not a batch, just bytes")))
        .with_unknown_tagged_fields(unknown(v >= 9));
    ProduceRequest::default()
        .with_transactional_id(on(v >= 3, Some(TransactionalId(s("tx")))))
        .with_acks(-1)
        .with_timeout_ms(1000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic("t"))
            .with_partition_data(vec![partition.clone(), partition])])
        .with_unknown_tagged_fields(unknown(v >= 9))
}

fn fetch(v: i16) -> FetchRequest {
    use fetch_request::*;
    let partition = FetchPartition::default()
        .with_partition(1)
        .with_current_leader_epoch(pick(v >= 9, 3, -1))
        .with_fetch_offset(42)
        .with_last_fetched_epoch(pick(v >= 12, 2, -1))
        .with_log_start_offset(pick(v >= 5, 7, -1))
        .with_partition_max_bytes(1 << 20)
        .with_replica_directory_id(on(v >= 17, id(5)))
        .with_unknown_tagged_fields(unknown(v >= 12));
    let topic_ = FetchTopic::default()
        .with_topic(on(v <= 12, topic("t")))
        .with_topic_id(on(v >= 13, id(1)))
        .with_partitions(vec![partition.clone(), partition]);
    let forgotten = ForgottenTopic::default()
        .with_topic(on((7..=12).contains(&v), topic("gone")))
        .with_topic_id(on(v >= 13, id(2)))
        .with_partitions(vec![4, 5]);
    FetchRequest::default()
        .with_cluster_id(on(v >= 12, Some(s("cluster"))))
        .with_replica_state(on(
            v >= 15,
            ReplicaState::default()
                .with_replica_id(BrokerId(3))
                .with_replica_epoch(9)
                .with_unknown_tagged_fields(unknown(true)),
        ))
        .with_max_wait_ms(500)
        .with_min_bytes(1)
        .with_isolation_level(on(v >= 4, 1))
        .with_topics(vec![topic_.clone(), topic_])
        .with_forgotten_topics_data(on(v >= 7, vec![forgotten]))
        .with_rack_id(on(v >= 11, s("rack")))
        .with_unknown_tagged_fields(unknown(v >= 12))
}

fn list_offsets(v: i16) -> ListOffsetsRequest {
    use list_offsets_request::*;
    let partition = ListOffsetsPartition::default()
        .with_partition_index(0)
        .with_current_leader_epoch(pick(v >= 4, 1, -1))
        .with_timestamp(-1)
        .with_unknown_tagged_fields(unknown(v >= 6));
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(on(v >= 2, 1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic("t"))
            .with_partitions(vec![partition])])
        .with_unknown_tagged_fields(unknown(v >= 6))
}

fn metadata(v: i16) -> MetadataRequest {
    use metadata_request::*;
    let topic_ = MetadataRequestTopic::default()
        .with_topic_id(on(v >= 10, id(7)))
        .with_name(Some(topic("t")))
        .with_unknown_tagged_fields(unknown(v >= 9));
    MetadataRequest::default()
        .with_topics(Some(vec![topic_.clone(), topic_]))
        .with_include_cluster_authorized_operations((8..=10).contains(&v))
        .with_include_topic_authorized_operations(v >= 8)
        .with_unknown_tagged_fields(unknown(v >= 9))
}

fn offset_commit(v: i16) -> OffsetCommitRequest {
    use offset_commit_request::*;
    let partition = OffsetCommitRequestPartition::default()
        .with_partition_index(0)
        .with_committed_offset(10)
        .with_committed_leader_epoch(pick(v >= 6, 1, -1))
        .with_commit_timestamp(pick(v == 1, 5, -1))
        .with_committed_metadata(Some(s("meta")));
    OffsetCommitRequest::default()
        .with_group_id(group("g"))
        .with_generation_id_or_member_epoch(pick(v >= 1, 1, -1))
        .with_member_id(on(v >= 1, s("m")))
        .with_group_instance_id(on(v >= 7, Some(s("i"))))
        .with_retention_time_ms(pick((2..=4).contains(&v), 60_000, -1))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic("t"))
            .with_partitions(vec![partition])])
        .with_unknown_tagged_fields(unknown(v >= 8))
}

fn offset_fetch(v: i16) -> OffsetFetchRequest {
    use offset_fetch_request::*;
    let old_topic = OffsetFetchRequestTopic::default()
        .with_name(topic("t"))
        .with_partition_indexes(vec![0, 1]);
    let new_topic = OffsetFetchRequestTopics::default()
        .with_name(topic("t"))
        .with_partition_indexes(vec![0, 1]);
    let group_ = OffsetFetchRequestGroup::default()
        .with_group_id(group("g"))
        .with_member_id(on(v >= 9, Some(s("m"))))
        .with_member_epoch(pick(v >= 9, 3, -1))
        .with_topics(Some(vec![new_topic]))
        .with_unknown_tagged_fields(unknown(v >= 6));
    let request = OffsetFetchRequest::default()
        .with_require_stable(v >= 7)
        .with_unknown_tagged_fields(unknown(v >= 6));
    if v <= 7 {
        request
            .with_group_id(group("g"))
            .with_topics(Some(vec![old_topic]))
    } else {
        request.with_groups(vec![group_])
    }
}

fn find_coordinator(v: i16) -> FindCoordinatorRequest {
    FindCoordinatorRequest::default()
        .with_key(on(v <= 3, s("g")))
        .with_key_type(on(v >= 1, 1))
        .with_coordinator_keys(on(v >= 4, vec![s("a"), s("b")]))
        .with_unknown_tagged_fields(unknown(v >= 3))
}

fn join_group(v: i16) -> JoinGroupRequest {
    use join_group_request::*;
    JoinGroupRequest::default()
        .with_group_id(group("g"))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(pick(v >= 1, 20_000, -1))
        .with_member_id(s("m"))
        .with_group_instance_id(on(v >= 5, Some(s("i"))))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(Bytes::from_static(b"\x00\x01meta"))
            .with_unknown_tagged_fields(unknown(v >= 6))])
        .with_reason(on(v >= 8, Some(s("why"))))
        .with_unknown_tagged_fields(unknown(v >= 6))
}

fn heartbeat(v: i16) -> HeartbeatRequest {
    HeartbeatRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(s("m"))
        .with_group_instance_id(on(v >= 3, Some(s("i"))))
        .with_unknown_tagged_fields(unknown(v >= 4))
}

fn leave_group(v: i16) -> LeaveGroupRequest {
    use leave_group_request::*;
    let member = MemberIdentity::default()
        .with_member_id(s("m"))
        .with_group_instance_id(Some(s("i")))
        .with_reason(on(v >= 5, Some(s("bye"))))
        .with_unknown_tagged_fields(unknown(v >= 4));
    LeaveGroupRequest::default()
        .with_group_id(group("g"))
        .with_member_id(on(v <= 2, s("m")))
        .with_members(on(v >= 3, vec![member]))
        .with_unknown_tagged_fields(unknown(v >= 4))
}

fn sync_group(v: i16) -> SyncGroupRequest {
    use sync_group_request::*;
    SyncGroupRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(s("m"))
        .with_group_instance_id(on(v >= 3, Some(s("i"))))
        .with_protocol_type(on(v >= 5, Some(s("consumer"))))
        .with_protocol_name(on(v >= 5, Some(s("range"))))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(s("m"))
            .with_assignment(Bytes::from_static(b"assigned"))
            .with_unknown_tagged_fields(unknown(v >= 4))])
        .with_unknown_tagged_fields(unknown(v >= 4))
}

fn describe_groups(v: i16) -> DescribeGroupsRequest {
    DescribeGroupsRequest::default()
        .with_groups(vec![group("g"), group("h")])
        .with_include_authorized_operations(v >= 3)
        .with_unknown_tagged_fields(unknown(v >= 5))
}

fn list_groups(v: i16) -> ListGroupsRequest {
    ListGroupsRequest::default()
        .with_states_filter(on(v >= 4, vec![s("Stable")]))
        .with_types_filter(on(v >= 5, vec![s("classic")]))
        .with_unknown_tagged_fields(unknown(v >= 3))
}

fn api_versions(v: i16) -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name(on(v >= 3, s("weir-tests")))
        .with_client_software_version(on(v >= 3, s("1.0")))
        .with_unknown_tagged_fields(unknown(v >= 3))
}

fn create_topics(v: i16) -> CreateTopicsRequest {
    use create_topics_request::*;
    let flexible = v >= 5;
    CreateTopicsRequest::default()
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic("t"))
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(vec![CreatableReplicaAssignment::default()
                .with_partition_index(0)
                .with_broker_ids(vec![BrokerId(0), BrokerId(1)])
                .with_unknown_tagged_fields(unknown(flexible))])
            .with_configs(vec![CreatableTopicConfig::default()
                .with_name(s("retention.ms"))
                .with_value(Some(s("1000")))
                .with_unknown_tagged_fields(unknown(flexible))])
            .with_unknown_tagged_fields(unknown(flexible))])
        .with_timeout_ms(1000)
        .with_validate_only(v >= 1)
        .with_unknown_tagged_fields(unknown(flexible))
}

fn delete_topics(v: i16) -> DeleteTopicsRequest {
    use delete_topics_request::*;
    DeleteTopicsRequest::default()
        .with_topics(on(
            v >= 6,
            vec![DeleteTopicState::default()
                .with_name(Some(topic("t")))
                .with_topic_id(id(3))
                .with_unknown_tagged_fields(unknown(true))],
        ))
        .with_topic_names(on(v <= 5, vec![topic("t"), topic("u")]))
        .with_timeout_ms(1000)
        .with_unknown_tagged_fields(unknown(v >= 4))
}

fn delete_records(v: i16) -> DeleteRecordsRequest {
    use delete_records_request::*;
    DeleteRecordsRequest::default()
        .with_topics(vec![DeleteRecordsTopic::default()
            .with_name(topic("t"))
            .with_partitions(vec![DeleteRecordsPartition::default()
                .with_partition_index(0)
                .with_offset(5)
                .with_unknown_tagged_fields(unknown(v >= 2))])])
        .with_timeout_ms(1000)
        .with_unknown_tagged_fields(unknown(v >= 2))
}

fn init_producer_id(v: i16) -> InitProducerIdRequest {
    InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(s("tx"))))
        .with_transaction_timeout_ms(1000)
        .with_producer_id(pick(v >= 3, ProducerId(5), ProducerId(-1)))
        .with_producer_epoch(pick(v >= 3, 1, -1))
        .with_unknown_tagged_fields(unknown(v >= 2))
}

fn offset_for_leader_epoch(v: i16) -> OffsetForLeaderEpochRequest {
    use offset_for_leader_epoch_request::*;
    OffsetForLeaderEpochRequest::default()
        .with_replica_id(pick(v >= 3, BrokerId(-1), BrokerId(-2)))
        .with_topics(vec![OffsetForLeaderTopic::default()
            .with_topic(topic("t"))
            .with_partitions(vec![OffsetForLeaderPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(pick(v >= 2, 1, -1))
                .with_leader_epoch(0)
                .with_unknown_tagged_fields(unknown(v >= 4))])])
        .with_unknown_tagged_fields(unknown(v >= 4))
}

fn describe_configs(v: i16) -> DescribeConfigsRequest {
    use describe_configs_request::*;
    DescribeConfigsRequest::default()
        .with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s("t"))
            .with_configuration_keys(Some(vec![s("retention.ms")]))
            .with_unknown_tagged_fields(unknown(v >= 4))])
        .with_include_synonyms(v >= 1)
        .with_include_documentation(v >= 3)
        .with_unknown_tagged_fields(unknown(v >= 4))
}

fn alter_configs(v: i16) -> AlterConfigsRequest {
    use alter_configs_request::*;
    AlterConfigsRequest::default()
        .with_resources(vec![AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s("t"))
            .with_configs(vec![AlterableConfig::default()
                .with_name(s("retention.ms"))
                .with_value(Some(s("1000")))
                .with_unknown_tagged_fields(unknown(v >= 2))])
            .with_unknown_tagged_fields(unknown(v >= 2))])
        .with_validate_only(true)
        .with_unknown_tagged_fields(unknown(v >= 2))
}

fn create_partitions(v: i16) -> CreatePartitionsRequest {
    use create_partitions_request::*;
    CreatePartitionsRequest::default()
        .with_topics(vec![CreatePartitionsTopic::default()
            .with_name(topic("t"))
            .with_count(3)
            .with_assignments(Some(vec![CreatePartitionsAssignment::default()
                .with_broker_ids(vec![BrokerId(0)])
                .with_unknown_tagged_fields(unknown(v >= 2))]))
            .with_unknown_tagged_fields(unknown(v >= 2))])
        .with_timeout_ms(1000)
        .with_unknown_tagged_fields(unknown(v >= 2))
}

fn delete_groups(v: i16) -> DeleteGroupsRequest {
    DeleteGroupsRequest::default()
        .with_groups_names(vec![group("g"), group("h")])
        .with_unknown_tagged_fields(unknown(v >= 2))
}

fn elect_leaders(v: i16) -> ElectLeadersRequest {
    use elect_leaders_request::*;
    ElectLeadersRequest::default()
        .with_election_type(if v >= 1 { 1 } else { 0 })
        .with_topic_partitions(Some(vec![TopicPartitions::default()
            .with_topic(topic("t"))
            .with_partitions(vec![0, 3])
            .with_unknown_tagged_fields(unknown(v >= 2))]))
        .with_timeout_ms(60_000)
        .with_unknown_tagged_fields(unknown(v >= 2))
}

fn alter_partition_reassignments(_v: i16) -> AlterPartitionReassignmentsRequest {
    use alter_partition_reassignments_request::*;
    AlterPartitionReassignmentsRequest::default()
        .with_timeout_ms(60_000)
        .with_topics(vec![ReassignableTopic::default()
            .with_name(topic("t"))
            .with_partitions(vec![ReassignablePartition::default()
                .with_partition_index(0)
                .with_replicas(Some(vec![BrokerId(2), BrokerId(3)]))
                .with_unknown_tagged_fields(unknown(true))])
            .with_unknown_tagged_fields(unknown(true))])
        .with_unknown_tagged_fields(unknown(true))
}

fn list_partition_reassignments(_v: i16) -> ListPartitionReassignmentsRequest {
    use list_partition_reassignments_request::*;
    ListPartitionReassignmentsRequest::default()
        .with_timeout_ms(60_000)
        .with_topics(Some(vec![ListPartitionReassignmentsTopics::default()
            .with_name(topic("t"))
            .with_partition_indexes(vec![0, 2])
            .with_unknown_tagged_fields(unknown(true))]))
        .with_unknown_tagged_fields(unknown(true))
}

fn incremental_alter_configs(v: i16) -> IncrementalAlterConfigsRequest {
    use incremental_alter_configs_request::*;
    IncrementalAlterConfigsRequest::default()
        .with_resources(vec![AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s("t"))
            .with_configs(vec![AlterableConfig::default()
                .with_name(s("retention.ms"))
                .with_config_operation(0)
                .with_value(Some(s("1000")))
                .with_unknown_tagged_fields(unknown(v >= 1))])
            .with_unknown_tagged_fields(unknown(v >= 1))])
        .with_unknown_tagged_fields(unknown(v >= 1))
}

fn offset_delete(_v: i16) -> OffsetDeleteRequest {
    use offset_delete_request::*;
    OffsetDeleteRequest::default()
        .with_group_id(group("g"))
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name(topic("t"))
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0)
            ])])
}

fn describe_quorum(_v: i16) -> DescribeQuorumRequest {
    use describe_quorum_request::*;
    DescribeQuorumRequest::default()
        .with_topics(vec![TopicData::default()
            .with_topic_name(topic("__cluster_metadata"))
            .with_partitions(vec![PartitionData::default()
                .with_partition_index(0)
                .with_unknown_tagged_fields(unknown(true))])
            .with_unknown_tagged_fields(unknown(true))])
        .with_unknown_tagged_fields(unknown(true))
}

fn describe_log_dirs(v: i16) -> DescribeLogDirsRequest {
    use describe_log_dirs_request::*;
    let topic_ = DescribableLogDirTopic::default()
        .with_topic(topic("t"))
        .with_partitions(vec![0, 1])
        .with_unknown_tagged_fields(unknown(v >= 2));
    DescribeLogDirsRequest::default()
        .with_topics(Some(vec![topic_.clone(), topic_]))
        .with_unknown_tagged_fields(unknown(v >= 2))
}

fn describe_cluster(v: i16) -> DescribeClusterRequest {
    DescribeClusterRequest::default()
        .with_include_cluster_authorized_operations(true)
        .with_endpoint_type(pick(v >= 1, 2, 1))
        .with_unknown_tagged_fields(unknown(true))
}

fn describe_topic_partitions(_v: i16) -> DescribeTopicPartitionsRequest {
    use describe_topic_partitions_request::*;
    DescribeTopicPartitionsRequest::default()
        .with_topics(vec![TopicRequest::default()
            .with_name(topic("t"))
            .with_unknown_tagged_fields(unknown(true))])
        .with_response_partition_limit(100)
        .with_cursor(Some(
            Cursor::default()
                .with_topic_name(topic("t"))
                .with_partition_index(1)
                .with_unknown_tagged_fields(unknown(true)),
        ))
        .with_unknown_tagged_fields(unknown(true))
}
