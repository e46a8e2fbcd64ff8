//! Scenarios: one conformance case per TOML file (`scenarios/<area>/<ID>.toml`), with its
//! terminal settings and a timeline of steps — World actions and driver calls with
//! expectations. The format is documented in `docs/scenario-format.md`.

mod load;
pub mod requirements;
pub mod timing;

use onshi_national::http::ServerSettings;
use onshi_terminal::TerminalSettings;

pub use crate::steps::Step;

pub use crate::spec::{
    ApiSetup, CardCommand, CardSpec, CertificateChoice, Expect, FromResult, LoadError, PeriodChoice, PeriodSpec,
    PullSpec, ReferenceSpec, Severity, SlowSpec,
};
pub use load::{RUSH_DIR, Suite, load_dir, load_sources, read_dir_sources};

/// A case's ID, `AREA-TOPIC-001` (A–Z, 0–9, '-'), which is also its file's name. Only
/// [`CaseId::parse`] makes one, so a loaded case's ID has the right shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId(String);

impl CaseId {
    /// The ID written `s`, or why it is not one.
    pub fn parse(s: &str) -> Result<CaseId, String> {
        let ok = s.split('-').count() >= 2
            && s.split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        if ok {
            Ok(CaseId(s.to_owned()))
        } else {
            Err(format!("case id {s:?} must look like AREA-TOPIC-001 (A–Z, 0–9, '-')"))
        }
    }

    /// The ID as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A case, as its file defines it (see `docs/scenario-format.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDef {
    /// The case ID, e.g. `FILE-QUAL-001` (also the file's name).
    pub id: CaseId,
    /// What the case tests, in one line.
    pub title: String,
    /// The requirements covered (IDs of `requirements/requirements.toml`), e.g.
    /// `OQS-IF-001/002`.
    pub requirements: Vec<requirements::RequirementId>,
    /// The same, joined with ", " for display.
    pub requirement: String,
    /// Capabilities the client must declare; otherwise the case is not applicable.
    pub capabilities: Vec<String>,
    /// Whether a failure blocks certification.
    pub severity: Severity,
    /// Why the case exists, for the catalogue.
    pub summary: String,
    /// The title in Japanese (every shipped case has one; a suite of one's own may leave it out).
    pub title_ja: Option<String>,
    /// The summary in Japanese.
    pub summary_ja: Option<String>,
    /// Behaviour checks (FS-*) enabled for the whole case.
    pub checks: Vec<String>,
    /// The time-out the case asks the client to keep (`timeout_ms` of its steps that give
    /// none), and the value of `timeout` in its time expressions for clients that declare no
    /// time-out of their own.
    pub client_timeout_ms: Option<u64>,
    /// Some of the case's times follow the client's time-out (docs/scenario-format.md).
    pub follows_client_timeout: bool,
    /// The terminal's behaviour for this case (`[terminal]`).
    pub terminal: TerminalSettings,
    /// The national mock's strictness for this case.
    pub national: ServerSettings,
    /// What the harness gives the client for the HTTP API.
    pub api: ApiSetup,
    /// The timeline, from the `[[step]]` tables.
    pub steps: Vec<Step>,
}

/// A loaded case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The case as its file defines it.
    pub def: CaseDef,
    /// The file it came from, relative to the suite root.
    pub source: String,
    /// The folder under the suite root (`file`, `api`, …).
    pub area: String,
    /// The case file's text when its times follow the client's time-out: it is loaded again
    /// for a client that declares its own.
    pub text: Option<std::sync::Arc<str>>,
}

impl Case {
    /// The case's ID.
    pub fn id(&self) -> &str {
        self.def.id.as_str()
    }
}
