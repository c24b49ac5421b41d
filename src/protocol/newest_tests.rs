#![allow(clippy::unwrap_used)]

use kafka_protocol::messages::ApiKey;

use super::*;

fn old_bytes<T: Encodable>(value: &T, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    value.encode(&mut buf, version).unwrap();
    buf.freeze()
}

fn next_bytes<T: NextEncodable>(value: &T, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    value.encode(&mut buf, version).unwrap();
    buf.freeze()
}

#[test]
fn plans() {
    use ApiKey::*;
    let table = [
        (Produce, 0, Plan::Native),
        (Produce, 11, Plan::Native),
        (Produce, 12, Plan::As(11)),
        (Produce, 13, Plan::Bridge(11)),
        (Fetch, 17, Plan::Native),
        (Fetch, 18, Plan::As(17)),
        (Metadata, 12, Plan::Native),
        (Metadata, 13, Plan::Bridge(12)),
        (ListOffsets, 0, Plan::Native),
        (ListOffsets, 10, Plan::Bridge(9)),
        (OffsetCommit, 9, Plan::Native),
    ];
    for (key, version, want) in table {
        assert_eq!(plan(key, version), want, "{key:?} v{version}");
    }
}

/// "As vN" is sound only if the wire version's bytes are vN's: a request the newer codec
/// writes at the wire version is read whole by the older one at vN, and the older one's
/// answer at vN is read whole, and written back identically, by the newer one.
#[test]
fn same_bytes_as_the_version_below() {
    use next::fetch_request::*;
    // Produce v12 = v11, both ways.
    let req = next::ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5)
        .with_topic_data(vec![next::produce_request::TopicProduceData::default()
            .with_name(next::TopicName(NextStrBytes::from_static_str("t")))
            .with_partition_data(vec![
                next::produce_request::PartitionProduceData::default()
                    .with_index(3)
                    .with_records(Some(Bytes::from_static(b"records"))),
            ])]);
    let mut wire = next_bytes(&req, 12);
    let read = old::ProduceRequest::decode(&mut wire, 11).unwrap();
    assert!(wire.is_empty());
    assert_eq!(read.topic_data[0].name.as_str(), "t");
    assert_eq!(
        read.topic_data[0].partition_data[0].records.as_deref(),
        Some(&b"records"[..])
    );
    let resp = old::ProduceResponse::default()
        .with_throttle_time_ms(7)
        .with_responses(vec![old::produce_response::TopicProduceResponse::default()
            .with_name(old::TopicName(StrBytes::from_static_str("t")))
            .with_partition_responses(vec![
                old::produce_response::PartitionProduceResponse::default()
                    .with_index(3)
                    .with_base_offset(42)
                    .with_error_message(Some(StrBytes::from_static_str("m"))),
            ])]);
    let wire = old_bytes(&resp, 11);
    let mut buf = wire.clone();
    let read = next::ProduceResponse::decode(&mut buf, 12).unwrap();
    assert!(buf.is_empty());
    assert_eq!(read.responses[0].partition_responses[0].base_offset, 42);
    assert_eq!(next_bytes(&read, 12), wire);

    // Fetch v18 = v17 but for a tagged field, which the older codec keeps as unknown.
    let req = next::FetchRequest::default()
        .with_max_wait_ms(500)
        .with_topics(vec![FetchTopic::default()
            .with_topic_id(Uuid::from_u128(9))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(1)
                .with_fetch_offset(10)
                .with_high_watermark(40)])]);
    let mut wire = next_bytes(&req, 18);
    let read = old::FetchRequest::decode(&mut wire, 17).unwrap();
    assert!(wire.is_empty());
    let p = &read.topics[0].partitions[0];
    assert_eq!((p.partition, p.fetch_offset), (1, 10));
    assert!(p.unknown_tagged_fields.contains_key(&1));
    let resp = old::FetchResponse::default()
        .with_session_id(4)
        .with_responses(vec![old::fetch_response::FetchableTopicResponse::default()
            .with_topic_id(Uuid::from_u128(9))
            .with_partitions(vec![old::fetch_response::PartitionData::default()
                .with_partition_index(1)
                .with_high_watermark(40)
                .with_records(Some(Bytes::from_static(b"batches")))])]);
    let wire = old_bytes(&resp, 17);
    let mut buf = wire.clone();
    let read = next::FetchResponse::decode(&mut buf, 18).unwrap();
    assert!(buf.is_empty());
    assert_eq!(read.responses[0].partitions[0].high_watermark, 40);
    assert_eq!(next_bytes(&read, 18), wire);

    // ListOffsets v10's answer = v9's.
    let resp = old::ListOffsetsResponse::default().with_topics(vec![
        old::list_offsets_response::ListOffsetsTopicResponse::default()
            .with_name(old::TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![
                old::list_offsets_response::ListOffsetsPartitionResponse::default()
                    .with_partition_index(2)
                    .with_offset(99),
            ]),
    ]);
    let wire = old_bytes(&resp, 9);
    let mut buf = wire.clone();
    let read = next::ListOffsetsResponse::decode(&mut buf, 10).unwrap();
    assert!(buf.is_empty());
    assert_eq!(read.topics[0].partitions[0].offset, 99);
    assert_eq!(next_bytes(&read, 10), wire);
}

