//! The request bodies, field by field, per version: Kafka's request schemas
//! (`clients/src/main/resources/common/message/*Request.json`) as kafka-protocol 0.15.1
//! decodes them. A field is nullable here when kafka-protocol decodes it into an `Option`,
//! which it then accepts as null at every version (Kafka's `nullableVersions` can be
//! narrower; the decoder's rule is the one that must not be contradicted).
//!
//! `f(name, type)` is present in every version; `.since(v)` / `.until(v)` narrow it (both
//! inclusive); `.tag(t)` puts it in the tagged-fields section. `msg(key, max, flexible, body)`
//! gives the highest version and the first flexible one (`NEVER` if none).

use kafka_protocol::messages::ApiKey;

use super::Ty::*;
use super::{f, Field, Message};

const NEVER: i16 = i16::MAX;

const fn msg(key: ApiKey, max: i16, flexible: i16, body: &'static [Field]) -> Message {
    Message {
        key,
        max,
        flexible,
        body,
    }
}

// Produce
const PRODUCE_PARTITION: &[Field] = &[f("index", I32), f("records", NBytes)];
const PRODUCE_TOPIC: &[Field] = &[
    f("name", Str).until(12),
    f("topic_id", Uuid).since(13),
    f("partition_data", Array(&Struct(PRODUCE_PARTITION))),
];
const PRODUCE: &[Field] = &[
    f("transactional_id", NStr).since(3),
    f("acks", I16),
    f("timeout_ms", I32),
    f("topic_data", Array(&Struct(PRODUCE_TOPIC))),
];

// Fetch
const FETCH_PARTITION: &[Field] = &[
    f("partition", I32),
    f("current_leader_epoch", I32).since(9),
    f("fetch_offset", I64),
    f("last_fetched_epoch", I32).since(12),
    f("log_start_offset", I64).since(5),
    f("partition_max_bytes", I32),
    f("replica_directory_id", Uuid).since(17).tag(0),
    f("high_watermark", I64).since(18).tag(1),
];
const FETCH_TOPIC: &[Field] = &[
    f("topic", Str).until(12),
    f("topic_id", Uuid).since(13),
    f("partitions", Array(&Struct(FETCH_PARTITION))),
];
const FORGOTTEN_TOPIC: &[Field] = &[
    f("topic", Str).since(7).until(12),
    f("topic_id", Uuid).since(13),
    f("partitions", Array(&I32)).since(7),
];
const REPLICA_STATE: &[Field] = &[
    f("replica_id", I32).since(15),
    f("replica_epoch", I64).since(15),
];
const FETCH: &[Field] = &[
    f("cluster_id", NStr).tag(0),
    f("replica_id", I32).until(14),
    f("replica_state", Struct(REPLICA_STATE)).since(15).tag(1),
    f("max_wait_ms", I32),
    f("min_bytes", I32),
    f("max_bytes", I32).since(3),
    f("isolation_level", I8).since(4),
    f("session_id", I32).since(7),
    f("session_epoch", I32).since(7),
    f("topics", Array(&Struct(FETCH_TOPIC))),
    f("forgotten_topics_data", Array(&Struct(FORGOTTEN_TOPIC))).since(7),
    f("rack_id", Str).since(11),
];

// ListOffsets
const LIST_OFFSETS_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("current_leader_epoch", I32).since(4),
    f("timestamp", I64),
    f("max_num_offsets", I32).until(0),
];
const LIST_OFFSETS_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Array(&Struct(LIST_OFFSETS_PARTITION))),
];
const LIST_OFFSETS: &[Field] = &[
    f("replica_id", I32),
    f("isolation_level", I8).since(2),
    f("topics", Array(&Struct(LIST_OFFSETS_TOPIC))),
    f("timeout_ms", I32).since(10),
];

// Metadata
const METADATA_TOPIC: &[Field] = &[f("topic_id", Uuid).since(10), f("name", NStr)];
const METADATA: &[Field] = &[
    f("topics", NArray(&Struct(METADATA_TOPIC))),
    f("allow_auto_topic_creation", Bool).since(4),
    f("include_cluster_authorized_operations", Bool)
        .since(8)
        .until(10),
    f("include_topic_authorized_operations", Bool).since(8),
];

