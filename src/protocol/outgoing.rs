//! A response on its way to the socket: encoded bytes plus spliced payloads.
//!
//! Fetched record batches are `Bytes` slices of memory-mapped segments. Copying them into the
//! encoded response would be a user-space copy of every byte a consumer reads, so they are
//! spliced instead: while a response is encoded, a `put_slice` of a registered payload
//! (recognised by its address and length) records the payload and where it belongs instead of
//! copying it. The frame then goes out in order, encoded bytes and payloads:
//! - a payload of at least [`SENDFILE_MIN`] bytes that knows its segment file is sent with
//!   `sendfile(2)`: the kernel hands page-cache pages to the socket, and no CPU copies them on
//!   the broker's side;
//! - everything else is written with vectored writes (`writev`), the payloads straight from
//!   their mapping.
//!
//! Invariants:
//! - `splices` is sorted by position, every position is `<= buf.len()`, and the frame on the
//!   wire is `buf` with each payload inserted at its position, in order (several payloads at
//!   one position go out in the order they were spliced).
//! - A spliced payload is kept alive (its `Bytes` owns the segment map) until the frame has
//!   been written or dropped.

use std::fs::File;
use std::future::Future;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};

use bytes::buf::UninitSlice;
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::protocol::buf::ByteBufMut;
use tokio::io::{AsyncWrite, AsyncWriteExt, Interest};
use tokio::net::tcp::OwnedWriteHalf;

use crate::log::partition::FileSlice;

/// Payloads smaller than this are copied: an iovec entry per tiny batch is not worth it.
pub const SPLICE_MIN: usize = 1024;

/// Payloads at least this large go out with `sendfile`, smaller ones in the `writev`: below
/// it, the extra system call costs more than copying the bytes.
pub const SENDFILE_MIN: usize = 16 * 1024;

/// The most one `sendfile` call is asked to send (Linux sends at most 0x7ffff000).
const MAX_SENDFILE: usize = 0x7fff_f000;

/// Most iovec entries given to one `writev` (Linux's `IOV_MAX` is 1024).
const MAX_IOV: usize = 1024;

/// Bytes to splice into a response rather than copy.
#[derive(Debug, Clone)]
pub struct Payload {
    pub bytes: Bytes,
    /// The file holding the same bytes, and their position in it (a segment), if any.
    pub file: Option<FileSlice>,
}

/// One or more response frames: `buf` with `splices` inserted.
#[derive(Debug, Default)]
pub struct Outgoing {
    pub buf: BytesMut,
    splices: Vec<(usize, Payload)>,
    /// How long, ms, the connection reads nothing more once this response is written (a
    /// client quota's throttle, KIP-219); 0 for none.
    pub mute_ms: i64,
    /// Set when the request was a follower's fetch: exempt from request quotas, as Kafka
    /// exempts cluster actions.
    pub quota_exempt: bool,
}

impl Outgoing {
    pub fn with_capacity(capacity: usize) -> Self {
        Outgoing {
            buf: BytesMut::with_capacity(capacity),
            splices: Vec::new(),
            mute_ms: 0,
            quota_exempt: false,
        }
    }

    /// Bytes on the wire: encoded plus spliced.
    pub fn len(&self) -> usize {
        self.buf.len()
            + self
                .splices
                .iter()
                .map(|(_, p)| p.bytes.len())
                .sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the content, keeping `buf`'s capacity.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.splices.clear();
        self.mute_ms = 0;
        self.quota_exempt = false;
    }

    /// Where the content ends now, to cut back to with [`Outgoing::reset_to`].
    pub fn mark(&self) -> Mark {
        Mark {
            buf: self.buf.len(),
            splices: self.splices.len(),
        }
    }

    /// Cuts back to `mark` (an encode that failed half-way).
    pub fn reset_to(&mut self, mark: Mark) {
        self.buf.truncate(mark.buf);
        self.splices.truncate(mark.splices);
    }

