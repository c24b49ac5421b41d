//! Fuzz target `request`: arbitrary bytes as one request frame (the bytes after the 4-byte
//! size) given to `weir::handlers::handle_frame` of ONE real, in-process broker.
//!
//! This reaches every request body decoder (kafka-protocol's, at every version weir serves)
//! and every handler behind them, with the broker's state carried from input to input as it
//! is on a long-lived connection. It proves:
//! - no input panics or aborts the broker, nor makes it allocate without bound (any single
//!   allocation above `-malloc_limit_mb` is a crash: see this crate's lib);
//! - `Ok(true)` appends exactly one well-formed response frame: its 4-byte size equals the
//!   bytes that follow, it echoes the request's correlation id, and its body decodes, as the
//!   response of that API at that version, to exactly its own length;
//! - `Ok(false)` (no response) happens only for Produce (acks=0).
//!
//! The broker's data dir is a temp dir made once per fuzzing process; state is kept bounded
//! by small segments and retention, and by starting a fresh broker (new data dir) every
//! [`RESET_EVERY`] inputs or once the fuzzer has created more than [`MAX_TOPICS`] topics.
//! A handler still waiting after [`WAIT`] (a Fetch long poll, a JoinGroup waiting for other
//! members) is dropped, as when a client disconnects.

#![no_main]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ApiKey, ResponseKind};
use libfuzzer_sys::fuzz_target;
use weir::config::LogConfig;
use weir::{Broker, BrokerHandle, Config};

/// Inputs between two fresh brokers.
const RESET_EVERY: u64 = 20_000;
/// Topics (the pre-created ones included) beyond which a fresh broker is started, counted
/// every [`CHECK_EVERY`] inputs.
const MAX_TOPICS: usize = 200;
const CHECK_EVERY: u64 = 256;
/// How long one request may take before it is dropped.
const WAIT: Duration = Duration::from_millis(2);
/// Topics every fresh broker starts with: (name, partitions, cleanup.policy).
const TOPICS: &[(&str, i32, &str)] = &[("fuzz", 2, "delete"), ("fuzz-compact", 1, "compact")];

struct Fuzz {
    rt: tokio::runtime::Runtime,
    state: Mutex<State>,
}

struct State {
    handle: Option<BrokerHandle>,
    dir: Option<tempfile::TempDir>,
    inputs: u64,
}

impl State {
    fn broker(&self) -> Arc<Broker> {
        self.handle
            .as_ref()
            .expect("a running broker")
            .broker
            .clone()
    }
}

/// The broker's configuration: Kafka's defaults, except what keeps one process's disk and
/// memory bounded and its waits short.
fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        listeners: vec![weir::config::Listener::plaintext(
            "127.0.0.1:0".parse().expect("a loopback address"),
        )],
        data_dir: dir.to_path_buf(),
        socket_request_max_bytes: 1 << 20,
        retention_check_interval_ms: 1_000,
        cleaner_backoff_ms: 1_000,
        cleaner_dedupe_buffer_size: 1 << 20,
        log: LogConfig {
            segment_bytes: 256 * 1024,
            segment_index_bytes: 4096,
            index_interval_bytes: 1024,
            retention_bytes: 1 << 20,
            ..LogConfig::default()
        },
        ..Config::default()
    };
    c.group.initial_rebalance_delay_ms = 0;
    c.group.min_session_timeout_ms = 10;
    c.group.max_session_timeout_ms = 2_000;
    c
}

async fn start_broker() -> (BrokerHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let handle = Broker::start(config(dir.path()))
        .await
        .expect("the broker starts");
    for (name, partitions, policy) in TOPICS {
        let configs = [("cleanup.policy".to_string(), policy.to_string())].into();
        let new = weir::cluster::decide::CreateTopic {
            name: name.to_string(),
            partitions: *partitions,
            replication_factor: 1,
            assignments: None,
            configs,
        };
        weir::topics::create(&handle.broker, new, false)
            .await
            .expect("a fuzz topic is created");
    }
    (handle, dir)
}

