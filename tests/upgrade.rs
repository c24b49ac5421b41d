#![allow(clippy::unwrap_used)]
//! A data dir written by weir before the cluster (topics in the local store's `topics` tree,
//! no raft log, no `partition.metadata`) opens with its topics, data and committed offsets;
//! the offsets move onto `__consumer_offsets` and leave the per-node store.

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
        store.put_group("g", 5, "consumer").unwrap();
        store.flush().unwrap();
    }
    for p in 0..2 {
        std::fs::remove_file(dir.path().join(format!("old-{p}/partition.metadata"))).unwrap();
    }

    let handle = start(dir.path()).await;
    let b = handle.broker.clone();
    eventually("the old topic imported and led here", || {
        let b = b.clone();
        async move {
            (0..2).all(|p| {
                b.leader_log(&weir::log::TopicPartition::new("old", p))
                    .is_ok()
            })
        }
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
    assert_eq!(
        committed(&mut c, "g").await,
        (2, "m".to_string()),
        "its committed offset"
    );
    let b = handle.broker.clone();
    eventually("the per-node store emptied", || {
        let b = b.clone();
        async move { b.metadata.group_ids().unwrap().is_empty() }
    })
    .await;
    drop(b);
    let described = c
        .send(
            &DescribeGroupsRequest::default().with_groups(vec![GroupId(s("g"))]),
            5,
        )
        .await;
    let g = &described.groups[0];
    assert_eq!(
        (
            g.error_code,
            g.group_state.as_str(),
            g.protocol_type.as_str()
        ),
        (0, "Empty", "consumer"),
        "the group migrated with its record"
    );
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
    let mut c = Client::connect(&handle).await;
    assert_eq!(
        committed(&mut c, "g").await,
        (2, "m".to_string()),
        "kept on __consumer_offsets"
    );
    handle.shutdown().await;
}

fn s(v: &str) -> kafka_protocol::protocol::StrBytes {
    kafka_protocol::protocol::StrBytes::from_string(v.to_string())
}

/// The group's committed offset and metadata of old-0, once its coordinator has loaded it
/// (OffsetFetch v5 answers COORDINATOR_LOAD_IN_PROGRESS (14) or NOT_COORDINATOR (16) until
/// then).
async fn committed(c: &mut Client, group: &str) -> (i64, String) {
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
    let found = c
        .send(&FindCoordinatorRequest::default().with_key(s(group)), 3)
        .await;
    assert_eq!(found.error_code, 0);
    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(s("old")))
            .with_partition_indexes(vec![0])]));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let resp = c.send(&req, 5).await;
        match resp.error_code {
            0 => {
                let p = &resp.topics[0].partitions[0];
                return (
                    p.committed_offset,
                    p.metadata
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_default(),
                );
            }
            14 | 16 => {
                assert!(tokio::time::Instant::now() < deadline, "never loaded");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => panic!("OffsetFetch: error {other}"),
        }
    }
}
