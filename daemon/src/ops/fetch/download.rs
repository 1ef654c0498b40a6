//! Downloading a batch of blobs from a fetch's peers: the windows, the
//! streams and what each answer does (see the module docs of
//! [`super`]).

use super::*;

struct Slot {
    peer: PeerId,
    /// Blobs asked of this peer and not answered yet.
    in_flight: usize,
    /// Its streams still open.
    streams: usize,
    window: usize,
    failures: u32,
    refusals: u32,
    good: bool,
    paused_until: Option<Instant>,
}

fn slot(peer: PeerId) -> Slot {
    Slot {
        peer,
        in_flight: 0,
        streams: 0,
        window: PER_PEER_WINDOW / 2,
        failures: 0,
        refusals: 0,
        good: true,
        paused_until: None,
    }
}

/// Takes up to `room` wants from the front of `queue` that `peer` may be
/// asked for (it has not said "not found", and each hash once), leaving the
/// others in their order. Blobs received meanwhile are dropped.
fn take_batch(
    queue: &mut VecDeque<Want>,
    received: &HashSet<ContentHash>,
    peer: &PeerId,
    room: usize,
) -> Vec<Want> {
    let mut batch: Vec<Want> = Vec::new();
    let mut kept = Vec::new();
    let mut scanned = 0;
    while batch.len() < room && scanned < SCAN_LIMIT {
        let Some(w) = queue.pop_front() else { break };
        scanned += 1;
        if received.contains(&w.hash) {
            continue;
        }
        if w.tried.contains(peer) || batch.iter().any(|b| b.hash == w.hash) {
            kept.push(w);
        } else {
            batch.push(w);
        }
    }
    for w in kept.into_iter().rev() {
        queue.push_front(w);
    }
    batch
}

