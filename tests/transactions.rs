#![allow(clippy::unwrap_used)]
//! The transaction coordinator as a client drives it with raw requests: FindCoordinator for a
//! transactional id, InitProducerId, AddPartitionsToTxn, transactional Produce, EndTxn and
//! the markers it has written; Kafka's error answers; fencing of an earlier instance; the
//! timeout abort; TxnOffsetCommit held until the commit (OffsetFetch `require_stable`); and
//! a restart in the middle of a transaction.

mod common;

use bytes::{Buf, Bytes};
use common::*;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::RecordBatchDecoder;

/// Re-evaluates `cond` (which may await) every 20 ms until it holds, at most 20 s.
macro_rules! wait_until {
    ($what:expr, $cond:expr) => {{
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if $cond {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out: {}",
                $what
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }};
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn txn_id(v: &str) -> TransactionalId {
    TransactionalId(s(v))
}

/// A transactional batch of `values` from (pid, epoch) starting at sequence `seq`.
fn txn_batch(values: &[&str], pid: i64, epoch: i16, seq: i32) -> Bytes {
    common::txn_batch(values, pid, epoch, seq, 1_700_000_000_000)
}

async fn produce_txn(c: &mut Client, id: &str, topic: &str, partition: i32, batch: Bytes) -> i16 {
    use produce_request::{PartitionProduceData, TopicProduceData};
    let req = ProduceRequest::default()
        .with_transactional_id(Some(txn_id(id)))
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(batch))])]);
    c.send(&req, 9).await.responses[0].partition_responses[0].error_code
}

/// Produces `value` in transaction "tx-c" to each partition of "t" on its leader
/// (`placement[p]`), at sequence `seq`; every partition must accept it.
async fn produce_to_leaders(
    nodes: &std::collections::BTreeMap<i32, weir::BrokerHandle>,
    placement: &[i32],
    value: &str,
    (pid, epoch): (i64, i16),
    seq: i32,
) {
    for (p, leader) in placement.iter().enumerate() {
        let mut c = Client::connect(&nodes[leader]).await;
        let batch = txn_batch(&[value], pid, epoch, seq);
        let code = produce_txn(&mut c, "tx-c", "t", p as i32, batch).await;
        assert_eq!(code, 0, "partition {p}");
    }
}

/// FindCoordinator for `id` until it answers (the first one creates the topic), then
/// InitProducerId until the partition is loaded: (producer id, epoch).
async fn init(c: &mut Client, id: &str, timeout_ms: i32) -> (i64, i16) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "InitProducerId {id}: no answer"
        );
        let fc = FindCoordinatorRequest::default()
            .with_key_type(1)
            .with_key(s(id));
        if c.send(&fc, 3).await.error_code == 0 {
            let r = c
                .send(
                    &InitProducerIdRequest::default()
                        .with_transactional_id(Some(txn_id(id)))
                        .with_transaction_timeout_ms(timeout_ms),
                    4,
                )
                .await;
            match r.error_code {
                0 => return (r.producer_id.0, r.producer_epoch),
                // Loading, or an earlier instance's transaction being aborted.
                14 | 15 | 16 | 51 => {}
                other => panic!("InitProducerId {id}: {other}"),
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn add_partitions(
    id: &str,
    pid: i64,
    epoch: i16,
    topic: &str,
    parts: &[i32],
) -> AddPartitionsToTxnRequest {
    AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(txn_id(id))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(parts.to_vec())])
}

async fn add(
    c: &mut Client,
    id: &str,
    pid: i64,
    epoch: i16,
    topic: &str,
    parts: &[i32],
) -> Vec<i16> {
    let r = c
        .send(&add_partitions(id, pid, epoch, topic, parts), 3)
        .await;
    r.results_by_topic_v3_and_below
        .iter()
        .flat_map(|t| {
            t.results_by_partition
                .iter()
                .map(|p| p.partition_error_code)
        })
        .collect()
}

fn end(id: &str, pid: i64, epoch: i16, commit: bool) -> EndTxnRequest {
    EndTxnRequest::default()
        .with_transactional_id(txn_id(id))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit)
}

