//! Partition replication, Kafka's ISR protocol. The replica manager keeps one [`Replica`] per
//! local partition log, in the role the metadata image gives it:
//! - **leader**: appends producers' batches stamped with its leader epoch, tracks each
//!   follower's progress from its fetches ([`isr`]), publishes the high watermark, proposes
//!   ISR changes to the controller (AlterPartition) and answers acks=all once the high
//!   watermark passes a batch;
//! - **follower**: fetched by the [`fetcher`] of its leader's broker, which appends the
//!   leader's batches unchanged and truncates a diverging suffix by leader epoch;
//! - **offline**: no leader; nothing happens until the image elects one.
//!
//! The log module stays unaware of all this: it stores batches, keeps the high watermark it
//! is given and reads below the limit it is given.

pub mod fetcher;
pub mod isr;
pub mod quota;
pub mod replica;

use crate::server::peer::PeerConnector;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::broker::Broker;
use crate::cluster::controller::{ControllerRequest, Outcome};
use crate::cluster::decide::AlterPartition;
use crate::log::{now_ms, TopicPartition};
use crate::protocol::error_code as ec;
use fetcher::{Assigned, Fetcher};
use quota::{Quota, Throttled};
pub use replica::{Replica, Transition};

pub struct ReplicaManager {
    me: i32,
    replicas: RwLock<HashMap<TopicPartition, Arc<Replica>>>,
    fetchers: Mutex<HashMap<i32, Arc<Fetcher>>>,
    /// The fetchers' tasks, waited for at shutdown before the logs close.
    tasks: TaskTracker,
    /// How fetchers reach the leaders' inter-broker listener (TLS, SASL).
    peer: Arc<PeerConnector>,
    /// This broker's replication quotas (`leader.` and `follower.replication.throttled.rate`).
    pub quotas: Arc<Quotas>,
}

/// A broker's two replication quotas: throttled replicas it leads, and throttled replicas it
/// follows (see [`quota`]).
pub struct Quotas {
    pub leader: SharedQuota,
    pub follower: SharedQuota,
}

/// A [`Quota`] shared by the fetch handlers or the fetchers of one broker.
pub struct SharedQuota(Mutex<Quota>);