    /// The frame(s) as one contiguous buffer (tests and fuzzing; the server writes vectored).
    pub fn to_bytes(&self) -> Bytes {
        let mut all = BytesMut::with_capacity(self.len());
        let mut from = 0;
        for (at, payload) in &self.splices {
            all.extend_from_slice(&self.buf[from..*at]);
            all.extend_from_slice(&payload.bytes);
            from = *at;
        }
        all.extend_from_slice(&self.buf[from..]);
        all.freeze()
    }

    /// A writer that encodes into `buf`, splicing `payloads` (in the order the encoder meets
    /// them) instead of copying them.
    pub fn splicing<'a>(&'a mut self, payloads: &'a [Payload]) -> SplicingBuf<'a> {
        SplicingBuf {
            out: self,
            payloads,
            next: 0,
        }
    }

    /// Writes everything in order: with `sendfile` set, `sendfile` for large file-backed
    /// payloads when `w` can; as few `writev` calls as the socket allows for the rest.
    pub async fn write_to<W: Sink>(&self, w: &mut W, sendfile: bool) -> io::Result<()> {
        if self.splices.is_empty() {
            return w.write_all(&self.buf).await;
        }
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(2 * self.splices.len() + 1);
        let mut from = 0;
        for (at, payload) in &self.splices {
            if *at > from {
                slices.push(IoSlice::new(&self.buf[from..*at]));
            }
            from = *at;
            match &payload.file {
                Some((file, pos)) if sendfile && payload.bytes.len() >= SENDFILE_MIN => {
                    write_all_vectored(w, &mut slices).await?;
                    slices.clear();
                    send_file_all(w, file, *pos, &payload.bytes).await?;
                }
                _ => slices.push(IoSlice::new(&payload.bytes)),
            }
        }
        if from < self.buf.len() {
            slices.push(IoSlice::new(&self.buf[from..]));
        }
        write_all_vectored(w, &mut slices).await
    }
}

