#![allow(clippy::unwrap_used)]
//! Brokers that reach each other over SASL_SSL: two in-process brokers, each with a
//! PLAINTEXT listener for the test's client and a SASL_SSL one named as the inter-broker
//! listener (TLS checked against the test's CA, the host name included; SCRAM-SHA-512 with
//! the broker login from its JAAS line and the credential from `sasl.scram.bootstrap`).
//!
//! The CONTROLLER listener is SSL as well (`CONTROLLER:SSL` in the protocol map): the Raft
//! quorum and the broker registrations run over mutual TLS.
//!
//! Shown: the cluster forms and registers both brokers over the TLS quorum; acks=all writes
//! replicate to the follower over SASL_SSL (min.insync.replicas=2, so no write is
//! acknowledged without the follower); a follower whose login is wrong cannot fetch: it
//! leaves the ISR and holds none of the leader's records.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::pki::Pki;
use common::*;
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::CreateTopicsRequest;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use weir::log::TopicPartition;
use weir::{Broker, BrokerHandle};

const TOPIC: &str = "secured";

/// Starts two brokers (node 1 the controller) whose inter-broker listener is SASL_SSL; node
/// 2 logs in with `password_2`.
async fn cluster(
    dirs: &[tempfile::TempDir],
    pki_dir: &std::path::Path,
    password_2: &str,
) -> BTreeMap<i32, BrokerHandle> {
    let pki = Pki::new("weir inter-broker CA");
    let truststore = pki_dir.join("ca.pem");
    std::fs::write(&truststore, &pki.ca_pem).unwrap();
    let mut configs = cluster_configs(dirs, &[0]);
    let mut handles = BTreeMap::new();
    for (i, config) in configs.iter_mut().enumerate() {
        let (cert, key) = pki.issue(&format!("broker-{}", i + 1));
        let keystore = pki_dir.join(format!("broker-{}.pem", i + 1));
        std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
        let plain = config.listeners[0].addr;
        let controller = config.cluster.controller_listener.unwrap();
        let password = if i == 1 { password_2 } else { "broker-secret" };
        let settings = [
            (
                "listeners",
                format!(
                    "PLAINTEXT://{plain},SASL_SSL://127.0.0.1:{},CONTROLLER://{controller}",
                    free_port()
                ),
            ),
            // The quorum too speaks TLS: mutual, with the same certificates.
            (
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:SSL".into(),
            ),
            ("inter.broker.listener.name", "SASL_SSL".into()),
            (
                "sasl.mechanism.inter.broker.protocol",
                "SCRAM-SHA-512".into(),
            ),
            (
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                format!(
                    "org.apache.kafka.common.security.scram.ScramLoginModule required \
                     username=\"broker\" password=\"{password}\";"
                ),
            ),
            (
                "sasl.scram.bootstrap",
                "SCRAM-SHA-512=[name=broker,password=broker-secret]".into(),
            ),
            ("ssl.keystore.location", keystore.display().to_string()),
            ("ssl.truststore.location", truststore.display().to_string()),
            ("replica.lag.time.max.ms", "2000".into()),
        ];
        for (k, v) in settings {
            config.set(k, &v).unwrap();
        }
        handles.insert(
            i as i32 + 1,
            Broker::start(config.clone()).await.expect("node starts"),
        );
    }
    let b1 = handles[&1].broker.clone();
    eventually("both brokers registered", || {
        let b = b1.clone();
        async move { b.cluster.live_brokers().len() == 2 }
    })
    .await;
    handles
}

/// Creates the topic on brokers 1 (leader) and 2, min.insync.replicas=2.
async fn create(c: &mut Client) {
    let req = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(topic_name(TOPIC))
        .with_num_partitions(-1)
        .with_replication_factor(-1)
        .with_assignments(vec![CreatableReplicaAssignment::default()
            .with_partition_index(0)
            .with_broker_ids(vec![1.into(), 2.into()])])
        .with_configs(vec![CreatableTopicConfig::default()
            .with_name(StrBytes::from_static_str("min.insync.replicas"))
            .with_value(Some(StrBytes::from_static_str("2")))])]);
    let resp = c.send(&req, 7).await;
    assert_eq!(resp.topics[0].error_code, 0, "{:?}", resp.topics[0]);
}

fn log_end(b: &Broker) -> Option<i64> {
    Some(
        b.logs
            .get(&TopicPartition::new(TOPIC, 0))?
            .offsets()
            .ok()?
            .log_end,
    )
}

async fn leader_ready(b: Arc<Broker>) {
    eventually("broker 1 leads the topic", || {
        let b = b.clone();
        async move { b.replicas.leader(&TopicPartition::new(TOPIC, 0)).is_ok() }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn followers_replicate_over_sasl_ssl() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let pki_dir = tempfile::tempdir().unwrap();
    let handles = cluster(&dirs, pki_dir.path(), "broker-secret").await;
    let mut c = Client::connect(&handles[&1]).await;
    create(&mut c).await;
    leader_ready(handles[&1].broker.clone()).await;
    for i in 0..10 {
        let value = format!("record-{i}");
        let records = batch(&[value.as_bytes()], Compression::None);
        // acks=all with min.insync.replicas=2: acknowledged only once broker 2 has it.
        let (code, offset) = produce(&mut c, TOPIC, 0, records, 7).await;
        assert_eq!((code, offset), (0, i), "acks=all write {i}");
    }
    let follower = handles[&2].broker.clone();
    assert!(
        log_end(&follower).unwrap() >= 10,
        "the follower holds every record"
    );
    for h in handles.into_values() {
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_with_a_wrong_login_cannot_fetch() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let pki_dir = tempfile::tempdir().unwrap();
    let handles = cluster(&dirs, pki_dir.path(), "not-the-secret").await;
    let mut c = Client::connect(&handles[&1]).await;
    create(&mut c).await;
    let leader = handles[&1].broker.clone();
    leader_ready(leader.clone()).await;
    // The follower never fetches, so it leaves the ISR once replica.lag.time.max.ms passes.
    eventually("broker 2 leaves the ISR", || {
        let b = leader.clone();
        async move {
            b.cluster
                .topic(TOPIC)
                .is_some_and(|t| t.partitions[0].isr == [1])
        }
    })
    .await;
    // acks=all is refused below min.insync.replicas, acks=1 appends on the leader only.
    let (code, _) = produce(&mut c, TOPIC, 0, batch(&[b"x"], Compression::None), 7).await;
    assert_eq!(code, 19, "NOT_ENOUGH_REPLICAS");
    assert_eq!(
        log_end(&handles[&2].broker),
        Some(0),
        "nothing reached broker 2"
    );
    for h in handles.into_values() {
        h.shutdown().await;
    }
}
