//! The fetcher against a scripted network.

use super::*;

#[cfg(test)]
mod tests_support {
    //! The fetcher against a scripted network: a task plays the swarm and
    //! answers each request as the test says, so every decision the
    //! fetcher makes can be checked without sockets.

    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    use futures::AsyncWriteExt as _;
    use tokio::sync::mpsc;
    use tokio_util::compat::TokioAsyncReadCompatExt as _;
    use weft_protocol::blocks::{FrameHeader, FrameStatus};

    use crate::jobs::Jobs;
    use crate::net::blocks::{read_request, write_frame, BlockStream};
    use crate::net::client::ScriptedOpener;
    use crate::net::{Client, Command, PeerInfo};
    use crate::store::{MemStore, Store};

    pub type Script = Arc<dyn Fn(PeerId, ContentHash, u32) -> Response + Send + Sync>;

    pub struct World {
        pub node: Node,
        pub punished: Arc<Mutex<Vec<PeerId>>>,
    }

    pub fn world(peers: Vec<PeerId>, script: Script) -> World {
        world_with_stallers(peers, Vec::new(), script)
    }

    /// A world where `stallers` read every request and never answer.
    pub fn world_with_stallers(peers: Vec<PeerId>, stallers: Vec<PeerId>, script: Script) -> World {
        let (tx, mut rx) = mpsc::channel(64);
        let punished = Arc::new(Mutex::new(Vec::new()));
        let p2 = punished.clone();
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    Command::Punish { peer, .. } => p2.lock().unwrap().push(peer),
                    Command::Peers { reply } => {
                        let _ = reply.send(
                            peers
                                .iter()
                                .map(|p| PeerInfo {
                                    peer_id: p.to_string(),
                                    address: String::new(),
                                    transport: "tcp".into(),
                                    outbound: true,
                                    agent: None,
                                    announced: Vec::new(),
                                    score: None,
                                    relayed: false,
                                    connections: Vec::new(),
                                })
                                .collect(),
                        );
                    }
                    _ => {}
                }
            }
        });
        // Each block stream is an in-memory pipe whose far end a task
        // answers as the script says, frame by frame.
        let asked: Arc<Mutex<HashMap<(PeerId, ContentHash), u32>>> = Arc::default();
        let open: ScriptedOpener = Arc::new(move |peer| {
            let (near, far) = tokio::io::duplex(1 << 16);
            let (script, asked) = (script.clone(), asked.clone());
            let stallers = stallers.clone();
            tokio::spawn(async move {
                let mut far: BlockStream = Box::new(far.compat());
                let Ok(request) = read_request(&mut far).await else {
                    return;
                };
                if stallers.contains(&peer) {
                    std::future::pending::<()>().await;
                }
                for h in request.hashes {
                    let n = {
                        let mut a = asked.lock().unwrap();
                        let n = a.entry((peer, h)).or_default();
                        *n += 1;
                        *n
                    };
                    let (header, data) = match script(peer, h, n) {
                        Response::Found(d) => (FrameHeader::found(d.len()), d),
                        Response::NotFound => (FrameHeader::empty(FrameStatus::NotFound), vec![]),
                        Response::Refused => (FrameHeader::empty(FrameStatus::Refused), vec![]),
                    };
                    if write_frame(&mut far, header, &data).await.is_err()
                        || header.status == FrameStatus::Refused
                    {
                        break;
                    }
                }
                let _ = far.close().await;
            });
            Ok(Box::new(near.compat()) as BlockStream)
        });
        let store: Arc<dyn Store> = Arc::new(MemStore::default());
        let catalog: Arc<crate::catalog::Catalog> = Arc::default();
        let holdings = Arc::new(
            crate::holdings::Holdings::load(
                store.as_ref(),
                None,
                catalog.clone(),
                mpsc::channel(16).0,
            )
            .unwrap(),
        );
        let policy = Arc::new(
            crate::rules::Rules::load(
                store.as_ref(),
                Default::default(),
                Default::default(),
                catalog.trust().clone(),
            )
            .unwrap(),
        );
        World {
            node: Node {
                book: Arc::new(crate::peerbook::PeerBook::load(store.clone()).unwrap()),
                network: None,
                mdns: false,
                store,
                catalog,
                net: Client::scripted(tx, open),
                metrics: Arc::default(),
                data_dir: std::env::temp_dir(),
                jobs: Arc::new(Jobs::new(crate::shutdown::Controller::default().handle())),
                holdings,
                rules: policy,
                names: Arc::default(),
                keyring: Arc::default(),
                unlocked: None,
            },
            punished,
        }
    }

    pub fn blobs(n: usize) -> HashMap<ContentHash, Vec<u8>> {
        (0..n)
            .map(|i| {
                let b = vec![i as u8; 1000 + i];
                (ContentHash::of(&b), b)
            })
            .collect()
    }

    pub fn wanted(b: &HashMap<ContentHash, Vec<u8>>) -> Vec<(ContentHash, Expect)> {
        b.iter()
            .map(|(h, v)| (*h, Expect::Chunk(v.len() as u64)))
            .collect()
    }

    pub const ID: BundleId = BundleId::from_bytes([1; 32]);

    pub fn set(peers: &[PeerId]) -> PeerSet {
        Arc::new(Mutex::new(peers.to_vec()))
    }
}

