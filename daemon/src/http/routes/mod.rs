//! The API's handlers, grouped by area as `docs/api.md` groups them.

pub mod catalog;
pub mod groups;
pub mod identity;
pub mod jobs;
pub mod names;
pub mod node;
pub mod rules;
pub mod storage;
