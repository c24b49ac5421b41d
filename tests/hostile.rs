#![allow(clippy::unwrap_used)]
//! Hostile and broken input, table-driven: every case gets Kafka's documented answer or a
//! closed connection, while a second, healthy client produces and fetches on its own
//! connection throughout and must see progress after every case and never an error.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use common::{
    batch, coordinator_ready, create_topic, eventually, fetch_request, records, start, topic_name,
    Client,
};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use kafka_protocol::records::Compression;
use tokio::net::TcpStream;

const TOPIC: &str = "target";

/// What a case must get back.
enum Expect {
    /// The broker closes the connection (a broken frame, header or body).
    Closed,
    /// A response; the checker gets its frame (correlation id first) and panics if it is
    /// not the documented one.
    Answer(fn(Bytes)),
}

struct Case {
    name: String,
    frame: Vec<u8>,
    expect: Expect,
}

fn case(name: impl Into<String>, frame: Vec<u8>, expect: Expect) -> Case {
    Case {
        name: name.into(),
        frame,
        expect,
    }
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(body.len() + 4);
    f.put_i32(body.len() as i32);
    f.extend_from_slice(body);
    f
}

/// A non-flexible request header (v1): key, version, correlation id 7, null client id.
fn header(key: i16, version: i16) -> Vec<u8> {
    let mut h = Vec::new();
    h.put_i16(key);
    h.put_i16(version);
    h.put_i32(7);
    h.put_i16(-1);
    h
}

/// Header and body of `req` at `version`, unframed.
fn body_of<R: Request>(req: &R, version: i16) -> Vec<u8> {
    let key = ApiKey::try_from(R::KEY).unwrap();
    let mut b = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("hostile")))
        .encode(&mut b, key.request_header_version(version))
        .unwrap();
    req.encode(&mut b, version).unwrap();
    b.to_vec()
}

fn frame_of<R: Request>(req: &R, version: i16) -> Vec<u8> {
    framed(&body_of(req, version))
}

/// Decodes a response frame of `R` at `version`, checking the correlation id.
fn answer<R: Request>(mut frame: Bytes, version: i16) -> R::Response {
    assert_eq!(frame.get_i32(), 7, "correlation id echoed");
    if <R::Response as HeaderVersion>::header_version(version) >= 1 {
        assert_eq!(frame.get_u8(), 0, "no response header tags");
    }
    R::Response::decode(&mut frame, version).unwrap()
}

fn produce_req(topic: &str, parts: Vec<(i32, Option<Bytes>)>, acks: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(topic))
            .with_partition_data(
                parts
                    .into_iter()
                    .map(|(i, r)| {
                        PartitionProduceData::default()
                            .with_index(i)
                            .with_records(r)
                    })
                    .collect(),
            )])
}

/// One valid uncompressed batch for [`TOPIC`].
fn good_batch() -> Vec<u8> {
    batch(&[b"hostile"], Compression::None).to_vec()
}

/// A batch with header field bytes at `pos` replaced, the CRC recomputed when `fix_crc`.
fn tampered(pos: usize, bytes: &[u8], fix_crc: bool) -> Bytes {
    let mut b = good_batch();
    b[pos..pos + bytes.len()].copy_from_slice(bytes);
    if fix_crc {
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
    }
    Bytes::from(b)
}

/// A Produce v9 case for one partition of [`TOPIC`].
fn produce_case(name: &str, records: Option<Bytes>, check: fn(Bytes)) -> Case {
    case(
        name,
        frame_of(&produce_req(TOPIC, vec![(0, records)], -1), 9),
        Expect::Answer(check),
    )
}

/// The error codes of every partition in a Produce v9 answer.
fn produce_codes(frame: Bytes) -> Vec<i16> {
    answer::<ProduceRequest>(frame, 9)
        .responses
        .iter()
        .flat_map(|t| t.partition_responses.iter().map(|p| p.error_code))
        .collect()
}

