//! A response on its way to the socket: encoded bytes plus spliced payloads.
//!
//! Fetched record batches are `Bytes` slices of memory-mapped segments. Copying them into the
//! encoded response would be the one user-space copy of every byte a consumer reads, so they
//! are spliced instead: while a response is encoded, a `put_slice` of a registered payload
//! (recognised by its address and length) records the payload and where it belongs instead of
//! copying it. The frame is then written with vectored writes: encoded bytes, payload,
//! encoded bytes, ... and the kernel reads the payload straight from the page cache mapping.
//!
//! Invariants:
//! - `splices` is sorted by position, every position is `<= buf.len()`, and the frame on the
//!   wire is `buf` with each payload inserted at its position, in order (several payloads at
//!   one position go out in the order they were spliced).
//! - A spliced payload is kept alive (its `Bytes` owns the segment map) until the frame has
//!   been written or dropped.

use std::io::IoSlice;

use bytes::buf::UninitSlice;
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::protocol::buf::ByteBufMut;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Payloads smaller than this are copied: an iovec entry per tiny batch is not worth it.
pub const SPLICE_MIN: usize = 1024;

/// Most iovec entries given to one `writev` (Linux's `IOV_MAX` is 1024).
const MAX_IOV: usize = 1024;

/// One or more response frames: `buf` with `splices` inserted.
#[derive(Debug, Default)]
pub struct Outgoing {
    pub buf: BytesMut,
    splices: Vec<(usize, Bytes)>,
}

impl Outgoing {
    pub fn with_capacity(capacity: usize) -> Self {
        Outgoing {
            buf: BytesMut::with_capacity(capacity),
            splices: Vec::new(),
        }
    }

    /// Bytes on the wire: encoded plus spliced.
    pub fn len(&self) -> usize {
        self.buf.len() + self.splices.iter().map(|(_, b)| b.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the content, keeping `buf`'s capacity.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.splices.clear();
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
            all.extend_from_slice(payload);
            from = *at;
        }
        all.extend_from_slice(&self.buf[from..]);
        all.freeze()
    }

    /// A writer that encodes into `buf`, splicing `payloads` (in the order the encoder meets
    /// them) instead of copying them.
    pub fn splicing<'a>(&'a mut self, payloads: &'a [Bytes]) -> SplicingBuf<'a> {
        SplicingBuf {
            out: self,
            payloads,
            next: 0,
        }
    }

    /// Writes everything, with as few `writev` calls as the socket allows.
    pub async fn write_to<W: AsyncWrite + Unpin>(&self, w: &mut W) -> std::io::Result<()> {
        if self.splices.is_empty() {
            return w.write_all(&self.buf).await;
        }
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(2 * self.splices.len() + 1);
        let mut from = 0;
        for (at, payload) in &self.splices {
            if *at > from {
                slices.push(IoSlice::new(&self.buf[from..*at]));
            }
            slices.push(IoSlice::new(payload));
            from = *at;
        }
        if from < self.buf.len() {
            slices.push(IoSlice::new(&self.buf[from..]));
        }
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            let upto = rest.len().min(MAX_IOV);
            let n = w.write_vectored(&rest[..upto]).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut rest, n);
        }
        Ok(())
    }
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
    payloads: &'a [Bytes],
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
            if src.as_ptr() == payload.as_ptr() && src.len() == payload.len() {
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

    fn sample() -> (Outgoing, Vec<Bytes>) {
        let big = Bytes::from(vec![7u8; 3000]);
        let other = Bytes::from(vec![9u8; 2000]);
        let payloads = vec![big.clone(), other.clone()];
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
        out.write_to(&mut a).await.unwrap();
        drop(a);
        assert_eq!(reader.await.unwrap(), expected());
    }

    #[test]
    fn reset_to_a_mark_drops_what_came_after() {
        let payload = Bytes::from(vec![1u8; 1500]);
        let payloads = [payload.clone()];
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
