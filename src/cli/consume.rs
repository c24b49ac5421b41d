//! `weir consume TOPIC`: prints records. Sends Metadata and ListOffsets (for earliest or
//! latest), then Fetch (read uncommitted, no fetch session; topic ids from v13 on) to each
//! partition's leader in a loop. With `--group`, OffsetFetch first and OffsetCommit at
//! the end (and every 5 s) to the group's coordinator.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, ValueEnum};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::records::Record;
use serde_json::json;
use uuid::Uuid;

use super::client::{read_records, retriable, topic_name, Client, MetadataInfo};
use super::groups::{commit_request, committed};
use super::output::hex;
use super::{CliError, ClientArgs};

const COMMIT_INTERVAL: Duration = Duration::from_secs(5);

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Values as text (keys, headers, offsets as asked), one record a line.
    Text,
    /// One JSON object a line, with every field (non-UTF-8 bytes as `key_hex`/`value_hex`).
    Json,
    /// As text, but keys, values and header values hex-encoded.
    Hex,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    pub topic: String,
    /// Read only this partition.
    #[arg(long, conflicts_with = "group")]
    pub partition: Option<i32>,
    /// Where to start: earliest, latest, or an offset (needs --partition). With --group,
    /// where to start in partitions the group has no committed offset for. [default: latest]
    #[arg(long, value_name = "N|earliest|latest")]
    pub offset: Option<String>,
    /// The same as --offset earliest.
    #[arg(long, conflicts_with = "offset")]
    pub from_beginning: bool,
    /// Read as group G, without joining it: every partition is assigned to this consumer
    /// (no JoinGroup/SyncGroup, no rebalancing), reading starts at the group's committed
    /// offsets (OffsetFetch), and progress is committed under G with OffsetCommit outside any
    /// generation (generation -1, no member id), as a consumer using assign() does. The
    /// coordinator accepts that only while G has no active members.
    #[arg(long, value_name = "G")]
    pub group: Option<String>,
    /// Stop after N records.
    #[arg(long, value_name = "N")]
    pub max_messages: Option<u64>,
    /// Stop when no record has arrived for T ms (without it: run until Ctrl-C).
    #[arg(long, value_name = "T")]
    pub timeout_ms: Option<u64>,
    /// Output format (--json means --format json).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print each record's key before its value.
    #[arg(long)]
    pub print_key: bool,
    /// Print each record's headers before its value.
    #[arg(long)]
    pub print_headers: bool,
    /// Print each record's partition and offset first.
    #[arg(long)]
    pub print_offset: bool,
}

/// Where to start a partition without a committed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Earliest,
    Latest,
    At(i64),
}

fn parse_start(a: &ConsumeArgs) -> Result<Start, CliError> {
    if a.from_beginning {
        return Ok(Start::Earliest);
    }
    match a.offset.as_deref() {
        None | Some("latest") => Ok(Start::Latest),
        Some("earliest") => Ok(Start::Earliest),
        Some(n) => match n.parse::<i64>() {
            Ok(o) if o >= 0 && a.partition.is_some() => Ok(Start::At(o)),
            Ok(_) if a.partition.is_none() => Err(CliError::Usage(
                "--offset N needs --partition (or use earliest / latest)".to_string(),
            )),
            _ => Err(CliError::Usage(format!(
                "--offset {n}: expected a non-negative offset, earliest or latest"
            ))),
        },
    }
}

