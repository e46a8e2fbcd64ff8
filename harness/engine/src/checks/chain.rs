//! Root causes: one wrong value in what the client sent fails a dozen checks — the request's,
//! then the outcome (the World answered an error), then every stored field. Within a step,
//! the checks that failed after the first failure of an earlier stage are marked as its likely
//! consequences (`caused_by`), so that reports can say "fix this one thing".
//!
//! Stages, in the order one causes the next:
//! 1. what the client sent — REQ-*, MSG-*, API-* request findings, FS-REQ-ATOMIC, REG-CARD;
//! 2. what it concluded — OUT-*, CLIENT-CRASH, the step's own outcome check;
//! 3. what it stored — REC-*, FACE-CONSENT, FACE-REFNUM; and a request check that failed
//!    because no request was sent at all (the client had given up).
//!
//! Checks of a client's independent behaviour (retries, storms, duplicates, consumption,
//! time-outs) are never chained.

use super::{CheckResult, Status, StepSpan};
use onshi_protocol::CheckId;
use onshi_protocol::ids;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Sent,
    Concluded,
    Stored,
}

fn stage(c: &CheckResult, outcome_checks: &[CheckId]) -> Option<Stage> {
    const INDEPENDENT: &[CheckId] = &[ids::API_RETRY_001, ids::API_STORM_001, ids::API_TOKEN_REUSE];
    let id = c.id.as_str();
    if INDEPENDENT.iter().any(|i| *i == id) {
        return None;
    }
    if ["REQ-", "MSG-", "API-"].iter().any(|p| id.starts_with(p)) || id == ids::FS_REQ_ATOMIC || id == ids::REG_CARD {
        // a request check that failed because nothing was sent (no event) follows from the
        // client giving up, not the other way round
        Some(if c.events.is_empty() {
            Stage::Stored
        } else {
            Stage::Sent
        })
    } else if id.starts_with("OUT-") || id == ids::CLIENT_CRASH || outcome_checks.iter().any(|c| c == id) {
        Some(Stage::Concluded)
    } else if id.starts_with("REC-") || id == ids::FACE_CONSENT || id == ids::FACE_REFNUM {
        Some(Stage::Stored)
    } else {
        None
    }
}

/// The step (0-based) a check belongs to: its own, or the step whose journal window holds its
/// first event (the message lint and the API findings are reported by event).
fn step_of(c: &CheckResult, steps: &[StepSpan]) -> Option<usize> {
    if let Some(n) = c.step {
        return Some(n - 1);
    }
    let seq = *c.events.first()?;
    steps
        .iter()
        .find(|s| s.first_seq <= seq && seq < s.end_seq)
        .map(|s| s.index)
}

/// Marks each failure that followed, in the same step, the failure of an earlier stage.
/// `outcome_checks` are the outcome check IDs the case's steps report under.
pub fn chain(results: &mut [CheckResult], steps: &[StepSpan], outcome_checks: &[CheckId]) {
    for step in steps {
        let failed: Vec<(usize, Stage)> = results
            .iter()
            .enumerate()
            .filter(|(_, c)| c.status == Status::Fail && step_of(c, steps) == Some(step.index))
            .filter_map(|(i, c)| stage(c, outcome_checks).map(|s| (i, s)))
            .collect();
        let Some(&(root, root_stage)) = failed.iter().min_by_key(|(i, s)| (*s, *i)) else {
            continue;
        };
        let root_id = results[root].id.clone();
        // the root's events: of every failure of the same check in the step (one mistake
        // repeated on each retry is still one mistake)
        let root_events: Vec<u64> = failed
            .iter()
            .filter(|(i, _)| results[*i].id == root_id)
            .flat_map(|(i, _)| results[*i].events.iter().copied())
            .collect();
        for &(i, s) in &failed {
            if i == root {
                continue;
            }
            // a later stage follows from the root; in the root's own stage only what concerns
            // the same journal events (two independent mistakes in one request stay two)
            let follows = s > root_stage || results[i].events.iter().any(|e| root_events.contains(e));
            if follows && results[i].id != root_id {
                results[i].caused_by = Some(root_id.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(id: &str, step: Option<usize>, events: &[u64]) -> CheckResult {
        CheckResult {
            id: id.into(),
            status: Status::Fail,
            message: String::new(),
            expected: None,
            actual: None,
            events: events.to_vec(),
            step,
            caused_by: None,
        }
    }

    fn step(index: usize, first_seq: u64, end_seq: u64) -> StepSpan {
        StepSpan {
            index,
            first_seq,
            end_seq,
        }
    }

    #[test]
    fn what_was_sent_wrong_is_the_root_of_what_followed_in_its_step() {
        let steps = [step(0, 10, 20), step(1, 20, 30)];
        let mut r = vec![
            failed("API-TYPE-001", None, &[12]),
            failed("MSG-INST-001", None, &[12]),
            failed("MSG-DATE-001", None, &[13]),
            failed("OUT-VALID", Some(1), &[12]),
            failed("REC-INSURER", Some(1), &[]),
            failed("API-RETRY-001", Some(1), &[12]),
            // the next step is another story
            failed("OUT-INVALID", Some(2), &[25]),
            failed("REC-NAME", Some(2), &[]),
        ];
        // the same mistake on a retry (another event) is still the same root
        r.push(failed("API-TYPE-001", None, &[14]));
        r.push(failed("MSG-INST-001", None, &[14]));
        chain(&mut r, &steps, &[]);
        let by: Vec<Option<&str>> = r.iter().map(|c| c.caused_by.as_deref()).collect();
        assert_eq!(
            by,
            [
                None,
                Some("API-TYPE-001"),
                None, // another mistake in the same request, on another event
                Some("API-TYPE-001"),
                Some("API-TYPE-001"),
                None, // retries are the client's own behaviour
                None,
                Some("OUT-INVALID"),
                None,
                Some("API-TYPE-001"),
            ]
        );
    }

    #[test]
    fn a_steps_own_outcome_check_is_a_conclusion_and_passes_are_never_chained() {
        let steps = [step(0, 10, 20)];
        let mut r = vec![
            failed("RES-STABLE-READ", Some(1), &[15]),
            failed("REC-CARD", Some(1), &[]),
            CheckResult {
                status: Status::Pass,
                ..failed("REC-NAME", Some(1), &[])
            },
        ];
        chain(&mut r, &steps, &[onshi_protocol::ids::RES_STABLE_READ]);
        assert_eq!(r[0].caused_by, None);
        assert_eq!(r[1].caused_by.as_deref(), Some("RES-STABLE-READ"));
        assert_eq!(r[2].caused_by, None);
    }
}
