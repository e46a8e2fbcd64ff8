//! The mutation matrix: every defect variant of the reference client fails its intended
//! case with its intended check ID, fails exactly the other cases its table entry lists, and
//! passes every other case. And every case is proven by at least one defect.

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;

use common::*;
use onshi_reference_client::DEFECTS;

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
            let intended = id == d.case;
            let expected_to_fail = intended || d.also_fails.contains(&id.as_str());
            match (expected_to_fail, verdict.as_str()) {
                (true, "fail") if intended && !failed.iter().any(|f| f == d.check) => problems.push(format!(
                    "{}: {id} failed with {failed:?} but not with the intended {}",
                    d.name, d.check
                )),
                (true, "fail") => {
                    if intended {
                        proven.insert(id.clone());
                    }
                }
                (true, other) => problems.push(format!("{}: {id} should fail but is {other}", d.name)),
                (false, "pass") => {}
                (false, other) => problems.push(format!(
                    "{}: {id} is unrelated to this defect but is {other} {failed:?}",
                    d.name
                )),
            }
        }
        if code != 1 {
            problems.push(format!("{}: exit code {code}, expected 1 (failures)", d.name));
        }
    }
    let unproven: Vec<_> = all_cases.difference(&proven).collect();
    if !unproven.is_empty() {
        problems.push(format!("cases no defect proves: {unproven:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