pub async fn run(args: &ClientArgs, a: ConsumeArgs) -> Result<(), CliError> {
    let start = parse_start(&a)?;
    let format = if args.json { Format::Json } else { a.format };
    let mut client = Client::connect(&args.bootstrap_server).await?;
    let meta = client
        .metadata(Some(std::slice::from_ref(&a.topic)))
        .await?;
    let info = meta
        .topic(&a.topic)
        .ok_or_else(|| CliError::kafka(3, format!("topic '{}'", a.topic), None))?;
    super::check(info.error, format!("topic '{}'", a.topic), None)?;
    let partitions: Vec<i32> = match a.partition {
        Some(p) if info.partitions.iter().any(|x| x.partition == p) => vec![p],
        Some(p) => {
            return Err(CliError::kafka(
                3,
                format!("topic '{}' partition {p}", a.topic),
                None,
            ))
        }
        None => info.partitions.iter().map(|p| p.partition).collect(),
    };
    let mut c = Consumer {
        topic: a.topic.clone(),
        topic_id: info.id,
        meta,
        positions: BTreeMap::new(),
        committed: BTreeMap::new(),
        format,
        print_key: a.print_key,
        print_headers: a.print_headers,
        print_offset: a.print_offset,
        count: 0,
        out: std::io::BufWriter::new(std::io::stdout()),
        closed: false,
    };
    if let Some(group) = &a.group {
        for ((t, p), o) in committed(&mut client, group).await? {
            if t == a.topic && partitions.contains(&p) {
                c.positions.insert(p, o);
                c.committed.insert(p, o);
            }
        }
    }
    let missing: Vec<i32> = partitions
        .iter()
        .copied()
        .filter(|p| !c.positions.contains_key(p))
        .collect();
    c.reset(&mut client, &missing, start).await?;

    let counter = std::io::stderr().is_terminal() && !std::io::stdout().is_terminal();
    let mut last_counter = Instant::now();
    let mut last_record = Instant::now();
    let mut last_commit = Instant::now();
    let timeout = a.timeout_ms.map(Duration::from_millis);
    let max = a.max_messages.unwrap_or(u64::MAX);
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut failure = None;
    while c.count < max && !c.closed {
        let wait = match timeout {
            Some(t) => t.saturating_sub(last_record.elapsed()),
            None => Duration::from_millis(500),
        };
        if wait.is_zero() {
            break;
        }
        let wait = wait.min(Duration::from_millis(500));
        let before = c.count;
        tokio::select! {
            round = c.fetch_round(&mut client, wait, max, start) => {
                if let Err(e) = round {
                    failure = Some(e);
                    break;
                }
            }
            _ = &mut interrupt => {
                // A request was cut off mid-way: start the commit on fresh connections.
                client = Client::connect(&args.bootstrap_server).await?;
                break;
            }
        }
        if c.count > before {
            last_record = Instant::now();
        }
        if counter && last_counter.elapsed() >= Duration::from_millis(200) {
            eprint!("\rconsumed {} records", c.count);
            last_counter = Instant::now();
        }
        if let Some(group) = &a.group {
            if last_commit.elapsed() >= COMMIT_INTERVAL {
                c.commit(&mut client, group).await?;
                last_commit = Instant::now();
            }
        }
    }
    let _ = c.out.flush();
    if counter {
        eprint!("\r\x1b[K");
    }
    if let Some(group) = &a.group {
        c.commit(&mut client, group).await?;
    }
    eprintln!("Processed a total of {} messages", c.count);
    failure.map_or(Ok(()), Err)
}

struct Consumer {
    topic: String,
    topic_id: Uuid,
    meta: MetadataInfo,
    /// partition -> next offset to read.
    positions: BTreeMap<i32, i64>,
    /// partition -> offset last committed (with --group).
    committed: BTreeMap<i32, i64>,
    format: Format,
    print_key: bool,
    print_headers: bool,
    print_offset: bool,
    count: u64,
    out: std::io::BufWriter<std::io::Stdout>,
    /// stdout was closed (`| head`): stop.
    closed: bool,
}

