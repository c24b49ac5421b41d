//! The cluster's control plane: one raft log (openraft) whose state machine is the metadata
//! [`Image`]; the raft RPCs and controller requests on the CONTROLLER listener; broker
//! registration and heartbeats; the active controller (the raft leader) deciding changes.
//!
//! A change (CreateTopics on any broker, a heartbeat, a fencing) goes: requesting broker ->
//! [`Cluster::submit`] -> the raft leader's [`Cluster::handle_controller`] (a pure decision on
//! its image, proposed as one raft entry) -> committed on a quorum -> applied to every node's
//! image in log order -> the requester waits until its own node has applied and reconciled
//! (opened or removed partition logs) that entry, then answers its client.
//!
//! A single node with no cluster settings is a quorum of itself: the same path, no socket.

pub mod controller;
pub mod decide;
mod duties;
pub mod election;
pub mod image;
pub mod network;
pub mod placement;
pub mod reassign;
pub mod reconcile;
pub mod security;
mod server;
pub mod store;

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openraft::BasicNode;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::Config;
use crate::protocol::error_code as ec;
use crate::topics::TopicError;
use controller::{ControllerReply, ControllerRequest, ControllerState, Outcome};
use image::{BrokerInfo, Image, TopicMeta};
use network::{Peer, Rpc, RpcReply};

pub type NodeId = u64;
pub type Node = BasicNode;

openraft::declare_raft_types!(
    /// weir's raft types: entries carry a [`image::Command`].
    pub TypeConfig:
        D = image::Command,
        R = (),
        Node = BasicNode,
);

pub type Raft = openraft::Raft<TypeConfig>;

use ec::{NOT_CONTROLLER, REQUEST_TIMED_OUT};

/// How long a request waits for a controller (an election) before REQUEST_TIMED_OUT.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(15);
/// Bound on one controller RPC.
const RPC_TIMEOUT: Duration = Duration::from_secs(5);

/// Topics and the producer id counter of a data dir from before the cluster: imported
/// into the image by the first leader that holds them.
#[derive(Default)]
pub struct Legacy {
    pub topics: Vec<TopicMeta>,
    pub next_producer_id: i64,
    /// Where they were read from, to forget them once imported.
    pub db: Option<sled::Db>,
}

pub struct Cluster {
    pub node_id: i32,
    pub raft: Raft,
    image: Arc<RwLock<Image>>,
    applied: watch::Receiver<u64>,
    /// The last index whose changes the reconciler has carried out on the local logs.
    pub reconciled: watch::Sender<u64>,
    config: Config,
    /// This node's own cluster id, until the image has one.
    local_cluster_id: String,
    /// This node's registration (its incarnation is new at every start).
    pub info: BrokerInfo,
    peers: std::sync::Mutex<HashMap<NodeId, Arc<Peer>>>,
    controller: std::sync::Mutex<ControllerState>,
    decisions: tokio::sync::Mutex<()>,
    producer_ids: tokio::sync::Mutex<(i64, i64)>,
    legacy: std::sync::Mutex<Option<Legacy>>,
    shutdown: CancellationToken,
    /// Held around each heartbeat; `None` once a controlled shutdown began (no heartbeat may
    /// unfence this broker after it).
    heartbeats: tokio::sync::Mutex<Option<()>>,
    /// How this node's connections to other nodes are made (source address, TLS).
    dialer: Arc<network::Dialer>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("raft storage: {0}")]
    Storage(String),
    #[error("raft: {0}")]
    Raft(String),
    #[error("controller listener: {0}")]
    Io(#[from] std::io::Error),
    #[error("controller listener TLS: {0}")]
    Tls(String),
}

fn node_of(id: i32) -> NodeId {
    id as NodeId
}

