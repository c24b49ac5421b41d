//! OffsetDelete (key 47), v0: deletes committed offsets of a group, except for topics its
//! current members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC), by writing their tombstones to
//! `__consumer_offsets`; answered once they are committed.

use std::sync::Arc;

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    // Kafka's authorization: Delete on the group, then Read on each topic.
    let authz = broker.authz(header);
    if !authz.group(Operation::Delete, &req.group_id) {
        return OffsetDeleteResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    match broker.groups.describe(&req.group_id) {
        Err(code) => return OffsetDeleteResponse::default().with_error_code(code),
        Ok(None) => return OffsetDeleteResponse::default().with_error_code(ec::GROUP_ID_NOT_FOUND),
        Ok(Some(_)) => {}
    }
    let subscribed = broker.groups.subscribed_topics(&req.group_id);
    let mut doomed = Vec::new();
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.to_string();
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let code = if !authz.topic(Operation::Read, &name) {
                        ec::TOPIC_AUTHORIZATION_FAILED
                    } else if !broker.partition_exists(&name, p.partition_index) {
                        ec::UNKNOWN_TOPIC_OR_PARTITION
                    } else if subscribed.contains(&name) {
                        ec::GROUP_SUBSCRIBED_TO_TOPIC
                    } else {
                        doomed.push((name.clone(), p.partition_index));
                        ec::NONE
                    };
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    if let Err(code) = broker
        .groups
        .delete_offsets(broker, &req.group_id, doomed)
        .await
    {
        return OffsetDeleteResponse::default().with_error_code(code);
    }
    OffsetDeleteResponse::default().with_topics(topics)
}