#[test]
fn produce_v13_resolves_ids_and_moves_records() {
    use next::produce_request::*;
    let known = Uuid::from_u128(1);
    let gone = Uuid::from_u128(2);
    let records = Bytes::from_static(b"a record batch");
    let part = |i: i32| {
        PartitionProduceData::default()
            .with_index(i)
            .with_records(Some(records.clone()))
    };
    let req = next::ProduceRequest::default()
        .with_transactional_id(Some(next::TransactionalId(NextStrBytes::from_static_str(
            "tx",
        ))))
        .with_acks(-1)
        .with_timeout_ms(3000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_topic_id(gone)
                .with_partition_data(vec![part(0), part(5)]),
            TopicProduceData::default()
                .with_topic_id(known)
                .with_partition_data(vec![part(1), part(2)]),
        ]);
    let (old_req, ids) = produce_request(req, |id| (id == known).then(|| "orders".to_owned()));
    assert_eq!(old_req.acks, -1);
    assert_eq!(old_req.timeout_ms, 3000);
    assert_eq!(old_req.transactional_id.as_ref().unwrap().0.as_str(), "tx");
    assert_eq!(old_req.topic_data.len(), 1);
    let topic = &old_req.topic_data[0];
    assert_eq!(topic.name.as_str(), "orders");
    assert_eq!(
        topic
            .partition_data
            .iter()
            .map(|p| p.index)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    // Not copied: the same buffer.
    assert_eq!(
        topic.partition_data[0].records.as_ref().unwrap().as_ptr(),
        records.as_ptr()
    );

    let answer = old::ProduceResponse::default()
        .with_throttle_time_ms(0)
        .with_responses(vec![old::produce_response::TopicProduceResponse::default()
            .with_name(old::TopicName(StrBytes::from_static_str("orders")))
            .with_partition_responses(
                [1, 2]
                    .map(|i| {
                        old::produce_response::PartitionProduceResponse::default()
                            .with_index(i)
                            .with_base_offset(10 * i64::from(i))
                            .with_log_start_offset(0)
                            .with_log_append_time_ms(-1)
                            .with_record_errors(vec![
                                old::produce_response::BatchIndexAndErrorMessage::default()
                                    .with_batch_index(0)
                                    .with_batch_index_error_message(Some(
                                        StrBytes::from_static_str("bad"),
                                    )),
                            ])
                            .with_current_leader(
                                old::produce_response::LeaderIdAndEpoch::default()
                                    .with_leader_id(old::BrokerId(4))
                                    .with_leader_epoch(6),
                            )
                    })
                    .to_vec(),
            )])
        .with_node_endpoints(vec![old::produce_response::NodeEndpoint::default()
            .with_node_id(old::BrokerId(4))
            .with_host(StrBytes::from_static_str("127.0.0.4"))
            .with_port(9092)]);
    let v13 = ids.response(answer);
    // Written at v13 and read back: what the client sees.
    let mut wire = next_bytes(&v13, 13);
    let seen = next::ProduceResponse::decode(&mut wire, 13).unwrap();
    assert!(wire.is_empty());
    assert_eq!(seen.responses.len(), 2);
    let orders = &seen.responses[0];
    assert_eq!(orders.topic_id, known);
    let p2 = &orders.partition_responses[1];
    assert_eq!((p2.index, p2.error_code, p2.base_offset), (2, 0, 20));
    assert_eq!(p2.log_append_time_ms, -1);
    assert_eq!(
        p2.record_errors[0].batch_index_error_message.as_deref(),
        Some("bad")
    );
    assert_eq!(p2.current_leader.leader_id.0, 4);
    assert_eq!(p2.current_leader.leader_epoch, 6);
    let unknown = &seen.responses[1];
    assert_eq!(unknown.topic_id, gone);
    let codes: Vec<_> = unknown
        .partition_responses
        .iter()
        .map(|p| (p.index, p.error_code, p.base_offset))
        .collect();
    assert_eq!(codes, [(0, 100, -1), (5, 100, -1)]);
    assert_eq!(seen.node_endpoints[0].host.as_str(), "127.0.0.4");
    assert_eq!(seen.node_endpoints[0].port, 9092);
}

