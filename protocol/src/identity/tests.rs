use super::*;
use crate::keys::PublisherKey;
use crate::manifest::{KeyEvent, KeyKind, SignedKeyEvent};
use crate::words::PaperBackup;

/// Builds events of one identity whose roots come from a paper backup.
pub(crate) struct Log {
    pub paper: PaperBackup,
    pub events: Vec<SignedKeyEvent>,
}

impl Log {
    pub fn new(seed: u8) -> Self {
        let paper = PaperBackup::from_entropy([seed; 32]);
        let root = paper.root(0);
        let next = next_commitment(&paper.root(1).id());
        let e = KeyEvent {
            v: 1,
            id: crate::manifest::identity_id(&root.id(), &next),
            seq: 0,
            keep: None,
            kind: KeyKind::Incept,
            name: None,
            next: Some(next),
            prev: None,
            root: root.id(),
            device: None,
            created: 1_700_000_000,
        };
        let events = vec![SignedKeyEvent::sign(e, &root).unwrap()];
        Self { paper, events }
    }

    pub fn id(&self) -> PublisherId {
        self.events[0].event().id
    }

    pub fn state(&self) -> KeyState {
        resolve(&self.id(), &self.events).unwrap().0
    }

    /// An event on top of `after` (an index) signed by root `n`.
    pub fn event_after(
        &self,
        after: usize,
        n: u64,
        kind: KeyKind,
        device: Option<PublisherId>,
        keep: Option<Vec<BundleId>>,
    ) -> SignedKeyEvent {
        let prev = &self.events[after];
        let root = self.paper.root(n);
        let e = KeyEvent {
            v: 1,
            id: self.id(),
            seq: prev.event().seq + 1,
            keep,
            kind,
            name: (kind == KeyKind::Device).then(|| "laptop".to_string()),
            next: (kind == KeyKind::Rotate).then(|| next_commitment(&self.paper.root(n + 1).id())),
            prev: Some(prev.hash()),
            root: root.id(),
            device,
            created: 1_700_000_000 + prev.event().seq + 1,
        };
        SignedKeyEvent::sign(e, &root).unwrap()
    }

    pub fn push(
        &mut self,
        n: u64,
        kind: KeyKind,
        device: Option<PublisherId>,
        keep: Option<Vec<BundleId>>,
    ) -> usize {
        let e = self.event_after(self.events.len() - 1, n, kind, device, keep);
        self.events.push(e);
        self.events.len() - 1
    }
}

fn key(n: u8) -> PublisherId {
    PublisherKey::from_seed([n; 32]).id()
}

fn item(n: u8) -> BundleId {
    BundleId::from_bytes([n; 32])
}

#[test]
fn a_device_signs_until_revoked_then_only_what_is_kept_counts() {
    let mut log = Log::new(1);
    let id = log.id();
    log.push(0, KeyKind::Device, Some(key(10)), None);
    let s = log.state();
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(1)),
        Authority::Valid
    );
    let root = log.paper.root(0).id();
    assert_eq!(authority(Some(&s), &id, &root, &item(1)), Authority::Valid);
    assert_eq!(authority(Some(&s), &id, &id, &item(1)), Authority::Unknown);
    assert_eq!(
        authority(Some(&s), &id, &key(11), &item(1)),
        Authority::Unknown
    );
    log.push(0, KeyKind::Revoke, Some(key(10)), Some(vec![item(1)]));
    let s = log.state();
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(1)),
        Authority::Kept
    );
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(2)),
        Authority::Revoked
    );
    log.push(0, KeyKind::Keep, Some(key(10)), Some(vec![item(2)]));
    let s = log.state();
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(2)),
        Authority::Kept
    );
    // A revoked device is never certified again.
    let again = log.event_after(
        log.events.len() - 1,
        0,
        KeyKind::Device,
        Some(key(10)),
        None,
    );
    assert!(matches!(s.apply(&again), Err(LogError::Device(_))));
}

#[test]
fn without_a_log_only_the_identity_key_signs() {
    let id = key(1);
    assert_eq!(authority(None, &id, &id, &item(1)), Authority::Valid);
    assert_eq!(authority(None, &id, &key(2), &item(1)), Authority::Unknown);
}

