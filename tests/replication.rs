#![allow(clippy::unwrap_used)]
//! Replication across in-process brokers on 127.0.0.1: node 1 is the controller quorum (and
//! holds no replica), nodes 2-4 are brokers holding one partition with replication factor 3
//! and `min.insync.replicas=2`, so that brokers can stop without losing the quorum.
//!
//! Shown: acks=all writes land byte for byte on every replica; consumers read up to the high
//! watermark; with one follower gone acks=all goes on, with two it is refused with
//! NOT_ENOUGH_REPLICAS (acks=1 still appends); a returning follower catches up and rejoins
//! the ISR; the leader's loss elects an ISR member holding every acknowledged record; a
//! follower naming an epoch the leader's log does not hold gets the diverging epoch.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use weir::log::TopicPartition;
use weir::replication::replica::Role;
use weir::{Broker, BrokerHandle, Config};

const TOPIC: &str = "replicated";

struct Cluster {
    configs: Vec<Config>,
    handles: BTreeMap<i32, BrokerHandle>,
}

impl Cluster {
    fn broker(&self, id: i32) -> Arc<Broker> {
        self.handles[&id].broker.clone()
    }

    async fn client(&self, id: i32) -> Client {
        Client::connect(&self.handles[&id]).await
    }

    async fn stop(&mut self, id: i32) {
        let h = self.handles.remove(&id).unwrap();
        let weak = Arc::downgrade(&h.broker);
        h.shutdown().await;
        for _ in 0..50 {
            if weak.strong_count() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(weak.strong_count(), 0, "broker {id} still referenced");
    }

    async fn start(&mut self, id: i32) {
        let config = self.configs[(id - 1) as usize].clone();
        let h = Broker::start(config).await.expect("node starts");
        self.handles.insert(id, h);
    }

    /// Waits until the controller's image shows `broker` in the partition's ISR.
    /// Waits until `broker` is in the ISR as the controller committed it and as the leader
    /// holds it (the leader applies the change after the controller commits it, and decides
    /// acks=all on its own copy).
    async fn wait_in_isr(&self, broker: i32) {
        let b1 = self.broker(1);
        eventually(&format!("broker {broker} in the ISR"), || {
            let b = b1.clone();
            async move {
                b.cluster
                    .topic(TOPIC)
                    .is_some_and(|t| t.partitions[0].isr.contains(&broker))
            }
        })
        .await;
        let leader = self.broker(self.partition().0);
        eventually(
            &format!("the leader holds broker {broker} in the ISR"),
            || {
                let b = leader.clone();
                async move {
                    b.replicas
                        .leader(&TopicPartition::new(TOPIC, 0))
                        .is_ok_and(|r| match &r.lock().role {
                            Role::Leader(l) => l.isr.contains(&broker),
                            _ => false,
                        })
                }
            },
        )
        .await;
    }

    /// Waits until `broker` leads the partition (its replica took the role).
    async fn wait_leads(&self, broker: i32) {
        let b = self.broker(broker);
        eventually(&format!("broker {broker} leads"), || {
            let b = b.clone();
            async move { b.replicas.leader(&TopicPartition::new(TOPIC, 0)).is_ok() }
        })
        .await;
    }

    /// The partition as the controller's node sees it: (leader, isr).
    fn partition(&self) -> (i32, Vec<i32>) {
        let t = self.broker(1).cluster.topic(TOPIC).unwrap();
        let p = &t.partitions[0];
        (p.leader, p.isr.clone())
    }
}

async fn produce_acks(c: &mut Client, acks: i16, value: &[u8]) -> (i16, i64) {
    let req = ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(TOPIC))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(batch(&[value], Compression::None)))])]);
    let resp = c.send(&req, 9).await;
    let p = &resp.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// Every byte of the local log of the partition on `b`, from offset 0, up to its log end.
