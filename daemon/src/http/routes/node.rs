//! Node routes: status, doctor, peers, connect, invite, join, providers.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use weft_protocol::api::{
    ConnectBody, ConnectResponse, DoctorResponse, FailedAddr, FetchingBundle, InviteResponse,
    JoinBody, JoinResponse, JoinedAddr, NamedPublisher, PeersResponse, ProvidersResponse,
    StatusResponse, StorageStatus,
};
use weft_protocol::BundleId;

use crate::error::NodeError;
use crate::http::error::{bad, ApiError, ApiResult};
use crate::http::{parse_body, ApiState};

pub(crate) async fn status(State(st): State<ApiState>) -> ApiResult<StatusResponse> {
    Ok(Json(status_of(&st).await?))
}

/// What `GET /v1/status` answers (and `GET /metrics` reads).
pub(crate) async fn status_of(st: &ApiState) -> Result<StatusResponse, ApiError> {
    let node = &st.node;
    let info = node.net.info().await.map_err(NodeError::from)?;
    let counts = node.blocking(|s| s.counts()).await?;
    // While the index loads at start-up, the store's estimate stands in.
    let (catalog, catalog_loading) = if node.catalog.is_loaded() {
        (node.catalog.len() as u64, false)
    } else {
        (counts.catalog_estimate, true)
    };
    let (unknown, unknown_max) = node.catalog.unknown_share();
    let publisher = node.publisher_id().ok();
    let publisher_locked = node.publisher_locked();
    let usage = node.holdings.usage();
    let disk = node.blocking(|s| s.disk_usage()).await?;
    let pending: Vec<BundleId> = node
        .blocking(|s| s.list_kv(crate::store::CF_FETCHES))
        .await?
        .into_iter()
        .filter_map(|(k, _)| BundleId::from_slice(&k).ok())
        .collect();
    let mut warnings = Vec::new();
    if let Some(w) = node.rules.warning() {
        warnings.push(w);
    } else if let Some(w) = node.holdings.pins_over_quota(0) {
        warnings.push(w);
    }
    let fetching = node.holdings.fetching();
    let fetching_bundles = fetching
        .iter()
        .map(|&id| {
            let a = node.catalog.get(&id);
            FetchingBundle {
                id,
                name: a.as_ref().map(|a| a.name.clone()),
                size: a.as_ref().map(|a| a.size),
            }
        })
        .collect();
    let gateway = std::fs::read_to_string(node.data_dir.join(weft_protocol::layout::GATEWAY_ADDR))
        .ok()
        .map(|s| s.trim().to_string());
    Ok(StatusResponse {
        fetching_bundles,
        gateway,
        storage: StorageStatus {
            used: usage.used,
            pinned: usage.pinned,
            cached: usage.cached,
            max: usage.max,
            disk,
        },
        fetching,
        interrupted_fetches: pending,
        warnings,
        version: env!("CARGO_PKG_VERSION").to_string(),
        peer_id: info.peer_id,
        listen_addrs: info.listen_addrs,
        connected_peers: info.connected as u64,
        api: st.addr.to_string(),
        data_dir: node.data_dir.clone(),
        publisher,
        publisher_locked,
        bundles: counts.bundles,
        catalog,
        catalog_loading,
        catalog_unknown: unknown as u64,
        catalog_unknown_max: unknown_max as u64,
        pins: counts.pins,
        peer_book: node.book.len() as u64,
        network: node.network.clone(),
        mdns: node.mdns,
        counters: node.metrics.snapshot(),
    })
}

pub(crate) async fn peers(State(st): State<ApiState>) -> ApiResult<PeersResponse> {
    let peers = st.node.net.peers().await.map_err(NodeError::from)?;
    Ok(Json(PeersResponse { peers }))
}

pub(crate) async fn doctor(State(st): State<ApiState>) -> ApiResult<DoctorResponse> {
    let reachability = st.node.net.reachability().await.map_err(NodeError::from)?;
    let findings = crate::doctor::findings(&reachability);
    Ok(Json(DoctorResponse {
        findings,
        ip_visibility: crate::doctor::ip_visibility(&reachability),
        reachability,
    }))
}

pub(crate) async fn connect(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ConnectResponse> {
    let b: ConnectBody = parse_body(&headers, &body)?;
    let addr: libp2p::Multiaddr = b.addr.parse().map_err(|e| {
        bad(format!(
            "{:?} is not a multiaddr ({e}); for example /ip4/192.0.2.1/tcp/4141/p2p/12D3Koo…",
            b.addr
        ))
    })?;
    let peer = tokio::time::timeout(std::time::Duration::from_secs(20), st.node.net.dial(addr))
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::GATEWAY_TIMEOUT,
                "no answer from that address within 20 seconds".into(),
            )
        })?
        .map_err(|e| ApiError(StatusCode::BAD_GATEWAY, e.to_string()))?;
    Ok(Json(ConnectResponse {
        peer_id: peer.to_string(),
    }))
}

