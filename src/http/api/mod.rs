//! The console's JSON API, `/api/v1/...` (documented in docs/console-api.md).
//!
//! Every answer comes from the Kafka protocol: the API holds one admin [`Client`] (the same
//! code as the `weir topics|groups|...` commands) connected to this broker's own Kafka
//! listener, so it sees the whole cluster as a Kafka client does (leaders, coordinators,
//! other brokers) and never reads partition state behind the protocol's back. Requests
//! share that client one at a time; a connection that fails is dropped and the next request
//! connects afresh.
//!
//! Invariants:
//! - Nothing here can change the cluster in read-only mode: every POST, PATCH and DELETE
//!   goes through [`writable`] first.
//! - Nothing loads without bound: lists are paged (`limit` at most [`MAX_LIMIT`]), a message
//!   page reads at most [`messages::MAX_LIMIT`] records through bounded fetches.

/// `kafka!(guard, expr)`: evaluates `expr` (which may borrow the guard's client), then
/// passes its result through [`ClientGuard::check`].
macro_rules! kafka {
    ($guard:ident, $e:expr $(,)?) => {{
        let r = $e;
        $guard.check(r)
    }};
}

mod groups;
mod messages;
mod topics;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};

use super::lag::LagHistory;
use crate::cli::client::{BrokerInfo, Client};
use crate::cli::output::error_name;
use crate::cli::CliError;

/// The most items one page of a list holds.
pub const MAX_LIMIT: usize = 1000;

/// What the API handlers share.
pub struct ApiState {
    /// This broker's own Kafka listener, as a client connects to it.
    pub bootstrap: String,
    pub broker_id: i32,
    pub read_only: bool,
    pub lag_sample_ms: u64,
    pub lag: Arc<LagHistory>,
    client: Mutex<Option<Client>>,
}

impl ApiState {
    pub fn new(
        bootstrap: String,
        broker_id: i32,
        read_only: bool,
        lag_sample_ms: u64,
        lag: Arc<LagHistory>,
    ) -> ApiState {
        ApiState {
            bootstrap,
            broker_id,
            read_only,
            lag_sample_ms,
            lag,
            client: Mutex::new(None),
        }
    }

    /// The shared client, connected (held until the guard drops).
    async fn client(&self) -> Result<ClientGuard<'_>, ApiError> {
        let mut guard = self.client.lock().await;
        if guard.is_none() {
            *guard = Some(Client::connect(&self.bootstrap).await?);
        }
        Ok(ClientGuard(guard))
    }
}

/// The locked client. [`ClientGuard::check`] drops a client whose connection failed.
struct ClientGuard<'a>(MutexGuard<'a, Option<Client>>);

impl ClientGuard<'_> {
    fn get(&mut self) -> &mut Client {
        self.0.as_mut().expect("connected by ApiState::client")
    }

    /// Passes `r` on; an I/O failure leaves no half-used connection behind.
    fn check<T>(&mut self, r: Result<T, CliError>) -> Result<T, ApiError> {
        if let Err(CliError::Io(_)) = &r {
            *self.0 = None;
        }
        r.map_err(ApiError::from)
    }
}

pub type Shared = Arc<ApiState>;

/// The `/api/v1` routes.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/api/v1/console", get(console))
        .route("/api/v1/cluster", get(cluster))
        .route("/api/v1/topics", get(topics::list).post(topics::create))
        .route(
            "/api/v1/topics/{name}",
            get(topics::describe).delete(topics::delete),
        )
        .route(
            "/api/v1/topics/{name}/configs",
            get(topics::configs).patch(topics::alter_configs),
        )
        .route("/api/v1/topics/{name}/messages", get(messages::page))
        .route("/api/v1/groups", get(groups::list))
        .route(
            "/api/v1/groups/{group}",
            get(groups::describe).delete(groups::delete),
        )
        .route("/api/v1/brokers/{id}/configs", get(topics::broker_configs))
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
        .with_state(state)
}

/// An API failure: the HTTP status, a code (Kafka's error name where there is one) and a
/// message for people.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }
}

/// The HTTP status for a Kafka error code.
pub fn status_of(code: i16) -> StatusCode {
    match code {
        3 | 69 | 100 => StatusCode::NOT_FOUND,
        36 | 68 => StatusCode::CONFLICT,
        29..=31 | 53 => StatusCode::FORBIDDEN,
        17 | 37..=40 | 42 | 44 | 10 | 87 => StatusCode::BAD_REQUEST,
        _ => StatusCode::BAD_GATEWAY,
    }
}

impl From<CliError> for ApiError {
    fn from(e: CliError) -> ApiError {
        let message = e.to_string();
        match e {
            CliError::Kafka { code, .. } => ApiError {
                status: status_of(code),
                code: error_name(code),
                message,
            },
            CliError::Usage(_) => ApiError::bad_request(message),
            CliError::Failed(_) => ApiError::new(StatusCode::CONFLICT, "REFUSED", message),
            CliError::Io(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "BROKER_UNREACHABLE", message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.message, "code": self.code })),
        )
            .into_response()
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// 403 in read-only mode.
pub fn writable(state: &ApiState) -> Result<(), ApiError> {
    if state.read_only {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "READ_ONLY",
            "the console is read-only (http.console.read.only=true)",
        ))
    } else {
        Ok(())
    }
}

/// `?q=&offset=&limit=` of a list.
#[derive(Debug, Deserialize, Default)]
pub struct Paging {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub offset: usize,
    pub limit: Option<usize>,
}

impl Paging {
    /// The page's limit: `default` when not given, within 1..=MAX_LIMIT.
    pub fn limit(&self, default: usize) -> usize {
        self.limit.unwrap_or(default).clamp(1, MAX_LIMIT)
    }

    /// Whether `name` matches the search (a case-insensitive substring).
    pub fn matches(&self, name: &str) -> bool {
        self.q.is_empty() || name.to_lowercase().contains(&self.q.to_lowercase())
    }
}

/// The items of one page, out of `items`.
pub fn page<T>(items: Vec<T>, offset: usize, limit: usize) -> Vec<T> {
    items.into_iter().skip(offset).take(limit).collect()
}

async fn console(State(state): State<Shared>) -> Json<serde_json::Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "broker_id": state.broker_id,
        "read_only": state.read_only,
        "lag_sample_seconds": state.lag_sample_ms as f64 / 1000.0,
        "bootstrap": state.bootstrap,
    }))
}

async fn cluster(State(state): State<Shared>) -> ApiResult {
    let mut guard = state.client().await?;
    let mut meta = kafka!(guard, guard.get().metadata(None).await)?;
    meta.brokers.sort_by_key(|b| b.id);
    let partitions = || meta.topics.iter().flat_map(|t| &t.partitions);
    let groups = kafka!(guard, crate::cli::groups::list_groups(guard.get()).await)
        .ok()
        .map(|g| g.len());
    let brokers: Vec<_> = meta.brokers.iter().map(BrokerInfo::to_json).collect();
    Ok(Json(json!({
        "cluster_id": meta.cluster_id,
        "controller_id": meta.controller_id,
        "brokers": brokers,
        "topics": meta.topics.len(),
        "partitions": partitions().count(),
        "under_replicated_partitions": partitions().filter(|p| p.under_replicated()).count(),
        "offline_partitions": partitions().filter(|p| p.leaderless()).count(),
        "groups": groups,
    }))
    .into_response())
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such API route")
}

/// Reads `?...` leniently: a malformed query is a 400 with the reason.
pub fn query<T: Default>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}
