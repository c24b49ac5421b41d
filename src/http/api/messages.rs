//! `GET /api/v1/topics/{name}/messages`: one page of one partition's records for the
//! message browser. Metadata, ListOffsets (log start, high watermark, and by timestamp),
//! then Fetch from the leader (read uncommitted, no wait) from the page's first offset,
//! decoded with kafka-protocol's record decoder (every codec).
//!
//! Bounds: a page holds at most [`MAX_LIMIT`] records, is read in at most [`MAX_ROUNDS`]
//! fetches of at most 1 MiB each, and sends at most [`SHOWN_BYTES`] of any key or value.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Json;
use bytes::Bytes;
use kafka_protocol::records::{Record, TimestampType};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{query, ApiResult, Shared};
use crate::cli::client::{read_records, Client, MetadataInfo};
use crate::cli::consume::fetch_request;
use crate::cli::output::hex;
use crate::cli::CliError;

/// The most records one page holds.
pub const MAX_LIMIT: usize = 500;
/// Fetches per page at most.
pub const MAX_ROUNDS: usize = 16;
/// The most bytes of one key, value or header value sent.
pub const SHOWN_BYTES: usize = 64 * 1024;

/// `?partition=&offset=|timestamp=&limit=`.
#[derive(Debug, Deserialize, Default)]
pub struct MessagesQuery {
    partition: Option<i32>,
    offset: Option<i64>,
    timestamp: Option<i64>,
    limit: Option<usize>,
}

pub async fn page(
    State(state): State<Shared>,
    Path(name): Path<String>,
    q: Result<Query<MessagesQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    let limit = q.limit.unwrap_or(20).clamp(1, MAX_LIMIT);
    let partition = q.partition.unwrap_or(0);
    let mut guard = state.client().await?;
    let r = read_page(guard.get(), &name, partition, q.offset, q.timestamp, limit).await;
    let page = kafka!(guard, r)?;
    Ok(Json(page).into_response())
}

fn unknown(topic: &str, partition: i32) -> CliError {
    CliError::kafka(3, format!("topic '{topic}' partition {partition}"), None)
}

/// One offset per ListOffsets, or the partition's error.
async fn offset_at(
    client: &mut Client,
    meta: &MetadataInfo,
    topic: &str,
    partition: i32,
    timestamp: i64,
) -> Result<i64, CliError> {
    let tp = (topic.to_string(), partition);
    let answer = client
        .list_offsets(meta, std::slice::from_ref(&tp), timestamp)
        .await?;
    match answer.get(&tp) {
        Some(Ok(o)) => Ok(*o),
        Some(Err(code)) => Err(CliError::kafka(
            *code,
            format!("ListOffsets for {topic}-{partition}"),
            None,
        )),
        None => Err(unknown(topic, partition)),
    }
}

async fn read_page(
    client: &mut Client,
    topic: &str,
    partition: i32,
    offset: Option<i64>,
    timestamp: Option<i64>,
    limit: usize,
) -> Result<Value, CliError> {
    let names = [topic.to_string()];
    let meta = client.metadata(Some(&names)).await?;
    let t = meta
        .topic(topic)
        .ok_or_else(|| unknown(topic, partition))?
        .clone();
    if t.error != 0 {
        return Err(CliError::kafka(t.error, format!("topic '{topic}'"), None));
    }
    let p = t
        .partitions
        .iter()
        .find(|p| p.partition == partition)
        .ok_or_else(|| unknown(topic, partition))?;
    let leader = p.leader;
    let start = offset_at(client, &meta, topic, partition, -2).await?;
    let end = offset_at(client, &meta, topic, partition, -1).await?;
    let from = match (offset, timestamp) {
        (Some(o), _) => o.clamp(start, end),
        (None, Some(ts)) => match offset_at(client, &meta, topic, partition, ts.max(0)).await? {
            o if o < 0 => end,
            o => o.clamp(start, end),
        },
        (None, None) => (end - limit as i64).max(start),
    };
    let mut messages = Vec::new();
    let mut position = from;
    for _ in 0..MAX_ROUNDS {
        if messages.len() >= limit || position >= end {
            break;
        }
        let conn = client.broker(leader).await?;
        let (resp, _) = conn
            .send(|v| fetch_request(topic, t.id, &[(partition, position)], 0, v))
            .await?;
        crate::cli::check(resp.error_code, format!("Fetch from broker {leader}"), None)?;
        let data = resp
            .responses
            .into_iter()
            .flat_map(|t| t.partitions)
            .find(|x| x.partition_index == partition)
            .ok_or_else(|| CliError::Io("Fetch: the partition is missing".to_string()))?;
        crate::cli::check(
            data.error_code,
            format!("fetching {topic}-{partition} at {position}"),
            None,
        )?;
        let before = position;
        position = take_records(
            data.records.unwrap_or_default(),
            position,
            limit,
            &mut messages,
        );
        if position == before {
            // Nothing whole came back (e.g. the high watermark moved back): stop here.
            break;
        }
    }
    Ok(json!({
        "topic": topic,
        "partition": partition,
        "log_start_offset": start,
        "log_end_offset": end,
        "offset": from,
        "next_offset": position.min(end.max(from)),
        "prev_offset": (from > start).then(|| (from - limit as i64).max(start)),
        "messages": messages,
    }))
}