/// This node's addresses worth giving to another machine, every way to
/// reach it represented (direct, WebSocket, relayed; see `net::ladder`):
/// loopback ones only when there is nothing else (a node on one machine,
/// or a test).
pub(crate) fn invite_addrs(known: &[String], peer: libp2p::PeerId) -> Vec<libp2p::Multiaddr> {
    use libp2p::multiaddr::Protocol;
    let mut addrs: Vec<libp2p::Multiaddr> = Vec::new();
    for a in known.iter().filter_map(|a| a.parse().ok()) {
        if crate::peerbook::dialable(&a) && !addrs.contains(&a) {
            addrs.push(a);
        }
    }
    let loopback = |a: &libp2p::Multiaddr| {
        matches!(a.iter().next(), Some(Protocol::Ip4(ip)) if ip.is_loopback())
            || matches!(a.iter().next(), Some(Protocol::Ip6(ip)) if ip.is_loopback())
    };
    let outside: Vec<_> = addrs.iter().filter(|a| !loopback(a)).cloned().collect();
    let chosen = if outside.is_empty() { addrs } else { outside };
    crate::net::ladder::for_invite(&chosen, weft_protocol::invite::MAX_INVITE_ADDRS)
        .into_iter()
        .map(|a| crate::peerbook::with_peer(a, peer))
        .collect()
}

