#![allow(clippy::unwrap_used)]
//! ACLs and SCRAM credentials at the protocol level, on a broker with a SASL_PLAINTEXT
//! listener (PLAIN users admin, alice, bob), `authorizer.class.name` set to Kafka's
//! StandardAuthorizer and `super.users=User:admin`: the ACL APIs round-trip and survive a
//! restart; Produce, Fetch, Metadata, the group APIs and InitProducerId are refused as Kafka
//! refuses them until an ACL allows; super users pass; without an authorizer the ACL APIs
//! answer SECURITY_DISABLED; SCRAM credentials are altered, described and deleted, and a
//! user added that way logs in. (Real clients: compat-tests/security-acls.)

mod common;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use common::{batch, fetch_request, produce, start_with, topic_name, Client};
use hmac::{Hmac, Mac};
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use sha2::{Digest, Sha512};
use tokio::net::TcpStream;
use weir::security::scram::ScramMechanism;
use weir::BrokerHandle;

const JAAS: &str = r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";"#;

const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const LITERAL: i8 = 3;
const PREFIXED: i8 = 4;
const READ: i8 = 3;
const WRITE: i8 = 4;
const CREATE: i8 = 5;
const DESCRIBE: i8 = 8;
const ALLOW: i8 = 3;

async fn broker(dir: &std::path::Path, authorizer: bool) -> BrokerHandle {
    start_with(dir, |c| {
        c.set(
            "listeners",
            "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
        )
        .unwrap();
        c.set("listener.name.sasl_plaintext.plain.sasl.jaas.config", JAAS)
            .unwrap();
        if authorizer {
            c.set(
                "authorizer.class.name",
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            )
            .unwrap();
            c.set("super.users", "User:admin").unwrap();
        }
    })
    .await
}

async fn connect(h: &BrokerHandle) -> Client {
    let addr = h
        .broker
        .config
        .listeners
        .iter()
        .find(|l| l.name == "SASL_PLAINTEXT")
        .unwrap()
        .addr;
    Client::from_stream(TcpStream::connect(addr).await.unwrap())
}

fn handshake(mechanism: &'static str) -> SaslHandshakeRequest {
    SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism))
}

fn token(bytes: impl Into<Bytes>) -> SaslAuthenticateRequest {
    SaslAuthenticateRequest::default().with_auth_bytes(bytes.into())
}

/// A connection authenticated with PLAIN.
async fn login(h: &BrokerHandle, user: &str, password: &str) -> Client {
    let mut c = connect(h).await;
    assert_eq!(c.send(&handshake("PLAIN"), 1).await.error_code, 0);
    let r = c.send(&token(format!("\0{user}\0{password}")), 2).await;
    assert_eq!(r.error_code, 0, "{user} logs in");
    c
}

