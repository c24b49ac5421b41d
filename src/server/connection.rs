//! One client connection: read a frame, dispatch it, write the response, strictly in order.
//!
//! A broken frame (bad size, truncated, unparseable header or body, unknown API key or
//! unsupported version other than ApiVersions') closes this connection only, and so do an
//! idle connection and a frame that does not arrive in time ([`FrameLimits`]). A request's
//! share of the broker's request memory is held until its response is written.
//!
//! Responses are encoded into one buffer the connection reuses (its capacity is kept between
//! responses, up to [`KEEP_CAPACITY`]) and written straight to the socket. Fetched record
//! batches are not copied in user space at all: they are spliced into the vectored write
//! from the mapped segments, or with `sendfile` set sent from the segment files (see
//! [`Outgoing`] and `socket.sendfile`). Over TLS they are copied once, into rustls, which
//! encrypts them; the loop is the same ([`serve`] takes any stream).

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use crate::broker::Broker;
use crate::config::Listener;
use crate::handlers::{self, sasl_authenticate};
use crate::protocol::frame::{read_frame_within, FrameError, FrameLimits};
use crate::protocol::outgoing::{Outgoing, Sink};
use crate::security::tls::principal_of;
use crate::server::listener::Slot;
use crate::server::session::Session;

/// Response buffer capacity kept for the next response; a larger one is released.
const KEEP_CAPACITY: usize = 8 * 1024 * 1024;
const INITIAL_CAPACITY: usize = 64 * 1024;
/// The socket read buffer. Small requests and frame sizes arrive through it (several pipelined
/// requests per read); a large body is read straight into its own buffer once this one is
/// drained (see [`crate::protocol::frame`]), so it need not be large, and every connection,
/// idle or not, holds one.
const READ_BUFFER: usize = 16 * 1024;

/// Serves one accepted socket: the TLS handshake first on a TLS listener (at most
/// `request.read.timeout.ms`; the principal of an SSL listener is the client certificate's
/// subject, if it sent one), then requests until the client leaves, a frame is broken, or
/// the broker shuts down.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    broker: Arc<Broker>,
    stream: TcpStream,
    peer: SocketAddr,
    listener: Arc<Listener>,
    tls: Option<Arc<ServerConfig>>,
    limits: Arc<FrameLimits>,
    sendfile: bool,
    _slot: Slot,
) {
    let mut session = Session::new(&broker, &listener, peer);
    let _open = broker.metrics.connection();
    let Some(tls) = tls else {
        let (read_half, writer) = stream.into_split();
        serve(
            &broker,
            read_half,
            writer,
            peer,
            &mut session,
            &limits,
            sendfile,
        )
        .await;
        return;
    };
    let handshake = TlsAcceptor::from(tls).accept(stream);
    let stream = tokio::select! {
        _ = broker.shutdown.cancelled() => return,
        h = tokio::time::timeout(limits.partial, handshake) => match h {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::info!(%peer, listener = %listener.name, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::info!(%peer, listener = %listener.name, "TLS handshake not finished in time; closing");
                return;
            }
        },
    };
    let subject = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(principal_of);
    session.set_certificate_principal(subject);
    let (read_half, writer) = tokio::io::split(stream);
    // Fetched records are copied through rustls, never sent from the files.
    serve(
        &broker,
        read_half,
        writer,
        peer,
        &mut session,
        &limits,
        false,
    )
    .await;
}

/// The request loop over any byte stream.
async fn serve<R, W>(
    broker: &Arc<Broker>,
    read_half: R,
    mut writer: W,
    peer: SocketAddr,
    session: &mut Session,
    limits: &FrameLimits,
    sendfile: bool,
) where
    R: AsyncRead + Unpin,
    W: Sink,
{
    let mut reader = BufReader::with_capacity(READ_BUFFER, read_half);
    let mut out = Outgoing::with_capacity(INITIAL_CAPACITY);
    loop {
        let frame = tokio::select! {
            _ = broker.shutdown.cancelled() => break,
            f = read_frame_within(&mut reader, limits) => f,
        };
        let (frame, mut memory) = match frame {
            Ok(f) => f,
            Err(FrameError::Closed) => break,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "closing connection");
                break;
            }
        };
        broker.metrics.received(frame.len() + 4);
        if session.sasl.as_ref().is_some_and(|s| s.expects_raw_token()) {
            // After SaslHandshake v0: a raw token, answered raw (its size, then it).
            let Some(token) = sasl_authenticate::raw_token(broker, session, &frame) else {
                break;
            };
            out.buf
                .extend_from_slice(&(token.len() as i32).to_be_bytes());
            out.buf.extend_from_slice(&token);
        } else {
            let handled =
                handlers::handle_frame_within(broker, frame, session, &mut out, Some(&mut memory));
            match handled.await {
                Ok(true) => {}
                Ok(false) => {
                    // No response (acks=0); a quota's throttle still mutes.
                    let mute = std::mem::take(&mut out.mute_ms);
                    out.clear();
                    if !mute_for(broker, mute).await {
                        break;
                    }
                    continue;
                }
                Err(e) => {
                    tracing::info!(%peer, error = %e, "bad request; closing connection");
                    break;
                }
            }
        }
        broker.metrics.sent(out.len());
        if let Err(e) = out.write_to(&mut writer, sendfile).await {
            tracing::debug!(%peer, error = %e, "write failed");
            break;
        }
        if session.close_after_response {
            break;
        }
        // A client over its quota: its answer is out (with the throttle time in it); read
        // nothing more from it for that long (KIP-219).
        if !mute_for(broker, out.mute_ms).await {
            break;
        }
        if out.buf.capacity() > KEEP_CAPACITY {
            out = Outgoing::with_capacity(INITIAL_CAPACITY);
        } else {
            out.clear();
        }
    }
    let _ = writer.shutdown().await;
}

/// Reads nothing for `ms` (a client quota's throttle); false when the broker shuts down
/// meanwhile.
async fn mute_for(broker: &Broker, ms: i64) -> bool {
    if ms <= 0 {
        return true;
    }
    broker.metrics.throttled(ms);
    tokio::select! {
        _ = broker.shutdown.cancelled() => false,
        _ = tokio::time::sleep(std::time::Duration::from_millis(ms as u64)) => true,
    }
}
