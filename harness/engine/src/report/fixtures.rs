//! Reports to test the report writers with.

use crate::checks::CheckResult;
use crate::report::{CaseReport, JournalSpan, RunInfo, RunReport, SCHEMA, Tool, Verdict};
use crate::spec::Severity;

pub(crate) fn case(verdict: Verdict, checks: Vec<CheckResult>, reason: Option<&str>) -> CaseReport {
    CaseReport {
        id: "FILE-TEST-001".into(),
        title: "a <title> & more".into(),
        title_ja: None,
        requirement: "OQS-IF-001/002".into(),
        severity: Severity::Mandatory,
        area: "file".into(),
        source: "file/FILE-TEST-001.toml".into(),
        capabilities: vec![],
        verdict,
        reason: reason.map(str::to_owned),
        reason_check: reason.map(|_| "DRV-EXIT".to_owned()),
        duration_ms: 1500,
        checks,
        journal: JournalSpan { first: 1, last: 9 },
    }
}

pub(crate) fn report(cases: Vec<CaseReport>) -> RunReport {
    let mut r = RunReport {
        schema: SCHEMA.into(),
        harness: Tool {
            name: "onshi-harness".into(),
            version: "0".into(),
        },
        run: RunInfo {
            seed: 0,
            date: "20250602".into(),
            started_at: "2025-06-02T00:00:00Z".into(),
            duration_ms: 2000,
            adapter: "x".into(),
            suite: "embedded".into(),
            client: None,
            journal: "journal.jsonl".into(),
            terminal_root: "/t".into(),
            desk_timeout_ms: None,
        },
        summary: Default::default(),
        cases,
        exit_code: 0,
    };
    r.finish();
    r
}
