//! The background duties of a node: every broker registers and heartbeats; the active
//! controller names the cluster, imports a pre-cluster data dir once, fences brokers whose
//! session expired, and hands leadership back to preferred replicas
//! (`auto.leader.rebalance.enable`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::controller::{self, ControllerRequest, ControllerState, Outcome};
use super::image;
use super::{decide, election, node_of, Cluster};
use crate::topics::TopicError;

impl Cluster {
    /// Registers this broker, then heartbeats every `broker.heartbeat.interval.ms`; registers
    /// again whenever the controller does not know this incarnation.
    pub async fn heartbeat_task(self: Arc<Self>) {
        let interval = Duration::from_millis(self.config.cluster.heartbeat_interval_ms);
        let mut registered = false;
        loop {
            let req = if registered {
                ControllerRequest::Heartbeat {
                    broker: self.node_id,
                    incarnation: self.info.incarnation,
                }
            } else {
                ControllerRequest::Register(self.info.clone())
            };
            let answer = {
                let running = self.heartbeats.lock().await;
                if running.is_none() {
                    return;
                }
                // A heartbeat carries nothing this broker must carry out: it never waits for
                // the reconciliation of the metadata log (seconds for a topic of thousands of
                // partitions), or the next one would come after the session expired.
                let deadline = tokio::time::Instant::now() + super::SUBMIT_TIMEOUT;
                let sent = async {
                    if registered {
                        self.call_controller(&req, deadline)
                            .await
                            .map(|r| r.outcome)
                    } else {
                        self.submit(req).await
                    }
                };
                tokio::select! {
                    _ = self.shutdown.cancelled() => return,
                    a = sent => a,
                }
            };
            match answer {
                Ok(Outcome::Heartbeat { register }) => registered = !register,
                Ok(_) => {
                    if !registered {
                        tracing::info!(node_id = self.node_id, "registered with the controller");
                    }
                    registered = true;
                }
                Err(e) => tracing::debug!(error = %e.message, "heartbeat"),
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// Kafka's controlled shutdown: stops heartbeating, then asks the controller to move
    /// leadership off this broker and take it out of every ISR (it is fenced), and waits,
    /// at most `limit`, until this node has carried that out (its replicas follow), so that
    /// clients move to the new leaders with no more than NOT_LEADER_OR_FOLLOWER.
    pub async fn controlled_shutdown(&self, limit: Duration) {
        self.heartbeats.lock().await.take();
        let req = ControllerRequest::ControlledShutdown {
            broker: self.node_id,
            incarnation: self.info.incarnation,
        };
        match tokio::time::timeout(limit, self.submit(req)).await {
            Ok(Ok(_)) => tracing::info!("controlled shutdown: leadership moved"),
            Ok(Err(e)) => tracing::warn!(error = e.message, "controlled shutdown refused"),
            Err(_) => tracing::warn!("controlled shutdown timed out"),
        }
    }

    /// While this node leads: sets the cluster id and imports a pre-cluster data dir once,
    /// and fences brokers whose session expired.
    pub async fn controller_task(self: Arc<Self>) {
        let session = Duration::from_millis(self.config.cluster.session_timeout_ms);
        let rebalance_every =
            Duration::from_secs(self.config.cluster.leader_imbalance_check_interval_s);
        let mut next_rebalance: Option<Instant> = None;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let (leader, term) = {
                let metrics = self.raft.metrics();
                let m = metrics.borrow();
                (m.current_leader, m.current_term)
            };
            if leader != Some(node_of(self.node_id)) {
                continue;
            }
            let now = Instant::now();
            {
                let mut c = self.controller.lock().unwrap_or_else(|p| p.into_inner());
                if c.term != term {
                    *c = ControllerState::new(term, now);
                    next_rebalance = Some(now + rebalance_every);
                }
            }
            if let Err(e) = self.leader_duties().await {
                tracing::warn!(error = %e.message, "controller duties");
            }
            if !self.config.security.scram_bootstrap.is_empty() {
                let bootstrap = &self.config.security.scram_bootstrap;
                let stored = self
                    .propose(|image| Ok((image.missing_scram(bootstrap), ())))
                    .await;
                if let Err(e) = stored {
                    tracing::warn!(error = %e.message, "storing sasl.scram.bootstrap");
                }
            }
            let expired = {
                let image = self.image();
                let c = self.controller.lock().unwrap_or_else(|p| p.into_inner());
                controller::expired(&image, &c, now, session)
            };
            for id in expired {
                let fenced = self
                    .propose(|image| Ok((decide::fence(image, id), ())))
                    .await;
                if let Err(e) = fenced {
                    tracing::warn!(broker = id, error = %e.message, "fencing");
                } else {
                    tracing::warn!(broker = id, "broker session expired: fenced");
                }
            }
            if self.config.cluster.auto_leader_rebalance
                && next_rebalance.is_some_and(|at| now >= at)
            {
                // Kafka's maxElectionsPerImbalance; the rest at the next tick.
                let balanced = self
                    .propose(|image| {
                        let (records, more) = election::rebalance(image, 1000);
                        let n = records.len();
                        Ok((records, (n, more)))
                    })
                    .await;
                match balanced {
                    Ok((_, (n, more))) => {
                        if n > 0 {
                            tracing::info!(partitions = n, "preferred leaders elected");
                        }
                        next_rebalance = Some(if more { now } else { now + rebalance_every })
                    }
                    Err(e) => tracing::warn!(error = %e.message, "leader rebalance"),
                }
            }
        }
    }

    async fn leader_duties(&self) -> Result<(), TopicError> {
        // Names the cluster if no entry has yet (`propose` adds the name to the first).
        self.propose(|_| Ok((vec![], ()))).await?;
        let legacy = self.legacy.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(legacy) = legacy {
            let node = self.node_id;
            let imported = self
                .propose(|image| {
                    let mut records: Vec<image::Record> = legacy
                        .topics
                        .iter()
                        .filter(|t| !image.topics.contains_key(&t.name))
                        .map(|t| {
                            let mut t = t.clone();
                            for p in &mut t.partitions {
                                *p = image::PartitionMeta::new(vec![node]);
                            }
                            image::Record::PutTopic(t)
                        })
                        .collect();
                    if legacy.next_producer_id > image.next_producer_id {
                        records.push(image::Record::ProducerIds {
                            next: legacy.next_producer_id,
                        });
                    }
                    Ok((records, ()))
                })
                .await;
            if let Err(e) = imported {
                *self.legacy.lock().unwrap_or_else(|p| p.into_inner()) = Some(legacy);
                return Err(e);
            }
            if !legacy.topics.is_empty() {
                tracing::info!(
                    topics = legacy.topics.len(),
                    "imported the topics of a single-node data dir into the cluster metadata"
                );
            }
            if let Some(db) = &legacy.db {
                if let Err(e) = crate::metadata::MetadataStore::forget_legacy(db) {
                    tracing::warn!(error = %e, "dropping the imported single-node metadata");
                }
            }
        }
        Ok(())
    }
}
