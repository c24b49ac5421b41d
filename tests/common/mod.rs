//! Test support: an in-process broker on 127.0.0.1:0 with a temp data dir, and a minimal
//! raw-protocol client built on kafka-protocol's encoders (for driving the broker in tests;
//! compatibility itself is proven by the real clients in compat-tests/).

#![allow(dead_code)]

pub mod pki;

use std::path::Path;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use indexmap::IndexMap;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, BrokerId, CreateTopicsRequest, FetchRequest, ProduceRequest, RequestHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::net::TcpListener;
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use weir::config::Voter;
use weir::{Broker, BrokerHandle, Config};

/// The longest a test waits for one answer (a fetch's max_wait is seconds at most).
pub const ANSWER_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The longest one test binary may run. A hang anywhere (a shutdown or a start that never
/// ends, which no per-call limit covers) then fails the run in minutes, with this message,
/// rather than holding it until CI's limit.
const PROCESS_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Starts the process's watchdog once (called by every helper that starts a broker, a
/// client or a cluster).
pub fn watchdog() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::thread::spawn(|| {
            std::thread::sleep(PROCESS_LIMIT);
            eprintln!(
                "this test binary ran past {PROCESS_LIMIT:?}: a test hangs (the tests still \
                 running are those reported 'running for over 60 seconds' above)"
            );
            std::process::exit(124);
        });
    });
}

pub async fn start(dir: &Path) -> BrokerHandle {
    start_with(dir, |_| {}).await
}

pub async fn start_with(dir: &Path, tweak: impl FnOnce(&mut Config)) -> BrokerHandle {
    watchdog();
    let mut config = Config {
        listeners: vec![weir::config::Listener::plaintext(
            "127.0.0.1:0".parse().unwrap(),
        )],
        data_dir: dir.to_path_buf(),
        // Tests run many brokers at once: no HTTP listener unless a test asks for one.
        http_listener: None,
        ..Config::default()
    };
    tweak(&mut config);
    Broker::start(config).await.expect("broker starts")
}

/// A connection's byte stream: TCP, or TLS over it.
pub trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

pub struct Client {
    pub stream: Box<dyn Stream>,
    correlation: i32,
    /// The client id sent in every request header ("weir-tests" unless set).
    pub client_id: &'static str,
}

impl Client {
    pub fn from_stream(stream: impl Stream + 'static) -> Client {
        watchdog();
        Client {
            stream: Box::new(stream),
            correlation: 0,
            client_id: "weir-tests",
        }
    }

    pub async fn connect(handle: &BrokerHandle) -> Client {
        Client::from_stream(TcpStream::connect(handle.local_addr).await.unwrap())
    }

    /// Sends a request at `version` and decodes its response.
    pub async fn send<R: Request>(&mut self, req: &R, version: i16) -> R::Response {
        self.send_only(req, version).await;
        self.receive::<R>(version).await
    }

    /// [`Client::send`] with the newer kafka-protocol release, for the newest versions.
    pub async fn send_next<R: kafka_protocol_next::protocol::Request>(
        &mut self,
        req: &R,
        version: i16,
    ) -> R::Response {
        use kafka_protocol_next::protocol::{Decodable as _, HeaderVersion as _};
        self.send_next_only(req, version).await;
        let mut frame = self.read_frame().await.expect("a response frame");
        assert_eq!(frame.get_i32(), self.correlation, "responses come in order");
        if R::Response::header_version(version) >= 1 {
            assert_eq!(frame.get_u8(), 0);
        }
        let resp = R::Response::decode(&mut frame, version).unwrap();
        assert!(frame.is_empty(), "the whole answer is read at v{version}");
        resp
    }

