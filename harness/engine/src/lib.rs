//! # onshi-harness — the engine
//!
//! Scenarios ([`scenario`]) drive the World ([`world`]: registry, national service,
//! terminal) and a client's adapter ([`driver`], `onshi-driver/1`) through [`run`], one
//! step kind per module of [`steps`]; everything that crosses an interface goes into the
//! [`journal`]; [`checks`] are pure functions over the journal; [`report`] turns verdicts
//! into JSON, JUnit, HTML and console text. [`serve`] assembles the same World for manual use
//! (`onshi serve`). The reception rush is its own crate (`onshi-rush`), reached through
//! [`steps::Rushes`]. Every public item is documented (`missing_docs` warns).

#![warn(missing_docs)]

mod capped_log;
pub mod checks;
pub mod clock;
pub mod docs;
pub mod driver;
pub mod folders;
pub mod input;
pub mod journal;
mod options;
pub mod rederive;
pub mod report;
mod runner;
pub mod scenario;
pub mod serve;
pub mod spec;
pub mod steps;
pub mod texts;
pub mod world;

pub use options::OperatorMode;
pub use report::{RunReport, Verdict};
pub use runner::{Progress, Quiet, RunError, RunOptions, run};
pub use scenario::{Suite, load_dir, load_sources, read_dir_sources};
