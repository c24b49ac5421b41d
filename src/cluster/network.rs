//! The controller listener's protocol: raft RPCs and controller requests between nodes.
//!
//! Frame: a 4-byte big-endian length (1..=[`MAX_FRAME`]) and that many bytes of JSON: an
//! [`Rpc`] from the caller, an [`RpcReply`] back, strictly one reply per request, in order,
//! on a connection. A frame of a bad length or a body that does not decode closes the
//! connection: a peer is never trusted further than its frames check out.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use rustls::ClientConfig;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::controller::{ControllerReply, ControllerRequest};
use super::{Node, NodeId, TypeConfig};
use crate::topics::TopicError;

/// The largest frame accepted either way (a snapshot chunk is at most 3 MiB).
pub const MAX_FRAME: usize = 32 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub enum Rpc {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    Controller(ControllerRequest),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum RpcReply {
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    InstallSnapshot(
        Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>,
    ),
    Controller(Result<ControllerReply, TopicError>),
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {0} bytes refused")]
    FrameSize(usize),
    #[error("undecodable frame: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("timed out")]
    Timeout,
    #[error("unexpected reply")]
    Unexpected,
}

pub async fn read_frame<T: for<'de> Deserialize<'de>>(
    stream: &mut (impl AsyncRead + Unpin),
) -> Result<T, WireError> {
    let len = stream.read_u32().await? as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(WireError::FrameSize(len));
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    Ok(serde_json::from_slice(&body)?)
}

pub async fn write_frame<T: Serialize>(
    stream: &mut (impl AsyncWrite + Unpin),
    msg: &T,
) -> Result<(), WireError> {
    let body = serde_json::to_vec(msg)?;
    if body.is_empty() || body.len() > MAX_FRAME {
        return Err(WireError::FrameSize(body.len()));
    }
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    stream.write_all(&frame).await?;
    Ok(())
}

/// Connects to `addr` (host:port) from `source`'s address when given (and of the same
/// family, not unspecified), with TCP_NODELAY set. Every connection one node opens to another
/// (raft, controller requests, replica fetches) leaves from the node's own listener address, so
/// that nodes sharing a host stay distinguishable to the peer, to firewalls, and to a test
/// that cuts one off from the others.
pub async fn connect_from(addr: &str, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let target: SocketAddr = match tokio::net::lookup_host(addr).await?.next() {
        Some(a) => a,
        None => return Err(std::io::Error::other("no address")),
    };
    let socket = if target.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source.filter(|ip| !ip.is_unspecified() && ip.is_ipv4() == target.is_ipv4()) {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// How this node reaches the others' controller listener: from `source` (see
/// [`connect_from`]), and over TLS when the listener is SSL (the peer's certificate checked
/// against the listener's truststore, this node's own presented).
pub struct Dialer {
    pub source: Option<IpAddr>,
    pub tls: Option<Arc<ClientConfig>>,
}

impl Dialer {
    async fn dial(&self, addr: &str) -> std::io::Result<PeerStream> {
        let tcp = connect_from(addr, self.source).await?;
        let Some(config) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = crate::security::tls::server_name_of(addr)?;
        let tls = tokio_rustls::TlsConnector::from(config.clone())
            .connect(name, tcp)
            .await?;
        Ok(Box::new(tls))
    }
}

/// A connection to a peer's controller listener: TCP, or TLS over it.
type PeerStream = crate::server::peer::PeerStream;

/// A connection to one peer, opened on first use and again after any failure.
pub struct Peer {
    addr: String,
    dialer: Arc<Dialer>,
    conn: tokio::sync::Mutex<Option<PeerStream>>,
}

impl Peer {
    /// A peer at `addr`, reached by `dialer`.
    pub fn new(addr: String, dialer: Arc<Dialer>) -> Self {
        Peer {
            addr,
            dialer,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// One request and its reply within `ttl`; any failure drops the connection.
    pub async fn call(&self, rpc: &Rpc, ttl: Duration) -> Result<RpcReply, WireError> {
        let mut conn = self.conn.lock().await;
        let result = tokio::time::timeout(ttl, async {
            if conn.is_none() {
                *conn = Some(self.dialer.dial(&self.addr).await?);
            }
            let Some(stream) = conn.as_mut() else {
                return Err(WireError::Unexpected);
            };
            write_frame(stream, rpc).await?;
            read_frame::<RpcReply>(stream).await
        })
        .await
        .unwrap_or(Err(WireError::Timeout));
        if result.is_err() {
            *conn = None;
        }
        result
    }
}

/// openraft's network: one [`Peer`] per target, reached by `dialer`.
pub struct Network {
    pub dialer: Arc<Dialer>,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &Node) -> PeerClient {
        PeerClient {
            target,
            node: node.clone(),
            peer: Arc::new(Peer::new(node.addr.clone(), self.dialer.clone())),
        }
    }
}

pub struct PeerClient {
    target: NodeId,
    node: Node,
    peer: Arc<Peer>,
}

impl PeerClient {
    async fn send<E: std::error::Error>(
        &self,
        rpc: Rpc,
        option: &RPCOption,
    ) -> Result<RpcReply, RPCError<NodeId, Node, E>> {
        self.peer
            .call(&rpc, option.hard_ttl())
            .await
            .map_err(|e| match e {
                WireError::Io(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                    RPCError::Unreachable(Unreachable::new(&e))
                }
                e => RPCError::Network(NetworkError::new(&e)),
            })
    }

    fn remote<E: std::error::Error>(&self, e: E) -> RemoteError<NodeId, Node, E> {
        RemoteError::new_with_node(self.target, self.node.clone(), e)
    }

    fn unexpected<E: std::error::Error>() -> RPCError<NodeId, Node, E> {
        RPCError::Network(NetworkError::new(&WireError::Unexpected))
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        match self.send(Rpc::AppendEntries(rpc), &option).await? {
            RpcReply::AppendEntries(r) => r.map_err(|e| RPCError::RemoteError(self.remote(e))),
            _ => Err(Self::unexpected()),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, Node, RaftError<NodeId, InstallSnapshotError>>,
    > {
        match self.send(Rpc::InstallSnapshot(rpc), &option).await? {
            RpcReply::InstallSnapshot(r) => r.map_err(|e| RPCError::RemoteError(self.remote(e))),
            _ => Err(Self::unexpected()),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        match self.send(Rpc::Vote(rpc), &option).await? {
            RpcReply::Vote(r) => r.map_err(|e| RPCError::RemoteError(self.remote(e))),
            _ => Err(Self::unexpected()),
        }
    }
}