    /// Sends a request with the newer kafka-protocol release, reading nothing.
    pub async fn send_next_only<R: kafka_protocol_next::protocol::Request>(
        &mut self,
        req: &R,
        version: i16,
    ) {
        use kafka_protocol_next::protocol::Encodable as _;
        self.correlation += 1;
        let header = kafka_protocol_next::messages::RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(
                kafka_protocol_next::protocol::StrBytes::from_static_str(self.client_id),
            ));
        let mut body = BytesMut::new();
        header
            .encode(&mut body, R::header_version(version))
            .unwrap();
        req.encode(&mut body, version).unwrap();
        let mut frame = BytesMut::new();
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream.write_all(&frame).await.unwrap();
    }

    pub async fn send_only<R: Request>(&mut self, req: &R, version: i16) {
        self.correlation += 1;
        let key = ApiKey::try_from(R::KEY).unwrap();
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str(self.client_id)));
        let mut body = BytesMut::new();
        header
            .encode(&mut body, key.request_header_version(version))
            .unwrap();
        req.encode(&mut body, version).unwrap();
        let mut frame = BytesMut::new();
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream.write_all(&frame).await.unwrap();
    }

    pub async fn receive<R: Request>(&mut self, version: i16) -> R::Response {
        let mut frame = self.read_frame().await.expect("a response frame");
        let correlation = frame.get_i32();
        assert_eq!(correlation, self.correlation, "responses come in order");
        if <R::Response as HeaderVersion>::header_version(version) >= 1 {
            let tags = frame.get_u8();
            assert_eq!(tags, 0);
        }
        R::Response::decode(&mut frame, version).unwrap()
    }

    /// Reads one raw frame; `None` when the broker closed the connection. Panics when no
    /// answer comes within [`ANSWER_LIMIT`]: a broker that hangs fails the test.
    pub async fn read_frame(&mut self) -> Option<Bytes> {
        let read = async {
            let mut size = [0u8; 4];
            self.stream.read_exact(&mut size).await.ok()?;
            let mut buf = vec![0u8; i32::from_be_bytes(size) as usize];
            self.stream.read_exact(&mut buf).await.ok()?;
            Some(Bytes::from(buf))
        };
        tokio::time::timeout(ANSWER_LIMIT, read)
            .await
            .unwrap_or_else(|_| panic!("no answer from the broker within {ANSWER_LIMIT:?}"))
    }

    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// True when the broker has closed this connection (EOF or reset) within 5 s.
    pub async fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(5), self.stream.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

/// A RecordBatch (magic 2) of `values`, optionally compressed, as a producer would send it.
pub fn batch(values: &[&[u8]], compression: Compression) -> Bytes {
    batch_with_producer(values, compression, -1, -1, -1)
}

pub fn batch_with_producer(
    values: &[&[u8]],
    compression: Compression,
    producer_id: i64,
    epoch: i16,
    base_seq: i32,
) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: 0,
            producer_id,
            producer_epoch: epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder groups records into one batch while offset - sequence is constant.
            sequence: base_seq + i as i32,
            timestamp: 1_700_000_000_000 + i as i64,
            key: Some(Bytes::from(format!("k{i}"))),
            value: Some(Bytes::copy_from_slice(v)),
            headers: IndexMap::new(),
        })
        .collect();
    encode(&records, compression)
}

/// A transactional batch of `values` (no keys) from producer (`pid`, `epoch`), starting at
/// sequence `seq`, every record stamped `ts`.
pub fn txn_batch(values: &[&str], pid: i64, epoch: i16, seq: i32, ts: i64) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: true,
            control: false,
            partition_leader_epoch: 0,
            producer_id: pid,
            producer_epoch: epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: seq + i as i32,
            timestamp: ts,
            key: None,
            value: Some(Bytes::copy_from_slice(v.as_bytes())),
            headers: IndexMap::new(),
        })
        .collect();
    encode(&records, Compression::None)
}

/// Encodes records as RecordBatch v2 (one batch when offset - sequence is constant).
fn encode(records: &[Record], compression: Compression) -> Bytes {
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options).unwrap();
    buf.freeze()
}

/// Decodes every record in fetched bytes: (offset, value).
pub fn records(mut bytes: Bytes) -> Vec<(i64, Bytes)> {
    let mut out = Vec::new();
    while bytes.has_remaining() {
        let set = RecordBatchDecoder::decode(&mut bytes).unwrap();
        for r in set.records {
            out.push((r.offset, r.value.unwrap_or_default()));
        }
    }
    out
}

pub fn topic_name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

pub async fn create_topic(c: &mut Client, name: &str, partitions: i32) {
    let req = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(partitions)
        .with_replication_factor(1)]);
    let resp = c.send(&req, 7).await;
    assert_eq!(
        resp.topics[0].error_code, 0,
        "{:?}",
        resp.topics[0].error_message
    );
}

