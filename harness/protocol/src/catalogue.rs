//! The shape of a check-catalogue entry, shared by the message lint (`MSG-*`, here) and the
//! engine's behaviour checks. Every check the harness can report has exactly one entry; the
//! catalogue in `docs/checks.md` is generated from these entries.

use serde::Serialize;

/// One check: what the rule is, why it matters at a clinic reception, and how to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Stable ID, e.g. `MSG-INS-002`. Never reused for a different rule.
    pub id: &'static str,
    /// One line: the rule as a statement of what is correct.
    pub title: &'static str,
    /// The rule in full.
    pub rule: &'static str,
    /// Why it matters at a clinic reception (受付).
    pub why: &'static str,
    /// How to fix a failure.
    pub fix: &'static str,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Reported, does not fail a case.
    Warning,
    /// Fails the case it is found in.
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}
