//! Starting to listen: every fixed port checked free first, then every
//! listener given time to report its addresses.
//!
//! A listener on `0.0.0.0` reports one address per interface, loopback
//! first. Only an address that has been reported can be reused as the
//! local port of a dial (libp2p's TCP port reuse), and a dial from the
//! listening port is what lets a peer observe the port a NAT maps it to,
//! which hole punching needs. So the node waits until each listener has
//! reported an address that is not loopback (or a moment has passed, on a
//! machine with only loopback) before it dials anyone.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, Swarm};
use tracing::info;

use super::Behaviour;

/// How long listeners have to report their addresses.
const LISTEN_DEADLINE: Duration = Duration::from_secs(10);
/// How long to wait for an address that is not loopback once every
/// listener reported one.
const SETTLE: Duration = Duration::from_millis(500);

/// Refuses a fixed port that another process already holds. libp2p binds
/// its sockets with address reuse, so without this check a second daemon
/// would share the port silently and peers would reach either one.
fn check_port_free(addr: &Multiaddr) -> Result<(), String> {
    use libp2p::multiaddr::Protocol;
    let mut it = addr.iter();
    let ip: std::net::IpAddr = match it.next() {
        Some(Protocol::Ip4(ip)) => ip.into(),
        Some(Protocol::Ip6(ip)) => ip.into(),
        _ => return Ok(()),
    };
    let probe = match it.next() {
        Some(Protocol::Tcp(port)) if port != 0 => std::net::TcpListener::bind((ip, port)).map(drop),
        Some(Protocol::Udp(port)) if port != 0 => std::net::UdpSocket::bind((ip, port)).map(drop),
        _ => return Ok(()),
    };
    probe.map_err(|e| {
        format!("cannot listen on {addr}: {e}; is another weftd running? Choose other ports with --listen")
    })
}

/// Whether `addr` listens on every interface (`0.0.0.0` or `::`), and so
/// reports one address per interface.
fn wildcard(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_unspecified(),
        Protocol::Ip6(ip) => ip.is_unspecified(),
        _ => false,
    })
}

fn loopback(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        _ => false,
    })
}

/// Listens on `listen` and waits for the listeners' addresses (see the
/// module docs). With `announce`, each address is also taken as an
/// external address (not behind a proxy).
pub(super) async fn listen(
    swarm: &mut Swarm<Behaviour>,
    listen: &[Multiaddr],
    announce: bool,
) -> Result<(), String> {
    // Probe every fixed port before binding any: a dual-stack probe of
    // [::]:port would otherwise collide with our own 0.0.0.0:port.
    for addr in listen {
        check_port_free(addr)?;
    }
    let mut ids: Vec<ListenerId> = Vec::new();
    // Listeners on one address are done with their first report.
    let mut specific: Vec<ListenerId> = Vec::new();
    for addr in listen {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        ids.push(id);
        if !wildcard(addr) {
            specific.push(id);
        }
    }
    // Per listener: whether it is done (reported an address that is not
    // loopback, or its one address).
    let mut outside: HashMap<ListenerId, bool> = HashMap::new();
    let deadline = tokio::time::Instant::now() + LISTEN_DEADLINE;
    let mut settle: Option<tokio::time::Instant> = None;
    loop {
        let all = ids.iter().all(|id| outside.contains_key(id));
        if all && ids.iter().all(|id| outside[id]) {
            return Ok(());
        }
        if all && settle.is_none() {
            settle = Some(tokio::time::Instant::now() + SETTLE);
        }
        let until = settle.map_or(deadline, |s| s.min(deadline));
        match tokio::time::timeout_at(until, swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr {
                listener_id,
                address,
            }) => {
                info!(%address, "listening");
                let out = !loopback(&address) || specific.contains(&listener_id);
                if announce {
                    swarm.add_external_address(address);
                }
                *outside.entry(listener_id).or_insert(false) |= out;
            }
            Ok(SwarmEvent::ListenerError { error, .. }) => {
                return Err(format!("listener failed: {error}"))
            }
            Ok(SwarmEvent::ListenerClosed { reason: Err(e), .. }) => {
                return Err(format!("listener failed: {e}"))
            }
            Ok(_) => {}
            // Every listener reported; only loopback came in time.
            Err(_) if all => return Ok(()),
            Err(_) => return Err("listeners did not start within 10 seconds".into()),
        }
    }
}
