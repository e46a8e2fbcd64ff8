//! The run report: the JSON document every other view (console, JUnit) is derived from.
//! Its schema is `docs/report.schema.json` (generated from these types).

mod console;
pub mod diff;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod html;
mod junit;
pub mod readiness;
pub mod svg;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::checks::{CheckResult, Status};
use crate::spec::Severity;

pub use console::{failure_details, pcsc_notice, root_cause_summary, summary_table};
pub use junit::{diff_junit, junit_xml};

/// The schema name written in every report.
pub(crate) const SCHEMA: &str = "onshi-report/1";

/// A case's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check of the case passed (warnings allowed).
    Pass,
    /// At least one check failed: the client did something wrong.
    Fail,
    /// The client does not declare a capability the case needs, or its adapter answers
    /// -32601 for a method the case calls.
    NotApplicable,
    /// The harness or the adapter broke; nothing was learned about the client.
    Error,
}

impl Verdict {
    /// The verdict as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotApplicable => "not_applicable",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The program that wrote the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    /// `onshi-harness`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The client as its adapter described itself in `initialize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClientReport {
    /// The client's name.
    pub name: String,
    /// The client's version.
    pub version: String,
    /// The capabilities it declared (cases needing others are not applicable).
    pub capabilities: Vec<String>,
}

/// How the run was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    /// The seed of the synthetic World (`--seed`).
    pub seed: u64,
    /// The reception date the run simulates, YYYYMMDD.
    pub date: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// How long the run took.
    pub duration_ms: u64,
    /// The adapter command (`--adapter`).
    pub adapter: String,
    /// Where the cases came from (a folder, or "embedded").
    pub suite: String,
    /// The client, as its adapter described itself (absent when it never initialised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientReport>,
    /// The journal (JSON Lines), relative to the report.
    pub journal: String,
    /// The terminal folder the client was told to use.
    pub terminal_root: String,
    /// (added) `--desk-timeout`, in milliseconds: the longest own time-out a client may
    /// declare before CLIENT-TIMEOUT warns; needed to judge the run again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk_timeout_ms: Option<u64>,
}

/// How many cases ended how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Cases run.
    pub total: usize,
    /// Cases that passed.
    pub pass: usize,
    /// Cases that failed.
    pub fail: usize,
    /// Cases not applicable to the client.
    pub not_applicable: usize,
    /// Cases that ended in a harness or adapter error.
    pub error: usize,
    /// Failed cases of severity `mandatory`.
    pub mandatory_failures: usize,
}

/// Journal sequence numbers of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JournalSpan {
    /// The case's first journal entry (`case_start`).
    pub first: u64,
    /// Its last (`case_end`).
    pub last: u64,
}

/// One case's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseReport {
    /// The case ID, e.g. `FILE-QUAL-001`.
    pub id: String,
    /// What the case tests, in one line.
    pub title: String,
    /// (added) The same in Japanese, when the case gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_ja: Option<String>,
    /// The requirement IDs it covers (requirements/requirements.toml), joined with ", ".
    pub requirement: String,
    /// Whether a failure blocks certification.
    pub severity: Severity,
    /// The suite folder it comes from (`file`, `api`, `card`, …).
    pub area: String,
    /// The scenario file, relative to the suite.
    pub source: String,
    /// The capabilities the case needs.
    pub capabilities: Vec<String>,
    /// How the case ended.
    pub verdict: Verdict,
    /// Why the verdict is `error` or `not_applicable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The catalogue entry explaining `reason` (DRV-* for adapter problems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_check: Option<String>,
    /// How long the case took.
    pub duration_ms: u64,
    /// Every check evaluated, passed ones included.
    pub checks: Vec<CheckResult>,
    /// Where the case is in the journal.
    pub journal: JournalSpan,
}

impl CaseReport {
    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }

    /// The failures that followed from no other in the case (`caused_by` unset) — the first
    /// of each check ID, as a check repeated on retries is one mistake — each with the
    /// failures that followed from it.
    pub(crate) fn root_failures(&self) -> Vec<(&CheckResult, Vec<&CheckResult>)> {
        let failures: Vec<&CheckResult> = self.failures().collect();
        let mut roots: Vec<&CheckResult> = Vec::new();
        for f in failures.iter().filter(|f| f.caused_by.is_none()) {
            if !roots.iter().any(|r| r.id == f.id) {
                roots.push(f);
            }
        }
        roots
            .into_iter()
            .map(|root| {
                let after = failures
                    .iter()
                    .filter(|f| f.caused_by.as_deref() == Some(root.id.as_str()))
                    .copied()
                    .collect();
                (root, after)
            })
            .collect()
    }
}

/// A root cause across a run: a check that failed first in its step, the cases it failed in,
/// the first failure (as an example) and the checks that failed because of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RootCause<'a> {
    /// The check that failed first.
    pub id: &'a str,
    /// The cases it failed in.
    pub cases: Vec<&'a str>,
    /// Its first failure.
    pub example: &'a CheckResult,
    /// Check ID and how many times it followed from this cause.
    pub consequences: Vec<(&'a str, usize)>,
}

/// The run's root causes, the most widespread first.
pub(crate) fn root_causes(report: &RunReport) -> Vec<RootCause<'_>> {
    let mut causes: Vec<RootCause<'_>> = Vec::new();
    for c in report.cases.iter().filter(|c| c.verdict == Verdict::Fail) {
        for (root, after) in c.root_failures() {
            let i = match causes.iter().position(|r| r.id == root.id) {
                Some(i) => i,
                None => {
                    causes.push(RootCause {
                        id: &root.id,
                        cases: Vec::new(),
                        example: root,
                        consequences: Vec::new(),
                    });
                    causes.len() - 1
                }
            };
            let cause = &mut causes[i];
            if cause.cases.last() != Some(&c.id.as_str()) {
                cause.cases.push(&c.id);
            }
            for f in after {
                match cause.consequences.iter_mut().find(|(id, _)| *id == f.id) {
                    Some((_, n)) => *n += 1,
                    None => cause.consequences.push((&f.id, 1)),
                }
            }
        }
    }
    causes.sort_by(|a, b| b.cases.len().cmp(&a.cases.len()).then(a.id.cmp(b.id)));
    causes
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// Always `onshi-report/1`.
    pub schema: String,
    /// The program that wrote the report.
    pub harness: Tool,
    /// How the run was made.
    pub run: RunInfo,
    /// How many cases ended how.
    pub summary: Summary,
    /// Every case, in the order run.
    pub cases: Vec<CaseReport>,
    /// The exit code of `onshi run`: 0 all applicable cases passed, 1 some failed, 2 harness
    /// or adapter error.
    pub exit_code: i32,
}

impl RunReport {
    /// Fills `summary` and `exit_code` from the cases.
    pub fn finish(&mut self) {
        let mut s = Summary {
            total: self.cases.len(),
            ..Summary::default()
        };
        for c in &self.cases {
            match c.verdict {
                Verdict::Pass => s.pass += 1,
                Verdict::Fail => {
                    s.fail += 1;
                    if c.severity == Severity::Mandatory {
                        s.mandatory_failures += 1;
                    }
                }
                Verdict::NotApplicable => s.not_applicable += 1,
                Verdict::Error => s.error += 1,
            }
        }
        self.exit_code = if s.error > 0 {
            2
        } else if s.fail > 0 {
            1
        } else {
            0
        };
        self.summary = s;
    }
}

/// The JSON Schema of the report.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(
        schemars::generate::SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<RunReport>(),
    )
    .expect("schema serialises")
}
