//! The terminal's output works for every kind of client the reference describes: the
//! reference client passes every folder-interface case (`FILE-*`, `REF-*`, `BULK-*`, `PULL-*`,
//! `MED-*`, `TERM-*`, `FACE-*`) matching results by name, by content, by creation events only,
//! and by two identical reads; and every API case (`API-*`) with one connection per request
//! and with the searches of a session on one kept connection (HTTP keep-alive).

mod common;

use std::sync::Mutex;

use common::*;

#[test]
fn every_folder_case_passes_in_every_client_style() {
    let dir = tempfile::tempdir().unwrap();
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for style in ["name", "content", "created-events", "stable-read"] {
            let (dir, problems) = (&dir, &problems);
            s.spawn(move || {
                let adapter = format!("{} --style {style}", reference_adapter(None));
                let (code, report, text) = run_suite(&adapter, &dir.path().join(style), &[]);
                let Some(report) = report else {
                    problems
                        .lock()
                        .unwrap()
                        .push(format!("{style}: no report (exit {code}):\n{text}"));
                    return;
                };
                let mut folder_cases = 0;
                for (id, verdict, failed) in verdicts(&report) {
                    if id.starts_with("API-") || id.starts_with("CARD-") {
                        continue;
                    }
                    folder_cases += 1;
                    if verdict != "pass" {
                        problems
                            .lock()
                            .unwrap()
                            .push(format!("{style}: {id} is {verdict} {failed:?}"));
                    }
                }
                if folder_cases < 45 {
                    problems
                        .lock()
                        .unwrap()
                        .push(format!("{style}: only {folder_cases} folder cases ran"));
                }
            });
        }
    });
    let problems = problems.into_inner().unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_api_case_passes_with_a_kept_connection() {
    let dir = tempfile::tempdir().unwrap();
    let suite = tempfile::tempdir().unwrap();
    // the API cases alone
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    std::fs::create_dir(suite.path().join("api")).unwrap();
    for e in std::fs::read_dir(repo.join("api")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), suite.path().join("api").join(e.file_name())).unwrap();
    }
    let adapter = format!("{} --keep-alive", reference_adapter(None));
    let (code, report, text) = run_suite(&adapter, dir.path(), &["--suite", suite.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let v = verdicts(&report.unwrap());
    assert!(v.len() >= 20, "only {} API cases", v.len());
    for (id, verdict, failed) in v {
        assert_eq!(verdict, "pass", "{id} {failed:?}");
    }
    // and the connection was kept: fewer connections than searches
    let journal = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    let searches: Vec<u64> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "exchange" && e["path"].as_str().is_some_and(|p| p.ends_with("/search")))
        .map(|e| e["connection"].as_u64().unwrap())
        .collect();
    let mut connections = searches.clone();
    connections.sort();
    connections.dedup();
    assert!(
        connections.len() < searches.len(),
        "{} connections for {} searches",
        connections.len(),
        searches.len()
    );
}
