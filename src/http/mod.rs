//! The HTTP listener (`http.listeners`, default 127.0.0.1:9644; empty turns it off): one
//! axum server beside the Kafka listener, on the same runtime. Each page is built on the
//! blocking pool (it reads partition and group state under their locks), so a scrape never
//! holds a worker that Kafka requests need.
//!
//! - `GET /metrics`: Prometheus text format 0.0.4 ([`crate::metrics`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::broker::Broker;

/// The routes, for the server and for tests.
pub fn router(broker: Arc<Broker>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(broker)
}

/// Serves `listener` until the broker shuts down.
pub async fn serve(broker: Arc<Broker>, listener: TcpListener) {
    let shutdown = broker.shutdown.clone();
    let app = router(broker);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
    {
        tracing::warn!(error = %e, "http listener stopped");
    }
}

async fn metrics(State(broker): State<Arc<Broker>>) -> Response {
    match tokio::task::spawn_blocking(move || crate::metrics::render(&broker)).await {
        Ok(page) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            page,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
