//! The follower side: one fetcher per source broker, fetching all the partitions this broker
//! follows there with ordinary Fetch requests (v13, by topic id) that carry this broker's
//! replica id, and appending the leader's batches byte for byte.
//!
//! Per partition and response:
//! - records: appended as they are (offsets, epochs and CRCs unchanged); the high watermark
//!   becomes min(the leader's, the local log end), the log start follows the leader's;
//! - a diverging epoch (the local log holds a suffix the leader does not): the log is
//!   truncated as [`truncation_offset`] decides, and the next fetch resumes from there;
//! - OFFSET_OUT_OF_RANGE below the leader's log start: the local log restarts empty there;
//! - any other error (a leadership change in flight, a stale epoch): the partition pauses
//!   for `replica.fetch.backoff.ms` and waits for the image to say where to fetch from.
//!
//! A broken connection is reopened after the backoff. The fetch sizes are Kafka's
//! `replica.fetch.*` settings.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::server::peer::{PeerConnector, PeerStream};
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{
    ApiKey, BrokerId, FetchRequest, FetchResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::replica::Replica;
use crate::config::ClusterConfig;
use crate::log::TopicPartition;
use crate::protocol::error_code as ec;

/// The Fetch version followers send: topic ids, `last_fetched_epoch`, `diverging_epoch`.
const FETCH_VERSION: i16 = 13;
/// A response larger than this is refused (the request asks for far less).
const MAX_RESPONSE: usize = 256 * 1024 * 1024;

/// Where the local log of a follower must be truncated to, given the leader's diverging
/// epoch `(leader_epoch, leader_end)` and the local end offset of that epoch as
/// [`Partition::end_offset_for_epoch`](crate::log::Partition::end_offset_for_epoch) answers
/// it `(local_epoch, local_end)`, as Kafka's `AbstractFetcherThread` decides:
/// - the leader knows no epoch (-1): back to the high watermark;
/// - the local log does not know that epoch (it answers a smaller one): to the local end of
///   that smaller epoch; the next fetch names it and may truncate further;
/// - it does: to the smaller of the two ends;
///
/// never beyond the local log end.
pub fn truncation_offset(
    diverging: (i32, i64),
    local: (i32, i64),
    log_end: i64,
    high_watermark: i64,
) -> i64 {
    let (leader_epoch, leader_end) = diverging;
    let (local_epoch, local_end) = local;
    let to = if leader_epoch < 0 || leader_end < 0 {
        high_watermark
    } else if local_epoch < 0 || local_end < 0 {
        leader_end
    } else if local_epoch != leader_epoch {
        local_end
    } else {
        local_end.min(leader_end)
    };
    to.min(log_end).max(0)
}

/// One partition followed through this fetcher.
#[derive(Clone)]
pub struct Assigned {
    pub replica: Arc<Replica>,
    pub topic_id: Uuid,
    pub leader_epoch: i32,
    /// Not fetched before this instant (after an error).
    pub paused_until: Option<Instant>,
}

/// The fetcher for one source broker.
pub struct Fetcher {
    pub leader: i32,
    pub addr: String,
    partitions: Mutex<BTreeMap<TopicPartition, Assigned>>,
    changed: Notify,
    /// Woken (notify_waiters) when a partition is added or its leader epoch changes: a fetch
    /// parked at the leader without it is abandoned, so that a new partition (a new topic, or
    /// one whose leadership just moved here) replicates at once rather than after
    /// `replica.fetch.wait.max.ms`.
    grown: Notify,
    pub cancel: CancellationToken,
    /// The broker's replication quotas: throttled partitions are left out of a request while
    /// the follower quota is exceeded, and their fetched bytes count against it.
    quotas: Arc<super::Quotas>,
}

impl Fetcher {
    pub fn new(
        leader: i32,
        addr: String,
        cancel: CancellationToken,
        quotas: Arc<super::Quotas>,
    ) -> Arc<Self> {
        Arc::new(Fetcher {
            leader,
            addr,
            partitions: Mutex::new(BTreeMap::new()),
            changed: Notify::new(),
            grown: Notify::new(),
            cancel,
            quotas,
        })
    }

    fn partitions(&self) -> std::sync::MutexGuard<'_, BTreeMap<TopicPartition, Assigned>> {
        self.partitions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the set of partitions fetched here; a partition whose leader epoch changed
    /// is fetched again at once.
    pub fn assign(&self, wanted: BTreeMap<TopicPartition, Assigned>) {
        let mut parts = self.partitions();
        let mut next = wanted;
        let mut grown = false;
        for (tp, a) in next.iter_mut() {
            match parts.get(tp) {
                Some(old)
                    if old.leader_epoch == a.leader_epoch
                        && Arc::ptr_eq(&old.replica, &a.replica) =>
                {
                    a.paused_until = old.paused_until;
                }
                _ => grown = true,
            }
        }
        *parts = next;
        drop(parts);
        self.changed.notify_one();
        if grown {
            self.grown.notify_waiters();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.partitions().is_empty()
    }

    fn pause(&self, tp: &TopicPartition, backoff: Duration) {
        if let Some(a) = self.partitions().get_mut(tp) {
            a.paused_until = Some(Instant::now() + backoff);
        }
    }

    /// The fetch loop; ends when cancelled.
    pub async fn run(
        self: Arc<Self>,
        me: i32,
        bind: Option<SocketAddr>,
        peer: Arc<PeerConnector>,
        config: ClusterConfig,
    ) {
        let backoff = Duration::from_millis(config.replica_fetch_backoff_ms);
        let mut correlation = 0i32;
        'connect: while !self.cancel.is_cancelled() {
            let mut conn = match tokio::select! {
                c = peer.connect(&self.addr, bind.map(|b| b.ip())) => c,
                _ = self.cancel.cancelled() => return,
            } {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    tracing::warn!(leader = self.leader, addr = self.addr, error = %e, "replica fetcher cannot authenticate");
                    self.sleep(backoff).await;
                    continue;
                }
                Err(e) => {
                    tracing::debug!(leader = self.leader, addr = self.addr, error = %e, "replica fetcher cannot connect");
                    self.sleep(backoff).await;
                    continue;
                }
            };
            loop {
                if self.cancel.is_cancelled() {
                    return;
                }
                // Armed before the request is built: a partition added from here on ends
                // the wait for this request's answer.
                let grown = self.grown.notified();
                tokio::pin!(grown);
                grown.as_mut().enable();
                let (request, sent) = self.build(me, &config);
                if sent.is_empty() {
                    // Nothing to fetch (all paused or none): wait for a change or a pause
                    // to end.
                    let changed = self.changed.notified();
                    // Until the first pause ends (or a while, with nothing to fetch).
                    let until = self
                        .partitions()
                        .values()
                        .filter_map(|a| a.paused_until)
                        .min()
                        .unwrap_or_else(|| Instant::now() + backoff.max(Duration::from_millis(50)));
                    tokio::select! {
                        _ = changed => {}
                        _ = tokio::time::sleep_until(until) => {}
                        _ = self.cancel.cancelled() => return,
                    }
                    continue;
                }
                correlation = correlation.wrapping_add(1);
                let timeout = Duration::from_millis(config.replica_fetch_wait_max_ms)
                    + Duration::from_secs(30);
                let answer = tokio::select! {
                    r = tokio::time::timeout(timeout, exchange(&mut conn, correlation, &request)) => r,
                    _ = &mut grown => {
                        // The answer would come on this connection: a new one instead.
                        tracing::debug!(leader = self.leader, "partitions added: a new fetch at once");
                        continue 'connect;
                    }
                    _ = self.cancel.cancelled() => return,
                };
                let response = match answer {
                    Ok(Ok(r)) => r,
                    Ok(Err(e)) => {
                        tracing::debug!(leader = self.leader, error = %e, "replica fetch failed");
                        self.sleep(backoff).await;
                        continue 'connect;
                    }
                    Err(_) => {
                        tracing::debug!(leader = self.leader, "replica fetch timed out");
                        continue 'connect;
                    }
                };
                let me_fetcher = self.clone();
                let handled = tokio::task::spawn_blocking(move || {
                    me_fetcher.handle(response, &sent, backoff);
                })
                .await;
                if handled.is_err() {
                    return;
                }
            }
        }
    }

    async fn sleep(&self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.cancel.cancelled() => {}
        }
    }

    /// The next request, and what it asked for each partition.
    fn build(
        &self,
        me: i32,
        config: &ClusterConfig,
    ) -> (FetchRequest, Vec<(TopicPartition, Assigned)>) {
        let now = Instant::now();
        let mut sent = Vec::new();
        let mut topics: Vec<FetchTopic> = Vec::new();
        // Kafka's shouldFollowerThrottle: an out-of-sync throttled partition waits while the
        // follower quota is exceeded.
        let over_quota = self.quotas.follower.exceeded(crate::log::now_ms());
        for (tp, a) in self.partitions().iter() {
            if a.paused_until.is_some_and(|t| t > now) {
                continue;
            }
            if over_quota && a.replica.follower_throttled() {
                continue;
            }
            let Ok(offsets) = a.replica.log.offsets() else {
                continue;
            };
            let last_epoch = a.replica.log.latest_epoch().ok().flatten().unwrap_or(-1);
            let p = FetchPartition::default()
                .with_partition(tp.partition)
                .with_current_leader_epoch(a.leader_epoch)
                .with_fetch_offset(offsets.log_end)
                .with_last_fetched_epoch(last_epoch)
                .with_log_start_offset(offsets.log_start)
                .with_partition_max_bytes(
                    config.replica_fetch_max_bytes.min(i32::MAX as u64) as i32
                );
            match topics.last_mut() {
                Some(t) if t.topic_id == a.topic_id => t.partitions.push(p),
                _ => topics.push(
                    FetchTopic::default()
                        .with_topic_id(a.topic_id)
                        .with_partitions(vec![p]),
                ),
            }
            sent.push((tp.clone(), a.clone()));
        }
        let request = FetchRequest::default()
            .with_replica_id(BrokerId(me))
            .with_max_wait_ms(config.replica_fetch_wait_max_ms.min(i32::MAX as u64) as i32)
            .with_min_bytes(1)
            .with_max_bytes(config.replica_fetch_response_max_bytes.min(i32::MAX as u64) as i32)
            .with_isolation_level(0)
            .with_session_id(0)
            .with_session_epoch(-1)
            .with_topics(topics);
        (request, sent)
    }

    /// Carries out one response (blocking file work).
    fn handle(
        &self,
        response: FetchResponse,
        sent: &[(TopicPartition, Assigned)],
        backoff: Duration,
    ) {
        let mut by_key: BTreeMap<(Uuid, i32), PartitionData> = BTreeMap::new();
        for t in response.responses {
            for p in t.partitions {
                by_key.insert((t.topic_id, p.partition_index), p);
            }
        }
        if response.error_code != ec::NONE {
            tracing::debug!(
                leader = self.leader,
                error = response.error_code,
                "replica fetch refused"
            );
        }
        // Nothing to count (no replica lock taken) unless a follower rate is set.
        let throttling = self.quotas.follower.bounded();
        for (tp, a) in sent {
            let Some(data) = by_key.remove(&(a.topic_id, tp.partition)) else {
                continue;
            };
            // Only the partitions still assigned with the same epoch (the image may have
            // moved them meanwhile).
            let current = self.partitions().get(tp).is_some_and(|c| {
                c.leader_epoch == a.leader_epoch && Arc::ptr_eq(&c.replica, &a.replica)
            });
            if !current {
                continue;
            }
            if metadata_lag(data.error_code) {
                // The leader has not applied the change that made it leader yet (the image
                // reaches brokers one by one), or this broker's own view is stale and about to
                // change: ask again shortly rather than after the full backoff.
                tracing::debug!(partition = %tp, leader = self.leader, error = data.error_code, "replica fetch: the leader's metadata differs");
                self.pause(tp, backoff.min(METADATA_LAG_RETRY));
                continue;
            }
            if throttling && a.replica.follower_throttled() {
                let bytes = data.records.as_ref().map_or(0, |r| r.len());
                self.quotas.follower.record(crate::log::now_ms(), bytes);
            }
            if let Err(e) = apply(&a.replica, &data) {
                tracing::warn!(partition = %tp, leader = self.leader, error = e, "replica fetch");
                self.pause(tp, backoff);
            }
        }
    }
}

