//! Test vectors: a fixed key and a fixed folder, and every byte weft derives
//! from them. `docs/protocol.md` embeds [`render`]'s output verbatim, and a
//! test holds the two together, so the spec and the code cannot drift apart.

use crate::blocks::{BlockRequest, FrameHeader, FrameStatus};
use crate::chunk::{digest_bytes, gear_table, layout, FileIndexer, Layout};
use crate::id::{to_hex, ContentHash};
use crate::keys::PublisherKey;
use crate::limits::{INDEX_FANOUT, MIN_CHUNK};
use crate::manifest::{FileEntry, LangText, Manifest, SignedAnnouncement, SignedManifest, VERSION};
use crate::wire::Request;

/// The fixed secret seed: bytes 0x00, 0x01, ..., 0x1f.
pub fn key() -> PublisherKey {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = i as u8;
    }
    PublisherKey::from_seed(seed)
}

/// The fixed folder: (path, contents).
pub fn folder() -> Vec<(&'static str, Vec<u8>)> {
    let big: Vec<u8> = (0..MIN_CHUNK as usize + 10)
        .map(|i| (i % 251) as u8)
        .collect();
    vec![
        ("README.txt", b"weft test vector\n".to_vec()),
        ("data/big.bin", big),
        ("empty.txt", Vec::new()),
    ]
}

/// A file of the folder: its path, file hash and chunk index root (if any).
pub type VectorFile = (String, ContentHash, Option<Vec<u8>>);

/// The manifest of [`folder`], signed with [`key`].
pub fn signed_manifest() -> (SignedManifest, Vec<VectorFile>) {
    let key = key();
    let mut files = Vec::new();
    let mut entries = Vec::new();
    for (path, data) in folder() {
        let (d, _) = digest_bytes(&data);
        let (hash, size) = (d.hash, d.size);
        entries.push((
            path.to_string(),
            hash,
            d.indexes.into_iter().next().map(|i| i.1),
        ));
        files.push(FileEntry {
            hash,
            path: path.into(),
            size,
        });
    }
    let manifest = Manifest {
        v: VERSION,
        seq: 1,
        name: "test-vector".into(),
        tags: vec!["example".into(), "test".into()],
        files,
        texts: vec![
            LangText {
                lang: "en".into(),
                title: "Test vector".into(),
                description: "A fixed folder for checking implementations.".into(),
            },
            LangText {
                lang: "es".into(),
                title: "Vector de prueba".into(),
                description: String::new(),
            },
        ],
        created: 1_700_000_000,
        licence: "CC0-1.0".into(),
        publisher: key.id(),
    };
    let signed = SignedManifest::sign(manifest, &key).expect("the test vector manifest is valid");
    (signed, entries)
}

fn block(hex: &str) -> String {
    let mut out = String::from("```text\n");
    for line in hex.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or(""));
        out.push('\n');
    }
    out.push_str("```\n");
    out
}

