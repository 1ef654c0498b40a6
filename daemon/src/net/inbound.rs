//! Inbound requests: admitted against the per-peer and global limits,
//! handed to the [`super::Outlets`], and answered when the serving side
//! sends the response back.

use libp2p::request_response::{InboundRequestId, ResponseChannel};
use libp2p::PeerId;
use tokio::sync::mpsc;
use tracing::debug;
use weft_protocol::sync::{SyncRequest, SyncResponse};
use weft_protocol::Response;

use super::event_loop::EventLoop;
use super::*;
use crate::metrics::Metrics;

impl EventLoop {
    pub(super) fn on_inbound_sync(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        if let SyncRequest::Hint = request {
            Metrics::add(
                &self.metrics.sync_bytes_received,
                request.encode().len() as u64,
            );
            if self.outlets.peers.try_send(PeerEvent::Hint(peer)).is_err() {
                debug!(%peer, "sync queue full; the hint waits for the next round");
            }
            let ack = SyncResponse::Ack;
            Metrics::add(&self.metrics.sync_bytes_sent, ack.encode().len() as u64);
            self.sync_respond(channel, ack);
            return;
        }
        // Answered off the loop (see `crate::serve`), which counts the sizes.
        let inbound = InboundSync {
            peer,
            request,
            channel,
        };
        if let Err(e) = self.outlets.sync_requests.try_send(inbound) {
            let inbound = match e {
                mpsc::error::TrySendError::Full(i) | mpsc::error::TrySendError::Closed(i) => i,
            };
            debug!(%peer, "too many catalog requests waiting; refusing one");
            self.sync_respond(inbound.channel, SyncResponse::Refused);
        }
    }

    /// Sends a sync response whose size was already counted.
    pub(super) fn sync_respond(
        &mut self,
        channel: ResponseChannel<SyncResponse>,
        response: SyncResponse,
    ) {
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, response);
    }

    /// Writes a transfer response that the serving side prepared.
    pub(super) fn respond(
        &mut self,
        peer: PeerId,
        request: InboundRequestId,
        channel: ResponseChannel<Response>,
        response: Response,
    ) {
        if let Response::Found(d) = &response {
            Metrics::add(&self.metrics.blobs_served, 1);
            Metrics::add(&self.metrics.bytes_served, d.len() as u64);
        }
        let sent = self
            .swarm
            .behaviour_mut()
            .xfer
            .send_response(channel, response);
        if sent.is_err() {
            // The stream is gone already; no ResponseSent will come.
            debug!(%peer, "the peer closed its stream before our response");
            self.inbound_done(request);
        }
    }

    /// Forgets an admitted inbound request once its response is written or
    /// has failed.
    pub(super) fn inbound_done(&mut self, request: InboundRequestId) {
        if let Some(peer) = self.inbound.remove(&request) {
            if let Some(n) = self.inbound_per_peer.get_mut(&peer) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.inbound_per_peer.remove(&peer);
                }
            }
        }
    }

    pub(super) fn on_inbound_request(
        &mut self,
        peer: PeerId,
        request_id: InboundRequestId,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        let n = self.inbound_per_peer.get(&peer).copied().unwrap_or(0);
        if n >= MAX_INBOUND_PER_PEER || self.inbound.len() >= MAX_INBOUND_TOTAL {
            Metrics::add(&self.metrics.requests_refused, 1);
            let _ = self
                .swarm
                .behaviour_mut()
                .xfer
                .send_response(channel, Response::Refused);
            return;
        }
        *self.inbound_per_peer.entry(peer).or_default() += 1;
        self.inbound.insert(request_id, peer);
        // Answered off the loop (see `crate::serve`); the request counts
        // against the limits until its response is written.
        let inbound = InboundRequest {
            peer,
            id: request_id,
            request,
            channel,
        };
        if let Err(e) = self.outlets.requests.try_send(inbound) {
            let inbound = match e {
                mpsc::error::TrySendError::Full(i) | mpsc::error::TrySendError::Closed(i) => i,
            };
            Metrics::add(&self.metrics.requests_refused, 1);
            self.respond(peer, request_id, inbound.channel, Response::Refused);
        }
    }
}
