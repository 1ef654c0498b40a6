//! Catalog reconciliation, `/weft/sync/1`: range-based set reconciliation
//! in the style of negentropy.
//!
//! Two nodes each hold a set of bundle ids (the announcements in their
//! catalogs). Ids are blake3 hashes, so they are spread evenly over the
//! 256-bit space, and ranges of that space can be compared by fingerprint:
//! where two fingerprints agree the range is skipped, where they differ it is
//! split into [`BRANCH`] sub-ranges, and a range with fewer than
//! [`ID_LIST_BELOW`] ids is settled by sending the ids themselves. Each
//! round trip therefore narrows the search by a factor of 16, and the bytes
//! exchanged grow with the number of differences times `log16(n)`, not with
//! `n`.
//!
//! A message is a list of ranges that together cover the whole id space, in
//! order. Each range names its exclusive upper bound; its lower bound is the
//! previous range's upper bound (the first starts at zero). A bound is the
//! shortest prefix that separates two neighbouring ids: the bound `p` stands
//! for `p` followed by zero bytes, so an id is below it exactly when the
//! id's first `len(p)` bytes sort before `p`. The empty bound is the end of
//! the space.
//!
//! The initiator drives: it sends a message, the responder answers each
//! range, and so on until the initiator has nothing but skips left to send.
//! The responder keeps no state between messages. Only the initiator learns
//! the difference: `need` (ids the responder has and it lacks) and `have`
//! (ids it has and the responder lacks). It then asks for the `need`
//! entries with [`SyncRequest::Get`], and sends [`SyncRequest::Hint`] when
//! `have` is not empty so that the responder reconciles with it in turn.
//!
//! Wire format, canonical CBOR like everything else:
//! - range: the array `[bound: bstr, mode: uint, payload: bstr]`; mode 0
//!   skip (empty payload), 1 fingerprint (16 bytes), 2 id list (32 bytes
//!   per id, strictly increasing, every id inside the range);
//! - request `{"i": bstr, "k": uint, "r": [range...]}`: `k = 0` reconcile
//!   (`r` set, `i` empty), `k = 1` get the announcements of the ids
//!   concatenated in `i` (at most [`MAX_GET_IDS`]), `k = 2` hint (both
//!   empty);
//! - response `{"e": [bstr...], "r": [range...], "s": uint}`: `s = 0`
//!   reconcile (`r`), `s = 1` entries (`e`, signed announcements), `s = 2`
//!   acknowledged, `s = 3` refused for now.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::cbor::{self, CborError};
use crate::id::BundleId;
use crate::limits::{MAX_ANNOUNCEMENT_BYTES, MAX_SYNC_MESSAGE_BYTES};

/// The libp2p protocol name of catalog reconciliation.
pub const SYNC_PROTOCOL: &str = "/weft/sync/1";
/// Sub-ranges a differing range is split into.
pub const BRANCH: usize = 16;
/// A differing range with fewer ids than this is answered with its ids.
pub const ID_LIST_BELOW: usize = 2 * BRANCH;
/// Bytes in a fingerprint.
pub const FINGERPRINT_BYTES: usize = 16;
/// Most ids in one `Get` request, and entries in its answer.
pub const MAX_GET_IDS: usize = 256;
/// Bytes a node aims to keep one reconcile message under. Past it, the rest
/// of the space is summarised by one fingerprint and settled in a later
/// round, so a message can never exceed [`MAX_SYNC_MESSAGE_BYTES`].
pub const FRAME_BYTES: usize = 256 << 10;

const _: () = assert!(
    MAX_GET_IDS * (MAX_ANNOUNCEMENT_BYTES + 8) + 64 <= MAX_SYNC_MESSAGE_BYTES,
    "a full Get answer must fit in a message"
);
const _: () = assert!(
    FRAME_BYTES + (ID_LIST_BELOW + BRANCH) * 64 <= MAX_SYNC_MESSAGE_BYTES,
    "a frame plus one more range must fit in a message"
);

/// The exclusive upper bound of a range.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bound {
    /// Ids whose first bytes sort before this prefix (1 to 32 bytes, the
    /// last one non-zero).
    Prefix(Vec<u8>),
    /// The end of the id space.
    End,
}