async fn describe(c: &mut Client, id: &str) -> describe_transactions_response::TransactionState {
    let r = c
        .send(
            &DescribeTransactionsRequest::default().with_transactional_ids(vec![txn_id(id)]),
            0,
        )
        .await;
    r.transaction_states.into_iter().next().unwrap()
}

/// Every batch of a partition from offset 0: (base offset, is control, producer epoch,
/// control type (0 abort, 1 commit) or the values).
async fn batches(
    c: &mut Client,
    topic: &str,
    partition: i32,
) -> Vec<(i64, bool, i16, Vec<String>)> {
    let resp = c.send(&fetch_request(topic, partition, 0, 0), 12).await;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    let mut bytes = p.records.clone().unwrap_or_default();
    let mut out = Vec::new();
    while bytes.has_remaining() {
        let set = RecordBatchDecoder::decode(&mut bytes).unwrap();
        let first = &set.records[0];
        let content = set
            .records
            .iter()
            .map(|r| {
                if r.control {
                    let k = r.key.clone().unwrap();
                    format!("control:{}", i16::from_be_bytes([k[2], k[3]]))
                } else {
                    String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap()
                }
            })
            .collect();
        out.push((first.offset, first.control, first.producer_epoch, content));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_transaction_gets_its_markers_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 2).await;
    let (pid, epoch) = init(&mut c, "tx-a", 60_000).await;
    assert_eq!(epoch, 0);
    let d = describe(&mut c, "tx-a").await;
    assert_eq!((d.error_code, d.transaction_state.as_str()), (0, "Empty"));

    assert_eq!(
        add(&mut c, "tx-a", pid, epoch, "t", &[0, 1]).await,
        vec![0, 0]
    );
    let d = describe(&mut c, "tx-a").await;
    assert_eq!(d.transaction_state.as_str(), "Ongoing");
    assert_eq!(d.topics[0].partitions, vec![0, 1]);
    assert_eq!(d.transaction_timeout_ms, 60_000);
    for p in 0..2 {
        let code = produce_txn(
            &mut c,
            "tx-a",
            "t",
            p,
            txn_batch(&["a", "b"], pid, epoch, 0),
        )
        .await;
        assert_eq!(code, 0);
    }
    assert_eq!(
        c.send(&end("tx-a", pid, epoch, true), 3).await.error_code,
        0
    );
    wait_until!(
        "the transaction completes",
        describe(&mut c, "tx-a").await.transaction_state.as_str() == "CompleteCommit"
    );
    for p in 0..2 {
        let got = batches(&mut c, "t", p).await;
        assert_eq!(
            got,
            vec![
                (0, false, 0, vec!["a".to_string(), "b".to_string()]),
                (2, true, 0, vec!["control:1".to_string()]),
            ],
            "partition {p}"
        );
    }
    // A retried EndTxn of the same outcome succeeds; the other outcome is refused.
    assert_eq!(
        c.send(&end("tx-a", pid, epoch, true), 3).await.error_code,
        0
    );
    assert_eq!(
        c.send(&end("tx-a", pid, epoch, false), 3).await.error_code,
        48
    );
    let listed = c.send(&ListTransactionsRequest::default(), 1).await;
    assert_eq!(listed.error_code, 0);
    assert_eq!(listed.transaction_states.len(), 1);
    assert_eq!(listed.transaction_states[0].producer_id.0, pid);
    let filtered = c
        .send(
            &ListTransactionsRequest::default().with_state_filters(vec![s("Ongoing"), s("Bogus")]),
            1,
        )
        .await;
    assert!(filtered.transaction_states.is_empty());
    assert_eq!(filtered.unknown_state_filters, vec![s("Bogus")]);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafkas_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| c.txn.max_timeout_ms = 100_000).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 1).await;
    let (pid, epoch) = init(&mut c, "tx-e", 60_000).await;
    // EndTxn without a transaction; a wrong epoch, in a new and an old version; another id.
    assert_eq!(
        c.send(&end("tx-e", pid, epoch, true), 3).await.error_code,
        48
    );
    assert_eq!(
        add(&mut c, "tx-e", pid, epoch + 1, "t", &[0]).await,
        vec![90]
    );
    let old = c
        .send(&add_partitions("tx-e", pid, epoch + 1, "t", &[0]), 1)
        .await;
    assert_eq!(
        old.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code,
        47
    );
    assert_eq!(
        add(&mut c, "tx-e", pid + 100, epoch, "t", &[0]).await,
        vec![49]
    );
    // An unknown partition fails the whole request; the good one is not attempted.
    assert_eq!(
        add(&mut c, "tx-e", pid, epoch, "t", &[0, 7]).await,
        vec![55, 3]
    );
    assert_eq!(
        describe(&mut c, "tx-e").await.transaction_state.as_str(),
        "Empty"
    );
    // A timeout beyond transaction.max.timeout.ms; an empty id; an unknown id.
    let r = c
        .send(
            &InitProducerIdRequest::default()
                .with_transactional_id(Some(txn_id("tx-e")))
                .with_transaction_timeout_ms(100_001),
            4,
        )
        .await;
    assert_eq!(r.error_code, 50);
    let fc = c
        .send(
            &FindCoordinatorRequest::default()
                .with_key_type(1)
                .with_key(s("")),
            3,
        )
        .await;
    assert_eq!(fc.error_code, 42);
    assert_eq!(describe(&mut c, "nobody").await.error_code, 105);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_instance_fences_the_old_and_aborts_its_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 1).await;
    let (pid, epoch) = init(&mut c, "tx-z", 60_000).await;
    assert_eq!(add(&mut c, "tx-z", pid, epoch, "t", &[0]).await, vec![0]);
    assert_eq!(
        produce_txn(
            &mut c,
            "tx-z",
            "t",
            0,
            txn_batch(&["zombie"], pid, epoch, 0)
        )
        .await,
        0
    );
    // The new instance: its first answer is CONCURRENT_TRANSACTIONS while the abort runs.
    let (pid2, epoch2) = init(&mut c, "tx-z", 60_000).await;
    assert_eq!(pid2, pid);
    assert_eq!(
        epoch2,
        epoch + 2,
        "one bump fences, one is the new instance's"
    );
    // The zombie can neither commit nor add, nor write.
    assert_eq!(
        c.send(&end("tx-z", pid, epoch, true), 3).await.error_code,
        90
    );
    assert_eq!(add(&mut c, "tx-z", pid, epoch, "t", &[0]).await, vec![90]);
    let code = produce_txn(&mut c, "tx-z", "t", 0, txn_batch(&["late"], pid, epoch, 1)).await;
    assert_eq!(code, 47, "INVALID_PRODUCER_EPOCH from the partition");
    let got = batches(&mut c, "t", 0).await;
    assert_eq!(
        got,
        vec![
            (0, false, epoch, vec!["zombie".to_string()]),
            (1, true, epoch + 1, vec!["control:0".to_string()]),
        ]
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_transaction_is_aborted_after_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| c.txn.abort_interval_ms = 100).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 1).await;
    let (pid, epoch) = init(&mut c, "tx-t", 1_000).await;
    assert_eq!(add(&mut c, "tx-t", pid, epoch, "t", &[0]).await, vec![0]);
    assert_eq!(
        produce_txn(&mut c, "tx-t", "t", 0, txn_batch(&["x"], pid, epoch, 0)).await,
        0
    );
    let started = std::time::Instant::now();
    wait_until!(
        "the coordinator aborts it",
        describe(&mut c, "tx-t").await.transaction_state.as_str() == "CompleteAbort"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "not before the timeout"
    );
    let d = describe(&mut c, "tx-t").await;
    assert_eq!(
        d.producer_epoch,
        epoch + 1,
        "the abandoning producer is fenced"
    );
    let got = batches(&mut c, "t", 0).await;
    assert_eq!(got[1], (1, true, epoch + 1, vec!["control:0".to_string()]));
    broker.shutdown().await;
}

