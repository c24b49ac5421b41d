#![allow(clippy::unwrap_used)]
//! A 3-node cluster of in-process brokers on 127.0.0.1: topics created on one node are seen
//! on the others; the controller (raft leader) stops and a new one is elected and keeps
//! committing; a stopped broker is fenced after its session timeout, its partitions lose
//! their leader, and it comes back unfenced, leading them again, when it restarts.

mod common;

use common::*;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::*;
use kafka_protocol::records::Compression;
use weir::config::Voter;
use weir::{Broker, BrokerHandle, Config};

struct Node {
    config: Config,
    handle: Option<BrokerHandle>,
}

async fn metadata(handle: &BrokerHandle, topics: Option<Vec<&str>>) -> MetadataResponse {
    let mut c = Client::connect(handle).await;
    let req = MetadataRequest::default().with_topics(topics.map(|t| {
        t.into_iter()
            .map(|n| {
                metadata_request::MetadataRequestTopic::default().with_name(Some(topic_name(n)))
            })
            .collect()
    }));
    c.send(&req, 12).await
}

/// The topic's partitions as (leader, error code), from `handle`'s metadata.
async fn leaders(handle: &BrokerHandle, topic: &str) -> Vec<(i32, i16)> {
    let resp = metadata(handle, Some(vec![topic])).await;
    resp.topics[0]
        .partitions
        .iter()
        .map(|p| (p.leader_id.0, p.error_code))
        .collect()
}