pub async fn produce(
    c: &mut Client,
    topic: &str,
    partition: i32,
    records: bytes::Bytes,
    version: i16,
) -> (i16, i64) {
    let req = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])]);
    let resp = c.send(&req, version).await;
    let p = &resp.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

pub fn fetch_request(topic: &str, partition: i32, offset: i64, max_wait_ms: i32) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(50 * 1024 * 1024)
        .with_topics(vec![FetchTopic::default()
            .with_topic(topic_name(topic))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1024 * 1024)])])
}

/// Produces one uncompressed record to partition 0 and returns its offset (must succeed).
pub async fn produce_value(c: &mut Client, topic: &str, value: &[u8]) -> i64 {
    let (err, offset) = produce(c, topic, 0, batch(&[value], Compression::None), 9).await;
    assert_eq!(err, 0);
    offset
}

/// Fetches every record of partition 0 from offset 0 (in several fetches if needed).
pub async fn fetch_all(c: &mut Client, topic: &str) -> Vec<(i64, Bytes)> {
    let mut out: Vec<(i64, Bytes)> = Vec::new();
    loop {
        let next = out.last().map(|(o, _)| o + 1).unwrap_or(0);
        let resp = c.send(&fetch_request(topic, 0, next, 0), 12).await;
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        let got = records(p.records.clone().unwrap_or_default());
        if got.is_empty() {
            return out;
        }
        out.extend(got.into_iter().filter(|(o, _)| *o >= next));
    }
}

/// One record for [`keyed_batch`]: key, value (None: a tombstone) and one header.
pub struct TestRecord<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub header: Option<(&'a str, &'a [u8])>,
}

/// A RecordBatch of keyed records, all stamped `timestamp`, compressed with `compression`.
pub fn keyed_batch(recs: &[TestRecord<'_>], compression: Compression, timestamp: i64) -> Bytes {
    let records: Vec<Record> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut headers = IndexMap::new();
            if let Some((k, v)) = r.header {
                headers.insert(
                    StrBytes::from_string(k.to_string()),
                    Some(Bytes::copy_from_slice(v)),
                );
            }
            Record {
                transactional: false,
                control: false,
                partition_leader_epoch: 0,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                // One batch needs offset - sequence constant; the first sequence is -1 (none).
                sequence: i as i32 - 1,
                timestamp,
                key: r.key.map(Bytes::copy_from_slice),
                value: r.value.map(Bytes::copy_from_slice),
                headers,
            }
        })
        .collect();
    encode(&records, compression)
}

/// Creates a topic with config overrides; returns the error code and message.
pub async fn create_topic_with(
    c: &mut Client,
    name: &str,
    configs: &[(&str, &str)],
) -> (i16, Option<String>) {
    use kafka_protocol::messages::create_topics_request::CreatableTopicConfig;
    let configs = configs
        .iter()
        .map(|(k, v)| {
            CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(k.to_string()))
                .with_value(Some(StrBytes::from_string(v.to_string())))
        })
        .collect();
    let req = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(1)
        .with_replication_factor(1)
        .with_configs(configs)]);
    let resp = c.send(&req, 7).await;
    let t = &resp.topics[0];
    (
        t.error_code,
        t.error_message.as_ref().map(|m| m.to_string()),
    )
}

/// ListOffsets for partition 0 at `timestamp` (-2 earliest, -1 latest): (error, offset).
pub async fn list_offset(c: &mut Client, topic: &str, timestamp: i64) -> (i16, i64) {
    use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
    use kafka_protocol::messages::ListOffsetsRequest;
    let req = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(timestamp)])]);
    let resp = c.send(&req, 7).await;
    let p = &resp.topics[0].partitions[0];
    (p.error_code, p.offset)
}

/// Every record of partition 0 from `from` on, decoded with keys and headers:
/// (offset, key, value, first header value).
pub async fn fetch_records_from(
    c: &mut Client,
    topic: &str,
    from: i64,
) -> Result<Vec<(i64, Option<Bytes>, Option<Bytes>, Option<Bytes>)>, i16> {
    let mut out = Vec::new();
    let mut next = from;
    loop {
        let resp = c.send(&fetch_request(topic, 0, next, 0), 12).await;
        let p = &resp.responses[0].partitions[0];
        if p.error_code != 0 {
            return Err(p.error_code);
        }
        let mut bytes = p.records.clone().unwrap_or_default();
        let mut after = next;
        while bytes.has_remaining() {
            // Skip past the whole batch, even when compaction left it with fewer records.
            let base = i64::from_be_bytes(bytes[..8].try_into().unwrap());
            let delta = i32::from_be_bytes(bytes[23..27].try_into().unwrap());
            after = after.max(base + i64::from(delta) + 1);
            let set = RecordBatchDecoder::decode(&mut bytes).unwrap();
            for r in set.records {
                if r.offset >= next {
                    let header = r.headers.values().next().cloned().flatten();
                    out.push((r.offset, r.key, r.value, header));
                }
            }
        }
        if after == next {
            return Ok(out);
        }
        next = after;
    }
}

