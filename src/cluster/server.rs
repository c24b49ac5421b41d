//! The CONTROLLER listener: accepts peers, answers raft RPCs and controller requests, one
//! frame at a time per connection. A broken frame closes that connection only.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use super::network::{read_frame, write_frame, Rpc, RpcReply, WireError};
use super::Cluster;

/// The largest snapshot a peer may stream (offset + chunk); beyond it the install is
/// refused, so a peer cannot make this node zero-fill memory at an arbitrary offset.
const MAX_SNAPSHOT_BYTES: u64 = 1 << 30;

pub async fn serve(cluster: Arc<Cluster>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            _ = cluster.shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let cluster = cluster.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(&cluster, stream).await {
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

async fn connection(cluster: &Cluster, mut stream: TcpStream) -> Result<(), WireError> {
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
