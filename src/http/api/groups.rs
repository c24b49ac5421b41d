//! `/api/v1/groups...`: ListGroups, then DescribeGroups, OffsetFetch and ListOffsets as
//! `weir groups describe` sends them; DeleteGroups. Lag over time comes from the sampler
//! ([`crate::http::lag`]).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{page, query, writable, ApiResult, Paging, Shared};
use crate::cli::groups::{delete_group, list_groups, view};
use crate::cli::CliError;
use crate::http::lag::history_json;

pub async fn list(
    State(state): State<Shared>,
    q: Result<Query<Paging>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    let limit = q.limit(50);
    let mut guard = state.client().await?;
    let groups = kafka!(guard, list_groups(guard.get()).await)?;
    let matching: Vec<_> = groups.into_iter().filter(|(g, _)| q.matches(g)).collect();
    let total = matching.len();
    let items: Vec<_> = page(matching, q.offset, limit)
        .into_iter()
        .map(|(g, (state_name, protocol_type, _))| {
            let sample = state.lag.get(&g);
            json!({
                "group": g,
                "state": if state_name.is_empty() {
                    sample.as_ref().map(|s| s.state.clone())
                } else {
                    Some(state_name)
                },
                "protocol_type": protocol_type,
                "members": sample.as_ref().map(|s| s.members),
                "total_lag": sample.as_ref().and_then(|s| s.total_lag),
                "lag_history": history_json(sample.as_ref()),
            })
        })
        .collect();
    Ok(Json(json!({
        "total": total,
        "offset": q.offset,
        "limit": limit,
        "groups": items,
    }))
    .into_response())
}

pub async fn describe(State(state): State<Shared>, Path(group): Path<String>) -> ApiResult {
    let mut guard = state.client().await?;
    let v = kafka!(guard, view(guard.get(), &group).await)?;
    let mut doc = v.to_json();
    doc["total_lag"] = json!(v.total_lag());
    doc["lag_history"] = history_json(state.lag.get(&group).as_ref());
    Ok(Json(doc).into_response())
}

pub async fn delete(State(state): State<Shared>, Path(group): Path<String>) -> ApiResult {
    writable(&state)?;
    let mut guard = state.client().await?;
    let code = kafka!(guard, delete_group(guard.get(), &group).await)?;
    if code != 0 {
        return Err(CliError::kafka(code, format!("deleting group '{group}'"), None).into());
    }
    state.lag.remove(&group);
    Ok(Json(json!({ "group": group, "deleted": true })).into_response())
}