/// Writes every slice, in `writev` calls of at most [`MAX_IOV`] entries.
async fn write_all_vectored<W: AsyncWrite + Unpin>(
    w: &mut W,
    slices: &mut [IoSlice<'_>],
) -> io::Result<()> {
    let mut rest = slices;
    while !rest.is_empty() {
        let upto = rest.len().min(MAX_IOV);
        let n = w.write_vectored(&rest[..upto]).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(())
}

/// Sends `bytes`, which are also `file` from `pos`, with `sendfile` if `w` can (else, or for
/// what is left when it stops being able to, a plain write).
async fn send_file_all<W: Sink>(w: &mut W, file: &File, pos: u64, bytes: &[u8]) -> io::Result<()> {
    let mut sent = 0;
    while sent < bytes.len() {
        match w
            .send_file(file, pos + sent as u64, bytes.len() - sent)
            .await?
        {
            // The file ended early: it no longer holds what was read (never expected).
            Some(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Some(n) => sent += n,
            None => return w.write_all(&bytes[sent..]).await,
        }
    }
    Ok(())
}

/// A destination for responses.
pub trait Sink: AsyncWrite + Unpin {
    /// Sends up to `len` bytes of `file` from `pos` without them passing through user space.
    /// `Ok(None)`: this sink cannot (the caller writes the bytes instead); `Ok(Some(n))`: `n`
    /// bytes were sent, 0 only if the file ends before `pos`.
    fn send_file(
        &mut self,
        file: &File,
        pos: u64,
        len: usize,
    ) -> impl Future<Output = io::Result<Option<usize>>> + Send {
        let _ = (file, pos, len);
        std::future::ready(Ok(None))
    }
}

impl Sink for OwnedWriteHalf {
    fn send_file(
        &mut self,
        file: &File,
        pos: u64,
        len: usize,
    ) -> impl Future<Output = io::Result<Option<usize>>> + Send {
        let stream: &tokio::net::TcpStream = (*self).as_ref();
        // The future borrows both the socket and the file: neither descriptor can be closed
        // while a sendfile of it may run.
        async move {
            stream
                .async_io(Interest::WRITABLE, || {
                    sendfile(stream.as_raw_fd(), file.as_raw_fd(), pos, len)
                })
                .await
                .map(Some)
        }
    }
}

/// A TLS connection's write half: the bytes go through rustls (the default, copying path).
impl Sink for tokio::io::WriteHalf<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {}

#[cfg(test)]
impl Sink for tokio::io::DuplexStream {}

/// One `sendfile(2)` call: up to `len` bytes of `file` from `pos` to `socket`. `WouldBlock`
/// when the socket's send buffer is full.
#[allow(unsafe_code)]
fn sendfile(socket: RawFd, file: RawFd, pos: u64, len: usize) -> io::Result<usize> {
    let mut offset = libc::off_t::try_from(pos).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: the caller's borrows keep both descriptors open for this call (see
    // `send_file`), `offset` is a valid, exclusive pointer, and sendfile touches no other
    // memory of this process.
    let n = unsafe { libc::sendfile(socket, file, &mut offset, len.min(MAX_SENDFILE)) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// A point in an [`Outgoing`]'s content.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    buf: usize,
    splices: usize,
}

/// Encodes into an [`Outgoing`], splicing registered payloads (see the module docs).
pub struct SplicingBuf<'a> {
    out: &'a mut Outgoing,
    payloads: &'a [Payload],
    /// The next payload expected; payloads are met in order, so one comparison per slice.
    next: usize,
}

impl SplicingBuf<'_> {
    /// How many payloads were spliced rather than copied.
    pub fn spliced(&self) -> usize {
        self.next
    }
}

// `BufMut` is an unsafe trait: kafka-protocol encodes through it.
// SAFETY: every method but `put_slice` delegates to `BytesMut`, whose contract it inherits;
// `put_slice` either delegates or leaves the buffer untouched.
#[allow(unsafe_code)]
unsafe impl BufMut for SplicingBuf<'_> {
    fn remaining_mut(&self) -> usize {
        self.out.buf.remaining_mut()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller's guarantee, passed on.
        unsafe { self.out.buf.advance_mut(cnt) }
    }

    fn chunk_mut(&mut self) -> &mut UninitSlice {
        self.out.buf.chunk_mut()
    }

    fn put_slice(&mut self, src: &[u8]) {
        if let Some(payload) = self.payloads.get(self.next) {
            if src.as_ptr() == payload.bytes.as_ptr() && src.len() == payload.bytes.len() {
                self.out.splices.push((self.out.buf.len(), payload.clone()));
                self.next += 1;
                return;
            }
        }
        self.out.buf.put_slice(src);
    }
}

impl ByteBufMut for SplicingBuf<'_> {
    // Offsets are those of the encoded bytes. Only record-batch encoding seeks (to patch
    // lengths and CRCs), never across a spliced payload: responses carry batches as bytes.
    fn offset(&self) -> usize {
        self.out.buf.len()
    }

    fn seek(&mut self, offset: usize) {
        self.out.buf.resize(offset, 0);
    }

    fn range(&mut self, r: std::ops::Range<usize>) -> &mut [u8] {
        &mut self.out.buf[r]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(bytes: &Bytes) -> Payload {
        Payload {
            bytes: bytes.clone(),
            file: None,
        }
    }

    fn sample() -> (Outgoing, Vec<Payload>) {
        let big = Bytes::from(vec![7u8; 3000]);
        let other = Bytes::from(vec![9u8; 2000]);
        let payloads = vec![payload(&big), payload(&other)];
        let mut out = Outgoing::default();
        {
            let mut w = out.splicing(&payloads);
            w.put_slice(b"head");
            w.put_slice(&big);
            // An equal copy elsewhere is not the payload: it is copied.
            let copy = other.to_vec();
            w.put_slice(&copy);
            w.put_slice(b"mid");
            w.put_slice(&other);
            assert_eq!(w.spliced(), 2);
        }
        (out, payloads)
    }

    fn expected() -> Vec<u8> {
        let mut v = b"head".to_vec();
        v.extend(vec![7u8; 3000]);
        v.extend(vec![9u8; 2000]);
        v.extend(b"mid");
        v.extend(vec![9u8; 2000]);
        v
    }

    #[test]
    fn spliced_payloads_are_not_copied_and_go_out_in_place() {
        let (out, _) = sample();
        assert_eq!(
            out.buf.len(),
            4 + 2000 + 3,
            "only unregistered bytes are copied"
        );
        assert_eq!(out.len(), expected().len());
        assert_eq!(&out.to_bytes()[..], &expected()[..]);
    }

    #[tokio::test]
    async fn vectored_write_survives_short_writes() {
        let (out, _) = sample();
        // A writer that takes at most 7 bytes a call, so every slice boundary is crossed.
        let (mut a, mut b) = tokio::io::duplex(7);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut b, &mut got)
                .await
                .unwrap();
            got
        });
        out.write_to(&mut a, true).await.unwrap();
        drop(a);
        assert_eq!(reader.await.unwrap(), expected());
    }

    #[test]
    fn reset_to_a_mark_drops_what_came_after() {
        let payload = Bytes::from(vec![1u8; 1500]);
        let payloads = [super::tests::payload(&payload)];
        let mut out = Outgoing::default();
        out.buf.put_slice(b"first");
        let mark = out.mark();
        {
            let mut w = out.splicing(&payloads);
            w.put_slice(&payload);
            w.put_slice(b"tail");
        }
        assert_eq!(out.len(), 5 + 1500 + 4);
        out.reset_to(mark);
        assert_eq!(&out.to_bytes()[..], b"first");
    }
}

