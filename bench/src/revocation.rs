//! Identities: how fast a revocation reaches every node of a mesh, and
//! what checking signers against key logs costs on the way in.
//!
//! Spread: in a random sparse mesh (as in the gossip case), node 0 holds
//! an identity's root; for each trial another node becomes a device of
//! that identity, publishes a bundle that every node lists, and node 0
//! revokes the device keeping nothing. The figure is the time from the
//! revocation's request until every node has dropped the bundle (its
//! `GET /v1/bundles/{id}` says 404, or, on the device's own node, which
//! pinned it, `revoked`).
//!
//! Ingest: the gossip path of one node (`catalog::ingest::ingest`: decode,
//! verify, check the signer, store) on the same number of announcements
//! signed by single keys and by certified devices of identities, in one
//! process on the same store kind, so the ratio is the cost of the signer
//! check.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use rand::SeedableRng;
use weft_daemon::catalog::ingest::ingest;
use weft_daemon::catalog::Catalog;
use weft_daemon::store::RocksStore;
use weft_e2e::Daemon;
use weft_protocol::api::{InitOutput, KeyEventsMade, PublishResult};
use weft_protocol::manifest::{identity_id, next_commitment};
use weft_protocol::words::PaperBackup;
use weft_protocol::{
    Announcement, BundleId, CatalogEntry, KeyEvent, KeyKind, LangTitle, PublisherId, PublisherKey,
    SignedAnnouncement, SignedKeyEvent, VERSION,
};

use crate::report::Report;
use crate::util::{quantile, secs, weft_timed};
use crate::Sizes;

/// Longest wait for one revocation to reach every node.
const SPREAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs both measurements: the spread at the largest mesh size, the
/// ingest cost on `entries / 10` announcements.
pub fn run(sizes: &Sizes, report: &mut Report) -> anyhow::Result<()> {
    spread(sizes, report)?;
    ingest_cost(sizes, report)
}

