//! # onshi-benches
//!
//! The API load benchmark (`onshi-bench-api`): a load generator ([`load`]) driving the national
//! mock's search endpoint and, in the same run, two references — WireMock standalone serving the
//! same answer as a static stub, and a trivial hyper server ([`fixed`]) that returns the same
//! bytes without doing any work. The terminal benchmark (`onshi-bench-terminal`, [`terminal`])
//! measures round trips and pickup latency through a real folder. Criterion benches of the hot
//! paths are in `benches/`.
//! Results and the commands that produce them: `docs/performance.md`.

pub mod fixed;
pub mod load;
pub mod terminal;