fn fetch_codes(frame: Bytes, version: i16) -> Vec<i16> {
    answer::<FetchRequest>(frame, version)
        .responses
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
        .collect()
}

fn fetch_at(partition: i32, offset: i64) -> Vec<u8> {
    frame_of(&fetch_request(TOPIC, partition, offset, 0), 12)
}

fn list_offsets_req(partitions: &[i32]) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partitions(
                partitions
                    .iter()
                    .map(|p| {
                        ListOffsetsPartition::default()
                            .with_partition_index(*p)
                            .with_timestamp(-1)
                    })
                    .collect(),
            )])
}

fn create_topics_req(topics: Vec<CreatableTopic>) -> CreateTopicsRequest {
    CreateTopicsRequest::default()
        .with_topics(topics)
        .with_timeout_ms(5000)
}

fn creatable(name: &str, partitions: i32, replication: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(partitions)
        .with_replication_factor(replication)
}

fn create_codes(frame: Bytes) -> Vec<i16> {
    answer::<CreateTopicsRequest>(frame, 7)
        .topics
        .iter()
        .map(|t| t.error_code)
        .collect()
}

fn join_req(group: &str, session_timeout: i32) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_session_timeout_ms(session_timeout)
        .with_rebalance_timeout_ms(10_000)
        .with_protocol_type(StrBytes::from_static_str("consumer"))
        .with_protocols(vec![
            JoinGroupRequestProtocol::default().with_name(StrBytes::from_static_str("range"))
        ])
}