async fn create(handle: &BrokerHandle, name: &str, partitions: i32) -> CreateTopicsResponse {
    let mut c = Client::connect(handle).await;
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(15_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(name))
            .with_num_partitions(partitions)
            .with_replication_factor(1)]);
    c.send(&req, 7).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_agree_elect_and_fence() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = Vec::new();
    for config in cluster_configs(&dirs, &[0, 1, 2]) {
        let handle = Broker::start(config.clone()).await.expect("node starts");
        nodes.push(Node {
            config,
            handle: Some(handle),
        });
    }
    let live = |n: &Node| n.handle.as_ref().unwrap().broker.clone();

    // The quorum forms: one controller, every broker registered and live on every node.
    for n in &nodes {
        let b = live(n);
        eventually("three live brokers and a controller", || {
            let b = b.clone();
            async move { b.cluster.live_brokers().len() == 3 && b.cluster.leader_id().is_some() }
        })
        .await;
    }
    let resp = metadata(nodes[1].handle.as_ref().unwrap(), None).await;
    assert_eq!(resp.brokers.len(), 3);
    assert!(resp.controller_id.0 >= 1);

    // DescribeQuorum through a follower is the controller's view: every voter's log end.
    let controller = resp.controller_id.0;
    let follower = nodes
        .iter()
        .find(|n| n.config.node_id != controller)
        .unwrap();
    let mut c = Client::connect(follower.handle.as_ref().unwrap()).await;
    let req = DescribeQuorumRequest::default().with_topics(vec![
        describe_quorum_request::TopicData::default()
            .with_topic_name(topic_name("__cluster_metadata"))
            .with_partitions(vec![describe_quorum_request::PartitionData::default()]),
    ]);
    let quorum = c.send(&req, 2).await;
    let p = &quorum.topics[0].partitions[0];
    assert_eq!(p.leader_id.0, controller);
    let mut voters: Vec<(i32, bool)> = p
        .current_voters
        .iter()
        .map(|r| (r.replica_id.0, r.log_end_offset > 0))
        .collect();
    voters.sort();
    assert_eq!(voters, [(1, true), (2, true), (3, true)], "{p:?}");
    assert_eq!(
        quorum.nodes.len(),
        3,
        "v2 lists the voters' controller endpoints"
    );

    // A topic created through node 2 is placed over all three and seen on every node.
    let created = create(nodes[1].handle.as_ref().unwrap(), "spread", 6).await;
    assert_eq!(
        created.topics[0].error_code, 0,
        "{:?}",
        created.topics[0].error_message
    );
    for n in &nodes {
        let h = n.handle.as_ref().unwrap();
        let b = live(n);
        eventually(
            "the topic on every node, its replicas in their roles",
            || {
                let b = b.clone();
                async move {
                    b.cluster.has_topic("spread")
                        && *b.cluster.reconciled.borrow() >= *b.cluster.applied().borrow()
                }
            },
        )
        .await;
        let mut l: Vec<i32> = leaders(h, "spread").await.iter().map(|p| p.0).collect();
        l.sort();
        l.dedup();
        assert_eq!(l, [1, 2, 3], "leaders spread over the brokers");
    }

    // Produce to each partition through its leader; any other broker says NOT_LEADER.
    let spread = leaders(nodes[0].handle.as_ref().unwrap(), "spread").await;
    for (p, (leader, _)) in spread.iter().enumerate() {
        for n in &nodes {
            let mut c = Client::connect(n.handle.as_ref().unwrap()).await;
            let (code, _) = produce(
                &mut c,
                "spread",
                p as i32,
                batch(&[b"v"], Compression::None),
                9,
            )
            .await;
            let expected = if n.config.node_id == *leader { 0 } else { 6 };
            assert_eq!(
                code, expected,
                "partition {p} through node {}",
                n.config.node_id
            );
        }
    }

    // Stop the controller: another is elected and commits changes.
    let old = live(&nodes[0]).cluster.leader_id().unwrap();
    let idx = (old - 1) as usize;
    nodes[idx].handle.take().unwrap().shutdown().await;
    let survivor = (idx + 1) % 3;
    let b = live(&nodes[survivor]);
    eventually("a new controller", || {
        let b = b.clone();
        async move { b.cluster.leader_id().is_some_and(|l| l != old) }
    })
    .await;
    let created = create(nodes[survivor].handle.as_ref().unwrap(), "after", 2).await;
    assert_eq!(
        created.topics[0].error_code, 0,
        "{:?}",
        created.topics[0].error_message
    );
    let other = (idx + 2) % 3;
    let b = live(&nodes[other]);
    eventually("the new topic on the other survivor", || {
        let b = b.clone();
        async move { b.cluster.has_topic("after") }
    })
    .await;

    // The stopped broker is fenced after its session: its partitions have no leader.
    eventually("the stopped broker fenced", || {
        let b = b.clone();
        async move {
            b.cluster
                .image()
                .brokers
                .get(&old)
                .is_some_and(|x| x.fenced)
        }
    })
    .await;
    let h = nodes[other].handle.as_ref().unwrap();
    let now = leaders(h, "spread").await;
    for (p, (before, _)) in spread.iter().enumerate() {
        if *before == old {
            assert_eq!(now[p], (-1, 5), "partition {p}: LEADER_NOT_AVAILABLE");
        } else {
            assert_eq!(now[p], (*before, 0), "partition {p} keeps its leader");
        }
    }
    assert_eq!(metadata(h, None).await.brokers.len(), 2);

    // It restarts: registered again, unfenced, leading its partitions with their data.
    let restarted = Broker::start(nodes[idx].config.clone())
        .await
        .expect("restart");
    nodes[idx].handle = Some(restarted);
    eventually("the restarted broker unfenced", || {
        let b = b.clone();
        async move {
            b.cluster
                .image()
                .brokers
                .get(&old)
                .is_some_and(|x| !x.fenced)
        }
    })
    .await;
    let b = live(&nodes[idx]);
    // Led again in the metadata, and by the restarted broker's own replicas (which take the
    // role once it has reconciled that metadata).
    let its_own: Vec<i32> = (0..spread.len() as i32)
        .filter(|&p| spread[p as usize].0 == old)
        .collect();
    eventually("its partitions led again", || {
        let b = b.clone();
        let its_own = its_own.clone();
        async move {
            let Some(t) = b.cluster.topic("spread") else {
                return false;
            };
            t.partitions.iter().all(|p| p.leader != -1)
                && its_own.iter().all(|&p| {
                    b.replicas
                        .leader(&weir::log::TopicPartition::new("spread", p))
                        .is_ok()
                })
        }
    })
    .await;
    let h = nodes[idx].handle.as_ref().unwrap();
    let mut c = Client::connect(h).await;
    for (p, (before, _)) in spread.iter().enumerate() {
        if *before == old {
            let resp = c.send(&fetch_request("spread", p as i32, 0, 0), 12).await;
            let part = &resp.responses[0].partitions[0];
            assert_eq!(part.error_code, 0);
            assert_eq!(
                records(part.records.clone().unwrap_or_default()).len(),
                1,
                "partition {p} kept its record"
            );
        }
    }
    for n in nodes {
        if let Some(h) = n.handle {
            h.shutdown().await;
        }
    }
}

