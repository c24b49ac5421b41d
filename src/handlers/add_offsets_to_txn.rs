//! AddOffsetsToTxn (key 25), v0-v4: a transactional producer adds a group's offsets to its
//! transaction (`sendOffsetsToTransaction`): the coordinator adds the group's partition of
//! `__consumer_offsets` to the transaction, as AddPartitionsToTxn does for data partitions.
//! Authorization (Kafka's): Write on the transactional id, then Read on the group. v0-v1 get
//! INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.

use std::collections::BTreeSet;
use std::sync::Arc;

use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};

use crate::broker::Broker;
use crate::group::offsets_topic::{partition_for, OFFSETS_TOPIC};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: AddOffsetsToTxnRequest,
) -> AddOffsetsToTxnResponse {
    let authz = broker.authz(header);
    let code = if !authz.transactional_id(Operation::Write, &req.transactional_id) {
        ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    } else if !authz.group(Operation::Read, &req.group_id) {
        ec::GROUP_AUTHORIZATION_FAILED
    } else if req.transactional_id.is_empty() {
        ec::INVALID_REQUEST
    } else {
        // The group's partition as placed by the topic's own partition count.
        let partitions = broker
            .cluster
            .topic(OFFSETS_TOPIC)
            .map(|t| t.partitions.len() as i32)
            .unwrap_or(broker.groups.offsets.num_partitions);
        let set = BTreeSet::from([(
            OFFSETS_TOPIC.to_string(),
            partition_for(&req.group_id, partitions),
        )]);
        match broker
            .txns
            .add_partitions(
                broker,
                &req.transactional_id,
                req.producer_id.0,
                req.producer_epoch,
                &set,
            )
            .await
        {
            Ok(()) => ec::NONE,
            Err(ec::PRODUCER_FENCED) if header.api_version < 2 => ec::INVALID_PRODUCER_EPOCH,
            Err(code) => code,
        }
    };
    AddOffsetsToTxnResponse::default().with_error_code(code)
}
