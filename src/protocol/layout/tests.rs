#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use kafka_protocol::messages::ApiKey;

use super::samples::{default_body, full_body, kafka_decode};
use super::*;
use crate::handlers::APIS;

/// Every (API, version) weir serves.
fn served() -> impl Iterator<Item = (ApiKey, i16)> {
    APIS.iter()
        .flat_map(|spec| (spec.min..=spec.max).map(move |v| (spec.key, v)))
}

/// Walks `body`, returning the bytes consumed and the field visits.
fn trace(key: ApiKey, version: i16, body: &[u8]) -> (Result<usize, ProtocolError>, Vec<Mark>) {
    let mut w = Walker::new(key, version, body).unwrap();
    let r = w.run();
    (r, w.marks)
}

/// Every field reachable at `version` (through present fields only), by address.
fn reachable(fields: &'static [Field], version: i16, flexible: bool, out: &mut HashSet<usize>) {
    for field in fields.iter().filter(|f| f.present(version)) {
        if field.tag.is_some() && !flexible {
            continue;
        }
        out.insert(field as *const Field as usize);
        let mut ty = &field.ty;
        while let Ty::Array(elem) | Ty::NArray(elem) = ty {
            ty = elem;
        }
        if let Ty::Struct(inner) | Ty::OptStruct(inner) = ty {
            reachable(inner, version, flexible, out);
        }
    }
}

fn is_length(ty: &Ty) -> bool {
    matches!(
        ty,
        Ty::Str | Ty::NStr | Ty::Bytes | Ty::NBytes | Ty::Array(_) | Ty::NArray(_)
    )
}

/// `body` with the length prefix at `mark` replaced by `value`, encoded the field's way.
fn with_length(body: &[u8], mark: &Mark, value: i64) -> Vec<u8> {
    let mut out = body[..mark.at].to_vec();
    if mark.compact {
        let mut v = value as u32;
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    } else if matches!(mark.field.ty, Ty::Str | Ty::NStr) {
        out.extend_from_slice(&(value as i16).to_be_bytes());
    } else {
        out.extend_from_slice(&(value as i32).to_be_bytes());
    }
    out.extend_from_slice(&body[mark.at + mark.prefix..]);
    out
}

#[test]
fn every_served_version_has_a_layout() {
    for spec in APIS {
        let msg = message(spec.key).unwrap_or_else(|| panic!("no layout for {:?}", spec.key));
        assert!(
            msg.max >= spec.max,
            "{:?}: layout stops at v{}",
            spec.key,
            msg.max
        );
    }
    assert!(check(ApiKey::Metadata, 13, &[]).is_err());
    assert!(check(ApiKey::Metadata, -1, &[]).is_err());
}

#[test]
fn every_array_element_takes_at_least_one_byte() {
    fn visit(fields: &'static [Field], v: i16, flexible: bool, key: ApiKey) {
        for field in fields.iter().filter(|f| f.present(v)) {
            if let Ty::Array(elem) | Ty::NArray(elem) = field.ty {
                assert!(
                    min_size(elem, v, flexible) >= 1,
                    "{key:?} v{v} {}: an element can be empty",
                    field.name
                );
            }
            let mut ty = &field.ty;
            while let Ty::Array(elem) | Ty::NArray(elem) = ty {
                ty = elem;
            }
            if let Ty::Struct(inner) | Ty::OptStruct(inner) = ty {
                visit(inner, v, flexible, key);
            }
        }
    }
    for (key, v) in served() {
        let msg = message(key).unwrap();
        visit(msg.body, v, v >= msg.flexible, key);
    }
}