#[test]
fn rotation_needs_the_committed_key_and_retires_the_old_root() {
    let mut log = Log::new(2);
    let id = log.id();
    log.push(0, KeyKind::Device, Some(key(10)), None);
    // A thief with root 0 cannot rotate to a key of its own.
    let thief = PublisherKey::from_seed([66; 32]);
    let mut forged = log
        .event_after(1, 0, KeyKind::Rotate, None, None)
        .event()
        .clone();
    forged.root = thief.id();
    let forged = SignedKeyEvent::sign(forged, &thief).unwrap();
    assert!(matches!(
        log.state().apply(&forged),
        Err(LogError::NotCommitted(_))
    ));
    // The owner reveals root 1.
    log.push(1, KeyKind::Rotate, None, Some(vec![item(5)]));
    let s = log.state();
    assert_eq!(s.rotations, 1);
    assert_eq!(s.root, log.paper.root(1).id());
    let old = log.paper.root(0).id();
    assert_eq!(authority(Some(&s), &id, &old, &item(5)), Authority::Kept);
    assert_eq!(authority(Some(&s), &id, &old, &item(6)), Authority::Revoked);
    // Devices certified before the rotation stay.
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(6)),
        Authority::Valid
    );
    // The old root signs nothing more.
    let late = log.event_after(2, 0, KeyKind::Device, Some(key(12)), None);
    assert!(matches!(s.apply(&late), Err(LogError::NotTheRoot(_))));
}

#[test]
fn a_rotation_wins_every_fork_of_the_stolen_root() {
    let mut log = Log::new(3);
    let id = log.id();
    log.push(0, KeyKind::Device, Some(key(10)), None); // 1: the owner's laptop
                                                       // The thief, holding root 0, certifies a device of its own and revokes
                                                       // the owner's, on top of event 1.
    log.push(0, KeyKind::Device, Some(key(66)), None); // 2
    log.push(0, KeyKind::Revoke, Some(key(10)), None); // 3
    let s = log.state();
    assert_eq!(
        authority(Some(&s), &id, &key(66), &item(1)),
        Authority::Valid
    );
    // The owner rotates from event 1, before the thief's events, with the
    // paper backup, and certifies a new device.
    let rot = log.event_after(1, 1, KeyKind::Rotate, None, None);
    log.events.push(rot);
    log.push(1, KeyKind::Device, Some(key(11)), None);
    // Whatever order the events arrive in, the owner's chain counts.
    for order in [false, true] {
        let mut events = log.events.clone();
        if order {
            events.reverse();
        }
        let (s, chain) = resolve(&id, &events).unwrap();
        assert_eq!(s.rotations, 1);
        assert_eq!(chain.len(), 4);
        assert_eq!(
            authority(Some(&s), &id, &key(66), &item(1)),
            Authority::Unknown
        );
        assert_eq!(
            authority(Some(&s), &id, &key(10), &item(1)),
            Authority::Valid
        );
        assert_eq!(
            authority(Some(&s), &id, &key(11), &item(1)),
            Authority::Valid
        );
    }
}

#[test]
fn forks_without_rotation_resolve_the_same_everywhere() {
    let mut log = Log::new(4);
    let a = log.event_after(0, 0, KeyKind::Device, Some(key(10)), None);
    let b = log.event_after(0, 0, KeyKind::Device, Some(key(11)), None);
    log.events.push(a.clone());
    log.events.push(b.clone());
    let (s1, _) = resolve(&log.id(), &log.events).unwrap();
    log.events.swap(1, 2);
    let (s2, _) = resolve(&log.id(), &log.events).unwrap();
    assert_eq!(s1, s2);
    let lower = if a.hash().as_bytes() < b.hash().as_bytes() {
        key(10)
    } else {
        key(11)
    };
    assert!(s1.devices.contains_key(&lower));
    assert_eq!(s1.devices.len(), 1);
}

