//! Test samples of the transaction requests (see [`super::samples`]' module doc).

use kafka_protocol::messages::*;

use super::samples::{group, s, topic, unknown};

fn txn_id(text: &str) -> TransactionalId {
    TransactionalId(s(text))
}

pub(super) fn add_partitions_to_txn(v: i16) -> AddPartitionsToTxnRequest {
    use add_partitions_to_txn_request::*;
    let flexible = v >= 3;
    let t = AddPartitionsToTxnTopic::default()
        .with_name(topic("t"))
        .with_partitions(vec![0, 1])
        .with_unknown_tagged_fields(unknown(flexible));
    let r = AddPartitionsToTxnRequest::default().with_unknown_tagged_fields(unknown(flexible));
    if v >= 4 {
        let tx = AddPartitionsToTxnTransaction::default()
            .with_transactional_id(txn_id("tx"))
            .with_producer_id(ProducerId(7))
            .with_producer_epoch(2)
            .with_verify_only(true)
            .with_topics(vec![t.clone(), t])
            .with_unknown_tagged_fields(unknown(true));
        r.with_transactions(vec![tx.clone(), tx])
    } else {
        r.with_v3_and_below_transactional_id(txn_id("tx"))
            .with_v3_and_below_producer_id(ProducerId(7))
            .with_v3_and_below_producer_epoch(2)
            .with_v3_and_below_topics(vec![t.clone(), t])
    }
}

pub(super) fn add_offsets_to_txn(v: i16) -> AddOffsetsToTxnRequest {
    AddOffsetsToTxnRequest::default()
        .with_transactional_id(txn_id("tx"))
        .with_producer_id(ProducerId(7))
        .with_producer_epoch(2)
        .with_group_id(group("g"))
        .with_unknown_tagged_fields(unknown(v >= 3))
}

pub(super) fn end_txn(v: i16) -> EndTxnRequest {
    EndTxnRequest::default()
        .with_transactional_id(txn_id("tx"))
        .with_producer_id(ProducerId(7))
        .with_producer_epoch(2)
        .with_committed(true)
        .with_unknown_tagged_fields(unknown(v >= 3))
}

pub(super) fn write_txn_markers(v: i16) -> WriteTxnMarkersRequest {
    use write_txn_markers_request::*;
    let flexible = v >= 1;
    let t = WritableTxnMarkerTopic::default()
        .with_name(topic("t"))
        .with_partition_indexes(vec![0, 3])
        .with_unknown_tagged_fields(unknown(flexible));
    let m = WritableTxnMarker::default()
        .with_producer_id(ProducerId(7))
        .with_producer_epoch(2)
        .with_transaction_result(true)
        .with_topics(vec![t.clone(), t])
        .with_coordinator_epoch(5)
        .with_unknown_tagged_fields(unknown(flexible));
    WriteTxnMarkersRequest::default()
        .with_markers(vec![m.clone(), m])
        .with_unknown_tagged_fields(unknown(flexible))
}

pub(super) fn txn_offset_commit(v: i16) -> TxnOffsetCommitRequest {
    use txn_offset_commit_request::*;
    let flexible = v >= 3;
    let p = TxnOffsetCommitRequestPartition::default()
        .with_partition_index(1)
        .with_committed_offset(42)
        .with_committed_leader_epoch(if v >= 2 { 3 } else { -1 })
        .with_committed_metadata(Some(s("m")))
        .with_unknown_tagged_fields(unknown(flexible));
    let t = TxnOffsetCommitRequestTopic::default()
        .with_name(topic("t"))
        .with_partitions(vec![p.clone(), p])
        .with_unknown_tagged_fields(unknown(flexible));
    let r = TxnOffsetCommitRequest::default()
        .with_transactional_id(txn_id("tx"))
        .with_group_id(group("g"))
        .with_producer_id(ProducerId(7))
        .with_producer_epoch(2)
        .with_topics(vec![t.clone(), t])
        .with_unknown_tagged_fields(unknown(flexible));
    if v >= 3 {
        r.with_generation_id(4)
            .with_member_id(s("m-1"))
            .with_group_instance_id(Some(s("i-1")))
    } else {
        r
    }
}

pub(super) fn describe_producers(_v: i16) -> DescribeProducersRequest {
    use describe_producers_request::*;
    let t = TopicRequest::default()
        .with_name(topic("t"))
        .with_partition_indexes(vec![0, 2])
        .with_unknown_tagged_fields(unknown(true));
    DescribeProducersRequest::default()
        .with_topics(vec![t.clone(), t])
        .with_unknown_tagged_fields(unknown(true))
}

pub(super) fn describe_transactions(_v: i16) -> DescribeTransactionsRequest {
    DescribeTransactionsRequest::default()
        .with_transactional_ids(vec![txn_id("a"), txn_id("b")])
        .with_unknown_tagged_fields(unknown(true))
}

pub(super) fn list_transactions(v: i16) -> ListTransactionsRequest {
    ListTransactionsRequest::default()
        .with_state_filters(vec![s("Ongoing"), s("Empty")])
        .with_producer_id_filters(vec![ProducerId(1), ProducerId(2)])
        .with_duration_filter(if v >= 1 { 5000 } else { -1 })
        .with_unknown_tagged_fields(unknown(true))
}