// OffsetCommit
const OFFSET_COMMIT_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("committed_offset", I64),
    f("committed_leader_epoch", I32).since(6),
    f("commit_timestamp", I64).since(1).until(1),
    f("committed_metadata", NStr),
];
const OFFSET_COMMIT_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Array(&Struct(OFFSET_COMMIT_PARTITION))),
];
const OFFSET_COMMIT: &[Field] = &[
    f("group_id", Str),
    f("generation_id_or_member_epoch", I32).since(1),
    f("member_id", Str).since(1),
    f("group_instance_id", NStr).since(7),
    f("retention_time_ms", I64).since(2).until(4),
    f("topics", Array(&Struct(OFFSET_COMMIT_TOPIC))),
];

// OffsetFetch: one group (v0-7) or many (v8+).
const OFFSET_FETCH_TOPIC: &[Field] = &[
    f("name", Str).until(7),
    f("partition_indexes", Array(&I32)).until(7),
];
const OFFSET_FETCH_GROUP_TOPIC: &[Field] = &[
    f("name", Str).since(8),
    f("partition_indexes", Array(&I32)).since(8),
];
const OFFSET_FETCH_GROUP: &[Field] = &[
    f("group_id", Str).since(8),
    f("member_id", NStr).since(9),
    f("member_epoch", I32).since(9),
    f("topics", NArray(&Struct(OFFSET_FETCH_GROUP_TOPIC))).since(8),
];
const OFFSET_FETCH: &[Field] = &[
    f("group_id", Str).until(7),
    f("topics", NArray(&Struct(OFFSET_FETCH_TOPIC))).until(7),
    f("groups", Array(&Struct(OFFSET_FETCH_GROUP))).since(8),
    f("require_stable", Bool).since(7),
];

const FIND_COORDINATOR: &[Field] = &[
    f("key", Str).until(3),
    f("key_type", I8).since(1),
    f("coordinator_keys", Array(&Str)).since(4),
];

// JoinGroup
const JOIN_GROUP_PROTOCOL: &[Field] = &[f("name", Str), f("metadata", Bytes)];
const JOIN_GROUP: &[Field] = &[
    f("group_id", Str),
    f("session_timeout_ms", I32),
    f("rebalance_timeout_ms", I32).since(1),
    f("member_id", Str),
    f("group_instance_id", NStr).since(5),
    f("protocol_type", Str),
    f("protocols", Array(&Struct(JOIN_GROUP_PROTOCOL))),
    f("reason", NStr).since(8),
];

const HEARTBEAT: &[Field] = &[
    f("group_id", Str),
    f("generation_id", I32),
    f("member_id", Str),
    f("group_instance_id", NStr).since(3),
];

// LeaveGroup: one member (v0-2) or many (v3+).
const LEAVE_GROUP_MEMBER: &[Field] = &[
    f("member_id", Str).since(3),
    f("group_instance_id", NStr).since(3),
    f("reason", NStr).since(5),
];
const LEAVE_GROUP: &[Field] = &[
    f("group_id", Str),
    f("member_id", Str).until(2),
    f("members", Array(&Struct(LEAVE_GROUP_MEMBER))).since(3),
];

// SyncGroup
const SYNC_GROUP_ASSIGNMENT: &[Field] = &[f("member_id", Str), f("assignment", Bytes)];
const SYNC_GROUP: &[Field] = &[
    f("group_id", Str),
    f("generation_id", I32),
    f("member_id", Str),
    f("group_instance_id", NStr).since(3),
    f("protocol_type", NStr).since(5),
    f("protocol_name", NStr).since(5),
    f("assignments", Array(&Struct(SYNC_GROUP_ASSIGNMENT))),
];

const DESCRIBE_GROUPS: &[Field] = &[
    f("groups", Array(&Str)),
    f("include_authorized_operations", Bool).since(3),
];

const LIST_GROUPS: &[Field] = &[
    f("states_filter", Array(&Str)).since(4),
    f("types_filter", Array(&Str)).since(5),
];