#[test]
fn the_19_byte_metadata_request_is_refused() {
    // Frame: size 15, Metadata v0, correlation 1, client id "a", topic count 0x7fffffff.
    let frame = [
        0, 0, 0, 15, 0, 3, 0, 0, 0, 0, 0, 1, 0, 1, b'a', 0x7f, 0xff, 0xff, 0xff,
    ];
    let body = &frame[15..];
    let err = check(ApiKey::Metadata, 0, body).unwrap_err().to_string();
    assert!(
        err.contains("Metadata v0 topics: array length 2147483647 exceeds the 0 bytes remaining"),
        "{err}"
    );
    // The compact form: Metadata v12, topic count varint 0xffffffff (n + 1).
    let err = check(ApiKey::Metadata, 12, &[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("array length 4294967294"), "{err}");
}

#[test]
fn full_samples_are_walked_exactly_and_completely() {
    for (key, v) in served() {
        let body = full_body(key, v);
        let (r, marks) = trace(key, v, &body);
        let used = r.unwrap_or_else(|e| panic!("{key:?} v{v} refused: {e}"));
        assert_eq!(
            used,
            body.len(),
            "{key:?} v{v}: walked {used} of {}",
            body.len()
        );
        assert_eq!(
            kafka_decode(key, v, &body),
            Some(body.len()),
            "{key:?} v{v}"
        );
        // The sample exercises every level: no empty array, no null, every field visited.
        for m in &marks {
            let what = format!("{key:?} v{v} {}: {:?}", m.field.name, m.seen);
            match m.field.ty {
                Ty::Array(_) | Ty::NArray(_) => {
                    assert!(matches!(m.seen, Seen::Len(n) if n > 0), "{what}")
                }
                Ty::NStr | Ty::NBytes => assert!(matches!(m.seen, Seen::Len(_)), "{what}"),
                Ty::OptStruct(_) => assert_eq!(m.seen, Seen::Value, "{what}"),
                _ => {}
            }
        }
        let msg = message(key).unwrap();
        let mut expected = HashSet::new();
        reachable(msg.body, v, v >= msg.flexible, &mut expected);
        let seen: HashSet<usize> = marks
            .iter()
            .map(|m| m.field as *const Field as usize)
            .collect();
        assert_eq!(seen, expected, "{key:?} v{v}: fields visited");
    }
}

#[test]
fn default_requests_are_walked_exactly() {
    for (key, v) in served() {
        let body = default_body(key, v);
        assert_eq!(
            walk(key, v, &body).unwrap_or_else(|e| panic!("{key:?} v{v} refused: {e}")),
            body.len(),
            "{key:?} v{v}"
        );
        assert_eq!(
            kafka_decode(key, v, &body),
            Some(body.len()),
            "{key:?} v{v}"
        );
    }
}

#[test]
fn impossible_lengths_are_refused() {
    let mut arrays = 0;
    for (key, v) in served() {
        let body = full_body(key, v);
        let (_, marks) = trace(key, v, &body);
        for m in marks.iter().filter(|m| is_length(&m.field.ty)) {
            let what = format!("{key:?} v{v} {}", m.field.name);
            if let Ty::Array(_) | Ty::NArray(_) = m.field.ty {
                arrays += 1;
                // Never handed to kafka-protocol: it would try to reserve the memory.
                let huge = with_length(&body, m, if m.compact { 0xffff_ffff } else { 0x7fff_ffff });
                let err = check(key, v, &huge).unwrap_err().to_string();
                let n = if m.compact {
                    0xffff_fffe_u32
                } else {
                    0x7fff_ffff
                };
                assert!(
                    err.contains(&format!("{}: array length {n} exceeds", m.field.name)),
                    "{what}: {err}"
                );
            } else {
                let huge = match m.field.ty {
                    _ if m.compact => 0xffff_ffff,
                    Ty::Str | Ty::NStr => 0x7fff,
                    _ => 0x7fff_ffff,
                };
                let huge = with_length(&body, m, huge);
                assert!(check(key, v, &huge).is_err(), "{what}: huge");
                assert!(kafka_decode(key, v, &huge).is_none(), "{what}: huge");
            }
            // Negative lengths other than the null marker; null where not nullable.
            let mut bad = vec![];
            if !m.compact {
                bad.push(with_length(&body, m, -2));
            }
            let nullable = matches!(m.field.ty, Ty::NStr | Ty::NBytes | Ty::NArray(_));
            if !nullable {
                bad.push(with_length(&body, m, if m.compact { 0 } else { -1 }));
            }
            for b in bad {
                assert!(check(key, v, &b).is_err(), "{what}: negative or null");
                assert!(
                    kafka_decode(key, v, &b).is_none(),
                    "{what}: negative or null"
                );
            }
        }
    }
    assert!(arrays > 200, "only {arrays} arrays tried");
}

#[test]
fn every_prefix_is_judged_as_kafka_protocol_judges_it() {
    for (key, v) in served() {
        for body in [full_body(key, v), default_body(key, v)] {
            for len in 0..body.len() {
                let prefix = &body[..len];
                let ours = walk(key, v, prefix).ok();
                let theirs = kafka_decode(key, v, prefix);
                assert_eq!(ours, theirs, "{key:?} v{v}: prefix of {len}/{}", body.len());
            }
        }
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Lengths a hostile or careless client might send.
#[rustfmt::skip]
const INTERESTING: &[i64] = &[
    -3, -2, -1, 0, 1, 2, 3, 4, 7, 8, 16, 63, 64, 127, 128, 255, 256, 0x3fff, 0x4000, 0x7fff,
    0x8000, 0xffff, 0x7fff_ffff, 0xffff_ffff,
];

fn mutate(rng: &mut Rng, body: &[u8], marks: &[Mark]) -> Vec<u8> {
    let mut out = body.to_vec();
    for _ in 0..1 + rng.below(3) {
        let lengths: Vec<&Mark> = marks
            .iter()
            .filter(|m| is_length(&m.field.ty) && m.at + m.prefix <= out.len())
            .collect();
        match rng.below(6) {
            0 if !lengths.is_empty() => {
                let m = lengths[rng.below(lengths.len())];
                let value = match rng.below(3) {
                    0 => INTERESTING[rng.below(INTERESTING.len())],
                    1 => rng.below(out.len() + 4) as i64,
                    _ => rng.next() as i32 as i64,
                };
                out = with_length(&out, m, value);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            2 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = [0, 0x7f, 0x80, 0xff, rng.next() as u8][rng.below(5)];
            }
            3 => out.truncate(rng.below(out.len() + 1)),
            4 => {
                let i = rng.below(out.len() + 1);
                out.insert(i, rng.next() as u8);
            }
            _ if !out.is_empty() => {
                out.remove(rng.below(out.len()));
            }
            _ => {}
        }
    }
    out
}

/// The array count in a refusal, if the refusal is for an impossible array length.
fn refused_count(err: &ProtocolError) -> Option<u64> {
    let text = err.to_string();
    let rest = &text[text.find("array length ")? + "array length ".len()..];
    rest.split(' ').next()?.parse().ok()
}

#[test]
fn mutations_never_refuse_what_kafka_protocol_accepts() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut both, mut only_ours, mut refused, mut skipped) = (0, 0, 0, 0);
    for (key, v) in served() {
        for base in [full_body(key, v), default_body(key, v)] {
            let (_, marks) = trace(key, v, &base);
            for _ in 0..400 {
                let body = mutate(&mut rng, &base, &marks);
                let what = format!("{key:?} v{v} {body:02x?}");
                match trace(key, v, &body) {
                    (Ok(used), marks) => {
                        // The invariant kafka-protocol's allocations rely on.
                        for m in &marks {
                            if let (Ty::Array(elem) | Ty::NArray(elem), Seen::Len(n)) =
                                (m.field.ty, m.seen)
                            {
                                let after = body.len() - (m.at + m.prefix);
                                let min = min_size(elem, v, m.compact) as u64;
                                assert!(
                                    n * min <= after as u64,
                                    "{what}: {} claims {n}",
                                    m.field.name
                                );
                            }
                        }
                        match kafka_decode(key, v, &body) {
                            Some(theirs) => {
                                assert_eq!(theirs, used, "{what}: consumed");
                                both += 1;
                            }
                            None => only_ours += 1,
                        }
                    }
                    (Err(e), _) if refused_count(&e).is_some() => {
                        // kafka-protocol would reserve memory for the impossible count (or
                        // for one nested in the elements it decodes before running out), so
                        // it is not asked. The refusal must be sound: holding counts only to
                        // the bytes remaining, the body must still fail.
                        let mut w = Walker::new(key, v, &body).unwrap();
                        w.lenient = true;
                        let lenient = w.run();
                        assert!(
                            lenient.is_err(),
                            "{what}: refused only for element size ({e})"
                        );
                        match lenient {
                            Err(e) if refused_count(&e).is_none() => {
                                assert_eq!(kafka_decode(key, v, &body), None, "{what}: ({e})");
                                refused += 1;
                            }
                            _ => skipped += 1,
                        }
                    }
                    (Err(e), _) => {
                        assert_eq!(
                            kafka_decode(key, v, &body),
                            None,
                            "{what}: we refused ({e})"
                        );
                        refused += 1;
                    }
                }
            }
        }
    }
    eprintln!("mutations: {both} accepted by both, {only_ours} only by us, {refused} refused by both, {skipped} impossible lengths");
    assert!(
        both > 1000 && refused > 1000 && skipped > 1000,
        "mutations too tame"
    );
}

/// The element type of the array reached by `path` (field names, each an array of structs
/// but the last) in `key`'s body.
fn element(key: ApiKey, path: &[&str]) -> &'static Ty {
    let mut fields = message(key).unwrap().body;
    let mut found = None;
    for name in path {
        let field = fields
            .iter()
            .find(|f| f.name == *name)
            .unwrap_or_else(|| panic!("{key:?}: no field {name}"));
        let (Ty::Array(elem) | Ty::NArray(elem)) = field.ty else {
            panic!("{key:?} {name}: not an array");
        };
        if let Ty::Struct(inner) = elem {
            fields = inner;
        }
        found = Some(elem);
    }
    found.unwrap()
}