#[cfg(test)]
mod socket_tests {
    use std::io::Write;
    use std::sync::Arc;

    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A large file-backed payload goes out with sendfile, in place, between the encoded
    /// bytes and the other payloads. The payload's `bytes` deliberately differ from the file,
    /// so the receiver sees which of the two was sent. 16 MiB is more than loopback socket
    /// buffers hold, so sendfile also meets a full socket and waits for it.
    #[tokio::test]
    async fn large_file_payloads_are_sent_from_the_file() {
        let on_disk: Vec<u8> = (0..(17u32 << 20)).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&on_disk).unwrap();
        let file = Arc::new(file);
        let large = Payload {
            bytes: Bytes::from(vec![0u8; 16 << 20]),
            file: Some((file.clone(), 1_000)),
        };
        let small = Payload {
            bytes: Bytes::from(vec![1u8; SENDFILE_MIN - 1]),
            file: Some((file, 0)),
        };
        let payloads = [large.clone(), small.clone()];
        let mut out = Outgoing::default();
        {
            let mut w = out.splicing(&payloads);
            w.put_slice(b"header");
            w.put_slice(&large.bytes);
            w.put_slice(b"between");
            w.put_slice(&small.bytes);
            w.put_slice(b"end");
        }
        let mut want = b"header".to_vec();
        want.extend_from_slice(&on_disk[1_000..1_000 + (16 << 20)]);
        want.extend_from_slice(b"between");
        want.extend_from_slice(&small.bytes); // below SENDFILE_MIN: written from memory
        want.extend_from_slice(b"end");

        assert!(
            send(&out, true).await == want,
            "the large payload came from the file"
        );
        assert!(
            send(&out, false).await == out.to_bytes()[..],
            "without sendfile, the payload's bytes are written as they are"
        );
    }

    /// What a peer receives when `out` is written to it over loopback TCP.
    async fn send(out: &Outgoing, sendfile: bool) -> Vec<u8> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            got
        });
        let (_, mut w) = TcpStream::connect(addr).await.unwrap().into_split();
        out.write_to(&mut w, sendfile).await.unwrap();
        tokio::io::AsyncWriteExt::shutdown(&mut w).await.unwrap();
        drop(w);
        reader.await.unwrap()
    }
}