const API_VERSIONS: &[Field] = &[
    f("client_software_name", Str).since(3),
    f("client_software_version", Str).since(3),
];

// CreateTopics
const CREATE_TOPICS_ASSIGNMENT: &[Field] =
    &[f("partition_index", I32), f("broker_ids", Array(&I32))];
const CREATE_TOPICS_CONFIG: &[Field] = &[f("name", Str), f("value", NStr)];
const CREATE_TOPICS_TOPIC: &[Field] = &[
    f("name", Str),
    f("num_partitions", I32),
    f("replication_factor", I16),
    f("assignments", Array(&Struct(CREATE_TOPICS_ASSIGNMENT))),
    f("configs", Array(&Struct(CREATE_TOPICS_CONFIG))),
];
const CREATE_TOPICS: &[Field] = &[
    f("topics", Array(&Struct(CREATE_TOPICS_TOPIC))),
    f("timeout_ms", I32),
    f("validate_only", Bool).since(1),
];

// DeleteTopics: names (v0-5) or name-or-id states (v6+).
const DELETE_TOPICS_STATE: &[Field] = &[f("name", NStr).since(6), f("topic_id", Uuid).since(6)];
const DELETE_TOPICS: &[Field] = &[
    f("topics", Array(&Struct(DELETE_TOPICS_STATE))).since(6),
    f("topic_names", Array(&Str)).until(5),
    f("timeout_ms", I32),
];

// DeleteRecords
const DELETE_RECORDS_PARTITION: &[Field] = &[f("partition_index", I32), f("offset", I64)];
const DELETE_RECORDS_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Array(&Struct(DELETE_RECORDS_PARTITION))),
];
const DELETE_RECORDS: &[Field] = &[
    f("topics", Array(&Struct(DELETE_RECORDS_TOPIC))),
    f("timeout_ms", I32),
];

const INIT_PRODUCER_ID: &[Field] = &[
    f("transactional_id", NStr),
    f("transaction_timeout_ms", I32),
    f("producer_id", I64).since(3),
    f("producer_epoch", I16).since(3),
];

// OffsetForLeaderEpoch
const OFFSET_FOR_LEADER_PARTITION: &[Field] = &[
    f("partition", I32),
    f("current_leader_epoch", I32).since(2),
    f("leader_epoch", I32),
];
const OFFSET_FOR_LEADER_TOPIC: &[Field] = &[
    f("topic", Str),
    f("partitions", Array(&Struct(OFFSET_FOR_LEADER_PARTITION))),
];
const OFFSET_FOR_LEADER_EPOCH: &[Field] = &[
    f("replica_id", I32).since(3),
    f("topics", Array(&Struct(OFFSET_FOR_LEADER_TOPIC))),
];

// DescribeConfigs
const DESCRIBE_CONFIGS_RESOURCE: &[Field] = &[
    f("resource_type", I8),
    f("resource_name", Str),
    f("configuration_keys", NArray(&Str)),
];
const DESCRIBE_CONFIGS: &[Field] = &[
    f("resources", Array(&Struct(DESCRIBE_CONFIGS_RESOURCE))),
    f("include_synonyms", Bool).since(1),
    f("include_documentation", Bool).since(3),
];

// AlterConfigs
const ALTER_CONFIGS_CONFIG: &[Field] = &[f("name", Str), f("value", NStr)];
const ALTER_CONFIGS_RESOURCE: &[Field] = &[
    f("resource_type", I8),
    f("resource_name", Str),
    f("configs", Array(&Struct(ALTER_CONFIGS_CONFIG))),
];
const ALTER_CONFIGS: &[Field] = &[
    f("resources", Array(&Struct(ALTER_CONFIGS_RESOURCE))),
    f("validate_only", Bool),
];

// CreatePartitions
const CREATE_PARTITIONS_ASSIGNMENT: &[Field] = &[f("broker_ids", Array(&I32))];
const CREATE_PARTITIONS_TOPIC: &[Field] = &[
    f("name", Str),
    f("count", I32),
    f("assignments", NArray(&Struct(CREATE_PARTITIONS_ASSIGNMENT))),
];
const CREATE_PARTITIONS: &[Field] = &[
    f("topics", Array(&Struct(CREATE_PARTITIONS_TOPIC))),
    f("timeout_ms", I32),
    f("validate_only", Bool),
];

