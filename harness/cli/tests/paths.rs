//! Paths as users give them: relative to wherever they stand, through symbolic links, not
//! UTF-8, one folder inside the other, a working directory deleted mid-run. Every one either
//! works — with absolute paths in everything the adapter and the user are handed — or is
//! refused with a clear message and exit code 3.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

/// `onshi args…` to start in `cwd` (more arguments may follow).
fn onshi_cmd(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(onshi());
    c.current_dir(cwd).args(args);
    c
}

/// `onshi args…` run in `cwd`.
fn onshi_in(cwd: &Path, args: &[&str]) -> Output {
    onshi_cmd(cwd, args).output().expect("onshi runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report.json")).unwrap()
}

/// The terminal folders the adapter was told about in `initialize`.
fn announced_folders(report_dir: &Path) -> serde_json::Value {
    let journal = std::fs::read_to_string(report_dir.join("journal.jsonl")).unwrap();
    journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find_map(|e| {
            let t = &e["params"]["environment"]["terminal"];
            (e["method"] == "initialize" && !t.is_null()).then(|| t.clone())
        })
        .expect("an initialize call with the terminal's folders")
}

const CASE: &str = "FILE-QUAL-001";

#[test]
fn relative_report_and_terminal_folders_work_and_are_announced_absolute() {
    let cwd = tempfile::tempdir().unwrap();
    // the adapter starts in another directory, as a vendor's wrapper script might
    let adapter = format!("cd / && {}", reference_adapter(None));
    let out = onshi_in(
        cwd.path(),
        &[
            "run",
            "--adapter",
            &adapter,
            "--case",
            CASE,
            "--case",
            "FILE-QUAL-003",
            "--report-dir",
            "r",
            "--terminal-dir",
            "./t/../shared",
            "--junit",
            "j.xml",
            "--json",
            "./r.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = cwd.path().join("r");
    assert_eq!(report(&r)["summary"]["pass"], 2);
    assert!(cwd.path().join("j.xml").is_file() && cwd.path().join("r.json").is_file());
    let folders = announced_folders(&r);
    for key in ["root", "req", "res", "face"] {
        let p = folders[key].as_str().unwrap();
        assert!(Path::new(p).is_absolute(), "{key}: {p}");
        assert!(Path::new(p).exists(), "{key}: {p}");
    }
    // the report names the folders it used, absolute
    assert!(
        text(&out).contains(&format!("{}/report.json", r.display())),
        "{}",
        text(&out)
    );
}

#[test]
fn symbolic_links_in_report_and_suite_paths_are_followed() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("real")).unwrap();
    std::os::unix::fs::symlink(cwd.path().join("real"), cwd.path().join("link")).unwrap();
    // a one-case suite reached through a link, with a relative error-code file
    let suite = cwd.path().join("real/suite/file");
    std::fs::create_dir_all(&suite).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::copy(
        repo.join("scenarios/file/FILE-QUAL-001.toml"),
        suite.join("FILE-QUAL-001.toml"),
    )
    .unwrap();
    std::fs::copy(
        repo.join("fixtures/synthetic-error-codes.toml"),
        cwd.path().join("codes.toml"),
    )
    .unwrap();
    let out = onshi_in(
        cwd.path(),
        &[
            "run",
            "--adapter",
            &reference_adapter(None),
            "--suite",
            "link/suite",
            "--report-dir",
            "link/out",
            "--error-codes",
            "codes.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(report(&cwd.path().join("real/out"))["summary"]["pass"], 1);
}

#[test]
fn a_report_folder_inside_the_terminal_folder_is_refused() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cwd.path().join("t")).unwrap();
    std::os::unix::fs::symlink(cwd.path().join("t"), cwd.path().join("alias")).unwrap();
    for (report, terminal) in [
        ("t/req/out", "t"),
        ("t", "t"),
        ("alias/x", "t"),
        ("r", "r/journal.jsonl"),
    ] {
        let out = onshi_in(
            cwd.path(),
            &[
                "run",
                "--adapter",
                "true",
                "--report-dir",
                report,
                "--terminal-dir",
                terminal,
            ],
        );
        assert_eq!(out.status.code(), Some(3), "{report} {terminal}: {}", text(&out));
        assert!(text(&out).contains("--terminal-dir"), "{}", text(&out));
        // refused before anything was written
        assert!(!cwd.path().join(report).join("journal.jsonl").exists());
    }
}

#[test]
fn a_folder_name_that_is_not_utf8_works_for_reports_and_is_refused_for_the_terminal() {
    use std::os::unix::ffi::OsStrExt;
    let cwd = tempfile::tempdir().unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"r\xe9sultats");
    // the default terminal folder inside it cannot be announced as JSON text
    let out = onshi_cmd(cwd.path(), &["run", "--adapter", "true", "--report-dir"])
        .arg(bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("not valid UTF-8"), "{}", text(&out));
    // with the terminal folder elsewhere the reports go there
    let adapter = reference_adapter(None);
    let args = [
        "run",
        "--adapter",
        &adapter,
        "--case",
        CASE,
        "--terminal-dir",
        "t",
        "--report-dir",
    ];
    let out = onshi_cmd(cwd.path(), &args).arg(bad).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(cwd.path().join(bad).join("report.json").is_file());
}

#[test]
fn other_commands_take_relative_paths_too() {
    let cwd = tempfile::tempdir().unwrap();
    let out = onshi_in(
        cwd.path(),
        &["rush", "clinic-morning", "--virtual", "--report-dir", "rr"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(cwd.path().join("rr/rush.json").is_file());
    assert!(cwd.path().join("rr/rush.html").is_file());

    let out = onshi_in(cwd.path(), &["pki", "init", "--out", "pki"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(cwd.path().join("pki/ca.pem").is_file());
    // what it prints to use next is an absolute path
    assert!(
        text(&out).contains(&format!("--pki {}", cwd.path().join("pki").display())),
        "{}",
        text(&out)
    );

    std::fs::write(cwd.path().join("s.apdu"), "00A4040C0AD392F000260100000001 => 9000\n").unwrap();
    let out = onshi_in(cwd.path(), &["card", "run", "s.apdu"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_working_directory_deleted_during_a_run_does_not_matter_when_the_reports_go_elsewhere() {
    let cwd = tempfile::tempdir().unwrap();
    let reports = tempfile::tempdir().unwrap();
    let adapter = reference_adapter(None);
    let child = onshi_cmd(
        cwd.path(),
        &[
            "run",
            "--adapter",
            &adapter,
            "--case",
            CASE,
            "--case",
            "FILE-QUAL-003",
            "--report-dir",
        ],
    )
    .arg(reports.path())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let gone = cwd.path().to_owned();
    drop(cwd);
    assert!(!gone.exists());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(report(reports.path())["summary"]["pass"], 2);
}

#[test]
fn a_working_directory_deleted_with_the_reports_in_it_ends_the_run_clearly() {
    let cwd = tempfile::tempdir().unwrap();
    let adapter = reference_adapter(None);
    let mut child = onshi_cmd(cwd.path(), &["run", "--adapter", &adapter, "--report-dir", "r"])
        .args(["--case", CASE, "--case", "FILE-QUAL-003", "--case", "FILE-QUAL-005"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // wait until the first case is under way, then remove everything
    let since = Instant::now();
    while !cwd.path().join("r/terminal/req").exists() && since.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(cwd);
    let since = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "the run hangs without its folders"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("No such file or directory") || text(&out).contains("cannot"),
        "{}",
        text(&out)
    );
}