fn hmac512(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// A SCRAM-SHA-512 exchange as a client runs it (RFC 5802): the SaslAuthenticate error
/// code of the final message (or of the first, when that already fails), and the client.
async fn scram_login(h: &BrokerHandle, user: &str, password: &str) -> (i16, Client) {
    let mut c = connect(h).await;
    assert_eq!(c.send(&handshake("SCRAM-SHA-512"), 1).await.error_code, 0);
    let bare = format!("n={user},r=clientnonce0123456789");
    let first = c.send(&token(format!("n,,{bare}")), 2).await;
    if first.error_code != 0 {
        return (first.error_code, c);
    }
    let server_first = String::from_utf8(first.auth_bytes.to_vec()).unwrap();
    let field = |k: &str| {
        server_first
            .split(',')
            .find_map(|f| f.strip_prefix(k))
            .unwrap()
            .to_string()
    };
    let (nonce, salt, iterations) = (field("r="), B64.decode(field("s=")).unwrap(), field("i="));
    let salted = ScramMechanism::Sha512.salted_password(
        password.as_bytes(),
        &salt,
        iterations.parse().unwrap(),
    );
    let client_key = hmac512(&salted, b"Client Key");
    let stored_key = Sha512::digest(&client_key);
    let without_proof = format!("c=biws,r={nonce}");
    let auth = format!("{bare},{server_first},{without_proof}");
    let signature = hmac512(&stored_key, auth.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(a, b)| a ^ b)
        .collect();
    let last = format!("{without_proof},p={}", B64.encode(proof));
    (c.send(&token(last), 2).await.error_code, c)
}

fn acl(rt: i8, name: &str, pattern: i8, principal: &str, op: i8) -> AclCreation {
    AclCreation::default()
        .with_resource_type(rt)
        .with_resource_name(StrBytes::from_string(name.into()))
        .with_resource_pattern_type(pattern)
        .with_principal(StrBytes::from_string(principal.into()))
        .with_host(StrBytes::from_static_str("*"))
        .with_operation(op)
        .with_permission_type(ALLOW)
}

/// Creates ACLs (as a super user), asserting each succeeds.
async fn grant(c: &mut Client, acls: Vec<AclCreation>) {
    let r = c
        .send(&CreateAclsRequest::default().with_creations(acls), 3)
        .await;
    assert!(r.results.iter().all(|r| r.error_code == 0), "{r:?}");
}

fn describe_all() -> DescribeAclsRequest {
    DescribeAclsRequest::default()
        .with_resource_type_filter(1)
        .with_resource_name_filter(None)
        .with_pattern_type_filter(1)
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_operation(1)
        .with_permission_type(1)
}

/// (resource name, principal, operation) of every ACL DescribeAcls lists.
fn listed(r: &DescribeAclsResponse) -> Vec<(String, String, i8)> {
    r.resources
        .iter()
        .flat_map(|res| {
            res.acls.iter().map(|a| {
                (
                    res.resource_name.to_string(),
                    a.principal.to_string(),
                    a.operation,
                )
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_apis_answer_security_disabled_without_an_authorizer() {
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path(), false).await;
    let mut c = login(&h, "alice", "alice-secret").await;
    for v in 0..=3 {
        let creation = acl(TOPIC, "t", LITERAL, "User:alice", READ);
        let r = c
            .send(
                &CreateAclsRequest::default().with_creations(vec![creation]),
                v,
            )
            .await;
        assert_eq!(r.results[0].error_code, 54, "CreateAcls v{v}");
        let r = c
            .send(&describe_all().with_pattern_type_filter(LITERAL), v)
            .await;
        assert_eq!(r.error_code, 54, "DescribeAcls v{v}");
        let filter = DeleteAclsFilter::default()
            .with_resource_type_filter(1)
            .with_pattern_type_filter(LITERAL)
            .with_operation(1)
            .with_permission_type(1);
        let r = c
            .send(&DeleteAclsRequest::default().with_filters(vec![filter]), v)
            .await;
        assert_eq!(r.filter_results[0].error_code, 54, "DeleteAcls v{v}");
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_round_trip_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path(), true).await;
    let mut admin = login(&h, "admin", "admin-secret").await;
    let bad = acl(TOPIC, "t", LITERAL, "no-colon", READ);
    let r = admin
        .send(
            &CreateAclsRequest::default().with_creations(vec![
                acl(TOPIC, "orders", LITERAL, "User:alice", READ),
                bad,
                acl(TOPIC, "logs-", PREFIXED, "User:bob", WRITE),
            ]),
            3,
        )
        .await;
    let codes: Vec<i16> = r.results.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, [0, 42, 0], "{r:?}");
    // v1 (not flexible) and v3 list the same.
    for v in [1, 3] {
        let r = admin.send(&describe_all(), v).await;
        assert_eq!(r.error_code, 0);
        assert_eq!(
            listed(&r),
            [
                ("logs-".into(), "User:bob".into(), WRITE),
                ("orders".into(), "User:alice".into(), READ)
            ]
        );
    }
    // A MATCH filter finds the prefixed ACL that covers a name.
    let r = admin
        .send(
            &describe_all()
                .with_resource_type_filter(TOPIC)
                .with_resource_name_filter(Some(StrBytes::from_static_str("logs-app")))
                .with_pattern_type_filter(2),
            3,
        )
        .await;
    assert_eq!(listed(&r), [("logs-".into(), "User:bob".into(), WRITE)]);

    // Only Alter / Describe on the cluster may use them.
    let mut alice = login(&h, "alice", "alice-secret").await;
    assert_eq!(alice.send(&describe_all(), 3).await.error_code, 31);
    let r = alice
        .send(
            &CreateAclsRequest::default().with_creations(vec![acl(
                TOPIC,
                "x",
                LITERAL,
                "User:alice",
                READ,
            )]),
            3,
        )
        .await;
    assert_eq!(r.results[0].error_code, 31);

    // DeleteAcls: bob's goes, and the answer lists it.
    let filter = DeleteAclsFilter::default()
        .with_resource_type_filter(1)
        .with_resource_name_filter(None)
        .with_pattern_type_filter(1)
        .with_principal_filter(Some(StrBytes::from_static_str("User:bob")))
        .with_host_filter(None)
        .with_operation(1)
        .with_permission_type(1);
    let r = admin
        .send(&DeleteAclsRequest::default().with_filters(vec![filter]), 3)
        .await;
    let m = &r.filter_results[0].matching_acls;
    assert_eq!(r.filter_results[0].error_code, 0);
    assert_eq!((m.len(), m[0].resource_name.as_str()), (1, "logs-"));

    // A restart keeps what is left (the raft log and its snapshot).
    h.shutdown().await;
    let h = broker(dir.path(), true).await;
    let mut admin = login(&h, "admin", "admin-secret").await;
    let r = admin.send(&describe_all(), 2).await;
    assert_eq!(listed(&r), [("orders".into(), "User:alice".into(), READ)]);
    h.shutdown().await;
}

fn one_record() -> Bytes {
    batch(&[b"v"], Compression::None)
}

fn all_topics() -> MetadataRequest {
    MetadataRequest::default().with_topics(None)
}

fn names(m: &MetadataResponse) -> Vec<String> {
    let mut v: Vec<String> = m
        .topics
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.to_string()))
        .collect();
    v.sort();
    v
}

fn commit(group: &str, topic: &str) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.into())))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(1)])])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_fetch_metadata_and_groups_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path(), true).await;
    let mut admin = login(&h, "admin", "admin-secret").await;
    common::create_topic(&mut admin, "orders", 1).await;
    common::create_topic(&mut admin, "secret", 1).await;
    // A super user passes every check.
    assert_eq!(produce(&mut admin, "secret", 0, one_record(), 9).await.0, 0);

    let mut alice = login(&h, "alice", "alice-secret").await;
    // No ACL: Produce and Fetch refused, nothing listed, a named topic refused.
    assert_eq!(
        produce(&mut alice, "orders", 0, one_record(), 9).await.0,
        29
    );
    let f = alice.send(&fetch_request("orders", 0, 0, 0), 12).await;
    assert_eq!(f.responses[0].partitions[0].error_code, 29);
    assert!(names(&alice.send(&all_topics(), 12).await).is_empty());
    let named = MetadataRequest::default().with_topics(Some(vec![
        metadata_request::MetadataRequestTopic::default().with_name(Some(topic_name("secret"))),
    ]));
    let m = alice.send(&named, 12).await;
    assert_eq!(m.topics[0].error_code, 29);
    // Auto-creation through Metadata needs Create (on the cluster or the topic) besides
    // Describe: refused, and nothing created, until an ACL allows it.
    let auto = MetadataRequest::default()
        .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
        )
        .with_name(Some(topic_name("auto-1")))]))
        .with_allow_auto_topic_creation(true);
    grant(
        &mut admin,
        vec![acl(TOPIC, "auto-", PREFIXED, "User:alice", DESCRIBE)],
    )
    .await;
    assert_eq!(alice.send(&auto, 12).await.topics[0].error_code, 29);
    assert!(!h.broker.cluster.has_topic("auto-1"));
    grant(
        &mut admin,
        vec![acl(TOPIC, "auto-", PREFIXED, "User:alice", CREATE)],
    )
    .await;
    let m = alice.send(&auto, 12).await;
    assert_ne!(m.topics[0].error_code, 29, "{m:?}");
    assert!(h.broker.cluster.has_topic("auto-1"));
    // InitProducerId needs IdempotentWrite on the cluster or Write on some topic.
    let init = InitProducerIdRequest::default().with_transactional_id(None);
    assert_eq!(alice.send(&init, 4).await.error_code, 31);

    // Write on orders: Produce succeeds, orders is listed (Write implies Describe), the
    // other topic stays hidden, and an idempotent producer may start.
    grant(
        &mut admin,
        vec![acl(TOPIC, "orders", LITERAL, "User:alice", WRITE)],
    )
    .await;
    assert_eq!(produce(&mut alice, "orders", 0, one_record(), 9).await.0, 0);
    assert_eq!(
        names(&alice.send(&all_topics(), 12).await),
        ["auto-1", "orders"]
    );
    assert_eq!(alice.send(&init, 4).await.error_code, 0);
    // Write does not imply Read.
    let f = alice.send(&fetch_request("orders", 0, 0, 0), 12).await;
    assert_eq!(f.responses[0].partitions[0].error_code, 29);
    // bob, without any ACL, still cannot write.
    let mut bob = login(&h, "bob", "bob-secret").await;
    assert_eq!(produce(&mut bob, "orders", 0, one_record(), 9).await.0, 29);

    // Groups: Read on the group is needed (GROUP_AUTHORIZATION_FAILED), then Read on the
    // topic for a commit.
    let r = alice.send(&commit("billing", "orders"), 8).await;
    assert_eq!(r.topics[0].partitions[0].error_code, 30);
    let join = JoinGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_protocol_type(StrBytes::from_static_str("consumer"));
    assert_eq!(alice.send(&join, 5).await.error_code, 30);
    grant(
        &mut admin,
        vec![acl(GROUP, "billing", LITERAL, "User:alice", READ)],
    )
    .await;
    let r = alice.send(&commit("billing", "orders"), 8).await;
    assert_eq!(
        r.topics[0].partitions[0].error_code, 29,
        "no Read on the topic"
    );
    grant(
        &mut admin,
        vec![acl(TOPIC, "orders", LITERAL, "User:alice", READ)],
    )
    .await;
    common::coordinator_ready(&mut alice, "billing").await;
    let r = alice.send(&commit("billing", "orders"), 8).await;
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    let f = alice.send(&fetch_request("orders", 0, 0, 0), 12).await;
    assert_eq!(f.responses[0].partitions[0].error_code, 0);
    // ListGroups lists only groups the principal may Describe.
    let listed = bob.send(&ListGroupsRequest::default(), 4).await;
    assert!(listed.groups.is_empty());
    let listed = alice.send(&ListGroupsRequest::default(), 4).await;
    assert_eq!(listed.groups.len(), 1);
    h.shutdown().await;
}