const DELETE_GROUPS: &[Field] = &[f("groups_names", Array(&Str))];

// IncrementalAlterConfigs
const INCREMENTAL_CONFIG: &[Field] = &[f("name", Str), f("config_operation", I8), f("value", NStr)];
const INCREMENTAL_RESOURCE: &[Field] = &[
    f("resource_type", I8),
    f("resource_name", Str),
    f("configs", Array(&Struct(INCREMENTAL_CONFIG))),
];
const INCREMENTAL_ALTER_CONFIGS: &[Field] = &[
    f("resources", Array(&Struct(INCREMENTAL_RESOURCE))),
    f("validate_only", Bool),
];

// AlterPartitionReassignments
const REASSIGNABLE_PARTITION: &[Field] = &[f("partition_index", I32), f("replicas", NArray(&I32))];
const REASSIGNABLE_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Array(&Struct(REASSIGNABLE_PARTITION))),
];
const ALTER_PARTITION_REASSIGNMENTS: &[Field] = &[
    f("timeout_ms", I32),
    f("topics", Array(&Struct(REASSIGNABLE_TOPIC))),
];

// ListPartitionReassignments
const LIST_REASSIGNMENTS_TOPIC: &[Field] = &[f("name", Str), f("partition_indexes", Array(&I32))];
const LIST_PARTITION_REASSIGNMENTS: &[Field] = &[
    f("timeout_ms", I32),
    f("topics", NArray(&Struct(LIST_REASSIGNMENTS_TOPIC))),
];

// OffsetDelete
const OFFSET_DELETE_PARTITION: &[Field] = &[f("partition_index", I32)];
const OFFSET_DELETE_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Array(&Struct(OFFSET_DELETE_PARTITION))),
];
const OFFSET_DELETE: &[Field] = &[
    f("group_id", Str),
    f("topics", Array(&Struct(OFFSET_DELETE_TOPIC))),
];

const DESCRIBE_CLUSTER: &[Field] = &[
    f("include_cluster_authorized_operations", Bool),
    f("endpoint_type", I8).since(1),
];

// ElectLeaders
const ELECT_LEADERS_TOPIC: &[Field] = &[f("topic", Str), f("partitions", Array(&I32))];
const ELECT_LEADERS: &[Field] = &[
    f("election_type", I8).since(1),
    f("topic_partitions", NArray(&Struct(ELECT_LEADERS_TOPIC))),
    f("timeout_ms", I32),
];

// SaslHandshake, SaslAuthenticate
const SASL_HANDSHAKE: &[Field] = &[f("mechanism", Str)];
const SASL_AUTHENTICATE: &[Field] = &[f("auth_bytes", Bytes)];

// DescribeQuorum
// DescribeLogDirs
const DESCRIBE_LOG_DIRS_TOPIC: &[Field] = &[f("topic", Str), f("partitions", Array(&I32))];
const DESCRIBE_LOG_DIRS: &[Field] = &[f("topics", NArray(&Struct(DESCRIBE_LOG_DIRS_TOPIC)))];

const DESCRIBE_QUORUM_PARTITION: &[Field] = &[f("partition_index", I32)];
const DESCRIBE_QUORUM_TOPIC: &[Field] = &[
    f("topic_name", Str),
    f("partitions", Array(&Struct(DESCRIBE_QUORUM_PARTITION))),
];
const DESCRIBE_QUORUM: &[Field] = &[f("topics", Array(&Struct(DESCRIBE_QUORUM_TOPIC)))];

// DescribeTopicPartitions
const DESCRIBE_TOPIC_PARTITIONS_TOPIC: &[Field] = &[f("name", Str)];
const DESCRIBE_TOPIC_PARTITIONS_CURSOR: &[Field] =
    &[f("topic_name", Str), f("partition_index", I32)];
const DESCRIBE_TOPIC_PARTITIONS: &[Field] = &[
    f("topics", Array(&Struct(DESCRIBE_TOPIC_PARTITIONS_TOPIC))),
    f("response_partition_limit", I32),
    f("cursor", OptStruct(DESCRIBE_TOPIC_PARTITIONS_CURSOR)),
];

