//! The client side of the Kafka protocol for the commands: one [`Conn`] per broker, each
//! opened with ApiVersions, and a [`Client`] that routes requests to partition leaders
//! (Metadata) and group coordinators (FindCoordinator).
//!
//! Versions: every request goes at the highest version that both the broker (its ApiVersions
//! answer) and kafka-protocol 0.15 (the request type's `VERSIONS`) know, so the same code
//! talks to weir and to Apache Kafka 4.1 (which dropped many old versions). Fields that only
//! exist in some versions are set by the builders according to the version they are given.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, BrokerId, FindCoordinatorRequest, GroupId,
    ListOffsetsRequest, MetadataRequest, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message, Request, StrBytes};
use kafka_protocol::records::{Record, RecordBatchDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use super::CliError;

/// How long a broker has to answer one request (produce waits up to 30 s for acks=all).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(45);
/// How long to keep retrying a coordinator or leader that is not there yet.
pub const RETRY_DEADLINE: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response accepted (a fetch is bounded by its max_bytes, 50 MiB).
const MAX_RESPONSE: usize = 128 * 1024 * 1024;
const CLIENT_ID: &str = "weir-cli";

/// Retriable errors after which a fresh look at metadata or the coordinator may help.
pub fn retriable(code: i16) -> bool {
    matches!(
        code,
        3 | 5 | 6 | 7 | 13 | 14 | 15 | 16 | 19 | 56 | 74 | 75 | 100
    )
}

pub fn name(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

pub fn topic_name(s: &str) -> TopicName {
    TopicName(name(s))
}

pub fn group_id(s: &str) -> GroupId {
    GroupId(name(s))
}

/// One connection to one broker, with the API versions it announced.
pub struct Conn {
    stream: TcpStream,
    correlation: i32,
    /// api key -> (min, max) the broker serves.
    versions: HashMap<i16, (i16, i16)>,
    pub addr: String,
}

impl Conn {
    /// Connects and negotiates versions with ApiVersions (at the newest version both know;
    /// a broker that does not know it answers in v0 with its range, KIP-511).
    pub async fn connect(addr: &str) -> Result<Conn, CliError> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| CliError::Io(format!("cannot connect to {addr}: timed out")))?
            .map_err(|e| CliError::Io(format!("cannot connect to {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let mut conn = Conn {
            stream,
            correlation: 0,
            versions: HashMap::new(),
            addr: addr.to_string(),
        };
        let mut version = ApiVersionsRequest::VERSIONS.max;
        loop {
            let req = ApiVersionsRequest::default()
                .with_client_software_name(if version >= 3 {
                    name(CLIENT_ID)
                } else {
                    name("")
                })
                .with_client_software_version(if version >= 3 {
                    name(env!("CARGO_PKG_VERSION"))
                } else {
                    name("")
                });
            let mut body = conn.round_trip(&req, version).await?;
            let resp = match ApiVersionsResponse::decode(&mut body.clone(), version) {
                Ok(r) if r.error_code != 35 => r,
                // Not our version: the answer is in the v0 layout, with the broker's range.
                _ => ApiVersionsResponse::decode(&mut body, 0).map_err(|e| {
                    CliError::Io(format!("{addr}: unreadable ApiVersions answer: {e}"))
                })?,
            };
            if resp.error_code == 35 {
                let theirs = resp
                    .api_keys
                    .iter()
                    .find(|k| k.api_key == ApiVersionsRequest::KEY);
                match theirs {
                    Some(k) if k.max_version < version => {
                        version = k.max_version;
                        continue;
                    }
                    _ => return Err(CliError::kafka(35, format!("ApiVersions to {addr}"), None)),
                }
            }
            super::check(resp.error_code, format!("ApiVersions to {addr}"), None)?;
            conn.versions = resp
                .api_keys
                .iter()
                .map(|k| (k.api_key, (k.min_version, k.max_version)))
                .collect();
            return Ok(conn);
        }
    }

    /// The version to send `R` at: the highest both sides know.
    pub fn version<R: Request>(&self) -> Result<i16, CliError> {
        let unsupported =
            |why: &str| CliError::Io(format!("{}: {} {why}", self.addr, api_name(R::KEY)));
        let &(min, max) = self
            .versions
            .get(&R::KEY)
            .ok_or_else(|| unsupported("is not served by this broker"))?;
        let version = max.min(R::VERSIONS.max);
        if version < min.max(R::VERSIONS.min) {
            return Err(unsupported("has no version in common with this client"));
        }
        Ok(version)
    }

    /// Whether the broker serves `R` at a version this client knows.
    pub fn supports<R: Request>(&self) -> bool {
        self.version::<R>().is_ok()
    }

    /// Sends the request `build` makes for the negotiated version; the response and version.
    pub async fn send<R: Request>(
        &mut self,
        build: impl FnOnce(i16) -> R,
    ) -> Result<(R::Response, i16), CliError> {
        let version = self.version::<R>()?;
        let req = build(version);
        let mut body = self.round_trip(&req, version).await?;
        let resp = R::Response::decode(&mut body, version).map_err(|e| {
            CliError::Io(format!(
                "{}: unreadable {} v{version} answer: {e}",
                self.addr,
                api_name(R::KEY)
            ))
        })?;
        Ok((resp, version))
    }

    /// Writes one request frame and reads its answer: the body after the response header.
    async fn round_trip<R: Request>(&mut self, req: &R, version: i16) -> Result<Bytes, CliError> {
        self.correlation = self.correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(name(CLIENT_ID)));
        let mut frame = BytesMut::new();
        frame.put_i32(0);
        let encoded = header
            .encode(&mut frame, R::header_version(version))
            .and_then(|()| req.encode(&mut frame, version));
        if let Err(e) = encoded {
            return Err(CliError::Io(format!(
                "cannot encode {} v{version}: {e}",
                api_name(R::KEY)
            )));
        }
        let size = (frame.len() - 4) as i32;
        frame[..4].copy_from_slice(&size.to_be_bytes());
        let addr = self.addr.clone();
        let io = |e: std::io::Error| CliError::Io(format!("{addr}: {e}"));
        let exchange = async {
            self.stream.write_all(&frame).await.map_err(io)?;
            let mut size = [0u8; 4];
            self.stream.read_exact(&mut size).await.map_err(io)?;
            let size = usize::try_from(i32::from_be_bytes(size)).unwrap_or(usize::MAX);
            if size > MAX_RESPONSE {
                return Err(CliError::Io(format!(
                    "{addr}: response of {size} bytes refused"
                )));
            }
            let mut buf = vec![0u8; size];
            self.stream.read_exact(&mut buf).await.map_err(io)?;
            Ok(Bytes::from(buf))
        };
        let mut body = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| {
                CliError::Io(format!(
                    "{}: no answer within {REQUEST_TIMEOUT:?}",
                    self.addr
                ))
            })??;
        let header_version = R::Response::header_version(version);
        let header = ResponseHeader::decode(&mut body, header_version)
            .map_err(|e| CliError::Io(format!("{}: bad response header: {e}", self.addr)))?;
        if header.correlation_id != self.correlation {
            return Err(CliError::Io(format!(
                "{}: answer to request {} where {} was expected",
                self.addr, header.correlation_id, self.correlation
            )));
        }
        Ok(body)
    }
}

