//! The metrics read from the broker's state at scrape time: partitions, groups and their lag,
//! the cluster as this broker sees it, and the process. Built into a fresh registry per
//! scrape, so nothing outlives what it describes.
//!
//! Lag is Kafka's consumer lag: the partition's high watermark (what ListOffsets answers a
//! consumer for latest) minus the group's committed offset, never below 0. It is reported by
//! the group's coordinator for the partitions it holds a replica of (leader or follower:
//! both know the high watermark); with replication over every broker, that is all of them.

use std::collections::HashMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::broker::Broker;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    topic: String,
    partition: i32,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupPartitionLabels {
    group: String,
    topic: String,
    partition: i32,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    group: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupStateLabels {
    group: String,
    state: &'static str,
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let g: Gauge = Gauge::default();
    g.set(value);
    registry.register(name, help, g);
}

fn family<L>(registry: &mut Registry, name: &str, help: &str, f: &Family<L, Gauge>)
where
    L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
{
    registry.register(name, help, f.clone());
}

/// Registers every scrape-time metric of `broker` into `registry`.
pub fn register(broker: &Broker, registry: &mut Registry) {
    let mut replicas = broker.replicas.all();
    replicas.sort_by(|a, b| (&a.tp.topic, a.tp.partition).cmp(&(&b.tp.topic, b.tp.partition)));
    // The high watermark of every local replica, for lag.
    let mut high_watermarks: HashMap<(String, i32), i64> = HashMap::new();
    let log_start = Family::<PartitionLabels, Gauge>::default();
    let log_end = Family::<PartitionLabels, Gauge>::default();
    let high_watermark = Family::<PartitionLabels, Gauge>::default();
    let size = Family::<PartitionLabels, Gauge>::default();
    let max = broker.metrics.max_partitions;
    for (i, r) in replicas.iter().enumerate() {
        let Ok(o) = r.log.offsets() else { continue };
        high_watermarks.insert((r.tp.topic.clone(), r.tp.partition), o.high_watermark);
        if i >= max {
            continue;
        }
        let labels = PartitionLabels {
            topic: r.tp.topic.clone(),
            partition: r.tp.partition,
        };
        log_start.get_or_create(&labels).set(o.log_start);
        log_end.get_or_create(&labels).set(o.log_end);
        high_watermark.get_or_create(&labels).set(o.high_watermark);
        size.get_or_create(&labels)
            .set(r.log.size_bytes().min(i64::MAX as u64) as i64);
    }
    family(
        registry,
        "weir_partition_log_start_offset",
        "The first offset kept, per local replica",
        &log_start,
    );
    family(
        registry,
        "weir_partition_log_end_offset",
        "One past the last offset appended, per local replica",
        &log_end,
    );
    family(
        registry,
        "weir_partition_high_watermark",
        "The offset consumers may read up to, per local replica",
        &high_watermark,
    );
    family(
        registry,
        "weir_partition_size_bytes",
        "Bytes of the replica's log segments on disk",
        &size,
    );
    gauge(
        registry,
        "weir_metrics_partitions_omitted",
        "Local replicas beyond http.metrics.max.partitions, left out of the per-partition series",
        replicas.len().saturating_sub(max) as i64,
    );

    let committed = Family::<GroupPartitionLabels, Gauge>::default();
    let lag = Family::<GroupPartitionLabels, Gauge>::default();
    let members = Family::<GroupLabels, Gauge>::default();
    let state = Family::<GroupStateLabels, Gauge>::default();
    let mut series = 0usize;
    for g in broker.groups.offsets_view() {
        members
            .get_or_create(&GroupLabels {
                group: g.group_id.clone(),
            })
            .set(g.members as i64);
        state
            .get_or_create(&GroupStateLabels {
                group: g.group_id.clone(),
                state: g.state.name(),
            })
            .set(1);
        for ((topic, partition), offset) in g.offsets {
            if series >= max {
                break;
            }
            series += 1;
            let labels = GroupPartitionLabels {
                group: g.group_id.clone(),
                topic: topic.clone(),
                partition,
            };
            committed.get_or_create(&labels).set(offset);
            if let Some(hw) = high_watermarks.get(&(topic, partition)) {
                lag.get_or_create(&labels).set(lag_of(*hw, offset));
            }
        }
    }
    family(
        registry,
        "weir_group_committed_offset",
        "The group's committed offset, per partition (groups this broker coordinates)",
        &committed,
    );
    family(registry, "weir_group_lag", "Consumer lag: the partition's high watermark minus the group's committed offset (at least 0)", &lag);
    family(
        registry,
        "weir_group_members",
        "Members of the group now",
        &members,
    );
    family(
        registry,
        "weir_group_state",
        "1 for the group's current state (Empty, PreparingRebalance, CompletingRebalance, Stable)",
        &state,
    );

    cluster(broker, registry);
    process(broker, registry);
}

/// Lag as Kafka's tools compute it, never negative (a commit past the high watermark, e.g.
/// after the log was truncated, is no backlog).
pub fn lag_of(high_watermark: i64, committed: i64) -> i64 {
    high_watermark.saturating_sub(committed).max(0)
}

fn cluster(broker: &Broker, registry: &mut Registry) {
    let me = broker.cluster.node_id;
    let (brokers, fenced, offline, under_replicated, led) = {
        let image = broker.cluster.image();
        let fenced = image.brokers.values().filter(|b| b.fenced).count();
        let mut offline = 0i64;
        let mut under = 0i64;
        let mut led = 0i64;
        for p in image.topics.values().flat_map(|t| &t.partitions) {
            if p.leader < 0 {
                offline += 1;
            } else if p.leader == me {
                led += 1;
                if p.isr.len() < p.replicas.len() {
                    under += 1;
                }
            }
        }
        (image.brokers.len(), fenced, offline, under, led)
    };
    gauge(registry, "weir_node_id", "This node's id", i64::from(me));
    gauge(
        registry,
        "weir_cluster_controller_id",
        "The active controller's id as clients are told (-1: none known)",
        i64::from(broker.cluster.client_controller_id()),
    );
    gauge(
        registry,
        "weir_cluster_brokers",
        "Registered brokers, fenced ones included",
        brokers as i64,
    );
    gauge(
        registry,
        "weir_cluster_fenced_brokers",
        "Registered brokers that are fenced (not heartbeating)",
        fenced as i64,
    );
    gauge(
        registry,
        "weir_cluster_offline_partitions",
        "Partitions without a leader, cluster-wide",
        offline,
    );
    gauge(
        registry,
        "weir_leader_partitions",
        "Partitions this broker leads",
        led,
    );
    gauge(
        registry,
        "weir_under_replicated_partitions",
        "Partitions this broker leads whose ISR is smaller than their replica set",
        under_replicated,
    );
}

fn process(broker: &Broker, registry: &mut Registry) {
    let uptime = broker.metrics.uptime();
    gauge(
        registry,
        "weir_uptime_seconds",
        "Seconds since the broker started",
        uptime.as_secs() as i64,
    );
    if let Some(rss) = resident_bytes() {
        gauge(
            registry,
            "weir_process_resident_memory_bytes",
            "Resident set size",
            rss,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            registry,
            "weir_process_open_fds",
            "Open file descriptors",
            fds.count() as i64,
        );
    }
}

/// RSS from /proc/self/status (`VmRSS:  N kB`).
fn resident_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