fn txn_offset_commit(
    id: &str,
    pid: i64,
    epoch: i16,
    group: &str,
    offset: i64,
) -> TxnOffsetCommitRequest {
    TxnOffsetCommitRequest::default()
        .with_transactional_id(txn_id(id))
        .with_group_id(GroupId(s(group)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_generation_id(-1)
        .with_topics(vec![TxnOffsetCommitRequestTopic::default()
            .with_name(topic_name("t"))
            .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)])])
}

/// OffsetFetch v7 for t-0 of `group`: (error code, offset).
async fn fetch_offset(c: &mut Client, group: &str, stable: bool) -> (i16, i64) {
    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_require_stable(stable)
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name("t"))
            .with_partition_indexes(vec![0])]));
    let r = c.send(&req, 7).await;
    assert_eq!(r.error_code, 0);
    let p = &r.topics[0].partitions[0];
    (p.error_code, p.committed_offset)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactional_offsets_wait_for_the_commit_also_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 1).await;
    coordinator_ready(&mut c, "g").await;
    let (pid, epoch) = init(&mut c, "tx-o", 60_000).await;
    let add_offsets = |e: i16| {
        AddOffsetsToTxnRequest::default()
            .with_transactional_id(txn_id("tx-o"))
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(e)
            .with_group_id(GroupId(s("g")))
    };
    assert_eq!(c.send(&add_offsets(epoch), 3).await.error_code, 0);
    let r = c
        .send(&txn_offset_commit("tx-o", pid, epoch, "g", 41), 3)
        .await;
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    assert_eq!(
        fetch_offset(&mut c, "g", true).await,
        (88, -1),
        "UNSTABLE_OFFSET_COMMIT"
    );
    assert_eq!(fetch_offset(&mut c, "g", false).await, (0, -1));

    // A restart in the middle: the transaction is loaded Ongoing, the offset still pending.
    broker.shutdown().await;
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    coordinator_ready(&mut c, "g").await;
    wait_until!(
        "the id is loaded again",
        describe(&mut c, "tx-o").await.transaction_state.as_str() == "Ongoing"
    );
    assert_eq!(fetch_offset(&mut c, "g", true).await, (88, -1));
    assert_eq!(
        c.send(&end("tx-o", pid, epoch, true), 3).await.error_code,
        0
    );
    wait_until!(
        "the committed offset becomes visible",
        fetch_offset(&mut c, "g", true).await == (0, 41)
    );

    // An aborted one never becomes visible.
    let (pid, epoch) = init(&mut c, "tx-o", 60_000).await;
    assert_eq!(
        c.send(
            &AddOffsetsToTxnRequest::default()
                .with_transactional_id(txn_id("tx-o"))
                .with_producer_id(ProducerId(pid))
                .with_producer_epoch(epoch)
                .with_group_id(GroupId(s("g"))),
            3
        )
        .await
        .error_code,
        0
    );
    let r = c
        .send(&txn_offset_commit("tx-o", pid, epoch, "g", 99), 3)
        .await;
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    assert_eq!(
        c.send(&end("tx-o", pid, epoch, false), 3).await.error_code,
        0
    );
    wait_until!(
        "the abort completes",
        describe(&mut c, "tx-o").await.transaction_state.as_str() == "CompleteAbort"
    );
    assert_eq!(fetch_offset(&mut c, "g", true).await, (0, 41));
    // And after another restart, the log replays to the same: 41.
    broker.shutdown().await;
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    coordinator_ready(&mut c, "g").await;
    assert_eq!(fetch_offset(&mut c, "g", true).await, (0, 41));
    broker.shutdown().await;
}

