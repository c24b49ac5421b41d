//! One client connection: read a frame, dispatch it, write the response, strictly in order.
//!
//! A broken frame (bad size, truncated, unparseable header or body, unknown API key or
//! unsupported version other than ApiVersions') closes this connection only.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;

use crate::broker::Broker;
use crate::handlers;
use crate::protocol::frame::{read_frame, FrameError};

pub async fn run(broker: Arc<Broker>, stream: TcpStream, peer: SocketAddr) {
    let (read_half, write_half) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read_half);
    let mut writer = BufWriter::with_capacity(64 * 1024, write_half);
    let max = broker.config.socket_request_max_bytes;
    let client_host = format!("/{}", peer.ip());
    loop {
        let frame = tokio::select! {
            _ = broker.shutdown.cancelled() => break,
            f = read_frame(&mut reader, max) => f,
        };
        let frame = match frame {
            Ok(f) => f,
            Err(FrameError::Closed) => break,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "closing connection");
                break;
            }
        };
        match handlers::handle_frame(&broker, frame, &client_host).await {
            Ok(Some(response)) => {
                if let Err(e) = writer.write_all(&response).await {
                    tracing::debug!(%peer, error = %e, "write failed");
                    break;
                }
                // Always flush: the next request may be a long poll.
                if let Err(e) = writer.flush().await {
                    tracing::debug!(%peer, error = %e, "flush failed");
                    break;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::info!(%peer, error = %e, "bad request; closing connection");
                break;
            }
        }
    }
    let _ = writer.flush().await;
    let _ = writer.shutdown().await;
}
