//! Two runs compared (`onshi diff OLD NEW`): the cases that fail now and did not before
//! (regressions — the gate a vendor's CI puts against last release's run), the cases fixed,
//! the cases whose applicability changed, and the checks whose outcome changed.

use std::collections::BTreeMap;

use super::{CaseReport, RunReport, Verdict};
use crate::checks::{CheckResult, Status};
use crate::spec::Severity;

/// A case in both runs (or one), with its verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseChange {
    /// The case ID.
    pub id: String,
    /// Its title (from the new run when there).
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// The verdict before; `None` when the old run did not have the case.
    pub old: Option<Verdict>,
    /// The verdict now; `None` when the new run does not have the case.
    pub new: Option<Verdict>,
    /// The checks failing now (regressions), or the reason a case broke.
    pub failing: Vec<String>,
}

/// A check whose outcome changed in a case both runs have.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckChange {
    /// The case.
    pub case: String,
    /// The check ID.
    pub check: String,
    /// Its status before (`None`: not evaluated).
    pub old: Option<Status>,
    /// Its status now.
    pub new: Option<Status>,
    /// What it says now (or said, if gone).
    pub message: String,
}

/// What changed between two runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunDiff {
    /// Failing or broken now, and not before (including cases new to the suite).
    pub regressions: Vec<CaseChange>,
    /// Failing or broken before, passing now.
    pub fixed: Vec<CaseChange>,
    /// Not applicable on one side only.
    pub applicability: Vec<CaseChange>,
    /// In the old run only.
    pub removed: Vec<CaseChange>,
    /// Checks whose status changed, or that fail on both sides with another finding.
    pub evidence: Vec<CheckChange>,
    /// Cases compared.
    pub compared: usize,
}

impl RunDiff {
    /// Whether the new run is worse: some case fails that did not.
    pub fn regressed(&self) -> bool {
        !self.regressions.is_empty()
    }
}

fn bad(v: Verdict) -> bool {
    matches!(v, Verdict::Fail | Verdict::Error)
}

fn failing(c: &CaseReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in c.failures() {
        let line = format!("{} — {}", k.id, k.message);
        if !out.iter().any(|o| o.starts_with(&format!("{} — ", k.id))) {
            out.push(line);
        }
    }
    if out.is_empty()
        && let Some(reason) = &c.reason
    {
        out.push(format!("{} — {reason}", c.reason_check.as_deref().unwrap_or("error")));
    }
    out
}

/// The outcome of each check ID in a case: the worst status it had, with that finding.
fn outcomes(c: &CaseReport) -> BTreeMap<&str, (Status, &CheckResult)> {
    let mut m: BTreeMap<&str, (Status, &CheckResult)> = BTreeMap::new();
    for k in &c.checks {
        let worse = |old: Status| rank(k.status) > rank(old);
        match m.get(k.id.as_str()) {
            Some((old, _)) if !worse(*old) => {}
            _ => {
                m.insert(&k.id, (k.status, k));
            }
        }
    }
    m
}

