//! Writing a transaction's COMMIT or ABORT markers (Kafka's TransactionMarkerChannelManager):
//! once a PrepareCommit / PrepareAbort state is committed, every partition of the
//! transaction gets a control batch from its leader, this broker's own partitions directly
//! and other brokers' through WriteTxnMarkers; then the completion is written.
//!
//! Rules (Kafka's):
//! - a partition whose write fails with a retriable error (leadership moving, too few
//!   replicas, a timeout, an unreachable broker) is retried with its current leader until it
//!   succeeds, for as long as this broker still coordinates the id in the same epoch and the
//!   transaction is still in that Prepare state;
//! - a partition whose topic was deleted (UNKNOWN_TOPIC_OR_PARTITION) needs no marker;
//! - TRANSACTION_COORDINATOR_FENCED means a newer coordinator owns the id: stop.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{ProducerId, TopicName, WriteTxnMarkersRequest};
use kafka_protocol::protocol::StrBytes;

use super::state::{Outcome, TxnMeta};
use crate::broker::Broker;
use crate::group::offsets_topic::OFFSETS_TOPIC;
use crate::log::{batch, now_ms, TopicPartition};
use crate::protocol::error_code as ec;
use crate::replication::replica::AppendError;

/// The WriteTxnMarkers version sent to other brokers (Kafka 4 serves only v1).
pub const WRITE_TXN_MARKERS_VERSION: i16 = 1;
/// The largest WriteTxnMarkers answer read from another broker.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// One marker to write on a partition this broker leads.
#[derive(Debug, Clone, Copy)]
pub struct Marker {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub commit: bool,
    pub coordinator_epoch: i32,
}

/// A marker appended as leader, to wait for.
pub struct Appended {
    replica: std::sync::Arc<crate::replication::Replica>,
    tp: TopicPartition,
    marker: Marker,
    offset: i64,
    required: i64,
    leader_epoch: i32,
}

/// Appends a marker to a partition this broker leads (acks=all: refused with
/// NOT_ENOUGH_REPLICAS before writing when the ISR is below `min.insync.replicas`). Kafka's
/// error code for the partition when it cannot be appended.
pub fn append_local(broker: &Broker, tp: &TopicPartition, m: Marker) -> Result<Appended, i16> {
    let replica = broker.replicas.leader(tp)?;
    let now = now_ms();
    let raw = batch::encode_control(
        m.producer_id,
        m.producer_epoch,
        m.commit,
        m.coordinator_epoch,
        now,
    );
    let h = batch::validate(&raw).map_err(|_| ec::UNKNOWN_SERVER_ERROR)?;
    let (info, required, leader_epoch) = match replica.append_as_leader(&raw, &h, now, true) {
        Ok(done) => done,
        Err(AppendError::NotLeader) => return Err(ec::NOT_LEADER_OR_FOLLOWER),
        Err(AppendError::Removed) => return Err(ec::UNKNOWN_TOPIC_OR_PARTITION),
        Err(AppendError::NotEnoughReplicas) => return Err(ec::NOT_ENOUGH_REPLICAS),
        Err(AppendError::Log(e)) => return Err(ec::for_log_error(&e)),
    };
    Ok(Appended {
        replica,
        tp: tp.clone(),
        marker: m,
        offset: info.base_offset,
        required,
        leader_epoch,
    })
}

impl Appended {
    /// Waits until the replicas have the marker (at most `timeout`); for a
    /// `__consumer_offsets` partition the group coordinator then applies or drops the
    /// producer's transactional offsets.
    pub async fn wait(self, broker: &Broker, timeout: Duration) -> i16 {
        let code = self
            .replica
            .wait_committed(self.required, self.leader_epoch, timeout)
            .await;
        if code == ec::NONE && self.tp.topic == OFFSETS_TOPIC {
            broker.groups.complete_txn(
                self.tp.partition,
                self.marker.producer_id,
                self.marker.commit,
                self.offset,
            );
        }
        code
    }
}