impl SharedQuota {
    fn unbounded() -> Self {
        SharedQuota(Mutex::new(Quota::new(i64::MAX)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Quota> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_rate(&self, rate: i64) {
        self.lock().set_rate(rate);
    }

    /// Whether a rate is set at all (else there is nothing to count).
    pub fn bounded(&self) -> bool {
        self.lock().bounded()
    }

    /// Whether throttled traffic is over the rate at `now` (ms).
    pub fn exceeded(&self, now: i64) -> bool {
        self.lock().exceeded(now)
    }

    /// Counts `bytes` of throttled traffic at `now` (ms).
    pub fn record(&self, now: i64, bytes: usize) {
        self.lock().record(now, bytes as i64);
    }
}

impl ReplicaManager {
    pub fn new(me: i32, peer: Arc<PeerConnector>) -> Self {
        ReplicaManager {
            me,
            peer,
            replicas: RwLock::new(HashMap::new()),
            fetchers: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
            quotas: Arc::new(Quotas {
                leader: SharedQuota::unbounded(),
                follower: SharedQuota::unbounded(),
            }),
        }
    }

    /// How this broker connects to another (TLS and SASL as the inter-broker listener is
    /// secured).
    pub fn peer(&self) -> &PeerConnector {
        &self.peer
    }

    pub fn get(&self, tp: &TopicPartition) -> Option<Arc<Replica>> {
        self.replicas
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tp)
            .cloned()
    }

    /// The replica of a partition this broker leads; NOT_LEADER_OR_FOLLOWER otherwise.
    pub fn leader(&self, tp: &TopicPartition) -> Result<Arc<Replica>, i16> {
        self.get(tp)
            .filter(|r| r.leader_epoch().is_some())
            .ok_or(ec::NOT_LEADER_OR_FOLLOWER)
    }

    pub fn all(&self) -> Vec<Arc<Replica>> {
        self.replicas
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Brings every local replica in line with the image, after the reconciler opened the
    /// logs: roles change, fetchers are given the partitions they follow, replicas of
    /// partitions this broker no longer holds are dropped. Blocking (a new leader records
    /// its epoch in the log's checkpoint): call off the async workers.
    pub fn apply_image(&self, broker: &Arc<Broker>) {
        let now = now_ms();
        let me = self.me;
        // (partition, topic id, the image's partition, min.insync.replicas, throttling)
        let mut wanted = Vec::new();
        let mut endpoints: HashMap<i32, String> = HashMap::new();
        let mut fenced: Vec<i32> = Vec::new();
        {
            let image = broker.cluster.image();
            for b in image.brokers.values() {
                endpoints.insert(b.id, format!("{}:{}", b.host, b.port));
                if b.fenced {
                    fenced.push(b.id);
                }
            }
            let rate = |name: &str| {
                image
                    .broker_config(me, name)
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(i64::MAX)
            };
            self.quotas
                .leader
                .set_rate(rate("leader.replication.throttled.rate"));
            self.quotas
                .follower
                .set_rate(rate("follower.replication.throttled.rate"));
            let defaults = crate::config_changes::layered_log_defaults(
                &broker.config.log,
                &image.broker_configs,
                broker.config.node_id,
            );
            for t in image.topics.values() {
                let config = defaults.with_overrides(&t.configs).ok();
                let min_isr = config
                    .as_ref()
                    .map_or(1, |c| c.min_insync_replicas as usize);
                let none = Throttled::None;
                let leader_throttled = config
                    .as_ref()
                    .map_or(&none, |c| &c.leader_throttled_replicas);
                let follower_throttled = config
                    .as_ref()
                    .map_or(&none, |c| &c.follower_throttled_replicas);
                for (i, p) in t.partitions.iter().enumerate() {
                    if p.replicas.contains(&me) {
                        // Kafka's parseThrottledPartitions: the entries naming this broker.
                        let throttling = (
                            leader_throttled.contains(i as i32, me),
                            follower_throttled.contains(i as i32, me),
                            p.isr.contains(&me),
                        );
                        wanted.push((
                            TopicPartition::new(t.name.as_str(), i as i32),
                            t.id,
                            p.clone(),
                            min_isr,
                            throttling,
                        ));
                    }
                }
            }
        }
        let mut follow: HashMap<i32, BTreeMap<TopicPartition, Assigned>> = HashMap::new();
        let mut next: HashMap<TopicPartition, Arc<Replica>> = HashMap::new();
        {
            let current = self.replicas.read().unwrap_or_else(|p| p.into_inner());
            for (tp, topic_id, p, min_isr, (leader_throttled, follower_throttled, in_sync)) in
                wanted
            {
                let Some(log) = broker.logs.get(&tp) else {
                    continue;
                };
                let replica = match current.get(&tp) {
                    Some(r) if Arc::ptr_eq(&r.log, &log) && r.topic_id() == topic_id => r.clone(),
                    _ => Arc::new(Replica::new(tp.clone(), log, topic_id)),
                };
                replica.set_throttling(leader_throttled, follower_throttled, in_sync);
                match replica.apply(me, &p, min_isr, &fenced, now) {
                    Transition::Leader => {
                        tracing::info!(partition = %tp, epoch = p.leader_epoch, "leading")
                    }
                    Transition::Follower {
                        leader,
                        leader_epoch,
                    } => {
                        tracing::info!(partition = %tp, leader, epoch = leader_epoch, "following")
                    }
                    _ => {}
                }
                if p.leader >= 0 && p.leader != me {
                    follow.entry(p.leader).or_default().insert(
                        tp.clone(),
                        Assigned {
                            replica: replica.clone(),
                            topic_id,
                            leader_epoch: p.leader_epoch,
                            paused_until: None,
                        },
                    );
                }
                next.insert(tp, replica);
            }
        }
        let old = std::mem::replace(
            &mut *self.replicas.write().unwrap_or_else(|p| p.into_inner()),
            next.clone(),
        );
        for (tp, r) in old {
            if !next.get(&tp).is_some_and(|n| Arc::ptr_eq(n, &r)) {
                r.remove();
            }
        }
        self.assign_fetchers(broker, follow, &endpoints);
    }

    fn assign_fetchers(
        &self,
        broker: &Arc<Broker>,
        mut follow: HashMap<i32, BTreeMap<TopicPartition, Assigned>>,
        endpoints: &HashMap<i32, String>,
    ) {
        let mut fetchers = self.fetchers.lock().unwrap_or_else(|p| p.into_inner());
        // Fetchers whose broker moved (a new endpoint) or has nothing left stop.
        fetchers.retain(|id, f| {
            let keep = follow.contains_key(id) && endpoints.get(id) == Some(&f.addr);
            if !keep {
                f.cancel.cancel();
            }
            keep
        });
        for (leader, parts) in follow.drain() {
            let Some(addr) = endpoints.get(&leader) else {
                continue;
            };
            let f = fetchers.entry(leader).or_insert_with(|| {
                let f = Fetcher::new(
                    leader,
                    addr.clone(),
                    broker.shutdown.child_token(),
                    self.quotas.clone(),
                );
                let bind = Some(broker.config.listener());
                self.tasks.spawn(f.clone().run(
                    self.me,
                    bind,
                    self.peer.clone(),
                    broker.config.cluster.clone(),
                ));
                f
            });
            f.assign(parts);
        }
    }

    /// Stops every fetcher and waits for them (a response being applied completes).
    pub async fn stop(&self) {
        for f in self
            .fetchers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            f.cancel.cancel();
        }
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Sends an ISR change to the controller and tells the replica the answer (a task of the
/// replica manager, ended by shutdown).
pub fn propose(broker: &Arc<Broker>, replica: Arc<Replica>, proposal: replica::IsrProposal) {
    let b = broker.clone();
    broker.replicas.tasks.spawn(async move {
        tokio::select! {
            _ = b.shutdown.cancelled() => {}
            _ = send_proposal(&b, &replica, &proposal) => {}
        }
    });
}

async fn send_proposal(broker: &Arc<Broker>, replica: &Replica, proposal: &replica::IsrProposal) {
    {
        let req = AlterPartition {
            broker: broker.config.node_id,
            incarnation: broker.cluster.info.incarnation,
            topic_id: proposal.topic_id,
            partition: proposal.partition,
            leader_epoch: proposal.leader_epoch,
            partition_epoch: proposal.partition_epoch,
            isr: proposal.isr.clone(),
        };
        match broker
            .cluster
            .submit(ControllerRequest::AlterPartition(req))
            .await
        {
            Ok(Outcome::Partition(p)) => {
                tracing::info!(partition = %replica.tp, isr = ?p.isr, "ISR changed");
                replica.isr_answered(proposal, Some(&p));
            }
            Ok(_) => replica.isr_answered(proposal, None),
            Err(e) => {
                tracing::info!(partition = %replica.tp, isr = ?proposal.isr, code = e.code, error = e.message, "ISR change refused");
                replica.isr_answered(proposal, None);
            }
        }
    }
}

/// The leader's periodic duties: ISR shrinks every half `replica.lag.time.max.ms` (as
/// Kafka checks), and the high watermark checkpoint every
/// `replica.high.watermark.checkpoint.interval.ms`.
pub async fn maintenance_task(broker: Arc<Broker>, shutdown: CancellationToken) {
    let lag = broker.config.cluster.replica_lag_time_max_ms;
    let mut shrink = tokio::time::interval(Duration::from_millis((lag / 2).max(50)));
    let mut checkpoint = tokio::time::interval(Duration::from_millis(
        broker.config.cluster.high_watermark_checkpoint_interval_ms,
    ));
    shrink.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    checkpoint.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = shrink.tick() => {
                let now = now_ms();
                for r in broker.replicas.all() {
                    if let Some(p) = r.shrink(now, lag as i64) {
                        tracing::info!(partition = %r.tp, isr = ?p.isr, "followers lag: shrinking the ISR");
                        propose(&broker, r, p);
                    }
                }
            }
            _ = checkpoint.tick() => {
                let b = broker.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = b.logs.checkpoint_high_watermarks() {
                        tracing::warn!(error = %e, "writing the high watermark checkpoint");
                    }
                })
                .await;
            }
        }
    }
}