/// Downloads `wanted` blobs from `peers`, verifying and storing each.
pub(super) async fn download(
    node: &Node,
    id: BundleId,
    peers: &PeerSet,
    wanted: Vec<(ContentHash, Expect)>,
    progress: &Progress,
) -> Result<(), NodeError> {
    let mut slots: Vec<Slot> = peer_list(peers).into_iter().map(slot).collect();
    // Blocks received, and blocks asked for: when, and of whom.
    let mut received: HashSet<ContentHash> = HashSet::new();
    let mut asked: HashMap<ContentHash, (Instant, Vec<PeerId>, Want)> = HashMap::new();
    let mut queue: VecDeque<Want> = wanted
        .into_iter()
        .map(|(hash, expect)| Want {
            hash,
            expect,
            tried: HashSet::new(),
        })
        .collect();
    // Blobs not received yet: the download ends when none is left, though
    // endgame copies may still be awaited from slow peers.
    let mut remaining: HashSet<ContentHash> = queue.iter().map(|w| w.hash).collect();
    // The streams run on tasks of their own (aborted when the fetch ends)
    // and report every blob through `arrivals`.
    let (tx, mut arrivals) = mpsc::channel::<Arrival>(ARRIVALS);
    let mut streams = tokio::task::JoinSet::new();
    // Blobs each open stream has still to report.
    let mut open: HashMap<u64, usize> = HashMap::new();
    let mut stream_no = 0u64;
    let mut in_flight = 0usize;
    let mut pending: Vec<(ContentHash, Vec<u8>)> = Vec::new();
    let mut pending_bytes = 0usize;
    // One batch is written in the background while the next one fills, so
    // the disk and the network work at the same time.
    let mut writing: Option<tokio::task::JoinHandle<Result<(), StoreError>>> = None;
    let mut next = 0usize;
    let outcome = 'fetch: loop {
        // Once weftd is stopping, no new block is asked for: the blocks
        // verified so far are written below, and the interrupted fetch
        // resumes at the next start.
        if node.jobs.tracker().is_requested() {
            break Err(stopping());
        }
        if remaining.is_empty() {
            break Ok(());
        }
        // Peers found since the last round join.
        let known = peer_list(peers);
        if known.len() > slots.len() {
            for p in known {
                if !slots.iter().any(|s| s.peer == p) {
                    slots.push(slot(p));
                }
            }
        }
        let now = Instant::now();
        // Endgame: nothing left to hand out, but blocks still awaited from
        // slow peers are asked of an idle one as well.
        if queue.is_empty() && in_flight > 0 {
            for (_, (since, holders, want)) in asked.iter() {
                if holders.len() == 1 && now.duration_since(*since) >= ENDGAME_AFTER {
                    let mut w = want.clone();
                    w.tried.extend(holders.iter().copied());
                    queue.push_back(w);
                }
            }
        }
        // Hand out work, a stream at a time: to the least-loaded good,
        // unpaused peers with room in their window, each batch of blobs
        // that peer has not said "not found" for.
        while in_flight < MAX_IN_FLIGHT && !queue.is_empty() {
            let n = slots.len();
            let mut candidates: Vec<usize> = (0..n)
                .map(|i| (next + i) % n)
                .filter(|&i| {
                    let s = &slots[i];
                    s.good
                        && s.in_flight < s.window
                        && s.streams < STREAMS_PER_PEER
                        && s.paused_until.is_none_or(|t| t <= now)
                })
                .collect();
            candidates.sort_by_key(|&i| slots[i].in_flight);
            // Work is spread over every good peer: a small fetch gives each
            // a share rather than one peer a full stream.
            let good = slots.iter().filter(|s| s.good).count().max(1);
            let share = queue.len().div_ceil(good).max(1);
            let mut handed = false;
            for i in candidates {
                let s = &slots[i];
                let room = (s.window - s.in_flight)
                    .min(BLOCKS_PER_STREAM)
                    .min(share)
                    .min(MAX_IN_FLIGHT - in_flight);
                let batch = take_batch(&mut queue, &received, &s.peer, room);
                if batch.is_empty() {
                    continue;
                }
                let peer = s.peer;
                for w in &batch {
                    asked
                        .entry(w.hash)
                        .or_insert_with(|| (now, Vec::new(), w.clone()))
                        .1
                        .push(peer);
                }
                stream_no += 1;
                open.insert(stream_no, batch.len());
                in_flight += batch.len();
                let s = &mut slots[i];
                s.in_flight += batch.len();
                s.streams += 1;
                let origin = stream::Origin {
                    stream: stream_no,
                    slot: i,
                    peer,
                    sent_window: s.window,
                };
                streams.spawn(stream::run(node.net.clone(), origin, batch, tx.clone()));
                next = (i + 1) % n;
                handed = true;
                break;
            }
            if !handed {
                break;
            }
        }
        if in_flight == 0 {
            if queue.is_empty() {
                break Ok(());
            }
            // A blob no good peer can still be asked for ends the fetch.
            if let Some(want) = queue
                .iter()
                .find(|w| !slots.iter().any(|s| s.good && !w.tried.contains(&s.peer)))
            {
                let dropped = slots.iter().filter(|s| !s.good).count();
                break 'fetch Err(NodeError::NotFound(format!(
                    "no connected peer could provide block {} of bundle {id}: {} said they do not \
                     have it, {dropped} failed too often or sent bad data; blocks already received \
                     are kept, and this node resumes the download by itself when a provider is back",
                    want.hash,
                    want.tried.len()
                )));
            }
            // Everyone who could serve the next blob is paused: wait.
            let wake = slots
                .iter()
                .filter(|s| s.good)
                .filter_map(|s| s.paused_until)
                .filter(|t| *t > now)
                .min()
                .unwrap_or(now + RETRY_PAUSE);
            tokio::time::sleep_until(wake.max(now + Duration::from_millis(10))).await;
            continue;
        }
        // Waiting on a peer that stalls must not wait for its timeout: in
        // the endgame the loop wakes now and then to re-ask what is late.
        let arrival = tokio::select! {
            a = arrivals.recv() => a,
            _ = tokio::time::sleep(ENDGAME_TICK), if queue.is_empty() => continue,
            _ = node.jobs.tracker().requested() => break Err(stopping()),
        };
        let Some(Arrival {
            stream,
            slot: i,
            sent_window,
            mut want,
            outcome,
        }) = arrival
        else {
            break Ok(());
        };
        in_flight -= 1;
        let slot = &mut slots[i];
        slot.in_flight -= 1;
        if let Some(left) = open.get_mut(&stream) {
            *left -= 1;
            if *left == 0 {
                open.remove(&stream);
                slot.streams -= 1;
            }
        }
        let peer = slot.peer;
        if let Some(e) = asked.get_mut(&want.hash) {
            e.1.retain(|p| *p != peer);
            if e.1.is_empty() {
                asked.remove(&want.hash);
            }
        }
        if received.contains(&want.hash) {
            // The other copy of an endgame request already came.
            if matches!(outcome, Outcome::Verified(_)) {
                slot.failures = 0;
            }
            continue;
        }
        match outcome {
            Outcome::Verified(bytes) => {
                slot.failures = 0;
                slot.refusals = 0;
                slot.window = (slot.window + 1).min(PER_PEER_WINDOW);
                received.insert(want.hash);
                remaining.remove(&want.hash);
                Metrics::add(&node.metrics.blobs_fetched, 1);
                progress.add(want.expect.progress());
                Metrics::add(&node.metrics.bytes_fetched, bytes.len() as u64);
                pending_bytes += bytes.len();
                pending.push((want.hash, bytes));
                if pending_bytes >= WRITE_BATCH_BYTES {
                    if let Err(e) = finish_write(writing.take()).await {
                        break 'fetch Err(e);
                    }
                    let batch = std::mem::take(&mut pending);
                    pending_bytes = 0;
                    let store = node.store.clone();
                    writing = Some(tokio::task::spawn_blocking(move || store.put_blobs(&batch)));
                }
            }
            Outcome::Inconsistent(why) => {
                break Err(NodeError::BadRequest(format!(
                    "bundle {id} is inconsistent: block {} does not fit its manifest ({why}); \
                     the publisher made a broken bundle",
                    want.hash
                )));
            }
            Outcome::Lied(why) => {
                Metrics::add(&node.metrics.chunks_rejected, 1);
                if slot.good {
                    // Its other answers still in flight are dropped too,
                    // but it is punished once.
                    slot.good = false;
                    node.net
                        .punish(peer, format!("sent a block that does not verify: {why}"))
                        .await;
                }
                queue.push_back(want);
            }
            Outcome::NotFound => {
                want.tried.insert(peer);
                queue.push_back(want);
            }
            Outcome::Refused | Outcome::Failed(_) => {
                // Only blobs asked at a window of 1 count towards dropping
                // the peer, and one burst of failures halves the window once
                // (relative to the window the stream was opened with), so a
                // brief overload costs a pause, not the peer.
                if sent_window == 1 {
                    match &outcome {
                        Outcome::Failed(e) => {
                            tracing::debug!(%peer, error = %e, "block request failed");
                            slot.failures += 1;
                        }
                        _ => slot.refusals += 1,
                    }
                    if slot.failures >= MAX_PEER_FAILURES || slot.refusals >= MAX_PEER_REFUSALS {
                        slot.good = false;
                    }
                }
                slot.window = slot.window.min((sent_window / 2).max(1));
                // A busy peer is given more and more time: 0.5 s, 1 s, ...
                // up to 8 s between tries.
                let backoff = RETRY_PAUSE * (1 << slot.refusals.min(4));
                slot.paused_until = Some(Instant::now() + backoff);
                queue.push_back(want);
            }
        }
    };
    streams.abort_all();
    // Verified blocks are kept whatever happened, so a retry resumes.
    finish_write(writing).await?;
    if !pending.is_empty() {
        node.blocking(move |s| s.put_blobs(&pending)).await?;
    }
    outcome
}

/// Waits for a background batch write, if there is one.
pub(super) async fn finish_write(
    w: Option<tokio::task::JoinHandle<Result<(), StoreError>>>,
) -> Result<(), NodeError> {
    match w {
        None => Ok(()),
        Some(h) => h
            .await
            .map_err(|e| NodeError::Internal(e.to_string()))?
            .map_err(NodeError::from),
    }
}
