//! `weir produce TOPIC`: each line of stdin becomes a record. Sends Metadata, then Produce
//! (acks=all) to each partition's leader: one request per leader holding one RecordBatch v2
//! per partition, as many lines as have arrived (up to 1 MiB a batch, waiting at most 5 ms
//! for more). Keys pick partitions with Kafka's default partitioner (murmur2), keyless
//! records go round-robin, `--partition` pins them all.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use clap::Args;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::ProduceRequest;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use serde_json::json;
use tokio::sync::mpsc;

use super::client::{retriable, topic_name, Client, MetadataInfo};
use super::output::{self, Table};
use super::{key_value, CliError, ClientArgs};

const BATCH_BYTES: usize = 1024 * 1024;
const LINGER: Duration = Duration::from_millis(5);
const RETRIES: u32 = 5;

#[derive(Debug, Args)]
pub struct ProduceArgs {
    pub topic: String,
    /// Send every record to this partition.
    #[arg(long)]
    pub partition: Option<i32>,
    /// Split each line at the first SEP into key and value (a line without it fails).
    #[arg(long, value_name = "SEP")]
    pub key_separator: Option<String>,
    /// A header added to every record (repeatable).
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
}

/// Kafka's murmur2 (`Utils.murmur2`), as its default partitioner hashes keys.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// `line` split at the first `sep`.
fn split_once<'a>(line: &'a [u8], sep: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let at = line.windows(sep.len()).position(|w| w == sep)?;
    Some((&line[..at], &line[at + sep.len()..]))
}

/// The partition Kafka's default partitioner picks for a key.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions.max(1)
}

/// One record waiting to be sent.
struct Pending {
    key: Option<Bytes>,
    value: Bytes,
}

/// Per partition: records acknowledged, first and last offset.
#[derive(Default)]
struct Acked {
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
}

struct Producer {
    client: Client,
    meta: MetadataInfo,
    topic: String,
    headers: Vec<(String, String)>,
    next_round_robin: i32,
    acked: BTreeMap<i32, Acked>,
    failed: u64,
    first_error: Option<CliError>,
    counter: Option<Instant>,
}

pub async fn run(args: &ClientArgs, p: ProduceArgs) -> Result<(), CliError> {
    let headers = p
        .headers
        .iter()
        .map(|h| key_value(h, "--header"))
        .collect::<Result<Vec<_>, _>>()?;
    if p.key_separator.as_deref() == Some("") {
        return Err(CliError::Usage("--key-separator: empty".to_string()));
    }
    let mut client = Client::connect(&args.bootstrap_server).await?;
    let meta = client
        .metadata(Some(std::slice::from_ref(&p.topic)))
        .await?;
    let info = meta
        .topic(&p.topic)
        .ok_or_else(|| CliError::kafka(3, format!("topic '{}'", p.topic), None))?;
    super::check(info.error, format!("topic '{}'", p.topic), None)?;
    let partitions = info.partitions.len() as i32;
    if let Some(chosen) = p.partition {
        if chosen < 0 || chosen >= partitions {
            return Err(CliError::kafka(
                3,
                format!("topic '{}' partition {chosen}", p.topic),
                Some(format!("the topic has {partitions} partitions")),
            ));
        }
    }
    let mut producer = Producer {
        client,
        meta,
        topic: p.topic.clone(),
        headers,
        next_round_robin: 0,
        acked: BTreeMap::new(),
        failed: 0,
        first_error: None,
        counter: std::io::stderr().is_terminal().then(Instant::now),
    };

    // stdin is read on its own thread: lines (bytes, without the line ending) on a channel.
    let (tx, mut rx) = mpsc::channel::<(usize, std::io::Result<Vec<u8>>)>(4096);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        for n in 1.. {
            let mut line = Vec::new();
            let read = match stdin.read_until(b'\n', &mut line) {
                Ok(0) => return,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                    }
                    Ok(line)
                }
                Err(e) => Err(e),
            };
            let stop = read.is_err();
            if tx.blocking_send((n, read)).is_err() || stop {
                return;
            }
        }
    });
    let mut pending: BTreeMap<i32, Vec<Pending>> = BTreeMap::new();
    let mut bytes = 0usize;
    loop {
        let next = if pending.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout(LINGER, rx.recv()).await {
                Ok(line) => line,
                Err(_) => {
                    producer.send(std::mem::take(&mut pending)).await?;
                    bytes = 0;
                    continue;
                }
            }
        };
        let Some((n, line)) = next else { break };
        let line = line.map_err(|e| CliError::Io(format!("reading stdin: {e}")))?;
        let (key, value) = match &p.key_separator {
            None => (None, line),
            Some(sep) => match split_once(&line, sep.as_bytes()) {
                Some((k, v)) => (Some(Bytes::copy_from_slice(k)), v.to_vec()),
                None => {
                    producer.fail(
                        1,
                        CliError::Failed(format!("line {n}: no key separator {sep:?}")),
                    );
                    continue;
                }
            },
        };
        let partition = match (p.partition, &key) {
            (Some(chosen), _) => chosen,
            (None, Some(k)) => partition_for_key(k, partitions),
            (None, None) => {
                let chosen = producer.next_round_robin;
                producer.next_round_robin = (chosen + 1) % partitions.max(1);
                chosen
            }
        };
        bytes += value.len() + key.as_ref().map_or(0, Bytes::len) + 32;
        pending.entry(partition).or_default().push(Pending {
            key,
            value: Bytes::from(value),
        });
        if bytes >= BATCH_BYTES {
            producer.send(std::mem::take(&mut pending)).await?;
            bytes = 0;
        }
    }
    if !pending.is_empty() {
        producer.send(pending).await?;
    }
    producer.finish(args.json)
}