impl Consumer {
    /// Positions `partitions` at `start` (ListOffsets for earliest and latest).
    async fn reset(
        &mut self,
        client: &mut Client,
        partitions: &[i32],
        start: Start,
    ) -> Result<(), CliError> {
        if partitions.is_empty() {
            return Ok(());
        }
        let timestamp = match start {
            Start::At(o) => {
                for p in partitions {
                    self.positions.insert(*p, o);
                }
                return Ok(());
            }
            Start::Earliest => -2,
            Start::Latest => -1,
        };
        let list: Vec<(String, i32)> = partitions
            .iter()
            .map(|p| (self.topic.clone(), *p))
            .collect();
        let deadline = Instant::now() + super::client::RETRY_DEADLINE;
        loop {
            let offsets = client.list_offsets(&self.meta, &list, timestamp).await?;
            let mut retry = false;
            for ((_, p), r) in offsets {
                match r {
                    Ok(o) => {
                        self.positions.insert(p, o);
                    }
                    Err(code) if retriable(code) && Instant::now() < deadline => retry = true,
                    Err(code) => {
                        return Err(CliError::kafka(
                            code,
                            format!("ListOffsets for {}-{p}", self.topic),
                            None,
                        ))
                    }
                }
            }
            if !retry {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.meta = client
                .metadata(Some(std::slice::from_ref(&self.topic)))
                .await?;
        }
    }

    /// One Fetch to each leader; prints what comes back.
    async fn fetch_round(
        &mut self,
        client: &mut Client,
        wait: Duration,
        max: u64,
        start: Start,
    ) -> Result<(), CliError> {
        let mut by_leader: BTreeMap<i32, Vec<(i32, i64)>> = BTreeMap::new();
        let topic = self.meta.topic(&self.topic).cloned();
        for (&p, &offset) in &self.positions {
            let leader = topic
                .as_ref()
                .and_then(|t| t.partitions.iter().find(|x| x.partition == p))
                .map_or(-1, |x| x.leader);
            by_leader.entry(leader).or_default().push((p, offset));
        }
        let leaders = by_leader.len().max(1) as u32;
        let mut refresh = by_leader.contains_key(&-1);
        let mut out_of_range = Vec::new();
        for (leader, parts) in by_leader {
            if leader < 0 || self.count >= max || self.closed {
                continue;
            }
            let wait_ms = (wait / leaders).as_millis().clamp(1, 500) as i32;
            let (topic, id) = (self.topic.clone(), self.topic_id);
            let sent = match client.broker(leader).await {
                Ok(conn) => {
                    conn.send(|v| fetch_request(&topic, id, &parts, wait_ms, v))
                        .await
                }
                Err(e) => Err(e),
            };
            let resp = match sent {
                Ok((resp, _)) => resp,
                Err(_) => {
                    client.forget(leader);
                    refresh = true;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            super::check(resp.error_code, format!("Fetch from broker {leader}"), None)?;
            for t in resp.responses {
                for p in t.partitions {
                    match p.error_code {
                        0 => self.print_records(
                            p.partition_index,
                            p.records.unwrap_or_default(),
                            max,
                        ),
                        1 => out_of_range.push(p.partition_index),
                        code if retriable(code) => refresh = true,
                        code => {
                            return Err(CliError::kafka(
                                code,
                                format!("fetching {}-{}", self.topic, p.partition_index),
                                None,
                            ))
                        }
                    }
                    if self.count >= max || self.closed {
                        break;
                    }
                }
            }
        }
        if !out_of_range.is_empty() {
            match start {
                Start::At(o) => {
                    return Err(CliError::kafka(
                        1,
                        format!("fetching {} at offset {o}", self.topic),
                        None,
                    ))
                }
                s => self.reset(client, &out_of_range, s).await?,
            }
        }
        if refresh {
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.meta = client
                .metadata(Some(std::slice::from_ref(&self.topic)))
                .await?;
        }
        Ok(())
    }

    /// Prints the records of a partition's fetched batches from its position on, up to `max`
    /// records in all, and moves the position past them. A batch cut short at the end of
    /// the fetched bytes is left for the next fetch.
    fn print_records(&mut self, partition: i32, bytes: Bytes, max: u64) {
        let Some(position) = self.positions.get(&partition).copied() else {
            return;
        };
        let position = read_records(bytes, position, |r| {
            if self.count >= max || self.closed {
                return false;
            }
            self.print(partition, r);
            self.count += 1;
            true
        });
        self.positions.insert(partition, position);
        if self.out.flush().is_err() {
            self.closed = true;
        }
    }

    fn print(&mut self, partition: i32, r: &Record) {
        let line = match self.format {
            Format::Json => {
                let mut o = serde_json::Map::new();
                o.insert("topic".into(), self.topic.clone().into());
                o.insert("partition".into(), partition.into());
                o.insert("offset".into(), r.offset.into());
                o.insert("timestamp".into(), r.timestamp.into());
                bytes_json(&mut o, "key", r.key.as_ref());
                bytes_json(&mut o, "value", r.value.as_ref());
                let headers: serde_json::Map<String, serde_json::Value> = r
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        let v = v.as_ref().map(|v| String::from_utf8_lossy(v).into_owned());
                        (k.to_string(), json!(v))
                    })
                    .collect();
                o.insert("headers".into(), headers.into());
                serde_json::Value::Object(o).to_string()
            }
            Format::Text | Format::Hex => {
                let show = |b: Option<&Bytes>| match (b, self.format) {
                    (None, _) => "null".to_string(),
                    (Some(b), Format::Hex) => hex(b),
                    (Some(b), _) => String::from_utf8_lossy(b).into_owned(),
                };
                let mut line = String::new();
                if self.print_offset {
                    line.push_str(&format!("Partition:{partition}\tOffset:{}\t", r.offset));
                }
                if self.print_headers {
                    if r.headers.is_empty() {
                        line.push_str("NO_HEADERS");
                    } else {
                        let hs: Vec<String> = r
                            .headers
                            .iter()
                            .map(|(k, v)| format!("{k}:{}", show(v.as_ref())))
                            .collect();
                        line.push_str(&hs.join(","));
                    }
                    line.push('\t');
                }
                if self.print_key {
                    line.push_str(&show(r.key.as_ref()));
                    line.push('\t');
                }
                line.push_str(&show(r.value.as_ref()));
                line
            }
        };
        if writeln!(self.out, "{line}").is_err() {
            self.closed = true;
        }
    }

    /// OffsetCommit of the positions that moved since the last commit.
    async fn commit(&mut self, client: &mut Client, group: &str) -> Result<(), CliError> {
        let moved: Vec<(i32, i64)> = self
            .positions
            .iter()
            .filter(|(p, o)| self.committed.get(p) != Some(o))
            .map(|(p, o)| (*p, *o))
            .collect();
        if moved.is_empty() {
            return Ok(());
        }
        let mut offsets = BTreeMap::new();
        offsets.insert(self.topic.as_str(), moved.clone());
        let (resp, _) = client
            .to_coordinator(
                group,
                |_| commit_request(group, &offsets),
                |r| {
                    r.topics
                        .iter()
                        .flat_map(|t| t.partitions.iter())
                        .map(|p| p.error_code)
                        .find(|c| *c != 0)
                        .unwrap_or(0)
                },
            )
            .await?;
        for t in &resp.topics {
            for p in &t.partitions {
                super::check(
                    p.error_code,
                    format!(
                        "committing group '{group}' at {}-{}",
                        self.topic, p.partition_index
                    ),
                    None,
                )?;
            }
        }
        for (p, o) in moved {
            self.committed.insert(p, o);
        }
        Ok(())
    }
}

/// `key` (UTF-8 text or null) and, for bytes that are not UTF-8, `key_hex`.
fn bytes_json(o: &mut serde_json::Map<String, serde_json::Value>, field: &str, b: Option<&Bytes>) {
    match b.map(|b| std::str::from_utf8(b)) {
        None => {
            o.insert(field.into(), serde_json::Value::Null);
        }
        Some(Ok(s)) => {
            o.insert(field.into(), s.into());
        }
        Some(Err(_)) => {
            o.insert(field.into(), serde_json::Value::Null);
            o.insert(format!("{field}_hex"), b.map(|b| hex(b)).into());
        }
    }
}

/// Fetch as a consumer: no fetch session, read uncommitted, 1 MiB a partition, 50 MiB in
/// all, the topic by name up to v12 and by id from v13.
pub fn fetch_request(
    topic: &str,
    id: Uuid,
    parts: &[(i32, i64)],
    wait_ms: i32,
    v: i16,
) -> FetchRequest {
    let req = FetchRequest::default()
        .with_max_wait_ms(wait_ms)
        .with_min_bytes(1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(topic_name(topic))
            .with_topic_id(id)
            .with_partitions(
                parts
                    .iter()
                    .map(|(p, o)| {
                        FetchPartition::default()
                            .with_partition(*p)
                            .with_fetch_offset(*o)
                            .with_partition_max_bytes(1024 * 1024)
                    })
                    .collect(),
            )]);
    if v >= 3 {
        req.with_max_bytes(50 * 1024 * 1024)
    } else {
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::{Encodable, Message};

    #[test]
    fn fetch_encodes_at_every_version() {
        for v in FetchRequest::VERSIONS.min..=FetchRequest::VERSIONS.max {
            fetch_request("t", Uuid::new_v4(), &[(0, 5)], 100, v)
                .encode(&mut bytes::BytesMut::new(), v)
                .unwrap();
        }
    }
}