/// The CONTROLLER listener closes a connection that sends a frame of a bad length or a body
/// that does not decode, and nothing else notices: the quorum keeps committing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_listener_refuses_garbage() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let (port, controller) = (free_port(), free_port());
    let voters = [Voter {
        id: 1,
        addr: format!("127.0.0.1:{controller}"),
    }];
    let config = node_config(1, dir.path().to_path_buf(), &voters, port, controller);
    let handle = Broker::start(config).await.expect("node starts");
    let b = handle.broker.clone();
    eventually("registered", || {
        let b = b.clone();
        async move { b.cluster.live_brokers().len() == 1 && b.cluster.leader_id() == Some(1) }
    })
    .await;
    let bad: [&[u8]; 4] = [
        &[0xff, 0xff, 0xff, 0xff],
        &[0, 0, 0, 0],
        &[0, 0, 0, 5, b'{', b'x', b'"', b':', b'1'],
        &[0, 0, 0, 2, b'[', b']'],
    ];
    for frame in bad {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", controller))
            .await
            .unwrap();
        s.write_all(frame).await.unwrap();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("the connection is closed, not left hanging");
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "{frame:?}: closed without a reply"
        );
    }
    let created = create(&handle, "still", 1).await;
    assert_eq!(created.topics[0].error_code, 0);
    handle.shutdown().await;
}

/// `process.roles`: a controller-only voter takes no partitions; a broker-only node joins
/// the metadata log as a learner (it asks the voters for the controller), registers, takes
/// partitions and sees every change.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn roles_controller_only_and_broker_only() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // Node 1 votes and serves, node 2 only votes, node 3 only serves.
    let mut handles = Vec::new();
    for (i, mut config) in cluster_configs(&dirs, &[0, 1]).into_iter().enumerate() {
        match i {
            1 => config.set("process.roles", "controller").unwrap(),
            2 => config.set("process.roles", "broker").unwrap(),
            _ => {}
        }
        handles.push(Broker::start(config).await.expect("node starts"));
    }
    for h in &handles {
        let b = h.broker.clone();
        eventually("brokers 1 and 3 registered, seen everywhere", || {
            let b = b.clone();
            async move {
                let ids: Vec<i32> = b.cluster.live_brokers().iter().map(|x| x.id).collect();
                ids == [1, 3] && b.cluster.leader_id().is_some()
            }
        })
        .await;
    }
    let created = create(&handles[2], "roles", 4).await;
    assert_eq!(
        created.topics[0].error_code, 0,
        "{:?}",
        created.topics[0].error_message
    );
    for h in &handles {
        // Answered once committed and applied on node 3; the others apply it in turn.
        let b = h.broker.clone();
        eventually("the topic applied on every node", || {
            let b = b.clone();
            async move { b.cluster.has_topic("roles") }
        })
        .await;
        drop(b);
        let t = h.broker.cluster.topic("roles").expect("applied everywhere");
        let mut leaders: Vec<i32> = t.partitions.iter().map(|p| p.leader).collect();
        leaders.sort();
        leaders.dedup();
        assert_eq!(leaders, [1, 3], "only brokers lead");
    }
    let quorum = handles[0].broker.cluster.quorum();
    let mut voter_ids: Vec<i32> = quorum.voters.iter().map(|v| v.0).collect();
    voter_ids.sort();
    assert_eq!(voter_ids, [1, 2]);
    assert_eq!(
        quorum.learners.iter().map(|l| l.0).collect::<Vec<_>>(),
        [3],
        "the broker-only node follows as a learner"
    );
    for h in handles {
        h.shutdown().await;
    }
}

