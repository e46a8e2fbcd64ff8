//! # onshi-rush — the reception rush (受付ラッシュ): lookup latency under load
//!
//! Its own crate on top of the engine (`onshi-harness`): `onshi rush` runs a profile on its
//! own, and a case's `rush` step runs one through [`step::Support`], which the CLI hands to
//! the suite loader.
//!
//! A [`profile`] says which facilities run, how patients arrive and confirm, and how long
//! each step takes. Patients arrive on an open curve per facility and queue for the
//! facility's readers and reception PCs (one patient each at a time). Each visit passes the
//! [`Mark`]s arrived → served → sent → picked up → answered → written →
//! imported; [`stats`] keeps an HdrHistogram per stage, counted from the *intended* arrival
//! (coordinated-omission safe), plus time series for the charts. [`simulate`] runs a profile
//! on virtual time (the client a [`client`] model), [`live`] in real time against a client's adapter; [`report`] turns the statistics into the summary, JSON and SLO verdicts.

#![warn(missing_docs)]

pub mod client;
pub mod estimate;
pub mod html;
pub mod live;
pub mod merge;
pub mod profile;
pub mod report;
pub mod simulate;
pub mod stats;
pub mod step;

pub use client::{Drawn, Taken, VirtualClient};
pub use profile::{Mark, Profile, Stage, Way, load_profile};
pub use simulate::{Outcomes, Partition, VirtualOptions, run_virtual};
pub use stats::{RushStats, Visit};
