//! `weft init`, `weft identity …` and `weft device …`: the identity this
//! node signs for, its devices and its root (`docs/protocol.md`,
//! section 6.4). `init` and `device add` write files in the data dir and
//! need no daemon; the others ask the daemon, which signs with the root.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use rand::RngCore;
use serde_json::json;
use weft_protocol::api::{DeviceStatus, IdentityInfo, InitOutput, KeyEventsMade, UpgradeResult};
use weft_protocol::identity::file::IdentityFile;
use weft_protocol::keyfile::{check_new_passphrase, KeyFile, DEFAULT_KDF};
use weft_protocol::layout::{IDENTITY, PUBLISHER_KEY, ROOT_KEY};
use weft_protocol::manifest::{check_device_name, identity_id, next_commitment};
use weft_protocol::words::{fingerprint, PaperBackup};
use weft_protocol::{KeyEvent, KeyKind, PublisherId, PublisherKey, SignedKeyEvent, VERSION};

use crate::context::{other, Ctx, Res};
use crate::files::write_new_private;

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// Refuses to go on if a key file is already in the data dir.
fn no_key_yet(ctx: &Ctx) -> Res {
    let path = ctx.dir.join(PUBLISHER_KEY);
    if path.exists() {
        let existing = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| KeyFile::parse(&t).ok())
            .map(|f| f.publisher().to_string())
            .unwrap_or_else(|| "unreadable".into());
        return Err(other(format!(
            "a key already exists at {} ({existing}); weft never overwrites a key",
            path.display()
        )));
    }
    std::fs::create_dir_all(&ctx.dir)
        .map_err(|e| other(format!("cannot create {}: {e}", ctx.dir.display())))
}

/// Asks for a new passphrase (twice on a terminal).
fn new_passphrase(ctx: &Ctx) -> Result<String, weft_cli::http::CallError> {
    let pass = ctx.read_passphrase("New passphrase for this device's keys: ")?;
    check_new_passphrase(&pass).map_err(|e| other(e.to_string()))?;
    if ctx.passphrase_fd.is_none() && ctx.read_passphrase("Again, to be sure: ")? != pass {
        return Err(other("the two passphrases differ; nothing was created"));
    }
    Ok(pass)
}

/// A key file for `seed`, sealed with `pass` if given.
fn key_file(seed: [u8; 32], pass: Option<&str>) -> Result<KeyFile, weft_cli::http::CallError> {
    match pass {
        Some(p) => KeyFile::seal(
            seed,
            p,
            random32()[..16].try_into().expect("16"),
            DEFAULT_KDF,
        )
        .map_err(|e| other(e.to_string())),
        None => Ok(KeyFile::Plain(seed)),
    }
}

fn write(path: &Path, text: &str) -> Res {
    write_new_private(path, text.as_bytes())
        .map_err(|e| other(format!("cannot write {}: {e}", path.display())))
}

/// This machine's name, for a device name nobody gave.
fn default_device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().chars().take(64).collect::<String>())
        .filter(|h| check_device_name(h).is_ok())
        .unwrap_or_else(|| "first device".into())
}

