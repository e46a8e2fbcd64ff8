//! The terminal's output works for every kind of client the reference describes: the
//! reference client passes every folder-interface case (`FILE-*`, `REF-*`, `BULK-*`, `PULL-*`,
//! `MED-*`, `TERM-*`, `FACE-*`) matching results by name, by content, by creation events only,
//! and by two identical reads.

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