#[test]
fn metadata_v13_is_v12_plus_a_top_level_error_code() {
    let resp = old::MetadataResponse::default()
        .with_cluster_id(Some(StrBytes::from_static_str("c")))
        .with_controller_id(old::BrokerId(1))
        .with_brokers(vec![
            old::metadata_response::MetadataResponseBroker::default()
                .with_node_id(old::BrokerId(1))
                .with_host(StrBytes::from_static_str("127.0.0.1"))
                .with_port(9092),
        ])
        .with_topics(vec![
            old::metadata_response::MetadataResponseTopic::default()
                .with_name(Some(old::TopicName(StrBytes::from_static_str("t"))))
                .with_topic_id(Uuid::from_u128(3))
                .with_partitions(vec![
                    old::metadata_response::MetadataResponsePartition::default()
                        .with_partition_index(0)
                        .with_leader_id(old::BrokerId(1))
                        .with_replica_nodes(vec![old::BrokerId(1)])
                        .with_isr_nodes(vec![old::BrokerId(1)]),
                ]),
        ]);
    let v13 = metadata_response(&resp).unwrap();
    let wire = next_bytes(&v13, 13);
    // v12's bytes, then the error code (0) before the final tagged-fields count.
    let v12 = old_bytes(&resp, 12);
    assert_eq!(wire.len(), v12.len() + 2);
    assert_eq!(&wire[..v12.len() - 1], &v12[..v12.len() - 1]);
    assert_eq!(&wire[v12.len() - 1..], &[0, 0, 0]);
    let mut buf = wire;
    let seen = next::MetadataResponse::decode(&mut buf, 13).unwrap();
    assert_eq!(seen.error_code, 0);
    assert_eq!(seen.topics[0].topic_id, Uuid::from_u128(3));
    assert_eq!(seen.brokers[0].port, 9092);
}

#[test]
fn list_offsets_v10_drops_only_the_timeout() {
    use next::list_offsets_request::*;
    let req = next::ListOffsetsRequest::default()
        .with_replica_id(next::BrokerId(-1))
        .with_isolation_level(1)
        .with_timeout_ms(30_000)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(next::TopicName(NextStrBytes::from_static_str("t")))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(4)
                .with_current_leader_epoch(2)
                .with_timestamp(-2)])]);
    let mut wire = next_bytes(&req, 10);
    let decoded = next::ListOffsetsRequest::decode(&mut wire, 10).unwrap();
    let old_req = list_offsets_request(&decoded).unwrap();
    assert_eq!(old_req.replica_id.0, -1);
    assert_eq!(old_req.isolation_level, 1);
    let p = &old_req.topics[0].partitions[0];
    assert_eq!(old_req.topics[0].name.as_str(), "t");
    assert_eq!(
        (p.partition_index, p.current_leader_epoch, p.timestamp),
        (4, 2, -2)
    );
}