fn fuzz() -> &'static Fuzz {
    static FUZZ: OnceLock<Fuzz> = OnceLock::new();
    FUZZ.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (handle, dir) = rt.block_on(start_broker());
        Fuzz {
            rt,
            state: Mutex::new(State {
                handle: Some(handle),
                dir: Some(dir),
                inputs: 0,
            }),
        }
    })
}

/// Replaces the broker with a fresh one on a new data dir when its state has grown.
fn maybe_reset(f: &Fuzz, state: &mut State) {
    state.inputs += 1;
    let due = state.inputs.is_multiple_of(RESET_EVERY)
        || state.inputs.is_multiple_of(CHECK_EVERY)
            && state.broker().cluster.topics().len() > MAX_TOPICS;
    if !due {
        return;
    }
    if let Some(old) = state.handle.take() {
        f.rt.block_on(old.shutdown());
    }
    drop(state.dir.take());
    let (handle, dir) = f.rt.block_on(start_broker());
    state.handle = Some(handle);
    state.dir = Some(dir);
}

fuzz_target!(init: weir_fuzz::init(), |data: &[u8]| {
    let f = fuzz();
    let mut state = f.state.lock().unwrap_or_else(|e| e.into_inner());
    maybe_reset(f, &mut state);
    let broker = state.broker();
    let frame = Bytes::copy_from_slice(data);
    let host: Arc<str> = Arc::from("/127.0.0.1");
    // On a worker thread, as a connection task runs it (handlers use block_in_place).
    let task = f.rt.spawn(async move {
        let mut out = weir::protocol::outgoing::Outgoing::default();
        let result = tokio::time::timeout(
            WAIT,
            weir::handlers::handle_frame(&broker, frame, &host, &mut out),
        )
        .await;
        (result, out)
    });
    let (result, out) =
        f.rt.block_on(task)
            .expect("the handler task does not panic");
    let Ok(result) = result else {
        return; // still waiting: dropped, as when its client disconnects
    };
    match result {
        Ok(true) => check_response(data, out.to_bytes()),
        Ok(false) => {
            assert_eq!(&data[..2], &[0, 0], "only Produce (acks=0) goes unanswered");
            assert!(out.is_empty(), "no response, no bytes");
        }
        Err(_) => {} // refused: the connection would be closed
    }
});

/// Checks one response frame against the request it answers.
fn check_response(request: &[u8], mut out: Bytes) {
    assert!(
        out.len() >= 8,
        "a response frame has a size and a correlation id"
    );
    let size = out.get_i32();
    assert_eq!(size as usize, out.len(), "the size prefix counts the rest");
    let key = i16::from_be_bytes([request[0], request[1]]);
    let version = i16::from_be_bytes([request[2], request[3]]);
    let correlation = i32::from_be_bytes([request[4], request[5], request[6], request[7]]);
    assert_eq!(out.get_i32(), correlation, "the correlation id is echoed");
    let api = ApiKey::try_from(key).expect("only known keys are answered");
    let served = weir::handlers::spec(api).expect("only served keys are answered");
    if version > served.max {
        // KIP-511: an ApiVersions request above the range gets the v0 layout.
        assert_eq!(api, ApiKey::ApiVersions);
        decode_all(api, out, 0);
        return;
    }
    if api.response_header_version(version) >= 1 {
        assert_eq!(out.get_u8(), 0, "no tagged fields in the response header");
    }
    decode_all(api, out, version);
}

/// The body decodes as `api`'s response at `version`, using every byte.
fn decode_all(api: ApiKey, mut body: Bytes, version: i16) {
    if let Err(e) = ResponseKind::decode(api, &mut body, version) {
        panic!("{api:?} v{version} response does not decode: {e}");
    }
    assert!(
        body.is_empty(),
        "{api:?} v{version} response has {} bytes left over",
        body.len()
    );
}
