#![allow(clippy::unwrap_used)]
//! The partition log's side of transactions, through the wire: transactional batches
//! produced by clients, markers appended as the transaction coordinator appends them (the
//! leader replica's append), then Fetch READ_COMMITTED / READ_UNCOMMITTED (records, aborted
//! transactions, last stable offset), ListOffsets READ_COMMITTED, what Produce refuses, and a
//! restart keeping an open transaction open and the aborted index intact.

mod common;

use bytes::Bytes;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    BrokerId, InitProducerIdRequest, ListOffsetsRequest, ProduceRequest, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

use common::{create_topic, fetch_request, records, start, topic_name, Client};
use weir::log::{batch, TopicPartition};

const TOPIC: &str = "tx";
const TS: i64 = 1_700_000_000_000;

/// A transactional batch of `values` from producer `pid` (epoch 0) at sequence `seq`.
fn txn_batch(values: &[&str], pid: i64, seq: i32, ts: i64) -> Bytes {
    txn_batch_at_epoch(values, pid, 0, seq, ts)
}

fn txn_batch_at_epoch(values: &[&str], pid: i64, epoch: i16, seq: i32, ts: i64) -> Bytes {
    common::txn_batch(values, pid, epoch, seq, ts)
}

async fn producer_id(c: &mut Client) -> i64 {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000);
    let resp = c.send(&req, 3).await;
    assert_eq!(resp.error_code, 0);
    resp.producer_id.0
}

/// Produces `records` to partition 0 with `transactional_id`: (error, base offset).
async fn produce_txn(c: &mut Client, records: Bytes, transactional_id: Option<&str>) -> (i16, i64) {
    let req = ProduceRequest::default()
        .with_transactional_id(
            transactional_id.map(|t| TransactionalId(StrBytes::from_string(t.into()))),
        )
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(TOPIC))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(records))])]);
    let resp = c.send(&req, 9).await;
    let p = &resp.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// Appends a marker as the transaction coordinator does: through the leader replica.
fn write_marker(handle: &weir::BrokerHandle, pid: i64, commit: bool, ts: i64) -> i64 {
    let raw = batch::encode_control(pid, 0, commit, 0, ts);
    let h = batch::validate(&raw).unwrap();
    let replica = handle
        .broker
        .leader_replica(&TopicPartition::new(TOPIC, 0))
        .unwrap();
    let (info, _, _) = replica
        .append_as_leader(&raw, &h, weir::log::now_ms(), false)
        .unwrap();
    info.base_offset
}

struct Fetched {
    values: Vec<(i64, Bytes)>,
    aborted: Option<Vec<(i64, i64)>>,
    high_watermark: i64,
    last_stable_offset: i64,
}

async fn fetch(c: &mut Client, isolation: i8) -> Fetched {
    let req = fetch_request(TOPIC, 0, 0, 0).with_isolation_level(isolation);
    let resp = c.send(&req, 12).await;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    Fetched {
        // Markers decode as records too: only data values are kept.
        values: records(p.records.clone().unwrap_or_default())
            .into_iter()
            .filter(|(_, v)| !v.is_empty() && v.len() < 6)
            .collect(),
        aborted: p.aborted_transactions.as_ref().map(|list| {
            list.iter()
                .map(|a| (a.producer_id.0, a.first_offset))
                .collect()
        }),
        high_watermark: p.high_watermark,
        last_stable_offset: p.last_stable_offset,
    }
}

async fn list_offset(c: &mut Client, timestamp: i64, isolation: i8) -> i64 {
    let req = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(isolation)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(timestamp)])]);
    let resp = c.send(&req, 7).await;
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.error_code, 0);
    p.offset
}