/// Kafka's name of an API (`Metadata`), for messages.
pub fn api_name(key: i16) -> String {
    match kafka_protocol::messages::ApiKey::try_from(key) {
        Ok(k) => format!("{k:?}"),
        Err(()) => format!("API {key}"),
    }
}

/// A broker as Metadata or DescribeCluster describes it.
#[derive(Debug, Clone)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

impl BrokerInfo {
    /// The broker in `--json` output (and the console's API).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "id": self.id, "host": self.host, "port": self.port, "rack": self.rack })
    }
}

/// One partition as Metadata describes it.
#[derive(Debug, Clone)]
pub struct PartitionInfo {
    pub partition: i32,
    pub error: i16,
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub offline: Vec<i32>,
}

impl PartitionInfo {
    /// Fewer replicas in sync than assigned.
    pub fn under_replicated(&self) -> bool {
        self.isr.len() < self.replicas.len()
    }

    /// No leader: Kafka's offline partition.
    pub fn leaderless(&self) -> bool {
        self.leader < 0
    }
}

/// One topic as Metadata describes it (partitions sorted).
#[derive(Debug, Clone)]
pub struct TopicInfo {
    pub name: String,
    pub id: Uuid,
    pub error: i16,
    pub internal: bool,
    pub partitions: Vec<PartitionInfo>,
}