fn upsert(user: &str, password: &str, mechanism: i8, iterations: i32) -> ScramCredentialUpsertion {
    let salt = b"a-salt-of-16-byt".to_vec();
    let m = ScramMechanism::from_code(mechanism).unwrap_or(ScramMechanism::Sha512);
    let salted = m.salted_password(password.as_bytes(), &salt, iterations.max(1) as u32);
    ScramCredentialUpsertion::default()
        .with_name(StrBytes::from_string(user.into()))
        .with_mechanism(mechanism)
        .with_iterations(iterations)
        .with_salt(Bytes::from(salt))
        .with_salted_password(Bytes::from(salted))
}

fn delete(user: &str, mechanism: i8) -> ScramCredentialDeletion {
    ScramCredentialDeletion::default()
        .with_name(StrBytes::from_string(user.into()))
        .with_mechanism(mechanism)
}

fn describe(users: &[&str]) -> DescribeUserScramCredentialsRequest {
    DescribeUserScramCredentialsRequest::default().with_users(Some(
        users
            .iter()
            .map(|u| UserName::default().with_name(StrBytes::from_string(u.to_string())))
            .collect(),
    ))
}

fn alter(
    deletions: Vec<ScramCredentialDeletion>,
    upsertions: Vec<ScramCredentialUpsertion>,
) -> AlterUserScramCredentialsRequest {
    AlterUserScramCredentialsRequest::default()
        .with_deletions(deletions)
        .with_upsertions(upsertions)
}

