//! The swarm task driven one step at a time, over real sockets on
//! loopback: a second node's loop runs on its own, this one is stepped by
//! the test, and the test plays the serving side.

use std::time::Duration;

use weft_protocol::{BundleId, Request, Response};

use super::*;
use crate::shutdown::Controller;

/// A book that knows nobody.
struct NoBook;

impl AddressBook for NoBook {
    fn record(&self, _: PeerId, _: &[Multiaddr]) {}
    fn candidates(&self, _: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        Vec::new()
    }
    fn bootstrap(&self) -> Vec<PeerId> {
        Vec::new()
    }
    fn way(&self, _: &PeerId) -> Option<String> {
        None
    }
    fn set_way(&self, _: PeerId, _: &str) {}
}

async fn node(ctl: &Controller) -> (Client, EventLoop, Inlets) {
    let opts = NetOptions::default();
    let swarm = build_swarm(
        libp2p::identity::Keypair::generate_ed25519(),
        &opts,
        Default::default(),
    )
    .unwrap();
    let (outlets, inlets) = outlets();
    let parts = Parts {
        metrics: Arc::default(),
        book: Arc::new(NoBook),
        outlets,
        opts,
        shutdown: ctl.handle(),
    };
    let listen: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().unwrap();
    let (client, lp) = start(swarm, &[listen], Vec::new(), parts).await.unwrap();
    (client, lp, inlets)
}

/// Steps `lp` until `task` finishes, or fails the test after 20 s.
async fn step_until<T>(lp: &mut EventLoop, task: tokio::task::JoinHandle<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    tokio::pin!(task);
    loop {
        tokio::select! {
            out = &mut task => return out.unwrap(),
            more = lp.step() => assert!(more, "the loop stopped"),
            _ = tokio::time::sleep_until(deadline) => panic!("no answer within 20 s"),
        }
    }
}

#[tokio::test]
async fn a_command_is_answered_in_one_step() {
    let ctl = Controller::default();
    let (client, mut lp, _inlets) = node(&ctl).await;
    let info = tokio::spawn(async move { client.info().await });
    assert!(lp.step().await);
    let info = info.await.unwrap().unwrap();
    assert_eq!(info.connected, 0);
    assert!(info.listen_addrs[0].starts_with("/ip4/127.0.0.1/tcp/"));
}

#[tokio::test]
async fn an_inbound_request_leaves_through_the_outlet_and_its_answer_returns() {
    let ctl = Controller::default();
    let (server, server_loop, mut server_inlets) = node(&ctl).await;
    let server_info = {
        let s = server.clone();
        let t = tokio::spawn(async move { s.info().await });
        let mut lp = server_loop;
        let info = step_until(&mut lp, t).await.unwrap();
        ctl.handle().spawn(lp.run());
        info
    };
    let (client, mut lp, _inlets) = node(&ctl).await;

    let addr: Multiaddr = format!(
        "{}/p2p/{}",
        server_info.listen_addrs[0], server_info.peer_id
    )
    .parse()
    .unwrap();
    let c = client.clone();
    let peer = step_until(&mut lp, tokio::spawn(async move { c.dial(addr).await }))
        .await
        .unwrap();
    assert_eq!(peer.to_string(), server_info.peer_id);

    // The test plays the server's serving side: it answers from the outlet.
    // (`server` itself stays alive: the loop ends when its last client goes,
    // and an answer still queued in the swarm would go with it.)
    let id = BundleId::from_bytes([7; 32]);
    let responder = server.clone();
    let answering = tokio::spawn(async move {
        let inbound = server_inlets.requests.recv().await.unwrap();
        assert_eq!(inbound.request, Request::Manifest(id));
        responder
            .respond(inbound, Response::Found(b"a manifest".to_vec()))
            .await;
    });
    let c = client.clone();
    let response = step_until(
        &mut lp,
        tokio::spawn(async move { c.request(peer, Request::Manifest(id)).await }),
    )
    .await
    .unwrap();
    assert_eq!(response, Response::Found(b"a manifest".to_vec()));
    answering.await.unwrap();
    drop(server);
    assert!(
        ctl.stop(Duration::from_secs(5)).await,
        "the loops stop on the signal"
    );
}
