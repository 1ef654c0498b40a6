//! Operations: what the node does on request or on its own, each built
//! from the pieces (store, holdings, catalog, network client) that
//! [`crate::node::Node`] hands it. Long ones run as jobs
//! ([`crate::jobs`]).
//!
//! Not here: HTTP (see [`crate::http`]) or libp2p (see [`crate::net`]).

pub mod archive;
pub mod export;
pub mod fetch;
pub mod group;
pub mod identity;
pub mod keeper;
pub mod private;
pub mod profile;
pub mod provide;
pub mod publish;
pub mod retract;
pub mod vouch;