/// `decoded_size` bounds what kafka-protocol's decoded array elements really take, for every
/// array of structs weir accepts (41) and two of strings, so the estimate `check` returns is
/// an upper bound.
#[test]
fn decoded_size_bounds_the_decoded_elements() {
    use kafka_protocol::messages::*;
    use std::mem::size_of;
    // API [the path of array fields] => the decoded element's type;
    macro_rules! cases {
        ($($key:ident [$($name:literal),+] => $ty:ty;)+) => {
            [$((ApiKey::$key, &[$($name),+][..], size_of::<$ty>())),+]
        };
    }
    let cases = cases! {
        Produce ["topic_data"] => produce_request::TopicProduceData;
        Produce ["topic_data", "partition_data"] => produce_request::PartitionProduceData;
        Fetch ["topics"] => fetch_request::FetchTopic;
        Fetch ["topics", "partitions"] => fetch_request::FetchPartition;
        Fetch ["forgotten_topics_data"] => fetch_request::ForgottenTopic;
        ListOffsets ["topics"] => list_offsets_request::ListOffsetsTopic;
        ListOffsets ["topics", "partitions"] => list_offsets_request::ListOffsetsPartition;
        Metadata ["topics"] => metadata_request::MetadataRequestTopic;
        OffsetCommit ["topics"] => offset_commit_request::OffsetCommitRequestTopic;
        OffsetCommit ["topics", "partitions"] => offset_commit_request::OffsetCommitRequestPartition;
        OffsetFetch ["topics"] => offset_fetch_request::OffsetFetchRequestTopic;
        OffsetFetch ["groups", "topics"] => offset_fetch_request::OffsetFetchRequestTopics;
        OffsetFetch ["groups"] => offset_fetch_request::OffsetFetchRequestGroup;
        JoinGroup ["protocols"] => join_group_request::JoinGroupRequestProtocol;
        LeaveGroup ["members"] => leave_group_request::MemberIdentity;
        SyncGroup ["assignments"] => sync_group_request::SyncGroupRequestAssignment;
        CreateTopics ["topics"] => create_topics_request::CreatableTopic;
        CreateTopics ["topics", "assignments"] => create_topics_request::CreatableReplicaAssignment;
        CreateTopics ["topics", "configs"] => create_topics_request::CreatableTopicConfig;
        DeleteTopics ["topics"] => delete_topics_request::DeleteTopicState;
        DeleteRecords ["topics"] => delete_records_request::DeleteRecordsTopic;
        DeleteRecords ["topics", "partitions"] => delete_records_request::DeleteRecordsPartition;
        OffsetForLeaderEpoch ["topics"] => offset_for_leader_epoch_request::OffsetForLeaderTopic;
        OffsetForLeaderEpoch ["topics", "partitions"] => offset_for_leader_epoch_request::OffsetForLeaderPartition;
        DescribeConfigs ["resources"] => describe_configs_request::DescribeConfigsResource;
        AlterConfigs ["resources"] => alter_configs_request::AlterConfigsResource;
        AlterConfigs ["resources", "configs"] => alter_configs_request::AlterableConfig;
        CreatePartitions ["topics"] => create_partitions_request::CreatePartitionsTopic;
        CreatePartitions ["topics", "assignments"] => create_partitions_request::CreatePartitionsAssignment;
        IncrementalAlterConfigs ["resources"] => incremental_alter_configs_request::AlterConfigsResource;
        IncrementalAlterConfigs ["resources", "configs"] => incremental_alter_configs_request::AlterableConfig;
        OffsetDelete ["topics"] => offset_delete_request::OffsetDeleteRequestTopic;
        OffsetDelete ["topics", "partitions"] => offset_delete_request::OffsetDeleteRequestPartition;
        DescribeTopicPartitions ["topics"] => describe_topic_partitions_request::TopicRequest;
        DescribeQuorum ["topics"] => describe_quorum_request::TopicData;
        DescribeQuorum ["topics", "partitions"] => describe_quorum_request::PartitionData;
        CreateAcls ["creations"] => create_acls_request::AclCreation;
        DeleteAcls ["filters"] => delete_acls_request::DeleteAclsFilter;
        DescribeUserScramCredentials ["users"] => describe_user_scram_credentials_request::UserName;
        AlterUserScramCredentials ["deletions"] => alter_user_scram_credentials_request::ScramCredentialDeletion;
        AlterUserScramCredentials ["upsertions"] => alter_user_scram_credentials_request::ScramCredentialUpsertion;
        DescribeGroups ["groups"] => GroupId;
        DeleteTopics ["topic_names"] => TopicName;
    };
    for (key, path, actual) in &cases {
        let estimate = decoded_size(element(*key, path));
        assert!(
            estimate >= *actual,
            "{key:?} {path:?}: estimated {estimate} bytes, decoded {actual}"
        );
    }
}

/// The estimate counts every array element and unknown tag a body holds.
#[test]
fn check_estimates_what_decoding_allocates() {
    // Metadata v0: topics as an array of 3 strings (empty names), then nothing else.
    let body = [0, 0, 0, 3, 0, 0, 0, 0, 0, 0];
    let per_topic = decoded_size(element(ApiKey::Metadata, &["topics"]));
    assert_eq!(check(ApiKey::Metadata, 0, &body).unwrap(), 3 * per_topic);
    // ApiVersions v3 with two unknown tags in its tagged-fields section.
    let body = [1, 1, 2, 7, 0, 8, 1, 0xff];
    assert_eq!(
        check(ApiKey::ApiVersions, 3, &body).unwrap(),
        2 * UNKNOWN_TAG_BYTES
    );
}
