//! `onshi card …` as a user runs it: list, run an APDU script, and serve a card into a private
//! pcscd where a stock PC/SC tool (pcsc_scan) sees it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn onshi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_onshi"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

#[test]
fn list_names_every_card_and_its_holder() {
    let out = onshi().args(["card", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for (card, persona) in [
        ("locked-auth-pin", "kokuho-6digit"),
        ("face-auth-only", "face-consenting"),
        ("juki-card", "processing-error"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(card))
            .unwrap_or_else(|| panic!("{card} missing:\n{text}"));
        assert!(line.contains(persona), "{line}");
    }
    assert!(text.contains("0/3 tries"), "the locked card shows its counter:\n{text}");
}

#[test]
fn run_prints_the_exchange_and_checks_expected_status_words() {
    let out = onshi()
        .args(["card", "run", "fixtures/cards/scripts/user-authentication.apdu"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("> 00 20 00 80 04 31 32 33 34\n< 90 00"), "{text}");
    assert!(text.contains("63C3 — PIN not verified, 3 tries left"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.apdu");
    std::fs::write(&wrong, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01 => 6A82\n").unwrap();
    let out = onshi().args(["card", "run"]).arg(&wrong).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("line 1: expected 6A82, got 9000"));
    std::fs::write(&wrong, "# fine\n00 A4 0\n").unwrap();
    let out = onshi().args(["card", "run"]).arg(&wrong).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onshi()
        .args(["card", "run", "--card", "no-such-card"])
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("valid-kenpo-insured"),
        "lists the shipped ids"
    );
}

#[test]
fn serve_without_vpcd_says_what_to_do() {
    let out = onshi()
        .args(["card", "serve", "--vpcd", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach vpcd at 127.0.0.1:1") && err.contains("--private-pcscd"),
        "{err}"
    );
}

#[test]
fn serve_puts_the_card_where_pcsc_scan_sees_it() {
    if let Some(why) = onshi_card::pcscd::Pcscd::unavailable() {
        assert!(std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let mut serve = onshi()
        .args(["card", "serve", "--private-pcscd", "--card", "valid-kenpo-family"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let socket = loop {
        let line = lines.next().expect("serve prints its instructions").unwrap();
        if let Some(s) = line.trim().strip_prefix("export PCSCLITE_CSOCK_NAME=") {
            break s.to_string();
        }
    };
    let started = Instant::now();
    let scan = loop {
        let out = Command::new("pcsc_scan")
            .args(["-n", "-t", "2"])
            .env("PCSCLITE_CSOCK_NAME", &socket)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if text.contains("3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F") || started.elapsed() > Duration::from_secs(20) {
            break text;
        }
    };
    assert!(scan.contains("Virtual PCD 00 00"), "{scan}");
    assert!(
        scan.contains("3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F"),
        "the contactless ATR of valid-kenpo-family:\n{scan}"
    );
    Command::new("kill")
        .args(["-INT", &serve.id().to_string()])
        .status()
        .unwrap();
    let status = serve.wait().unwrap();
    assert!(status.success(), "{status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("\"event\":\"removed\"")), "{rest:?}");
    assert!(
        !std::path::Path::new(&socket).exists(),
        "the private pcscd stopped and cleaned up"
    );
}

#[test]
fn without_pcscd_the_card_cases_are_not_applicable_and_one_line_says_how_to_enable_them() {
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_onshi");
    let out = onshi()
        .args([
            "run",
            "--adapter",
            &format!("{exe} reference-client"),
            "--case",
            "CARD-PIN-001",
            "--case",
            "FILE-QUAL-001",
        ])
        .arg("--report-dir")
        .arg(dir.path())
        .env("ONSHI_PCSCD", "/nonexistent/pcscd")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("2 cases: 1 passed, 0 failed (0 mandatory), 1 not applicable"),
        "{text}"
    );
    let notice: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("PC/SC card case(s) not applicable"))
        .collect();
    assert_eq!(notice.len(), 1, "{text}");
    assert!(
        notice[0].contains("apt-get install pcscd vsmartcard-vpcd"),
        "{}",
        notice[0]
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    let card = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CARD-PIN-001")
        .unwrap();
    assert_eq!(card["verdict"], "not_applicable");
    assert!(
        card["reason"].as_str().unwrap().contains("pcscd is not installed"),
        "{card}"
    );
}