/// Polls `cond` every 20 ms until it holds, panicking with `what` after 20 s.
pub async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------- http

/// One HTTP/1.1 exchange: (status code, headers, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.map(|b| b.to_string());
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(b) = &body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.as_deref().unwrap_or(""));
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, head.to_string(), body.to_string())
}

// ---------------------------------------------------------------- clusters

/// A free port on 127.0.0.1 (bound, then released for the broker to bind), taken below
/// Linux's ephemeral range (32768-60999). Outgoing connections (clients, raft peers,
/// replica fetchers) take ephemeral ports, so a port from that range can be taken while the
/// node that used it is down, and its restart on the same port would fail. Each test process
/// walks its own stretch of 10000-31999 (from a base drawn from its pid), so the tests of one
/// binary, running side by side, never draw the same port.
pub fn free_port() -> u16 {
    watchdog();
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        (std::process::id() * 7919) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let port = (LOW + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below the ephemeral range")
}

pub fn node_config(id: i32, dir: PathBuf, voters: &[Voter], port: u16, controller: u16) -> Config {
    let mut config = Config {
        listeners: vec![weir::config::Listener::plaintext(
            format!("127.0.0.1:{port}").parse().unwrap(),
        )],
        data_dir: dir,
        node_id: id,
        ..Config::default()
    };
    config.cluster.voters = voters.to_vec();
    config.cluster.controller_listener = Some(format!("127.0.0.1:{controller}").parse().unwrap());
    // Short enough to see fencing quickly, long enough that a loaded CI machine running
    // several of these clusters at once does not miss a session by accident.
    config.cluster.heartbeat_interval_ms = 200;
    config.cluster.session_timeout_ms = 3000;
    config
}

/// Configs for `n` nodes on free loopback ports, data in `dirs`; the nodes whose index is in
/// `voting` form the quorum.
pub fn cluster_configs(dirs: &[tempfile::TempDir], voting: &[usize]) -> Vec<Config> {
    let ports: Vec<(u16, u16)> = dirs.iter().map(|_| (free_port(), free_port())).collect();
    let voters: Vec<Voter> = voting
        .iter()
        .map(|&i| Voter {
            id: i as i32 + 1,
            addr: format!("127.0.0.1:{}", ports[i].1),
        })
        .collect();
    ports
        .iter()
        .enumerate()
        .map(|(i, (p, c))| node_config(i as i32 + 1, dirs[i].path().to_path_buf(), &voters, *p, *c))
        .collect()
}

/// FindCoordinator for `group` (which creates `__consumer_offsets`), then waits until the
/// group's partition is loaded: a Heartbeat of a stranger gets UNKNOWN_MEMBER_ID (25) rather
/// than COORDINATOR_LOAD_IN_PROGRESS (14) or NOT_COORDINATOR (16).
pub async fn coordinator_ready(c: &mut Client, group: &str) {
    let resp = c
        .send(
            &kafka_protocol::messages::FindCoordinatorRequest::default().with_key(
                kafka_protocol::protocol::StrBytes::from_string(group.to_string()),
            ),
            3,
        )
        .await;
    assert_eq!(resp.error_code, 0, "FindCoordinator {group}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let hb = kafka_protocol::messages::HeartbeatRequest::default()
            .with_group_id(kafka_protocol::messages::GroupId(
                kafka_protocol::protocol::StrBytes::from_string(group.to_string()),
            ))
            .with_member_id(kafka_protocol::protocol::StrBytes::from_static_str(
                "nobody",
            ));
        match c.send(&hb, 4).await.error_code {
            25 => return,
            14 | 16 => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{group} never loaded"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => panic!("Heartbeat for {group}: error {other}"),
        }
    }
}
