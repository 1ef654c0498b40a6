//! The identity file (`identity` in the data dir): which identity this
//! node's key signs for, and the key events that made it a device of it
//! before any peer could pass them on.
//!
//! ```text
//! weft-identity-v1
//! identity <identity id, 64 hex>
//! event <signed key event, hex>      (zero or more, in log order)
//! ```
//!
//! Without this file the node's key is a single-key publisher: the key is
//! the publisher. The daemon adds the events to its catalog at start; each
//! is verified like any key event.

use crate::id::{from_hex, to_hex, PublisherId};
use crate::identity::MAX_KEY_EVENTS;
use crate::manifest::SignedKeyEvent;

/// First line of the file.
pub const HEADER: &str = "weft-identity-v1";

/// A parsed identity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFile {
    /// The identity this node signs for.
    pub id: PublisherId,
    /// Key events to add to the catalog at start.
    pub events: Vec<SignedKeyEvent>,
}

impl IdentityFile {
    /// Reads the text of the file; every event is verified.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(HEADER) {
            return Err(format!("the first line is not \"{HEADER}\""));
        }
        let id = match lines.next().and_then(|l| l.strip_prefix("identity ")) {
            Some(hex) => hex
                .parse::<PublisherId>()
                .map_err(|e| format!("the identity line: {e}"))?,
            None => return Err("the second line is not \"identity <id>\"".into()),
        };
        let mut events = Vec::new();
        for (n, line) in lines.enumerate() {
            if events.len() >= MAX_KEY_EVENTS {
                return Err(format!("more than {MAX_KEY_EVENTS} events"));
            }
            let hex = line
                .strip_prefix("event ")
                .ok_or_else(|| format!("line {} is not \"event <hex>\"", n + 3))?;
            if hex.len() > 2 * crate::limits::MAX_ANNOUNCEMENT_BYTES {
                return Err(format!("event {} is over the size limit", n + 1));
            }
            let bytes = from_hex(hex).map_err(|e| format!("event {}: {e}", n + 1))?;
            let e = SignedKeyEvent::decode(&bytes).map_err(|e| format!("event {}: {e}", n + 1))?;
            if e.event().id != id {
                return Err(format!("event {} is for identity {}", n + 1, e.event().id));
            }
            events.push(e);
        }
        Ok(Self { id, events })
    }

    /// The text of the file.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\nidentity {}\n", self.id);
        for e in &self.events {
            out.push_str("event ");
            out.push_str(&to_hex(e.bytes()));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::tests::Log;

    #[test]
    fn an_identity_file_round_trips_and_refuses_another_identity() {
        let log = Log::new(1);
        let f = IdentityFile {
            id: log.id(),
            events: log.events.clone(),
        };
        assert_eq!(IdentityFile::parse(&f.to_text()).unwrap(), f);
        let other = Log::new(2);
        let mixed = IdentityFile {
            id: other.id(),
            events: log.events.clone(),
        };
        assert!(IdentityFile::parse(&mixed.to_text()).is_err());
        assert!(IdentityFile::parse("weft-identity-v1\nidentity zz\n").is_err());
        let mut damaged = f.to_text();
        damaged.replace_range(damaged.len() - 3..damaged.len() - 1, "7f");
        assert!(IdentityFile::parse(&damaged).is_err());
    }
}
