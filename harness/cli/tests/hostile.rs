//! Hostile input to the `onshi` binary, replayed from the hardening probe: endless and
//! oversized files, many-step scenarios, huge rush profiles, profiles full of errors, chatty
//! and broken adapters. Each command must end on its own with a clear answer (every one runs
//! under a deadline and is killed and failed if it hangs) and within a memory ceiling (the
//! peak resident size of every child is checked).
//!
//! The other categories of the probe are replayed where they act: malformed, oversized,
//! slow and idle HTTP and the terminal's credential in `mocks/national/tests/http.rs`;
//! hostile files, links, directories and unwritable folders in `mocks/terminal/tests/`.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// No hostile input may make a command run longer than this.
const DEADLINE: Duration = Duration::from_secs(120);
/// Nor use more memory than this (peak resident size, KiB).
const MEMORY_CEILING_KB: i64 = 1024 * 1024;

struct Ran {
    code: Option<i32>,
    text: String,
}

/// Runs `onshi args…` in `cwd`, killing it (and failing) after [`DEADLINE`].
fn bounded(cwd: &Path, args: &[&str]) -> Ran {
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(onshi())
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("onshi {args:?} did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_within_memory_ceiling(args);
    Ran {
        code: status.code(),
        text: format!(
            "{}\n{}",
            std::fs::read_to_string(out.path()).unwrap_or_default(),
            std::fs::read_to_string(err.path()).unwrap_or_default()
        ),
    }
}

/// The largest peak resident size of any child this test process has waited for so far.
fn assert_within_memory_ceiling(args: &[&str]) {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    assert!(
        usage.max_rss() < MEMORY_CEILING_KB,
        "a child used {} KiB (ceiling {MEMORY_CEILING_KB} KiB); last command onshi {args:?}",
        usage.max_rss()
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn endless_and_oversized_files_are_refused_with_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        vec!["rush", "/dev/zero", "--virtual"],
        vec!["card", "run", "/dev/zero"],
        vec!["run", "--adapter", "true", "--error-codes", "/dev/zero"],
    ] {
        let r = bounded(d, &args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.text);
        assert!(r.text.contains("is not a regular file"), "{args:?}: {}", r.text);
        assert!(r.text.contains("4,194,304 bytes"), "{args:?}: {}", r.text);
    }

    // a named pipe as a scenario file: refused before it is opened (an open would wait for a writer)
    let suite = d.join("suite");
    std::fs::create_dir_all(suite.join("file")).unwrap();
    let fifo = suite.join("file/FILE-PIPE-001.toml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let r = bounded(d, &["cases", "--suite", suite.to_str().unwrap()]);
    assert_eq!(r.code, Some(3), "{}", r.text);
    assert!(r.text.contains("is a named pipe, not a file"), "{}", r.text);

    // a 500 MB file (sparse): its size is named, and only the limit is read
    let big = d.join("OQSsiquc01req_202511210001.xml");
    std::fs::File::create(&big).unwrap().set_len(500_000_000).unwrap();
    let r = bounded(d, &["validate", big.to_str().unwrap()]);
    assert_eq!(r.code, Some(1), "{}", r.text);
    assert!(r.text.contains("the file is 500000000 bytes"), "{}", r.text);
    assert!(!r.text.contains("4194305"), "{}", r.text);

    let profile = d.join("big.toml");
    std::fs::File::create(&profile)
        .unwrap()
        .set_len(5 * 1024 * 1024)
        .unwrap();
    let r = bounded(d, &["rush", profile.to_str().unwrap(), "--virtual"]);
    assert_eq!(r.code, Some(3), "{}", r.text);
    assert!(r.text.contains("is 5,242,880 bytes (5.0 MiB)"), "{}", r.text);
}

fn case_with_steps(n: usize) -> String {
    let mut s = String::from(
        "id = \"BIG-STEPS-001\"\ntitle = \"t\"\nrequirement = \"OQS-IF-001/002\"\ncapabilities = [\"file.qualification\"]\nseverity = \"mandatory\"\nsummary = \"s\"\n",
    );
    for _ in 0..n {
        s.push_str("\n[[step]]\ndo = \"confirm_qualification\"\ncard = { persona = \"valid-kenpo-insured\" }\n[step.expect]\noutcome = \"valid\"\n");
    }
    s
}

#[test]
fn many_step_scenarios_load_up_to_the_limit_and_are_refused_beyond_it() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    let file = suite.join("file/BIG-STEPS-001.toml");
    write(&file, &case_with_steps(1000));
    let r = bounded(dir.path(), &["cases", "--suite", suite.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(r.text.contains("BIG-STEPS-001"), "{}", r.text);

    // the probe's 120,000 steps would be 12 MB: the size limit; just over the step limit: the count
    write(&file, &case_with_steps(1001));
    let r = bounded(dir.path(), &["cases", "--suite", suite.to_str().unwrap()]);
    assert_eq!(r.code, Some(3), "{}", r.text);
    assert!(
        r.text.contains("the case has 1001 steps; a case may have at most 1000"),
        "{}",
        r.text
    );

    // values out of range in a case's settings are named
    let settings = case_with_steps(1).replace(
        "summary = \"s\"\n",
        "summary = \"s\"\n[national]\nread_timeout_ms = 0\n[terminal]\nresult_delay = { fixed = { ms = 9223372036854775807 } }\n",
    );
    write(&file, &settings);
    let r = bounded(dir.path(), &["cases", "--suite", suite.to_str().unwrap()]);
    assert_eq!(r.code, Some(3), "{}", r.text);
    assert!(
        r.text.contains("read_timeout_ms = 0 is outside 100–600000 ms"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("result_delay: ms 9223372036854775807 is above"),
        "{}",
        r.text
    );
}

/// The shipped clinic morning, with `edit` applied to its text.
fn profile_from_clinic_morning(edit: impl FnOnce(&str) -> String) -> String {
    let shipped = include_str!("../../../scenarios/rush/clinic-morning.toml");
    edit(shipped)
}

/// Replaces the curve's points with `points`.
fn with_points(text: &str, points: &str) -> String {
    let start = text.find("points = [").unwrap();
    let end = start + text[start..].find("]\n").unwrap() + 2;
    format!("{}points = [{points}]\n{}", &text[..start], &text[end..])
}

#[test]
fn a_huge_profile_is_estimated_and_refused_and_threads_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // within every per-field limit: 100,000 facilities × 1,000 patients a minute × 24 h
    let huge = profile_from_clinic_morning(|t| {
        with_points(t, r#"{ at = "0m", per_minute = 1000 }"#)
            .replace("duration = \"4h\"", "duration = \"24h\"")
            .replace("[[facility]]\n", "[[facility]]\ncount = 100000\n")
    });
    let path = d.join("huge.toml");
    write(&path, &huge);
    for mode in [&["--virtual"][..], &[][..]] {
        let mut args = vec!["rush", path.to_str().unwrap(), "--report-dir", "r"];
        args.extend_from_slice(mode);
        let r = bounded(d, &args);
        assert_eq!(r.code, Some(3), "{mode:?}: {}", r.text);
        assert!(
            r.text.contains("about 144,000,000,000 patients"),
            "{mode:?}: {}",
            r.text
        );
        assert!(r.text.contains("not started"), "{mode:?}: {}", r.text);
        assert!(r.text.contains("--force"), "{mode:?}: {}", r.text);
        assert!(!d.join("r/rush.json").exists());
    }

    let r = bounded(
        d,
        &[
            "rush",
            "clinic-morning",
            "--virtual",
            "--threads",
            "1024",
            "--report-dir",
            "r",
        ],
    );
    assert!(r.code == Some(0) || r.code == Some(1), "{}", r.text);
    assert!(r.text.contains("--threads 1024 capped at"), "{}", r.text);
    assert!(d.join("r/rush.json").exists());
    let r = bounded(d, &["rush", "clinic-morning", "--virtual", "--threads", "100000"]);
    assert_eq!(r.code, Some(3), "{}", r.text);
    // deadlines the user sets are bounded too: no run waits for ever
    for args in [
        &["run", "--adapter", "true", "--call-timeout", "100000"][..],
        &["rush", "clinic-morning", "--drain", "100000"][..],
    ] {
        let r = bounded(d, args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.text);
        assert!(r.text.contains("100000 is not in"), "{args:?}: {}", r.text);
    }
}

#[test]
fn a_profile_full_of_errors_reports_the_first_twenty_and_how_many_more() {
    let dir = tempfile::tempdir().unwrap();
    let points: Vec<String> = (0..5000)
        .map(|i| format!("{{ at = \"{i}m\", per_minute = -1.0 }}"))
        .collect();
    let bad = profile_from_clinic_morning(|t| with_points(t, &points.join(", ")));
    let path = dir.path().join("bad.toml");
    write(&path, &bad);
    let r = bounded(dir.path(), &["rush", path.to_str().unwrap(), "--virtual"]);
    assert_eq!(r.code, Some(3), "{}", r.text);
    assert_eq!(r.text.matches("is not a rate").count(), 20, "{}", r.text);
    assert!(r.text.contains("… and 4980 more problem(s)"), "{}", r.text);

    let many: Vec<String> = (0..10_001)
        .map(|i| format!("{{ at = \"{i}s\", per_minute = 1.0 }}"))
        .collect();
    write(
        &path,
        &profile_from_clinic_morning(|t| with_points(t, &many.join(", "))),
    );
    let r = bounded(dir.path(), &["rush", path.to_str().unwrap(), "--virtual"]);
    assert_eq!(r.code, Some(3), "{}", r.text);
    assert!(
        r.text.contains("has 10001 points; a curve may have at most 10000"),
        "{}",
        r.text
    );
}

/// Runs FILE-QUAL-001 against the adapter script `script`; returns the report's case and the
/// report folder.
fn run_adapter(dir: &Path, script: &str, extra: &[&str]) -> (serde_json::Value, std::path::PathBuf, Ran) {
    let adapter = dir.join("adapter.sh");
    write(&adapter, script);
    let report = dir.join("report");
    let command = format!("sh {}", adapter.display());
    let mut args = vec![
        "run",
        "--adapter",
        command.as_str(),
        "--case",
        "FILE-QUAL-001",
        "--report-dir",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let r = bounded(dir, &args);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap()).unwrap();
    (json["cases"][0].clone(), report, r)
}

#[test]
fn a_chatty_adapter_leaves_a_capped_stderr_log_with_its_last_lines() {
    let dir = tempfile::tempdir().unwrap();
    // 12 MB of stderr, a last line, then it exits without speaking the protocol
    let (case, report, r) = run_adapter(
        dir.path(),
        "yes 'debug: polling res/ again and again and again' | head -c 12000000 >&2\necho 'LAST: giving up' >&2\nexit 1\n",
        &[],
    );
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert_eq!(case["reason_check"], "DRV-EXIT", "{case}");
    let log = std::fs::read(report.join("adapter-stderr.log")).unwrap();
    assert!(log.len() <= 8 * 1024 * 1024 + 1024, "{} bytes", log.len());
    let text = String::from_utf8_lossy(&log);
    assert!(text.starts_with("debug: polling"), "the head is kept");
    assert!(text.contains("bytes of stderr left out here"), "the cut is marked");
    assert!(text.ends_with("LAST: giving up\n"), "the last lines are kept");
}

#[test]
fn adapter_failures_in_initialize_are_named_by_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let (case, _, r) = run_adapter(dir.path(), "exec sleep 30\n", &["--call-timeout", "1"]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert_eq!(case["reason_check"], "DRV-HANG", "{case}");

    let dir = tempfile::tempdir().unwrap();
    let (case, _, r) = run_adapter(
        dir.path(),
        "head -c 17000000 /dev/zero | tr '\\0' x\nexec sleep 30\n",
        &["--call-timeout", "20"],
    );
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert_eq!(case["reason_check"], "DRV-LINE", "{case}");
    assert!(
        case["reason"].as_str().unwrap().contains("longer than 16777216 bytes"),
        "{case}"
    );
}
