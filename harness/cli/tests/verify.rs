//! `onshi verify`: a run's verdicts derived again from its journal match report.json, and a
//! retouched report or journal is refused, naming the case and check.

mod common;

use serde_json::Value;

fn verify(dir: &std::path::Path) -> (i32, String) {
    common::said(&["verify", dir.to_str().unwrap()])
}

#[test]
fn a_run_is_judged_again_from_its_journal_and_retouching_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("r");
    let cases = [
        "--case",
        "FILE-QUAL-001",
        "--case",
        "FILE-QUAL-002",
        "--case",
        "API-AUTH-BUSY-001",
    ];
    let (code, _, text) = common::run_suite(&common::reference_adapter(None), &report_dir, &cases);
    assert_eq!(code, 0, "{text}");
    let (code, said) = verify(&report_dir);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("3 cases re-derived identically"), "{said}");

    // the journal retouched: the client's answer in a step record now says something else
    let journal_file = report_dir.join("journal.jsonl");
    let journal = std::fs::read_to_string(&journal_file).unwrap();
    let retouched: Vec<String> = journal
        .lines()
        .map(|l| {
            let mut e: Value = serde_json::from_str(l).unwrap();
            if e["source"] == "step_done" && e["case"] == "FILE-QUAL-002" {
                let answer = &mut e["record"]["answer"]["answered"];
                if answer.is_object() {
                    answer["outcome"] = "valid".into();
                }
            }
            e.to_string()
        })
        .collect();
    std::fs::write(&journal_file, retouched.join("\n") + "\n").unwrap();
    let (code, said) = verify(&report_dir);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("FILE-QUAL-002") && said.contains("OUT-INVALID"), "{said}");
    std::fs::write(&journal_file, journal).unwrap();

    // the report retouched: a failed check turned into a pass is named
    let report_file = report_dir.join("report.json");
    let mut report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    let case = report["cases"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == "FILE-QUAL-001")
        .unwrap();
    case["checks"][0]["message"] = "retouched".into();
    std::fs::write(&report_file, serde_json::to_vec(&report).unwrap()).unwrap();
    let (code, said) = verify(&report_dir);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("FILE-QUAL-001: check"), "{said}");
}
