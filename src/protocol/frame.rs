//! Request framing: a 4-byte big-endian size, then that many bytes.
//!
//! The size is checked BEFORE anything is allocated: `0 < size <= socket.request.max.bytes`,
//! otherwise the connection is closed. A body of up to [`WHOLE_RESERVE`] bytes is then
//! reserved in one allocation (no regrowth copying its first part again; the pages are
//! only touched as bytes arrive); a larger one grows only as bytes actually arrive (in steps
//! of at most [`READ_CHUNK`]), so a peer that announces a large frame and sends nothing holds
//! almost no memory.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{timeout, timeout_at, Instant};

use super::ProtocolError;

/// The most the frame buffer grows ahead of the bytes received.
pub const READ_CHUNK: usize = 64 * 1024;

/// Bodies up to this size are reserved whole: every usual Produce request (clients default
/// to 1 MB batches) is read straight into its final buffer.
pub const WHOLE_RESERVE: usize = 8 * 1024 * 1024;

/// Why reading a frame stopped.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection cleanly between frames.
    #[error("connection closed")]
    Closed,
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// No request began within `connections.max.idle.ms`.
    #[error("idle connection")]
    Idle,
    /// A request began but did not arrive whole within `socket.request.read.timeout.ms`.
    #[error("request not received in time")]
    Timeout,
}

/// The bounds on reading one request frame.
#[derive(Debug, Clone)]
pub struct FrameLimits {
    /// `socket.request.max.bytes`.
    pub max: usize,
    /// `connections.max.idle.ms`: the longest wait for a request's first byte.
    pub idle: Duration,
    /// `socket.request.read.timeout.ms`: the longest a started frame may take to arrive
    /// (after memory for it was granted).
    pub partial: Duration,
    /// `queued.max.request.bytes` shared by every connection: a frame's bytes are granted
    /// before its body is read, and held until its response is written.
    pub memory: Arc<Semaphore>,
    /// The semaphore's total, so one frame never asks for more than exists.
    pub memory_total: usize,
}

/// A request's share of `queued.max.request.bytes`, held until dropped (after its response
/// is written): its wire bytes from the read on, and what decoding it takes once
/// [`Grant::extend`]ed by the layout walk's bound (see [`crate::protocol::layout::check`]).
#[derive(Debug)]
pub struct Grant {
    /// `None` only while waiting for a larger share in [`Grant::extend`].
    permit: Option<OwnedSemaphorePermit>,
    memory: Arc<Semaphore>,
    total: usize,
}

impl Grant {
    /// The bytes held.
    fn bytes(&self) -> usize {
        self.permit.as_ref().map_or(0, |p| p.num_permits())
    }

    /// Grows the share by `bytes`, waiting for them if need be. A request whose share would
    /// exceed the whole budget is refused (its connection closed, as for an oversized
    /// frame): decoding it could not be bounded. While waiting the grant holds nothing, so
    /// that two requests each holding a part never wait for each other's.
    pub async fn extend(&mut self, bytes: usize) -> Result<(), ProtocolError> {
        if bytes == 0 {
            return Ok(());
        }
        let want = self.bytes().saturating_add(bytes);
        if want > self.total {
            return Err(ProtocolError::DecodedSize(want, self.total));
        }
        let more = self.memory.clone().try_acquire_many_owned(bytes as u32);
        match (more, self.permit.as_mut()) {
            (Ok(more), Some(permit)) => permit.merge(more),
            (more, _) => {
                drop(more);
                self.permit = None;
                let all = self.memory.clone().acquire_many_owned(want as u32).await;
                self.permit = Some(all.map_err(|_| ProtocolError::DecodedSize(want, 0))?);
            }
        }
        Ok(())
    }
}

