//! The accept loop. Stops accepting when the broker shuts down; each connection runs in its
//! own task on the shared tracker so shutdown can wait for in-flight requests.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::broker::Broker;

pub async fn serve(broker: Arc<Broker>, listener: TcpListener, tasks: TaskTracker) {
    loop {
        let accepted = tokio::select! {
            _ = broker.shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tasks.spawn(super::connection::run(broker.clone(), stream, peer));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
