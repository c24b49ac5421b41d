//! Request framing: a 4-byte big-endian size, then that many bytes.
//!
//! The size is checked BEFORE anything is allocated: `0 < size <= socket.request.max.bytes`,
//! otherwise the connection is closed. The body buffer then grows only as bytes actually
//! arrive (in steps of at most [`READ_CHUNK`]), so a peer that announces a large frame and
//! sends nothing holds almost no memory.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::ProtocolError;

/// The most the frame buffer grows ahead of the bytes received.
pub const READ_CHUNK: usize = 64 * 1024;

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
}

/// Checks a frame's announced size.
pub fn check_size(size: i32, max: usize) -> Result<usize, ProtocolError> {
    if size <= 0 || size as usize > max {
        return Err(ProtocolError::FrameSize(i64::from(size), max));
    }
    Ok(size as usize)
}

/// Reads one frame body (without its size prefix).
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> Result<Bytes, FrameError> {
    let mut size = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut size[got..]).await?;
        if n == 0 {
            return if got == 0 {
                Err(FrameError::Closed)
            } else {
                Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into())
            };
        }
        got += n;
    }
    let size = check_size(i32::from_be_bytes(size), max)?;
    let mut buf = BytesMut::with_capacity(size.min(READ_CHUNK));
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