/// Reads one frame within `limits`: the grant returned holds the frame's share of the
/// shared request memory until dropped.
pub async fn read_frame_within<R: AsyncBufRead + Unpin>(
    r: &mut R,
    limits: &FrameLimits,
) -> Result<(Bytes, Grant), FrameError> {
    match timeout(limits.idle, r.fill_buf()).await {
        Err(_) => return Err(FrameError::Idle),
        Ok(Ok([])) => return Err(FrameError::Closed),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e.into()),
    }
    let deadline = Instant::now() + limits.partial;
    let size = timeout_at(deadline, read_size(r))
        .await
        .map_err(|_| FrameError::Timeout)??
        .ok_or(FrameError::Closed)?;
    let size = check_size(size, limits.max)?;
    // Waiting for memory is back-pressure, not the peer's slowness: the body's own deadline
    // starts once granted.
    let share = size.min(limits.memory_total).min(u32::MAX as usize) as u32;
    let permit = limits
        .memory
        .clone()
        .acquire_many_owned(share)
        .await
        .map_err(|_| FrameError::Closed)?;
    let body = timeout(limits.partial, read_body(r, size))
        .await
        .map_err(|_| FrameError::Timeout)??;
    let grant = Grant {
        permit: Some(permit),
        memory: limits.memory.clone(),
        total: limits.memory_total.min(u32::MAX as usize),
    };
    Ok((body, grant))
}

/// Reads the 4-byte size; `None` if the peer closed before sending any of it.
async fn read_size<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<i32>, FrameError> {
    let mut size = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut size[got..]).await?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into())
            };
        }
        got += n;
    }
    Ok(Some(i32::from_be_bytes(size)))
}

/// Reads a frame body of `size` bytes (already checked): reserved whole up to
/// [`WHOLE_RESERVE`], otherwise growing the buffer only as bytes arrive.
async fn read_body<R: AsyncRead + Unpin>(r: &mut R, size: usize) -> Result<Bytes, FrameError> {
    let first = if size <= WHOLE_RESERVE {
        size
    } else {
        READ_CHUNK
    };
    let mut buf = BytesMut::with_capacity(first);
    while buf.len() < size {
        if buf.capacity() == buf.len() {
            buf.reserve((size - buf.len()).min(READ_CHUNK));
        }
        let want = size - buf.len();
        let n = (&mut *r).take(want as u64).read_buf(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
    }
    Ok(buf.freeze())
}

/// Checks a frame's announced size.
pub fn check_size(size: i32, max: usize) -> Result<usize, ProtocolError> {
    if size <= 0 || size as usize > max {
        return Err(ProtocolError::FrameSize(i64::from(size), max));
    }
    Ok(size as usize)
}

/// Reads one frame body (without its size prefix), with no time or memory bounds.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> Result<Bytes, FrameError> {
    let size = read_size(r).await?.ok_or(FrameError::Closed)?;
    let size = check_size(size, max)?;
    read_body(r, size).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_edges() {
        assert!(check_size(0, 100).is_err());
        assert!(check_size(-1, 100).is_err());
        assert!(check_size(i32::MIN, 100).is_err());
        assert_eq!(check_size(1, 100).unwrap(), 1);
        assert_eq!(check_size(100, 100).unwrap(), 100);
        assert!(check_size(101, 100).is_err());
    }

    /// Bodies reserved whole and bodies grown chunk by chunk read back the same.
    #[tokio::test]
    async fn small_and_large_bodies_read_whole() {
        for size in [
            1,
            READ_CHUNK + 3,
            WHOLE_RESERVE,
            WHOLE_RESERVE + READ_CHUNK + 5,
        ] {
            let body: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
            let mut wire = (size as i32).to_be_bytes().to_vec();
            wire.extend_from_slice(&body);
            wire.extend_from_slice(&[0, 0, 0, 1, 42]);
            // Through a small buffered reader, as a connection reads.
            let mut r = tokio::io::BufReader::with_capacity(1024, &wire[..]);
            let got = read_frame(&mut r, usize::MAX >> 1).await.unwrap();
            assert!(got[..] == body[..], "size {size}");
            assert_eq!(&read_frame(&mut r, 10).await.unwrap()[..], &[42]);
        }
    }

    #[tokio::test]
    async fn reads_frames_and_detects_truncation() {
        let mut data: &[u8] = &[0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 2, 9];
        assert_eq!(&read_frame(&mut data, 10).await.unwrap()[..], &[1, 2, 3]);
        assert!(matches!(
            read_frame(&mut data, 10).await,
            Err(FrameError::Io(_))
        ));
        let mut empty: &[u8] = &[];
        assert!(matches!(
            read_frame(&mut empty, 10).await,
            Err(FrameError::Closed)
        ));
        let mut huge: &[u8] = &[0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_frame(&mut huge, 10).await,
            Err(FrameError::Protocol(ProtocolError::FrameSize(..)))
        ));
        let mut half_size: &[u8] = &[0, 0];
        assert!(matches!(
            read_frame(&mut half_size, 10).await,
            Err(FrameError::Io(_))
        ));
    }
}