impl Bound {
    /// Whether `id` lies below this bound.
    pub fn above(&self, id: &BundleId) -> bool {
        match self {
            Bound::End => true,
            Bound::Prefix(p) => id.as_bytes()[..p.len()] < p[..],
        }
    }

    /// The shortest bound above `lo` and at or below `hi` (`lo < hi`).
    pub fn between(lo: &BundleId, hi: &BundleId) -> Bound {
        let (a, b) = (lo.as_bytes(), hi.as_bytes());
        let common = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
        Bound::Prefix(b[..(common + 1).min(32)].to_vec())
    }

    fn wire(&self) -> &[u8] {
        match self {
            Bound::End => &[],
            Bound::Prefix(p) => p,
        }
    }
}

/// What a range says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Nothing to do here.
    Skip,
    /// The sender's fingerprint of the range.
    Fingerprint([u8; FINGERPRINT_BYTES]),
    /// Every id the sender has in the range, in order.
    IdList(Vec<BundleId>),
}

/// One range of a reconcile message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// Exclusive upper bound.
    pub upper: Bound,
    /// What the sender says about it.
    pub mode: Mode,
}

impl Range {
    fn wire_size(&self) -> usize {
        let payload = match &self.mode {
            Mode::Skip => 0,
            Mode::Fingerprint(_) => FINGERPRINT_BYTES,
            Mode::IdList(ids) => ids.len() * 32,
        };
        // Array header, two byte-string headers and a mode byte.
        self.upper.wire().len() + payload + 12
    }
}

/// The fingerprint of a sorted run of ids: the blake3 hash of their sum
/// modulo 2^256 (each id read as a little-endian number) and their count,
/// cut to 16 bytes.
pub fn fingerprint(ids: &[BundleId]) -> [u8; FINGERPRINT_BYTES] {
    let mut sum = [0u64; 4];
    for id in ids {
        let b = id.as_bytes();
        let mut carry = 0u64;
        for (i, limb) in sum.iter_mut().enumerate() {
            let x = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            let (s1, c1) = limb.overflowing_add(x);
            let (s2, c2) = s1.overflowing_add(carry);
            *limb = s2;
            carry = u64::from(c1) + u64::from(c2);
        }
    }
    let mut h = blake3::Hasher::new();
    h.update(b"weft/sync/1 fingerprint");
    for limb in sum {
        h.update(&limb.to_le_bytes());
    }
    h.update(&(ids.len() as u64).to_le_bytes());
    let mut out = [0u8; FINGERPRINT_BYTES];
    out.copy_from_slice(&h.finalize().as_bytes()[..FINGERPRINT_BYTES]);
    out
}

/// What the initiator has learnt so far.
#[derive(Debug, Default, Clone)]
pub struct Difference {
    /// Ids the initiator has and the responder lacks.
    pub have: Vec<BundleId>,
    /// Ids the responder has and the initiator lacks.
    pub need: Vec<BundleId>,
}

impl Difference {
    /// Sorts both lists and drops repeats. A message cut short by its frame
    /// summarises the rest of the space, which can reopen ranges settled in
    /// the same round, so an id may be learnt twice.
    pub fn finish(&mut self) {
        for v in [&mut self.have, &mut self.need] {
            v.sort_unstable();
            v.dedup();
        }
    }
}

/// A reconcile message being built: merges neighbouring skips and keeps a
/// running size.
struct Out {
    ranges: Vec<Range>,
    size: usize,
}

impl Out {
    fn push(&mut self, upper: Bound, mode: Mode) {
        if mode == Mode::Skip {
            if let Some(last) = self.ranges.last_mut() {
                if last.mode == Mode::Skip {
                    self.size -= last.upper.wire().len();
                    self.size += upper.wire().len();
                    last.upper = upper;
                    return;
                }
            }
        }
        let r = Range { upper, mode };
        self.size += r.wire_size();
        self.ranges.push(r);
    }

