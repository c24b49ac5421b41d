//! The HTTP listener (`http.listeners`, default 127.0.0.1:9644; empty turns it off): one
//! axum server beside the Kafka listener, on the same runtime.
//!
//! - `GET /metrics`: Prometheus text format 0.0.4 ([`crate::metrics`]), built on the
//!   blocking pool (it reads partition and group state under their locks), so a scrape never
//!   holds a worker that Kafka requests need.
//! - `/` and `/assets/*`: the web console ([`assets`]), a page that shows what the JSON API
//!   answers.
//! - `/api/v1/...`: the console's JSON API ([`api`], docs/console-api.md), a Kafka client of
//!   this broker's own listener; and the lag sampler behind its charts ([`lag`]).

pub mod api;
pub mod assets;
pub mod lag;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::broker::Broker;

/// Where a client of this broker connects: its Kafka listener, with an unspecified address
/// (0.0.0.0, ::) replaced by loopback.
pub fn own_bootstrap(listener: SocketAddr) -> String {
    let mut addr = listener;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    addr.to_string()
}

/// The console API's state for `broker`. The console is a Kafka client of the broker's first
/// PLAINTEXT listener; a broker without one serves the page, and its API answers that it
/// cannot reach the broker (the console does not log in or speak TLS).
pub fn api_state(broker: &Broker) -> api::Shared {
    let plaintext = broker
        .config
        .listeners
        .iter()
        .find(|l| l.protocol == crate::config::SecurityProtocol::Plaintext);
    Arc::new(api::ApiState::new(
        plaintext.map(|l| own_bootstrap(l.addr)).unwrap_or_default(),
        broker.config.node_id,
        broker.config.http_console_read_only,
        broker.config.http_console_lag_sample_ms,
        Arc::new(lag::LagHistory::default()),
    ))
}

/// The routes, for the server and for tests.
pub fn router(broker: Arc<Broker>, api: api::Shared) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(broker)
        .merge(assets::router())
        .merge(api::router(api))
}

/// Serves `listener` until the broker shuts down; samples group lag meanwhile.
pub async fn serve(broker: Arc<Broker>, listener: TcpListener) {
    let shutdown = broker.shutdown.clone();
    let api = api_state(&broker);
    if !api.bootstrap.is_empty() {
        tokio::spawn(lag::sample_task(
            api.bootstrap.clone(),
            api.lag.clone(),
            Duration::from_millis(api.lag_sample_ms),
            shutdown.clone(),
        ));
    }
    let app = router(broker, api);
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