#[test]
fn events_of_another_identity_or_out_of_place_are_ignored() {
    let mut log = Log::new(5);
    let other = Log::new(6);
    log.events.push(other.events[0].clone());
    let e = log.event_after(0, 0, KeyKind::Device, Some(key(10)), None);
    let mut skipped = e.event().clone();
    skipped.seq = 5;
    let skipped = SignedKeyEvent::sign(skipped, &log.paper.root(0)).unwrap();
    log.events.push(skipped);
    let (s, chain) = resolve(&log.id(), &log.events).unwrap();
    assert_eq!(chain, vec![0]);
    assert!(s.devices.is_empty());
    assert!(resolve(&key(9), &log.events).is_none());
}

#[test]
fn a_stolen_first_root_cannot_start_another_log_under_the_id() {
    let log = Log::new(8);
    let mut other = log.events[0].event().clone();
    other.next = Some(next_commitment(&key(66)));
    // Same id, a next root of the thief's: the id no longer matches.
    assert!(SignedKeyEvent::sign(other, &log.paper.root(0)).is_err());
}

#[test]
fn malformed_events_are_refused_on_their_own() {
    let log = Log::new(7);
    let root = log.paper.root(0);
    let base = log
        .event_after(0, 0, KeyKind::Device, Some(key(10)), None)
        .event()
        .clone();
    let mut no_name = base.clone();
    no_name.name = None;
    let mut self_device = base.clone();
    self_device.device = Some(log.id());
    let mut bidi = base.clone();
    bidi.name = Some("lap\u{202E}pot".into());
    let mut unsorted = base.clone();
    unsorted.kind = KeyKind::Revoke;
    unsorted.name = None;
    unsorted.keep = Some(vec![item(2), item(1)]);
    for bad in [no_name, self_device, bidi, unsorted] {
        assert!(SignedKeyEvent::sign(bad, &root).is_err());
    }
    // Signed by a device instead of the root it names.
    let device = PublisherKey::from_seed([10; 32]);
    assert!(SignedKeyEvent::sign(base.clone(), &device).is_err());
}

#[test]
fn keep_lists_come_before_the_revocation_or_rotation_they_serve() {
    let mut log = Log::new(9);
    let id = log.id();
    log.push(0, KeyKind::Device, Some(key(10)), None);
    // Keep events name what the device and the root signed while both are
    // still in force; the revocation and the rotation then find them.
    log.push(0, KeyKind::Keep, Some(key(10)), Some(vec![item(1)]));
    log.push(
        0,
        KeyKind::Keep,
        Some(log.paper.root(0).id()),
        Some(vec![item(2)]),
    );
    let s = log.state();
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(9)),
        Authority::Valid
    );
    log.push(0, KeyKind::Revoke, Some(key(10)), Some(vec![item(3)]));
    log.push(1, KeyKind::Rotate, None, None);
    let s = log.state();
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(1)),
        Authority::Kept
    );
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(3)),
        Authority::Kept
    );
    assert_eq!(
        authority(Some(&s), &id, &key(10), &item(9)),
        Authority::Revoked
    );
    let old = log.paper.root(0).id();
    assert_eq!(authority(Some(&s), &id, &old, &item(2)), Authority::Kept);
    assert_eq!(authority(Some(&s), &id, &old, &item(9)), Authority::Revoked);
    assert_eq!(s.kept_ids, 3);
}

#[test]
fn keep_lists_are_capped_per_identity() {
    let mut log = Log::new(10);
    log.push(0, KeyKind::Device, Some(key(10)), None);
    let per = crate::manifest::MAX_KEEP_PER_EVENT;
    let full = MAX_KEPT_IDS / per;
    for n in 0..full {
        let ids: Vec<BundleId> = (0..per)
            .map(|i| {
                let mut b = [0u8; 32];
                b[..8].copy_from_slice(&((n * per + i) as u64).to_be_bytes());
                BundleId::from_bytes(b)
            })
            .collect();
        log.push(0, KeyKind::Keep, Some(key(10)), Some(ids));
    }
    let s = log.state();
    assert_eq!(s.kept_ids, full * per);
    let over: Vec<BundleId> = (0..per)
        .map(|i| BundleId::from_bytes([i as u8 + 1; 32]))
        .collect();
    let e = log.event_after(
        log.events.len() - 1,
        0,
        KeyKind::Keep,
        Some(key(10)),
        Some(over),
    );
    assert!(matches!(s.apply(&e), Err(LogError::Device(_))));
}
