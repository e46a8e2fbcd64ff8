//! Time-outs are the client's: a client with a fixed time-out of its own, declared in
//! `initialize`, passes every case about time-outs and slow or late answers — whether its
//! time-out is shorter or longer than the 2 s the harness asks for — and one that keeps a
//! fixed time-out without declaring it is judged as if it followed `timeout_ms`.

mod common;

use common::*;

/// Every case whose timing depends on how long the client waits.
const TIMING_CASES: &[&str] = &[
    "FILE-TIMEOUT-001",
    "TERM-NEVER-001",
    "TERM-WRITEFAIL-001",
    "TERM-LATE-001",
    "API-SLOW-001",
    "FILE-DUP-001",
    "TERM-COLLIDE-001",
];

fn run_cases(client_options: &str, cases: &[&str]) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let adapter = format!("{} {client_options}", reference_adapter(None));
    let mut extra = Vec::new();
    for c in cases {
        extra.extend(["--case", c]);
    }
    let (code, report, text) = run_suite(&adapter, dir.path(), &extra);
    (code, report.unwrap_or_else(|| panic!("no report:\n{text}")), text)
}

fn check_status<'a>(report: &'a serde_json::Value, case: &str, check: &str) -> Vec<&'a str> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == case)
        .flat_map(|c| c["checks"].as_array().unwrap())
        .filter(|x| x["id"] == check)
        .map(|x| x["status"].as_str().unwrap())
        .collect()
}

#[test]
fn declared_fixed_timeouts_shorter_and_longer_than_asked_pass_every_timing_case() {
    std::thread::scope(|s| {
        for ms in ["1800", "5000"] {
            s.spawn(move || {
                let (code, report, text) = run_cases(&format!("--fixed-timeout-ms {ms}"), TIMING_CASES);
                assert_eq!(code, 0, "a declared {ms} ms time-out:\n{text}");
                for (id, verdict, failed) in verdicts(&report) {
                    assert_eq!(verdict, "pass", "{id} {failed:?}");
                    // the cases whose times followed it say so, and it is bearable
                    assert_eq!(check_status(&report, &id, "CLIENT-TIMEOUT"), ["pass"], "{id}");
                }
            });
        }
    });
}

#[test]
fn a_time_out_longer_than_a_desk_can_bear_passes_with_a_warning() {
    let (code, report, text) = run_cases("--fixed-timeout-ms 16000", &["FILE-TIMEOUT-001", "FILE-DUP-001"]);
    assert_eq!(code, 0, "{text}");
    for case in ["FILE-TIMEOUT-001", "FILE-DUP-001"] {
        assert_eq!(check_status(&report, case, "CLIENT-TIMEOUT"), ["warning"], "{case}");
    }
    // the timeout case waited for the client's own 16 s, not the 2 s asked for
    let case = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "FILE-TIMEOUT-001")
        .unwrap();
    assert!(case["duration_ms"].as_u64().unwrap() >= 16_000, "{case}");
    // cases not about time-outs do not report it
    let (_, report, _) = run_cases("--fixed-timeout-ms 16000", &["FILE-QUAL-001"]);
    assert!(check_status(&report, "FILE-QUAL-001", "CLIENT-TIMEOUT").is_empty());
}

#[test]
fn an_undeclared_fixed_timeout_is_judged_against_timeout_ms() {
    // 5 s without saying so: the late answer at 2.8 s comes before the client gives up, and it
    // takes it for the first patient's — the case cannot know, so it fails
    let (code, report, text) = run_cases("--fixed-timeout-ms 5000 --undeclared", &["TERM-LATE-001"]);
    assert_eq!(code, 1, "{text}");
    let (_, verdict, failed) = &verdicts(&report)[0];
    assert_eq!(verdict, "fail");
    assert_eq!(failed, &["OUT-TIMEOUT".to_owned()]);
    assert!(check_status(&report, "TERM-LATE-001", "CLIENT-TIMEOUT").is_empty());
}