/// The markdown that `docs/protocol.md` must contain, byte for byte.
pub fn render() -> String {
    let key = key();
    let (signed, entries) = signed_manifest();
    let ann =
        SignedAnnouncement::sign(&signed, &key).expect("the test vector announcement is valid");
    let mut s = String::new();
    s.push_str(&format!("Secret seed: `{}`\n\n", to_hex(&key.seed())));
    s.push_str(&format!("Publisher id: `{}`\n\n", key.id()));
    s.push_str("| path | size | file hash |\n|---|---|---|\n");
    for ((path, hash, _), f) in entries.iter().zip(&signed.manifest().files) {
        s.push_str(&format!("| `{path}` | {} | `{hash}` |\n", f.size));
    }
    for ((path, _, index), f) in entries.iter().zip(&signed.manifest().files) {
        if let (Some(index), Layout::Indexed) = (index, layout(f.size)) {
            s.push_str(&format!(
                "\nChunk index of `{path}` ({} bytes):\n\n",
                index.len()
            ));
            s.push_str(&block(&to_hex(index)));
        }
    }
    s.push_str(&format!(
        "\nSigned manifest ({} bytes):\n\n",
        signed.bytes().len()
    ));
    s.push_str(&block(&to_hex(signed.bytes())));
    s.push_str(&format!("\nBundle id: `{}`\n\n", signed.id()));
    s.push_str(&format!(
        "Signed announcement ({} bytes):\n\n",
        ann.bytes().len()
    ));
    s.push_str(&block(&to_hex(ann.bytes())));
    s.push_str(&format!(
        "\nIts entry key (claim key): `{}`\n",
        ann.announcement().claim_key()
    ));
    let vouch = crate::SignedVouch::sign(
        crate::Vouch {
            v: crate::VERSION,
            by: key.id(),
            vouchee: PublisherKey::from_seed([0x20; 32]).id(),
            note: "coalition member".into(),
            active: 1,
            created: 1_700_000_000,
            expires: 1_700_000_000 + 180 * 24 * 3600,
        },
        &key,
    )
    .expect("the test vector vouch is valid");
    s.push_str(&format!(
        "\nA vouch by that key for the publisher whose secret seed is 32 bytes of 0x20 (`{}`), note `coalition member`, active, created 1,700,000,000, expiring 180 days later ({} bytes):\n\n",
        vouch.vouch().vouchee,
        vouch.bytes().len()
    ));
    s.push_str(&block(&to_hex(vouch.bytes())));
    s.push_str(&format!("\nIts entry key: `{}`\n", vouch.entry_id()));
    let req = Request::Manifest(signed.id()).encode();
    s.push_str(&format!(
        "\nRequest for that manifest ({} bytes):\n\n",
        req.len()
    ));
    s.push_str(&block(&to_hex(&req)));
    let hashes: Vec<ContentHash> = signed.manifest().files.iter().map(|f| f.hash).collect();
    let blocks = BlockRequest {
        hashes: hashes.clone(),
    }
    .encode();
    s.push_str(&format!(
        "\nBlock request (`/weft/xfer/2`) for that bundle's {} file hashes, in manifest order ({} bytes):\n\n",
        hashes.len(),
        blocks.len()
    ));
    s.push_str(&block(&to_hex(&blocks)));
    let first = signed
        .manifest()
        .files
        .iter()
        .find(|f| layout(f.size) == Layout::Single)
        .expect("the vector folder has a small file");
    let mut frames = FrameHeader::found(first.size as usize).encode().to_vec();
    frames.extend_from_slice(&FrameHeader::empty(FrameStatus::NotFound).encode());
    frames.extend_from_slice(&FrameHeader::empty(FrameStatus::Refused).encode());
    s.push_str(&format!(
        "\nFrame headers answering a three-hash request: found (the {}-byte file `{}`, whose bytes follow this header), not found, refused:\n\n",
        first.size, first.path
    ));
    s.push_str(&block(&to_hex(&frames)));
    s.push_str(&render_identity(&signed));
    s.push_str(&render_groups(&signed, &ann));
    s
}