/// How soon a partition is fetched again after an answer of [`metadata_lag`].
const METADATA_LAG_RETRY: Duration = Duration::from_millis(20);

/// Errors a leader answers while its metadata and this follower's disagree (one of them has
/// not applied the latest image yet): they pass by themselves within milliseconds.
fn metadata_lag(code: i16) -> bool {
    matches!(
        code,
        ec::NOT_LEADER_OR_FOLLOWER
            | ec::UNKNOWN_TOPIC_OR_PARTITION
            | ec::UNKNOWN_TOPIC_ID
            | ec::UNKNOWN_LEADER_EPOCH
    )
}

/// Applies one partition's answer to the local log.
fn apply(replica: &Replica, data: &PartitionData) -> Result<(), String> {
    let log = &replica.log;
    match data.error_code {
        ec::NONE => {}
        ec::OFFSET_OUT_OF_RANGE => {
            let offsets = log.offsets().map_err(|e| e.to_string())?;
            if data.log_start_offset > offsets.log_end {
                tracing::info!(partition = %replica.tp, start = data.log_start_offset, "the leader's log starts beyond this replica's end: restarting it there");
                log.reset_to(data.log_start_offset)
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
            if data.high_watermark >= 0 && data.high_watermark < offsets.log_end {
                log.truncate_to(data.high_watermark)
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
            return Err("offset out of range".into());
        }
        code => return Err(format!("error code {code}")),
    }
    if data.diverging_epoch.epoch >= 0 || data.diverging_epoch.end_offset >= 0 {
        let offsets = log.offsets().map_err(|e| e.to_string())?;
        let local = log
            .end_offset_for_epoch(data.diverging_epoch.epoch)
            .map_err(|e| e.to_string())?;
        let to = truncation_offset(
            (data.diverging_epoch.epoch, data.diverging_epoch.end_offset),
            local,
            offsets.log_end,
            offsets.high_watermark,
        );
        let before = (
            offsets.log_end,
            log.latest_epoch().map_err(|e| e.to_string())?,
        );
        tracing::info!(partition = %replica.tp, from = offsets.log_end, to, "truncating a diverging suffix");
        let end = log.truncate_to(to).map_err(|e| e.to_string())?;
        if (end, log.latest_epoch().map_err(|e| e.to_string())?) == before {
            // The next fetch would be the same: wait rather than spin.
            return Err(format!("truncation to {to} changed nothing"));
        }
        return Ok(());
    }
    let end = match data.records.as_ref().filter(|r| !r.is_empty()) {
        Some(records) => log.append_replicated(records).map_err(|e| e.to_string())?,
        None => log.offsets().map_err(|e| e.to_string())?.log_end,
    };
    if data.high_watermark >= 0 {
        // Kafka's follower takes the leader's high watermark, bounded by its own log end.
        log.set_high_watermark(data.high_watermark.min(end))
            .map_err(|e| e.to_string())?;
    }
    if data.log_start_offset > 0 {
        let start = data.log_start_offset.min(log.high_watermark());
        if start > log.offsets().map_err(|e| e.to_string())?.log_start {
            log.advance_log_start(start).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Sends one Fetch request and reads its response.
async fn exchange(
    conn: &mut PeerStream,
    correlation: i32,
    request: &FetchRequest,
) -> anyhow::Result<FetchResponse> {
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::Fetch as i16)
        .with_request_api_version(FETCH_VERSION)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str("weir-replica-fetcher")));
    let mut body = BytesMut::new();
    header.encode(&mut body, FetchRequest::header_version(FETCH_VERSION))?;
    request.encode(&mut body, FETCH_VERSION)?;
    let mut frame = BytesMut::with_capacity(4 + body.len());
    frame.put_i32(body.len() as i32);
    frame.extend_from_slice(&body);
    conn.write_all(&frame).await?;
    let size = conn.read_i32().await?;
    if size < 0 || size as usize > MAX_RESPONSE {
        anyhow::bail!("response size {size} refused");
    }
    let mut buf = vec![0u8; size as usize];
    conn.read_exact(&mut buf).await?;
    let mut buf = Bytes::from(buf);
    let rh = ResponseHeader::decode(&mut buf, FetchResponse::header_version(FETCH_VERSION))?;
    if rh.correlation_id != correlation {
        anyhow::bail!("correlation id {} for {correlation}", rh.correlation_id);
    }
    FetchResponse::decode(&mut buf, FETCH_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's truncation on a diverging epoch, one row per case.
    #[test]
    fn truncation_follows_the_leaders_epochs() {
        // (diverging (epoch, end), local (epoch, end), log end, hw, expected)
        type Row = ((i32, i64), (i32, i64), i64, i64, i64);
        let table: &[Row] = &[
            // Same epoch on both sides: the smaller end.
            ((3, 120), (3, 150), 150, 100, 120),
            ((3, 150), (3, 120), 130, 100, 120),
            // The follower does not know epoch 3; its largest smaller epoch 2 ends at 110.
            ((3, 120), (2, 110), 150, 100, 110),
            // No epochs known locally: the leader's end.
            ((3, 120), (-1, -1), 150, 100, 120),
            // The leader knows no epoch: back to the high watermark.
            ((-1, -1), (2, 110), 150, 100, 100),
            // Never beyond the local end.
            ((3, 500), (3, 400), 200, 100, 200),
        ];
        for (i, &(div, local, end, hw, want)) in table.iter().enumerate() {
            assert_eq!(truncation_offset(div, local, end, hw), want, "row {i}");
        }
    }
}
