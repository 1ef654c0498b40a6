//! Wall-clock time, read in one place so that logic which decides by time
//! can take `now` as an argument instead (see the planners in
//! [`crate::sync::plan`] and [`crate::ops::keeper`]).

/// Now, in seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
