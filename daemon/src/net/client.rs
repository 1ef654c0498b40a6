//! The handle to the swarm task, and the commands it sends.

use libp2p::gossipsub::MessageId;
use libp2p::request_response::{InboundRequestId, ResponseChannel};
#[cfg(test)]
use std::sync::Arc;

use libp2p::{Multiaddr, PeerId, StreamProtocol};
use tokio::sync::{mpsc, oneshot};
use weft_protocol::blocks::BLOCKS_PROTOCOL;
use weft_protocol::sync::{SyncRequest, SyncResponse};
use weft_protocol::{BundleId, Request, Response};

use super::blocks::BlockStream;
use super::{InboundRequest, NetError, NetInfo, PeerInfo, Reachability, Verdict};

/// Requests to the swarm task.
pub enum Command {
    /// Dial an address and reply once connected.
    Dial {
        /// Where.
        addr: Multiaddr,
        /// Replies with the peer's id.
        reply: oneshot::Sender<Result<PeerId, NetError>>,
    },
    /// Reach a peer by the fallback ladder over these addresses (see
    /// `net::ladder`) and reply with what was tried.
    Climb {
        /// Whom.
        peer: PeerId,
        /// Its addresses, each ending in `/p2p/<peer>`.
        addrs: Vec<Multiaddr>,
        /// `Ok` once connected, `Err` once every way failed.
        reply: oneshot::Sender<Result<super::ladder::LadderReport, super::ladder::LadderReport>>,
    },
    /// Gossip a signed announcement.
    Announce {
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// Send a transfer request.
    Request {
        /// To whom.
        peer: PeerId,
        /// What.
        request: Request,
        /// Replies with the peer's response.
        reply: oneshot::Sender<Result<Response, NetError>>,
    },
    /// List connected peers.
    Peers {
        /// Replies with the list.
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    /// Our identity and addresses.
    Info {
        /// Replies with them.
        reply: oneshot::Sender<NetInfo>,
    },
    /// What `weft doctor` reports.
    Reach {
        /// Replies with it.
        reply: oneshot::Sender<Reachability>,
    },
    /// Send a reconciliation request.
    Sync {
        /// To whom.
        peer: PeerId,
        /// What.
        request: SyncRequest,
        /// Replies with the peer's response.
        reply: oneshot::Sender<Result<SyncResponse, NetError>>,
    },
    /// Publish provider records for these bundles (queued, a few at a time).
    Provide {
        /// Bundles held in full.
        ids: Vec<BundleId>,
    },
    /// Look up a bundle's providers in the DHT and dial the ones not
    /// connected; replies with every provider found.
    FindProviders {
        /// Which bundle.
        id: BundleId,
        /// Replies with the providers.
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    /// Start a catalog catch-up with a peer soon, as if it had hinted
    /// that it has entries this node lacks.
    CatchUp(PeerId),
    /// Disconnect a peer that sent bad data and refuse it for a while.
    Punish {
        /// Who.
        peer: PeerId,
        /// What it did, for the log.
        reason: String,
    },
    /// Answer an inbound transfer request (see [`super::InboundRequest`]).
    Respond {
        /// Who asked.
        peer: PeerId,
        /// Which request.
        id: InboundRequestId,
        /// Where the answer goes.
        channel: ResponseChannel<Response>,
        /// The answer.
        response: Response,
    },
    /// Answer an inbound catalog request (see [`super::InboundSync`]);
    /// its size was counted by the caller.
    SyncRespond {
        /// Where the answer goes.
        channel: ResponseChannel<SyncResponse>,
        /// The answer.
        response: SyncResponse,
    },
    /// The verdict on a gossip message (see [`super::GossipMessage`]).
    Verdict {
        /// The message.
        id: MessageId,
        /// Who sent it to us.
        source: PeerId,
        /// Forward, drop quietly, or drop and penalise.
        verdict: Verdict,
    },
}

/// Opens block streams for a unit test that plays the peers.
#[cfg(test)]
pub type ScriptedOpener = Arc<dyn Fn(PeerId) -> Result<BlockStream, NetError> + Send + Sync>;

/// Where block streams come from.
#[derive(Clone)]
enum Opener {
    /// libp2p streams, opened beside the swarm task, not through it.
    Libp2p(super::streams::Control),
    /// A unit test's.
    #[cfg(test)]
    Scripted(ScriptedOpener),
}

/// Handle to the swarm task. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    tx: mpsc::Sender<Command>,
    blocks: Opener,
}

impl Client {
    /// The event loop's client, opening block streams with `control`.
    pub(crate) fn with_streams(
        tx: mpsc::Sender<Command>,
        control: super::streams::Control,
    ) -> Self {
        Self {
            tx,
            blocks: Opener::Libp2p(control),
        }
    }

    /// A unit test's client: it plays the swarm behind `tx`, and `open`
    /// makes its block streams.
    #[cfg(test)]
    pub(crate) fn scripted(tx: mpsc::Sender<Command>, open: ScriptedOpener) -> Self {
        Self {
            tx,
            blocks: Opener::Scripted(open),
        }
    }

    /// Opens a block stream (`/weft/xfer/2`) to a connected peer.
    pub async fn open_blocks(&self, peer: PeerId) -> Result<BlockStream, NetError> {
        let failed = |reason: String| NetError::Request { peer, reason };
        match &self.blocks {
            Opener::Libp2p(control) => {
                let s = control
                    .open(peer, StreamProtocol::new(BLOCKS_PROTOCOL))
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                Ok(Box::new(s))
            }
            #[cfg(test)]
            Opener::Scripted(open) => open(peer),
        }
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    /// Dials `addr` and waits for the connection.
    pub async fn dial(&self, addr: Multiaddr) -> Result<PeerId, NetError> {
        self.call(|reply| Command::Dial { addr, reply }).await?
    }

    /// Reaches `peer` by the fallback ladder over `addrs` (the hub's
    /// addresses from an invite): `Ok` with the ways tried once connected,
    /// `Err` with them once every way failed.
    pub async fn climb(
        &self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
    ) -> Result<Result<super::ladder::LadderReport, super::ladder::LadderReport>, NetError> {
        self.call(|reply| Command::Climb { peer, addrs, reply })
            .await
    }

    /// Gossips an announcement (queued until a peer is there).
    pub async fn announce(&self, bytes: Vec<u8>) -> Result<(), NetError> {
        self.tx
            .send(Command::Announce { bytes })
            .await
            .map_err(|_| NetError::Stopped)
    }

    /// Sends one request and waits for its response.
    pub async fn request(&self, peer: PeerId, request: Request) -> Result<Response, NetError> {
        self.call(|reply| Command::Request {
            peer,
            request,
            reply,
        })
        .await?
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetError> {
        self.call(|reply| Command::Peers { reply }).await
    }

    /// Our identity and addresses.
    pub async fn info(&self) -> Result<NetInfo, NetError> {
        self.call(|reply| Command::Info { reply }).await
    }

    /// Reachability, for `weft doctor`.
    pub async fn reachability(&self) -> Result<Reachability, NetError> {
        self.call(|reply| Command::Reach { reply }).await
    }

    /// Sends one reconciliation request and waits for its response.
    pub async fn sync(&self, peer: PeerId, request: SyncRequest) -> Result<SyncResponse, NetError> {
        self.call(|reply| Command::Sync {
            peer,
            request,
            reply,
        })
        .await?
    }

    /// Queues provider records for bundles now held in full.
    pub async fn provide(&self, ids: Vec<BundleId>) {
        let _ = self.tx.send(Command::Provide { ids }).await;
    }

    /// Finds a bundle's providers through the DHT and dials them.
    pub async fn find_providers(&self, id: BundleId) -> Result<Vec<PeerId>, NetError> {
        self.call(|reply| Command::FindProviders { id, reply })
            .await
    }

    /// Asks for a catalog catch-up with `peer` soon: it sent an entry
    /// signed by a device whose certificate this node lacks, which the
    /// catch-up brings.
    pub async fn catch_up_with(&self, peer: PeerId) {
        let _ = self.tx.send(Command::CatchUp(peer)).await;
    }

    /// Disconnects and bans a misbehaving peer.
    pub async fn punish(&self, peer: PeerId, reason: String) {
        let _ = self.tx.send(Command::Punish { peer, reason }).await;
    }

    /// Answers an inbound transfer request.
    pub async fn respond(&self, request: InboundRequest, response: Response) {
        let InboundRequest {
            peer, id, channel, ..
        } = request;
        let _ = self
            .tx
            .send(Command::Respond {
                peer,
                id,
                channel,
                response,
            })
            .await;
    }

    /// Answers an inbound catalog request.
    pub async fn respond_sync(
        &self,
        channel: ResponseChannel<SyncResponse>,
        response: SyncResponse,
    ) {
        let _ = self
            .tx
            .send(Command::SyncRespond { channel, response })
            .await;
    }

    /// Reports the verdict on a gossip message.
    pub async fn verdict(&self, id: MessageId, source: PeerId, verdict: Verdict) {
        let _ = self
            .tx
            .send(Command::Verdict {
                id,
                source,
                verdict,
            })
            .await;
    }
}