/// A Metadata answer, in plain types.
#[derive(Debug, Clone, Default)]
pub struct MetadataInfo {
    pub cluster_id: Option<String>,
    pub controller_id: i32,
    pub brokers: Vec<BrokerInfo>,
    pub topics: Vec<TopicInfo>,
}

impl MetadataInfo {
    pub fn topic(&self, name: &str) -> Option<&TopicInfo> {
        self.topics.iter().find(|t| t.name == name)
    }
}

/// Connections to a cluster: the bootstrap broker, and the others by node id as needed.
pub struct Client {
    boot: Conn,
    conns: HashMap<i32, Conn>,
    brokers: BTreeMap<i32, BrokerInfo>,
    coordinators: HashMap<String, i32>,
}

impl Client {
    /// Connects to the first reachable of the comma-separated bootstrap addresses.
    pub async fn connect(bootstrap: &str) -> Result<Client, CliError> {
        let mut last = CliError::Usage("--bootstrap-server: no address given".to_string());
        for addr in bootstrap
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            match Conn::connect(addr).await {
                Ok(boot) => {
                    return Ok(Client {
                        boot,
                        conns: HashMap::new(),
                        brokers: BTreeMap::new(),
                        coordinators: HashMap::new(),
                    })
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The bootstrap broker's connection: for requests any broker answers.
    pub fn any(&mut self) -> &mut Conn {
        &mut self.boot
    }

    /// Sends Metadata for `topics` (every topic for `None`), never creating topics.
    pub async fn metadata(&mut self, topics: Option<&[String]>) -> Result<MetadataInfo, CliError> {
        let (resp, _) = self.boot.send(|v| metadata_request(topics, v)).await?;
        let info = MetadataInfo {
            cluster_id: resp.cluster_id.map(|c| c.to_string()),
            controller_id: resp.controller_id.0,
            brokers: resp
                .brokers
                .iter()
                .map(|b| BrokerInfo {
                    id: b.node_id.0,
                    host: b.host.to_string(),
                    port: b.port,
                    rack: b.rack.as_ref().map(|r| r.to_string()),
                })
                .collect(),
            topics: resp
                .topics
                .iter()
                .map(|t| {
                    let mut partitions: Vec<PartitionInfo> = t
                        .partitions
                        .iter()
                        .map(|p| PartitionInfo {
                            partition: p.partition_index,
                            error: p.error_code,
                            leader: p.leader_id.0,
                            leader_epoch: p.leader_epoch,
                            replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                            isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                            offline: p.offline_replicas.iter().map(|b| b.0).collect(),
                        })
                        .collect();
                    partitions.sort_by_key(|p| p.partition);
                    TopicInfo {
                        name: t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default(),
                        id: t.topic_id,
                        error: t.error_code,
                        internal: t.is_internal,
                        partitions,
                    }
                })
                .collect(),
        };
        for b in &info.brokers {
            self.brokers.insert(b.id, b.clone());
        }
        Ok(info)
    }

    /// The connection to broker `id` (its address from the last Metadata).
    pub async fn broker(&mut self, id: i32) -> Result<&mut Conn, CliError> {
        if !self.brokers.contains_key(&id) {
            self.metadata(Some(&[])).await?;
        }
        if !self.conns.contains_key(&id) {
            let b = self.brokers.get(&id).ok_or_else(|| {
                CliError::Io(format!("broker {id} is not in the cluster's metadata"))
            })?;
            let conn = Conn::connect(&format!("{}:{}", b.host, b.port)).await?;
            self.conns.insert(id, conn);
        }
        self.conns
            .get_mut(&id)
            .ok_or_else(|| CliError::Io(format!("broker {id}: no connection")))
    }

    /// Drops the connection to broker `id` (after an I/O error), to reconnect next time.
    pub fn forget(&mut self, id: i32) {
        self.conns.remove(&id);
    }

    /// The coordinator of `group`, found with FindCoordinator (retried while the coordinator
    /// is not available yet, e.g. while `__consumer_offsets` is being created).
    pub async fn coordinator(&mut self, group: &str) -> Result<&mut Conn, CliError> {
        if let Some(&id) = self.coordinators.get(group) {
            return self.broker(id).await;
        }
        let deadline = tokio::time::Instant::now() + RETRY_DEADLINE;
        let context = format!("FindCoordinator for group '{group}'");
        let node = loop {
            let (resp, v) = self
                .boot
                .send(|v| find_coordinator_request(group, v))
                .await?;
            let (code, message, node, host, port) = if v >= 4 {
                match resp.coordinators.first() {
                    Some(c) => (
                        c.error_code,
                        c.error_message.as_ref().map(|m| m.to_string()),
                        c.node_id.0,
                        c.host.to_string(),
                        c.port,
                    ),
                    None => return Err(CliError::Io(format!("{context}: empty answer"))),
                }
            } else {
                (
                    resp.error_code,
                    resp.error_message.as_ref().map(|m| m.to_string()),
                    resp.node_id.0,
                    resp.host.to_string(),
                    resp.port,
                )
            };
            if code == 0 {
                self.brokers.entry(node).or_insert(BrokerInfo {
                    id: node,
                    host,
                    port,
                    rack: None,
                });
                break node;
            }
            if retriable(code) && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            return Err(CliError::kafka(code, context, message));
        };
        self.coordinators.insert(group.to_string(), node);
        self.broker(node).await
    }

    /// Forgets the coordinator of `group` (after NOT_COORDINATOR and the like).
    pub fn forget_coordinator(&mut self, group: &str) {
        if let Some(id) = self.coordinators.remove(group) {
            self.conns.remove(&id);
        }
    }

    /// Sends the request `build` makes to the coordinator of `group`, finding it again (and
    /// retrying until [`RETRY_DEADLINE`]) while `code` of the answer is
    /// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR.
    pub async fn to_coordinator<R: Request>(
        &mut self,
        group: &str,
        build: impl Fn(i16) -> R,
        code: impl Fn(&R::Response) -> i16,
    ) -> Result<(R::Response, i16), CliError> {
        let deadline = tokio::time::Instant::now() + RETRY_DEADLINE;
        loop {
            let conn = self.coordinator(group).await?;
            let sent = conn.send(&build).await;
            let (resp, v) = match sent {
                Ok(answer) => answer,
                Err(e) => {
                    self.forget_coordinator(group);
                    return Err(e);
                }
            };
            if matches!(code(&resp), 14..=16) && tokio::time::Instant::now() < deadline {
                self.forget_coordinator(group);
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            return Ok((resp, v));
        }
    }

    /// ListOffsets at `timestamp` (-2 earliest, -1 latest) for each (topic, partition),
    /// sent to each partition's leader in `meta`: offset or error code per partition.
    pub async fn list_offsets(
        &mut self,
        meta: &MetadataInfo,
        partitions: &[(String, i32)],
        timestamp: i64,
    ) -> Result<BTreeMap<(String, i32), Result<i64, i16>>, CliError> {
        let mut out = BTreeMap::new();
        let mut by_leader: BTreeMap<i32, BTreeMap<String, Vec<i32>>> = BTreeMap::new();
        for (topic, p) in partitions {
            let leader = meta
                .topic(topic)
                .and_then(|t| t.partitions.iter().find(|x| x.partition == *p))
                .map(|x| x.leader);
            match leader {
                Some(l) if l >= 0 => by_leader
                    .entry(l)
                    .or_default()
                    .entry(topic.clone())
                    .or_default()
                    .push(*p),
                Some(_) => {
                    out.insert((topic.clone(), *p), Err(5));
                }
                None => {
                    out.insert((topic.clone(), *p), Err(3));
                }
            }
        }
        for (leader, topics) in by_leader {
            let conn = self.broker(leader).await?;
            let (resp, v) = conn
                .send(|_| list_offsets_request(&topics, timestamp))
                .await?;
            for t in resp.topics {
                for p in t.partitions {
                    let offset = if v == 0 {
                        p.old_style_offsets.first().copied().unwrap_or(-1)
                    } else {
                        p.offset
                    };
                    let value = if p.error_code == 0 {
                        Ok(offset)
                    } else {
                        Err(p.error_code)
                    };
                    out.insert((t.name.0.to_string(), p.partition_index), value);
                }
            }
        }
        Ok(out)
    }
}

/// Metadata for `topics` (all for `None`), without auto-creation where the version allows.
pub fn metadata_request(topics: Option<&[String]>, v: i16) -> MetadataRequest {
    let listed = |ts: &[String]| -> Vec<MetadataRequestTopic> {
        ts.iter()
            .map(|t| MetadataRequestTopic::default().with_name(Some(topic_name(t))))
            .collect()
    };
    let topics = match topics {
        Some(ts) => Some(listed(ts)),
        None if v == 0 => Some(Vec::new()), // v0: an empty list means every topic
        None => None,
    };
    MetadataRequest::default()
        .with_topics(topics)
        .with_allow_auto_topic_creation(v < 4)
}

/// FindCoordinator for a group: the key list from v4 on, the single key before.
pub fn find_coordinator_request(group: &str, v: i16) -> FindCoordinatorRequest {
    let req = FindCoordinatorRequest::default();
    if v >= 4 {
        req.with_coordinator_keys(vec![name(group)])
    } else {
        req.with_key(name(group))
    }
}

/// ListOffsets as a consumer (replica -1, read uncommitted) at `timestamp`.
pub fn list_offsets_request(
    topics: &BTreeMap<String, Vec<i32>>,
    timestamp: i64,
) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(
            topics
                .iter()
                .map(|(t, ps)| {
                    ListOffsetsTopic::default()
                        .with_name(topic_name(t))
                        .with_partitions(
                            ps.iter()
                                .map(|&p| {
                                    ListOffsetsPartition::default()
                                        .with_partition_index(p)
                                        .with_timestamp(timestamp)
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

/// A record batch's offsets from its header, without decoding it: (base offset, last offset)
/// for magic 2; `None` for the old formats or a short buffer.
pub fn batch_offsets(batch: &[u8]) -> Option<(i64, i64)> {
    if batch.len() < 27 || batch[16] != 2 {
        return None;
    }
    let mut b = &batch[..27];
    let base = b.get_i64();
    b.advance(15);
    let delta = b.get_i32();
    Some((base, base + i64::from(delta)))
}

/// Walks the whole record batches of a partition's fetched `bytes` from offset `position`
/// on: hands each data record at or after it to `take` (control records are passed over)
/// until `take` refuses one. Returns the offset to read next: the first record not taken, or
/// past the last whole batch. A batch cut short at the end of the bytes is left for the next
/// fetch, and so is an undecodable one.
pub fn read_records(
    mut bytes: Bytes,
    mut position: i64,
    mut take: impl FnMut(&Record) -> bool,
) -> i64 {
    while bytes.remaining() >= 12 {
        let length = i32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let Ok(total) = usize::try_from(length).map(|l| l + 12) else {
            break;
        };
        if bytes.remaining() < total {
            break;
        }
        let batch = bytes.split_to(total);
        let last = batch_offsets(&batch).map(|(_, last)| last);
        let Ok(set) = RecordBatchDecoder::decode(&mut batch.clone()) else {
            break;
        };
        let from = position;
        for r in set.records.iter().filter(|r| r.offset >= from) {
            if !r.control && !take(r) {
                return position;
            }
            position = r.offset + 1;
        }
        if let Some(last) = last {
            position = position.max(last + 1);
        }
    }
    position
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encodes<R: Request>(build: impl Fn(i16) -> R) {
        for v in R::VERSIONS.min..=R::VERSIONS.max {
            let mut buf = BytesMut::new();
            build(v)
                .encode(&mut buf, v)
                .unwrap_or_else(|e| panic!("{} v{v}: {e}", api_name(R::KEY)));
        }
    }

    #[test]
    fn requests_encode_at_every_version() {
        let topics = vec!["a".to_string()];
        encodes(|v| metadata_request(None, v));
        encodes(|v| metadata_request(Some(&topics), v));
        encodes(|v| find_coordinator_request("g", v));
        let mut lo = BTreeMap::new();
        lo.insert("a".to_string(), vec![0, 1]);
        encodes(|_| list_offsets_request(&lo, -1));
    }
}
