//! Gossip on the announcement topic: each message goes off the loop to be
//! checked (`crate::catalog::ingest`), and the verdict comes back as a
//! command. The loop itself only bounds the work: a message on a wrong
//! topic is rejected at once, and no peer may have more than
//! [`PER_PEER_VALIDATING`] messages waiting for a verdict, so a flood from
//! one peer cannot fill the queue that honest peers' messages share.

use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::PeerId;
use tokio::sync::mpsc;

use super::EventLoop;
use crate::metrics::{Dropped, Metrics};
use crate::net::{GossipMessage, Verdict, VALIDATION_QUEUE, WRONG_TOPIC_MARKER};

/// Messages of one peer that may wait for a verdict at once.
pub(crate) const PER_PEER_VALIDATING: usize = VALIDATION_QUEUE / 8;

impl EventLoop {
    fn judge(&mut self, id: &MessageId, source: &PeerId, acceptance: MessageAcceptance) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, acceptance);
    }

    pub(super) fn on_gossip(&mut self, source: PeerId, id: MessageId, data: Vec<u8>) {
        if data.starts_with(WRONG_TOPIC_MARKER) {
            Metrics::add(&self.metrics.gossip_rejected, 1);
            self.judge(&id, &source, MessageAcceptance::Reject);
            self.punish(source, "sent gossip on a topic weft does not use".into());
            return;
        }
        // Ignored (not forwarded, not penalised) when the peer already has
        // its share of the queue waiting, or the queue is full.
        let waiting = self.peers.get(&source).map_or(0, |p| p.validating);
        if waiting >= PER_PEER_VALIDATING {
            self.metrics.dropped(Dropped::PeerRate);
            self.judge(&id, &source, MessageAcceptance::Ignore);
            return;
        }
        match self
            .outlets
            .gossip
            .try_send(GossipMessage { id, source, data })
        {
            Ok(()) => {
                if let Some(p) = self.peers.get_mut(&source) {
                    p.validating += 1;
                }
            }
            Err(mpsc::error::TrySendError::Full(m) | mpsc::error::TrySendError::Closed(m)) => {
                self.metrics.dropped(Dropped::QueueFull);
                self.judge(&m.id, &m.source, MessageAcceptance::Ignore);
            }
        }
    }

    pub(super) fn on_verdict(&mut self, id: MessageId, source: PeerId, verdict: Verdict) {
        if let Some(p) = self.peers.get_mut(&source) {
            p.validating = p.validating.saturating_sub(1);
        }
        let acceptance = match verdict {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Ignore => MessageAcceptance::Ignore,
            Verdict::Reject => MessageAcceptance::Reject,
        };
        self.judge(&id, &source, acceptance);
    }
}
