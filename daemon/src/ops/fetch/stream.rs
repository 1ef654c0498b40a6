//! One block stream of a fetch (`/weft/xfer/2`): asks one peer for a batch
//! of blobs and reports each as it arrives, already checked against its
//! hash and length. Every blob handed to a stream is reported exactly once,
//! whatever happens to the stream, so the fetcher's counts stay right.

use std::collections::HashSet;

use libp2p::PeerId;
use tokio::sync::mpsc;
use weft_protocol::blocks::{BlockRequest, FrameStatus};
use weft_protocol::chunk::Expect;
use weft_protocol::{ChunkError, ContentHash};

use super::STALL_TIMEOUT;
use crate::net::blocks::{read_data, read_header, write_request, BlockStream, ReadError};
use crate::net::Client;

/// A blob the fetch still needs.
#[derive(Clone)]
pub(super) struct Want {
    pub hash: ContentHash,
    /// A chunk of a known length, or an index blob.
    pub expect: Expect,
    /// Peers that said "not found" for this blob.
    pub tried: HashSet<PeerId>,
}

/// What became of one blob asked for.
#[derive(Clone)]
pub(super) enum Outcome {
    /// Its bytes, verified against its hash and length (or index rules).
    Verified(Vec<u8>),
    /// The peer does not have it.
    NotFound,
    /// The peer is busy.
    Refused,
    /// The stream broke, ended early or stalled: nobody is blamed.
    Failed(String),
    /// The peer sent bytes that do not verify, or broke the protocol.
    Lied(String),
    /// The bytes match the hash but not the length the manifest states,
    /// or an index that breaks the rules: the manifest is wrong, not the
    /// peer.
    Inconsistent(String),
}

/// One blob's outcome, and where it was asked.
pub(super) struct Arrival {
    /// The stream (numbered by the fetcher).
    pub stream: u64,
    /// The peer's slot in the fetcher.
    pub slot: usize,
    /// The peer's window when the stream was opened.
    pub sent_window: usize,
    pub want: Want,
    pub outcome: Outcome,
}

/// Where a stream was opened, for its arrivals.
pub(super) struct Origin {
    pub stream: u64,
    pub slot: usize,
    pub peer: PeerId,
    pub sent_window: usize,
}

/// Asks `origin.peer` for `wants` on one stream and sends an [`Arrival`]
/// per blob to `tx`. Ends early, without a word, if the fetch is gone.
pub(super) async fn run(net: Client, origin: Origin, wants: Vec<Want>, tx: mpsc::Sender<Arrival>) {
    let peer = origin.peer;
    let mut wants = wants.into_iter();
    let report = |want: Want, outcome: Outcome| Arrival {
        stream: origin.stream,
        slot: origin.slot,
        sent_window: origin.sent_window,
        want,
        outcome,
    };
    // Every blob not answered yet gets the same outcome.
    async fn all(
        tx: &mpsc::Sender<Arrival>,
        rest: impl Iterator<Item = Want>,
        report: impl Fn(Want, Outcome) -> Arrival,
        outcome: impl Fn() -> Outcome,
    ) {
        for w in rest {
            if tx.send(report(w, outcome())).await.is_err() {
                return;
            }
        }
    }
    let hashes: Vec<ContentHash> = wants.as_slice().iter().map(|w| w.hash).collect();
    let opened = tokio::time::timeout(STALL_TIMEOUT, async {
        let mut s = net.open_blocks(peer).await.map_err(|e| e.to_string())?;
        write_request(&mut s, &BlockRequest { hashes })
            .await
            .map_err(|e| format!("sending the request: {e}"))?;
        Ok::<_, String>(s)
    })
    .await;
    let mut s = match opened {
        Ok(Ok(s)) => s,
        Ok(Err(why)) => return all(&tx, wants, report, || Outcome::Failed(why.clone())).await,
        Err(_) => {
            let why = format!("no answer in {} s", STALL_TIMEOUT.as_secs());
            return all(&tx, wants, report, || Outcome::Failed(why.clone())).await;
        }
    };
    while let Some(want) = wants.next() {
        let (outcome, rest) = frame(&mut s, &want).await;
        if tx.send(report(want, outcome)).await.is_err() {
            return;
        }
        if let Some(rest) = rest {
            return all(&tx, wants, report, || rest.clone()).await;
        }
    }
}

/// Reads the frame that answers `want`: its outcome and, when the stream
/// cannot go on, the outcome of every blob after it.
async fn frame(s: &mut BlockStream, want: &Want) -> (Outcome, Option<Outcome>) {
    let no_answer = || Outcome::Failed(format!("no answer in {} s", STALL_TIMEOUT.as_secs()));
    let broke = |e: std::io::Error| Outcome::Failed(format!("the stream ended: {e}"));
    let header = match tokio::time::timeout(STALL_TIMEOUT, read_header(s)).await {
        Ok(Ok(h)) => h,
        Ok(Err(ReadError::Bad(e))) => {
            return (
                Outcome::Lied(e.to_string()),
                Some(Outcome::Failed(e.to_string())),
            )
        }
        Ok(Err(ReadError::Io(e))) => {
            let o = broke(e);
            return (o.clone(), Some(o));
        }
        Err(_) => return (no_answer(), Some(no_answer())),
    };
    match header.status {
        FrameStatus::NotFound => (Outcome::NotFound, None),
        FrameStatus::Refused => (Outcome::Refused, Some(Outcome::Refused)),
        FrameStatus::Found => {
            match tokio::time::timeout(STALL_TIMEOUT, read_data(s, header.len)).await {
                Ok(Ok(data)) => match want.expect.check(&want.hash, &data) {
                    Ok(()) => (Outcome::Verified(data), None),
                    Err(e @ ChunkError::HashMismatch { .. }) => (
                        Outcome::Lied(e.to_string()),
                        Some(Outcome::Failed(e.to_string())),
                    ),
                    Err(e) => (Outcome::Inconsistent(e.to_string()), None),
                },
                Ok(Err(e)) => {
                    let o = broke(e);
                    (o.clone(), Some(o))
                }
                Err(_) => (no_answer(), Some(no_answer())),
            }
        }
    }
}
