//! The shape of a check-catalogue entry, shared by the message lint (`MSG-*`, here) and the
//! engine's behaviour checks. Every check the harness can report has exactly one entry; the
//! catalogue in `docs/checks.md` is generated from these entries.

use std::fmt;

use serde::Serialize;

/// A check's stable ID, e.g. `MSG-INS-002`: one of the constants of [`crate::ids`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckId(&'static str);

impl CheckId {
    /// Only [`crate::ids`] declares check IDs.
    pub(crate) const fn declare(id: &'static str) -> Self {
        CheckId(id)
    }

    /// The ID as written in reports and case files.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The declared check ID written `s` (a case file's `expect.check`, a report read back).
    pub fn parse(s: &str) -> Option<CheckId> {
        crate::ids::ALL.iter().copied().find(|id| id.0 == s)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl From<CheckId> for String {
    fn from(id: CheckId) -> String {
        id.0.to_owned()
    }
}

impl PartialEq<str> for CheckId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for CheckId {
    fn eq(&self, other: &String) -> bool {
        self.0 == other
    }
}

impl PartialEq<CheckId> for String {
    fn eq(&self, other: &CheckId) -> bool {
        self == other.0
    }
}

impl PartialEq<CheckId> for &str {
    fn eq(&self, other: &CheckId) -> bool {
        *self == other.0
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CheckId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CheckId::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not in the check catalogue (docs/checks.md)")))
    }
}

/// One check: what the rule is, why it matters at a clinic reception, and how to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Stable ID, e.g. `MSG-INS-002`. Never reused for a different rule.
    pub id: CheckId,
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