/// Every case of the table.
fn cases() -> Vec<Case> {
    use Expect::*;
    let mut cs = vec![
        // Frame sizes.
        case("frame size 0", 0i32.to_be_bytes().to_vec(), Closed),
        case("frame size -1", (-1i32).to_be_bytes().to_vec(), Closed),
        case(
            "frame size i32::MIN",
            i32::MIN.to_be_bytes().to_vec(),
            Closed,
        ),
        case(
            "frame size i32::MAX",
            i32::MAX.to_be_bytes().to_vec(),
            Closed,
        ),
        case(
            "frame one byte over socket.request.max.bytes",
            (100 * 1024 * 1024 + 1i32).to_be_bytes().to_vec(),
            Closed,
        ),
        // Headers.
        case("header cut after the api key", framed(&[0, 3, 0]), Closed),
        case("unknown api key 999", framed(&header(999, 0)), Closed),
        case("negative api key", framed(&header(-1, 0)), Closed),
        case(
            "api key weir does not serve (57)",
            framed(&header(57, 0)),
            Closed,
        ),
        case("negative api version", framed(&header(3, -1)), Closed),
        case(
            "client id longer than the frame",
            framed(&{
                let mut b = header(3, 1);
                b.truncate(8);
                b.put_i16(40);
                b
            }),
            Closed,
        ),
        case(
            "client id length -2",
            framed(&{
                let mut b = header(3, 1);
                b.truncate(8);
                b.put_i16(-2);
                b
            }),
            Closed,
        ),
        case(
            "flexible header: tagged field count beyond the frame",
            framed(&{
                let mut b = header(18, 3);
                b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
                b
            }),
            Closed,
        ),
        case(
            "flexible header: tagged field size beyond the frame",
            framed(&{
                let mut b = header(18, 3);
                b.extend_from_slice(&[1, 0, 0xe8, 0x07]); // one field, tag 0, 1000 bytes
                b
            }),
            Closed,
        ),
        case(
            "varint of more than 5 bytes",
            framed(&{
                let mut b = header(18, 3);
                b.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
                b
            }),
            Closed,
        ),
        // Bodies.
        case(
            "array length 0x7fffffff (Metadata v0)",
            framed(&{
                let mut b = header(3, 0);
                b.put_i32(i32::MAX);
                b
            }),
            Closed,
        ),
        case(
            "compact array length 2^32-2 (Metadata v12)",
            framed(&{
                let mut b = body_of(&MetadataRequest::default().with_topics(None), 12);
                let n = b.len();
                b.truncate(n - 4); // topics (null), allow auto create, include authorized ops, tags
                b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
                b
            }),
            Closed,
        ),
        case(
            "compact string length beyond the frame (Metadata v12 topic name)",
            framed(&{
                let mut b = body_of(&MetadataRequest::default().with_topics(None), 12);
                let n = b.len();
                b.truncate(n - 4);
                // One topic: a topic id, then a name of 2^20 bytes that is not there.
                b.push(2);
                b.extend_from_slice(&[0u8; 16]);
                b.extend_from_slice(&[0x81, 0x80, 0x40]);
                b
            }),
            Closed,
        ),
        case(
            "negative string length (Metadata v1 topic name -5)",
            framed(&{
                let mut b = header(3, 1);
                b.put_i32(1);
                b.put_i16(-5);
                b
            }),
            Closed,
        ),
        case(
            "truncated body (Metadata v1: 5 topics announced, none sent)",
            framed(&{
                let mut b = header(3, 1);
                b.put_i32(5);
                b
            }),
            Closed,
        ),
        case(
            "over-long body: bytes after a whole request are ignored, as by Kafka",
            framed(&{
                let mut b = body_of(&MetadataRequest::default().with_topics(None), 1);
                b.extend_from_slice(b"trailing garbage");
                b
            }),
            Answer(|f| assert_eq!(answer::<MetadataRequest>(f, 1).brokers.len(), 1)),
        ),
        case(
            "ApiVersions v0 with garbage instead of an empty body",
            framed(&{
                let mut b = header(18, 0);
                b.extend_from_slice(&[0xde, 0xad]);
                b
            }),
            Answer(|f| assert_eq!(answer::<ApiVersionsRequest>(f, 0).error_code, 0)),
        ),
        // Record batches (Produce v9).
        produce_case(
            "batch with a bad CRC",
            Some(tampered(17, &[0, 0, 0, 0], false)),
            |f| assert_eq!(produce_codes(f), [2]),
        ),
        produce_case("batch with magic 1", Some(tampered(16, &[1], false)), |f| {
            assert_eq!(produce_codes(f), [87])
        }),
        produce_case(
            "record count larger than the batch can hold",
            Some(tampered(57, &1000i32.to_be_bytes(), true)),
            |f| assert_eq!(produce_codes(f), [2]),
        ),
        produce_case(
            "record count 0",
            Some(tampered(57, &0i32.to_be_bytes(), true)),
            |f| assert_eq!(produce_codes(f), [2]),
        ),
        produce_case(
            "negative record count",
            Some(tampered(57, &(-3i32).to_be_bytes(), true)),
            |f| assert_eq!(produce_codes(f), [2]),
        ),
        produce_case(
            "negative last offset delta",
            Some(tampered(23, &(-1i32).to_be_bytes(), true)),
            |f| assert_eq!(produce_codes(f), [2]),
        ),
        produce_case(
            "batch length beyond the bytes sent",
            Some(tampered(8, &10_000i32.to_be_bytes(), false)),
            |f| assert_eq!(produce_codes(f), [2]),
        ),
        produce_case(
            "negative batch length",
            Some(tampered(8, &(-20i32).to_be_bytes(), false)),
            |f| assert_eq!(produce_codes(f), [2]),
        ),
        produce_case(
            "unknown compression codec 7",
            Some(tampered(22, &[7], true)),
            |f| assert_eq!(produce_codes(f), [87]),
        ),
        produce_case(
            "two batches for one partition",
            Some(Bytes::from([good_batch(), good_batch()].concat())),
            |f| assert_eq!(produce_codes(f), [87]),
        ),
        produce_case("null records", None, |f| assert_eq!(produce_codes(f), [87])),
        case(
            "zstd batch in Produce v6",
            frame_of(
                &produce_req(
                    TOPIC,
                    vec![(0, Some(batch(&[b"z"], Compression::Zstd)))],
                    -1,
                ),
                6,
            ),
            Answer(|f| {
                let r = answer::<ProduceRequest>(f, 6);
                assert_eq!(r.responses[0].partition_responses[0].error_code, 43);
            }),
        ),
        case(
            "acks 2",
            frame_of(
                &produce_req(TOPIC, vec![(0, Some(batch(&[b"a"], Compression::None)))], 2),
                9,
            ),
            Answer(|f| assert_eq!(produce_codes(f), [21])),
        ),
        case(
            "produce to a negative partition id",
            frame_of(
                &produce_req(TOPIC, vec![(-1, Some(Bytes::from(good_batch())))], -1),
                9,
            ),
            Answer(|f| assert_eq!(produce_codes(f), [3])),
        ),
        case(
            "produce to a partition beyond the topic",
            frame_of(
                &produce_req(TOPIC, vec![(7, Some(Bytes::from(good_batch())))], -1),
                9,
            ),
            Answer(|f| assert_eq!(produce_codes(f), [3])),
        ),
        case(
            "produce to an empty topic name",
            frame_of(
                &produce_req("", vec![(0, Some(Bytes::from(good_batch())))], -1),
                9,
            ),
            Answer(|f| assert_eq!(produce_codes(f), [17])),
        ),
        case(
            "produce to an overlong topic name",
            frame_of(
                &produce_req(
                    &"t".repeat(250),
                    vec![(0, Some(Bytes::from(good_batch())))],
                    -1,
                ),
                9,
            ),
            Answer(|f| assert_eq!(produce_codes(f), [17])),
        ),
        case(
            "duplicate partitions in one Produce",
            frame_of(
                &produce_req(
                    TOPIC,
                    vec![
                        (1, Some(Bytes::from(good_batch()))),
                        (1, Some(Bytes::from(good_batch()))),
                        (0, Some(Bytes::from(good_batch()))),
                    ],
                    -1,
                ),
                9,
            ),
            Answer(|f| assert_eq!(produce_codes(f), [42, 42, 0])),
        ),
        // Fetch.
        case(
            "fetch at a negative offset",
            fetch_at(0, -5),
            Answer(|f| assert_eq!(fetch_codes(f, 12), [1])),
        ),
        case(
            "fetch beyond the log end",
            fetch_at(0, 1 << 40),
            Answer(|f| assert_eq!(fetch_codes(f, 12), [1])),
        ),
        case(
            "fetch a negative partition id",
            fetch_at(-3, 0),
            Answer(|f| assert_eq!(fetch_codes(f, 12), [3])),
        ),
        case(
            "fetch an unknown topic id (v13)",
            {
                let mut req = fetch_request(TOPIC, 0, 0, 0);
                req.topics[0].topic_id = uuid::Uuid::from_u128(0xdead_beef);
                frame_of(&req, 13)
            },
            Answer(|f| assert_eq!(fetch_codes(f, 13), [100])),
        ),
        // ListOffsets, DeleteRecords, Metadata.
        case(
            "duplicate partitions in one ListOffsets",
            frame_of(&list_offsets_req(&[0, 0, 1]), 7),
            Answer(|f| {
                let r = answer::<ListOffsetsRequest>(f, 7);
                let codes: Vec<i16> = r.topics[0]
                    .partitions
                    .iter()
                    .map(|p| p.error_code)
                    .collect();
                assert_eq!(codes, [42, 42, 0]);
            }),
        ),
        case(
            "list offsets of a negative partition id",
            frame_of(&list_offsets_req(&[-1]), 7),
            Answer(|f| {
                let r = answer::<ListOffsetsRequest>(f, 7);
                assert_eq!(r.topics[0].partitions[0].error_code, 3);
            }),
        ),
        case(
            "delete records below -1",
            frame_of(
                &DeleteRecordsRequest::default()
                    .with_timeout_ms(5000)
                    .with_topics(vec![DeleteRecordsTopic::default()
                        .with_name(topic_name(TOPIC))
                        .with_partitions(vec![DeleteRecordsPartition::default()
                            .with_partition_index(0)
                            .with_offset(-7)])]),
                2,
            ),
            Answer(|f| {
                let r = answer::<DeleteRecordsRequest>(f, 2);
                assert_eq!(r.topics[0].partitions[0].error_code, 1);
            }),
        ),
        case(
            "metadata for an unknown topic id (v12)",
            frame_of(
                &MetadataRequest::default()
                    .with_topics(Some(vec![MetadataRequestTopic::default()
                        .with_name(None)
                        .with_topic_id(uuid::Uuid::from_u128(42))])),
                12,
            ),
            Answer(|f| {
                let r = answer::<MetadataRequest>(f, 12);
                assert_eq!(r.topics[0].error_code, 100);
            }),
        ),
        // Topic administration.
        case(
            "create a topic with an empty name",
            frame_of(&create_topics_req(vec![creatable("", 1, 1)]), 7),
            Answer(|f| assert_eq!(create_codes(f), [17])),
        ),
        case(
            "create a topic with a 250-character name",
            frame_of(
                &create_topics_req(vec![creatable(&"n".repeat(250), 1, 1)]),
                7,
            ),
            Answer(|f| assert_eq!(create_codes(f), [17])),
        ),
        case(
            "create a topic with 0 partitions",
            frame_of(
                &create_topics_req(vec![creatable("zero-partitions", 0, 1)]),
                7,
            ),
            Answer(|f| assert_eq!(create_codes(f), [37])),
        ),
        case(
            "create a topic with replication factor 3 on one broker",
            frame_of(&create_topics_req(vec![creatable("rf3", 1, 3)]), 7),
            Answer(|f| assert_eq!(create_codes(f), [38])),
        ),
        case(
            "the same topic twice in one CreateTopics",
            frame_of(
                &create_topics_req(vec![creatable("twice", 1, 1), creatable("twice", 1, 1)]),
                7,
            ),
            Answer(|f| assert_eq!(create_codes(f), [42, 42])),
        ),
        case(
            "create partitions: fewer than the topic has",
            frame_of(
                &CreatePartitionsRequest::default()
                    .with_timeout_ms(5000)
                    .with_topics(vec![CreatePartitionsTopic::default()
                        .with_name(topic_name(TOPIC))
                        .with_count(1)]),
                3,
            ),
            Answer(|f| {
                let r = answer::<CreatePartitionsRequest>(f, 3);
                assert_eq!(r.results[0].error_code, 37);
            }),
        ),
        // Groups.
        case(
            "join a group with an empty group id",
            frame_of(&join_req("", 10_000), 9),
            Answer(|f| assert_eq!(answer::<JoinGroupRequest>(f, 9).error_code, 24)),
        ),
        case(
            "join with a session timeout below the minimum",
            frame_of(&join_req("hostile-group", 1), 9),
            Answer(|f| assert_eq!(answer::<JoinGroupRequest>(f, 9).error_code, 26)),
        ),
        case(
            "commit an offset for a negative partition id",
            frame_of(
                &OffsetCommitRequest::default()
                    .with_group_id(GroupId(StrBytes::from_static_str("hostile-commit")))
                    .with_generation_id_or_member_epoch(-1)
                    .with_topics(vec![OffsetCommitRequestTopic::default()
                        .with_name(topic_name(TOPIC))
                        .with_partitions(vec![OffsetCommitRequestPartition::default()
                            .with_partition_index(-1)
                            .with_committed_offset(3)])]),
                8,
            ),
            Answer(|f| {
                let r = answer::<OffsetCommitRequest>(f, 8);
                assert_eq!(r.topics[0].partitions[0].error_code, 3);
            }),
        ),
    ];
    // Every API one version past the newest served: closed, but ApiVersions, which answers
    // UNSUPPORTED_VERSION with the supported ranges (KIP-511).
    for (key, max) in served_apis() {
        let expect = if key == 18 {
            Answer(|f| {
                let r = answer::<ApiVersionsRequest>(f, 0);
                assert_eq!(r.error_code, 35);
                let own = r.api_keys.iter().find(|k| k.api_key == 18).unwrap();
                assert_eq!((own.min_version, own.max_version), (0, 4));
            })
        } else {
            Closed
        };
        cs.push(case(
            format!("api key {key} at unsupported version {}", max + 1),
            framed(&header(key, max + 1)),
            expect,
        ));
    }
    for (key, min) in weir::handlers::APIS.iter().map(|s| (s.key as i16, s.min)) {
        if min > 0 {
            cs.push(case(
                format!("api key {key} at unsupported version {}", min - 1),
                framed(&header(key, min - 1)),
                Closed,
            ));
        }
    }
    cs
}

