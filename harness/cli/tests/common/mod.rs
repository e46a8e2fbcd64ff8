//! Helpers for running the `onshi` binary in tests.

#![allow(dead_code)]

pub mod console;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn onshi() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_onshi"))
}

/// The reference client as an adapter command, optionally with a defect.
pub fn reference_adapter(defect: Option<&str>) -> String {
    let base = format!("'{}' reference-client", onshi().display());
    match defect {
        Some(d) => format!("{base} --defect {d}"),
        None => base,
    }
}

/// `onshi ARGS`, in English whatever the developer's locale (tests of the Japanese set
/// LANG themselves).
pub fn run_onshi(args: &[&str]) -> Output {
    Command::new(onshi())
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .expect("onshi runs")
}

/// `onshi ARGS`: its exit code and everything it printed (stdout, then stderr).
pub fn said(args: &[&str]) -> (i32, String) {
    let out = run_onshi(args);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `onshi run` with `adapter`; returns the exit code and the parsed report.json.
pub fn run_suite(adapter: &str, report_dir: &Path, extra: &[&str]) -> (i32, Option<Value>, String) {
    let mut args = vec![
        "run",
        "--adapter",
        adapter,
        "--report-dir",
        report_dir.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let out = run_onshi(&args);
    let report = std::fs::read_to_string(report_dir.join("report.json"))
        .ok()
        .map(|t| serde_json::from_str(&t).expect("report.json is JSON"));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), report, text)
}

/// (case id, verdict, failed check ids) of every case.
pub fn verdicts(report: &Value) -> Vec<(String, String, Vec<String>)> {
    report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let mut failed: Vec<String> = c["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .filter(|x| x["status"] == "fail")
                .map(|x| x["id"].as_str().expect("id").to_owned())
                .collect();
            failed.sort();
            failed.dedup();
            (
                c["id"].as_str().expect("id").to_owned(),
                c["verdict"].as_str().expect("verdict").to_owned(),
                failed,
            )
        })
        .collect()
}

/// Whether the PC/SC card cases (`CARD-*`) can run here: the binary was built with the `pcsc`
/// feature and pcscd with vpcd is installed. `scripts/test` sets ONSHI_REQUIRE_SYSTEM_TOOLS,
/// and then they must.
pub fn card_cases_run() -> bool {
    let why = if !cfg!(feature = "pcsc") {
        Some("onshi-cli was built without the pcsc feature".to_owned())
    } else {
        onshi_card::pcscd::Pcscd::unavailable()
    };
    match why {
        None => true,
        Some(why) => {
            assert!(
                std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(),
                "ONSHI_REQUIRE_SYSTEM_TOOLS is set but the card cases cannot run: {why} (test with --all-features)"
            );
            eprintln!("card cases are not applicable here: {why}");
            false
        }
    }
}

/// The verdict a passing client gets for case `id` on this machine.
pub fn passing_verdict(id: &str) -> &'static str {
    if id.starts_with("CARD-") && !card_cases_run() {
        "not_applicable"
    } else {
        "pass"
    }
}

/// Debian's headless chromium, if installed (`scripts/test` installs it and sets
/// ONSHI_REQUIRE_SYSTEM_TOOLS; then it must be there).
pub fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(),
            "ONSHI_REQUIRE_SYSTEM_TOOLS is set but chromium is not installed"
        );
        eprintln!("chromium is not installed: the HTML reports are not checked in a browser here");
    }
    found
}

/// Opens `page` in headless chromium: the DOM after rendering, and the console messages
/// (errors, blocked loads) the page caused.
pub fn render_in_browser(browser: &Path, page: &Path) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().expect("temp dir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!(
            "file://{}",
            page.canonicalize().expect("page exists").display()
        ))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}
