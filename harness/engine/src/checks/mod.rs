//! Checks: pure functions over a case's journal entries and step records. Every check has a
//! stable ID and a catalogue entry; every failure names what was expected, what happened and
//! the journal events that prove it.

mod answer;
mod api_view;
pub(crate) mod card;
mod catalogue;
mod chain;
pub(crate) mod families;
pub(crate) mod qualification;
mod terminal_view;
pub(crate) mod verdict;

use onshi_protocol::CheckId;
use onshi_protocol::CheckInfo;
use onshi_protocol::driver::{Outcome, Via};
use onshi_protocol::ids;
use serde::{Deserialize, Serialize};

pub use card::CardFacts;
pub(crate) use catalogue::{CASE_CHECKS, CATALOGUE};
pub use chain::chain;

use crate::journal::Entry;
use crate::spec::Expect;

/// Every check the harness can report: the message lint's, the national mock's request
/// checks and the behaviour checks.
pub fn all() -> impl Iterator<Item = &'static CheckInfo> {
    onshi_protocol::lint::CHECKS
        .iter()
        .chain(onshi_national::http::checks::CHECKS)
        .chain(CATALOGUE.iter())
}

/// The catalogue entry of the check written `id`.
pub fn info(id: &str) -> Option<&'static CheckInfo> {
    all().find(|c| c.id == id)
}

/// A check's words in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Localized {
    /// The rule as a statement of what is correct, in one line.
    pub title: &'static str,
    /// The rule in full.
    pub rule: &'static str,
    /// Why it matters at a clinic reception.
    pub why: &'static str,
    /// How to fix a failure.
    pub fix: &'static str,
}

/// The catalogue entry of `id` in `lang`: the English of the catalogue, or the Japanese of
/// `texts/checks.toml`.
pub fn info_in(id: &str, lang: crate::texts::Lang) -> Option<Localized> {
    let i = info(id)?;
    Some(match lang {
        crate::texts::Lang::En => Localized {
            title: i.title,
            rule: i.rule,
            why: i.why,
            fix: i.fix,
        },
        // every check has its Japanese (tested); English stands in should one lack it
        crate::texts::Lang::Ja => match japanese::get(id) {
            Some(ja) => Localized {
                title: &ja.title,
                rule: &ja.rule,
                why: &ja.why,
                fix: &ja.fix,
            },
            None => return info_in(id, crate::texts::Lang::En),
        },
    })
}

/// The Japanese of the check catalogue (`texts/checks.toml`).
pub mod japanese {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    /// One check in Japanese.
    #[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct CheckText {
        /// One line.
        pub title: String,
        /// The rule in full.
        pub rule: String,
        /// Why it matters.
        pub why: String,
        /// How to fix it.
        pub fix: String,
    }

    /// The data file, as built in.
    pub const SOURCE: &str = include_str!("../../../../texts/checks.toml");

    /// Every check's Japanese, by ID.
    pub fn all() -> &'static HashMap<String, CheckText> {
        static ALL: OnceLock<HashMap<String, CheckText>> = OnceLock::new();
        ALL.get_or_init(|| toml::from_str(SOURCE).expect("texts/checks.toml is valid (tested)"))
    }

    /// The Japanese of check `id`.
    pub fn get(id: &str) -> Option<&'static CheckText> {
        all().get(id)
    }
}

/// The checks a `record = "result"` expectation reports.
pub(crate) const RECORD_CHECKS: &[CheckId] = &[
    ids::REC_INSURER,
    ids::REC_CARD,
    ids::REC_NAME,
    ids::REC_PERSON,
    ids::REC_BENEFIT,
];
/// The checks of the request a `confirm_qualification` step sends (unless `request = false`).
pub(crate) const REQUEST_CHECKS: &[CheckId] = &[ids::REQ_CARD, ids::REQ_CONSENT, ids::REQ_DATE];
/// The checks every `verify_card_pin` step can report (besides its outcome).
pub(crate) const CARD_CHECKS: &[CheckId] = &[
    ids::CARD_AID,
    ids::CARD_NO_RETRY,
    ids::CARD_TRIES,
    ids::CARD_LOCKED,
    ids::CARD_CERT,
    ids::CARD_SESSION,
    ids::CARD_SIGN,
];
/// The checks of how a client uses the API in a `confirm_qualification` step with `via = "api"`.
pub(crate) const API_USE_CHECKS: &[CheckId] = &[ids::API_RETRY_001, ids::API_STORM_001];

