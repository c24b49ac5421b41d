//! Response framing: size, header (correlation id; plus empty tagged fields for response
//! header v1), body encoded at the request's version.

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Encodable;

use super::ProtocolError;

/// Encodes a whole response frame, size prefix included.
pub fn encode<T: Encodable>(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<BytesMut, ProtocolError> {
    let header_version = key.response_header_version(version);
    encode_with_header(header_version, version, correlation_id, body)
}

/// Encodes with an explicit response header version (ApiVersions always uses v0).
pub fn encode_with_header<T: Encodable>(
    header_version: i16,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<BytesMut, ProtocolError> {
    let size = body
        .compute_size(version)
        .map_err(|e| ProtocolError::Encode(e.to_string()))?;
    let header_len = if header_version >= 1 { 5 } else { 4 };
    let mut buf = BytesMut::with_capacity(4 + header_len + size);
    buf.put_i32((header_len + size) as i32);
    buf.put_i32(correlation_id);
    if header_version >= 1 {
        buf.put_u8(0); // no tagged fields
    }
    body.encode(&mut buf, version)
        .map_err(|e| ProtocolError::Encode(e.to_string()))?;
    Ok(buf)
}
