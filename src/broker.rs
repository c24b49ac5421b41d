//! The broker: owns the metadata store, the partition logs and the background tasks, and
//! defines the startup and shutdown order.
//!
//! Startup: open metadata (cluster id, node id, topics) -> remove leftovers of interrupted
//! deletions -> open and recover every partition log -> bind the listener -> serve.
//! Shutdown: stop accepting -> let in-flight requests finish (long polls are woken) ->
//! seal every active segment -> flush metadata.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::error::Error;
use crate::group::GroupCoordinator;
use crate::log::{now_ms, LogManager, TopicPartition};
use crate::metadata::MetadataStore;

pub struct Broker {
    pub config: Config,
    pub metadata: MetadataStore,
    pub logs: LogManager,
    pub groups: GroupCoordinator,
    /// Serialises run-time config changes (read, modify, persist a topic's overrides).
    pub config_changes: std::sync::Mutex<()>,
    /// Cancelled when the broker begins shutting down.
    pub shutdown: CancellationToken,
}

/// A running broker: its bound address and the handle to stop it.
pub struct BrokerHandle {
    pub broker: Arc<Broker>,
    pub local_addr: SocketAddr,
    tasks: TaskTracker,
}

impl Broker {
    /// Opens the data dir, recovers every log, binds the listener and starts serving.
    pub async fn start(mut config: Config) -> Result<BrokerHandle, Error> {
        std::fs::create_dir_all(&config.data_dir)?;
        let listener = TcpListener::bind(config.listener).await?;
        let local_addr = listener.local_addr()?;
        // Port 0 (tests): advertise the port actually bound.
        config.listener = local_addr;
        let broker = tokio::task::spawn_blocking(move || Broker::open(config))
            .await
            .map_err(|e| Error::Startup(e.to_string()))??;
        let broker = Arc::new(broker);
        let tasks = TaskTracker::new();
        tasks.spawn(crate::server::listener::serve(
            broker.clone(),
            listener,
            tasks.clone(),
        ));
        tasks.spawn(flush_task(broker.clone()));
        tasks.spawn(retention_task(broker.clone()));
        if broker.config.cleaner_enable {
            tasks.spawn(cleaner_task(broker.clone()));
        }
        let timers = broker.clone();
        tasks.spawn(async move {
            timers
                .groups
                .run_timers(&timers.metadata, &timers.shutdown)
                .await;
        });
        tracing::info!(
            address = %local_addr,
            cluster_id = broker.metadata.cluster_id(),
            node_id = broker.config.node_id,
            "weir is serving"
        );
        Ok(BrokerHandle {
            broker,
            local_addr,
            tasks,
        })
    }

    fn open(config: Config) -> Result<Broker, Error> {
        let metadata = MetadataStore::open(&config.data_dir, config.node_id)?;
        let logs = LogManager::new(config.data_dir.clone());
        logs.remove_deleted_leftovers()?;
        for topic in metadata.topics() {
            let log_config = config.log.with_overrides(&topic.configs)?;
            for p in 0..topic.partitions {
                logs.open(
                    TopicPartition::new(topic.name.clone(), p),
                    log_config.clone(),
                )?;
            }
        }
        let mut groups = GroupCoordinator::new(config.group, &metadata)?;
        groups.offsets_retention_ms = config.offsets_retention_ms;
        Ok(Broker {
            config,
            metadata,
            logs,
            groups,
            config_changes: std::sync::Mutex::new(()),
            shutdown: CancellationToken::new(),
        })
    }
}

impl BrokerHandle {
    /// Stops accepting, waits for in-flight requests, seals the logs and flushes metadata.
    pub async fn shutdown(self) {
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