fn codes(r: &AlterUserScramCredentialsResponse) -> Vec<(String, i16)> {
    r.results
        .iter()
        .map(|r| (r.user.to_string(), r.error_code))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_credentials_are_altered_described_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path(), true).await;
    let mut admin = login(&h, "admin", "admin-secret").await;
    // carol does not exist yet: her login fails.
    assert_eq!(scram_login(&h, "carol", "carol-secret").await.0, 58);

    let r = admin
        .send(
            &alter(vec![], vec![upsert("carol", "carol-secret", 2, 4096)]),
            0,
        )
        .await;
    assert_eq!(codes(&r), [("carol".into(), 0)]);
    let (code, mut carol) = scram_login(&h, "carol", "carol-secret").await;
    assert_eq!(
        code, 0,
        "a user added through AlterUserScramCredentials logs in"
    );
    // ...as User:carol, who may see no topic.
    assert!(names(&carol.send(&all_topics(), 12).await).is_empty());
    assert_eq!(scram_login(&h, "carol", "wrong").await.0, 58);

    // Describe: mechanism and iterations only; unknown and duplicate users as Kafka says.
    let r = admin.send(&describe(&["carol", "nobody"]), 0).await;
    assert_eq!(r.error_code, 0);
    type Described = (String, i16, Vec<(i8, i32)>);
    let found: Vec<Described> = r
        .results
        .iter()
        .map(|u| {
            let infos = u
                .credential_infos
                .iter()
                .map(|c| (c.mechanism, c.iterations))
                .collect();
            (u.user.to_string(), u.error_code, infos)
        })
        .collect();
    assert_eq!(
        found,
        [
            ("carol".into(), 0, vec![(2, 4096)]),
            ("nobody".into(), 91, vec![])
        ]
    );
    let r = admin.send(&describe(&["carol", "carol"]), 0).await;
    assert_eq!(r.results[0].error_code, 92);
    // All users (null list).
    let all = DescribeUserScramCredentialsRequest::default().with_users(None);
    assert_eq!(admin.send(&all, 0).await.results.len(), 1);

    // Refusals: too few iterations, an unknown mechanism, a user twice, a missing deletion.
    let r = admin
        .send(
            &alter(
                vec![delete("dave", 1)],
                vec![
                    upsert("erin", "x", 1, 100),
                    upsert("frank", "x", 9, 4096),
                    upsert("gina", "x", 1, 4096),
                    upsert("gina", "x", 2, 4096),
                ],
            ),
            0,
        )
        .await;
    let mut got = codes(&r);
    got.sort();
    assert_eq!(
        got,
        [
            ("dave".into(), 91),
            ("erin".into(), 93),
            ("frank".into(), 33),
            ("gina".into(), 92)
        ]
    );
    // Only Alter on the cluster may change credentials, Describe describe them.
    let mut alice = login(&h, "alice", "alice-secret").await;
    let r = alice
        .send(&alter(vec![delete("carol", 2)], vec![]), 0)
        .await;
    assert_eq!(codes(&r), [("carol".into(), 31)]);
    assert_eq!(alice.send(&describe(&["carol"]), 0).await.error_code, 31);

    // Deleting: carol can no longer log in; deleting again is RESOURCE_NOT_FOUND.
    let r = admin
        .send(&alter(vec![delete("carol", 2)], vec![]), 0)
        .await;
    assert_eq!(codes(&r), [("carol".into(), 0)]);
    assert_eq!(scram_login(&h, "carol", "carol-secret").await.0, 58);
    let r = admin
        .send(&alter(vec![delete("carol", 2)], vec![]), 0)
        .await;
    assert_eq!(codes(&r), [("carol".into(), 91)]);
    h.shutdown().await;
}

