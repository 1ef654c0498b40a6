//! The transport's own ceiling: what rust-libp2p moves memory to memory
//! between two swarms on loopback with the transport weftd uses (TCP with
//! nodelay, noise, yamux with its default configuration), on one stream
//! and on four. No disk, no hashing, no store: the reference a transfer
//! protocol is measured against ("at least 90% of the same transport").

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol};

use crate::report::Report;
use crate::util::quantile;
use crate::Sizes;

const PROTOCOL: StreamProtocol = StreamProtocol::new("/weft-bench/ceiling/1");
/// Bytes written per call.
const WRITE: usize = 1 << 20;

/// One side: a swarm with only the stream behaviour, run on the current
/// runtime. Returns its control, its peer id and its listen address.
async fn side() -> anyhow::Result<(libp2p_stream::Control, PeerId, Multiaddr, Side)> {
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default().nodelay(true),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )?
        .with_behaviour(|_| libp2p_stream::Behaviour::new())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(600)))
        .build();
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let control = swarm.behaviour().new_control();
    let peer = *swarm.local_peer_id();
    Ok((control, peer, addr, Side(swarm)))
}

struct Side(libp2p::Swarm<libp2p_stream::Behaviour>);

impl Side {
    fn spawn(mut self, dial: Option<Multiaddr>) {
        tokio::spawn(async move {
            if let Some(a) = dial {
                let _ = self.0.dial(a);
            }
            loop {
                self.0.select_next_some().await;
            }
        });
    }
}

/// Moves `total` bytes from a sender to a receiver over `streams` streams
/// at once; returns MiB/s. Gives up after `limit` rather than hang.
async fn run(total: u64, streams: usize, limit: Duration) -> anyhow::Result<f64> {
    tokio::time::timeout(limit, run_once(total, streams))
        .await
        .with_context(|| format!("moving {total} bytes on {streams} streams took over {limit:?}"))?
}

async fn run_once(total: u64, streams: usize) -> anyhow::Result<f64> {
    let (mut rx_control, rx_peer, rx_addr, rx_swarm) = side().await?;
    let (tx_control, _, _, tx_swarm) = side().await?;
    rx_swarm.spawn(None);
    tx_swarm.spawn(Some(rx_addr));
    let mut incoming = rx_control.accept(PROTOCOL).context("accept")?;
    let per = total / streams as u64;
    // libp2p-stream drops an inbound stream when the acceptor has not taken
    // the previous one yet, so the streams are opened one at a time, each
    // once the receiver has taken the one before.
    let (taken_tx, mut taken) = tokio::sync::mpsc::channel::<()>(streams);
    let reader = tokio::spawn(async move {
        let mut readers = Vec::new();
        for _ in 0..streams {
            let Some((_, mut s)) = incoming.next().await else {
                break;
            };
            let _ = taken_tx.send(()).await;
            readers.push(tokio::spawn(async move {
                let mut buf = vec![0u8; WRITE];
                let mut got = 0u64;
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return got,
                        Ok(n) => got += n as u64,
                    }
                }
            }));
        }
        let mut got = 0;
        for r in readers {
            got += r.await.unwrap_or(0);
        }
        got
    });
    // Open the streams (retrying while the connection comes up), then
    // time the writes until the receiver has read everything.
    let mut opened = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while opened.len() < streams {
        let mut c = tx_control.clone();
        match c.open_stream(rx_peer, PROTOCOL).await {
            Ok(s) => {
                opened.push(s);
                taken.recv().await.context("the receiver stopped")?;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => bail!("cannot open a stream: {e}"),
        }
    }
    let t = Instant::now();
    let writers: Vec<_> = opened
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let block = vec![0x5a_u8; WRITE];
                let mut sent = 0u64;
                while sent < per {
                    let n = (per - sent).min(WRITE as u64) as usize;
                    if s.write_all(&block[..n]).await.is_err() {
                        break;
                    }
                    sent += n as u64;
                }
                let _ = s.close().await;
            })
        })
        .collect();
    for w in writers {
        w.await?;
    }
    let got = reader.await?;
    let secs = t.elapsed().as_secs_f64();
    if got != per * streams as u64 {
        bail!("the receiver read {got} of {} bytes", per * streams as u64);
    }
    Ok(got as f64 / (1 << 20) as f64 / secs)
}

/// The case: three rounds each on one stream and on four; medians.
pub fn bench(sizes: &Sizes, report: &mut Report) -> anyhow::Result<()> {
    let total = sizes.size_mib.max(1) << 20;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Even a slow machine moves 10 MiB/s; past that something is stuck.
    let limit = Duration::from_secs(60 + (total >> 20) / 10);
    let mut rows = Vec::new();
    for streams in [1, 4] {
        let mut rates = Vec::new();
        for _ in 0..3 {
            rates.push(rt.block_on(run(total, streams, limit))?);
        }
        let median = quantile(&rates, 0.5);
        report.add(
            &format!(
                "libp2p ceiling: {} MiB memory to memory, TCP + noise + yamux, {streams} stream{} (median of 3)",
                total >> 20,
                if streams == 1 { "" } else { "s" }
            ),
            format!("{median:.0} MiB/s"),
            "—".into(),
            "—".into(),
            "—",
            None,
        );
        report.ceiling = Some(report.ceiling.unwrap_or(0.0).max(median));
        rows.push((streams, rates));
    }
    let mut body = String::from(
        "The reference for the transfer path: two rust-libp2p swarms in one process, on loopback, with the transport weftd uses, moving bytes from memory to memory (nothing hashed, stored or written).\n\n| streams | runs (MiB/s) |\n|---|---|\n",
    );
    for (streams, rates) in rows {
        let runs: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        body.push_str(&format!("| {streams} | {} |\n", runs.join(", ")));
    }
    report.section("Transport ceiling", body);
    Ok(())
}
