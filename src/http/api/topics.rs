//! `/api/v1/topics...` and `/api/v1/brokers/{id}/configs`: Metadata, ListOffsets,
//! CreateTopics, DeleteTopics, DescribeConfigs and IncrementalAlterConfigs.

use std::collections::BTreeMap;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{page, query, status_of, writable, ApiError, ApiResult, Paging, Shared};
use crate::cli::configs::{
    alter_configs as alter, describe_entries, entries_json, RESOURCE_BROKER, RESOURCE_TOPIC,
};
use crate::cli::topics::{create_topic, delete_request, partition_json};
use crate::cli::CliError;

/// The paging, and `?internal=false` (a query string cannot be flattened into [`Paging`]:
/// serde would then see every number as a string).
#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
    internal: Option<bool>,
}

pub async fn list(
    State(state): State<Shared>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    let internal = q.internal.unwrap_or(true);
    let paging = Paging {
        q: q.q,
        offset: q.offset,
        limit: q.limit,
    };
    let limit = paging.limit(50);
    let mut guard = state.client().await?;
    let mut meta = kafka!(guard, guard.get().metadata(None).await)?;
    meta.topics
        .retain(|t| paging.matches(&t.name) && (internal || !t.internal));
    meta.topics.sort_by(|a, b| a.name.cmp(&b.name));
    let total = meta.topics.len();
    let topics: Vec<_> = page(meta.topics, paging.offset, limit)
        .into_iter()
        .map(|t| {
            json!({
                "name": t.name,
                "topic_id": t.id.to_string(),
                "internal": t.internal,
                "partitions": t.partitions.len(),
                "replication_factor": t.partitions.first().map_or(0, |p| p.replicas.len()),
                "under_replicated_partitions":
                    t.partitions.iter().filter(|p| p.under_replicated()).count(),
                "offline_partitions": t.partitions.iter().filter(|p| p.leaderless()).count(),
            })
        })
        .collect();
    Ok(Json(json!({
        "total": total,
        "offset": paging.offset,
        "limit": limit,
        "topics": topics,
    }))
    .into_response())
}

/// The body of `POST /api/v1/topics`.
#[derive(Debug, Deserialize)]
pub struct NewTopic {
    name: String,
    partitions: Option<i32>,
    replication_factor: Option<i16>,
    #[serde(default)]
    configs: BTreeMap<String, String>,
}

/// A JSON body, or a 400 (415 without the JSON content type) in the API's error shape.
pub fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|e| {
        let status = e.status();
        ApiError::new(
            if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                status
            } else {
                StatusCode::BAD_REQUEST
            },
            "BAD_REQUEST",
            e.body_text(),
        )
    })
}

pub async fn create(
    State(state): State<Shared>,
    b: Result<Json<NewTopic>, JsonRejection>,
) -> ApiResult {
    writable(&state)?;
    let t = body(b)?;
    if t.name.trim().is_empty() {
        return Err(ApiError::bad_request("a topic needs a name"));
    }
    let configs: Vec<(String, String)> = t.configs.into_iter().collect();
    let mut guard = state.client().await?;
    let r = kafka!(
        guard,
        create_topic(
            guard.get(),
            &t.name,
            t.partitions.unwrap_or(-1),
            t.replication_factor.unwrap_or(-1),
            &configs,
        )
        .await,
    )?;
    if r.error_code != 0 {
        return Err(CliError::kafka(
            r.error_code,
            format!("creating topic '{}'", t.name),
            r.error_message.as_ref().map(|m| m.to_string()),
        )
        .into());
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "name": t.name,
            "topic_id": (!r.topic_id.is_nil()).then(|| r.topic_id.to_string()),
            "partitions": (r.num_partitions > 0).then_some(r.num_partitions),
            "replication_factor": (r.replication_factor > 0).then_some(r.replication_factor),
        })),
    )
        .into_response())
}

