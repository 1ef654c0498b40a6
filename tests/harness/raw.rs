//! A peer that speaks weft's wire protocols by hand, below the libraries
//! honest nodes use, so it can send what no honest node ever would:
//! gossipsub RPCs encoded byte by byte (forged, non-canonical, oversized,
//! replayed, on unknown topics, GRAFT/PRUNE abuse, IHAVE without the
//! message) and transfer streams that are truncated, oversized, endless or
//! never read.
//!
//! It is a real libp2p node (TCP, noise, yamux) on 127.0.0.1 that runs only
//! `libp2p-stream`: every stream it opens or accepts is raw bytes. It
//! accepts gossipsub's stream (`/meshsub/1.1.0`) and reads what the node
//! sends it, counting messages and control messages, but never forwards
//! anything.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Stream, StreamProtocol};
use tokio::sync::mpsc;

/// The gossipsub protocol the peer speaks.
pub const MESHSUB: StreamProtocol = StreamProtocol::new("/meshsub/1.1.0");
/// weft's block protocol.
pub const BLOCKS: StreamProtocol = StreamProtocol::new(weft_protocol::blocks::BLOCKS_PROTOCOL);

/// What the peer has seen from the node, counted from the RPCs it read.
#[derive(Default, Debug)]
pub struct Seen {
    /// RPC frames read.
    pub rpcs: AtomicU64,
    /// Messages (publish entries) received.
    pub messages: AtomicU64,
    /// IWANT control messages received.
    pub iwants: AtomicU64,
    /// GRAFT control messages received.
    pub grafts: AtomicU64,
    /// PRUNE control messages received.
    pub prunes: AtomicU64,
}

impl Seen {
    /// Reads one counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// How the peer answers block streams opened to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XferAnswer {
    /// It does not accept the block protocol at all.
    None,
    /// Half of a valid-looking "found" frame, then the stream closes.
    Truncated,
    /// A "found" frame announcing a byte more than any blob can have.
    Oversized,
    /// Bytes that are no frame, for as long as the node keeps reading.
    Endless,
    /// A well-formed "found" frame for every hash asked, of bytes that do
    /// not match it.
    Lies,
    /// Reads the request and never answers, holding the stream open.
    Stalls,
}

/// The peer. Dropping it stops its runtime and closes its connections.
pub struct RawPeer {
    /// Its peer id.
    pub peer_id: PeerId,
    /// What it has read from the node.
    pub seen: Arc<Seen>,
    /// Transfer requests it received (and answered badly).
    pub xfer_requests: Arc<AtomicU64>,
    /// Connections established so far.
    connected: Arc<Mutex<Vec<PeerId>>>,
    control: libp2p_stream::Control,
    dial: mpsc::UnboundedSender<Multiaddr>,
    rt: tokio::runtime::Runtime,
}

impl RawPeer {
    /// Starts a peer that accepts gossip and ignores transfer requests.
    pub fn start() -> Self {
        Self::start_with(XferAnswer::None)
    }

