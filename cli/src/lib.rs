//! The `weft` CLI's reusable part: the client of the daemon's local API.
//! The benchmark suite and the end-to-end harness use it too, so they talk
//! to `weftd` exactly as the CLI does.

pub mod http;
