//! The broker: owns the metadata store, the partition logs and the background tasks, and
//! defines the startup and shutdown order.
//!
//! Startup: bind the client listener -> open the local store (node id, offsets) -> remove
//! leftovers of interrupted deletions -> start raft (the metadata image is rebuilt from the
//! snapshot and the committed log) and the CONTROLLER listener -> reconcile: open and recover
//! every partition log this broker replicates -> serve; register with the controller and
//! heartbeat.
//! Shutdown: in a cluster, controlled shutdown (leadership moves away) -> stop accepting ->
//! let in-flight requests finish (long polls are woken) -> stop the fetchers -> stop raft ->
//! seal every active segment -> flush the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::reconcile::Reconciler;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::error::Error;
use crate::group::GroupCoordinator;
use crate::log::{now_ms, LogManager, Partition, TopicPartition};
use crate::metadata::MetadataStore;
use crate::replication::{Replica, ReplicaManager};

pub struct Broker {
    pub config: Config,
    pub metadata: MetadataStore,
    /// The cluster metadata (topics, brokers, leaders) and the controller quorum.
    pub cluster: Arc<Cluster>,
    pub logs: LogManager,
    pub groups: GroupCoordinator,
    /// The transaction coordinator (`__transaction_state`).
    pub txns: crate::txn::TransactionCoordinator,
    /// The role of every local replica (leader, follower) and the follower fetchers.
    pub replicas: ReplicaManager,
    /// Serialises run-time config changes (read, modify, persist a topic's overrides).
    pub config_changes: tokio::sync::Mutex<()>,
    /// Counters and histograms of what happens (see [`crate::metrics`]).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Decides what each principal may do (`authorizer.class.name`; see
    /// [`crate::security::authorize`]).
    pub authorizer: crate::security::authorize::Authorizer,
    /// Cancelled when the broker begins shutting down.
    pub shutdown: CancellationToken,
    /// The rates of clients under a quota (see [`crate::quota`]).
    pub quotas: crate::quota::Throttles,
}

/// A running broker: its bound address and the handle to stop it.
pub struct BrokerHandle {
    pub broker: Arc<Broker>,
    pub local_addr: SocketAddr,
    /// Where the HTTP listener is bound, if it is.
    pub http_addr: Option<SocketAddr>,
    tasks: TaskTracker,
}

impl Broker {
    /// The local log of a partition this broker leads; NOT_LEADER_OR_FOLLOWER if another
    /// broker (or none) leads it, UNKNOWN_TOPIC_OR_PARTITION if it does not exist.
    pub fn leader_log(&self, tp: &TopicPartition) -> Result<Arc<Partition>, i16> {
        self.leader_replica(tp).map(|r| r.log.clone())
    }

    /// The local replica of a partition this broker leads (errors as [`Self::leader_log`]).
    /// Both the image and the replica's role must say so: between an image change and its
    /// reconciliation the answer is NOT_LEADER_OR_FOLLOWER, which clients retry.
    pub fn leader_replica(&self, tp: &TopicPartition) -> Result<Arc<Replica>, i16> {
        self.cluster.check_leader(&tp.topic, tp.partition)?;
        self.replicas.leader(tp).map_err(|code| {
            // The image is published before the replicas follow it: a replica gone since the
            // check above means a newer image, which may no longer have the topic.
            self.cluster
                .check_leader(&tp.topic, tp.partition)
                .err()
                .unwrap_or(code)
        })
    }

    /// The broker-level defaults every topic inherits here: the static `log.*` settings
    /// with the dynamic ones of the cluster metadata over them (see
    /// [`crate::config_changes::layered_log_defaults`]).
    pub fn log_defaults(&self) -> crate::config::LogConfig {
        let image = self.cluster.image();
        crate::config_changes::layered_log_defaults(
            &self.config.log,
            &image.broker_configs,
            self.config.node_id,
        )
    }

    /// Records `value` of `kind` for a request of `principal` (`User:name`; the quota user is
    /// the name) and `client_id` under the quota that holds for it, if any: how long, ms, to
    /// hold the client back. With no quota set anywhere nothing is recorded, and the cost is
    /// one read of the image's pointer.
    pub fn quota_throttle(
        &self,
        principal: &str,
        client_id: Option<&[u8]>,
        kind: crate::quota::Kind,
        value: f64,
    ) -> i64 {
        let configs = self.cluster.client_quotas();
        if configs.is_empty() {
            return 0;
        }
        let user = principal
            .split_once(':')
            .map_or(principal, |(_, name)| name);
        let client_id = String::from_utf8_lossy(client_id.unwrap_or_default());
        self.quotas.record(
            &configs,
            kind,
            user,
            &client_id,
            value,
            crate::log::now_ms(),
        )
    }

    /// Whether the cluster has this partition (wherever it lives).
    pub fn partition_exists(&self, topic: &str, partition: i32) -> bool {
        self.cluster
            .topic(topic)
            .is_some_and(|t| t.partition(partition).is_some())
    }