/// `weft init`: a new identity. The root signs an `incept` event and a
/// certificate for this device's key; the paper backup is shown once.
pub(crate) fn init(ctx: &Ctx, with_passphrase: bool, no_root: bool, name: Option<String>) -> Res {
    no_key_yet(ctx)?;
    let name = name.unwrap_or_else(default_device_name);
    check_device_name(&name).map_err(|why| other(format!("device name: {why}")))?;
    let pass = with_passphrase.then(|| new_passphrase(ctx)).transpose()?;
    let paper = PaperBackup::from_entropy(random32());
    let root = paper.root(0);
    let next = next_commitment(&paper.root(1).id());
    let id = identity_id(&root.id(), &next);
    let device_seed = random32();
    let device = PublisherKey::from_seed(device_seed).id();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let incept = KeyEvent {
        v: VERSION,
        id,
        seq: 0,
        keep: None,
        kind: KeyKind::Incept,
        name: None,
        next: Some(next),
        prev: None,
        root: root.id(),
        device: None,
        created: now,
    };
    let incept = SignedKeyEvent::sign(incept, &root).map_err(|e| other(e.to_string()))?;
    let cert = KeyEvent {
        v: VERSION,
        id,
        seq: 1,
        keep: None,
        kind: KeyKind::Device,
        name: Some(name),
        next: None,
        prev: Some(incept.hash()),
        root: root.id(),
        device: Some(device),
        created: now,
    };
    let cert = SignedKeyEvent::sign(cert, &root).map_err(|e| other(e.to_string()))?;
    let key_path = ctx.dir.join(PUBLISHER_KEY);
    write(
        &key_path,
        &key_file(device_seed, pass.as_deref())?.to_text(),
    )?;
    let identity = IdentityFile {
        id,
        events: vec![incept, cert],
    };
    write(&ctx.dir.join(IDENTITY), &identity.to_text())?;
    let root_path = (!no_root).then(|| ctx.dir.join(ROOT_KEY));
    if let Some(p) = &root_path {
        write(p, &key_file(root.seed(), pass.as_deref())?.to_text())?;
    }
    // A running daemon takes the new identity's key events into its
    // catalog now, so that its peers learn them at the next catch-up (and
    // can, for one, add it to a group) before it signs anything.
    let _ = ctx.get::<serde_json::Value>("/v1/identity");
    let words: Vec<String> = paper.words().into_iter().map(String::from).collect();
    if ctx.json {
        return ctx.print_json(&InitOutput {
            device,
            fingerprint: fingerprint(&id),
            key_file: key_path,
            paper_backup: words,
            passphrase: with_passphrase,
            publisher: id,
            root_key_file: root_path,
        });
    }
    println!("Created identity {id}");
    println!(
        "Fingerprint: {} (read it to people who follow you)",
        fingerprint(&id)
    );
    println!("This device's key: {device}");
    print_paper(&words);
    match &root_path {
        Some(p) => println!(
            "The root key is also in {}; once the words are on paper, `weft identity remove-root` takes it off this device.",
            p.display()
        ),
        None => println!("The root key was not written to this device: it lives only on the paper."),
    }
    Ok(())
}

/// Prints the paper backup's words for a person to write down.
fn print_paper(words: &[String]) {
    println!();
    println!("PAPER BACKUP. Write these 24 words on paper, in order, and keep it safe:");
    for (row, chunk) in words.chunks(6).enumerate() {
        let cells: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{:>2}. {w:<9}", row * 6 + i + 1))
            .collect();
        println!("  {}", cells.join(" "));
    }
    println!();
    println!("They are shown only now. With them you can approve a new device, revoke a seized one and replace the root; without them a stolen root can never be replaced. Nobody can recover them for you.");
}

/// `weft identity upgrade`: the single key becomes an identity's root.
pub(crate) fn upgrade(ctx: &Ctx, device_name: Option<String>) -> Res {
    let passphrase = ctx.passphrase_for_signing()?;
    let r: UpgradeResult = ctx.post(
        "/v1/identity/upgrade",
        Some(json!({"device_name": device_name, "passphrase": passphrase})),
    )?;
    if ctx.json {
        return ctx.print_json(&r);
    }
    println!(
        "Publisher {} is now an identity (fingerprint {}).",
        r.identity, r.fingerprint
    );
    println!(
        "This device signs with its new key {}; the old key became the first root and was replaced at once. {} things it signed stay valid.",
        r.device, r.kept
    );
    print_paper(&r.paper_backup);
    println!("The new root is in root.key; once the words are on paper, `weft identity remove-root` takes it off this device.");
    Ok(())
}

