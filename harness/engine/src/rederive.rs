//! Judging a finished run again from its journal alone. Every check is a pure function of
//! a case's definition, the journal entries it was judged on, and what each step recorded
//! (`step_done` entries); so a report's verdicts can be derived again from the journal and
//! the suite — by a reviewer, from a bundle, long after the run — and any difference named.

use std::collections::HashMap;

use onshi_protocol::driver::InitializeResult;
use onshi_registry::Registry;
use thiserror::Error;

use crate::checks::{self, CheckResult, StepSpan};
use crate::journal::{DriverEvent, Entry, Event};
use crate::report::{CaseReport, RunReport, Verdict};
use crate::scenario::Suite;
use crate::steps;

/// Where the report and what its journal proves part ways.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Difference {
    /// The report names a case the suite does not have.
    #[error("{case}: the suite has no such case")]
    UnknownCase {
        /// The case.
        case: String,
    },
    /// The journal does not hold the case where the report says (its start and end).
    #[error("{case}: the journal has no such case at entries {first}–{last}")]
    NotInJournal {
        /// The case.
        case: String,
        /// Where the report says it starts.
        first: u64,
        /// Where the report says it ends.
        last: u64,
    },
    /// A case that passed has no record of what was judged: the journal was written by a
    /// harness from before journals could be judged again.
    #[error(
        "{case}: the journal does not record what was judged (written before onshi-harness could re-derive verdicts); re-run with this version"
    )]
    Unrecorded {
        /// The case.
        case: String,
    },
    /// A step's record cannot be read back.
    #[error("{case}: step {step}'s record cannot be read: {error}")]
    Record {
        /// The case.
        case: String,
        /// The step, 1-based.
        step: usize,
        /// Why.
        error: String,
    },
    /// The verdict in the report is not the one the journal gives.
    #[error("{case}: the report says {recorded}, the journal gives {derived}")]
    Verdict {
        /// The case.
        case: String,
        /// The report's verdict.
        recorded: String,
        /// The verdict derived again.
        derived: String,
    },
    /// A check in the report is not the one derived again (missing, extra or different).
    #[error("{case}: check {check}: the report says {recorded}, derived again {derived}")]
    Check {
        /// The case.
        case: String,
        /// The check's ID.
        check: String,
        /// The report's result (status and message), or "nothing".
        recorded: String,
        /// The derived result, or "nothing".
        derived: String,
    },
}

/// How a run's report stood up to its journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rederived {
    /// Cases whose checks and verdict were derived again, identically.
    pub identical: usize,
    /// Cases that stopped before their checks (not applicable, adapter errors): their verdict
    /// is the one the journal records, there are no checks to derive.
    pub stopped: usize,
    /// Every difference found.
    pub differences: Vec<Difference>,
}

/// Derives every case of `report` again from `journal` (all of the run's entries, in order)
/// and `suite` (as run); `registry` is the World's (the run's seed), `desk_timeout_ms` the
/// run's `--desk-timeout`.
pub fn rederive(
    suite: &Suite,
    registry: &Registry,
    desk_timeout_ms: u64,
    journal: &[Entry],
    report: &RunReport,
) -> Rederived {
    let by_seq: HashMap<u64, usize> = journal.iter().enumerate().map(|(i, e)| (e.seq, i)).collect();
    let mut out = Rederived::default();
    for case in &report.cases {
        match rederive_case(suite, registry, desk_timeout_ms, journal, &by_seq, case) {
            Ok(Some(())) => out.identical += 1,
            Ok(None) => out.stopped += 1,
            Err(mut d) => out.differences.append(&mut d),
        }
    }
    out
}