fn rank(s: Status) -> u8 {
    match s {
        Status::Skipped => 0,
        Status::Pass => 1,
        Status::Warning => 2,
        Status::Fail => 3,
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &RunReport, new: &RunReport) -> RunDiff {
    let mut d = RunDiff::default();
    let before: BTreeMap<&str, &CaseReport> = old.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    for n in &new.cases {
        let o = before.get(n.id.as_str()).copied();
        let change = CaseChange {
            id: n.id.clone(),
            title: n.title.clone(),
            severity: n.severity,
            old: o.map(|o| o.verdict),
            new: Some(n.verdict),
            failing: failing(n),
        };
        d.compared += 1;
        let was_bad = o.is_some_and(|o| bad(o.verdict));
        if bad(n.verdict) && !was_bad {
            d.regressions.push(change.clone());
        } else if was_bad && n.verdict == Verdict::Pass {
            d.fixed.push(CaseChange {
                failing: o.map(failing).unwrap_or_default(),
                ..change.clone()
            });
        }
        if let Some(o) = o
            && (o.verdict == Verdict::NotApplicable) != (n.verdict == Verdict::NotApplicable)
        {
            d.applicability.push(change);
        }
        if let Some(o) = o {
            let (a, b) = (outcomes(o), outcomes(n));
            let ids: std::collections::BTreeSet<&str> = a.keys().chain(b.keys()).copied().collect();
            for id in ids {
                let (x, y) = (a.get(id), b.get(id));
                let changed = match (x, y) {
                    (Some((s, _)), Some((t, _))) if s != t => true,
                    (Some((Status::Fail, p)), Some((Status::Fail, q))) => {
                        p.actual != q.actual || p.expected != q.expected
                    }
                    (Some(_), Some(_)) => false,
                    // a check that appears or goes with a verdict that did not change is news
                    _ => o.verdict == n.verdict,
                };
                if changed {
                    d.evidence.push(CheckChange {
                        case: n.id.clone(),
                        check: id.to_owned(),
                        old: x.map(|(s, _)| *s),
                        new: y.map(|(s, _)| *s),
                        message: y.or(x).map(|(_, k)| k.message.clone()).unwrap_or_default(),
                    });
                }
            }
        }
    }
    let now: std::collections::BTreeSet<&str> = new.cases.iter().map(|c| c.id.as_str()).collect();
    for o in old.cases.iter().filter(|o| !now.contains(o.id.as_str())) {
        d.removed.push(CaseChange {
            id: o.id.clone(),
            title: o.title.clone(),
            severity: o.severity,
            old: Some(o.verdict),
            new: None,
            failing: Vec::new(),
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{case, report};

    fn check(id: &str, status: Status, actual: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            status,
            message: format!("{id}: {actual}"),
            expected: Some("invalid".into()),
            actual: Some(actual.into()),
            events: vec![],
            step: Some(1),
            caused_by: None,
        }
    }

    fn named(id: &str, verdict: Verdict, checks: Vec<CheckResult>) -> CaseReport {
        let mut c = case(verdict, checks, None);
        c.id = id.into();
        c
    }

    #[test]
    fn a_pass_turned_fail_is_a_regression_and_the_reverse_a_fix() {
        let old = report(vec![
            named("A", Verdict::Pass, vec![check("OUT-INVALID", Status::Pass, "invalid")]),
            named("B", Verdict::Fail, vec![check("OUT-VALID", Status::Fail, "error")]),
            named("C", Verdict::NotApplicable, vec![]),
            named("D", Verdict::Pass, vec![]),
            named("GONE", Verdict::Pass, vec![]),
        ]);
        let new = report(vec![
            named("A", Verdict::Fail, vec![check("OUT-INVALID", Status::Fail, "valid")]),
            named("B", Verdict::Pass, vec![check("OUT-VALID", Status::Pass, "valid")]),
            named("C", Verdict::Pass, vec![]),
            named("D", Verdict::Pass, vec![]),
            named("NEW", Verdict::Fail, vec![check("OUT-ERROR", Status::Fail, "valid")]),
        ]);
        let d = diff(&old, &new);
        let ids = |v: &[CaseChange]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.regressions), ["A", "NEW"]);
        assert_eq!(d.regressions[0].failing, ["OUT-INVALID — OUT-INVALID: valid"]);
        assert_eq!(ids(&d.fixed), ["B"]);
        assert_eq!(ids(&d.applicability), ["C"]);
        assert_eq!(ids(&d.removed), ["GONE"]);
        let ev: Vec<(&str, &str)> = d.evidence.iter().map(|e| (e.case.as_str(), e.check.as_str())).collect();
        assert_eq!(ev, [("A", "OUT-INVALID"), ("B", "OUT-VALID")]);
        assert!(d.regressed());
        assert_eq!(d.compared, 5);
    }

    #[test]
    fn the_same_run_twice_has_no_change_and_a_still_failing_case_is_not_a_regression() {
        let r = report(vec![named(
            "A",
            Verdict::Fail,
            vec![check("OUT-INVALID", Status::Fail, "valid")],
        )]);
        let d = diff(&r, &r);
        assert!(!d.regressed() && d.fixed.is_empty() && d.evidence.is_empty());
        // failing both times, with another finding: evidence changed, no regression
        let r2 = report(vec![named(
            "A",
            Verdict::Fail,
            vec![check("OUT-INVALID", Status::Fail, "error")],
        )]);
        let d = diff(&r, &r2);
        assert!(!d.regressed());
        assert_eq!(d.evidence.len(), 1);
    }
}