/// ACLs are cluster metadata: created through a broker that is not the controller (the
/// request is forwarded), every node's image holds them. With the authorizer on, the
/// brokers' own fetches (over the PLAINTEXT inter-broker listener, as `User:ANONYMOUS`, a
/// super user here as docs/security.md says) keep replicating: acks=all completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acls_replicate_across_the_quorum() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = Vec::new();
    for mut config in common::cluster_configs(&dirs, &[0, 1, 2]) {
        config
            .set(
                "authorizer.class.name",
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            )
            .unwrap();
        config.set("super.users", "User:ANONYMOUS").unwrap();
        nodes.push(weir::Broker::start(config).await.expect("node starts"));
    }
    for n in &nodes {
        let b = n.broker.clone();
        common::eventually("three live brokers and a controller", || {
            let b = b.clone();
            async move { b.cluster.live_brokers().len() == 3 && b.cluster.leader_id().is_some() }
        })
        .await;
    }
    let controller = nodes[0].broker.cluster.leader_id().unwrap();
    let follower = nodes
        .iter()
        .find(|n| n.broker.config.node_id != controller)
        .unwrap();
    let mut c = Client::connect(follower).await;
    grant(
        &mut c,
        vec![acl(TOPIC, "orders", LITERAL, "User:alice", WRITE)],
    )
    .await;
    for n in &nodes {
        let b = n.broker.clone();
        common::eventually("the ACL on every node", || {
            let b = b.clone();
            async move { b.cluster.image().acls.len() == 1 }
        })
        .await;
    }
    let other = nodes
        .iter()
        .find(|n| n.broker.config.node_id != follower.broker.config.node_id)
        .unwrap();
    let mut d = Client::connect(other).await;
    assert_eq!(
        listed(&d.send(&describe_all(), 3).await),
        [("orders".into(), "User:alice".into(), WRITE)]
    );

    // Replication under the authorizer: a topic on all three, written with acks=all.
    let req = CreateTopicsRequest::default().with_topics(vec![
        create_topics_request::CreatableTopic::default()
            .with_name(topic_name("replicated"))
            .with_num_partitions(1)
            .with_replication_factor(3),
    ]);
    assert_eq!(c.send(&req, 7).await.topics[0].error_code, 0);
    let leader = nodes[0]
        .broker
        .cluster
        .topic("replicated")
        .unwrap()
        .partitions[0]
        .leader;
    let leader = nodes
        .iter()
        .find(|n| n.broker.config.node_id == leader)
        .unwrap();
    let lb = leader.broker.clone();
    common::eventually("the leader serves the new partition", || {
        let lb = lb.clone();
        async move {
            lb.leader_log(&weir::log::TopicPartition::new("replicated", 0))
                .is_ok()
        }
    })
    .await;
    let mut p = Client::connect(leader).await;
    // acks=all: answered once every ISR member (all three) has fetched the batch.
    let last = produce(&mut p, "replicated", 0, one_record(), 9).await;
    assert_eq!(
        last.0, 0,
        "acks=all with followers fetching as User:ANONYMOUS"
    );
    let isr = nodes[0]
        .broker
        .cluster
        .topic("replicated")
        .unwrap()
        .partitions[0]
        .isr
        .len();
    assert_eq!(isr, 3, "every follower fetches");
    for n in nodes {
        n.shutdown().await;
    }
}
