//! The block protocol's framing on a stream (`/weft/xfer/2`; the messages
//! are in [`weft_protocol::blocks`]), for both sides. The streams come from
//! [`super::streams`] and are read and written by the fetcher's and the
//! server's own tasks, never by the swarm task.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use weft_protocol::blocks::{BlockRequest, FrameError, FrameHeader, FRAME_HEADER_BYTES};
use weft_protocol::limits::MAX_BLOCK_REQUEST_BYTES;

/// A stream both sides can read and write.
pub trait Duplex: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Duplex for T {}

/// A block stream, whatever carries it.
pub type BlockStream = Box<dyn Duplex>;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The stream broke, ended early or timed out: nobody is to blame.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The peer broke the protocol.
    #[error("{0}")]
    Bad(#[from] FrameError),
}

/// Writes the request and closes the write side.
pub async fn write_request(s: &mut BlockStream, request: &BlockRequest) -> io::Result<()> {
    s.write_all(&request.encode()).await?;
    s.close().await
}

/// Reads a request: every byte until the requester closes its side, at
/// most [`MAX_BLOCK_REQUEST_BYTES`].
pub async fn read_request(s: &mut BlockStream) -> io::Result<BlockRequest> {
    let mut buf = Vec::new();
    (&mut *s)
        .take(MAX_BLOCK_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .await?;
    BlockRequest::decode(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes one frame: the header, then the data (empty unless found).
pub async fn write_frame(s: &mut BlockStream, header: FrameHeader, data: &[u8]) -> io::Result<()> {
    debug_assert_eq!(header.len as usize, data.len());
    s.write_all(&header.encode()).await?;
    if !data.is_empty() {
        s.write_all(data).await?;
    }
    Ok(())
}

/// Reads a frame header, refusing one the protocol does not allow.
pub async fn read_header(s: &mut BlockStream) -> Result<FrameHeader, ReadError> {
    let mut b = [0u8; FRAME_HEADER_BYTES];
    s.read_exact(&mut b).await?;
    Ok(FrameHeader::decode(b)?)
}

/// Reads the `len` bytes of data after a "found" header (`len` is bounded
/// by [`FrameHeader::decode`]).
pub async fn read_data(s: &mut BlockStream, len: u32) -> io::Result<Vec<u8>> {
    let mut data = vec![0u8; len as usize];
    s.read_exact(&mut data).await?;
    Ok(data)
}
