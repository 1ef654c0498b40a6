//! Typed records of the store's families: pins and interrupted fetches.
//! Their byte layouts live here and nowhere else.

/// Why a bundle is pinned (`explicit` or `mirror`), as the API names it.
/// A pin keeps a bundle out of cache eviction. An explicit pin is the
/// user's (`weft pin`, `weft get --pin`, publish, import); only the user
/// removes it, a retraction does not. A mirror pin is a follow rule's,
/// dropped when the bundle is superseded, retracted or no rule matches.
pub use weft_protocol::api::PinKind;

/// A pin: when and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Pin {
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// Why.
    pub kind: PinKind,
}

impl Pin {
    /// An explicit pin taken now.
    pub fn explicit(at: u64) -> Self {
        Self {
            at,
            kind: PinKind::Explicit,
        }
    }

    /// A mirror pin taken now.
    pub fn mirror(at: u64) -> Self {
        Self {
            at,
            kind: PinKind::Mirror,
        }
    }

    /// Stored form: time, then 1 for a mirror pin (absent for explicit).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.at.to_be_bytes().to_vec();
        if self.kind == PinKind::Mirror {
            v.push(1);
        }
        v
    }

    /// Reads the stored form; anything unknown counts as explicit, which is
    /// the safe side (explicit pins are never dropped automatically).
    pub fn decode(v: &[u8]) -> Self {
        let at = v
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        let kind = if v.get(8) == Some(&1) {
            PinKind::Mirror
        } else {
            PinKind::Explicit
        };
        Self { at, kind }
    }
}

/// An interrupted fetch, as the `fetches` family keeps it: the pin it will
/// take when it completes, and the signed manifest it is fetching.
///
/// Stored form: one byte for the pin (0 none, 1 explicit, 2 mirror), then
/// the signed manifest's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRecord {
    /// The pin the bundle takes once complete.
    pub pin: Option<PinKind>,
    /// The signed manifest's bytes.
    pub manifest: Vec<u8>,
}

impl FetchRecord {
    /// The stored form.
    pub fn encode(pin: Option<PinKind>, manifest: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + manifest.len());
        v.push(match pin {
            None => 0,
            Some(PinKind::Explicit) => 1,
            Some(PinKind::Mirror) => 2,
        });
        v.extend_from_slice(manifest);
        v
    }

    /// The pin of a stored record; an unknown byte reads as no pin.
    pub fn pin_of(v: &[u8]) -> Option<PinKind> {
        match v.first() {
            Some(1) => Some(PinKind::Explicit),
            Some(2) => Some(PinKind::Mirror),
            _ => None,
        }
    }

    /// The manifest bytes of a stored record.
    pub fn manifest_of(v: &[u8]) -> &[u8] {
        v.get(1..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fetch_record_keeps_its_pin_and_manifest() {
        for pin in [None, Some(PinKind::Explicit), Some(PinKind::Mirror)] {
            let v = FetchRecord::encode(pin, b"manifest");
            assert_eq!(FetchRecord::pin_of(&v), pin);
            assert_eq!(FetchRecord::manifest_of(&v), b"manifest");
        }
        assert_eq!(FetchRecord::manifest_of(&[]), b"");
    }
}