/// The leader of each partition of `topic` as `node` sees it.
async fn leaders(node: &weir::BrokerHandle, topic: &str) -> Vec<i32> {
    let mut c = Client::connect(node).await;
    let req = MetadataRequest::default().with_topics(Some(vec![
        metadata_request::MetadataRequestTopic::default().with_name(Some(topic_name(topic))),
    ]));
    let r = c.send(&req, 9).await;
    let mut ps: Vec<(i32, i32)> = r.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.leader_id.0))
        .collect();
    ps.sort();
    ps.into_iter().map(|(_, l)| l).collect()
}

/// The coordinator of `id` as `node` answers it (-1 while none).
async fn coordinator_of(node: &weir::BrokerHandle, id: &str) -> i32 {
    let mut c = Client::connect(node).await;
    let r = c
        .send(
            &FindCoordinatorRequest::default()
                .with_key_type(1)
                .with_key(s(id)),
            3,
        )
        .await;
    if r.error_code == 0 {
        r.node_id.0
    } else {
        -1
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn markers_reach_other_brokers_and_a_new_coordinator_finishes_the_transaction() {
    use std::collections::BTreeMap;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes: BTreeMap<i32, weir::BrokerHandle> = BTreeMap::new();
    for mut config in cluster_configs(&dirs, &[0, 1, 2]) {
        config.txn.num_partitions = 3;
        config.offsets.num_partitions = 3;
        let id = config.node_id;
        nodes.insert(id, weir::Broker::start(config).await.expect("node starts"));
    }
    for n in nodes.values() {
        let b = n.broker.clone();
        wait_until!("three live brokers", b.cluster.live_brokers().len() == 3);
    }
    let mut c1 = Client::connect(&nodes[&1]).await;
    let create = CreateTopicsRequest::default()
        .with_topics(vec![create_topics_request::CreatableTopic::default()
            .with_name(topic_name("t"))
            .with_num_partitions(3)
            .with_replication_factor(3)])
        .with_timeout_ms(10_000);
    assert_eq!(c1.send(&create, 4).await.topics[0].error_code, 0);
    wait_until!(
        "every partition led",
        leaders(&nodes[&1], "t").await.iter().all(|l| *l > 0)
    );
    let placement = leaders(&nodes[&1], "t").await;
    let mut distinct = placement.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() > 1,
        "partitions led by several brokers: {placement:?}"
    );

    // Find the coordinator (creating the topic), then run a transaction on it.
    let mut coordinator: i32;
    wait_until!("a coordinator", {
        coordinator = coordinator_of(&nodes[&1], "tx-c").await;
        coordinator > 0
    });
    let mut cc = Client::connect(&nodes[&coordinator]).await;
    let (pid, epoch) = init(&mut cc, "tx-c", 60_000).await;
    assert_eq!(
        add(&mut cc, "tx-c", pid, epoch, "t", &[0, 1, 2]).await,
        vec![0, 0, 0]
    );
    produce_to_leaders(&nodes, &placement, "one", (pid, epoch), 0).await;
    assert_eq!(
        cc.send(&end("tx-c", pid, epoch, true), 3).await.error_code,
        0
    );
    wait_until!(
        "the commit completes",
        describe(&mut cc, "tx-c").await.transaction_state.as_str() == "CompleteCommit"
    );
    for (p, leader) in placement.iter().enumerate() {
        let mut c = Client::connect(&nodes[leader]).await;
        let got = batches(&mut c, "t", p as i32).await;
        assert_eq!(
            got[1],
            (1, true, epoch, vec!["control:1".to_string()]),
            "partition {p}"
        );
    }

    // A second transaction is under way when its coordinator stops.
    assert_eq!(
        add(&mut cc, "tx-c", pid, epoch, "t", &[0, 1, 2]).await,
        vec![0, 0, 0]
    );
    produce_to_leaders(&nodes, &placement, "two", (pid, epoch), 1).await;
    drop(cc);
    nodes.remove(&coordinator).unwrap().shutdown().await;
    let other = *nodes.keys().next().unwrap();
    let mut next: i32;
    wait_until!("another coordinator", {
        next = coordinator_of(&nodes[&other], "tx-c").await;
        next > 0 && next != coordinator
    });
    let mut cn = Client::connect(&nodes[&next]).await;
    wait_until!(
        "the new coordinator loads the transaction",
        describe(&mut cn, "tx-c").await.transaction_state.as_str() == "Ongoing"
    );
    assert_eq!(
        cn.send(&end("tx-c", pid, epoch, false), 3).await.error_code,
        0
    );
    wait_until!(
        "the abort completes",
        describe(&mut cn, "tx-c").await.transaction_state.as_str() == "CompleteAbort"
    );
    // Every partition's (possibly new) leader holds the abort marker after the data.
    let now_led = leaders(&nodes[&other], "t").await;
    for (p, leader) in now_led.iter().enumerate() {
        let mut c = Client::connect(&nodes[leader]).await;
        let got = batches(&mut c, "t", p as i32).await;
        assert_eq!(got.len(), 4, "partition {p}: {got:?}");
        assert_eq!(got[2].3, vec!["two".to_string()]);
        assert_eq!(
            (got[3].1, got[3].3.clone()),
            (true, vec!["control:0".to_string()])
        );
    }
    for (_, n) in nodes {
        n.shutdown().await;
    }
}