/// Reads the 24 words: one line from the standard input, with a prompt
/// when it is a terminal.
fn read_paper() -> Result<String, weft_cli::http::CallError> {
    if std::io::stdin().is_terminal() {
        eprint!("The 24 words of the paper backup: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take_line(&mut line)
        .map_err(|e| other(format!("cannot read the paper backup: {e}")))?;
    PaperBackup::parse(&line).map_err(|e| other(e.to_string()))?;
    Ok(line.trim().to_string())
}

/// Reads one line of at most 1 KiB.
trait TakeLine {
    fn take_line(&mut self, out: &mut String) -> std::io::Result<()>;
}

impl<R: BufRead> TakeLine for R {
    fn take_line(&mut self, out: &mut String) -> std::io::Result<()> {
        use std::io::Read;
        self.take(1024).read_line(out).map(|_| ())
    }
}

/// The passphrase of `root.key` when it is sealed and no paper is used.
fn root_passphrase(ctx: &Ctx, paper: bool) -> Result<Option<String>, weft_cli::http::CallError> {
    if paper {
        return Ok(None);
    }
    let path = ctx.dir.join(ROOT_KEY);
    let sealed = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| KeyFile::parse(&t).ok())
        .is_some_and(|f| f.is_sealed());
    if sealed {
        ctx.read_passphrase("Passphrase for the root key: ")
            .map(Some)
    } else {
        Ok(None)
    }
}

fn parse_key(what: &str, s: &str) -> Result<PublisherId, weft_cli::http::CallError> {
    s.parse()
        .map_err(|e| other(format!("{s:?} is not a {what} key: {e}")))
}

/// `weft identity`.
pub(crate) fn show(ctx: &Ctx) -> Res {
    let info: IdentityInfo = ctx.get("/v1/identity")?;
    if ctx.json {
        return ctx.print_json(&info);
    }
    println!("Identity     {}", info.identity);
    println!("Fingerprint  {}", info.fingerprint);
    let status = match info.status {
        DeviceStatus::SingleKey => "a single-key publisher (no identity file)",
        DeviceStatus::Certified => "certified",
        DeviceStatus::Uncertified => "not certified yet: approve it with the root",
        DeviceStatus::Revoked => "REVOKED: it can no longer sign",
    };
    println!("This device  {} ({status})", info.device);
    match info.root {
        Some(r) => println!(
            "Root         {r} ({} rotation{}, {})",
            info.rotations,
            if info.rotations == 1 { "" } else { "s" },
            if info.root_here {
                "its key is on this device"
            } else {
                "its key is not on this device"
            }
        ),
        None => println!("Root         none known"),
    }
    if !info.devices.is_empty() {
        println!("Devices:");
        for d in &info.devices {
            let state = if d.revoked {
                format!("revoked, keeps {}", d.kept)
            } else {
                "certified".into()
            };
            let this = if d.this { "  (this device)" } else { "" };
            println!("  {}  {:<20} {state}{this}", d.key, d.name);
        }
    }
    Ok(())
}

fn print_made(ctx: &Ctx, made: &KeyEventsMade, what: &str) -> Res {
    if ctx.json {
        return ctx.print_json(made);
    }
    println!("{what}");
    println!(
        "{} key event{} signed and sent (log now at seq {}, root {}).",
        made.events.len(),
        if made.events.len() == 1 { "" } else { "s" },
        made.seq,
        made.root
    );
    if made.kept > 0 {
        println!("{} bundles and statements it signed stay valid.", made.kept);
    }
    Ok(())
}

/// `weft device add`: this machine becomes a device of an identity.
pub(crate) fn device_add(
    ctx: &Ctx,
    identity: &str,
    name: Option<String>,
    paper: bool,
    with_passphrase: bool,
) -> Res {
    let id = parse_key("identity", identity)?;
    no_key_yet(ctx)?;
    let name = name.unwrap_or_else(default_device_name);
    check_device_name(&name).map_err(|why| other(format!("device name: {why}")))?;
    let words = paper.then(read_paper).transpose()?;
    let pass = with_passphrase.then(|| new_passphrase(ctx)).transpose()?;
    let seed = random32();
    let device = PublisherKey::from_seed(seed).id();
    write(
        &ctx.dir.join(PUBLISHER_KEY),
        &key_file(seed, pass.as_deref())?.to_text(),
    )?;
    let file = IdentityFile { id, events: vec![] };
    write(&ctx.dir.join(IDENTITY), &file.to_text())?;
    match words {
        Some(w) => {
            let made: KeyEventsMade = ctx
                .post(
                    "/v1/identity/device",
                    Some(json!({"device": device, "name": name, "paper": w})),
                )
                .map_err(|e| {
                    other(format!(
                        "this device's key {device} is made and saved, but approving it failed: {e}. Once weftd runs here and knows identity {id} (connect it to a peer that does), approve it with `weft device approve {device} --name {name:?} --paper`"
                    ))
                })?;
            print_made(
                ctx,
                &made,
                &format!("This device ({device}) is now a device of {id}."),
            )
        }
        None => {
            if ctx.json {
                return ctx
                    .print_json(&json!({"device": device, "identity": id, "approved": false}));
            }
            println!("Created this device's key {device} for identity {id}.");
            println!("Approve it on a device that holds the root (or with the paper backup):");
            println!("  weft device approve {device} --name {name:?}");
            Ok(())
        }
    }
}

/// `weft device approve`: the root certifies a device key.
pub(crate) fn device_approve(ctx: &Ctx, device: &str, name: &str, paper: bool) -> Res {
    let device = parse_key("device", device)?;
    let words = paper.then(read_paper).transpose()?;
    let passphrase = root_passphrase(ctx, paper)?;
    let made: KeyEventsMade = ctx.post(
        "/v1/identity/device",
        Some(json!({"device": device, "name": name, "paper": words, "passphrase": passphrase})),
    )?;
    print_made(ctx, &made, &format!("Approved device {device} ({name})."))
}

/// What `--keep-before` accepts: `now`, Unix seconds, `YYYY-MM-DD` or
/// `YYYY-MM-DDTHH:MM` (UTC).
pub(crate) fn parse_time(s: &str) -> Result<u64, weft_cli::http::CallError> {
    let bad = || {
        other(format!(
            "{s:?} is not a time: give `now`, Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
        ))
    };
    if s == "now" {
        return Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()));
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00"));
    let num = |t: &str| t.parse::<i64>().map_err(|_| bad());
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.trim_end_matches('Z').split(':').collect();
    if d.len() != 3 || !(2..=3).contains(&t.len()) {
        return Err(bad());
    }
    let (y, m, day) = (num(d[0])?, num(d[1])?, num(d[2])?);
    let (hh, mm) = (num(t[0])?, num(t[1])?);
    let ss = if t.len() == 3 { num(t[2])? } else { 0 };
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hh)
        || !(0..60).contains(&mm)
        || !(0..60).contains(&ss)
    {
        return Err(bad());
    }
    // Days from the civil date (proleptic Gregorian), after H. Hinnant.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok((days * 86_400 + hh * 3600 + mm * 60 + ss) as u64)
}