/// (key, newest version) of every API in the broker's registry; the test checks that
/// ApiVersions advertises exactly these.
fn served_apis() -> Vec<(i16, i16)> {
    weir::handlers::APIS
        .iter()
        .map(|s| (s.key as i16, s.max))
        .collect()
}

/// Produces and fetches back on its own connection until `stop`, counting round trips.
async fn healthy_traffic(addr: SocketAddr, stop: Arc<AtomicBool>, done: Arc<AtomicU64>) {
    let mut c = Client::from_stream(TcpStream::connect(addr).await.unwrap());
    let mut expected_offset = 0;
    while !stop.load(Ordering::Acquire) {
        let value = format!("healthy-{expected_offset}");
        let (err, offset) = common::produce(
            &mut c,
            "healthy",
            0,
            batch(&[value.as_bytes()], Compression::None),
            9,
        )
        .await;
        assert_eq!((err, offset), (0, expected_offset), "healthy produce");
        let resp = c.send(&fetch_request("healthy", 0, offset, 0), 12).await;
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0, "healthy fetch");
        let got = records(p.records.clone().unwrap_or_default());
        assert_eq!(
            got[0],
            (offset, Bytes::from(value)),
            "healthy fetch returns the record"
        );
        expected_offset += 1;
        done.fetch_add(1, Ordering::Release);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_kafkas_answer_and_nobody_else_notices() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut admin = Client::connect(&broker).await;
    create_topic(&mut admin, "healthy", 1).await;
    create_topic(&mut admin, TOPIC, 2).await;
    // Group requests reach the coordinator checks only once the groups' coordinator is
    // loaded (before that they get NOT_COORDINATOR, as in Kafka).
    for group in ["hostile-group", "hostile-commit"] {
        coordinator_ready(&mut admin, group).await;
    }

    // The registry's table is what ApiVersions advertises.
    let advertised = admin.send(&ApiVersionsRequest::default(), 3).await;
    let mut from_wire: Vec<(i16, i16)> = advertised
        .api_keys
        .iter()
        .map(|k| (k.api_key, k.max_version))
        .collect();
    from_wire.sort_unstable();
    let mut table = served_apis();
    table.sort_unstable();
    assert_eq!(from_wire, table);

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let traffic = tokio::spawn(healthy_traffic(
        broker.local_addr,
        stop.clone(),
        done.clone(),
    ));

    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for c in cases {
        let mut bad = Client::connect(&broker).await;
        bad.write_raw(&c.frame).await;
        match c.expect {
            Expect::Closed => assert!(bad.is_closed().await, "{}: connection closed", c.name),
            Expect::Answer(check) => {
                let frame = bad.read_frame().await;
                let frame = frame.unwrap_or_else(|| panic!("{}: answered", c.name));
                let name = c.name.clone();
                let r = std::panic::catch_unwind(|| check(frame));
                assert!(r.is_ok(), "{name}: documented answer");
            }
        }
        let before = done.load(Ordering::Acquire);
        eventually(
            &format!("healthy client progresses after '{}'", c.name),
            || {
                let done = done.clone();
                let traffic_alive = !traffic.is_finished();
                async move { !traffic_alive || done.load(Ordering::Acquire) > before }
            },
        )
        .await;
        assert!(
            !traffic.is_finished(),
            "healthy client failed during '{}'",
            c.name
        );
    }
    // A frame announced but cut short, then the socket closed: nobody notices.
    let mut cut = Client::connect(&broker).await;
    let mut partial = Vec::new();
    partial.put_i32(100);
    partial.extend_from_slice(&header(3, 1));
    cut.write_raw(&partial).await;
    drop(cut);
    let before = done.load(Ordering::Acquire);
    eventually("healthy client progresses after a cut frame", || {
        let done = done.clone();
        async move { done.load(Ordering::Acquire) > before }
    })
    .await;
    stop.store(true, Ordering::Release);
    traffic.await.unwrap();

    // Nothing was appended for the refused entries: the target's partition 1 holds nothing
    // (the duplicate entries were its only produce) and partition 0 only the accepted ones.
    let resp = admin.send(&list_offsets_req(&[0, 1]), 7).await;
    let ends: Vec<i64> = resp.topics[0].partitions.iter().map(|p| p.offset).collect();
    assert_eq!(ends, [1, 0], "only the accepted batch was appended");
    broker.shutdown().await;
}

