//! The libp2p request-response codecs for `/weft/xfer/1` and
//! `/weft/sync/1`.
//!
//! Each side reads at most the protocol's limit (plus one byte, to tell
//! "exactly at the limit" from "over it") and then hands the bytes to
//! `weft-protocol`, which checks them before allocating anything further.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use std::io;
use std::marker::PhantomData;
use weft_protocol::limits::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, MAX_SYNC_MESSAGE_BYTES};
use weft_protocol::sync::{SyncRequest, SyncResponse};
use weft_protocol::{Request, Response};

/// Buffer reserved before reading a message: 1 MiB plus framing (a large
/// manifest or catalog answer; the buffer grows to the message's limit).
const INITIAL_READ_BUFFER: usize = (1 << 20) + 1024;

/// A message type one of weft's request-response protocols carries: its
/// read limit and its canonical bytes.
pub trait WireMessage: Sized + Send + 'static {
    /// Most bytes read for one message.
    const LIMIT: usize;
    /// Canonical bytes.
    fn to_bytes(&self) -> Vec<u8>;
    /// Checked decoding.
    fn from_bytes(bytes: &[u8]) -> Result<Self, String>;
}

macro_rules! wire_message {
    ($t:ty, $limit:expr) => {
        impl WireMessage for $t {
            const LIMIT: usize = $limit;
            fn to_bytes(&self) -> Vec<u8> {
                self.encode()
            }
            fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
                <$t>::decode(bytes).map_err(|e| e.to_string())
            }
        }
    };
}

wire_message!(Request, MAX_REQUEST_BYTES);
wire_message!(Response, MAX_RESPONSE_BYTES);
wire_message!(SyncRequest, MAX_SYNC_MESSAGE_BYTES);
wire_message!(SyncResponse, MAX_SYNC_MESSAGE_BYTES);

/// A stateless codec for one request type and one response type.
pub struct Codec<Req, Resp>(PhantomData<fn() -> (Req, Resp)>);

impl<Req, Resp> Default for Codec<Req, Resp> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<Req, Resp> Clone for Codec<Req, Resp> {
    fn clone(&self) -> Self {
        Self(PhantomData)
    }
}

/// Codec for the transfer protocol.
pub type XferCodec = Codec<Request, Response>;
/// Codec for catalog reconciliation.
pub type SyncCodec = Codec<SyncRequest, SyncResponse>;

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

impl<Req: WireMessage, Resp: WireMessage> libp2p::request_response::Codec for Codec<Req, Resp> {
    type Protocol = StreamProtocol;
    type Request = Req;
    type Response = Resp;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Req>
    where
        T: AsyncRead + Unpin + Send,
    {
        let buf = read_limited(io, Req::LIMIT).await?;
        Req::from_bytes(&buf).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        let buf = read_limited(io, Resp::LIMIT).await?;
        Resp::from_bytes(&buf).map_err(invalid)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: Req) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&req.to_bytes()).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Resp,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&res.to_bytes()).await?;
        io.close().await
    }
}