/// Section 11's group vectors: the fixed key founds a group, adds a
/// member, seals it the group's key, and publishes the fixed folder to
/// the group.
fn render_groups(bundle: &SignedManifest, inner: &SignedAnnouncement) -> String {
    use crate::group::{self, Admin, BoxContents};
    use rand_chacha::rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    let founder = key();
    let member = PublisherKey::from_seed([0x31; 32]);
    let admin = Admin {
        key: &founder,
        admin: founder.id(),
    };
    let (create, secret) =
        group::create(&admin, "legal team", 1_700_000_200, &mut rng).expect("valid");
    let g = create.record().group;
    let state = group::resolve(&g, std::slice::from_ref(&create)).expect("resolves");
    let add = group::change(
        &admin,
        &state,
        group::Change {
            kind: crate::manifest::GroupKind::Add,
            member: Some(member.id()),
            history: false,
            name: "legal team".into(),
            members: vec![founder.id(), member.id()],
            admins: vec![founder.id()],
        },
        &secret,
        1_700_000_201,
        &mut rng,
    )
    .expect("valid");
    let contents = BoxContents::new(vec![(0, &secret)]);
    let boxes = group::boxes(
        &admin,
        &g,
        &add.hash(),
        &[member.id()],
        &contents,
        1_700_000_202,
        &mut rng,
    )
    .expect("valid");
    let files: Vec<Vec<u8>> = folder().into_iter().map(|(_, b)| b).collect();
    let file_refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let sealed =
        group::seal_in_memory(&secret, g, 0, bundle.bytes(), &file_refs, &mut rng).expect("seals");
    let (digest, _) = digest_bytes(&sealed);
    let outer = group::outer_manifest(&secret, digest.hash, sealed.len() as u64, 1_700_000_300)
        .expect("valid");
    let private = group::announce(
        &secret,
        &g,
        0,
        outer.id(),
        sealed.len() as u64,
        inner,
        1_700_000_300,
        &mut rng,
    )
    .expect("valid");
    let small = group::seal_in_memory(&secret, g, 0, b"", &[b"weft sealed vector\n"], &mut rng)
        .expect("seals");
    let mut s = String::new();
    s.push_str(&format!(
        "\nGroup `legal team`, founded by the fixed key; nonce `{}`; group id `{g}`\n",
        create.record().nonce.expect("create has one")
    ));
    s.push_str(&format!(
        "\nEpoch 0 secret: `{}`; epoch key `{}`\n",
        to_hex(secret.as_bytes()),
        secret.epoch_key()
    ));
    s.push_str(&format!(
        "\nIts `create` record, dated 1,700,000,200 ({} bytes):\n\n",
        create.bytes().len()
    ));
    s.push_str(&block(&to_hex(create.bytes())));
    s.push_str(&format!("\nIts hash: `{}`\n", create.hash()));
    s.push_str(&format!(
        "\nThe `add` of the member whose secret seed is 32 bytes of 0x31 (publisher id `{}`), without history, dated 1,700,000,201 ({} bytes):\n\n",
        member.id(),
        add.bytes().len()
    ));
    s.push_str(&block(&to_hex(add.bytes())));
    s.push_str(&format!("\nIts hash: `{}`\n", add.hash()));
    s.push_str(&format!(
        "\nThe key box for that member's key, holding epoch 0's secret, dated 1,700,000,202 ({} bytes):\n\n",
        boxes[0].bytes().len()
    ));
    s.push_str(&block(&to_hex(boxes[0].bytes())));
    s.push_str(&format!(
        "\nThe fixed folder sealed for the group, its inner manifest the one above: {} bytes (a padded plaintext of {} bytes), BLAKE3 `{}`, header:\n\n",
        sealed.len(),
        group::padme(group::plain_len(bundle.bytes().len(), files.iter().map(|f| f.len() as u64).sum())),
        ContentHash::of(&sealed)
    ));
    s.push_str(&block(&to_hex(&sealed[..group::HEADER_BYTES])));
    s.push_str(&format!(
        "\nIts outer manifest, dated 1,700,000,300 ({} bytes; outer id `{}`):\n\n",
        outer.bytes().len(),
        outer.id()
    ));
    s.push_str(&block(&to_hex(outer.bytes())));
    s.push_str(&format!(
        "\nIts private announcement, carrying the announcement above ({} bytes):\n\n",
        private.bytes().len()
    ));
    s.push_str(&block(&to_hex(private.bytes())));
    s.push_str(&format!(
        "\nA sealed file of an empty inner manifest and one file of the 19 bytes `weft sealed vector\\n`, whole ({} bytes):\n\n",
        small.len()
    ));
    s.push_str(&block(&to_hex(&small)));
    let s1 = group::EpochSecret::generate(&mut rng);
    let state = group::resolve(&g, &[create.clone(), add.clone()]).expect("resolves");
    let rekey = group::change(
        &admin,
        &state,
        group::Change {
            kind: crate::manifest::GroupKind::Rekey,
            member: None,
            history: false,
            name: "legal team".into(),
            members: vec![founder.id(), member.id()],
            admins: vec![founder.id()],
        },
        &s1,
        1_700_000_400,
        &mut rng,
    )
    .expect("valid");
    s.push_str(&format!(
        "\nA `rekey` after the `add`, dated 1,700,000,400, starting epoch 1 with the secret `{}` (epoch key `{}`; {} bytes):\n\n",
        to_hex(s1.as_bytes()),
        s1.epoch_key(),
        rekey.bytes().len()
    ));
    s.push_str(&block(&to_hex(rekey.bytes())));
    s
}

/// The input of the chunking vector: the first 4 MiB of BLAKE3's extended
/// output for the ASCII string `weft chunking vector`.
pub fn chunking_input() -> Vec<u8> {
    let mut out = vec![0u8; 4 << 20];
    let mut h = blake3::Hasher::new();
    h.update(b"weft chunking vector");
    h.finalize_xof().fill(&mut out);
    out
}