/// Produces racing a DeleteTopics get either an acknowledgement (before the deletion) or
/// UNKNOWN_TOPIC_OR_PARTITION, never anything else; none acknowledged after the deletion
/// answered, and a topic created again under the name starts empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_to_a_topic_being_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut admin = Client::connect(&broker).await;
    for round in 0..5 {
        let topic = "doomed";
        create_topic(&mut admin, topic, 1).await;
        let deleted = Arc::new(AtomicBool::new(false));
        let mut producers = Vec::new();
        for _ in 0..3 {
            let addr = broker.local_addr;
            let deleted = deleted.clone();
            producers.push(tokio::spawn(async move {
                let mut c = Client::from_stream(TcpStream::connect(addr).await.unwrap());
                let mut acked = 0u32;
                loop {
                    let was_deleted = deleted.load(Ordering::Acquire);
                    let (err, _) = common::produce(
                        &mut c,
                        topic,
                        0,
                        batch(&[b"racing"], Compression::None),
                        9,
                    )
                    .await;
                    match err {
                        0 => {
                            assert!(!was_deleted, "acknowledged after the deletion answered");
                            acked += 1;
                        }
                        3 => return acked,
                        other => panic!("unexpected error {other}"),
                    }
                }
            }));
        }
        // Let the producers get going, then delete under them.
        eventually("producers appended", || {
            let c = Client::connect(&broker);
            async move {
                let mut c = c.await;
                common::list_offset(&mut c, topic, -1).await.1 > 10
            }
        })
        .await;
        let resp = admin
            .send(
                &DeleteTopicsRequest::default()
                    .with_topic_names(vec![topic_name(topic)])
                    .with_timeout_ms(5000),
                4,
            )
            .await;
        assert_eq!(resp.responses[0].error_code, 0, "round {round}");
        deleted.store(true, Ordering::Release);
        for p in producers {
            assert!(p.await.unwrap() > 0);
        }
        // Created again: empty.
        create_topic(&mut admin, topic, 1).await;
        assert_eq!(common::list_offset(&mut admin, topic, -1).await, (0, 0));
        let resp = admin
            .send(
                &DeleteTopicsRequest::default()
                    .with_topic_names(vec![topic_name(topic)])
                    .with_timeout_ms(5000),
                4,
            )
            .await;
        assert_eq!(resp.responses[0].error_code, 0);
    }
    broker.shutdown().await;
}