    /// Opens the data dir, starts the quorum, recovers every log, binds the listener and
    /// starts serving.
    pub async fn start(mut config: Config) -> Result<BrokerHandle, Error> {
        config.check().map_err(|e| Error::Startup(e.to_string()))?;
        std::fs::create_dir_all(&config.data_dir)?;
        // TLS listeners' server configurations, read before binding anything so that a bad
        // key or certificate stops the start.
        let mut tls = Vec::with_capacity(config.listeners.len());
        for l in &config.listeners {
            tls.push(match l.protocol.tls() {
                false => None,
                true => Some(
                    config
                        .security
                        .tls
                        .for_listener(&l.name)
                        .and_then(|s| crate::security::tls::server_config(&s))
                        .map_err(|e| Error::Startup(format!("listener {}: {e}", l.name)))?,
                ),
            });
        }
        let peer = crate::server::peer::PeerConnector::from_config(&config)
            .map_err(|e| Error::Startup(format!("inter-broker listener: {e}")))?;
        let mut sockets = Vec::with_capacity(config.listeners.len());
        for l in &mut config.listeners {
            let socket = TcpListener::bind(l.addr).await?;
            // Port 0 (tests): advertise the port actually bound.
            l.addr = socket.local_addr()?;
            sockets.push(socket);
        }
        let local_addr = config.listener();
        let http = match config.http_listener {
            None => None,
            Some(addr) => match TcpListener::bind(addr).await {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "cannot bind http.listeners; serving no metrics");
                    None
                }
            },
        };
        let http_addr = http.as_ref().and_then(|l| l.local_addr().ok());
        let opened = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || -> Result<_, Error> {
                let metadata = MetadataStore::open(&config.data_dir, config.node_id)?;
                let logs = LogManager::new(config.data_dir.clone());
                logs.remove_deleted_leftovers()?;
                let legacy = metadata.legacy()?;
                Ok((metadata, logs, legacy))
            })
            .await
            .map_err(|e| Error::Startup(e.to_string()))??
        };
        let (metadata, logs, legacy) = opened;
        let shutdown = CancellationToken::new();
        let cluster = Cluster::start(
            &config,
            metadata.db(),
            metadata.cluster_id().to_string(),
            legacy,
            shutdown.clone(),
        )
        .await
        .map_err(|e| Error::Startup(e.to_string()))?;
        let node_id = config.node_id;
        let metrics = Arc::new(crate::metrics::Metrics::new(
            config.http_metrics_max_partitions,
        ));
        let groups = GroupCoordinator::new(config.group, config.offsets, &metadata)?;
        let txns = crate::txn::TransactionCoordinator::new(config.txn);
        let authorizer = crate::security::authorize::Authorizer::new(&config.security);
        let broker = Arc::new(Broker {
            authorizer,
            config,
            metadata,
            cluster,
            logs,
            groups,
            txns,
            replicas: ReplicaManager::new(node_id, Arc::new(peer)),
            config_changes: tokio::sync::Mutex::new(()),
            metrics,
            shutdown,
            quotas: crate::quota::Throttles::default(),
        });
        // The first reconciliation opens (and recovers) every local log before serving.
        let applied = broker.cluster.applied();
        let index = *applied.borrow();
        let reconciler = {
            let b = broker.clone();
            tokio::task::spawn_blocking(move || {
                let mut r = Reconciler::default();
                r.run(&b);
                b.replicas.apply_image(&b);
                r
            })
            .await
            .map_err(|e| Error::Startup(e.to_string()))?
        };
        broker.cluster.reconciled.send_replace(index);
        crate::group::follow_leadership(&broker);
        crate::txn::load::follow_leadership(&broker);
        let tasks = TaskTracker::new();
        tasks.spawn(reconcile_task(broker.clone(), reconciler, applied));
        if broker.config.cluster.broker_role {
            // A controller-only node takes no partitions: it never registers as a broker.
            tasks.spawn(broker.cluster.clone().heartbeat_task());
        }
        tasks.spawn(broker.cluster.clone().controller_task());
        if broker.config.cluster.broker_role
            && !broker.config.cluster.is_multi_node(broker.config.node_id)
        {
            // A quorum of one: serve once this broker is registered, so that a topic can be
            // created at once (a cluster's brokers come up one by one and cannot wait).
            broker
                .cluster
                .wait_registered(Duration::from_secs(10))
                .await;
        }
        let listeners = broker
            .config
            .listeners
            .iter()
            .map(|l| Arc::new(l.clone()))
            .zip(tls)
            .zip(sockets)
            .map(|((l, tls), socket)| (l, tls, socket))
            .collect();
        crate::server::listener::serve(broker.clone(), listeners, tasks.clone());
        if let Some(http) = http {
            tasks.spawn(crate::http::serve(broker.clone(), http));
        }
        tasks.spawn(flush_task(broker.clone()));
        tasks.spawn(crate::replication::maintenance_task(
            broker.clone(),
            broker.shutdown.clone(),
        ));
        tasks.spawn(retention_task(broker.clone()));
        if broker.config.cleaner_enable {
            tasks.spawn(cleaner_task(broker.clone()));
        }
        tasks.spawn(crate::group::run_timers(broker.clone()));
        tasks.spawn(crate::txn::timers::run_timers(broker.clone()));
        if broker.groups.has_legacy() && broker.config.cluster.broker_role {
            // Offsets of the per-node store move onto `__consumer_offsets` as its partitions
            // load; the topic must exist for that.
            tasks.spawn(create_offsets_topic(broker.clone()));
        }
        tracing::info!(
            address = %local_addr,
            cluster_id = broker.cluster.cluster_id().unwrap_or_default(),
            node_id = broker.config.node_id,
            "weir is serving"
        );
        Ok(BrokerHandle {
            broker,
            local_addr,
            http_addr,
            tasks,
        })
    }
}

