//! DescribeLogDirs (key 35), v0-v4: what `kafka-log-dirs.sh --describe` shows. weir keeps
//! every partition in one log directory (`log.dirs`), so the answer is one result: that
//! directory, with each local replica of the topics asked (all with a null list) and its size
//! on disk, and from v4 the file system's total and usable bytes (-1 when they cannot be
//! read, as Kafka reports an unknown volume).
//!
//! `offset_lag` is Kafka's for a current (not future) replica: the high watermark minus the
//! replica's log end offset, at least 0, so a follower that is behind shows how far. Topics
//! or partitions asked for that have no replica here are left out, as Kafka does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeLogDirsRequest,
) -> DescribeLogDirsResponse {
    // Kafka's authorization: Describe on the cluster, else no log dirs (and, from v3,
    // CLUSTER_AUTHORIZATION_FAILED).
    if !broker.authz(header).cluster(Operation::Describe) {
        let code = if header.api_version >= 3 {
            crate::protocol::error_code::CLUSTER_AUTHORIZATION_FAILED
        } else {
            0
        };
        return DescribeLogDirsResponse::default().with_error_code(code);
    }
    // None: every topic; else the partitions asked, by topic.
    let wanted: Option<BTreeMap<String, BTreeSet<i32>>> = req.topics.map(|topics| {
        let mut m: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
        for t in topics {
            m.entry(t.topic.to_string())
                .or_default()
                .extend(t.partitions);
        }
        m
    });
    let mut by_topic: BTreeMap<String, Vec<DescribeLogDirsPartition>> = BTreeMap::new();
    let mut replicas = broker.replicas.all();
    replicas.sort_by(|a, b| (&a.tp.topic, a.tp.partition).cmp(&(&b.tp.topic, b.tp.partition)));
    for r in replicas {
        let asked = match &wanted {
            None => true,
            Some(m) => m
                .get(&r.tp.topic)
                .is_some_and(|ps| ps.contains(&r.tp.partition)),
        };
        if !asked {
            continue;
        }
        let Ok(o) = r.log.offsets() else { continue };
        by_topic.entry(r.tp.topic.clone()).or_default().push(
            DescribeLogDirsPartition::default()
                .with_partition_index(r.tp.partition)
                .with_partition_size(r.log.size_bytes().min(i64::MAX as u64) as i64)
                .with_offset_lag(o.high_watermark.saturating_sub(o.log_end).max(0))
                .with_is_future_key(false),
        );
    }
    let topics = by_topic
        .into_iter()
        .map(|(name, partitions)| {
            DescribeLogDirsTopic::default()
                .with_name(TopicName(StrBytes::from_string(name)))
                .with_partitions(partitions)
        })
        .collect();
    let dir = &broker.config.data_dir;
    let path = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
    let (total, usable) = volume(&path).unwrap_or((-1, -1));
    DescribeLogDirsResponse::default().with_results(vec![DescribeLogDirsResult::default()
        .with_log_dir(StrBytes::from_string(path.display().to_string()))
        .with_topics(topics)
        .with_total_bytes(total)
        .with_usable_bytes(usable)])
}

/// (total, usable) bytes of the file system holding `path`.
fn volume(path: &std::path::Path) -> Option<(i64, i64)> {
    let s = rustix::fs::statvfs(path).ok()?;
    let unit = s.f_frsize.max(1);
    let total = s.f_blocks.saturating_mul(unit);
    let usable = s.f_bavail.saturating_mul(unit);
    Some((
        total.min(i64::MAX as u64) as i64,
        usable.min(i64::MAX as u64) as i64,
    ))
}