fn offsets(f: &Fetched) -> Vec<i64> {
    f.values.iter().map(|(o, _)| *o).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_committed_sees_only_committed_data_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, TOPIC, 1).await;
    let (a, b, open) = (
        producer_id(&mut c).await,
        producer_id(&mut c).await,
        producer_id(&mut c).await,
    );
    let id = Some("app");

    // What Produce refuses: a transactional batch without a transactional id, a client's
    // control batch, a producer id without a sequence.
    assert_eq!(
        produce_txn(&mut c, txn_batch(&["x"], a, 0, TS), None)
            .await
            .0,
        53
    );
    let marker = Bytes::from(batch::encode_control(a, 0, false, 0, TS));
    assert_eq!(produce_txn(&mut c, marker, id).await.0, 87);
    assert_eq!(
        produce_txn(&mut c, txn_batch(&["x"], a, -1, TS), id)
            .await
            .0,
        87
    );

    // a: aborted [0, 2]; plain 3; b: committed [4, 5]; open: from 6.
    assert_eq!(
        produce_txn(&mut c, txn_batch(&["a1", "a2"], a, 0, TS), id).await,
        (0, 0)
    );
    assert_eq!(write_marker(&broker, a, false, TS + 1), 2);
    let (err, plain) = common::produce(
        &mut c,
        TOPIC,
        0,
        common::batch(&[b"p1"], Compression::None),
        9,
    )
    .await;
    assert_eq!((err, plain), (0, 3));
    assert_eq!(
        produce_txn(&mut c, txn_batch(&["b1"], b, 0, TS + 10), id).await,
        (0, 4)
    );
    assert_eq!(write_marker(&broker, b, true, TS + 11), 5);
    assert_eq!(
        produce_txn(&mut c, txn_batch(&["o1"], open, 0, TS + 20), id).await,
        (0, 6)
    );
    // A non-transactional batch from a producer whose transaction is open: INVALID_TXN_STATE.
    let plain_from_open = common::batch_with_producer(&[b"z"], Compression::None, open, 0, 1);
    assert_eq!(produce_txn(&mut c, plain_from_open, None).await.0, 48);

    let check = |f: Fetched, committed: bool| {
        assert_eq!(f.high_watermark, 7);
        assert_eq!(f.last_stable_offset, 6);
        if committed {
            // Up to the LSO, with the aborted transaction for the consumer to skip.
            assert_eq!(offsets(&f), [0, 1, 3, 4]);
            assert_eq!(f.aborted, Some(vec![(a, 0)]));
        } else {
            assert_eq!(offsets(&f), [0, 1, 3, 4, 6]);
            assert_eq!(f.aborted, None);
        }
    };
    check(fetch(&mut c, 1).await, true);
    check(fetch(&mut c, 0).await, false);
    assert_eq!(list_offset(&mut c, -1, 1).await, 6);
    assert_eq!(list_offset(&mut c, -1, 0).await, 7);
    assert_eq!(list_offset(&mut c, TS + 15, 0).await, 6);
    assert_eq!(
        list_offset(&mut c, TS + 15, 1).await,
        -1,
        "at or past the LSO"
    );
    assert_eq!(list_offset(&mut c, TS + 5, 1).await, 4);
    // From past the aborted transaction: not listed (an empty list, not null).
    let req = fetch_request(TOPIC, 0, 3, 0).with_isolation_level(1);
    let resp = c.send(&req, 12).await;
    assert_eq!(
        resp.responses[0].partitions[0].aborted_transactions,
        Some(vec![])
    );

    broker.shutdown().await;
    let txnindex = dir.path().join("tx-0/00000000000000000000.txnindex");
    assert_eq!(std::fs::read(&txnindex).unwrap().len(), 34);

    // After a restart the open transaction is still open, the aborted one still aborted.
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    check(fetch(&mut c, 1).await, true);
    check(fetch(&mut c, 0).await, false);
    assert_eq!(write_marker(&broker, open, false, TS + 21), 7);
    let f = fetch(&mut c, 1).await;
    assert_eq!((f.high_watermark, f.last_stable_offset), (8, 8));
    assert_eq!(offsets(&f), [0, 1, 3, 4, 6]);
    assert_eq!(f.aborted, Some(vec![(a, 0), (open, 6)]));
    assert_eq!(list_offset(&mut c, -1, 1).await, 8);

    // Fencing: an older producer epoch is INVALID_PRODUCER_EPOCH; a marker from an older
    // coordinator epoch is TRANSACTION_COORDINATOR_FENCED.
    let d = producer_id(&mut c).await;
    let newer = txn_batch_at_epoch(&["d1"], d, 1, 0, TS + 30);
    assert_eq!(produce_txn(&mut c, newer, id).await, (0, 8));
    let older = txn_batch_at_epoch(&["d2"], d, 0, 1, TS + 30);
    assert_eq!(produce_txn(&mut c, older, id).await.0, 47);
    let replica = broker
        .broker
        .leader_replica(&TopicPartition::new(TOPIC, 0))
        .unwrap();
    let mut fenced = Vec::new();
    for (coordinator_epoch, producer_epoch) in [(5, 1), (4, 1), (5, 0)] {
        let raw = batch::encode_control(d, producer_epoch, false, coordinator_epoch, TS + 31);
        let h = batch::validate(&raw).unwrap();
        fenced.push(
            match replica.append_as_leader(&raw, &h, weir::log::now_ms(), false) {
                Ok(_) => 0,
                Err(weir::replication::replica::AppendError::Log(e)) => {
                    weir::protocol::error_code::for_log_error(&e)
                }
                Err(_) => -1,
            },
        );
    }
    assert_eq!(fenced, [0, 52, 47]);
    broker.shutdown().await;
    assert_eq!(std::fs::read(&txnindex).unwrap().len(), 3 * 34);
}
