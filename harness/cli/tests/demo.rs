//! `onshi demo`: the reference client passes every case, and the reports are complete.

mod common;

use common::*;

#[test]
fn the_demo_is_green_and_writes_every_report() {
    // as a new user runs it: the default, relative report folder (a relative folder once
    // hid every file-system event from the terminal's watcher)
    let cwd = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(onshi())
        .current_dir(cwd.path())
        .arg("demo")
        .output()
        .unwrap();
    let dir = cwd.path().join("onshi-report");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let card_cases = card_cases_run();

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "onshi-report/1");
    let v = verdicts(&report);
    assert!(v.len() >= 15, "only {} cases", v.len());
    for (id, verdict, failed) in &v {
        assert_eq!(verdict, passing_verdict(id), "{id} failed {failed:?}");
    }
    let passed = v.iter().filter(|(_, verdict, _)| verdict == "pass").count();
    assert_eq!(report["summary"]["pass"], passed);
    assert_eq!(report["exit_code"], 0);
    assert!(
        stdout.contains(&format!("{} cases: {passed} passed", v.len())),
        "{stdout}"
    );
    // without PC/SC the demo says in one line how to enable the card cases
    assert_eq!(
        stdout.contains("PC/SC card case(s) not applicable"),
        !card_cases,
        "{stdout}"
    );
    if card_cases {
        assert!(
            v.iter()
                .any(|(id, verdict, _)| id.starts_with("CARD-") && verdict == "pass")
        );
    }

    // JUnit: one testcase per case, no failures.
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), v.len());
    assert!(!junit.contains("<failure"));

    // The journal is complete JSON Lines with case markers and file-system events.
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = journal.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i as u64 + 1, "sequence numbers are dense and ordered");
    }
    let count = |source: &str, event: &str| {
        lines
            .iter()
            .filter(|l| l["source"] == source && (event.is_empty() || l["event"] == event))
            .count()
    };
    assert_eq!(count("case_start", ""), v.len());
    assert!(count("terminal", "fs") > v.len());
    assert!(count("terminal", "result_written") > 10);
    assert!(count("driver", "call") > v.len());
}
