//! `weft peers`, `connect`, `providers`, `invite`, `join` and `doctor`: this
//! node's peers and how it reaches them.

use std::io::IsTerminal;

use serde_json::json;
use weft_protocol::api::{
    ConnectResponse, DoctorResponse, FindingLevel, InviteResponse, JoinResponse, NatStatus,
    PeersResponse, ProvidersResponse,
};

use crate::context::{Answer, Ctx, Res};
use crate::output::{or_none, print_lines, simple};

pub(crate) fn peers(ctx: &Ctx) -> Res {
    let v: Answer<PeersResponse> = ctx.get("/v1/peers")?;
    let empty = "Not connected to any peer. Connect with `weft connect <multiaddr>`.";
    simple(ctx, v, |v| {
        print_lines(&v.peers, empty, |p| {
            // Say plainly whether the bytes go through a relay, and name
            // the other paths open to the same peer.
            let path = if p.relayed { "RELAYED" } else { "direct" };
            let others: Vec<String> = p
                .connections
                .iter()
                .skip(1)
                .map(|c| c.transport.clone())
                .collect();
            let also = if others.is_empty() {
                String::new()
            } else {
                format!(" (also {})", others.join(", "))
            };
            format!(
                "{}  {path}  {}{also}  {}  {}",
                p.peer_id,
                p.transport,
                p.address,
                p.agent.as_deref().unwrap_or("")
            )
        })
    })
}

pub(crate) fn connect(ctx: &Ctx, multiaddr: &str) -> Res {
    let v: Answer<ConnectResponse> = ctx.post("/v1/connect", Some(json!({"addr": multiaddr})))?;
    simple(ctx, v, |v| println!("Connected to {}", v.peer_id))
}

pub(crate) fn providers(ctx: &Ctx, id: &str) -> Res {
    let v: Answer<ProvidersResponse> = ctx.get(&format!("/v1/providers/{id}"))?;
    let empty = "No provider found in the DHT.";
    simple(ctx, v, |v| print_lines(&v.providers, empty, String::clone))
}

pub(crate) fn invite(ctx: &Ctx) -> Res {
    let v: Answer<InviteResponse> = ctx.get("/v1/invite")?;
    simple(ctx, v, |v| {
        let invite = &v.invite;
        if std::io::stdout().is_terminal() {
            if let Ok(code) = qrcode::QrCode::new(invite.as_bytes()) {
                let art = code
                    .render::<qrcode::render::unicode::Dense1x2>()
                    .quiet_zone(true)
                    .build();
                println!("{art}");
            }
            println!("Give this invite to the node that should join (`weft join <invite>`):");
        }
        println!("{invite}");
        if std::io::stdout().is_terminal() {
            if let Some(n) = &v.network {
                println!(
                    "It is for the private network {n}: the joining node needs the same swarm.key."
                );
            }
        }
    })
}

pub(crate) fn join(ctx: &Ctx, invite: &str, name: Option<String>) -> Res {
    let v: Answer<JoinResponse> =
        ctx.post("/v1/join", Some(json!({ "invite": invite, "name": name })))?;
    simple(ctx, v, |v| {
        for j in &v.joined {
            println!("Joined {} at {}", j.peer_id, j.addr);
        }
        for f in &v.failed {
            println!(
                "Could not reach {}: {}",
                f.addr.as_deref().unwrap_or("?"),
                f.error
            );
        }
        println!("Remembered as bootstrap peers; the catalog catches up in the background (see `weft status`).");
        if let Some(n) = &v.named {
            match &n.name.petname {
                Some(_) => println!(
                    "The inviter's publisher is {}: {}",
                    n.name.display(),
                    n.publisher
                ),
                None => println!(
                    "The inviter's publisher is {} ({}); give it a name with `weft name`.",
                    n.publisher, n.name.fingerprint
                ),
            }
        }
    })
}

pub(crate) fn doctor(ctx: &Ctx) -> Res {
    let v: Answer<DoctorResponse> = ctx.get("/v1/doctor")?;
    simple(ctx, v, print_doctor)
}

/// `weft doctor` for people: the facts, then each finding with what to do.
fn print_doctor(v: &DoctorResponse) {
    let r = &v.reachability;
    println!("Your IP:     {}", v.ip_visibility);
    println!("Peer id:     {}", r.peer_id);
    println!("Listening:   {}", or_none(&r.listen_addrs));
    println!("Announced:   {}", or_none(&r.external_addrs));
    let nat = match r.nat {
        NatStatus::Public => format!(
            "reachable directly (at {})",
            r.nat_address.as_deref().unwrap_or("?")
        ),
        NatStatus::Private => "behind NAT or a firewall".to_string(),
        NatStatus::Unknown => "not known yet".to_string(),
    };
    println!("NAT:         {nat}");
    let slots: Vec<String> = r
        .reservations
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s.address,
                if s.accepted { "reserved" } else { "asking" }
            )
        })
        .collect();
    println!("Relay slots: {}", or_none(&slots));
    let conns: Vec<String> = r
        .connections
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    println!(
        "Peers:       {} connected; connections: {}",
        r.peers,
        or_none(&conns)
    );
    for b in &r.bootstrap {
        let state = if b.connected {
            "connected".to_string()
        } else if b.answered {
            "answered earlier".to_string()
        } else {
            format!(
                "no answer{}",
                b.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )
        };
        println!("Bootstrap:   {}  {state}", b.address);
    }
    if let Some(p) = &r.socks5 {
        println!("Proxy:       SOCKS5 {p}");
    }
    println!();
    for f in &v.findings {
        let mark = match f.level {
            FindingLevel::Ok => "ok  ",
            FindingLevel::Info => "note",
            FindingLevel::Warning => "WARN",
            FindingLevel::Problem => "FIX ",
        };
        println!("[{mark}] {}", f.finding);
        if !f.suggestion.is_empty() {
            println!("       -> {}", f.suggestion);
        }
    }
}