    /// Starts a peer that answers transfer requests as `answer` says.
    pub fn start_with(answer: XferAnswer) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let key = libp2p::identity::Keypair::generate_ed25519();
        let peer_id = key.public().to_peer_id();
        let seen = Arc::new(Seen::default());
        let xfer_requests = Arc::new(AtomicU64::new(0));
        let connected = Arc::new(Mutex::new(Vec::new()));
        let (dial, mut dials) = mpsc::unbounded_channel::<Multiaddr>();
        let mut swarm = rt.block_on(async {
            libp2p::SwarmBuilder::with_existing_identity(key)
                .with_tokio()
                .with_tcp(
                    libp2p::tcp::Config::default().nodelay(true),
                    libp2p::noise::Config::new,
                    libp2p::yamux::Config::default,
                )
                .expect("tcp")
                .with_behaviour(|_| libp2p_stream::Behaviour::new())
                .expect("behaviour")
                .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(600)))
                .build()
        });
        let mut control = swarm.behaviour().new_control();
        // Gossipsub opens its stream to us as soon as we connect: accept it
        // before dialling, and keep reading so the node is never blocked.
        let mut gossip_in = control.accept(MESHSUB).expect("accept meshsub");
        let seen2 = seen.clone();
        rt.spawn(async move {
            while let Some((_, stream)) = gossip_in.next().await {
                tokio::spawn(read_rpcs(stream, seen2.clone()));
            }
        });
        if answer != XferAnswer::None {
            let mut xfer_in = control.accept(BLOCKS).expect("accept blocks");
            let count = xfer_requests.clone();
            rt.spawn(async move {
                while let Some((_, stream)) = xfer_in.next().await {
                    tokio::spawn(answer_badly(stream, answer, count.clone()));
                }
            });
        }
        let conns = connected.clone();
        rt.spawn(async move {
            swarm
                .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
                .expect("listen");
            loop {
                tokio::select! {
                    addr = dials.recv() => match addr {
                        Some(addr) => { let _ = swarm.dial(addr); }
                        None => return,
                    },
                    ev = swarm.select_next_some() => match ev {
                        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                            conns.lock().expect("lock").push(peer_id);
                        }
                        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                            conns.lock().expect("lock").retain(|p| *p != peer_id);
                        }
                        _ => {}
                    },
                }
            }
        });
        RawPeer {
            peer_id,
            seen,
            xfer_requests,
            connected,
            control,
            dial,
            rt,
        }
    }

    /// Dials a daemon's multiaddr (ending in `/p2p/…`) and waits for the
    /// connection; returns the daemon's peer id.
    pub fn connect(&self, addr: &str) -> PeerId {
        let addr: Multiaddr = addr.parse().expect("multiaddr");
        let Some(libp2p::multiaddr::Protocol::P2p(peer)) = addr.iter().last() else {
            panic!("{addr} does not end in /p2p/");
        };
        self.dial.send(addr).expect("raw peer running");
        crate::wait_until("the raw peer to connect", Duration::from_secs(15), || {
            self.is_connected(&peer)
        });
        peer
    }

    /// Whether a connection to `peer` is open.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.connected.lock().expect("lock").contains(peer)
    }

    /// Opens a stream to `peer` for `protocol`.
    pub fn open(&self, peer: PeerId, protocol: StreamProtocol) -> std::io::Result<Stream> {
        let mut control = self.control.clone();
        self.rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(10), control.open_stream(peer, protocol))
                    .await
            })
            .map_err(|_| std::io::Error::other("opening a stream timed out"))?
            .map_err(std::io::Error::other)
    }

    /// Opens the gossipsub stream to `peer`.
    pub fn gossip(&self, peer: PeerId) -> Gossip<'_> {
        let stream = self.open(peer, MESHSUB).expect("a gossip stream");
        Gossip { peer: self, stream }
    }

    /// Runs a future on the peer's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

/// The peer's gossipsub stream to one node.
pub struct Gossip<'a> {
    peer: &'a RawPeer,
    stream: Stream,
}

impl<'a> Gossip<'a> {
    /// Wraps a stream the test opened itself.
    pub fn from_stream(peer: &'a RawPeer, stream: Stream) -> Self {
        Gossip { peer, stream }
    }

    /// Sends one RPC: its length as a varint, then its bytes.
    pub fn send(&mut self, rpc: &[u8]) -> std::io::Result<()> {
        let mut frame = varint(rpc.len() as u64);
        frame.extend_from_slice(rpc);
        self.send_raw(&frame)
    }

    /// Sends bytes as they are, framing and all.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let stream = &mut self.stream;
        self.peer.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), async {
                stream.write_all(bytes).await?;
                stream.flush().await
            })
            .await
            .map_err(|_| std::io::Error::other("the node stopped reading"))?
        })
    }
}

async fn read_rpcs(mut stream: Stream, seen: Arc<Seen>) {
    loop {
        let Ok(len) = read_varint(&mut stream).await else {
            return;
        };
        if len > 1 << 20 {
            return;
        }
        let mut buf = vec![0u8; len as usize];
        if stream.read_exact(&mut buf).await.is_err() {
            return;
        }
        seen.rpcs.fetch_add(1, Ordering::Relaxed);
        count_rpc(&buf, &seen);
    }
}

async fn read_varint(stream: &mut Stream) -> std::io::Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let mut b = [0u8; 1];
        stream.read_exact(&mut b).await?;
        value |= u64::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(std::io::Error::other("varint too long"))
}

/// Counts messages and control messages in one RPC.
fn count_rpc(buf: &[u8], seen: &Seen) {
    for (field, value) in fields(buf) {
        match (field, value) {
            (2, Some(_)) => {
                seen.messages.fetch_add(1, Ordering::Relaxed);
            }
            (3, Some(control)) => {
                for (f, _) in fields(control) {
                    let counter = match f {
                        2 => &seen.iwants,
                        3 => &seen.grafts,
                        4 => &seen.prunes,
                        _ => continue,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }
}

/// The top-level fields of a protobuf message: (field number, bytes of a
/// length-delimited value). Stops at the first thing it cannot parse.
fn fields(mut buf: &[u8]) -> Vec<(u64, Option<&[u8]>)> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let Some((key, rest)) = take_varint(buf) else {
            break;
        };
        buf = rest;
        match key & 7 {
            0 => match take_varint(buf) {
                Some((_, rest)) => {
                    out.push((key >> 3, None));
                    buf = rest;
                }
                None => break,
            },
            2 => match take_varint(buf) {
                Some((len, rest)) if (len as usize) <= rest.len() => {
                    out.push((key >> 3, Some(&rest[..len as usize])));
                    buf = &rest[len as usize..];
                }
                _ => break,
            },
            _ => break,
        }
    }
    out
}

fn take_varint(buf: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, b) in buf.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &buf[i + 1..]));
        }
    }
    None
}

