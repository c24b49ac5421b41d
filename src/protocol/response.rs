//! Response framing: size, header (correlation id; plus empty tagged fields for response
//! header v1), body encoded at the request's version.
//!
//! Responses are appended to an [`Outgoing`] the connection owns and reuses, so a busy
//! connection does not allocate (and fault in) a fresh buffer for every response. Payloads
//! passed as `splice` (fetched record batches) are not copied into it; see [`super::outgoing`].

use bytes::BufMut;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Encodable;

use super::outgoing::{Outgoing, Payload};
use super::ProtocolError;

/// Appends a whole response frame, size prefix included, to `out`.
pub fn encode_into<T: Encodable>(
    out: &mut Outgoing,
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
    splice: &[Payload],
) -> Result<(), ProtocolError> {
    let header_version = key.response_header_version(version);
    encode_with_header_into(out, header_version, version, correlation_id, body, splice)
}

/// Appends a frame with an explicit response header version (ApiVersions always uses v0).
/// `splice`: payloads of `body`, in encoding order, to splice rather than copy.
pub fn encode_with_header_into<T: Encodable>(
    out: &mut Outgoing,
    header_version: i16,
    version: i16,
    correlation_id: i32,
    body: &T,
    splice: &[Payload],
) -> Result<(), ProtocolError> {
    let size = body
        .compute_size(version)
        .map_err(|e| ProtocolError::Encode(e.to_string()))?;
    let header_len = if header_version >= 1 { 5 } else { 4 };
    let frame_len = i32::try_from(header_len + size)
        .map_err(|_| ProtocolError::Encode(format!("response of {size} bytes is too large")))?;
    let mark = out.mark();
    let spliced: usize = splice.iter().map(|p| p.bytes.len()).sum();
    out.buf
        .reserve(4 + header_len + size.saturating_sub(spliced));
    out.buf.put_i32(frame_len);
    out.buf.put_i32(correlation_id);
    if header_version >= 1 {
        out.buf.put_u8(0); // no tagged fields
    }
    if let Err(e) = body.encode(&mut out.splicing(splice), version) {
        out.reset_to(mark);
        return Err(ProtocolError::Encode(e.to_string()));
    }
    Ok(())
}

/// Appends a frame whose body is already encoded (by the newer codec, see
/// [`super::newest`]), with the response header of `key` at `version`.
pub fn encode_encoded_into(
    out: &mut Outgoing,
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &[u8],
) -> Result<(), ProtocolError> {
    let header_len = if key.response_header_version(version) >= 1 {
        5
    } else {
        4
    };
    let frame_len = i32::try_from(header_len + body.len()).map_err(|_| {
        ProtocolError::Encode(format!("response of {} bytes is too large", body.len()))
    })?;
    out.buf.reserve(4 + header_len + body.len());
    out.buf.put_i32(frame_len);
    out.buf.put_i32(correlation_id);
    if header_len == 5 {
        out.buf.put_u8(0); // no tagged fields
    }
    out.buf.put_slice(body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};
    use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
    use kafka_protocol::messages::FetchResponse;

    use super::*;

    /// A spliced Fetch response is byte for byte the plainly encoded one, at every version.
    #[test]
    fn spliced_fetch_response_matches_plain_encoding() {
        let records: Vec<Bytes> = (0..4u8)
            .map(|i| Bytes::from(vec![i; 1500 + i as usize]))
            .collect();
        let partitions = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                PartitionData::default()
                    .with_partition_index(i as i32)
                    .with_records(Some(r.clone()))
            })
            .chain([PartitionData::default().with_partition_index(9)])
            .collect();
        let body = FetchResponse::default().with_responses(vec![
            FetchableTopicResponse::default().with_partitions(partitions)
        ]);
        let payloads: Vec<Payload> = records
            .iter()
            .map(|r| Payload {
                bytes: r.clone(),
                file: None,
            })
            .collect();
        for version in 4..=17 {
            let mut plain = BytesMut::new();
            body.encode(&mut plain, version).unwrap();
            let mut out = Outgoing::default();
            out.buf.put_slice(b"earlier frame");
            encode_into(&mut out, ApiKey::Fetch, version, 42, &body, &payloads).unwrap();
            let all = out.to_bytes();
            let header = if version >= 12 { 9 } else { 8 };
            assert_eq!(&all[13 + header..], &plain[..], "v{version}");
            assert_eq!(out.len(), 13 + header + plain.len());
            let copied = out.buf.len() - 13 - header;
            let spliced: usize = records.iter().map(Bytes::len).sum();
            assert_eq!(
                copied,
                plain.len() - spliced,
                "v{version}: records not copied"
            );
        }
    }
}