fn spread(sizes: &Sizes, report: &mut Report) -> anyhow::Result<()> {
    let n = sizes.nodes.iter().copied().max().unwrap_or(3).max(3);
    let trials = sizes.gossip_trials.clamp(2, 10).min(n - 1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let nodes = crate::gossip::start_mesh(n, &mut rng)?;
    let (created, _) = weft_timed::<InitOutput>(&nodes[0], &["init"])?;
    let identity = created.publisher.to_string();
    let folder = tempfile::tempdir()?;
    let apis: Vec<_> = nodes.iter().map(|d| d.api()).collect();
    let mut to_all = Vec::new();
    let mut per_node = Vec::new();
    for trial in 1..=trials {
        let device_node = &nodes[trial];
        // A new device: its key made on its node, certified by the root.
        let (added, _) = weft_timed::<serde_json::Value>(
            device_node,
            &[
                "device",
                "add",
                "--identity",
                &identity,
                "--name",
                &format!("d{trial}"),
            ],
        )?;
        let device = added["device"].as_str().unwrap_or_default().to_string();
        weft_timed::<KeyEventsMade>(
            &nodes[0],
            &["device", "approve", &device, "--name", &format!("d{trial}")],
        )?;
        // Its node learns the certificate (by gossip), then publishes; a
        // publish before it arrives is refused, and retried as a person
        // would.
        let dir = folder.path().join(format!("r{trial}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("note.txt"), format!("revocation trial {trial}\n"))?;
        let asked = Instant::now();
        let published = loop {
            match weft_timed::<PublishResult>(
                device_node,
                &["publish", &dir.to_string_lossy(), "--title", "note"],
            ) {
                Ok((p, _)) => break p,
                Err(_) if asked.elapsed() < SPREAD_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => return Err(e),
            }
        };
        let path = format!("/v1/bundles/{}", published.id);
        wait_all(&nodes, &apis, &path, |v| v.is_some())?;
        // The revocation, timed from the request.
        let t = Instant::now();
        weft_timed::<KeyEventsMade>(&nodes[0], &["device", "revoke", &device])?;
        let lat = wait_all(&nodes, &apis, &path, |v| {
            v.is_none_or(|v| v["revoked"] == true && v["local"] == true)
        })?
        .into_iter()
        .map(|at| at.duration_since(t).as_secs_f64())
        .collect::<Vec<_>>();
        to_all.push(lat.iter().copied().fold(0.0, f64::max));
        per_node.extend(lat);
    }
    let (p50, p99) = (quantile(&to_all, 0.5), quantile(&to_all, 0.99));
    report.add(
        &format!("revocation: {n} nodes, time until all drop the revoked device's bundle"),
        format!("p99 {:.0} ms, p50 {:.0} ms", p99 * 1e3, p50 * 1e3),
        "—".into(),
        "—".into(),
        "—",
        None,
    );
    report.section(
        "Revocation spread",
        format!(
            "{trials} revocations in a mesh of {n} nodes (each dials 3 earlier ones). Each \
             time, a node that had just become a device of node 0's identity published a \
             bundle every node listed; node 0 revoked the device, keeping nothing. Time from \
             the revocation's request until each node had dropped the bundle (per node: p50 \
             {:.0} ms, p99 {:.0} ms); until every node had: p50 {:.0} ms, p99 {:.0} ms, worst \
             {:.0} ms.\n",
            quantile(&per_node, 0.5) * 1e3,
            quantile(&per_node, 0.99) * 1e3,
            p50 * 1e3,
            p99 * 1e3,
            to_all.iter().copied().fold(0.0, f64::max) * 1e3,
        ),
    );
    Ok(())
}

/// Polls every node's `path` until `done` holds for its answer (`None`
/// for a 404); returns when each node got there.
fn wait_all(
    nodes: &[Daemon],
    apis: &[weft_cli::http::Api],
    path: &str,
    done: impl Fn(Option<&serde_json::Value>) -> bool,
) -> anyhow::Result<Vec<Instant>> {
    let t = Instant::now();
    let mut at: Vec<Option<Instant>> = vec![None; nodes.len()];
    loop {
        let mut missing = 0;
        for (i, api) in apis.iter().enumerate() {
            if at[i].is_some() {
                continue;
            }
            let v = api
                .get_json::<serde_json::Value>(path, nodes[i].path())
                .ok();
            if done(v.as_ref()) {
                at[i] = Some(Instant::now());
            } else {
                missing += 1;
            }
        }
        if missing == 0 {
            return Ok(at.into_iter().flatten().collect());
        }
        std::thread::sleep(Duration::from_millis(5));
        if t.elapsed() > SPREAD_TIMEOUT {
            bail!(
                "{path}: only {} of {} nodes got there in {SPREAD_TIMEOUT:?}",
                nodes.len() - missing,
                nodes.len()
            );
        }
    }
}

/// An announcement of a made-up bundle `n` for `publisher`, signed by
/// `key`.
fn announcement(key: &PublisherKey, publisher: PublisherId, n: usize) -> Vec<u8> {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&(n as u64).to_be_bytes());
    id[8..16].copy_from_slice(&publisher.as_bytes()[..8]);
    SignedAnnouncement::sign_announcement(
        Announcement {
            v: VERSION,
            id: BundleId::from_bytes(id),
            seq: 1,
            name: format!("note-{n}"),
            size: 100,
            tags: vec![],
            files: 1,
            titles: vec![LangTitle {
                lang: "en".into(),
                title: format!("Note {n}"),
            }],
            created: 1_700_000_000,
            publisher,
        },
        key,
    )
    .expect("a valid announcement")
    .bytes()
    .to_vec()
}

/// The incept event and a device certificate of identity number `i`.
fn identity(i: u8) -> (PublisherId, PublisherKey, Vec<SignedKeyEvent>) {
    let paper = PaperBackup::from_entropy([i; 32]);
    let root = paper.root(0);
    let next = next_commitment(&paper.root(1).id());
    let id = identity_id(&root.id(), &next);
    let device = PublisherKey::from_seed([i.wrapping_add(100); 32]);
    let base = |seq, kind, prev: Option<&SignedKeyEvent>| KeyEvent {
        v: VERSION,
        id,
        seq,
        keep: None,
        kind,
        name: None,
        next: None,
        prev: prev.map(SignedKeyEvent::hash),
        root: root.id(),
        device: None,
        created: 1_700_000_000,
    };
    let incept = SignedKeyEvent::sign(
        KeyEvent {
            next: Some(next),
            ..base(0, KeyKind::Incept, None)
        },
        &root,
    )
    .expect("valid");
    let cert = SignedKeyEvent::sign(
        KeyEvent {
            device: Some(device.id()),
            name: Some("laptop".into()),
            ..base(1, KeyKind::Device, Some(&incept))
        },
        &root,
    )
    .expect("valid");
    (id, device, vec![incept, cert])
}

/// Entries per second through the gossip path, for `entries` from
/// `publishers` publishers, each checked and stored in a new RocksDB
/// store under `dir`.
fn ingest_rate(dir: &Path, entries: &[Vec<u8>], keys: &[SignedKeyEvent]) -> anyhow::Result<f64> {
    let store = RocksStore::open(dir)?;
    let catalog = Catalog::default();
    catalog.mark_loaded();
    let peer = libp2p::PeerId::random();
    for e in keys {
        catalog.add_entry(&store, &CatalogEntry::Key(e.clone()))?;
    }
    let t = Instant::now();
    for bytes in entries {
        if let weft_daemon::catalog::ingest::Ingested::Invalid(why) =
            ingest(&catalog, &store, bytes, None, &peer)
        {
            bail!("an entry was refused: {why}");
        }
    }
    Ok(entries.len() as f64 / secs(t))
}

fn ingest_cost(sizes: &Sizes, report: &mut Report) -> anyhow::Result<()> {
    let n = (sizes.entries / 10).max(1000);
    let publishers = 50;
    let single: Vec<PublisherKey> = (0..publishers)
        .map(|i| PublisherKey::from_seed([i as u8 + 1; 32]))
        .collect();
    let identities: Vec<_> = (0..publishers).map(|i| identity(i as u8 + 1)).collect();
    let plain: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let k = &single[i % publishers];
            announcement(k, k.id(), i)
        })
        .collect();
    let by_device: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let (id, device, _) = &identities[i % publishers];
            announcement(device, *id, i)
        })
        .collect();
    let logs: Vec<SignedKeyEvent> = identities.iter().flat_map(|(_, _, e)| e.clone()).collect();
    let work = tempfile::tempdir()?;
    // Alternate the two, three times each, and keep the medians.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..3 {
        a.push(ingest_rate(
            &work.path().join(format!("single-{round}")),
            &plain,
            &[],
        )?);
        b.push(ingest_rate(
            &work.path().join(format!("device-{round}")),
            &by_device,
            &logs,
        )?);
    }
    let (single_rate, device_rate) = (quantile(&a, 0.5), quantile(&b, 0.5));
    report.add(
        &format!("signer checks: gossip path, {n} announcements signed by certified devices"),
        format!("{device_rate:.0} entries/s"),
        format!("{single_rate:.0} entries/s signed by single keys"),
        format!("{:.2}×", device_rate / single_rate),
        "≥ 0.9×",
        Some(device_rate / single_rate >= 0.9),
    );
    Ok(())
}