impl Producer {
    fn fail(&mut self, records: u64, error: CliError) {
        eprintln!("error: {error}");
        self.failed += records;
        self.first_error.get_or_insert(error);
    }

    /// Sends the records, one request per leader, retrying partitions whose leader moved
    /// (NOT_LEADER_OR_FOLLOWER and the like, after fresh Metadata) up to [`RETRIES`] times.
    async fn send(&mut self, mut pending: BTreeMap<i32, Vec<Pending>>) -> Result<(), CliError> {
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let mut by_leader: BTreeMap<i32, Vec<(i32, Vec<Pending>)>> = BTreeMap::new();
            let topic = self.meta.topic(&self.topic).cloned();
            for (partition, records) in std::mem::take(&mut pending) {
                let leader = topic
                    .as_ref()
                    .and_then(|t| t.partitions.iter().find(|x| x.partition == partition))
                    .map_or(-1, |x| x.leader);
                by_leader
                    .entry(leader)
                    .or_default()
                    .push((partition, records));
            }
            let mut retry: BTreeMap<i32, Vec<Pending>> = BTreeMap::new();
            for (leader, batches) in by_leader {
                if leader < 0 {
                    for (partition, records) in batches {
                        self.retry_or_fail(&mut retry, attempt, partition, records, 5, None);
                    }
                    continue;
                }
                let request = self.request(&batches)?;
                let sent = match self.client.broker(leader).await {
                    Ok(conn) => conn.send(|_| request).await,
                    Err(e) => Err(e),
                };
                let resp = match sent {
                    Ok((resp, _)) => resp,
                    Err(e) => {
                        // The leader is gone: reconnect to whoever leads after fresh metadata.
                        self.client.forget(leader);
                        if attempt > RETRIES {
                            return Err(e);
                        }
                        for (partition, records) in batches {
                            retry.insert(partition, records);
                        }
                        continue;
                    }
                };
                let mut answers = BTreeMap::new();
                for t in &resp.responses {
                    for p in &t.partition_responses {
                        answers.insert(
                            p.index,
                            (
                                p.error_code,
                                p.base_offset,
                                p.error_message.as_ref().map(|m| m.to_string()),
                            ),
                        );
                    }
                }
                for (partition, records) in batches {
                    match answers.remove(&partition) {
                        Some((0, base, _)) => {
                            let a = self.acked.entry(partition).or_default();
                            let n = records.len() as i64;
                            a.count += n as u64;
                            a.first.get_or_insert(base);
                            a.last = Some(base + n - 1);
                        }
                        Some((code, _, message)) => self
                            .retry_or_fail(&mut retry, attempt, partition, records, code, message),
                        None => self.fail(
                            records.len() as u64,
                            CliError::Io(format!("no answer for partition {partition}")),
                        ),
                    }
                }
            }
            if !retry.is_empty() {
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                self.meta = self
                    .client
                    .metadata(Some(std::slice::from_ref(&self.topic)))
                    .await?;
            }
            pending = retry;
        }
        self.show_counter();
        Ok(())
    }

    /// Errors that mean nothing was written (the leader moved, not enough replicas) are
    /// retried; any other fails the records.
    fn retry_or_fail(
        &mut self,
        retry: &mut BTreeMap<i32, Vec<Pending>>,
        attempt: u32,
        partition: i32,
        records: Vec<Pending>,
        code: i16,
        message: Option<String>,
    ) {
        let unwritten = retriable(code) && !matches!(code, 7 | 13);
        if unwritten && attempt <= RETRIES {
            retry.insert(partition, records);
        } else {
            let context = format!("producing to {}-{partition}", self.topic);
            self.fail(
                records.len() as u64,
                CliError::kafka(code, context, message),
            );
        }
    }

    /// Produce (acks=all, 30 s) with one RecordBatch v2 per partition.
    fn request(&self, batches: &[(i32, Vec<Pending>)]) -> Result<ProduceRequest, CliError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut data = Vec::new();
        for (partition, records) in batches {
            let encoded: Vec<Record> = records
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut record = Record {
                        transactional: false,
                        control: false,
                        partition_leader_epoch: -1,
                        producer_id: -1,
                        producer_epoch: -1,
                        timestamp_type: TimestampType::Creation,
                        offset: i as i64,
                        // One batch needs offset - sequence constant; the base sequence is -1.
                        sequence: i as i32 - 1,
                        timestamp: now,
                        key: r.key.clone(),
                        value: Some(r.value.clone()),
                        headers: Default::default(),
                    };
                    for (k, v) in &self.headers {
                        record.headers.insert(
                            StrBytes::from_string(k.clone()),
                            Some(Bytes::from(v.clone())),
                        );
                    }
                    record
                })
                .collect();
            let mut buf = BytesMut::new();
            let options = RecordEncodeOptions {
                version: 2,
                compression: Compression::None,
            };
            RecordBatchEncoder::encode(&mut buf, encoded.iter(), &options)
                .map_err(|e| CliError::Io(format!("cannot encode a record batch: {e}")))?;
            data.push(
                PartitionProduceData::default()
                    .with_index(*partition)
                    .with_records(Some(buf.freeze())),
            );
        }
        Ok(ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(30_000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic_name(&self.topic))
                .with_partition_data(data)]))
    }

    /// The live counter on stderr, when it is a terminal (at most every 200 ms).
    fn show_counter(&mut self) {
        if let Some(last) = self.counter {
            if last.elapsed() >= Duration::from_millis(200) {
                let sent: u64 = self.acked.values().map(|a| a.count).sum();
                eprint!("\rproduced {sent} records, {} failed", self.failed);
                self.counter = Some(Instant::now());
            }
        }
    }

    fn finish(self, json: bool) -> Result<(), CliError> {
        if self.counter.is_some() {
            eprint!("\r\x1b[K");
        }
        let produced: u64 = self.acked.values().map(|a| a.count).sum();
        if json {
            let partitions: Vec<_> = self
                .acked
                .iter()
                .map(|(p, a)| {
                    json!({
                        "partition": p,
                        "records": a.count,
                        "first_offset": a.first,
                        "last_offset": a.last,
                    })
                })
                .collect();
            output::json(&json!({
                "topic": self.topic,
                "produced": produced,
                "failed": self.failed,
                "partitions": partitions,
            }));
        } else {
            let mut table = Table::new(&[
                "TOPIC",
                "PARTITION",
                "RECORDS",
                "FIRST-OFFSET",
                "LAST-OFFSET",
            ]);
            for (p, a) in &self.acked {
                table.row(vec![
                    self.topic.clone(),
                    p.to_string(),
                    a.count.to_string(),
                    output::offset(a.first),
                    output::offset(a.last),
                ]);
            }
            if !table.is_empty() {
                table.print();
            }
            eprintln!("Produced {produced} records, {} failed.", self.failed);
        }
        match (self.failed, self.first_error) {
            (0, _) | (_, None) => Ok(()),
            (failed, Some(first)) => Err(CliError::Failed(format!(
                "{failed} of {} records failed (the first: {first})",
                produced + failed
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka() {
        // Kafka's UtilsTest.testMurmur2.
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"foobar"), -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1486304829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58897971
        );
        assert_eq!(murmur2(b"abc"), 479470107);
    }

    #[test]
    fn keys_pick_partitions_like_kafka() {
        for key in [&b"a"[..], b"key-1", b"", b"\xff\xfe"] {
            let p = partition_for_key(key, 7);
            assert!((0..7).contains(&p));
            assert_eq!(p, (murmur2(key) & 0x7fff_ffff) % 7);
        }
    }
}
