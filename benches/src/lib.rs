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

pub use nix::sys::resource::UsageWho;

/// CPU time (user + system) of this process or of its waited-for children, in seconds.
pub fn cpu_s(who: UsageWho) -> f64 {
    nix::sys::resource::getrusage(who).map_or(f64::NAN, |u| {
        let s = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        s(u.user_time()) + s(u.system_time())
    })
}