fn local_bytes(b: &Broker) -> Vec<u8> {
    let log = b.logs.get(&TopicPartition::new(TOPIC, 0)).unwrap();
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let read = log.read(offset, 1 << 20, true, i64::MAX).unwrap();
        if read.records.is_empty() {
            return out;
        }
        let got = records(read.records.clone());
        offset = got.last().unwrap().0 + 1;
        out.extend_from_slice(&read.records);
    }
}

fn log_end(b: &Broker) -> (i64, i64) {
    let o = b
        .logs
        .get(&TopicPartition::new(TOPIC, 0))
        .unwrap()
        .offsets()
        .unwrap();
    (o.log_end, o.high_watermark)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acks_all_replicates_refuses_and_fails_over() {
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut configs = cluster_configs(&dirs, &[0]);
    for c in configs.iter_mut().skip(1) {
        c.set("process.roles", "broker").unwrap();
    }
    let mut cluster = Cluster {
        configs,
        handles: BTreeMap::new(),
    };
    for id in 1..=4 {
        cluster.start(id).await;
    }
    {
        let b1 = cluster.broker(1);
        eventually("four live brokers", || {
            let b = b1.clone();
            async move { b.cluster.live_brokers().len() == 4 }
        })
        .await;
    }

    // RF 3 on brokers 2, 3, 4, min.insync.replicas=2.
    let mut c = cluster.client(3).await;
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(15_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(TOPIC))
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(vec![
                create_topics_request::CreatableReplicaAssignment::default()
                    .with_partition_index(0)
                    .with_broker_ids(vec![BrokerId(2), BrokerId(3), BrokerId(4)]),
            ])
            .with_configs(vec![CreatableTopicConfig::default()
                .with_name(StrBytes::from_static_str("min.insync.replicas"))
                .with_value(Some(StrBytes::from_static_str("2")))])]);
    let resp = c.send(&req, 7).await;
    assert_eq!(
        resp.topics[0].error_code, 0,
        "{:?}",
        resp.topics[0].error_message
    );
    assert_eq!(
        cluster.partition(),
        (2, vec![2, 3, 4]),
        "every replica in sync at creation"
    );
    for id in 2..=4 {
        let b = cluster.broker(id);
        eventually("the replica opened", || {
            let b = b.clone();
            async move { b.logs.get(&TopicPartition::new(TOPIC, 0)).is_some() }
        })
        .await;
    }

    cluster.wait_leads(2).await;

    // acks=all through the leader: every write is on all three replicas when answered.
    let mut leader = cluster.client(2).await;
    for i in 0..20 {
        let (code, offset) = produce_acks(&mut leader, -1, format!("v{i}").as_bytes()).await;
        assert_eq!((code, offset), (0, i), "write {i}");
        for id in [3, 4] {
            assert!(
                log_end(&cluster.broker(id)).0 > i,
                "write {i} acknowledged before broker {id} had it"
            );
        }
    }
    // A follower is not a leader; consumers read the leader up to the high watermark.
    let mut follower = cluster.client(3).await;
    let (code, _) = produce_acks(&mut follower, -1, b"no").await;
    assert_eq!(code, 6, "NOT_LEADER_OR_FOLLOWER");
    let resp = follower.send(&fetch_request(TOPIC, 0, 0, 0), 12).await;
    assert_eq!(resp.responses[0].partitions[0].error_code, 6);
    assert_eq!(fetch_all(&mut leader, TOPIC).await.len(), 20);
    for id in [3, 4] {
        let b = cluster.broker(id);
        eventually("the follower's high watermark", || {
            let b = b.clone();
            async move { log_end(&b) == (20, 20) }
        })
        .await;
    }
    let bytes = local_bytes(&cluster.broker(2));
    assert!(!bytes.is_empty());
    for id in [3, 4] {
        assert!(
            local_bytes(&cluster.broker(id)) == bytes,
            "broker {id}'s log is the leader's, byte for byte"
        );
    }

    // One follower stops (a controlled shutdown takes it out of the ISR): acks=all goes on.
    cluster.stop(4).await;
    assert_eq!(cluster.partition(), (2, vec![2, 3]));
    let (code, offset) = produce_acks(&mut leader, -1, b"with two").await;
    assert_eq!((code, offset), (0, 20));

    // Two stop: the ISR is the leader alone, below min.insync.replicas.
    cluster.stop(3).await;
    assert_eq!(cluster.partition(), (2, vec![2]));
    let (code, _) = produce_acks(&mut leader, -1, b"refused").await;
    assert_eq!(code, 19, "NOT_ENOUGH_REPLICAS");
    let (code, offset) = produce_acks(&mut leader, 1, b"acks=1").await;
    assert_eq!((code, offset), (0, 21), "acks=1 does not need the ISR");

    // A follower returns: it catches up, rejoins the ISR, and acks=all works again.
    cluster.start(3).await;
    cluster.wait_in_isr(3).await;
    let (code, offset) = produce_acks(&mut leader, -1, b"after return").await;
    assert_eq!((code, offset), (0, 22));
    assert!(log_end(&cluster.broker(3)).0 >= 23);

    // The leader stops: broker 3, the other ISR member, leads with every record.
    cluster.stop(2).await;
    let (new_leader, isr) = cluster.partition();
    assert_eq!((new_leader, isr), (3, vec![3]));
    let mut c3 = cluster.client(3).await;
    cluster.wait_leads(3).await;
    let all = fetch_all(&mut c3, TOPIC).await;
    let values: Vec<String> = all
        .iter()
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    let mut expected: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
    expected.extend(["with two", "acks=1", "after return"].map(String::from));
    assert_eq!(values, expected);

    // The old leader returns as a follower. A fetch naming an epoch this log ended earlier
    // (epoch 0 ended at 23, where epoch 1 began) beyond that end gets the diverging epoch.
    cluster.start(2).await;
    let epoch = cluster.broker(1).cluster.topic(TOPIC).unwrap().partitions[0].leader_epoch;
    assert_eq!(epoch, 1);
    let req = FetchRequest::default()
        .with_replica_id(BrokerId(2))
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(topic_name(TOPIC))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(epoch)
                .with_fetch_offset(30)
                .with_last_fetched_epoch(0)
                .with_partition_max_bytes(1 << 20)])]);
    let resp = c3.send(&req, 12).await;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    assert_eq!(
        (p.diverging_epoch.epoch, p.diverging_epoch.end_offset),
        (0, 23)
    );
    assert!(p.records.as_ref().is_none_or(|r| r.is_empty()));
    // A stale epoch is fenced.
    let stale = req.clone().with_topics(vec![FetchTopic::default()
        .with_topic(topic_name(TOPIC))
        .with_partitions(vec![FetchPartition::default()
            .with_partition(0)
            .with_current_leader_epoch(0)
            .with_fetch_offset(0)
            .with_partition_max_bytes(1 << 20)])]);
    let resp = c3.send(&stale, 12).await;
    assert_eq!(
        resp.responses[0].partitions[0].error_code, 74,
        "FENCED_LEADER_EPOCH"
    );

    // ListOffsets names the epoch that wrote the offset (the current one for latest), so a
    // consumer validating its position after this leader change asks about the right one.
    for (timestamp, want) in [(-1, (23, 1)), (-2, (0, 0))] {
        use kafka_protocol::messages::list_offsets_request::{
            ListOffsetsPartition, ListOffsetsTopic,
        };
        let req = kafka_protocol::messages::ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic_name(TOPIC))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_current_leader_epoch(epoch)
                    .with_timestamp(timestamp)])]);
        let resp = c3.send(&req, 7).await;
        let p = &resp.topics[0].partitions[0];
        assert_eq!(p.error_code, 0);
        assert_eq!((p.offset, p.leader_epoch), want, "timestamp {timestamp}");
    }

    cluster.wait_in_isr(2).await;
    assert_eq!(
        local_bytes(&cluster.broker(2)),
        local_bytes(&cluster.broker(3))
    );
    // Brokers first: each moves its leadership away through the controller on node 1.
    for id in cluster.handles.keys().rev().copied().collect::<Vec<_>>() {
        cluster.stop(id).await;
    }
}
