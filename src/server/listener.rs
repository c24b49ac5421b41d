//! The accept loops, one per client listener. Each stops accepting when the broker shuts
//! down; each connection runs in its own task on the shared tracker so shutdown can wait for
//! in-flight requests.
//!
//! A TLS listener (SSL, SASL_SSL) hands each accepted socket to its connection task with
//! the listener's rustls configuration; the handshake happens there, bounded in time, so a
//! client that never finishes one holds no more than its own task.
//!
//! Bounds: `max.connections` and `max.connections.per.ip` (a connection beyond either is
//! closed as soon as it is accepted), and one [`FrameLimits`] shared by every connection
//! (idle and partial-frame timeouts, `queued.max.request.bytes`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::broker::Broker;
use crate::config::Listener;
use crate::protocol::frame::FrameLimits;

/// Open connections, in total and per client address.
#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// A connection's place in the counts, given back when dropped.
pub struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut c) = self.counts.lock() {
            c.total -= 1;
            if let Some(n) = c.per_ip.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    c.per_ip.remove(&self.ip);
                }
            }
        }
    }
}

/// Takes a slot for a connection from `ip`, unless a bound is reached.
fn admit(counts: &Arc<Mutex<Counts>>, ip: IpAddr, total: usize, per_ip: usize) -> Option<Slot> {
    let mut c = counts.lock().ok()?;
    let mine = c.per_ip.get(&ip).copied().unwrap_or(0);
    if c.total >= total || mine >= per_ip {
        return None;
    }
    c.total += 1;
    c.per_ip.insert(ip, mine + 1);
    Some(Slot {
        counts: counts.clone(),
        ip,
    })
}

/// Serves every client listener: one accept loop each, sharing the connection bounds and
/// the frame limits.
pub fn serve(
    broker: Arc<Broker>,
    listeners: Vec<(Arc<Listener>, Option<Arc<ServerConfig>>, TcpListener)>,
    tasks: TaskTracker,
) {
    let cfg = &broker.config;
    let limits = Arc::new(FrameLimits {
        max: cfg.socket_request_max_bytes,
        idle: Duration::from_millis(cfg.connections_max_idle_ms),
        partial: Duration::from_millis(cfg.request_read_timeout_ms),
        memory: Arc::new(Semaphore::new(cfg.queued_max_request_bytes)),
        memory_total: cfg.queued_max_request_bytes,
    });
    let counts = Arc::new(Mutex::new(Counts::default()));
    for (listener, tls, socket) in listeners {
        tasks.spawn(accept_loop(
            broker.clone(),
            listener,
            tls,
            socket,
            limits.clone(),
            counts.clone(),
            tasks.clone(),
        ));
    }
}

async fn accept_loop(
    broker: Arc<Broker>,
    listener: Arc<Listener>,
    tls: Option<Arc<ServerConfig>>,
    socket: TcpListener,
    limits: Arc<FrameLimits>,
    counts: Arc<Mutex<Counts>>,
    tasks: TaskTracker,
) {
    let cfg = &broker.config;
    loop {
        let accepted = tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            a = socket.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let Some(slot) = admit(
                    &counts,
                    peer.ip(),
                    cfg.max_connections,
                    cfg.max_connections_per_ip,
                ) else {
                    tracing::debug!(%peer, "connection limit reached; closing");
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tasks.spawn(super::connection::run(
                    broker.clone(),
                    stream,
                    peer,
                    listener.clone(),
                    tls.clone(),
                    limits.clone(),
                    cfg.sendfile.for_peer(peer.ip()),
                    slot,
                ));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let s1 = admit(&counts, a, 3, 2).unwrap();
        let _s2 = admit(&counts, a, 3, 2).unwrap();
        assert!(admit(&counts, a, 3, 2).is_none(), "per-ip bound");
        let _s3 = admit(&counts, b, 3, 2).unwrap();
        assert!(admit(&counts, b, 3, 2).is_none(), "total bound");
        drop(s1);
        assert!(
            admit(&counts, a, 3, 2).is_some(),
            "a closed connection frees its slot"
        );
    }
}
