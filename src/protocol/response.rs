//! Response framing: size, header (correlation id; plus empty tagged fields for response
//! header v1), body encoded at the request's version.
//!
//! Responses are appended to a buffer the connection owns and reuses, so a busy connection
//! does not allocate (and fault in) a fresh buffer for every response.

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Encodable;

use super::ProtocolError;

/// Appends a whole response frame, size prefix included, to `out`.
pub fn encode_into<T: Encodable>(
    out: &mut BytesMut,
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<(), ProtocolError> {
    let header_version = key.response_header_version(version);
    encode_with_header_into(out, header_version, version, correlation_id, body)
}

/// Appends a frame with an explicit response header version (ApiVersions always uses v0).
pub fn encode_with_header_into<T: Encodable>(
    out: &mut BytesMut,
    header_version: i16,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<(), ProtocolError> {
    let size = body
        .compute_size(version)
        .map_err(|e| ProtocolError::Encode(e.to_string()))?;
    let header_len = if header_version >= 1 { 5 } else { 4 };
    let frame_len = i32::try_from(header_len + size)
        .map_err(|_| ProtocolError::Encode(format!("response of {size} bytes is too large")))?;
    let mark = out.len();
    out.reserve(4 + header_len + size);
    out.put_i32(frame_len);
    out.put_i32(correlation_id);
    if header_version >= 1 {
        out.put_u8(0); // no tagged fields
    }
    if let Err(e) = body.encode(out, version) {
        out.truncate(mark);
        return Err(ProtocolError::Encode(e.to_string()));
    }
    Ok(())
}
