//! File paths inside a bundle.
//!
//! A path is relative, uses `/` between components, and can never name
//! anything outside the bundle's folder. The same check runs when a folder
//! is published and when a manifest arrives from a peer.

use crate::limits::{MAX_COMPONENT_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH};

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path is the empty string.
    #[error("a file path is empty")]
    Empty,
    /// The path starts with `/`.
    #[error("file path {0:?} is absolute; paths must be relative to the bundle folder")]
    Absolute(String),
    /// A component is `..` or `.`.
    #[error("file path {0:?} contains '.' or '..', which could escape the bundle folder")]
    DotComponent(String),
    /// Two slashes in a row, or a trailing slash.
    #[error("file path {0:?} has an empty component")]
    EmptyComponent(String),
    /// A backslash, NUL or other control character.
    #[error("file path {0:?} contains a backslash or control character")]
    BadCharacter(String),
    /// Longer than the limits allow.
    #[error("file path {0:?} is too long or too deep")]
    TooLong(String),
    /// The same path is listed twice.
    #[error("file path {0:?} is listed more than once")]
    Duplicate(String),
    /// A file path is also used as a directory of another file.
    #[error("file path {0:?} is both a file and a directory")]
    FileAndDirectory(String),
}

/// Checks one path.
pub fn validate_path(path: &str) -> Result<(), PathError> {
    let owned = || path.to_string();
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong(path.chars().take(64).collect()));
    }
    if path.starts_with('/') {
        return Err(PathError::Absolute(owned()));
    }
    if path.chars().any(|c| c == '\\' || c.is_control()) {
        return Err(PathError::BadCharacter(owned()));
    }
    let mut depth = 0;
    for comp in path.split('/') {
        depth += 1;
        match comp {
            "" => return Err(PathError::EmptyComponent(owned())),
            "." | ".." => return Err(PathError::DotComponent(owned())),
            c if c.len() > MAX_COMPONENT_BYTES => return Err(PathError::TooLong(owned())),
            _ => {}
        }
    }
    if depth > MAX_PATH_DEPTH {
        return Err(PathError::TooLong(owned()));
    }
    Ok(())
}

/// Checks a whole list of paths: each path, no duplicates, and no path that
/// is both a file and the directory of another file.
pub fn validate_paths<'a>(paths: impl IntoIterator<Item = &'a str>) -> Result<(), PathError> {
    let mut files = std::collections::HashSet::new();
    let paths: Vec<&str> = paths.into_iter().collect();
    for p in &paths {
        validate_path(p)?;
        if !files.insert(*p) {
            return Err(PathError::Duplicate(p.to_string()));
        }
    }
    for p in &paths {
        let mut end = 0;
        while let Some(i) = p[end..].find('/') {
            let dir = &p[..end + i];
            if files.contains(dir) {
                return Err(PathError::FileAndDirectory(dir.to_string()));
            }
            end += i + 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_relative_paths_are_accepted() {
        for p in ["a.txt", "guide/es/intro.md", "x/y/z", "..hidden", "a..b"] {
            validate_path(p).unwrap();
        }
    }

    #[test]
    fn paths_that_could_escape_are_refused() {
        assert_eq!(validate_path(""), Err(PathError::Empty));
        assert!(matches!(
            validate_path("/etc/passwd"),
            Err(PathError::Absolute(_))
        ));
        assert!(matches!(
            validate_path("../x"),
            Err(PathError::DotComponent(_))
        ));
        assert!(matches!(
            validate_path("a/../../x"),
            Err(PathError::DotComponent(_))
        ));
        assert!(matches!(
            validate_path("./x"),
            Err(PathError::DotComponent(_))
        ));
        assert!(matches!(
            validate_path("a//b"),
            Err(PathError::EmptyComponent(_))
        ));
        assert!(matches!(
            validate_path("a/"),
            Err(PathError::EmptyComponent(_))
        ));
        assert!(matches!(
            validate_path("a\\..\\b"),
            Err(PathError::BadCharacter(_))
        ));
        assert!(matches!(
            validate_path("a\0b"),
            Err(PathError::BadCharacter(_))
        ));
        assert!(validate_path(&"a/".repeat(40)).is_err());
    }

    #[test]
    fn duplicate_paths_and_file_directory_clashes_are_refused() {
        assert!(matches!(
            validate_paths(["a", "b", "a"]),
            Err(PathError::Duplicate(_))
        ));
        assert!(matches!(
            validate_paths(["a", "a-b", "a/b"]),
            Err(PathError::FileAndDirectory(_))
        ));
        validate_paths(["a/b", "a/c", "b"]).unwrap();
    }
}
