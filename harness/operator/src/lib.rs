//! Operator mode (`onshi run --operator`): a person answers the harness's `onshi-driver/1`
//! calls instead of a program.
//!
//! The harness starts this console as its adapter, so every case, check, journal and report
//! works exactly as with any adapter. For each call the console shows, on a local web page,
//! what the World just did and what the person must do in their own software ("the patient
//! presented this card — confirm the qualification"), then asks what the software shows: the
//! outcome in the clinic's words, the message, and the stored values beside what the terminal
//! answered. Everything the software does on the terminal folder or the API is still recorded
//! and judged by the harness itself; the person reports only the screen.
//!
//! - [`texts`]: the page's words, Japanese and English;
//! - [`fields`]: the compared values (record, consents, 照会番号) as one list of form fields;
//! - [`answer`]: a submitted form turned into a driver result;
//! - [`terminal`]: what the terminal answered, read from the run's live journal;
//! - [`evidence`]: screenshots attached to answers, kept beside the report;
//! - [`console`]: the state shared by the driver side (stdin/stdout) and the web side;
//! - [`web`]: the HTTP server, its token, and the pages.
#![warn(missing_docs)]

pub mod answer;
pub mod console;
pub mod evidence;
pub mod fields;
pub mod terminal;
pub mod texts;
pub mod web;

pub use console::{ConsoleArgs, ConsoleError, run_console};
pub use texts::Lang;