/// Section 3's vectors: the gear table, the cuts of [`chunking_input`] and
/// its chunk index, and a level-1 index.
pub fn render_chunking() -> String {
    let mut s = String::from("Gear table, `GEAR[0]` to `GEAR[255]`, four to a line:\n\n```text\n");
    for row in gear_table().chunks(4) {
        let row: Vec<String> = row.iter().map(|g| format!("{g:016x}")).collect();
        s.push_str(&row.join(" "));
        s.push('\n');
    }
    s.push_str("```\n\n");
    let data = chunking_input();
    let (d, chunks) = digest_bytes(&data);
    s.push_str(&format!(
        "Chunks of the {} bytes of BLAKE3's output for `weft chunking vector`:\n\n| offset | length | chunk hash |\n|---|---|---|\n",
        data.len()
    ));
    let mut at = 0;
    for c in &chunks {
        s.push_str(&format!(
            "| {at} | {} | `{}` |\n",
            c.len(),
            ContentHash::of(c)
        ));
        at += c.len();
    }
    let (root_hash, root) = &d.indexes[0];
    s.push_str(&format!(
        "\nIts chunk index ({} bytes), whose hash `{root_hash}` is the file hash:\n\n",
        root.len()
    ));
    s.push_str(&block(&to_hex(root)));
    // A level-1 index: INDEX_FANOUT + 1 chunks, chunk i (from 0) named by
    // BLAKE3 of i as a big-endian u64, each MIN_CHUNK bytes but the last
    // (1 byte).
    let n = INDEX_FANOUT + 1;
    let mut ix = FileIndexer::new();
    for i in 0..n {
        let len = if i + 1 == n { 1 } else { MIN_CHUNK };
        ix.push_hash(ContentHash::of(&(i as u64).to_be_bytes()), len);
    }
    let paged = ix.finish();
    s.push_str(&format!(
        "\nA file of {n} chunks ({} bytes), chunk *i* (from 0) named by BLAKE3 of *i* as a big-endian u64 and {MIN_CHUNK} bytes long but the last, which is 1 byte: its root ({} bytes, hash `{}`, the file hash) lists two pages:\n\n",
        paged.size,
        paged.indexes[0].1.len(),
        paged.hash
    ));
    s.push_str(&block(&to_hex(&paged.indexes[0].1)));
    s.push_str(&format!(
        "\nThe second page ({} bytes):\n\n",
        paged.indexes[2].1.len()
    ));
    s.push_str(&block(&to_hex(&paged.indexes[2].1)));
    s
}

