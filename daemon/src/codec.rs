//! The libp2p request-response codec for `/weft/xfer/1`.
//!
//! Each side reads at most the protocol's limit (plus one byte, to tell
//! "exactly at the limit" from "over it") and then hands the bytes to
//! `weft-protocol`, which checks them before allocating anything further.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use std::io;
use weft_protocol::limits::{CHUNK_SIZE, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES};
use weft_protocol::{Request, Response};

/// Buffer reserved before reading a message: one chunk plus framing.
const INITIAL_READ_BUFFER: usize = CHUNK_SIZE as usize + 1024;

/// Codec for the transfer protocol. Stateless.
#[derive(Debug, Clone, Default)]
pub struct XferCodec;

async fn read_limited<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    limit: usize,
) -> io::Result<Vec<u8>> {
    // Room for one typical message up front (bounded by the limit), so a
    // 1 MiB block is not copied again at every doubling of the buffer.
    let mut buf = Vec::with_capacity((limit + 1).min(INITIAL_READ_BUFFER));
    io.take(limit as u64 + 1).read_to_end(&mut buf).await?;
    if buf.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message over the limit of {limit} bytes"),
        ));
    }
    Ok(buf)
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl libp2p::request_response::Codec for XferCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let buf = read_limited(io, MAX_REQUEST_BYTES).await?;
        Request::decode(&buf).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let buf = read_limited(io, MAX_RESPONSE_BYTES).await?;
        Response::decode(&buf).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&req.encode()).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&res.encode()).await?;
        io.close().await
    }
}
