//! Request headers, parsed by hand so that an unknown API key or version can be answered
//! (or refused) without decoding the body.
//!
//! ```text
//! v0: api_key i16, api_version i16, correlation_id i32
//! v1: v0 + client_id (nullable string, i16 length)
//! v2: v1 + tagged fields (flexible versions)
//! ```

use std::sync::Arc;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::ApiKey;

use super::ProtocolError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    /// The raw client id bytes (a slice of the frame: no copy per request).
    pub client_id: Option<Bytes>,
    /// The peer's address as Kafka reports it (`/127.0.0.1`); shared by the connection.
    pub client_host: Arc<str>,
    /// The name of the listener the connection came in on (upper-case); shared.
    pub listener: Arc<str>,
    /// Who sent it (`User:ANONYMOUS` unless authenticated); shared.
    pub principal: Arc<str>,
    /// The client quota throttle decided before handling (Produce's byte rate), for the
    /// response's `throttle_time_ms`; 0 unless a quota holds the client back.
    pub throttle_ms: i32,
}

impl RequestHeader {
    /// The client id as text (empty when null), for the few APIs that keep it.
    pub fn client_id(&self) -> String {
        self.client_id
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }
}

/// The client id of a request frame (header v1+: after key, version and correlation id, an
/// INT16-length string; -1 is null), as a slice of the frame; None when null or cut short.
pub fn client_id_of(frame: &Bytes) -> Option<Bytes> {
    let len = i16::from_be_bytes([*frame.get(8)?, *frame.get(9)?]);
    let len = usize::try_from(len).ok()?;
    (frame.len() >= 10 + len).then(|| frame.slice(10..10 + len))
}

/// Reads the first 8 bytes (key, version, correlation id) without consuming anything.
pub fn peek(frame: &[u8]) -> Result<(i16, i16, i32), ProtocolError> {
    if frame.len() < 8 {
        return Err(ProtocolError::BadHeader);
    }
    let mut b = &frame[..8];
    Ok((b.get_i16(), b.get_i16(), b.get_i32()))
}

fn read_unsigned_varint(b: &mut Bytes) -> Result<u32, ProtocolError> {
    let mut value: u32 = 0;
    for i in 0..5 {
        if !b.has_remaining() {
            return Err(ProtocolError::BadHeader);
        }
        let byte = b.get_u8();
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtocolError::BadHeader)
}

/// Parses the header of `frame` for a known API key and returns it with the body that
/// follows.
pub fn parse(mut frame: Bytes, key: ApiKey) -> Result<(RequestHeader, Bytes), ProtocolError> {
    let (api_key, api_version, correlation_id) = peek(&frame)?;
    frame.advance(8);
    let header_version = key.request_header_version(api_version);
    let mut client_id = None;
    if header_version >= 1 {
        if frame.remaining() < 2 {
            return Err(ProtocolError::BadHeader);
        }
        let len = frame.get_i16();
        if len >= 0 {
            let len = len as usize;
            if frame.remaining() < len {
                return Err(ProtocolError::BadHeader);
            }
            client_id = Some(frame.split_to(len));
        } else if len != -1 {
            return Err(ProtocolError::BadHeader);
        }
    }
    if header_version >= 2 {
        let n = read_unsigned_varint(&mut frame)?;
        for _ in 0..n {
            let _tag = read_unsigned_varint(&mut frame)?;
            let size = read_unsigned_varint(&mut frame)? as usize;
            if frame.remaining() < size {
                return Err(ProtocolError::BadHeader);
            }
            frame.advance(size);
        }
    }
    Ok((
        RequestHeader {
            api_key,
            api_version,
            correlation_id,
            client_id,
            client_host: Arc::from(""),
            listener: Arc::from(""),
            principal: Arc::from(""),
            throttle_ms: 0,
        },
        frame,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_and_v2_headers() {
        // Metadata v1 (header v1): key 3, version 1, corr 7, client "ab", body [9].
        let f = Bytes::from_static(&[0, 3, 0, 1, 0, 0, 0, 7, 0, 2, b'a', b'b', 9]);
        let (h, body) = parse(f, ApiKey::Metadata).unwrap();
        assert_eq!(h.correlation_id, 7);
        assert_eq!(h.client_id(), "ab");
        assert_eq!(&body[..], &[9]);
        // Metadata v9 (header v2) with a null client id and one tagged field of 1 byte.
        let f = Bytes::from_static(&[0, 3, 0, 9, 0, 0, 0, 1, 0xff, 0xff, 1, 0, 1, 5, 42]);
        let (h, body) = parse(f, ApiKey::Metadata).unwrap();
        assert_eq!(h.client_id, None);
        assert_eq!(&body[..], &[42]);
    }

    #[test]
    fn truncated_headers_fail() {
        assert!(peek(&[0, 3, 0]).is_err());
        let f = Bytes::from_static(&[0, 3, 0, 1, 0, 0, 0, 7, 0, 5, b'a']);
        assert!(parse(f, ApiKey::Metadata).is_err());
        let f = Bytes::from_static(&[0, 3, 0, 9, 0, 0, 0, 1, 0xff, 0xff, 1, 0, 9, 5]);
        assert!(parse(f, ApiKey::Metadata).is_err());
        let f = Bytes::from_static(&[0, 3, 0, 1, 0, 0, 0, 7, 0xff, 0xfe]);
        assert!(parse(f, ApiKey::Metadata).is_err());
    }
}
