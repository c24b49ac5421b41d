#![allow(clippy::unwrap_used)]
//! A data dir written by weir before the cluster (topics in the local store's `topics` tree,
//! no raft log, no `partition.metadata`) opens with its topics, data and committed offsets.

mod common;

use common::*;
use kafka_protocol::messages::*;
use weir::metadata::offsets::CommittedOffset;
use weir::metadata::MetadataStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pre_cluster_data_dir_opens_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (id, offsets);
    {
        let handle = start(dir.path()).await;
        let mut c = Client::connect(&handle).await;
        create_topic(&mut c, "old", 2).await;
        for v in [&b"a"[..], b"b", b"c"] {
            produce_value(&mut c, "old", v).await;
        }
        id = handle.broker.cluster.topic("old").unwrap().id;
        handle.shutdown().await;
    }
    // Rewrite the store as the single-node weir kept it: no raft state, the topic in the
    // `topics` tree (TOML), a producer id counter, a committed offset, no partition.metadata.
    {
        let store = MetadataStore::open(dir.path(), 1).unwrap();
        let db = store.db();
        db.drop_tree("raft_log").unwrap();
        db.drop_tree("raft_state").unwrap();
        db.open_tree("topics")
            .unwrap()
            .insert(
                "old",
                format!("name = \"old\"\nid = \"{id}\"\npartitions = 2\n\n[configs]\n\"retention.ms\" = \"3600000\"\n").as_bytes(),
            )
            .unwrap();
        db.open_tree("cluster")
            .unwrap()
            .insert("next_producer_id", &5000i64.to_be_bytes())
            .unwrap();
        offsets = vec![CommittedOffset {
            topic: "old".into(),
            partition: 0,
            offset: 2,
            leader_epoch: -1,
            commit_timestamp: 1,
            metadata: "m".into(),
        }];
        store.commit_offsets("g", &offsets).unwrap();
        store.flush().unwrap();
    }
    for p in 0..2 {
        std::fs::remove_file(dir.path().join(format!("old-{p}/partition.metadata"))).unwrap();
    }

    let handle = start(dir.path()).await;
    let b = handle.broker.clone();
    eventually("the old topic imported", || {
        let b = b.clone();
        async move { b.cluster.has_topic("old") }
    })
    .await;
    drop(b);
    let t = handle.broker.cluster.topic("old").unwrap();
    assert_eq!(
        (t.id, t.partition_count()),
        (id, 2),
        "same id and partitions"
    );
    assert_eq!(t.configs["retention.ms"], "3600000");
    let mut c = Client::connect(&handle).await;
    let values: Vec<_> = fetch_all(&mut c, "old")
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(values, [&b"a"[..], b"b", b"c"], "its data");
    let fetched = handle.broker.metadata.fetch_offsets("g").unwrap();
    assert_eq!(fetched, offsets, "its committed offsets");
    // Producer ids continue above the old counter.
    let resp = c
        .send(
            &InitProducerIdRequest::default().with_transaction_timeout_ms(60_000),
            4,
        )
        .await;
    assert_eq!(resp.error_code, 0);
    assert!(
        resp.producer_id.0 >= 5000,
        "producer id {}",
        resp.producer_id.0
    );
    handle.shutdown().await;

    // Imported once: the old tree is gone and a restart changes nothing.
    let handle = start(dir.path()).await;
    assert_eq!(handle.broker.cluster.topic("old").unwrap().id, id);
    assert!(handle.broker.metadata.legacy().unwrap().topics.is_empty());
    handle.shutdown().await;
}