/// Section 11's identity vectors: a paper backup, its roots, an identity
/// with a device, something the device signs, a revocation and a
/// rotation.
fn render_identity(bundle: &SignedManifest) -> String {
    use crate::manifest::{identity_id, next_commitment};
    use crate::words::{fingerprint, PaperBackup};
    use crate::{KeyEvent, KeyKind, Retraction, SignedKeyEvent, SignedRetraction};
    let paper = PaperBackup::from_entropy([0x42; 32]);
    let (root0, root1, root2) = (paper.root(0), paper.root(1), paper.root(2));
    let next = next_commitment(&root1.id());
    let id = identity_id(&root0.id(), &next);
    let device = PublisherKey::from_seed([0x30; 32]);
    let event = |seq, kind, prev: Option<&SignedKeyEvent>, root: &PublisherKey| KeyEvent {
        v: crate::VERSION,
        id,
        seq,
        keep: None,
        kind,
        name: None,
        next: None,
        prev: prev.map(SignedKeyEvent::hash),
        root: root.id(),
        device: None,
        created: 1_700_000_000 + seq,
    };
    let sign = |e: KeyEvent, k: &PublisherKey| {
        SignedKeyEvent::sign(e, k).expect("the test vector key event is valid")
    };
    let incept = sign(
        KeyEvent {
            next: Some(next),
            ..event(0, KeyKind::Incept, None, &root0)
        },
        &root0,
    );
    let cert = sign(
        KeyEvent {
            device: Some(device.id()),
            name: Some("laptop".into()),
            ..event(1, KeyKind::Device, Some(&incept), &root0)
        },
        &root0,
    );
    let retraction = SignedRetraction::sign(
        Retraction {
            v: crate::VERSION,
            created: 1_700_000_100,
            retracts: bundle.id(),
            publisher: id,
        },
        &device,
    )
    .expect("the test vector retraction is valid");
    let revoke = sign(
        KeyEvent {
            device: Some(device.id()),
            keep: Some(vec![bundle.id()]),
            ..event(2, KeyKind::Revoke, Some(&cert), &root0)
        },
        &root0,
    );
    let rotate = sign(
        KeyEvent {
            next: Some(next_commitment(&root2.id())),
            ..event(3, KeyKind::Rotate, Some(&revoke), &root1)
        },
        &root1,
    );
    let profile = crate::SignedProfile::sign(
        crate::Profile {
            v: crate::VERSION,
            seq: 1,
            links: vec!["https://agua.example.org".into()],
            texts: vec![crate::ProfileText {
                lang: "es".into(),
                name: "Coalición Agua".into(),
                about: String::new(),
            }],
            contact: String::new(),
            created: 1_700_000_050,
            publisher: id,
        },
        &device,
    )
    .expect("the test vector profile is valid");
    let mut s = String::new();
    s.push_str(&format!(
        "\nA paper backup of 32 bytes of 0x42:\n\n```text\n{}\n```\n",
        paper.words().join(" ")
    ));
    s.push_str(&format!(
        "\nRoot 0: `{}`; root 1: `{}`; root 2: `{}`\n",
        root0.id(),
        root1.id(),
        root2.id()
    ));
    s.push_str(&format!("\nCommitment to root 1: `{next}`\n"));
    s.push_str(&format!(
        "\nIdentity: `{id}`, fingerprint `{}`\n",
        fingerprint(&id)
    ));
    let events = [
        ("Its incept event", &incept),
        (
            "The certificate of the device whose secret seed is 32 bytes of 0x30, named `laptop`",
            &cert,
        ),
    ];
    for (what, e) in events {
        s.push_str(&format!("\n{what} ({} bytes):\n\n", e.bytes().len()));
        s.push_str(&block(&to_hex(e.bytes())));
        s.push_str(&format!("\nIts hash (entry key): `{}`\n", e.hash()));
    }
    s.push_str(&format!(
        "\nA retraction of the bundle above by the identity, signed by that device (note `by`; {} bytes):\n\n",
        retraction.bytes().len()
    ));
    s.push_str(&block(&to_hex(retraction.bytes())));
    s.push_str(&format!(
        "\nThe identity's profile, signed by that device: `es` \"Coalición Agua\", one link, dated 1,700,000,050 ({} bytes):\n\n",
        profile.bytes().len()
    ));
    s.push_str(&block(&to_hex(profile.bytes())));
    let events = [
        ("The device revoked, keeping that bundle", &revoke),
        ("The root rotated to root 1, committing to root 2", &rotate),
    ];
    for (what, e) in events {
        s.push_str(&format!("\n{what} ({} bytes):\n\n", e.bytes().len()));
        s.push_str(&block(&to_hex(e.bytes())));
        s.push_str(&format!("\nIts hash (entry key): `{}`\n", e.hash()));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_spec_holds_the_exact_bytes_the_code_produces() {
        let spec = include_str!("../../docs/protocol.md");
        let rendered = super::render();
        assert!(
            spec.contains(&rendered),
            "docs/protocol.md is out of date; its test vector section must read:\n{rendered}"
        );
    }

    #[test]
    fn the_spec_holds_the_chunking_vectors() {
        let spec = include_str!("../../docs/protocol.md");
        let rendered = super::render_chunking();
        assert!(
            spec.contains(&rendered),
            "docs/protocol.md section 3 is out of date; its chunking vectors must read:\n{rendered}"
        );
    }

    #[test]
    fn the_vectors_decode() {
        let (signed, _) = super::signed_manifest();
        let decoded = crate::SignedManifest::decode(signed.bytes()).unwrap();
        assert_eq!(decoded.id(), signed.id());
    }

    #[test]
    fn the_identity_vectors_make_one_log() {
        // The hex blocks of the rendered identity section, in order.
        let text = super::render_identity(&super::signed_manifest().0);
        let blocks: Vec<Vec<u8>> = text
            .split("```text\n")
            .skip(2)
            .map(|b| crate::id::from_hex(&b[..b.find("```").unwrap()].replace('\n', "")).unwrap())
            .collect();
        let events: Vec<crate::SignedKeyEvent> = [0, 1, 4, 5]
            .iter()
            .map(|&i| crate::SignedKeyEvent::decode(&blocks[i]).unwrap())
            .collect();
        let id = events[0].event().id;
        let (state, chain) = crate::identity::resolve(&id, &events).unwrap();
        assert_eq!(chain.len(), 4);
        assert_eq!(state.rotations, 1);
        let device = events[1].event().device.unwrap();
        let r = crate::CatalogEntry::decode(&blocks[2]).unwrap();
        assert_eq!(r.signed_by(), device);
        let p = crate::CatalogEntry::decode(&blocks[3]).unwrap();
        assert!(matches!(p, crate::CatalogEntry::Profile(_)));
        assert_eq!(p.signer(), id);
        // The revocation keeps the retracted bundle, not the retraction.
        assert_eq!(
            crate::identity::authority(Some(&state), &id, &device, &r.entry_id()),
            crate::identity::Authority::Revoked
        );
    }

    #[test]
    fn the_group_vectors_open() {
        use crate::group;
        let (signed, _) = super::signed_manifest();
        let inner = crate::SignedAnnouncement::sign(&signed, &super::key()).unwrap();
        let text = super::render_groups(&signed, &inner);
        let blocks: Vec<Vec<u8>> = text
            .split("```text\n")
            .skip(1)
            .map(|b| crate::id::from_hex(&b[..b.find("```").unwrap()].replace('\n', "")).unwrap())
            .collect();
        let secret_hex = text.split("Epoch 0 secret: `").nth(1).unwrap();
        let secret: [u8; 32] = crate::id::from_hex(&secret_hex[..64])
            .unwrap()
            .try_into()
            .unwrap();
        let secret = group::EpochSecret::from_bytes(secret);
        let create = crate::manifest::SignedGroupRecord::decode(&blocks[0]).unwrap();
        let add = crate::manifest::SignedGroupRecord::decode(&blocks[1]).unwrap();
        let g = create.record().group;
        let state = group::resolve(&g, &[add.clone(), create.clone()]).unwrap();
        assert_eq!(state.chain.len(), 2);
        assert_eq!(state.epochs[0].key, secret.epoch_key());
        let member = crate::PublisherKey::from_seed([0x31; 32]);
        assert_eq!(
            group::open_change(add.record(), &secret).unwrap().member,
            Some(member.id())
        );
        let b = crate::manifest::SignedKeyBox::decode(&blocks[2]).unwrap();
        let opened = group::open_box(&member, &b.key_box().info(), &b.key_box().sealed).unwrap();
        assert_eq!(opened.secrets()[0].1, secret);
        let outer = crate::SignedManifest::decode(&blocks[4]).unwrap();
        let p = crate::manifest::SignedPrivate::decode(&blocks[5]).unwrap();
        assert_eq!(p.private().id, outer.id());
        assert_eq!(
            group::open_announcement(p.private(), &secret).unwrap(),
            inner
        );
        let small = &blocks[6];
        let header = group::SealedHeader::parse(small).unwrap();
        let mut opener = group::Opener::new(&secret, &header, small.len() as u64).unwrap();
        let mut plain = Vec::new();
        opener
            .write(&small[group::HEADER_BYTES..], &mut plain)
            .unwrap();
        opener.finish(&mut plain).unwrap();
        assert_eq!(&plain[..23], b"\0\0\0\0weft sealed vector\n");
        assert!(plain[23..].iter().all(|&x| x == 0));
        // The rekey: epoch 1, the same admins, a change naming no member.
        let rekey = crate::manifest::SignedGroupRecord::decode(&blocks[7]).unwrap();
        let state = group::resolve(&g, &[rekey.clone(), add, create]).unwrap();
        assert_eq!(state.epoch(), 1);
        assert_eq!(state.admins(), rekey.record().admins.as_slice());
        let s1_hex = text
            .split("starting epoch 1 with the secret `")
            .nth(1)
            .unwrap();
        let s1: [u8; 32] = crate::id::from_hex(&s1_hex[..64])
            .unwrap()
            .try_into()
            .unwrap();
        let s1 = group::EpochSecret::from_bytes(s1);
        assert_eq!(state.epochs[1].key, s1.epoch_key());
        let c = group::open_change(rekey.record(), &s1).unwrap();
        assert_eq!((c.member, c.members.len()), (None, 2));
    }
}
