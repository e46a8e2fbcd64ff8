//! A terminal given a relative folder (as `onshi demo` once did with its default report
//! folder) still sees every file-system event: the watcher reports absolute paths, so the
//! folders are made absolute at start. One test in its own binary: it changes the process's
//! working directory.

use std::time::{Duration, Instant};

use onshi_terminal::*;

mod common;

#[tokio::test]
async fn a_relative_folder_is_watched_and_announced_absolute() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let cwd = dir.path().to_owned();
    let settings = TerminalSettings {
        pickup_delay_ms: 30,
        rescan_ms: 100,
        ..Default::default()
    };
    let f = common::start_in(dir, Folders::new("report/./terminal"), settings).await;
    let (terminal, recorder) = (&f.terminal, &f.recorder);
    let folders = terminal.folders().clone();
    assert!(folders.req.is_absolute(), "{folders:?}");
    assert!(folders.req.starts_with(cwd.canonicalize().unwrap()) || folders.req.starts_with(&cwd));
    // a client writes into req/ through the relative path it was not given
    std::fs::write("report/terminal/req/OQSsiquc01req_1.xml", b"<not-xml").unwrap();
    let client_event = || {
        recorder.events().into_iter().any(|e| {
            matches!(e, TerminalEvent::Fs { folder: Folder::Req, actor: Actor::Client, ref name, .. }
                if name == "OQSsiquc01req_1.xml")
        })
    };
    let since = Instant::now();
    while !client_event() && since.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(client_event(), "no fs event of the client: {:#?}", recorder.events());
    // … and the terminal answers it (an unreadable request gets its .err)
    let since = Instant::now();
    while !folders.res.join("OQSsiquc01req_1.err").exists() && since.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(folders.res.join("OQSsiquc01req_1.err").exists());
}
