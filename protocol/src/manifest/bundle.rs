//! The manifest itself: [`Manifest`], its [`FileEntry`] list, and the
//! rules of version 1 it must keep.

use serde::{Deserialize, Serialize};

use crate::chunk::ChunkError;
use crate::id::{ContentHash, PublisherId};
use crate::limits::{MAX_FILES, MAX_FILE_SIZE, MAX_LICENCE_BYTES};
use crate::path::validate_paths;

use super::error::{field, ValidationError};
use super::text::{
    check_sorted, check_text, validate_name, validate_tags, validate_texts, LangText,
};
use super::VERSION;

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// The file hash: blake3 of the bytes for files of at most one chunk,
    /// otherwise blake3 of the chunk index (see [`crate::chunk`]).
    pub hash: ContentHash,
    /// Relative path, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// What a publisher says about a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// Version of this (publisher, name); higher supersedes lower.
    pub seq: u64,
    /// Stable name chosen by the publisher.
    pub name: String,
    /// Lowercase tags, sorted, no duplicates.
    pub tags: Vec<String>,
    /// The files, sorted by path bytes.
    pub files: Vec<FileEntry>,
    /// Titles and descriptions, sorted by language tag; at least one.
    pub texts: Vec<LangText>,
    /// Creation time, seconds since the Unix epoch.
    pub created: u64,
    /// Licence, ideally an SPDX expression; may be empty.
    pub licence: String,
    /// The key that signs the manifest.
    pub publisher: PublisherId,
}

impl Manifest {
    /// Checks every rule of version 1 except the signature.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        if self.seq == 0 {
            return Err(field("seq", "must be at least 1"));
        }
        validate_name(&self.name)?;
        validate_tags(&self.tags)?;
        validate_texts(&self.texts)?;
        check_text("licence", &self.licence, MAX_LICENCE_BYTES, true)?;
        if self.files.is_empty() {
            return Err(field("files", "a bundle lists at least one file"));
        }
        if self.files.len() > MAX_FILES {
            return Err(field("files", format!("at most {MAX_FILES} files")));
        }
        validate_paths(self.files.iter().map(|f| f.path.as_str()))?;
        check_sorted(&self.files, |f| f.path.as_bytes().to_vec(), "files")?;
        let mut total: u64 = 0;
        for f in &self.files {
            if f.size > MAX_FILE_SIZE {
                return Err(ChunkError::FileTooLarge(f.size).into());
            }
            if f.size == 0 && f.hash != ContentHash::of(b"") {
                return Err(field(
                    "files",
                    format!("{} is empty, so its hash must be blake3(\"\")", f.path),
                ));
            }
            total = total.saturating_add(f.size);
        }
        Ok(())
    }

    /// Sum of the file sizes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Sorts the lists into canonical order. Call before signing a manifest
    /// assembled by hand.
    pub fn canonicalize(&mut self) {
        self.tags.sort();
        self.tags.dedup();
        self.texts
            .sort_by(|a, b| a.lang.as_bytes().cmp(b.lang.as_bytes()));
        self.files
            .sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    }
}