/// A node that falls behind past the purged log catches up from a snapshot, and restarts
/// from its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_far_behind_gets_a_snapshot() {
    use kafka_protocol::messages::incremental_alter_configs_request::{
        AlterConfigsResource, AlterableConfig,
    };
    use kafka_protocol::protocol::StrBytes;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let configs = cluster_configs(&dirs, &[0, 1, 2]);
    let mut handles = Vec::new();
    for c in &configs {
        handles.push(Some(Broker::start(c.clone()).await.expect("node starts")));
    }
    let b = handles[0].as_ref().unwrap().broker.clone();
    eventually("three live brokers", || {
        let b = b.clone();
        async move { b.cluster.live_brokers().len() == 3 && b.cluster.leader_id().is_some() }
    })
    .await;
    drop(b);
    // Node 3 goes; the others write 2,500 entries (a snapshot every 1,000, the log purged
    // up to 1,000 entries before it).
    handles[2].take().unwrap().shutdown().await;
    let h = handles[0].as_ref().unwrap();
    let created = create(h, "snap", 1).await;
    assert_eq!(created.topics[0].error_code, 0);
    let mut c = Client::connect(h).await;
    for i in 0..2500 {
        let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(StrBytes::from_static_str("snap"))
                .with_configs(vec![AlterableConfig::default()
                    .with_name(StrBytes::from_static_str("retention.ms"))
                    .with_config_operation(0)
                    .with_value(Some(StrBytes::from_string(format!("{}", 1000 + i))))]),
        ]);
        let resp = c.send(&req, 1).await;
        assert_eq!(resp.responses[0].error_code, 0);
    }
    // Snapshots are built and the log purged in the background, after the writes that
    // called for them.
    let b = h.broker.clone();
    eventually("the log purged past index 100", || {
        let b = b.clone();
        async move {
            let purged = b.cluster.raft.metrics().borrow().purged;
            purged.is_some_and(|p| p.index > 100)
        }
    })
    .await;
    drop(b);

    let check = |h: &BrokerHandle| {
        h.broker
            .cluster
            .topic("snap")
            .is_some_and(|t| t.configs.get("retention.ms").map(String::as_str) == Some("3499"))
    };
    handles[2] = Some(Broker::start(configs[2].clone()).await.expect("restart"));
    let b3 = handles[2].as_ref().unwrap().broker.clone();
    eventually("node 3 caught up", || {
        let b3 = b3.clone();
        async move {
            b3.cluster
                .topic("snap")
                .is_some_and(|t| t.configs.get("retention.ms").map(String::as_str) == Some("3499"))
        }
    })
    .await;
    let snapshot = b3.cluster.raft.metrics().borrow().snapshot;
    assert!(
        snapshot.is_some_and(|s| s.index > 100),
        "installed a snapshot: {snapshot:?}"
    );
    drop(b3);
    // From its own snapshot and log after a restart.
    handles[2].take().unwrap().shutdown().await;
    handles[2] = Some(Broker::start(configs[2].clone()).await.expect("restart"));
    assert!(
        check(handles[2].as_ref().unwrap()),
        "the image rebuilt at start"
    );
    for h in handles.into_iter().flatten() {
        h.shutdown().await;
    }
}
