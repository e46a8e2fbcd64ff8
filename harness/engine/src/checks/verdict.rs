//! Building one check's result: passed, failed (with what was expected and what happened),
//! skipped because of an earlier problem. Every check module writes its results with these.

use onshi_protocol::CheckId;

use super::{CheckResult, Status};

/// A result without expected/actual values.
pub fn result(id: CheckId, status: Status, message: String, step: Option<usize>, events: Vec<u64>) -> CheckResult {
    CheckResult {
        id: id.into(),
        status,
        message,
        expected: None,
        actual: None,
        events,
        step,
        caused_by: None,
    }
}

/// A check of step `step` (1-based) that passed.
pub fn pass(id: CheckId, message: String, step: usize, events: Vec<u64>) -> CheckResult {
    result(id, Status::Pass, message, Some(step), events)
}

/// A check of step `step` that failed: what was expected and what the client did.
pub fn fail(
    id: CheckId,
    message: String,
    expected: String,
    actual: String,
    step: usize,
    events: Vec<u64>,
) -> CheckResult {
    CheckResult {
        expected: Some(expected),
        actual: Some(actual),
        ..result(id, Status::Fail, message, Some(step), events)
    }
}

/// A check that cannot be evaluated: the reason is an earlier problem, reported by its own check.
pub fn skipped(id: CheckId, reason: &str, step: usize) -> CheckResult {
    result(id, Status::Skipped, reason.to_owned(), Some(step), vec![])
}
