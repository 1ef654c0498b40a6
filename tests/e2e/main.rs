//! Every end-to-end test in one binary, a module per area, so the whole
//! dependency tree is linked once. Each module starts real `weftd`
//! processes through the harness (`tests/harness`, the `weft_e2e` crate).
//!
//! Run one area with a filter, for example
//! `cargo test -p weft-e2e --test e2e crashloop::`.

mod adversarial;
mod api_shapes;
mod attacks;
mod bench_smoke;
mod censorship;
mod cli;
mod conventions;
mod crashloop;
mod discovery;
mod flood;
mod groups;
mod hostile;
mod hubs;
mod identity;
mod metrics;
mod network;
mod package;
mod powerloss;
mod punch;
mod trust;
mod web;
