//! DeleteRecords (key 21), v0-v2: moves each partition's log start offset up to the given
//! offset (-1: the high watermark), deleting the segments wholly below it. The answer is the
//! new low watermark per partition; an offset above the high watermark is
//! OFFSET_OUT_OF_RANGE, an unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION.

use std::sync::Arc;

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use crate::broker::Broker;
use crate::log::TopicPartition;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DeleteRecordsRequest,
) -> DeleteRecordsResponse {
    // Kafka's authorization: Delete on each topic.
    let authz = broker.authz(header);
    // Renames and fsyncs: off the async workers.
    let topics = tokio::task::block_in_place(|| {
        req.topics
            .into_iter()
            .map(|t| {
                let allowed = authz.topic(Operation::Delete, &t.name);
                let partitions = t
                    .partitions
                    .into_iter()
                    .map(|p| {
                        let result = DeleteRecordsPartitionResult::default()
                            .with_partition_index(p.partition_index)
                            .with_low_watermark(-1);
                        if !allowed {
                            return result.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
                        }
                        let tp = TopicPartition::new(t.name.as_str(), p.partition_index);
                        let log = match broker.leader_log(&tp) {
                            Ok(log) => log,
                            Err(code) => return result.with_error_code(code),
                        };
                        match log.delete_records(p.offset) {
                            Ok(lso) => result.with_low_watermark(lso),
                            Err(e) => result.with_error_code(ec::for_log_error(&e)),
                        }
                    })
                    .collect();
                DeleteRecordsTopicResult::default()
                    .with_name(t.name)
                    .with_partitions(partitions)
            })
            .collect()
    });
    DeleteRecordsResponse::default().with_topics(topics)
}