/// Writes markers to partitions this broker leads: all appended first, then waited for
/// together. One code per partition, in order.
pub async fn write_local(
    broker: &Broker,
    partitions: &[(TopicPartition, Marker)],
    timeout: Duration,
) -> Vec<i16> {
    let appended: Vec<Result<Appended, i16>> = partitions
        .iter()
        .map(|(tp, m)| append_local(broker, tp, *m))
        .collect();
    let mut codes = Vec::with_capacity(appended.len());
    for a in appended {
        codes.push(match a {
            Ok(a) => a.wait(broker, timeout).await,
            Err(code) => code,
        });
    }
    codes
}

/// Whether a marker write that failed with `code` is worth retrying.
fn retriable(code: i16) -> bool {
    !matches!(
        code,
        ec::UNKNOWN_TOPIC_OR_PARTITION
            | ec::TRANSACTION_COORDINATOR_FENCED
            | ec::INVALID_PRODUCER_EPOCH
            | ec::CLUSTER_AUTHORIZATION_FAILED
    )
}

/// Writes the markers of `prepared` (a PrepareCommit / PrepareAbort state just committed in
/// coordinator epoch `epoch` on `partition` of `__transaction_state`), then its completion,
/// in the background.
pub fn spawn_completion(broker: &Arc<Broker>, partition: i32, epoch: i32, prepared: TxnMeta) {
    let broker = broker.clone();
    tokio::spawn(async move {
        let id = prepared.transactional_id.clone();
        if let Err(code) = complete(&broker, epoch, &prepared).await {
            tracing::info!(
                transactional_id = %id,
                partition,
                code,
                "transaction completion stopped"
            );
        }
    });
}