    /// Sends the ids of a differing range, or splits it into fingerprinted
    /// sub-ranges.
    fn split(&mut self, local: &[BundleId], upper: Bound) {
        if local.len() < ID_LIST_BELOW {
            self.push(upper, Mode::IdList(local.to_vec()));
            return;
        }
        let n = local.len();
        for i in 0..BRANCH {
            let (start, end) = (i * n / BRANCH, (i + 1) * n / BRANCH);
            let ub = if i + 1 == BRANCH {
                upper.clone()
            } else {
                Bound::between(&local[end - 1], &local[end])
            };
            self.push(ub, Mode::Fingerprint(fingerprint(&local[start..end])));
        }
    }
}

/// The initiator's first message over its sorted ids.
pub fn initiate(items: &[BundleId]) -> Vec<Range> {
    let mut out = Out {
        ranges: Vec::new(),
        size: 0,
    };
    if items.len() < ID_LIST_BELOW {
        out.push(Bound::End, Mode::IdList(items.to_vec()));
    } else {
        out.push(Bound::End, Mode::Fingerprint(fingerprint(items)));
    }
    out.ranges
}

/// Answers a reconcile message against this node's sorted ids.
///
/// The initiator passes its [`Difference`], which gathers what id lists
/// reveal; an answer of nothing but skips means it is done. The responder
/// passes `None` and answers id lists with its own. Past `frame` bytes the
/// rest of the space is summarised by one fingerprint.
pub fn reconcile(
    items: &[BundleId],
    incoming: &[Range],
    mut diff: Option<&mut Difference>,
    frame: usize,
) -> Vec<Range> {
    let mut out = Out {
        ranges: Vec::new(),
        size: 0,
    };
    let mut lo = 0usize;
    for range in incoming {
        let hi = lo + items[lo..].partition_point(|id| range.upper.above(id));
        let local = &items[lo..hi];
        if out.size > frame && range.mode != Mode::Skip {
            // Leave the rest for a later round.
            out.push(Bound::End, Mode::Fingerprint(fingerprint(&items[lo..])));
            return out.ranges;
        }
        match &range.mode {
            Mode::Skip => out.push(range.upper.clone(), Mode::Skip),
            Mode::Fingerprint(fp) => {
                if fingerprint(local) == *fp {
                    out.push(range.upper.clone(), Mode::Skip);
                } else {
                    out.split(local, range.upper.clone());
                }
            }
            Mode::IdList(theirs) => match diff.as_deref_mut() {
                Some(d) => {
                    merge_difference(local, theirs, d);
                    out.push(range.upper.clone(), Mode::Skip);
                }
                None => {
                    // Send at most what the frame still has room for; the
                    // remainder of the range goes back as a fingerprint.
                    let room = frame.saturating_sub(out.size) / 32;
                    if local.len() <= room.max(1) {
                        out.push(range.upper.clone(), Mode::IdList(local.to_vec()));
                    } else {
                        let m = room.max(1);
                        out.push(
                            Bound::between(&local[m - 1], &local[m]),
                            Mode::IdList(local[..m].to_vec()),
                        );
                        out.push(
                            range.upper.clone(),
                            Mode::Fingerprint(fingerprint(&local[m..])),
                        );
                    }
                }
            },
        }
        lo = hi;
    }
    out.ranges
}

fn merge_difference(local: &[BundleId], theirs: &[BundleId], d: &mut Difference) {
    let (mut i, mut j) = (0, 0);
    while i < local.len() || j < theirs.len() {
        match (local.get(i), theirs.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                d.have.push(*a);
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                d.need.push(*b);
                j += 1;
            }
            (Some(a), None) => {
                d.have.push(*a);
                i += 1;
            }
            (None, None) => break,
        }
    }
}

/// Whether a message has nothing left to settle.
pub fn is_done(ranges: &[Range]) -> bool {
    ranges.iter().all(|r| r.mode == Mode::Skip)
}

/// A request on `/weft/sync/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRequest {
    /// A reconcile message.
    Reconcile(Vec<Range>),
    /// The signed announcements of these ids (at most [`MAX_GET_IDS`]).
    Get(Vec<BundleId>),
    /// "I have entries you lack": the receiver may reconcile with the sender.
    Hint,
}

/// A response on `/weft/sync/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncResponse {
    /// The answer to a reconcile message.
    Reconcile(Vec<Range>),
    /// Signed announcements, each at most [`MAX_ANNOUNCEMENT_BYTES`]; ids
    /// the answerer no longer has are left out.
    Entries(Vec<Vec<u8>>),
    /// A hint was received.
    Ack,
    /// Busy, or the catalog is still loading: try later.
    Refused,
}

