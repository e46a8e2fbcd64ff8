//! The mutation matrix: every defect variant of the reference client fails exactly the cases
//! its table entry lists, each with the check listed, and passes every other case. And every
//! case catches at least one defect.

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;

use common::*;
use onshi_reference_client::{DEFECTS, LOAD_DEPENDENT};

#[test]
fn every_defect_is_caught_by_its_case_and_passes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Mutex::new(DEFECTS.iter().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some(d) = queue.lock().unwrap().pop() else { break };
                    let report_dir = dir.path().join(d.name);
                    let (code, report, text) = run_suite(&reference_adapter(Some(d.name)), &report_dir, &[]);
                    results.lock().unwrap().push((d, code, report, text));
                }
            });
        }
    });
    // card cases need PC/SC; where it is missing they are not applicable for every defect
    let card_cases = card_cases_run();
    let mut problems = Vec::new();
    let mut proven: BTreeSet<String> = BTreeSet::new();
    let mut all_cases: BTreeSet<String> = BTreeSet::new();
    for (d, code, report, text) in results.into_inner().unwrap() {
        let Some(report) = report else {
            problems.push(format!("{}: no report (exit {code}):\n{text}", d.name));
            continue;
        };
        let v = verdicts(&report);
        all_cases.extend(v.iter().map(|(id, ..)| id.clone()));
        for (id, verdict, failed) in &v {
            if !card_cases && id.starts_with("CARD-") {
                assert_eq!(verdict, "not_applicable", "{id} without PC/SC");
                continue;
            }
            let load_dependent = LOAD_DEPENDENT.iter().find(|(name, c)| *name == d.name && c.case == id);
            if let Some((_, c)) = load_dependent {
                let ok = verdict == "pass" || (verdict == "fail" && failed.iter().all(|f| *f == c.check));
                if !ok {
                    problems.push(format!(
                        "{}: {id} may fail only with {} but is {verdict} {failed:?}",
                        d.name, c.check
                    ));
                }
                continue;
            }
            match (d.check_for(id), verdict.as_str()) {
                (Some(check), "fail") if failed.iter().any(|f| *f == check) => {
                    proven.insert(id.clone());
                }
                (Some(check), "fail") => problems.push(format!(
                    "{}: {id} failed with {failed:?} but not with the declared {check}",
                    d.name
                )),
                (Some(check), other) => problems.push(format!("{}: {id} should fail {check} but is {other}", d.name)),
                (None, "pass") => {}
                (None, other) => problems.push(format!(
                    "{}: {id} does not catch this defect, so it must pass, but is {other} {failed:?}",
                    d.name
                )),
            }
        }
        if code != 1 {
            problems.push(format!("{}: exit code {code}, expected 1 (failures)", d.name));
        }
    }
    let unproven: Vec<_> = all_cases
        .difference(&proven)
        .filter(|id| card_cases || !id.starts_with("CARD-"))
        .collect();
    if !unproven.is_empty() {
        problems.push(format!("cases no defect proves: {unproven:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