async fn complete(broker: &Arc<Broker>, epoch: i32, prepared: &TxnMeta) -> Result<(), i16> {
    let Some(outcome) = prepared.marker_outcome() else {
        return Ok(());
    };
    let marker = Marker {
        producer_id: prepared.producer_id,
        producer_epoch: prepared.producer_epoch,
        commit: outcome == Outcome::Commit,
        coordinator_epoch: epoch,
    };
    let mut remaining: BTreeSet<(String, i32)> = prepared.partitions.clone();
    let mut backoff = Duration::from_millis(20);
    let timeout = Duration::from_millis(broker.groups.offsets.commit_timeout_ms);
    while !remaining.is_empty() {
        if broker.shutdown.is_cancelled() || !broker.txns.still_prepared(prepared, epoch) {
            return Err(ec::NOT_COORDINATOR);
        }
        let by_leader = leaders_of(broker, &remaining);
        for (leader, tps) in by_leader {
            let answers = match leader {
                // The topic is gone: no marker is due.
                None => tps
                    .iter()
                    .map(|tp| (tp.clone(), ec::UNKNOWN_TOPIC_OR_PARTITION))
                    .collect(),
                Some(id) if id == broker.config.node_id => {
                    let local: Vec<(TopicPartition, Marker)> = tps
                        .iter()
                        .map(|(t, p)| (TopicPartition::new(t.clone(), *p), marker))
                        .collect();
                    let codes = write_local(broker, &local, timeout).await;
                    tps.iter().cloned().zip(codes).collect()
                }
                Some(id) => send_remote(broker, id, &tps, marker).await,
            };
            for (tp, code) in answers {
                if code == ec::NONE || code == ec::UNKNOWN_TOPIC_OR_PARTITION {
                    remaining.remove(&tp);
                } else if code == ec::TRANSACTION_COORDINATOR_FENCED {
                    return Err(code);
                } else if !retriable(code) {
                    tracing::warn!(
                        transactional_id = %prepared.transactional_id,
                        partition = %format!("{}-{}", tp.0, tp.1),
                        code,
                        "transaction marker refused; not retried"
                    );
                    remaining.remove(&tp);
                }
            }
        }
        if !remaining.is_empty() {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
    // Every marker is written: record the completion (retried while it is still due).
    loop {
        match broker.txns.complete(broker, prepared, epoch).await {
            Ok(_) => return Ok(()),
            Err(ec::NOT_COORDINATOR) => return Err(ec::NOT_COORDINATOR),
            Err(code) => {
                tracing::debug!(code, "writing a transaction's completion; retrying");
                if broker.shutdown.is_cancelled() {
                    return Err(code);
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// The partitions grouped by their current leader (None: the topic or partition no longer
/// exists; Some(-1)-led partitions are left out and retried).
fn leaders_of(
    broker: &Broker,
    partitions: &BTreeSet<(String, i32)>,
) -> BTreeMap<Option<i32>, Vec<(String, i32)>> {
    let image = broker.cluster.image();
    let mut out: BTreeMap<Option<i32>, Vec<(String, i32)>> = BTreeMap::new();
    for (topic, partition) in partitions {
        match image.topic(topic).and_then(|t| t.partition(*partition)) {
            None => out.entry(None).or_default(),
            Some(p) if p.leader < 0 => continue,
            Some(p) => out.entry(Some(p.leader)).or_default(),
        }
        .push((topic.clone(), *partition));
    }
    out
}

/// WriteTxnMarkers to another broker for its partitions; a failed exchange answers every
/// partition with a retriable error.
async fn send_remote(
    broker: &Broker,
    leader: i32,
    partitions: &[(String, i32)],
    m: Marker,
) -> Vec<((String, i32), i16)> {
    let failed = |code| partitions.iter().map(|tp| (tp.clone(), code)).collect();
    let addr = {
        let image = broker.cluster.image();
        match image.brokers.get(&leader) {
            Some(b) if !b.fenced => format!("{}:{}", b.host, b.port),
            _ => return failed(ec::NOT_LEADER_OR_FOLLOWER),
        }
    };
    let mut topics: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (t, p) in partitions {
        topics.entry(t.as_str()).or_default().push(*p);
    }
    let req = WriteTxnMarkersRequest::default().with_markers(vec![WritableTxnMarker::default()
        .with_producer_id(ProducerId(m.producer_id))
        .with_producer_epoch(m.producer_epoch)
        .with_transaction_result(m.commit)
        .with_coordinator_epoch(m.coordinator_epoch)
        .with_topics(
            topics
                .into_iter()
                .map(|(t, ps)| {
                    WritableTxnMarkerTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partition_indexes(ps)
                })
                .collect(),
        )]);
    // One connection per broker, kept between transactions (taken out while in use; a
    // failed exchange drops it).
    let cached = broker
        .txns
        .channels
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&leader);
    let answer = async {
        let mut stream = match cached.filter(|(a, _)| *a == addr) {
            Some((_, s)) => s,
            None => {
                let bind = Some(broker.config.listener().ip());
                broker
                    .replicas
                    .peer()
                    .connect(&addr, bind)
                    .await
                    .map_err(|e| e.to_string())?
            }
        };
        let resp = crate::server::peer::exchange(
            &mut stream,
            1,
            WRITE_TXN_MARKERS_VERSION,
            &req,
            MAX_ANSWER,
        )
        .await?;
        Ok::<_, String>((resp, stream))
    }
    .await;
    let answer = answer.map(|(resp, stream)| {
        broker
            .txns
            .channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(leader, (addr.clone(), stream));
        resp
    });
    let resp = match answer {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(leader, error = %e, "sending transaction markers");
            return failed(ec::NOT_LEADER_OR_FOLLOWER);
        }
    };
    let mut codes: BTreeMap<(String, i32), i16> = BTreeMap::new();
    for marker in resp.markers {
        for t in marker.topics {
            for p in t.partitions {
                codes.insert((t.name.0.to_string(), p.partition_index), p.error_code);
            }
        }
    }
    partitions
        .iter()
        .map(|tp| {
            (
                tp.clone(),
                codes.get(tp).copied().unwrap_or(ec::UNKNOWN_SERVER_ERROR),
            )
        })
        .collect()
}