/// CLIENT-CRASH: the adapter exited during step `step`'s `method` call. `window` is the
/// case's journal so far; the last thing the World sent the client in it is named.
pub(crate) fn client_crash(
    method: &str,
    step: usize,
    exit: &str,
    stderr_tail: &str,
    window: &[crate::journal::Entry],
) -> CheckResult {
    let (sent, events) = match last_world_output(window) {
        Some((what, seq)) => (format!("right after {what} (event #{seq})"), vec![seq]),
        None => (
            "before the World had answered anything in this case".to_owned(),
            Vec::new(),
        ),
    };
    let tail = stderr_tail.trim();
    CheckResult {
        id: ids::CLIENT_CRASH.into(),
        status: Status::Fail,
        message: format!(
            "the client {exit} during {method}, {sent}{}",
            if tail.is_empty() {
                String::new()
            } else {
                format!("; its last stderr lines:\n{tail}")
            }
        ),
        expected: Some(format!("an answer to {method}")),
        actual: Some(format!("the client {exit}")),
        events,
        step: Some(step),
        caused_by: None,
    }
}

/// The last answer, result or file the World produced in `window`, described, with its
/// sequence number.
fn last_world_output(window: &[crate::journal::Entry]) -> Option<(String, u64)> {
    use crate::journal::Event;
    use onshi_national::events::NationalEvent;
    use onshi_terminal::TerminalEvent;
    window.iter().rev().find_map(|e| {
        let what = match &e.event {
            Event::Terminal(TerminalEvent::ResultWritten {
                name,
                bytes,
                segment_of_result,
                error_code,
                ..
            }) => format!(
                "the terminal wrote res/{name} (SegmentOfResult {segment_of_result}{}, {} bytes)",
                error_code
                    .as_deref()
                    .map(|c| format!(", error {c}"))
                    .unwrap_or_default(),
                bytes.0.len()
            ),
            Event::Terminal(TerminalEvent::FaceWritten { name, bytes, .. }) => {
                format!("the face-auth reader wrote face/{name} ({} bytes)", bytes.0.len())
            }
            Event::Terminal(TerminalEvent::Planted { name, why, .. }) => format!("the World left {name} ({why})"),
            Event::Terminal(TerminalEvent::Unanswered { request, reason }) => {
                format!("the terminal took {request} and will not answer it ({reason})")
            }
            Event::National(NationalEvent::Exchange(x)) => format!(
                "the national API answered {} {} with HTTP {} ({} bytes{})",
                x.method,
                x.path,
                x.status,
                x.response_body.0.len(),
                if x.faults.is_empty() {
                    String::new()
                } else {
                    format!(", fault {}", x.faults.join(", "))
                }
            ),
            _ => return None,
        };
        Some((what, e.seq))
    })
}

/// The default desk limit of CLIENT-TIMEOUT: how long a patient can stand at the counter
/// with a frozen screen (a harness judgement, not a specification value; `--desk-timeout`).
pub const DESK_TIMEOUT_MS: u64 = 15_000;

/// CLIENT-TIMEOUT for a case whose times follow the client's time-out: a warning when the
/// client declared one longer than `limit_ms`; nothing when it declared none (it follows
/// `timeout_ms`).
pub(crate) fn client_timeout(declared_ms: Option<u64>, limit_ms: u64) -> Option<CheckResult> {
    let t = declared_ms?;
    let secs = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
    Some(CheckResult {
        id: ids::CLIENT_TIMEOUT.into(),
        status: if t > limit_ms { Status::Warning } else { Status::Pass },
        message: if t > limit_ms {
            format!(
                "the client declares a time-out of {}: a patient waits that long at the counter before the screen says anything; the desk limit is {}",
                secs(t),
                secs(limit_ms)
            )
        } else {
            format!(
                "the client's declared time-out of {} is within the desk limit of {}; this case's timing followed it",
                secs(t),
                secs(limit_ms)
            )
        },
        expected: Some(format!("at most {}", secs(limit_ms))),
        actual: Some(secs(t)),
        events: Vec::new(),
        step: None,
        caused_by: None,
    })
}

/// The check an outcome expectation is reported under: the case's `check`, or by the expected
/// outcome (OUT-TIMEOUT when an expected `error` never came because the client fell silent).
pub(crate) fn outcome_check(expect: &Expect, timed_out: bool) -> Option<CheckId> {
    let expected = expect.outcome?;
    if let Some(c) = expect.check {
        return Some(c);
    }
    Some(match expected {
        Outcome::Error if timed_out => ids::OUT_TIMEOUT,
        Outcome::Valid => ids::OUT_VALID,
        Outcome::Invalid => ids::OUT_INVALID,
        Outcome::InvalidNewQualification => ids::OUT_NEWQUAL,
        Outcome::NotFound => ids::OUT_NOTFOUND,
        Outcome::Multiple => ids::OUT_MULTIPLE,
        Outcome::Error => ids::OUT_ERROR,
    })
}