impl Cluster {
    /// Opens the raft state in `db`, starts raft (the image is rebuilt from the snapshot and
    /// the committed log before this returns), binds the CONTROLLER listener if configured
    /// and initialises a pristine quorum.
    pub async fn start(
        config: &Config,
        db: &sled::Db,
        local_cluster_id: String,
        legacy: Legacy,
        shutdown: CancellationToken,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let store = store::LogStore::open(db).map_err(|e| ClusterError::Storage(e.to_string()))?;
        let image = Arc::new(RwLock::new(Image::default()));
        let (applied_tx, applied) = watch::channel(0u64);
        let sm = store::StateMachine::open(&store, image.clone(), Arc::new(applied_tx))
            .map_err(|e| ClusterError::Storage(e.to_string()))?;
        let cc = &config.cluster;
        let controller_listener = match cc.controller_listener {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        // Connections to other nodes leave from this node's own address.
        let source = Some(match cc.controller_listener {
            Some(a) if !a.ip().is_unspecified() => a.ip(),
            _ => config.listener().ip(),
        });
        // An SSL controller listener: mutual TLS both ways, with its own `ssl.*` settings.
        let (server_tls, client_tls) = match &cc.controller_tls {
            None => (None, None),
            Some(name) => {
                let mut s = config
                    .security
                    .tls
                    .for_listener(name)
                    .map_err(|e| ClusterError::Tls(format!("{name}: {e}")))?;
                s.client_auth = crate::config::tls::ClientAuth::Required;
                let server = crate::security::tls::server_config(&s)
                    .map_err(|e| ClusterError::Tls(format!("{name}: {e}")))?;
                let client = crate::security::tls::client_config(&s)
                    .map_err(|e| ClusterError::Tls(format!("{name}: {e}")))?;
                (Some(server), Some(client))
            }
        };
        let dialer = Arc::new(network::Dialer {
            source,
            tls: client_tls,
        });
        let controller_addr = match &controller_listener {
            Some(l) => l.local_addr()?.to_string(),
            None => String::new(),
        };
        let raft_config = openraft::Config {
            cluster_name: "weir".into(),
            heartbeat_interval: 200,
            election_timeout_min: 1000,
            election_timeout_max: 2000,
            install_snapshot_timeout: 10_000,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(1000),
            max_in_snapshot_log_to_keep: 1000,
            ..Default::default()
        };
        let raft_config = Arc::new(
            raft_config
                .validate()
                .map_err(|e| ClusterError::Raft(e.to_string()))?,
        );
        let pristine = !store.has_state();
        let raft = Raft::new(
            node_of(config.node_id),
            raft_config,
            network::Network {
                dialer: dialer.clone(),
            },
            store.clone(),
            sm,
        )
        .await
        .map_err(|e| ClusterError::Raft(e.to_string()))?;
        let (host, port) = config.advertised();
        let info = BrokerInfo {
            id: config.node_id,
            incarnation: Uuid::new_v4(),
            host,
            port,
            rack: cc.rack.clone(),
            controller_addr: controller_addr.clone(),
            fenced: false,
            endpoints: config
                .listeners
                .iter()
                .map(|l| {
                    let (host, port) = l.advertised();
                    image::Endpoint {
                        listener: l.name.clone(),
                        host,
                        port,
                        protocol: l.protocol.id(),
                    }
                })
                .collect(),
        };
        let initial = *applied.borrow();
        let cluster = Arc::new(Cluster {
            node_id: config.node_id,
            raft,
            image,
            applied,
            reconciled: watch::channel(initial).0,
            config: config.clone(),
            local_cluster_id,
            info,
            peers: std::sync::Mutex::new(HashMap::new()),
            controller: std::sync::Mutex::new(ControllerState::new(0, Instant::now())),
            decisions: tokio::sync::Mutex::new(()),
            producer_ids: tokio::sync::Mutex::new((0, 0)),
            legacy: std::sync::Mutex::new(Some(legacy)),
            shutdown,
            heartbeats: tokio::sync::Mutex::new(Some(())),
            dialer,
        });
        if let Some(listener) = controller_listener {
            tokio::spawn(server::serve(cluster.clone(), listener, server_tls));
        }
        if pristine && cc.controller_role {
            let mut voters = BTreeMap::new();
            for v in &cc.voters {
                voters.insert(node_of(v.id), BasicNode::new(v.addr.clone()));
            }
            if voters.is_empty() {
                voters.insert(node_of(config.node_id), BasicNode::new(controller_addr));
            }
            if voters.contains_key(&node_of(config.node_id)) {
                match cluster.raft.initialize(voters).await {
                    Ok(()) => {}
                    Err(openraft::error::RaftError::APIError(
                        openraft::error::InitializeError::NotAllowed(_),
                    )) => {}
                    Err(e) => return Err(ClusterError::Raft(e.to_string())),
                }
            }
        }
        Ok(cluster)
    }

    /// Whether the image shows this process registered (its own incarnation) and unfenced.
    pub fn is_registered(&self) -> bool {
        self.image()
            .brokers
            .get(&self.node_id)
            .is_some_and(|b| !b.fenced && b.incarnation == self.info.incarnation)
    }

    /// Waits (at most `limit`) until the image shows this broker registered and unfenced.
    pub async fn wait_registered(&self, limit: Duration) {
        let mut rx = self.reconciled.subscribe();
        let me = self.node_id;
        let incarnation = self.info.incarnation;
        let _ = tokio::time::timeout(
            limit,
            rx.wait_for(|_| {
                self.image()
                    .brokers
                    .get(&me)
                    .is_some_and(|b| !b.fenced && b.incarnation == incarnation)
            }),
        )
        .await;
    }

    /// The index of the last entry applied to the image.
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.clone()
    }

