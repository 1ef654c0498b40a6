//! Text fields: [`LangText`], language tags, tags and bundle names, their
//! normalization, and the text and ordering checks the messages share.

use serde::{Deserialize, Serialize};

use crate::limits::{
    MAX_DESCRIPTION_BYTES, MAX_LANGS, MAX_LANG_BYTES, MAX_NAME_BYTES, MAX_TAGS, MAX_TAG_BYTES,
    MAX_TITLE_BYTES,
};

use super::error::{field, ValidationError};

/// Title and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangText {
    /// BCP 47 language tag, in its conventional case (`pt-BR`, `sr-Latn`).
    pub lang: String,
    /// Title in that language.
    pub title: String,
    /// Description in that language; may be empty.
    pub description: String,
}

/// Puts a BCP 47 tag in its conventional case, or `None` if it is not
/// well-formed: 2-3 letter (or 4-8 letter) language, then subtags of 1-8
/// letters or digits.
pub fn normalize_lang(tag: &str) -> Option<String> {
    if tag.is_empty() || tag.len() > MAX_LANG_BYTES {
        return None;
    }
    let mut out = Vec::new();
    for (i, sub) in tag.split(['-', '_']).enumerate() {
        if sub.is_empty() || sub.len() > 8 || !sub.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let s = if i == 0 {
            if !(2..=8).contains(&sub.len()) || !sub.chars().all(|c| c.is_ascii_alphabetic()) {
                return None;
            }
            sub.to_ascii_lowercase()
        } else if sub.len() == 2 && sub.chars().all(|c| c.is_ascii_alphabetic()) {
            sub.to_ascii_uppercase()
        } else if sub.len() == 4 && sub.chars().all(|c| c.is_ascii_alphabetic()) {
            let mut s = sub.to_ascii_lowercase();
            s[..1].make_ascii_uppercase();
            s
        } else {
            sub.to_ascii_lowercase()
        };
        out.push(s);
    }
    Some(out.join("-"))
}

/// Puts a tag in its canonical form (trimmed, lowercase), or `None` if it is
/// empty, too long, or holds whitespace or control characters.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let t = tag.trim().to_lowercase();
    if t.is_empty()
        || t.len() > MAX_TAG_BYTES
        || t.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return None;
    }
    Some(t)
}

/// Checks a bundle name: 1-128 bytes of `a-z`, `0-9`, `.`, `_`, `-`, not
/// starting with `.` or `-`.
pub fn validate_name(name: &str) -> Result<(), ValidationError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(field(
            "name",
            format!("must be 1 to {MAX_NAME_BYTES} bytes"),
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        || name.starts_with(['.', '-'])
    {
        return Err(field(
            "name",
            format!("{name:?} may only use a-z, 0-9, '.', '_' and '-', and may not start with '.' or '-'"),
        ));
    }
    Ok(())
}

pub(super) fn check_sorted<T, K: Ord>(
    items: &[T],
    key: impl Fn(&T) -> K,
    name: &'static str,
) -> Result<(), ValidationError> {
    if items.windows(2).all(|w| key(&w[0]) < key(&w[1])) {
        Ok(())
    } else {
        Err(field(name, "must be sorted with no duplicates"))
    }
}

pub(super) fn check_text(
    name: &'static str,
    s: &str,
    max: usize,
    allow_empty: bool,
) -> Result<(), ValidationError> {
    if s.len() > max {
        return Err(field(
            name,
            format!("is {} bytes, over the limit of {max}", s.len()),
        ));
    }
    if !allow_empty && s.trim().is_empty() {
        return Err(field(name, "must not be empty"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(field(name, "must not contain control characters"));
    }
    Ok(())
}

pub(super) fn validate_texts(texts: &[LangText]) -> Result<(), ValidationError> {
    if texts.is_empty() {
        return Err(field("texts", "at least one title is required"));
    }
    if texts.len() > MAX_LANGS {
        return Err(field("texts", format!("at most {MAX_LANGS} languages")));
    }
    for t in texts {
        if normalize_lang(&t.lang).as_deref() != Some(t.lang.as_str()) {
            return Err(field(
                "lang",
                format!("{:?} is not a BCP 47 tag in conventional case", t.lang),
            ));
        }
        check_text("title", &t.title, MAX_TITLE_BYTES, false)?;
        check_text("description", &t.description, MAX_DESCRIPTION_BYTES, true)?;
    }
    check_sorted(texts, |t| t.lang.as_bytes().to_vec(), "texts")
}

pub(super) fn validate_tags(tags: &[String]) -> Result<(), ValidationError> {
    if tags.len() > MAX_TAGS {
        return Err(field("tags", format!("at most {MAX_TAGS} tags")));
    }
    for t in tags {
        if normalize_tag(t).as_deref() != Some(t.as_str()) {
            return Err(field(
                "tags",
                format!("{t:?} must be lowercase, without spaces, 1 to {MAX_TAG_BYTES} bytes"),
            ));
        }
    }
    check_sorted(tags, |t| t.as_bytes().to_vec(), "tags")
}