#[cfg(test)]
mod cases {
    use super::tests_support::*;
    use super::*;

    #[tokio::test]
    async fn a_busy_peer_is_waited_for_not_dropped() {
        let b = Arc::new(blobs(20));
        let peer = PeerId::random();
        let b2 = b.clone();
        // Busy for its first 8 requests, whatever they ask for: a burst at
        // the starting window, then two more at a window of 1.
        let asked = std::sync::atomic::AtomicU32::new(0);
        let w = world(
            vec![peer],
            Arc::new(move |_, h, _| {
                if asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 8 {
                    Response::Refused
                } else {
                    Response::Found(b2[&h].clone())
                }
            }),
        );
        let progress = Progress::default();
        download(&w.node, ID, &set(&[peer]), wanted(&b), &progress)
            .await
            .unwrap();
        for h in b.keys() {
            assert!(w.node.store.has_blob(h).unwrap());
        }
        assert_eq!(
            progress.done.load(std::sync::atomic::Ordering::Relaxed),
            b.values().map(|v| v.len() as u64).sum::<u64>()
        );
        assert!(w.punished.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_liar_is_punished_and_its_blobs_come_from_an_honest_peer() {
        let b = Arc::new(blobs(30));
        let (liar, honest) = (PeerId::random(), PeerId::random());
        let b2 = b.clone();
        let w = world(
            vec![liar, honest],
            Arc::new(move |p, h, _| {
                if p == liar {
                    Response::Found(vec![0xee; b2[&h].len()])
                } else {
                    Response::Found(b2[&h].clone())
                }
            }),
        );
        download(
            &w.node,
            ID,
            &set(&[liar, honest]),
            wanted(&b),
            &Progress::default(),
        )
        .await
        .unwrap();
        assert_eq!(*w.punished.lock().unwrap(), vec![liar]);
        assert!(
            w.node
                .metrics
                .chunks_rejected
                .load(std::sync::atomic::Ordering::Relaxed)
                >= 1
        );
        for (h, v) in b.iter() {
            assert_eq!(
                &w.node.store.get_blob(h).unwrap().unwrap(),
                v,
                "only verified bytes are stored"
            );
        }
    }

    /// A peer that takes requests and never answers costs the endgame's
    /// wait, not its own timeout (on tokio's paused clock, so the figure
    /// is the fetcher's decisions, not the machine's speed).
    #[tokio::test(start_paused = true)]
    async fn a_stalling_peer_does_not_hold_the_fetch_until_its_timeout() {
        let b = Arc::new(blobs(40));
        let (staller, honest) = (PeerId::random(), PeerId::random());
        let b2 = b.clone();
        let w = world_with_stallers(
            vec![staller, honest],
            vec![staller],
            Arc::new(move |_, h, _| Response::Found(b2[&h].clone())),
        );
        let started = Instant::now();
        download(
            &w.node,
            ID,
            &set(&[staller, honest]),
            wanted(&b),
            &Progress::default(),
        )
        .await
        .unwrap();
        let took = started.elapsed();
        assert!(
            took < ENDGAME_AFTER + Duration::from_secs(1),
            "the fetch waited {took:?} for a peer that stalls"
        );
        for h in b.keys() {
            assert!(w.node.store.has_blob(h).unwrap());
        }
        assert!(w.punished.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn blobs_nobody_has_end_the_fetch_with_a_clear_error() {
        let b = blobs(3);
        let peers = vec![PeerId::random(), PeerId::random()];
        let w = world(peers.clone(), Arc::new(|_, _, _| Response::NotFound));
        let err = download(&w.node, ID, &set(&peers), wanted(&b), &Progress::default())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("2 said they do not have it"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_manifest_that_lies_about_a_size_fails_without_blaming_the_peer() {
        let b = Arc::new(blobs(1));
        let peer = PeerId::random();
        let b2 = b.clone();
        let w = world(
            vec![peer],
            Arc::new(move |_, h, _| Response::Found(b2[&h].clone())),
        );
        let (h, v) = b.iter().next().unwrap();
        let err = download(
            &w.node,
            ID,
            &set(&[peer]),
            vec![(*h, Expect::Chunk(v.len() as u64 + 1))],
            &Progress::default(),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("inconsistent"), "{err}");
        assert!(w.punished.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn blocks_received_before_a_failure_are_kept_for_a_retry() {
        let b = Arc::new(blobs(10));
        let peer = PeerId::random();
        let have: HashSet<ContentHash> = b.keys().take(5).copied().collect();
        let (b2, have2) = (b.clone(), have.clone());
        let w = world(
            vec![peer],
            Arc::new(move |_, h, _| {
                if have2.contains(&h) {
                    Response::Found(b2[&h].clone())
                } else {
                    Response::NotFound
                }
            }),
        );
        let err = download(&w.node, ID, &set(&[peer]), wanted(&b), &Progress::default()).await;
        assert!(err.is_err());
        for h in b.keys() {
            assert_eq!(w.node.store.has_blob(h).unwrap(), have.contains(h));
        }
    }
}