/// `weft device revoke`.
pub(crate) fn device_revoke(
    ctx: &Ctx,
    device: &str,
    keep_before: Option<String>,
    keep: Vec<String>,
    undo_retractions: bool,
    paper: bool,
) -> Res {
    let device = parse_key("device", device)?;
    let keep_before = keep_before.as_deref().map(parse_time).transpose()?;
    let keep: Vec<weft_protocol::BundleId> = keep
        .iter()
        .map(|k| {
            k.parse()
                .map_err(|e| other(format!("{k:?} is not a bundle id: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let words = paper.then(read_paper).transpose()?;
    let passphrase = root_passphrase(ctx, paper)?;
    let made: KeyEventsMade = ctx.post(
        "/v1/identity/revoke",
        Some(json!({
            "device": device, "keep": keep, "keep_before": keep_before,
            "undo_retractions": undo_retractions, "paper": words, "passphrase": passphrase,
        })),
    )?;
    print_made(
        ctx,
        &made,
        &format!(
            "Revoked device {device}: every node that learns it refuses what it signs from now on."
        ),
    )
}

/// `weft identity rotate`.
pub(crate) fn rotate(ctx: &Ctx, from_seq: Option<u64>, keep_before: Option<String>) -> Res {
    let keep_before = keep_before.as_deref().map(parse_time).transpose()?;
    let words = read_paper()?;
    let made: KeyEventsMade = ctx.post(
        "/v1/identity/rotate",
        Some(json!({"paper": words, "from_seq": from_seq, "keep_before": keep_before})),
    )?;
    print_made(
        ctx,
        &made,
        "Rotated the root: the old root can no longer sign anything for this identity. The new root lives only on the paper backup.",
    )
}

/// `weft identity remove-root`: the root then lives only on paper.
pub(crate) fn remove_root(ctx: &Ctx) -> Res {
    let path = ctx.dir.join(ROOT_KEY);
    if !path.exists() {
        return Err(other(format!(
            "there is no root key on this device ({} does not exist)",
            path.display()
        )));
    }
    std::fs::remove_file(&path)
        .map_err(|e| other(format!("cannot remove {}: {e}", path.display())))?;
    if ctx.json {
        return ctx.print_json(&json!({"removed": path}));
    }
    println!(
        "Removed {}. The root now lives only on the paper backup: approve, revoke and rotate with --paper.",
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_read_as_utc() {
        assert_eq!(parse_time("0").unwrap(), 0);
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400);
        assert_eq!(parse_time("2026-12-02T05:21").unwrap(), 1_796_188_860);
        assert_eq!(parse_time("2000-03-01T00:00:00Z").unwrap(), 951_868_800);
        assert!(parse_time("2026-13-01").is_err());
        assert!(parse_time("yesterday").is_err());
    }
}
