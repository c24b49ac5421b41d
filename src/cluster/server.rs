//! The CONTROLLER listener: accepts peers, answers raft RPCs and controller requests, one
//! frame at a time per connection. A broken frame closes that connection only.

use std::sync::Arc;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use super::network::{read_frame, write_frame, Rpc, RpcReply, WireError};
use super::Cluster;

/// The largest snapshot a peer may stream (offset + chunk); beyond it the install is
/// refused, so a peer cannot make this node zero-fill memory at an arbitrary offset.
const MAX_SNAPSHOT_BYTES: u64 = 1 << 30;

/// How long a peer may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the listener; over TLS when `tls` is given (an SSL controller listener: mutual TLS,
/// so only nodes with a certificate the truststore vouches for take part).
pub async fn serve(cluster: Arc<Cluster>, listener: TcpListener, tls: Option<Arc<ServerConfig>>) {
    loop {
        let accepted = tokio::select! {
            _ = cluster.shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let cluster = cluster.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let served = match tls {
                        None => connection(&cluster, stream).await,
                        Some(config) => {
                            let accept = tokio_rustls::TlsAcceptor::from(config).accept(stream);
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
                                Ok(Ok(s)) => connection(&cluster, s).await,
                                Ok(Err(e)) => {
                                    tracing::info!(%peer, error = %e, "controller listener: TLS handshake failed");
                                    return;
                                }
                                Err(_) => return,
                            }
                        }
                    };
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "controller connection closed");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "controller listener accept");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    cluster: &Cluster,
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
) -> Result<(), WireError> {
    loop {
        let rpc: Rpc = tokio::select! {
            _ = cluster.shutdown.cancelled() => return Ok(()),
            r = read_frame(&mut stream) => match r {
                Ok(rpc) => rpc,
                Err(WireError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        let reply = match rpc {
            Rpc::AppendEntries(req) => {
                RpcReply::AppendEntries(cluster.raft.append_entries(req).await)
            }
            Rpc::Vote(req) => RpcReply::Vote(cluster.raft.vote(req).await),
            Rpc::InstallSnapshot(req) => {
                let end = req.offset.saturating_add(req.data.len() as u64);
                if end > MAX_SNAPSHOT_BYTES {
                    return Err(WireError::FrameSize(end as usize));
                }
                RpcReply::InstallSnapshot(cluster.raft.install_snapshot(req).await)
            }
            Rpc::Controller(req) => RpcReply::Controller(cluster.handle_controller(req).await),
        };
        write_frame(&mut stream, &reply).await?;
    }
}
