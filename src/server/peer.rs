//! Connections from this broker to another broker's inter-broker listener (replica
//! fetches), secured as that listener is: TLS with the listener's truststore (and this
//! broker's own certificate, for listeners that ask for one), then SASL with
//! `sasl.mechanism.inter.broker.protocol` and this broker's login from the listener's JAAS
//! line (`username`, `password`), as Kafka's brokers do.
//!
//! The SASL exchange is Kafka's: SaslHandshake v1 naming the mechanism, then SaslAuthenticate
//! v2 tokens (PLAIN: one; SCRAM: two round trips, the server's signature checked). Each step
//! is bounded by [`STEP_TIMEOUT`], so an unresponsive peer costs a reconnect, not a hang.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, RequestHeader, ResponseHeader, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::{Config, SecurityProtocol};
use crate::security::sasl::Mechanism;
use crate::security::scram::server_nonce;
use crate::security::scram_client::ScramClient;

/// How long one step of connecting (TCP, TLS, each SASL round trip) may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest SASL answer read from a peer.
const MAX_SASL_ANSWER: usize = 64 * 1024;

/// A connection to another broker: TCP, or TLS over it.
pub trait PeerIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> PeerIo for T {}
pub type PeerStream = Box<dyn PeerIo>;

/// How this broker reaches the others' inter-broker listener.
pub struct PeerConnector {
    tls: Option<Arc<ClientConfig>>,
    /// The mechanism, user and password, on a SASL listener.
    sasl: Option<(Mechanism, String, String)>,
}

impl PeerConnector {
    /// Plain TCP (a PLAINTEXT inter-broker listener).
    pub fn plaintext() -> PeerConnector {
        PeerConnector {
            tls: None,
            sasl: None,
        }
    }

    /// The connector for `config`'s inter-broker listener (its checks were made by
    /// [`Config::check`]; what is still missing here is an error).
    pub fn from_config(config: &Config) -> Result<PeerConnector, String> {
        let inter = config.inter_broker_listener();
        let sec = &config.security;
        let tls = match inter.protocol {
            SecurityProtocol::Ssl | SecurityProtocol::SaslSsl => {
                let s = sec.tls.for_listener(&inter.name)?;
                Some(crate::security::tls::client_config(&s)?)
            }
            _ => None,
        };
        let sasl = match inter.protocol.sasl() {
            false => None,
            true => {
                let m = sec.inter_broker_mechanism;
                let (user, password) = sec
                    .login(&inter.name, m)
                    .ok_or_else(|| format!("no {} login for listener {}", m.name(), inter.name))?;
                Some((m, user.clone(), password.clone()))
            }
        };
        Ok(PeerConnector { tls, sasl })
    }

    /// Connects to `addr` (host:port) from `source`, then secures and authenticates.
    pub async fn connect(&self, addr: &str, source: Option<IpAddr>) -> std::io::Result<PeerStream> {
        let tcp = step(crate::cluster::network::connect_from(addr, source)).await??;
        let mut stream: PeerStream = match &self.tls {
            None => Box::new(tcp),
            Some(config) => {
                let name = crate::security::tls::server_name_of(addr)?;
                let connector = tokio_rustls::TlsConnector::from(config.clone());
                Box::new(step(connector.connect(name, tcp)).await??)
            }
        };
        if let Some((mechanism, user, password)) = &self.sasl {
            authenticate(&mut stream, *mechanism, user, password)
                .await
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e))?;
        }
        Ok(stream)
    }
}

async fn step<F: std::future::Future>(f: F) -> std::io::Result<F::Output> {
    tokio::time::timeout(STEP_TIMEOUT, f)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "peer step timed out"))
}

/// One request and its response, correlation `id`; an answer larger than `max_answer` bytes
/// is refused before anything is allocated for it, and each step is bounded in time.
pub async fn exchange<R: Request>(
    stream: &mut PeerStream,
    id: i32,
    version: i16,
    req: &R,
    max_answer: usize,
) -> Result<R::Response, String> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(id)
        .with_client_id(Some(StrBytes::from_static_str("weir-broker")));
    let mut body = BytesMut::new();
    let key = ApiKey::try_from(R::KEY).map_err(|_| "unknown API key")?;
    header
        .encode(&mut body, key.request_header_version(version))
        .map_err(|e| e.to_string())?;
    req.encode(&mut body, version).map_err(|e| e.to_string())?;
    let mut frame = BytesMut::with_capacity(4 + body.len());
    frame.put_i32(body.len() as i32);
    frame.extend_from_slice(&body);
    let io = |e: std::io::Error| e.to_string();
    step(stream.write_all(&frame))
        .await
        .map_err(io)?
        .map_err(io)?;
    let size = step(stream.read_i32()).await.map_err(io)?.map_err(io)?;
    if size < 0 || size as usize > max_answer {
        return Err(format!("answer of {size} bytes refused"));
    }
    let mut buf = vec![0u8; size as usize];
    step(stream.read_exact(&mut buf))
        .await
        .map_err(io)?
        .map_err(io)?;
    let mut buf = Bytes::from(buf);
    let rh = ResponseHeader::decode(&mut buf, R::Response::header_version(version))
        .map_err(|e| e.to_string())?;
    if rh.correlation_id != id {
        return Err(format!("correlation id {} for {id}", rh.correlation_id));
    }
    let resp = R::Response::decode(&mut buf, version).map_err(|e| e.to_string())?;
    if buf.has_remaining() {
        return Err("trailing bytes in an answer".into());
    }
    Ok(resp)
}

/// Kafka's SASL exchange as a client.
async fn authenticate(
    stream: &mut PeerStream,
    mechanism: Mechanism,
    user: &str,
    password: &str,
) -> Result<(), String> {
    let hs = SaslHandshakeRequest::default()
        .with_mechanism(StrBytes::from(mechanism.name().to_string()));
    let r: SaslHandshakeResponse = exchange(stream, 1, 1, &hs, MAX_SASL_ANSWER).await?;
    if r.error_code != 0 {
        return Err(format!(
            "SaslHandshake {}: error {} (the peer enables {:?})",
            mechanism.name(),
            r.error_code,
            r.mechanisms
        ));
    }
    let mut id = 1;
    let mut send = async |token: Vec<u8>| -> Result<Bytes, String> {
        id += 1;
        let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
        let r: SaslAuthenticateResponse = exchange(stream, id, 2, &req, MAX_SASL_ANSWER).await?;
        if r.error_code != 0 {
            return Err(format!(
                "authentication as {user} refused: {}",
                r.error_message.as_deref().unwrap_or("")
            ));
        }
        Ok(r.auth_bytes)
    };
    match mechanism {
        Mechanism::Plain => {
            send(format!("\0{user}\0{password}").into_bytes()).await?;
        }
        Mechanism::Scram(m) => {
            let mut client = ScramClient::new(m, user, password, server_nonce());
            let server_first = send(client.client_first()).await?;
            let client_final = client.client_final(&server_first)?;
            let server_final = send(client_final).await?;
            client.server_final(&server_final)?;
        }
    }
    Ok(())
}