/// Carries out every applied metadata change on the local logs (see [`Reconciler`]), then
/// publishes the index it reached, which requests that changed metadata wait for.
async fn reconcile_task(
    broker: Arc<Broker>,
    mut reconciler: Reconciler,
    mut applied: tokio::sync::watch::Receiver<u64>,
) {
    loop {
        tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            changed = applied.changed() => if changed.is_err() { return },
        }
        let index = *applied.borrow_and_update();
        let b = broker.clone();
        reconciler = match tokio::task::spawn_blocking(move || {
            reconciler.run(&b);
            b.replicas.apply_image(&b);
            reconciler
        })
        .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "reconciling the logs with the metadata");
                return;
            }
        };
        broker.cluster.reconciled.send_replace(index);
        crate::group::follow_leadership(&broker);
        crate::txn::load::follow_leadership(&broker);
    }
}

/// Creates `__consumer_offsets` once this broker is registered (retrying every second until
/// it exists), for the migration of the per-node offsets store.
async fn create_offsets_topic(broker: Arc<Broker>) {
    broker
        .cluster
        .wait_registered(Duration::from_secs(60))
        .await;
    while !broker.shutdown.is_cancelled() {
        match crate::group::offsets_topic::ensure_topic(&broker).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e.message, "creating __consumer_offsets"),
        }
        tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

impl BrokerHandle {
    /// Stops accepting, waits for in-flight requests, seals the logs and flushes metadata.
    pub async fn shutdown(self) {
        let cc = &self.broker.config.cluster;
        if cc.broker_role && cc.is_multi_node(self.broker.config.node_id) {
            // Past the session timeout the controller fences this broker anyway.
            let limit = Duration::from_millis(cc.session_timeout_ms);
            self.broker.cluster.controlled_shutdown(limit).await;
        }
        self.broker.shutdown.cancel();
        for p in self.broker.logs.all() {
            p.appended.notify_waiters();
        }
        self.tasks.close();
        if tokio::time::timeout(Duration::from_secs(30), self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after 30s; closing logs anyway");
        }
        self.broker.replicas.stop().await;
        self.broker.cluster.stop().await;
        let broker = self.broker.clone();
        let _ = tokio::task::spawn_blocking(move || {
            broker.logs.close_all();
            if let Err(e) = broker.metadata.flush() {
                tracing::error!(error = %e, "flushing metadata");
            }
        })
        .await;
        tracing::info!("weir stopped");
    }
}

/// Applies `flush.ms`: fsyncs partitions whose oldest unflushed write is older than it.
async fn flush_task(broker: Arc<Broker>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = now_ms();
        // flush_if_due checks `flush.ms` under the partition lock and fsyncs only when due
        // (never, by default); the sweep may block on fsync, so off the async workers.
        tokio::task::block_in_place(|| {
            for p in broker.logs.all() {
                let _ = p.flush_if_due(now);
            }
        });
    }
}

/// Every `log.retention.check.interval.ms`: rolls active segments past `segment.ms` and
/// deletes the segments retention allows, on a blocking thread.
async fn retention_task(broker: Arc<Broker>) {
    let period = Duration::from_millis(broker.config.retention_check_interval_ms);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let b = broker.clone();
        let _ = tokio::task::spawn_blocking(move || b.logs.apply_retention(now_ms())).await;
    }
}

/// The log cleaner: passes over every compacted partition; sleeps `log.cleaner.backoff.ms`
/// after a sweep in which nothing was due. A pass stops early at shutdown.
async fn cleaner_task(broker: Arc<Broker>) {
    let backoff = Duration::from_millis(broker.config.cleaner_backoff_ms);
    let limits = crate::log::cleaner::CleanerLimits {
        max_keys: (broker.config.cleaner_dedupe_buffer_size / 24).max(1) as usize,
    };
    loop {
        let b = broker.clone();
        let worked = tokio::task::spawn_blocking(move || {
            let stop = || b.shutdown.is_cancelled();
            b.logs.clean_all(now_ms(), limits, &stop)
        })
        .await
        .unwrap_or(false);
        if !worked || backoff.is_zero() {
            tokio::select! {
                _ = broker.shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff.max(Duration::from_millis(10))) => {}
            }
        }
        if broker.shutdown.is_cancelled() {
            return;
        }
    }
}
