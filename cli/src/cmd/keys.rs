//! `weft init`: create this node's publisher key, sealed with a passphrase
//! if asked.

use rand::RngCore;
use weft_protocol::api::InitOutput;
use weft_protocol::PublisherKey;

use crate::context::{other, Ctx, Res};
use crate::files::write_new_private;

pub(crate) fn init(ctx: &Ctx, with_passphrase: bool) -> Res {
    use weft_protocol::keyfile::{check_new_passphrase, KeyFile, DEFAULT_KDF};
    let path = ctx.dir.join(weft_protocol::layout::PUBLISHER_KEY);
    if path.exists() {
        let existing = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| KeyFile::parse(&t).ok())
            .map(|f| f.publisher().to_string())
            .unwrap_or_else(|| "unreadable".into());
        return Err(other(format!(
            "a publisher key already exists at {} (publisher {existing}); weft never overwrites a key",
            path.display()
        )));
    }
    std::fs::create_dir_all(&ctx.dir)
        .map_err(|e| other(format!("cannot create {}: {e}", ctx.dir.display())))?;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let key = PublisherKey::from_seed(seed);
    let file = if with_passphrase {
        let pass = ctx.read_passphrase("New passphrase for the publisher key: ")?;
        check_new_passphrase(&pass).map_err(|e| other(e.to_string()))?;
        if ctx.passphrase_fd.is_none() && ctx.read_passphrase("Again, to be sure: ")? != pass {
            return Err(other("the two passphrases differ; nothing was created"));
        }
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        KeyFile::seal(seed, &pass, salt, DEFAULT_KDF).map_err(|e| other(e.to_string()))?
    } else {
        KeyFile::Plain(seed)
    };
    write_new_private(&path, file.to_text().as_bytes())
        .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
    if ctx.json {
        ctx.print_json(&InitOutput {
            key_file: path,
            passphrase: with_passphrase,
            publisher: key.id(),
        })?;
    } else {
        println!("Created publisher key {}", key.id());
        if with_passphrase {
            println!(
                "Saved in {}, sealed with your passphrase. Without the passphrase nobody can publish as you, and nobody can recover it: write it down somewhere safe.",
                path.display()
            );
        } else {
            println!(
                "Saved in {}. Keep a copy somewhere safe: whoever has this file can publish as you.",
                path.display()
            );
        }
    }
    Ok(())
}