fn rederive_case(
    suite: &Suite,
    registry: &Registry,
    desk_timeout_ms: u64,
    journal: &[Entry],
    by_seq: &HashMap<u64, usize>,
    report: &CaseReport,
) -> Result<Option<()>, Vec<Difference>> {
    let id = report.id.clone();
    let not_in_journal = || {
        vec![Difference::NotInJournal {
            case: id.clone(),
            first: report.journal.first,
            last: report.journal.last,
        }]
    };
    let (Some(&lo), Some(&hi)) = (by_seq.get(&report.journal.first), by_seq.get(&report.journal.last)) else {
        return Err(not_in_journal());
    };
    let (ended, judged_before) = match (&journal[lo].event, &journal[hi].event) {
        (
            Event::CaseStart { case: start },
            Event::CaseEnd {
                case: end,
                verdict,
                judged_before,
            },
        ) if *start == id && *end == id && lo <= hi => (verdict.clone(), *judged_before),
        _ => return Err(not_in_journal()),
    };
    let verdict_differs = |derived: &str| Difference::Verdict {
        case: id.clone(),
        recorded: report.verdict.as_str().to_owned(),
        derived: derived.to_owned(),
    };
    if ended != report.verdict.as_str() {
        return Err(vec![verdict_differs(&ended)]);
    }
    let Some(judged_before) = judged_before else {
        if report.verdict == Verdict::Pass {
            // a pass is always judged: this journal predates the records
            return Err(vec![Difference::Unrecorded { case: id }]);
        }
        // stopped early: nothing was judged, the journal's verdict is the report's
        return Ok(None);
    };
    let Some(case) = suite.case(&id) else {
        return Err(vec![Difference::UnknownCase { case: id }]);
    };
    let entries: Vec<Entry> = journal[lo..=hi]
        .iter()
        .filter(|e| e.seq < judged_before)
        .cloned()
        .collect();
    // the client's own time-out, as it declared it before this case
    let declared = journal[..lo].iter().rev().find_map(|e| match &e.event {
        Event::Driver(DriverEvent::Result { method, result, .. }) if method == "initialize" => Some(
            serde_json::from_value::<InitializeResult>(result.clone())
                .ok()?
                .client
                .timeout_ms,
        ),
        _ => None,
    });
    let declared = declared.flatten();
    let resolved;
    let case = match declared {
        Some(t) if case.def.follows_client_timeout => {
            resolved = suite.for_client_timeout(case, t, registry).map_err(|e| {
                vec![Difference::Record {
                    case: id.clone(),
                    step: 0,
                    error: e,
                }]
            })?;
            &resolved
        }
        _ => case,
    };
    let mut executed = Vec::new();
    let mut step_starts: HashMap<usize, u64> = HashMap::new();
    for e in &entries {
        match &e.event {
            Event::Step { case: c, index, .. } if *c == id => {
                step_starts.insert(*index, e.seq);
            }
            Event::StepDone {
                case: c,
                index,
                end_seq,
                record,
            } if *c == id => {
                let bad = |error: String| {
                    vec![Difference::Record {
                        case: id.clone(),
                        step: *index,
                        error,
                    }]
                };
                let step = case
                    .def
                    .steps
                    .get(index.wrapping_sub(1))
                    .ok_or_else(|| bad("the case has no such step".into()))?;
                let first_seq = *step_starts
                    .get(index)
                    .ok_or_else(|| bad("the step never started".into()))?;
                let span = StepSpan {
                    index: index - 1,
                    first_seq,
                    end_seq: *end_seq,
                };
                executed.push(step.restore(span, record.clone()).map_err(|e| bad(e.to_string()))?);
            }
            _ => {}
        }
    }
    let mut derived = steps::evaluate(&case.def.steps, &executed, &case.def.checks, case.def.api, &entries);
    if case.def.follows_client_timeout {
        derived.extend(checks::client_timeout(declared, desk_timeout_ms));
    }
    let failed = derived.iter().any(|c| c.status == checks::Status::Fail);
    let verdict = if failed { Verdict::Fail } else { Verdict::Pass };
    let mut differences = compare_checks(&id, &report.checks, &derived);
    if verdict != report.verdict {
        differences.push(verdict_differs(verdict.as_str()));
    }
    if differences.is_empty() {
        Ok(Some(()))
    } else {
        Err(differences)
    }
}

fn describe(c: Option<&CheckResult>) -> String {
    match c {
        Some(c) => {
            let status = serde_json::to_value(c.status).ok();
            let status = status.as_ref().and_then(|s| s.as_str()).unwrap_or("?");
            format!("{status} ({})", c.message)
        }
        None => "nothing".into(),
    }
}

/// The checks that differ, position by position (the order is the evaluation's).
fn compare_checks(case: &str, recorded: &[CheckResult], derived: &[CheckResult]) -> Vec<Difference> {
    (0..recorded.len().max(derived.len()))
        .filter_map(|i| {
            let (r, d) = (recorded.get(i), derived.get(i));
            (r != d).then(|| Difference::Check {
                case: case.to_owned(),
                check: r.or(d).map(|c| c.id.clone()).unwrap_or_default(),
                recorded: describe(r),
                derived: describe(d),
            })
        })
        .collect()
}
