//! OffsetDelete (key 47), v0: deletes committed offsets of a group, except for topics its
//! current members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC).

use std::sync::Arc;

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;

pub async fn handle(
    broker: &Arc<Broker>,
    _header: &RequestHeader,
    req: OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    if let Some(code) = broker.cluster.coordinator_error(&req.group_id) {
        return OffsetDeleteResponse::default().with_error_code(code);
    }
    if broker.groups.describe(&req.group_id).is_none() {
        return OffsetDeleteResponse::default().with_error_code(ec::GROUP_ID_NOT_FOUND);
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
                    let code = if !broker.partition_exists(&name, p.partition_index) {
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
    if !doomed.is_empty() {
        if let Err(e) = tokio::task::block_in_place(|| {
            broker.metadata.delete_offsets(&req.group_id, Some(&doomed))
        }) {
            tracing::error!(group = %req.group_id.as_str(), error = %e, "deleting offsets");
            return OffsetDeleteResponse::default().with_error_code(ec::UNKNOWN_SERVER_ERROR);
        }
    }
    OffsetDeleteResponse::default().with_topics(topics)
}