// DescribeAcls, CreateAcls, DeleteAcls
const ACL_FILTER: &[Field] = &[
    f("resource_type_filter", I8),
    f("resource_name_filter", NStr),
    f("pattern_type_filter", I8).since(1),
    f("principal_filter", NStr),
    f("host_filter", NStr),
    f("operation", I8),
    f("permission_type", I8),
];
const ACL_CREATION: &[Field] = &[
    f("resource_type", I8),
    f("resource_name", Str),
    f("resource_pattern_type", I8).since(1),
    f("principal", Str),
    f("host", Str),
    f("operation", I8),
    f("permission_type", I8),
];
const CREATE_ACLS: &[Field] = &[f("creations", Array(&Struct(ACL_CREATION)))];
const DELETE_ACLS: &[Field] = &[f("filters", Array(&Struct(ACL_FILTER)))];

// DescribeUserScramCredentials, AlterUserScramCredentials
const SCRAM_USER: &[Field] = &[f("name", Str)];
const DESCRIBE_USER_SCRAM: &[Field] = &[f("users", NArray(&Struct(SCRAM_USER)))];
const SCRAM_DELETION: &[Field] = &[f("name", Str), f("mechanism", I8)];
const SCRAM_UPSERTION: &[Field] = &[
    f("name", Str),
    f("mechanism", I8),
    f("iterations", I32),
    f("salt", Bytes),
    f("salted_password", Bytes),
];
const ALTER_USER_SCRAM: &[Field] = &[
    f("deletions", Array(&Struct(SCRAM_DELETION))),
    f("upsertions", Array(&Struct(SCRAM_UPSERTION))),
];

// CreateDelegationToken, RenewDelegationToken, ExpireDelegationToken, DescribeDelegationToken
const TOKEN_PRINCIPAL: &[Field] = &[f("principal_type", Str), f("principal_name", Str)];
const CREATE_DELEGATION_TOKEN: &[Field] = &[
    f("owner_principal_type", NStr).since(3),
    f("owner_principal_name", NStr).since(3),
    f("renewers", Array(&Struct(TOKEN_PRINCIPAL))),
    f("max_lifetime_ms", I64),
];
const RENEW_DELEGATION_TOKEN: &[Field] = &[f("hmac", Bytes), f("renew_period_ms", I64)];
const EXPIRE_DELEGATION_TOKEN: &[Field] = &[f("hmac", Bytes), f("expiry_time_period_ms", I64)];
const DESCRIBE_DELEGATION_TOKEN: &[Field] = &[f("owners", NArray(&Struct(TOKEN_PRINCIPAL)))];

// DescribeClientQuotas, AlterClientQuotas (a float64 is 8 bytes, as an I64)
const QUOTA_COMPONENT: &[Field] = &[f("entity_type", Str), f("match_type", I8), f("match", NStr)];
const DESCRIBE_CLIENT_QUOTAS: &[Field] = &[
    f("components", Array(&Struct(QUOTA_COMPONENT))),
    f("strict", Bool),
];
const QUOTA_ENTITY: &[Field] = &[f("entity_type", Str), f("entity_name", NStr)];
const QUOTA_OP: &[Field] = &[f("key", Str), f("value", I64), f("remove", Bool)];
const QUOTA_ENTRY: &[Field] = &[
    f("entity", Array(&Struct(QUOTA_ENTITY))),
    f("ops", Array(&Struct(QUOTA_OP))),
];
const ALTER_CLIENT_QUOTAS: &[Field] = &[
    f("entries", Array(&Struct(QUOTA_ENTRY))),
    f("validate_only", Bool),
];

// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, WriteTxnMarkers, TxnOffsetCommit
const TXN_TOPIC: &[Field] = &[f("name", Str), f("partitions", Array(&I32))];
const TXN_TRANSACTION: &[Field] = &[
    f("transactional_id", Str),
    f("producer_id", I64),
    f("producer_epoch", I16),
    f("verify_only", Bool),
    f("topics", Array(&Struct(TXN_TOPIC))),
];
const ADD_PARTITIONS_TO_TXN: &[Field] = &[
    f("transactions", Array(&Struct(TXN_TRANSACTION))).since(4),
    f("v3_and_below_transactional_id", Str).until(3),
    f("v3_and_below_producer_id", I64).until(3),
    f("v3_and_below_producer_epoch", I16).until(3),
    f("v3_and_below_topics", Array(&Struct(TXN_TOPIC))).until(3),
];
const ADD_OFFSETS_TO_TXN: &[Field] = &[
    f("transactional_id", Str),
    f("producer_id", I64),
    f("producer_epoch", I16),
    f("group_id", Str),
];
const END_TXN: &[Field] = &[
    f("transactional_id", Str),
    f("producer_id", I64),
    f("producer_epoch", I16),
    f("committed", Bool),
];
const TXN_MARKER_TOPIC: &[Field] = &[f("name", Str), f("partition_indexes", Array(&I32))];
const TXN_MARKER: &[Field] = &[
    f("producer_id", I64),
    f("producer_epoch", I16),
    f("transaction_result", Bool),
    f("topics", Array(&Struct(TXN_MARKER_TOPIC))),
    f("coordinator_epoch", I32),
];
const WRITE_TXN_MARKERS: &[Field] = &[f("markers", Array(&Struct(TXN_MARKER)))];
const TXN_OFFSET_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("committed_offset", I64),
    f("committed_leader_epoch", I32).since(2),
    f("committed_metadata", NStr),
];
const TXN_OFFSET_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Array(&Struct(TXN_OFFSET_PARTITION))),
];
const TXN_OFFSET_COMMIT: &[Field] = &[
    f("transactional_id", Str),
    f("group_id", Str),
    f("producer_id", I64),
    f("producer_epoch", I16),
    f("generation_id", I32).since(3),
    f("member_id", Str).since(3),
    f("group_instance_id", NStr).since(3),
    f("topics", Array(&Struct(TXN_OFFSET_TOPIC))),
];

// DescribeProducers, DescribeTransactions, ListTransactions
const DESCRIBE_PRODUCERS_TOPIC: &[Field] = &[f("name", Str), f("partition_indexes", Array(&I32))];
const DESCRIBE_PRODUCERS: &[Field] = &[f("topics", Array(&Struct(DESCRIBE_PRODUCERS_TOPIC)))];
const DESCRIBE_TRANSACTIONS: &[Field] = &[f("transactional_ids", Array(&Str))];
const LIST_TRANSACTIONS: &[Field] = &[
    f("state_filters", Array(&Str)),
    f("producer_id_filters", Array(&I64)),
    f("duration_filter", I64).since(1),
];

