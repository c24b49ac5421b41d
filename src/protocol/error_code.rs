//! Kafka error codes, and the one mapping from this crate's errors to them.

use crate::log::producer_state::ProducerError;
use crate::log::LogError;

pub const NONE: i16 = 0;
pub const UNKNOWN_SERVER_ERROR: i16 = -1;
pub const OFFSET_OUT_OF_RANGE: i16 = 1;
pub const CORRUPT_MESSAGE: i16 = 2;
pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
pub const LEADER_NOT_AVAILABLE: i16 = 5;
pub const NOT_LEADER_OR_FOLLOWER: i16 = 6;
pub const REQUEST_TIMED_OUT: i16 = 7;
pub const NOT_CONTROLLER: i16 = 41;
pub const NOT_COORDINATOR: i16 = 16;
pub const MESSAGE_TOO_LARGE: i16 = 10;
pub const INVALID_TOPIC_EXCEPTION: i16 = 17;
pub const RECORD_LIST_TOO_LARGE: i16 = 18;
pub const INVALID_REQUIRED_ACKS: i16 = 21;
pub const INVALID_TIMESTAMP: i16 = 32;
pub const UNSUPPORTED_VERSION: i16 = 35;
pub const TOPIC_ALREADY_EXISTS: i16 = 36;
pub const INVALID_PARTITIONS: i16 = 37;
pub const INVALID_REPLICATION_FACTOR: i16 = 38;
pub const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
pub const INVALID_CONFIG: i16 = 40;
pub const INVALID_REQUEST: i16 = 42;
pub const POLICY_VIOLATION: i16 = 44;
pub const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
pub const INVALID_PRODUCER_EPOCH: i16 = 47;
pub const TRANSACTION_COORDINATOR_FENCED: i16 = 52;
pub const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
pub const KAFKA_STORAGE_ERROR: i16 = 56;
pub const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = 43;
pub const UNKNOWN_PRODUCER_ID: i16 = 59;
pub const INVALID_RECORD: i16 = 87;
pub const UNSUPPORTED_COMPRESSION_TYPE: i16 = 76;
pub const UNKNOWN_TOPIC_ID: i16 = 100;
pub const RESOURCE_NOT_FOUND: i16 = 91;
pub const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
pub const GROUP_AUTHORIZATION_FAILED: i16 = 30;
pub const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
pub const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
pub const SECURITY_DISABLED: i16 = 54;
pub const DELEGATION_TOKEN_AUTH_DISABLED: i16 = 61;
pub const DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: i16 = 64;
pub const DUPLICATE_RESOURCE: i16 = 92;
pub const UNACCEPTABLE_CREDENTIAL: i16 = 93;
pub const NOT_ENOUGH_REPLICAS: i16 = 19;
pub const NOT_ENOUGH_REPLICAS_AFTER_APPEND: i16 = 20;
pub const FENCED_LEADER_EPOCH: i16 = 74;
pub const UNKNOWN_LEADER_EPOCH: i16 = 75;
pub const STALE_BROKER_EPOCH: i16 = 77;
pub const INVALID_UPDATE_VERSION: i16 = 95;
pub const INELIGIBLE_REPLICA: i16 = 107;
pub const PREFERRED_LEADER_NOT_AVAILABLE: i16 = 80;
pub const ELIGIBLE_LEADERS_NOT_AVAILABLE: i16 = 83;
pub const ELECTION_NOT_NEEDED: i16 = 84;
// Transactions (KIP-98, KIP-890).
pub const INVALID_TXN_STATE: i16 = 48;
pub const INVALID_PRODUCER_ID_MAPPING: i16 = 49;
pub const INVALID_TRANSACTION_TIMEOUT: i16 = 50;
pub const CONCURRENT_TRANSACTIONS: i16 = 51;
pub const OPERATION_NOT_ATTEMPTED: i16 = 55;
pub const UNSTABLE_OFFSET_COMMIT: i16 = 88;
pub const PRODUCER_FENCED: i16 = 90;
pub const TRANSACTIONAL_ID_NOT_FOUND: i16 = 105;
pub const TRANSACTION_ABORTABLE: i16 = 120;

/// The Kafka error code for a log error.
pub fn for_log_error(e: &LogError) -> i16 {
    match e {
        LogError::Storage(_) | LogError::Io(_) => KAFKA_STORAGE_ERROR,
        LogError::Deleted(_) => UNKNOWN_TOPIC_OR_PARTITION,
        LogError::OffsetOutOfRange { .. } => OFFSET_OUT_OF_RANGE,
        LogError::Producer(ProducerError::InvalidEpoch { .. }) => INVALID_PRODUCER_EPOCH,
        LogError::Producer(ProducerError::OutOfOrder { .. }) => OUT_OF_ORDER_SEQUENCE_NUMBER,
        LogError::Producer(ProducerError::CoordinatorFenced { .. }) => {
            TRANSACTION_COORDINATOR_FENCED
        }
        LogError::Producer(ProducerError::InvalidTxnState { .. }) => INVALID_TXN_STATE,
        LogError::InvalidRecord(_) => INVALID_RECORD,
        LogError::Corrupt(_) => CORRUPT_MESSAGE,
        LogError::MessageTooLarge { .. } => MESSAGE_TOO_LARGE,
        LogError::InvalidTimestamp { .. } => INVALID_TIMESTAMP,
        LogError::PolicyViolation(_) => POLICY_VIOLATION,
        // A follower's own append (Kafka's UnexpectedAppendOffsetException): no client asks.
        LogError::OffsetMismatch { .. } => UNKNOWN_SERVER_ERROR,
    }
}
pub const OFFSET_METADATA_TOO_LARGE: i16 = 12;
pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
pub const INVALID_FETCH_SIZE: i16 = 4;
pub const INVALID_COMMIT_OFFSET_SIZE: i16 = 28;
pub const ILLEGAL_GENERATION: i16 = 22;
pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
pub const INVALID_GROUP_ID: i16 = 24;
pub const UNKNOWN_MEMBER_ID: i16 = 25;
pub const INVALID_SESSION_TIMEOUT: i16 = 26;
pub const REBALANCE_IN_PROGRESS: i16 = 27;
pub const NON_EMPTY_GROUP: i16 = 68;
pub const GROUP_ID_NOT_FOUND: i16 = 69;
pub const MEMBER_ID_REQUIRED: i16 = 79;
pub const FENCED_INSTANCE_ID: i16 = 82;
pub const NO_REASSIGNMENT_IN_PROGRESS: i16 = 85;
pub const GROUP_SUBSCRIBED_TO_TOPIC: i16 = 86;
