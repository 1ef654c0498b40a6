//! A misbehaving peer, built from weft's own behaviours so that it speaks
//! the protocol well enough to be listened to, then lies:
//! - it gossips whatever bytes the test gives it (forged announcements);
//! - it answers every manifest request with "not found" and every block
//!   asked on a block stream with a mebibyte of garbage
//!   ([`Misbehave::Garbage`]), or never answers block streams at all
//!   ([`Misbehave::Stall`]).
//!
//! It runs a real libp2p swarm on 127.0.0.1 in a thread of its own.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::gossipsub::IdentTopic;
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use tokio::sync::{mpsc, oneshot};
use weft_daemon::net::behaviour::BehaviourEvent;
use weft_daemon::net::blocks::{read_request, write_frame, BlockStream};
use weft_daemon::net::build_swarm;
use weft_protocol::blocks::{FrameHeader, BLOCKS_PROTOCOL};
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::{Request, Response};

/// What the peer does with block requests.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Misbehave {
    /// Claims every block and sends garbage.
    Garbage,
    /// Accepts every block request and never answers.
    Stall,
}

enum Cmd {
    Dial(Multiaddr, oneshot::Sender<Result<PeerId, String>>),
    Publish(Vec<u8>, oneshot::Sender<Result<(), String>>),
    Subscribed(oneshot::Sender<usize>),
}

/// Answers one block stream: a mebibyte of garbage per hash asked, or,
/// stalling, nothing at all while the stream stays open.
async fn answer_blocks(stream: libp2p::Stream, mode: Misbehave, bad: Arc<AtomicU64>) {
    let mut stream: BlockStream = Box::new(stream);
    let Ok(request) = read_request(&mut stream).await else {
        return;
    };
    bad.fetch_add(request.hashes.len() as u64, Ordering::Relaxed);
    if mode == Misbehave::Stall {
        // Held open, never answered, until the asker gives up.
        let mut sink = Vec::new();
        let _ = futures::AsyncReadExt::read_to_end(&mut stream, &mut sink).await;
        return;
    }
    let garbage = crate::pseudo_random(1 << 20, 7);
    for _ in request.hashes {
        if write_frame(&mut stream, FrameHeader::found(garbage.len()), &garbage)
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = futures::AsyncWriteExt::close(&mut stream).await;
}

/// Handle to the misbehaving peer.
pub struct EvilPeer {
    tx: mpsc::Sender<Cmd>,
    /// Its peer id.
    pub peer_id: PeerId,
    /// How many garbage blocks it has sent (or requests it held, stalling).
    pub bad_blocks_sent: Arc<AtomicU64>,
    _thread: std::thread::JoinHandle<()>,
}

impl EvilPeer {
    /// Starts the peer, sending garbage blocks.
    pub fn start() -> Self {
        Self::start_with(Misbehave::Garbage)
    }

    /// Starts the peer with the given misbehaviour.
    pub fn start_with(mode: Misbehave) -> Self {
        let key = libp2p::identity::Keypair::generate_ed25519();
        let peer_id = key.public().to_peer_id();
        let (tx, mut rx) = mpsc::channel::<Cmd>(16);
        let bad = Arc::new(AtomicU64::new(0));
        let bad2 = bad.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut swarm = build_swarm(key, &weft_daemon::net::NetOptions::default(), Default::default()).expect("swarm");
                // Block streams: garbage for every hash asked, or silence.
                let mut blocks = swarm
                    .behaviour()
                    .blocks
                    .new_control()
                    .accept(StreamProtocol::new(BLOCKS_PROTOCOL))
                    .expect("accept blocks");
                tokio::spawn(async move {
                    while let Some((_, stream)) = blocks.next().await {
                        tokio::spawn(answer_blocks(stream, mode, bad2.clone()));
                    }
                });
                swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr")).expect("listen");
                let topic = IdentTopic::new(ANNOUNCE_TOPIC);
                let mut subscribed: HashSet<PeerId> = HashSet::new();
                let mut dials: Vec<(Multiaddr, oneshot::Sender<Result<PeerId, String>>)> = Vec::new();
                loop {
                    tokio::select! {
                        cmd = rx.recv() => match cmd {
                            None => break,
                            Some(Cmd::Dial(addr, reply)) => match swarm.dial(addr.clone()) {
                                Ok(()) => dials.push((addr, reply)),
                                Err(e) => { let _ = reply.send(Err(e.to_string())); }
                            },
                            Some(Cmd::Publish(bytes, reply)) => {
                                let r = swarm.behaviour_mut().gossipsub.publish(topic.clone(), bytes);
                                let _ = reply.send(r.map(|_| ()).map_err(|e| e.to_string()));
                            }
                            Some(Cmd::Subscribed(reply)) => { let _ = reply.send(subscribed.len()); }
                        },
                        ev = swarm.select_next_some() => match ev {
                            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                                let target = Some(libp2p::multiaddr::Protocol::P2p(peer_id));
                                if let Some(i) = dials.iter().position(|(a, _)| a.iter().last() == target) {
                                    let (_, reply) = dials.swap_remove(i);
                                    let _ = reply.send(Ok(peer_id));
                                }
                            }
                            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(libp2p::gossipsub::Event::Subscribed { peer_id, .. })) => {
                                subscribed.insert(peer_id);
                            }
                            SwarmEvent::Behaviour(BehaviourEvent::Xfer(request_response::Event::Message {
                                message: request_response::Message::Request { request: Request::Manifest(_), channel, .. }, ..
                            })) => {
                                let _ = swarm.behaviour_mut().xfer.send_response(channel, Response::NotFound);
                            }
                            _ => {}
                        },
                    }
                }
            });
        });
        EvilPeer {
            tx,
            peer_id,
            bad_blocks_sent: bad,
            _thread: thread,
        }
    }

    fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Cmd) -> T {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(make(reply))
            .expect("evil peer running");
        rx.blocking_recv().expect("evil peer replies")
    }

    /// Dials a multiaddr (with `/p2p/`) and waits for the connection.
    pub fn dial(&self, addr: &str) {
        let addr: Multiaddr = addr.parse().expect("multiaddr");
        let r = self.call(|reply| Cmd::Dial(addr, reply));
        r.expect("evil peer connects");
    }

    /// Waits until `n` peers have subscribed to announcements.
    pub fn wait_subscribed(&self, n: usize) {
        crate::wait_until(
            "peers to subscribe at the evil peer",
            Duration::from_secs(15),
            || self.call(Cmd::Subscribed) >= n,
        );
    }

    /// Gossips raw bytes on the announcement topic.
    pub fn publish(&self, bytes: Vec<u8>) {
        let r = self.call(|reply| Cmd::Publish(bytes, reply));
        r.expect("evil peer publishes");
    }
}