async fn answer_badly(mut stream: Stream, answer: XferAnswer, count: Arc<AtomicU64>) {
    use weft_protocol::blocks::FrameHeader;
    // Read the request (small), then answer.
    let mut req = Vec::new();
    let _ = (&mut stream).take(4096).read_to_end(&mut req).await;
    count.fetch_add(1, Ordering::Relaxed);
    match answer {
        XferAnswer::None => {}
        XferAnswer::Truncated => {
            let data = crate::pseudo_random(1 << 20, 3);
            let _ = stream
                .write_all(&FrameHeader::found(data.len()).encode())
                .await;
            let _ = stream.write_all(&data[..data.len() / 2]).await;
            let _ = stream.close().await;
        }
        XferAnswer::Oversized => {
            let over = weft_protocol::limits::MAX_BLOB_BYTES as u32 + 1;
            let mut header = vec![0u8];
            header.extend_from_slice(&over.to_be_bytes());
            let _ = stream.write_all(&header).await;
            let _ = stream
                .write_all(&crate::pseudo_random(over as usize, 4))
                .await;
            let _ = stream.close().await;
        }
        XferAnswer::Lies => {
            let asked = weft_protocol::blocks::BlockRequest::decode(&req)
                .map(|r| r.hashes.len())
                .unwrap_or(1);
            let data = crate::pseudo_random(512 << 10, 5);
            for _ in 0..asked {
                let header = FrameHeader::found(data.len()).encode();
                if stream.write_all(&header).await.is_err()
                    || stream.write_all(&data).await.is_err()
                {
                    return;
                }
            }
            let _ = stream.close().await;
        }
        XferAnswer::Stalls => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            drop(stream);
        }
        XferAnswer::Endless => {
            let block = vec![0x5a; 64 * 1024];
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            while tokio::time::Instant::now() < deadline {
                if stream.write_all(&block).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A protobuf varint.
pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// Builds gossipsub RPCs field by field (the protobuf of the gossipsub
/// spec: RPC, SubOpts, Message, ControlMessage and its parts).
pub mod rpc {
    use super::varint;

    fn field_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
        out.extend(varint(field << 3 | 2));
        out.extend(varint(bytes.len() as u64));
        out.extend_from_slice(bytes);
    }

    fn field_varint(out: &mut Vec<u8>, field: u64, v: u64) {
        out.extend(varint(field << 3));
        out.extend(varint(v));
    }

    /// An RPC subscribing to `topic`.
    pub fn subscribe(topic: &str) -> Vec<u8> {
        let mut sub = Vec::new();
        field_varint(&mut sub, 1, 1);
        field_bytes(&mut sub, 2, topic.as_bytes());
        let mut out = Vec::new();
        field_bytes(&mut out, 1, &sub);
        out
    }

    /// An RPC publishing each of `messages` on `topic`, anonymously (no
    /// from, seqno or signature, as weft's network requires).
    pub fn publish(topic: &str, messages: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for data in messages {
            let mut m = Vec::new();
            field_bytes(&mut m, 2, data);
            field_bytes(&mut m, 4, topic.as_bytes());
            field_bytes(&mut out, 2, &m);
        }
        out
    }

    fn control(kind: u64, body: &[u8]) -> Vec<u8> {
        let mut c = Vec::new();
        field_bytes(&mut c, kind, body);
        let mut out = Vec::new();
        field_bytes(&mut out, 3, &c);
        out
    }

    /// An IHAVE advertising `ids` on `topic`.
    pub fn ihave(topic: &str, ids: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        field_bytes(&mut body, 1, topic.as_bytes());
        for id in ids {
            field_bytes(&mut body, 2, id);
        }
        control(1, &body)
    }

    /// A GRAFT for `topic`.
    pub fn graft(topic: &str) -> Vec<u8> {
        let mut body = Vec::new();
        field_bytes(&mut body, 1, topic.as_bytes());
        control(3, &body)
    }

    /// A PRUNE for `topic` asking for a backoff of `backoff` seconds.
    pub fn prune(topic: &str, backoff: u64) -> Vec<u8> {
        let mut body = Vec::new();
        field_bytes(&mut body, 1, topic.as_bytes());
        field_varint(&mut body, 3, backoff);
        control(4, &body)
    }
}