pub async fn describe(
    State(state): State<Shared>,
    Path(name): Path<String>,
    q: Result<Query<Paging>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    let limit = q.limit(100);
    let mut guard = state.client().await?;
    let names = [name.clone()];
    let meta = kafka!(guard, guard.get().metadata(Some(&names)).await)?;
    let t = meta
        .topic(&name)
        .ok_or_else(|| CliError::kafka(3, format!("topic '{name}'"), None))?;
    if t.error != 0 {
        return Err(CliError::kafka(t.error, format!("topic '{name}'"), None).into());
    }
    let total = t.partitions.len();
    let parts = page(t.partitions.clone(), q.offset, limit);
    let list: Vec<(String, i32)> = parts.iter().map(|p| (name.clone(), p.partition)).collect();
    let starts = kafka!(guard, guard.get().list_offsets(&meta, &list, -2).await)?;
    let ends = kafka!(guard, guard.get().list_offsets(&meta, &list, -1).await)?;
    let get = |m: &BTreeMap<(String, i32), Result<i64, i16>>, p: i32| {
        m.get(&(name.clone(), p)).and_then(|r| r.ok())
    };
    let partitions: Vec<_> = parts
        .iter()
        .map(|p| partition_json(p, get(&starts, p.partition), get(&ends, p.partition)))
        .collect();
    Ok(Json(json!({
        "name": t.name,
        "topic_id": t.id.to_string(),
        "internal": t.internal,
        "replication_factor": t.partitions.first().map_or(0, |p| p.replicas.len()),
        "total": total,
        "offset": q.offset,
        "limit": limit,
        "partitions": partitions,
    }))
    .into_response())
}

pub async fn delete(State(state): State<Shared>, Path(name): Path<String>) -> ApiResult {
    writable(&state)?;
    let mut guard = state.client().await?;
    let names = [name.clone()];
    let (resp, _) = kafka!(
        guard,
        guard.get().any().send(|v| delete_request(&names, v)).await,
    )?;
    let code = resp.responses.first().map_or(0, |r| r.error_code);
    if code != 0 {
        let message = resp
            .responses
            .first()
            .and_then(|r| r.error_message.as_ref().map(|m| m.to_string()));
        return Err(CliError::kafka(code, format!("deleting topic '{name}'"), message).into());
    }
    Ok(Json(json!({ "name": name, "deleted": true })).into_response())
}

pub async fn configs(State(state): State<Shared>, Path(name): Path<String>) -> ApiResult {
    let mut guard = state.client().await?;
    let entries = kafka!(
        guard,
        describe_entries(guard.get().any(), RESOURCE_TOPIC, &name).await
    )?;
    Ok(Json(entries_json(RESOURCE_TOPIC, &name, &entries)).into_response())
}

/// The body of `PATCH /api/v1/topics/{name}/configs`.
#[derive(Debug, Deserialize)]
pub struct ConfigChange {
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    delete: Vec<String>,
}

pub async fn alter_configs(
    State(state): State<Shared>,
    Path(name): Path<String>,
    b: Result<Json<ConfigChange>, JsonRejection>,
) -> ApiResult {
    writable(&state)?;
    let change = body(b)?;
    let set: Vec<(String, String)> = change.set.into_iter().collect();
    let mut guard = state.client().await?;
    kafka!(
        guard,
        alter(
            guard.get().any(),
            RESOURCE_TOPIC,
            &name,
            &set,
            &change.delete
        )
        .await
    )?;
    let entries = kafka!(
        guard,
        describe_entries(guard.get().any(), RESOURCE_TOPIC, &name).await
    )?;
    Ok(Json(entries_json(RESOURCE_TOPIC, &name, &entries)).into_response())
}

pub async fn broker_configs(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let id: i32 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("'{id}' is not a broker id")))?;
    let mut guard = state.client().await?;
    let meta = kafka!(guard, guard.get().metadata(Some(&[])).await)?;
    if !meta.brokers.iter().any(|b| b.id == id) {
        return Err(ApiError::new(
            status_of(3),
            "NOT_FOUND",
            format!("broker {id} is not in the cluster"),
        ));
    }
    let r = match guard.get().broker(id).await {
        Ok(conn) => describe_entries(conn, RESOURCE_BROKER, &id.to_string()).await,
        Err(e) => Err(e),
    };
    let entries = kafka!(guard, r)?;
    Ok(Json(entries_json(RESOURCE_BROKER, &id.to_string(), &entries)).into_response())
}
