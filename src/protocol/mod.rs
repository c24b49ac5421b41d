//! The Kafka wire protocol at the edges: frames, request headers, responses, error codes.
//! Message bodies are decoded and encoded with the `kafka-protocol` crate; its `anyhow`
//! errors are wrapped here into [`ProtocolError`].

pub mod error_code;
pub mod frame;
pub mod layout;
pub mod newest;
pub mod outgoing;
pub mod request;
pub mod response;

/// Errors at the codec boundary. Each one closes the connection that sent the request.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame size {0} outside (0, {1}]")]
    FrameSize(i64, usize),
    #[error("request header truncated or malformed")]
    BadHeader,
    #[error("unknown api key {0}")]
    UnknownApiKey(i16),
    #[error("unsupported version {version} of api key {key}")]
    UnsupportedVersion { key: i16, version: i16 },
    /// A request other than the SASL exchange on a connection that has not authenticated.
    #[error("api key {0} before SASL authentication")]
    Unauthenticated(i16),
    #[error("cannot decode request body: {0}")]
    Decode(String),
    #[error("cannot encode response: {0}")]
    Encode(String),
    /// An acks=0 Produce that failed somewhere: no answer is due, so the connection is closed
    /// for the producer to notice and refresh its metadata, as Kafka's broker does.
    #[error("acks=0 produce failed; closing the connection")]
    Acks0Failed,
    /// The request, decoded, would take more than `queued.max.request.bytes` (both in bytes).
    #[error("request would hold {0} bytes decoded, over queued.max.request.bytes {1}")]
    DecodedSize(usize, usize),
}