    /// The image, for reading. Never held across an await.
    /// The client quotas as the image holds them (a shared pointer; cheap).
    pub fn client_quotas(&self) -> Arc<crate::quota::QuotaConfigs> {
        self.image().client_quotas.clone()
    }

    pub fn image(&self) -> std::sync::RwLockReadGuard<'_, Image> {
        self.image.read().unwrap_or_else(|p| p.into_inner())
    }

    /// `user`'s SCRAM credential for `mechanism`.
    pub fn scram_credential(
        &self,
        user: &str,
        mechanism: crate::security::scram::ScramMechanism,
    ) -> Option<crate::security::scram::ScramCredential> {
        self.image().scram.get(user)?.get(&mechanism).cloned()
    }

    pub fn topic(&self, name: &str) -> Option<Arc<TopicMeta>> {
        self.image().topic(name).cloned()
    }

    pub fn has_topic(&self, name: &str) -> bool {
        self.image().topics.contains_key(name)
    }

    pub fn topic_by_id(&self, id: Uuid) -> Option<Arc<TopicMeta>> {
        self.image().topic_by_id(id).cloned()
    }

    /// Every topic, sorted by name.
    pub fn topics(&self) -> Vec<Arc<TopicMeta>> {
        let mut v: Vec<Arc<TopicMeta>> = self.image().topics.values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// The cluster id the quorum agreed on; before it has one, this node's own id for a
    /// quorum of one, and None for a node of a larger cluster (a client must never see two
    /// ids from one cluster).
    pub fn cluster_id(&self) -> Option<String> {
        match &self.image().cluster_id {
            Some(id) => Some(id.clone()),
            None if !self.config.cluster.is_multi_node(self.node_id) => {
                Some(self.local_cluster_id.clone())
            }
            None => None,
        }
    }

    /// Brokers to offer clients: the live registered ones, and this one (it is answering).
    pub fn live_brokers(&self) -> Vec<BrokerInfo> {
        let image = self.image();
        let mut v: Vec<BrokerInfo> = image.live_brokers().cloned().collect();
        if self.config.cluster.broker_role && !v.iter().any(|b| b.id == self.node_id) {
            v.push(self.info.clone());
            v.sort_by_key(|b| b.id);
        }
        v
    }

    /// The broker coordinating `group` (see [`Image::coordinator`]).
    pub fn coordinator(&self, group: &str) -> Option<BrokerInfo> {
        self.image().coordinator(group).cloned()
    }

    /// The broker coordinating `transactional_id` (see [`Image::txn_coordinator`]).
    pub fn txn_coordinator(&self, transactional_id: &str) -> Option<BrokerInfo> {
        self.image().txn_coordinator(transactional_id).cloned()
    }

    /// Whether this broker may serve reads and writes of a partition: Ok if it leads it;
    /// NOT_LEADER_OR_FOLLOWER if the partition exists and another broker (or none) leads;
    /// UNKNOWN_TOPIC_OR_PARTITION if it does not exist.
    pub fn check_leader(&self, topic: &str, partition: i32) -> Result<(), i16> {
        let image = self.image();
        match image.topic(topic).and_then(|t| t.partition(partition)) {
            None => Err(ec::UNKNOWN_TOPIC_OR_PARTITION),
            Some(p) if p.leader == self.node_id => Ok(()),
            Some(_) => Err(ec::NOT_LEADER_OR_FOLLOWER),
        }
    }

    /// The active controller's node id, if one is known.
    pub fn leader_id(&self) -> Option<i32> {
        self.raft
            .metrics()
            .borrow()
            .current_leader
            .map(|id| id as i32)
    }

    /// The controller id given to clients in Metadata and DescribeCluster (broker
    /// endpoints): the active controller when it is a live broker, else the live broker with
    /// the lowest id, as KRaft brokers name a broker that forwards admin requests to the
    /// quorum (clients send CreateTopics and the like to it, and a controller-only node is
    /// not among the brokers they know). -1 when there is none.
    pub fn client_controller_id(&self) -> i32 {
        let leader = self.leader_id();
        let image = self.image();
        match leader {
            Some(id) if image.is_live(id) => id,
            _ => image.live_brokers().map(|b| b.id).min().unwrap_or(-1),
        }
    }

    fn peer(&self, id: NodeId) -> Option<Arc<Peer>> {
        let addr = {
            let metrics = self.raft.metrics();
            let m = metrics.borrow();
            m.membership_config
                .membership()
                .get_node(&id)
                .map(|n| n.addr.clone())
        }
        .or_else(|| {
            self.image()
                .brokers
                .get(&(id as i32))
                .map(|b| b.controller_addr.clone())
        })?;
        Some(self.peer_at(id, addr))
    }

    /// The connection to node `id` at `addr`, made once and kept.
    fn peer_at(&self, id: NodeId, addr: String) -> Arc<Peer> {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers
            .entry(id)
            .or_insert_with(|| Arc::new(Peer::new(addr, self.dialer.clone())))
            .clone()
    }

    /// Sends a request to the active controller (this node, if it leads), retrying through
    /// elections until [`SUBMIT_TIMEOUT`]; then waits until this node has applied and
    /// reconciled the entry that carried the change.
    pub async fn submit(&self, req: ControllerRequest) -> Result<Outcome, TopicError> {
        let deadline = tokio::time::Instant::now() + SUBMIT_TIMEOUT;
        let reply = self.call_controller(&req, deadline).await?;
        self.wait_reconciled(reply.index, deadline).await?;
        Ok(reply.outcome)
    }

    /// Sends a request to the active controller, retrying through elections until
    /// `deadline`: its reply, without waiting for this node to carry the change out.
    pub async fn call_controller(
        &self,
        req: &ControllerRequest,
        deadline: tokio::time::Instant,
    ) -> Result<ControllerReply, TopicError> {
        let mut metrics = self.raft.metrics();
        loop {
            let leader = metrics.borrow_and_update().current_leader;
            let attempt = match leader {
                Some(l) if l == node_of(self.node_id) => {
                    Some(self.handle_controller(req.clone()).await)
                }
                Some(l) => match self.peer(l) {
                    Some(peer) => match peer.call(&Rpc::Controller(req.clone()), RPC_TIMEOUT).await
                    {
                        Ok(RpcReply::Controller(r)) => Some(r),
                        Ok(_) => None,
                        Err(e) => {
                            tracing::debug!(leader = l, error = %e, "controller unreachable");
                            None
                        }
                    },
                    None => None,
                },
                // No controller known (a broker-only node before the log reaches it): ask
                // the configured voters in turn; only the active controller accepts.
                None => self.ask_voters(req).await,
            };
            match attempt {
                Some(Ok(reply)) => return Ok(reply),
                Some(Err(e)) if e.code != NOT_CONTROLLER => return Err(e),
                _ => {}
            }
            // No controller, or it moved: wait for a change of leader (or a short pause).
            let pause = tokio::time::Instant::now() + Duration::from_millis(100);
            if pause >= deadline || self.shutdown.is_cancelled() {
                return Err(TopicError {
                    code: REQUEST_TIMED_OUT,
                    message: "No active controller answered in time.".into(),
                });
            }
            tokio::select! {
                _ = metrics.changed() => {}
                _ = tokio::time::sleep_until(pause) => {}
            }
        }
    }

    async fn ask_voters(
        &self,
        req: &ControllerRequest,
    ) -> Option<Result<ControllerReply, TopicError>> {
        for v in &self.config.cluster.voters {
            if v.id == self.node_id {
                continue;
            }
            let peer = self.peer_at(node_of(v.id), v.addr.clone());
            match peer.call(&Rpc::Controller(req.clone()), RPC_TIMEOUT).await {
                Ok(RpcReply::Controller(Err(e))) if e.code == NOT_CONTROLLER => {}
                Ok(RpcReply::Controller(r)) => return Some(r),
                _ => {}
            }
        }
        None
    }

    async fn wait_reconciled(
        &self,
        index: u64,
        deadline: tokio::time::Instant,
    ) -> Result<(), TopicError> {
        let mut rx = self.reconciled.subscribe();
        let waited = tokio::time::timeout_at(deadline, rx.wait_for(|&i| i >= index)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            _ => Err(TopicError {
                code: REQUEST_TIMED_OUT,
                message: "The change was committed but not yet applied on this broker.".into(),
            }),
        }
    }

    /// The active controller's side of a request: decide on the current image, propose the
    /// records as one entry, answer once it is committed and applied here.
    pub async fn handle_controller(
        &self,
        req: ControllerRequest,
    ) -> Result<ControllerReply, TopicError> {
        if self.leader_id() != Some(self.node_id) {
            return Err(TopicError {
                code: NOT_CONTROLLER,
                message: "This node is not the active controller.".into(),
            });
        }
        if let ControllerRequest::DescribeQuorum = req {
            return Ok(ControllerReply {
                index: 0,
                outcome: Outcome::Quorum(self.quorum()),
            });
        }
        if let Some(id) = match &req {
            ControllerRequest::Register(info) => Some(info.id),
            ControllerRequest::Heartbeat { broker, .. } => Some(*broker),
            _ => None,
        } {
            let mut c = self.controller.lock().unwrap_or_else(|p| p.into_inner());
            c.last_seen.insert(id, Instant::now());
        }
        let rf = self.config.cluster.default_replication_factor;
        let (index, outcome) = self
            .propose(|image| controller::decide(image, &req, rf))
            .await?;
        if let ControllerRequest::Register(info) = &req {
            self.ensure_member(info).await;
        }
        Ok(ControllerReply { index, outcome })
    }

    /// Under the turn lock (one decision at a time), proposes the records `decide` makes on
    /// the current image as one raft entry; the first entry of a new quorum also names the
    /// cluster (this controller's id). Returns the entry's index (the last applied one when
    /// nothing is written) and the decision's outcome, once the entry is applied here.
    async fn propose<T>(
        &self,
        decide: impl FnOnce(&Image) -> Result<(Vec<image::Record>, T), TopicError>,
    ) -> Result<(u64, T), TopicError> {
        let _turn = self.decisions.lock().await;
        let (records, outcome) = {
            let image = self.image();
            let (decided, outcome) = decide(&image)?;
            let naming = image
                .cluster_id
                .is_none()
                .then(|| image::Record::InitCluster {
                    cluster_id: self.local_cluster_id.clone(),
                });
            (
                naming.into_iter().chain(decided).collect::<Vec<_>>(),
                outcome,
            )
        };
        if records.is_empty() {
            return Ok((*self.applied.borrow(), outcome));
        }
        let written = self
            .raft
            .client_write(image::Command(records))
            .await
            .map_err(|e| TopicError {
                code: NOT_CONTROLLER,
                message: e.to_string(),
            })?;
        Ok((written.log_id.index, outcome))
    }

    /// A registering broker that is not in the raft membership (a `process.roles=broker`
    /// node) joins as a learner, so that the metadata log reaches it.
    async fn ensure_member(&self, info: &BrokerInfo) {
        let known = {
            let metrics = self.raft.metrics();
            let m = metrics.borrow();
            m.membership_config
                .membership()
                .get_node(&node_of(info.id))
                .is_some()
        };
        if !known && !info.controller_addr.is_empty() {
            let node = BasicNode::new(info.controller_addr.clone());
            if let Err(e) = self.raft.add_learner(node_of(info.id), node, false).await {
                tracing::warn!(broker = info.id, error = %e, "adding a learner");
            }
        }
    }

    /// A producer id from this broker's block, asking the controller for a new block when
    /// it is used up (ids are never handed out twice, even across restarts).
    pub async fn next_producer_id(&self) -> Result<i64, TopicError> {
        let mut block = self.producer_ids.lock().await;
        if block.0 >= block.1 {
            match self
                .submit(ControllerRequest::AllocateProducerIds {
                    broker: self.node_id,
                })
                .await?
            {
                Outcome::ProducerIds { start, len } => *block = (start, start + len),
                _ => {
                    return Err(TopicError {
                        code: ec::UNKNOWN_SERVER_ERROR,
                        message: "unexpected controller answer".into(),
                    })
                }
            }
        }
        let id = block.0;
        block.0 += 1;
        Ok(id)
    }

    /// What DescribeQuorum reports: the leader, its term, and every member's log end.
    pub fn quorum(&self) -> QuorumState {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        let membership = m.membership_config.membership();
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        let learners: Vec<NodeId> = membership.learner_ids().collect();
        let progress = |id: NodeId| -> i64 {
            // This node knows its own log end; only a leader knows the others'.
            if id == node_of(self.node_id) {
                return m.last_log_index.map_or(-1, |i| i as i64);
            }
            match &m.replication {
                Some(r) => r
                    .get(&id)
                    .and_then(|l| l.as_ref().map(|l| l.index as i64))
                    .unwrap_or(-1),
                None => -1,
            }
        };
        QuorumState {
            leader: m.current_leader.map_or(-1, |l| l as i32),
            term: m.current_term,
            high_watermark: m.last_applied.map_or(0, |l| l.index as i64),
            voters: voters.iter().map(|&v| (v as i32, progress(v))).collect(),
            learners: learners.iter().map(|&v| (v as i32, progress(v))).collect(),
        }
    }

    /// The quorum as the active controller sees it (every member's log end), asked of it if
    /// this node does not lead; this node's own view when no controller answers.
    pub async fn describe_quorum(&self) -> QuorumState {
        let local = self.quorum();
        if local.leader == self.node_id || local.leader < 0 {
            return local;
        }
        let asked = tokio::time::timeout(RPC_TIMEOUT, async {
            let peer = self.peer(node_of(local.leader))?;
            match peer
                .call(
                    &Rpc::Controller(ControllerRequest::DescribeQuorum),
                    RPC_TIMEOUT,
                )
                .await
            {
                Ok(RpcReply::Controller(Ok(ControllerReply {
                    outcome: Outcome::Quorum(q),
                    ..
                }))) => Some(q),
                _ => None,
            }
        })
        .await;
        asked.ok().flatten().unwrap_or(local)
    }

    /// Stops raft (after the broker's own shutdown).
    pub async fn stop(&self) {
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "stopping raft");
        }
    }
}

/// The quorum as this node sees it. Log end offsets are -1 where unknown (a follower does
/// not know the others' progress).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct QuorumState {
    pub leader: i32,
    pub term: u64,
    pub high_watermark: i64,
    pub voters: Vec<(i32, i64)>,
    pub learners: Vec<(i32, i64)>,
}
