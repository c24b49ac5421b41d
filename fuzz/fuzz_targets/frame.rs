//! Fuzz target `frame`: arbitrary bytes as they arrive on a connection, a 4-byte big-endian
//! size and then a request frame.
//!
//! Proves that the framing and header layer never panics on client bytes:
//! - `protocol::frame::check_size` accepts exactly `0 < size <= max`;
//! - `protocol::frame::read_frame` over the same bytes agrees with `check_size`, returns at
//!   most `max` bytes, and never allocates more than the bytes actually present;
//! - `protocol::request::peek` and `protocol::request::parse` either fail or return a header
//!   that matches the first 8 bytes and a body that is a suffix of the frame.

#![no_main]

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;
use libfuzzer_sys::fuzz_target;
use weir::protocol::frame::{check_size, read_frame};
use weir::protocol::request::{parse, peek};

/// A small `socket.request.max.bytes`, so both sides of the bound are reachable.
const MAX: usize = 64 * 1024;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

fuzz_target!(init: weir_fuzz::init(), |data: &[u8]| {
    // The async reader over the whole input.
    let mut reader = data;
    let read = runtime().block_on(read_frame(&mut reader, MAX));

    let Some(size) = data.get(..4) else {
        assert!(read.is_err(), "a frame needs its 4-byte size");
        return;
    };
    let size = i32::from_be_bytes([size[0], size[1], size[2], size[3]]);
    let checked = check_size(size, MAX);
    match &checked {
        Ok(n) => assert!(*n > 0 && *n <= MAX && *n as i64 == i64::from(size)),
        Err(_) => assert!(size <= 0 || size as usize > MAX),
    }
    let payload = &data[4..];
    match (&checked, &read) {
        (Ok(n), Ok(frame)) => assert_eq!(&frame[..], &payload[..*n]),
        (Ok(n), Err(_)) => assert!(payload.len() < *n, "a whole frame must be read"),
        (Err(_), Ok(_)) => panic!("read_frame accepted a size check_size refuses"),
        (Err(_), Err(_)) => {}
    }

    // The header of the frame body (the whole rest when the size does not fit it).
    let body = match checked {
        Ok(n) if n <= payload.len() => &payload[..n],
        _ => payload,
    };
    let Ok((key, version, correlation_id)) = peek(body) else {
        assert!(body.len() < 8);
        return;
    };
    // Keys weir does not know are refused before `parse` (see handlers::handle_frame).
    let Ok(api) = ApiKey::try_from(key) else {
        return;
    };
    let frame = Bytes::copy_from_slice(body);
    if let Ok((header, rest)) = parse(frame, api) {
        assert_eq!(
            (header.api_key, header.api_version, header.correlation_id),
            (key, version, correlation_id)
        );
        assert!(rest.len() + 8 <= body.len());
        assert_eq!(&body[body.len() - rest.len()..], &rest[..]);
        if let Some(id) = &header.client_id {
            assert!(id.len() + 10 <= body.len());
        }
    }
});