type RawRange = (ByteBuf, u64, ByteBuf);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    i: ByteBuf,
    k: u64,
    r: Vec<RawRange>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    e: Vec<ByteBuf>,
    r: Vec<RawRange>,
    s: u64,
}

fn shape(msg: impl Into<String>) -> CborError {
    CborError::Shape(msg.into())
}

fn ranges_to_raw(ranges: &[Range]) -> Vec<RawRange> {
    ranges
        .iter()
        .map(|r| {
            let (mode, payload) = match &r.mode {
                Mode::Skip => (0, Vec::new()),
                Mode::Fingerprint(fp) => (1, fp.to_vec()),
                Mode::IdList(ids) => (2, ids.iter().flat_map(|id| *id.as_bytes()).collect()),
            };
            (
                ByteBuf::from(r.upper.wire().to_vec()),
                mode,
                ByteBuf::from(payload),
            )
        })
        .collect()
}

fn ids_from_bytes(bytes: &[u8]) -> Result<Vec<BundleId>, CborError> {
    if bytes.len() % 32 != 0 {
        return Err(shape(format!(
            "an id list of {} bytes is not a whole number of 32-byte ids",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| BundleId::from_slice(c).expect("32 bytes"))
        .collect())
}

/// Checks a reconcile message: bounds strictly increasing and ending at the
/// end of the space, known modes, fingerprints of 16 bytes, id lists sorted
/// and inside their range.
fn ranges_from_raw(raw: Vec<RawRange>) -> Result<Vec<Range>, CborError> {
    if raw.is_empty() {
        return Err(shape("a reconcile message with no ranges"));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut lower: Option<Bound> = None;
    let n = raw.len();
    for (k, (bound, mode, payload)) in raw.into_iter().enumerate() {
        let upper = if bound.is_empty() {
            Bound::End
        } else if bound.len() > 32 || bound.last() == Some(&0) {
            return Err(shape(
                "a range bound is longer than 32 bytes or ends in a zero byte",
            ));
        } else {
            Bound::Prefix(bound.into_vec())
        };
        if (upper == Bound::End) != (k + 1 == n) {
            return Err(shape("only the last range may end at the end of the space"));
        }
        if lower.as_ref().is_some_and(|l| *l >= upper) {
            return Err(shape("range bounds are not strictly increasing"));
        }
        let mode = match mode {
            0 if payload.is_empty() => Mode::Skip,
            1 if payload.len() == FINGERPRINT_BYTES => {
                Mode::Fingerprint(payload[..].try_into().expect("16 bytes"))
            }
            2 => {
                let ids = ids_from_bytes(&payload)?;
                let inside = ids.windows(2).all(|w| w[0] < w[1])
                    && ids
                        .iter()
                        .all(|id| upper.above(id) && lower.as_ref().is_none_or(|l| !l.above(id)));
                if !inside {
                    return Err(shape("an id list is unsorted or strays outside its range"));
                }
                Mode::IdList(ids)
            }
            0 | 1 => return Err(shape(format!("a range of mode {mode} has a bad payload"))),
            m => return Err(shape(format!("unknown range mode {m}"))),
        };
        lower = Some(upper.clone());
        out.push(Range { upper, mode });
    }
    Ok(out)
}

impl SyncRequest {
    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let raw = match self {
            SyncRequest::Reconcile(r) => RawRequest {
                i: ByteBuf::new(),
                k: 0,
                r: ranges_to_raw(r),
            },
            SyncRequest::Get(ids) => RawRequest {
                i: ByteBuf::from(ids.iter().flat_map(|id| *id.as_bytes()).collect::<Vec<_>>()),
                k: 1,
                r: Vec::new(),
            },
            SyncRequest::Hint => RawRequest {
                i: ByteBuf::new(),
                k: 2,
                r: Vec::new(),
            },
        };
        cbor::encode(&raw)
    }

    /// Decodes and checks a request of at most [`MAX_SYNC_MESSAGE_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let raw: RawRequest = cbor::decode(bytes, MAX_SYNC_MESSAGE_BYTES, "sync request")?;
        match (raw.k, raw.i.is_empty(), raw.r.is_empty()) {
            (0, true, _) => Ok(SyncRequest::Reconcile(ranges_from_raw(raw.r)?)),
            (1, _, true) => {
                let ids = ids_from_bytes(&raw.i)?;
                if ids.is_empty() || ids.len() > MAX_GET_IDS {
                    return Err(shape(format!(
                        "a get request must name 1 to {MAX_GET_IDS} ids, not {}",
                        ids.len()
                    )));
                }
                Ok(SyncRequest::Get(ids))
            }
            (2, true, true) => Ok(SyncRequest::Hint),
            (0..=2, _, _) => Err(shape("a sync request carries fields its kind does not use")),
            (k, _, _) => Err(shape(format!("unknown sync request kind {k}"))),
        }
    }
}

impl SyncResponse {
    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (e, r, s) = match self {
            SyncResponse::Reconcile(r) => (Vec::new(), ranges_to_raw(r), 0),
            SyncResponse::Entries(e) => (
                e.iter().map(|b| ByteBuf::from(b.clone())).collect(),
                Vec::new(),
                1,
            ),
            SyncResponse::Ack => (Vec::new(), Vec::new(), 2),
            SyncResponse::Refused => (Vec::new(), Vec::new(), 3),
        };
        cbor::encode(&RawResponse { e, r, s })
    }

    /// Decodes and checks a response of at most [`MAX_SYNC_MESSAGE_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let raw: RawResponse = cbor::decode(bytes, MAX_SYNC_MESSAGE_BYTES, "sync response")?;
        match (raw.s, raw.e.is_empty(), raw.r.is_empty()) {
            (0, true, _) => Ok(SyncResponse::Reconcile(ranges_from_raw(raw.r)?)),
            (1, _, true) => {
                if raw.e.len() > MAX_GET_IDS {
                    return Err(shape(format!(
                        "{} entries in one answer, over the limit of {MAX_GET_IDS}",
                        raw.e.len()
                    )));
                }
                if let Some(big) = raw.e.iter().find(|e| e.len() > MAX_ANNOUNCEMENT_BYTES) {
                    return Err(shape(format!(
                        "an entry of {} bytes, over the announcement limit of {MAX_ANNOUNCEMENT_BYTES}",
                        big.len()
                    )));
                }
                Ok(SyncResponse::Entries(
                    raw.e.into_iter().map(ByteBuf::into_vec).collect(),
                ))
            }
            (2, true, true) => Ok(SyncResponse::Ack),
            (3, true, true) => Ok(SyncResponse::Refused),
            (0..=3, _, _) => Err(shape(
                "a sync response carries fields its kind does not use",
            )),
            (s, _, _) => Err(shape(format!("unknown sync response status {s}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(seed: u64, n: usize) -> Vec<BundleId> {
        let mut v: Vec<BundleId> = (0..n)
            .map(|i| {
                BundleId::from_bytes(
                    *blake3::hash(&[seed.to_le_bytes(), (i as u64).to_le_bytes()].concat())
                        .as_bytes(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// Runs a whole reconciliation through the wire encoding; returns the
    /// difference, the bytes both ways and the round trips.
    fn run(a: &[BundleId], b: &[BundleId], frame: usize) -> (Difference, usize, usize) {
        let mut diff = Difference::default();
        let mut msg = initiate(a);
        let (mut bytes, mut rounds) = (0, 0);
        loop {
            let req = SyncRequest::Reconcile(msg).encode();
            bytes += req.len();
            let SyncRequest::Reconcile(ranges) = SyncRequest::decode(&req).unwrap() else {
                panic!()
            };
            let answer = SyncResponse::Reconcile(reconcile(b, &ranges, None, frame)).encode();
            bytes += answer.len();
            rounds += 1;
            let SyncResponse::Reconcile(ranges) = SyncResponse::decode(&answer).unwrap() else {
                panic!()
            };
            msg = reconcile(a, &ranges, Some(&mut diff), frame);
            if is_done(&msg) {
                break;
            }
            assert!(rounds < 100, "does not converge");
        }
        diff.finish();
        (diff, bytes, rounds)
    }

    fn minus(x: &[BundleId], y: &[BundleId]) -> Vec<BundleId> {
        x.iter()
            .filter(|i| y.binary_search(i).is_err())
            .copied()
            .collect()
    }

    #[test]
    fn finds_exactly_the_difference_at_every_size() {
        for (na, nb, shared) in [
            (0, 0, 0),
            (0, 5, 0),
            (5, 0, 0),
            (31, 31, 31),
            (32, 32, 20),
            (1000, 1000, 990),
            (10_000, 10_000, 10_000),
            (10_000, 10_010, 10_000),
            (10_000, 0, 0),
            (0, 10_000, 0),
            (3000, 4000, 1500),
        ] {
            let common = ids(1, shared);
            let mut a = [common.clone(), ids(2, na - shared)].concat();
            let mut b = [common, ids(3, nb - shared)].concat();
            a.sort();
            b.sort();
            let (d, _, _) = run(&a, &b, FRAME_BYTES);
            assert_eq!(d.need, minus(&b, &a), "need for {na}/{nb}/{shared}");
            assert_eq!(d.have, minus(&a, &b), "have for {na}/{nb}/{shared}");
        }
    }

    #[test]
    fn small_differences_cost_little_and_equal_sets_one_round() {
        let a = ids(1, 10_000);
        let (_, bytes, rounds) = run(&a, &a, FRAME_BYTES);
        assert_eq!(rounds, 1);
        assert!(bytes < 100, "{bytes}");
        let mut b = [a.clone(), ids(9, 10)].concat();
        b.sort();
        let (d, bytes, _) = run(&a, &b, FRAME_BYTES);
        assert_eq!(d.need.len(), 10);
        assert!(bytes < 32 << 10, "{bytes} bytes for 10 differences");
    }

    #[test]
    fn a_tiny_frame_still_converges() {
        let a = ids(1, 2000);
        let b = ids(2, 3000);
        let (d, _, rounds) = run(&a, &b, 2048);
        assert_eq!(d.need.len(), 3000);
        assert_eq!(d.have.len(), 2000);
        assert!(rounds > 2);
    }

    #[test]
    fn bounds_separate_neighbours() {
        let v = ids(4, 500);
        for w in v.windows(2) {
            let b = Bound::between(&w[0], &w[1]);
            assert!(b.above(&w[0]));
            assert!(!b.above(&w[1]));
            assert!(b < Bound::End);
        }
    }

    #[test]
    fn malformed_messages_are_rejected() {
        let good = SyncRequest::Reconcile(vec![Range {
            upper: Bound::End,
            mode: Mode::Skip,
        }]);
        assert_eq!(SyncRequest::decode(&good.encode()).unwrap(), good);
        let bad = |r: Vec<RawRange>| {
            cbor::encode(&RawRequest {
                i: ByteBuf::new(),
                k: 0,
                r,
            })
        };
        let b = |v: &[u8]| ByteBuf::from(v.to_vec());
        for raw in [
            vec![],
            vec![(b(&[5]), 0, b(&[]))],
            vec![
                (b(&[5]), 0, b(&[])),
                (b(&[4]), 0, b(&[])),
                (b(&[]), 0, b(&[])),
            ],
            vec![(b(&[5, 0]), 0, b(&[])), (b(&[]), 0, b(&[]))],
            vec![(b(&[]), 1, b(&[0; 15]))],
            vec![(b(&[]), 2, b(&[0; 33]))],
            vec![(b(&[]), 9, b(&[]))],
            vec![(b(&[1]), 2, b(&[0xff; 32])), (b(&[]), 0, b(&[]))],
        ] {
            assert!(SyncRequest::decode(&bad(raw.clone())).is_err(), "{raw:?}");
        }
        let many = SyncRequest::Get(ids(5, MAX_GET_IDS + 1)).encode();
        assert!(SyncRequest::decode(&many).is_err());
        let huge = vec![0u8; MAX_SYNC_MESSAGE_BYTES + 1];
        assert!(matches!(
            SyncResponse::decode(&huge),
            Err(CborError::TooLarge { .. })
        ));
        for r in [
            SyncResponse::Entries(vec![vec![1; 10]]),
            SyncResponse::Ack,
            SyncResponse::Refused,
        ] {
            assert_eq!(SyncResponse::decode(&r.encode()).unwrap(), r);
        }
    }
}