/// Every check a step with these expectations can report: a `confirm_qualification` (with
/// its `via`) or an `import_face` (`None`).
pub(crate) fn checks_of_expect(expect: &Expect, confirm: Option<Via>) -> Vec<CheckId> {
    let mut ids: Vec<CheckId> = Vec::new();
    ids.extend(outcome_check(expect, false));
    if expect.within_ms.is_some() {
        ids.extend(outcome_check(expect, true));
    }
    if expect.message.is_some() || expect.outcome == Some(Outcome::Error) {
        ids.push(ids::OUT_MESSAGE);
    }
    if expect.record.is_some() {
        ids.extend(RECORD_CHECKS);
    }
    if expect.consents.is_some() {
        ids.push(ids::FACE_CONSENT);
    }
    if expect.reference_number.is_some() {
        ids.push(ids::FACE_REFNUM);
    }
    if confirm.is_some() && expect.request != Some(false) {
        ids.extend(REQUEST_CHECKS);
    }
    if confirm == Some(Via::Api) {
        ids.extend(API_USE_CHECKS);
    }
    ids
}

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The check held.
    Pass,
    /// The check failed: the client did something wrong.
    Fail,
    /// A finding that does not fail the case.
    Warning,
    /// Could not be evaluated because of an earlier problem (for example, no record to
    /// compare with because the terminal found nobody); the earlier problem is reported.
    Skipped,
}

/// One check as evaluated in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckResult {
    /// The check's ID (docs/checks.md).
    pub id: String,
    /// How it ended.
    pub status: Status,
    /// What was checked or what went wrong, in the user's terms.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What was expected, when the check compares.
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What the client did.
    pub actual: Option<String>,
    /// Journal sequence numbers of the events that prove it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<u64>,
    /// The step (1-based) it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// (failures) The check that failed first in the same step and most likely caused this one
    /// — fix that and this one usually goes too (see [`chain`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caused_by: Option<String>,
}

/// How a driver call ended, as far as checks are concerned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallAnswer<T> {
    /// The client answered.
    Answered(T),
    /// No answer within the step's deadline.
    TimedOut {
        /// How long the harness waited.
        after_ms: u64,
    },
}

/// Where one executed step sits in the case's journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepSpan {
    /// 0-based index in the case.
    pub index: usize,
    /// First journal sequence number of the step.
    pub first_seq: u64,
    /// First sequence number after the step.
    pub end_seq: u64,
}

/// The entries of `entries` (in sequence order) from `from` up to, not including, `to`.
pub fn window(entries: &[Entry], from: u64, to: u64) -> &[Entry] {
    let lo = entries.partition_point(|e| e.seq < from);
    let hi = entries.partition_point(|e| e.seq < to);
    &entries[lo..hi]
}

impl<T> CallAnswer<T> {
    /// The answer, borrowed.
    pub(crate) fn by_ref(&self) -> CallAnswer<&T> {
        match self {
            CallAnswer::Answered(a) => CallAnswer::Answered(a),
            CallAnswer::TimedOut { after_ms } => CallAnswer::TimedOut { after_ms: *after_ms },
        }
    }

    /// The answer, converted.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> CallAnswer<U> {
        match self {
            CallAnswer::Answered(a) => CallAnswer::Answered(f(a)),
            CallAnswer::TimedOut { after_ms } => CallAnswer::TimedOut { after_ms },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every check of the catalogue has its Japanese, in Japanese, and the Japanese file names
    /// no check the catalogue lacks.
    #[test]
    fn every_check_has_its_japanese() {
        let ja = japanese::all();
        for c in all() {
            let t = ja
                .get(c.id.as_str())
                .unwrap_or_else(|| panic!("texts/checks.toml has no [\"{}\"]", c.id));
            for (field, text) in [("title", &t.title), ("rule", &t.rule), ("why", &t.why), ("fix", &t.fix)] {
                assert!(
                    text.chars()
                        .any(|ch| ('\u{3040}'..='\u{30ff}').contains(&ch) || ('\u{4e00}'..='\u{9fff}').contains(&ch)),
                    "{}.{field} is not Japanese: {text:?}",
                    c.id
                );
            }
            // the check's own IDs and codes survive translation
            let ja_en = info_in(c.id.as_str(), crate::texts::Lang::Ja).unwrap();
            assert_eq!(ja_en.fix, t.fix.as_str());
        }
        for id in ja.keys() {
            assert!(info(id).is_some(), "texts/checks.toml has {id}, which is no check");
        }
    }

    #[test]
    fn check_ids_are_unique_and_documented() {
        let ids: Vec<_> = all().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        for c in all() {
            assert!(!c.rule.is_empty() && !c.why.is_empty() && !c.fix.is_empty(), "{}", c.id);
        }
        for id in CASE_CHECKS {
            assert!(info(id.as_str()).is_some(), "{id}");
        }
    }

    /// Every declared check ID has exactly one catalogue entry, across the lint's, the
    /// national mock's and the engine's catalogues.
    #[test]
    fn every_declared_check_id_has_one_catalogue_entry() {
        let mut declared: Vec<CheckId> = onshi_protocol::ids::ALL.to_vec();
        declared.sort_unstable();
        let mut catalogued: Vec<CheckId> = all().map(|c| c.id).collect();
        catalogued.sort_unstable();
        assert_eq!(declared, catalogued);
        assert_eq!(CheckId::parse("OUT-VALID"), Some(onshi_protocol::ids::OUT_VALID));
        assert_eq!(CheckId::parse("OUT-VALIDX"), None);
    }
}