/// Every request body weir accepts, in api-key order. One static, so a field has one
/// address (the tests identify fields by it).
pub(super) static MESSAGES: &[Message] = &[
    msg(ApiKey::Produce, 13, 9, PRODUCE),
    msg(ApiKey::Fetch, 18, 12, FETCH),
    msg(ApiKey::ListOffsets, 10, 6, LIST_OFFSETS),
    msg(ApiKey::Metadata, 13, 9, METADATA),
    msg(ApiKey::OffsetCommit, 9, 8, OFFSET_COMMIT),
    msg(ApiKey::OffsetFetch, 9, 6, OFFSET_FETCH),
    msg(ApiKey::FindCoordinator, 6, 3, FIND_COORDINATOR),
    msg(ApiKey::JoinGroup, 9, 6, JOIN_GROUP),
    msg(ApiKey::Heartbeat, 4, 4, HEARTBEAT),
    msg(ApiKey::LeaveGroup, 5, 4, LEAVE_GROUP),
    msg(ApiKey::SyncGroup, 5, 4, SYNC_GROUP),
    msg(ApiKey::DescribeGroups, 5, 5, DESCRIBE_GROUPS),
    msg(ApiKey::ListGroups, 5, 3, LIST_GROUPS),
    msg(ApiKey::SaslHandshake, 1, NEVER, SASL_HANDSHAKE),
    msg(ApiKey::ApiVersions, 4, 3, API_VERSIONS),
    msg(ApiKey::CreateTopics, 7, 5, CREATE_TOPICS),
    msg(ApiKey::DeleteTopics, 6, 4, DELETE_TOPICS),
    msg(ApiKey::DeleteRecords, 2, 2, DELETE_RECORDS),
    msg(ApiKey::InitProducerId, 5, 2, INIT_PRODUCER_ID),
    msg(ApiKey::OffsetForLeaderEpoch, 4, 4, OFFSET_FOR_LEADER_EPOCH),
    msg(ApiKey::AddPartitionsToTxn, 5, 3, ADD_PARTITIONS_TO_TXN),
    msg(ApiKey::AddOffsetsToTxn, 4, 3, ADD_OFFSETS_TO_TXN),
    msg(ApiKey::EndTxn, 4, 3, END_TXN),
    msg(ApiKey::WriteTxnMarkers, 1, 1, WRITE_TXN_MARKERS),
    msg(ApiKey::TxnOffsetCommit, 4, 3, TXN_OFFSET_COMMIT),
    msg(ApiKey::DescribeAcls, 3, 2, ACL_FILTER),
    msg(ApiKey::CreateAcls, 3, 2, CREATE_ACLS),
    msg(ApiKey::DeleteAcls, 3, 2, DELETE_ACLS),
    msg(ApiKey::DescribeConfigs, 4, 4, DESCRIBE_CONFIGS),
    msg(ApiKey::AlterConfigs, 2, 2, ALTER_CONFIGS),
    msg(ApiKey::CreatePartitions, 3, 2, CREATE_PARTITIONS),
    msg(ApiKey::CreateDelegationToken, 3, 2, CREATE_DELEGATION_TOKEN),
    msg(ApiKey::RenewDelegationToken, 2, 2, RENEW_DELEGATION_TOKEN),
    msg(ApiKey::ExpireDelegationToken, 2, 2, EXPIRE_DELEGATION_TOKEN),
    msg(
        ApiKey::DescribeDelegationToken,
        3,
        2,
        DESCRIBE_DELEGATION_TOKEN,
    ),
    msg(ApiKey::DeleteGroups, 2, 2, DELETE_GROUPS),
    msg(ApiKey::ElectLeaders, 2, 2, ELECT_LEADERS),
    msg(
        ApiKey::IncrementalAlterConfigs,
        1,
        1,
        INCREMENTAL_ALTER_CONFIGS,
    ),
    msg(
        ApiKey::AlterPartitionReassignments,
        0,
        0,
        ALTER_PARTITION_REASSIGNMENTS,
    ),
    msg(
        ApiKey::ListPartitionReassignments,
        0,
        0,
        LIST_PARTITION_REASSIGNMENTS,
    ),
    msg(ApiKey::OffsetDelete, 0, NEVER, OFFSET_DELETE),
    msg(ApiKey::DescribeClientQuotas, 1, 1, DESCRIBE_CLIENT_QUOTAS),
    msg(ApiKey::AlterClientQuotas, 1, 1, ALTER_CLIENT_QUOTAS),
    msg(
        ApiKey::DescribeUserScramCredentials,
        0,
        0,
        DESCRIBE_USER_SCRAM,
    ),
    msg(ApiKey::AlterUserScramCredentials, 0, 0, ALTER_USER_SCRAM),
    msg(ApiKey::DescribeLogDirs, 4, 2, DESCRIBE_LOG_DIRS),
    msg(ApiKey::SaslAuthenticate, 2, 2, SASL_AUTHENTICATE),
    msg(ApiKey::DescribeQuorum, 2, 0, DESCRIBE_QUORUM),
    msg(ApiKey::DescribeCluster, 1, 0, DESCRIBE_CLUSTER),
    msg(ApiKey::DescribeProducers, 0, 0, DESCRIBE_PRODUCERS),
    msg(ApiKey::DescribeTransactions, 0, 0, DESCRIBE_TRANSACTIONS),
    msg(ApiKey::ListTransactions, 1, 0, LIST_TRANSACTIONS),
    msg(
        ApiKey::DescribeTopicPartitions,
        0,
        0,
        DESCRIBE_TOPIC_PARTITIONS,
    ),
];
