//! Produce (key 0), v0-v11. v0-v2 (magic 0/1 message sets) are advertised, like Kafka 4
//! does, so that older librdkafka keeps compression on, and answered per partition with
//! UNSUPPORTED_VERSION. From v3 each partition carries exactly one RecordBatch (magic 2),
//! which is validated (length, magic, CRC-32C, record count), checked against the idempotent
//! producer state, given its offsets and appended as sent. acks=0 gets no response. A
//! partition listed twice gets INVALID_REQUEST for both entries and nothing is appended to it.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::log::batch::{self, BatchError};
use crate::log::{now_ms, TopicPartition};
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::topics;

const ZSTD: i16 = 4;
const DUPLICATE: &str = "The partition appears more than once in the request.";

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ProduceRequest,
) -> Option<ProduceResponse> {
    let version = header.api_version;
    let acks = req.acks;
    let now = now_ms();
    let duplicates = topics::duplicate_partitions(req.topic_data.iter().flat_map(|t| {
        t.partition_data
            .iter()
            .map(move |p| (t.name.as_str(), p.index))
    }));
    let responses = req
        .topic_data
        .into_iter()
        .map(|topic| {
            let name = topic.name.to_string();
            let topic_error = if version < 3 {
                Some(ec::UNSUPPORTED_VERSION)
            } else if acks != 0 && acks != 1 && acks != -1 {
                Some(ec::INVALID_REQUIRED_ACKS)
            } else if let Err(e) = topics::validate_name(&name) {
                Some(e.code)
            } else if !broker.cluster.has_topic(&name) {
                Some(ec::UNKNOWN_TOPIC_OR_PARTITION)
            } else {
                None
            };
            let partitions = topic
                .partition_data
                .into_iter()
                .map(|p| {
                    let base = PartitionProduceResponse::default().with_index(p.index);
                    if let Some(code) = topic_error {
                        return base.with_error_code(code);
                    }
                    if !duplicates.is_empty()
                        && duplicates.contains(&TopicPartition::new(name.as_str(), p.index))
                    {
                        // Appending either entry would be arbitrary: refuse both, as
                        // ListOffsets does.
                        return base
                            .with_error_code(ec::INVALID_REQUEST)
                            .with_error_message(
                                (version >= 8).then(|| StrBytes::from_static_str(DUPLICATE)),
                            );
                    }
                    produce_partition(broker, &name, p.index, p.records, version, now, base)
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_partition_responses(partitions)
        })
        .collect();
    if acks == 0 {
        return None;
    }
    Some(ProduceResponse::default().with_responses(responses))
}

fn produce_partition(
    broker: &Broker,
    topic: &str,
    index: i32,
    records: Option<Bytes>,
    version: i16,
    now: i64,
    base: PartitionProduceResponse,
) -> PartitionProduceResponse {
    let partition = match broker.leader_log(&TopicPartition::new(topic, index)) {
        Ok(p) => p,
        Err(code) => return base.with_error_code(code),
    };
    let fail = |code: i16, msg: String| {
        // error_message exists from v8.
        base.clone()
            .with_error_code(code)
            .with_error_message((version >= 8).then(|| StrBytes::from_string(msg)))
    };
    let records = records.unwrap_or_default();
    let batches = match batch::split_batches(records) {
        Ok(b) => b,
        Err(BatchError::BadMagic(m)) => {
            return fail(
                ec::INVALID_RECORD,
                format!("Produce requests with version {version} are only allowed to contain record batches with magic version 2 (got {m})."),
            )
        }
        Err(e @ BatchError::BadCodec(_)) => return fail(ec::INVALID_RECORD, e.to_string()),
        Err(e) => return fail(ec::CORRUPT_MESSAGE, e.to_string()),
    };
    let [(raw, h)] = &batches[..] else {
        return fail(
            ec::INVALID_RECORD,
            format!("Produce requests with version {version} must have exactly one record batch per partition."),
        );
    };
    if version < 7 && h.codec() == ZSTD {
        return fail(
            ec::UNSUPPORTED_FOR_MESSAGE_FORMAT,
            "Produce requests with ZStandard compression need version 7 or later.".into(),
        );
    }
    // Until replication/ knows the leader epoch and drives the high watermark, a batch is
    // stamped with epoch 0 and committed as soon as it is in the log, as on a single node.
    match partition.append(raw, h, now, 0) {
        Ok(info) => {
            if let Err(e) = partition.advance_high_watermark(i64::MAX) {
                return fail(ec::for_log_error(&e), e.to_string());
            }
            base.with_base_offset(info.base_offset)
                .with_log_append_time_ms(info.log_append_time)
                .with_log_start_offset(if version >= 5 {
                    info.log_start_offset
                } else {
                    -1
                })
        }
        Err(e) => fail(ec::for_log_error(&e), e.to_string()),
    }
}
