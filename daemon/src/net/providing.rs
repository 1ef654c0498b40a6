//! Provider records in the DHT: one per held bundle, published a few at
//! a time, and provider lookups for fetches.

use libp2p::kad;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use tracing::{debug, warn};
use weft_protocol::BundleId;

use super::event_loop::EventLoop;
use super::{provider_key, MAX_PROVIDE_QUERIES};

impl EventLoop {
    pub(super) fn queue_provide(&mut self, ids: Vec<BundleId>) {
        for id in ids {
            if self.provide_queued.insert(id) {
                self.provide_queue.push_back(id);
            }
        }
        self.pump_provides();
    }

    /// Starts provider publications up to [`MAX_PROVIDE_QUERIES`] at once.
    pub(super) fn pump_provides(&mut self) {
        while self.providing.len() < MAX_PROVIDE_QUERIES {
            let Some(id) = self.provide_queue.pop_front() else {
                break;
            };
            self.provide_queued.remove(&id);
            match self
                .swarm
                .behaviour_mut()
                .kad
                .start_providing(provider_key(&id))
            {
                Ok(q) => {
                    self.providing.insert(q);
                }
                Err(e) => warn!(bundle = %id.fmt_short(), error = %e, "cannot provide a bundle"),
            }
        }
    }

    pub(super) fn on_kad_event(&mut self, event: kad::Event) {
        let kad::Event::OutboundQueryProgressed {
            id, result, step, ..
        } = event
        else {
            return;
        };
        match result {
            kad::QueryResult::StartProviding(r) => {
                let published = r.is_ok();
                if let Err(e) = r {
                    debug!(error = %e, "provider record not published everywhere");
                }
                if step.last || self.providing.contains(&id) {
                    if self.providing.remove(&id) && published {
                        crate::metrics::Metrics::add(&self.metrics.providers_published, 1);
                    }
                    self.pump_provides();
                }
            }
            kad::QueryResult::GetProviders(r) => {
                let me = *self.swarm.local_peer_id();
                if let Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) = &r {
                    for p in providers.iter().filter(|p| **p != me) {
                        if let Some((found, _)) = self.provider_lookups.get_mut(&id) {
                            found.insert(*p);
                        }
                        if !self.peers.contains_key(p) {
                            // Dial now, while the query still holds the
                            // addresses the provider records carried.
                            let opts = DialOpts::peer_id(*p)
                                .condition(PeerCondition::DisconnectedAndNotDialing)
                                .build();
                            if let Err(e) = self.swarm.dial(opts) {
                                debug!(peer = %p, error = %e, "could not dial a provider");
                            }
                        }
                    }
                }
                let finished = step.last
                    || matches!(
                        r,
                        Ok(kad::GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) | Err(_)
                    );
                if finished {
                    if let Some((found, reply)) = self.provider_lookups.remove(&id) {
                        let _ = reply.send(found.into_iter().collect());
                    }
                    if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                        q.finish();
                    }
                }
            }
            _ => {}
        }
    }
}
