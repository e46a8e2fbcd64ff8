//! The options of a conformance run: the adapter, the date and seed, the folders, the
//! deadlines. Read by the runner and by steps that start work of their own (the rush).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use onshi_protocol::synthetic::ErrorCatalogue;

use crate::checks;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The adapter command (run with `sh -c`).
    pub adapter: String,
    /// The seed of the synthetic World.
    pub seed: u64,
    /// The reception date the World simulates.
    pub date: NaiveDate,
    /// Where report.json, junit.xml, journal.jsonl and adapter-stderr.log go.
    pub report_dir: PathBuf,
    /// The terminal's shared folder (default: `<report_dir>/terminal`).
    pub terminal_dir: Option<PathBuf>,
    /// The longest the harness waits for any driver call without an expectation saying
    /// otherwise.
    pub call_timeout: Duration,
    /// The clinic's institution code (synthetic).
    pub institution_code: String,
    /// Time after the last step for trailing events (late resends, consumption).
    pub settle: Duration,
    /// The error codes the World answers with (default: the synthetic catalogue).
    pub error_codes: Option<Arc<ErrorCatalogue>>,
    /// The longest own time-out a client may declare before CLIENT-TIMEOUT warns.
    pub desk_timeout: Duration,
    /// Set when a person answers the calls through the operator console instead of a program.
    pub operator: Option<OperatorMode>,
}

/// A run answered by a person (`onshi run --operator`).
#[derive(Debug, Clone)]
pub struct OperatorMode {
    /// Added to every deadline a case sets: the time a person needs to read the screen of
    /// their software and report it. The software's own timing is still judged from what it
    /// does on the folder and the API.
    pub allowance: Duration,
    /// Every journal event is also appended here as it happens, so that the console can show
    /// the person what the terminal answered beside what their software shows.
    pub live_journal: PathBuf,
}

impl RunOptions {
    /// Options with the defaults of `onshi run`.
    pub fn new(adapter: impl Into<String>, date: NaiveDate, report_dir: PathBuf) -> Self {
        RunOptions {
            adapter: adapter.into(),
            seed: 0,
            date,
            report_dir,
            terminal_dir: None,
            call_timeout: Duration::from_secs(60),
            institution_code: "9900000001".into(),
            settle: Duration::from_millis(300),
            error_codes: None,
            desk_timeout: Duration::from_millis(checks::DESK_TIMEOUT_MS),
            operator: None,
        }
    }
}