/// Appends the data records at or after `position` from fetched `bytes` to `out`, up to
/// `limit` in all; the offset to read next ([`read_records`]).
pub fn take_records(bytes: Bytes, position: i64, limit: usize, out: &mut Vec<Value>) -> i64 {
    read_records(bytes, position, |r| {
        if out.len() >= limit {
            return false;
        }
        out.push(record_json(r));
        true
    })
}

fn record_json(r: &Record) -> Value {
    let headers: Vec<_> = r
        .headers
        .iter()
        .map(|(k, v)| json!({ "key": k.to_string(), "value": bytes_json(v.as_ref()) }))
        .collect();
    json!({
        "offset": r.offset,
        "timestamp": r.timestamp,
        "timestamp_type": match r.timestamp_type {
            TimestampType::Creation => "create",
            TimestampType::LogAppend => "log_append",
        },
        "key": bytes_json(r.key.as_ref()),
        "value": bytes_json(r.value.as_ref()),
        "headers": headers,
    })
}

/// A key, value or header value: `null`, or its size, its first [`SHOWN_BYTES`] as text
/// (when they are UTF-8) and as hex, and whether the text is a JSON object or array.
pub fn bytes_json(b: Option<&Bytes>) -> Value {
    let Some(b) = b else {
        return Value::Null;
    };
    let truncated = b.len() > SHOWN_BYTES;
    let shown = &b[..b.len().min(SHOWN_BYTES)];
    let text = match std::str::from_utf8(shown) {
        Ok(s) => Some(s),
        // Cut inside a character at the limit: the text up to it.
        Err(e) if truncated && e.error_len().is_none() => {
            std::str::from_utf8(&shown[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    let is_json = !truncated
        && text.is_some_and(|t| {
            let t = t.trim_start();
            (t.starts_with('{') || t.starts_with('['))
                && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
        });
    json!({
        "size": b.len(),
        "text": text,
        "hex": hex(shown),
        "json": is_json,
        "truncated": truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_as_text_hex_and_json() {
        assert_eq!(bytes_json(None), Value::Null);
        let v = bytes_json(Some(&Bytes::from_static(b"{\"a\": 1}")));
        assert_eq!(v["size"], 8);
        assert_eq!(v["json"], true);
        assert_eq!(v["text"], "{\"a\": 1}");
        assert_eq!(v["hex"], "7b2261223a20317d");
        let v = bytes_json(Some(&Bytes::from_static(b"\xff\x00")));
        assert_eq!(v["text"], Value::Null);
        assert_eq!(v["json"], false);
        assert_eq!(v["hex"], "ff00");
        assert_eq!(bytes_json(Some(&Bytes::from_static(b"12")))["json"], false);
        assert_eq!(
            bytes_json(Some(&Bytes::from_static(b"{oops")))["json"],
            false
        );
    }

    /// One batch of `n` records from offset `base` (the encoder keeps records in one batch
    /// only while offset minus sequence stays the same).
    fn batch(base: i64, n: i32) -> Bytes {
        use kafka_protocol::records::{Compression, RecordBatchEncoder, RecordEncodeOptions};
        let records: Vec<Record> = (0..n)
            .map(|i| Record {
                transactional: false,
                control: false,
                partition_leader_epoch: 0,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: base + i as i64,
                sequence: i - 1,
                timestamp: 1_000 + i as i64,
                key: Some(Bytes::from(format!("k{}", base + i as i64))),
                value: Some(Bytes::from_static(b"v")),
                headers: Default::default(),
            })
            .collect();
        let mut out = bytes::BytesMut::new();
        RecordBatchEncoder::encode(
            &mut out,
            &records,
            &RecordEncodeOptions {
                version: 2,
                compression: Compression::Lz4,
            },
        )
        .unwrap();
        out.freeze()
    }

    #[test]
    fn pages_start_at_the_position_and_stop_at_the_limit() {
        let mut all = bytes::BytesMut::new();
        all.extend_from_slice(&batch(10, 5));
        all.extend_from_slice(&batch(15, 5));
        let all = all.freeze();
        let mut out = Vec::new();
        assert_eq!(take_records(all.clone(), 12, 5, &mut out), 17);
        let offsets: Vec<i64> = out.iter().map(|m| m["offset"].as_i64().unwrap()).collect();
        assert_eq!(offsets, vec![12, 13, 14, 15, 16]);
        assert_eq!(out[0]["key"]["text"], "k12");
        assert_eq!(out[0]["timestamp"], 1_002);
        let mut out = Vec::new();
        assert_eq!(take_records(all.clone(), 0, 100, &mut out), 20);
        assert_eq!(out.len(), 10);
        // The second batch cut short: left for the next fetch.
        let mut out = Vec::new();
        assert_eq!(
            take_records(all.slice(..all.len() - 3), 10, 100, &mut out),
            15
        );
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn large_values_are_cut_at_a_character_boundary() {
        let mut big = "é".repeat(SHOWN_BYTES); // two bytes each
        big.push('x');
        let v = bytes_json(Some(&Bytes::from(big.clone())));
        assert_eq!(v["size"], big.len());
        assert_eq!(v["truncated"], true);
        assert_eq!(v["json"], false);
        assert_eq!(v["text"].as_str().unwrap().len(), SHOWN_BYTES);
        assert_eq!(v["hex"].as_str().unwrap().len(), 2 * SHOWN_BYTES);
    }
}