pub(crate) fn network_bytes(fp: &Option<String>) -> Option<[u8; 16]> {
    let fp = fp.as_ref()?;
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(fp.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

pub(crate) async fn invite(State(st): State<ApiState>) -> ApiResult<InviteResponse> {
    let info = st.node.net.info().await.map_err(NodeError::from)?;
    let peer: libp2p::PeerId = info
        .peer_id
        .parse()
        .map_err(|_| NodeError::Internal("own peer id".into()))?;
    let known: Vec<String> = info
        .listen_addrs
        .iter()
        .chain(&info.external_addrs)
        .cloned()
        .collect();
    let addrs = invite_addrs(&known, peer);
    if addrs.is_empty() {
        return Err(NodeError::Unavailable(
            "this node listens on no address another node could dial".into(),
        )
        .into());
    }
    // The inviter's publisher and the name it goes by, so that joining
    // names it.
    let publisher = st.node.publisher_id().ok();
    let name = publisher
        .and_then(|p| st.node.catalog.profile(&p))
        .map(|p| p.name_for(None).to_string());
    let inv = weft_protocol::invite::Invite {
        addrs: addrs.iter().map(|a| a.to_vec()).collect(),
        network: network_bytes(&st.node.network),
        publisher,
        name,
    };
    Ok(Json(InviteResponse {
        invite: inv.encode(),
        addrs: addrs.iter().map(|a| a.to_string()).collect(),
        network: st.node.network.clone(),
        publisher,
    }))
}

pub(crate) async fn providers(
    State(st): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<ProvidersResponse> {
    let id: weft_protocol::BundleId = id
        .parse()
        .map_err(|e| bad(format!("{id:?} is not a bundle id: {e}")))?;
    let found = tokio::time::timeout(
        crate::net::PROVIDER_QUERY_TIMEOUT,
        st.node.net.find_providers(id),
    )
    .await
    .map_err(|_| {
        ApiError(
            StatusCode::GATEWAY_TIMEOUT,
            "the DHT lookup took too long".into(),
        )
    })?
    .map_err(NodeError::from)?;
    Ok(Json(ProvidersResponse {
        id,
        providers: found.iter().map(|p| p.to_string()).collect(),
    }))
}

/// Longest wait for one peer of an invite, every way together.
const JOIN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) async fn join(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<JoinResponse> {
    use libp2p::multiaddr::Protocol;
    let b: JoinBody = parse_body(&headers, &body)?;
    let inv = weft_protocol::invite::Invite::decode(&b.invite).map_err(|e| bad(e.to_string()))?;
    let ours = network_bytes(&st.node.network);
    if inv.network != ours {
        let hex = |n: Option<[u8; 16]>| n.map(|n| weft_protocol::id::to_hex(&n));
        return Err(bad(match (hex(inv.network), hex(ours)) {
            (Some(theirs), None) => format!(
                "this invite is for the private network {theirs}; put that network's key in {}/swarm.key and restart weftd first",
                st.node.data_dir.display()
            ),
            (None, Some(_)) => "this invite is for the open network, but this node is in a private network (it has a swarm.key)".into(),
            (theirs, ours) => format!(
                "this invite is for the private network {}, but this node's key is for {}",
                theirs.unwrap_or_default(),
                ours.unwrap_or_default()
            ),
        }));
    }
    let mut joined = Vec::new();
    let mut failed = Vec::new();
    // The invite's addresses by peer (a hub, and maybe more), in order.
    let mut by_peer: Vec<(libp2p::PeerId, Vec<libp2p::Multiaddr>)> = Vec::new();
    for bytes in inv.addrs {
        let addr = match libp2p::Multiaddr::try_from(bytes) {
            Ok(a) => a,
            Err(e) => {
                failed.push(FailedAddr {
                    addr: None,
                    error: format!("not a multiaddr: {e}"),
                });
                continue;
            }
        };
        let Some(Protocol::P2p(peer)) = addr.iter().last() else {
            failed.push(FailedAddr {
                addr: Some(addr.to_string()),
                error: "the address does not end in /p2p/<peer id>".into(),
            });
            continue;
        };
        match by_peer.iter_mut().find(|(p, _)| *p == peer) {
            Some((_, list)) => list.push(addr),
            None => by_peer.push((peer, vec![addr])),
        }
    }
    // Each peer by the fallback ladder: directly, then WebSocket, then
    // through a relay, as the invite allows.
    for (peer, addrs) in by_peer {
        let climb = tokio::time::timeout(JOIN_WAIT, st.node.net.climb(peer, addrs.clone())).await;
        let report = match climb {
            Ok(Ok(Ok(report))) => Ok(report),
            Ok(Ok(Err(report))) => Err(report),
            Ok(Err(e)) => return Err(NodeError::from(e).into()),
            Err(_) => {
                failed.extend(addrs.iter().map(|a| FailedAddr {
                    addr: Some(a.to_string()),
                    error: format!("no way answered within {} seconds", JOIN_WAIT.as_secs()),
                }));
                continue;
            }
        };
        let steps = match &report {
            Ok(r) | Err(r) => r.steps.clone(),
        };
        failed.extend(steps.iter().filter_map(|s| {
            s.error.as_ref().map(|e| FailedAddr {
                addr: Some(s.address.clone()),
                error: format!("{} ({})", e, s.way),
            })
        }));
        if report.is_err() {
            continue;
        }
        // The address that worked, else (already connected) the first.
        let worked = steps
            .iter()
            .find(|s| s.error.is_none())
            .and_then(|s| s.address.parse::<libp2p::Multiaddr>().ok())
            .map(|a| crate::peerbook::with_peer(a, peer))
            .unwrap_or_else(|| addrs[0].clone());
        // Remember every way, the one that worked first.
        let mut keep = vec![worked.clone()];
        keep.extend(addrs.iter().filter(|a| **a != worked).cloned());
        let way = crate::net::ladder::Way::of(&worked).name();
        let book = st.node.book.clone();
        tokio::task::spawn_blocking(move || {
            book.record(peer, &keep, true)?;
            book.set_way(peer, way)
        })
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map_err(NodeError::from)?;
        joined.push(JoinedAddr {
            addr: worked.to_string(),
            peer_id: peer.to_string(),
        });
    }
    if joined.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_GATEWAY,
            format!(
                "could not reach any address in the invite: {}",
                failed
                    .iter()
                    // The address as JSON writes it: quoted, or null.
                    .map(|f| format!(
                        "{} ({})",
                        serde_json::to_string(&f.addr).unwrap_or_default(),
                        f.error
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    // Name the inviter's publisher, unless the user already did.
    let named = match inv.publisher {
        Some(p) if st.node.names.get(&p).is_none() => match b.name.or(inv.name) {
            Some(name) => {
                let names = st.node.names.clone();
                st.node
                    .blocking_node(move |s| names.set(s, p, &name))
                    .await?;
                let named = st.node.names.all().into_iter().map(|(p, _)| p).collect();
                st.node.catalog.trust().update(|t| t.named = named);
                Some(NamedPublisher {
                    name: st.node.describe(&p, None),
                    publisher: p,
                })
            }
            None => None,
        },
        Some(p) => Some(NamedPublisher {
            name: st.node.describe(&p, None),
            publisher: p,
        }),
        None => None,
    };
    Ok(Json(JoinResponse {
        failed,
        joined,
        named,
    }))
}
