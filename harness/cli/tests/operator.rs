//! Operator mode end to end: `onshi run --operator` with the test as the person (answering
//! the web console over HTTP) and the reference client's folder code as "their software"
//! (writing the request, reading the result). One case is answered as the software showed it
//! and passes; one is answered wrongly and fails with the outcome check — the same verdicts
//! an adapter run gives.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use onshi_harness::journal::{DriverEvent, Entry, Event};
use onshi_protocol::driver::{ConfirmQualificationParams, InitializeParams};
use onshi_reference_client::{FolderClient, Options};
use serde_json::Value;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// One HTTP/1.1 request on a fresh connection.
fn http(host: &str, method: &str, path: &str, cookie: Option<&str>, form: Option<&str>) -> Reply {
    // the console starts with the run's first call, a moment after the URL is printed
    let start = Instant::now();
    let mut s = loop {
        match TcpStream::connect(host) {
            Ok(s) => break s,
            Err(e) if start.elapsed() > Duration::from_secs(30) => panic!("the console does not listen: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    let body = form.unwrap_or("");
    if form.is_some() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap_or("")
        .split(' ')
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn step_of(page: &str) -> u64 {
    let at = page.find(r#"name="step" value=""#).expect("a form with a step") + 19;
    page[at..].split('"').next().unwrap().parse().unwrap()
}

/// Waits until the page shows what `ready` looks for.
fn page_when(host: &str, cookie: &str, ready: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let r = http(host, "GET", "/", Some(cookie), None);
        assert_eq!(r.status, 200, "{}", r.body);
        if ready(&r.body) {
            return r.body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the page never got there:\n{}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The params of the last driver call `method` in the live journal.
fn last_call(live: &Path, method: &str) -> Value {
    let text = std::fs::read_to_string(live).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
        .filter_map(|e| match e.event {
            Event::Driver(DriverEvent::Call { method: m, params, .. }) if m == method => Some(params),
            _ => None,
        })
        .next_back()
        .unwrap_or_else(|| panic!("no {method} call journaled"))
}

/// The person's form for what the software showed: its outcome and message, and "same as
/// the terminal" ticked for every value it stored.
fn as_shown(step: u64, outcome: &str, message: &str, record: Option<&Value>) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("step", &step.to_string())
        .append_pair("outcome", outcome)
        .append_pair("message", message);
    if let Some(Value::Object(r)) = record {
        for (k, v) in r {
            if v.is_string() {
                f.append_pair(&format!("same_{k}"), "on");
            }
        }
    }
    f.finish()
}

#[test]
fn a_person_answers_the_suite_through_the_console_and_gets_the_adapter_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("report");
    let mut run = Command::new(common::onshi())
        .args([
            "run",
            "--operator",
            "--case",
            "FILE-QUAL-001",
            "--case",
            "FILE-QUAL-002",
        ])
        .args(["--operator-time", "120", "--report-dir"])
        .arg(&report_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(run.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the run ended before printing its URL"
        );
        if let Some(at) = line.find("http://") {
            break line[at..].trim().to_owned();
        }
    };
    // keep reading stderr so the run never blocks on it
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let (host, token) = {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, query) = rest.split_once('/').unwrap();
        (host.to_owned(), query.strip_prefix("?token=").unwrap().to_owned())
    };
    assert!(host.starts_with("127.0.0.1:"), "loopback by default: {host}");

    // a wrong or missing token is refused and changes nothing
    assert_eq!(http(&host, "GET", "/", None, None).status, 403);
    assert_eq!(http(&host, "GET", "/?token=0123", None, None).status, 403);
    let forged = http(
        &host,
        "POST",
        "/answer",
        Some("onshi_console=0123"),
        Some("step=1&name=X&cap=file.qualification"),
    );
    assert_eq!(forged.status, 403);
    // the printed URL moves the token into a cookie
    let first = http(&host, "GET", &format!("/?token={token}"), None, None);
    assert_eq!(first.status, 303);
    let set = first
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .expect("a cookie")
        .1
        .clone();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();

    // who the software is: asked once, the forged answer above was not taken
    let page = page_when(&host, &cookie, |p| p.contains(r#"name="cap""#));
    let csp = http(&host, "GET", "/", Some(&cookie), None);
    let policy = &csp
        .headers
        .iter()
        .find(|(k, _)| k == "content-security-policy")
        .unwrap()
        .1;
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    let id = step_of(&page);
    let bad = http(
        &host,
        "POST",
        "/answer",
        Some(&cookie),
        Some(&format!("step={id}&name=Receipt")),
    );
    assert_eq!(bad.status, 400, "no capability ticked is refused with the reason");
    assert!(bad.body.contains("機能を一つ以上選んでください"), "{}", bad.body);
    let ok = http(
        &host,
        "POST",
        "/answer",
        Some(&cookie),
        Some(&format!("step={id}&name=Receipt&version=4.2&cap=file.qualification")),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);

    let live = report_dir.join("operator/live.jsonl");
    let init: InitializeParams = serde_json::from_value(last_call(&live, "initialize")).unwrap();
    let folders = init.environment.terminal.expect("the terminal folders");
    let mut software = FolderClient::new(&folders, &init.environment.institution_code, Options::default());

    // case 1: the page says what the patient did, in the clinic's words
    let page = page_when(&host, &cookie, |p| p.contains("保険証を提示しました"));
    assert!(page.contains("保険者番号 06990012"), "{page}");
    let step = step_of(&page);
    assert_eq!(
        step_of(&page_when(&host, &cookie, |_| true)),
        step,
        "a reload shows the same step"
    );
    let params: ConfirmQualificationParams = serde_json::from_value(last_call(&live, "confirm_qualification")).unwrap();
    let shown = serde_json::to_value(software.confirm(&params)).unwrap();
    let page = page_when(&host, &cookie, |p| p.contains("端末の回答"));
    assert!(page.contains("有効"), "the terminal's answer is shown beside the form");
    let answer = as_shown(
        step,
        shown["outcome"].as_str().unwrap(),
        shown["message"].as_str().unwrap_or(""),
        shown.get("record"),
    );
    assert_eq!(http(&host, "POST", "/answer", Some(&cookie), Some(&answer)).status, 303);
    // a second browser answering the same step is told it is over
    let again = http(&host, "POST", "/answer", Some(&cookie), Some(&answer));
    assert_eq!(again.status, 409);
    assert!(again.body.contains("終了しています"), "{}", again.body);

    // case 2: the software shows 無効, the person reports 有効
    let page = page_when(&host, &cookie, |p| {
        p.contains("保険証を提示しました") && step_of(p) != step
    });
    let step = step_of(&page);
    let params: ConfirmQualificationParams = serde_json::from_value(last_call(&live, "confirm_qualification")).unwrap();
    let shown = serde_json::to_value(software.confirm(&params)).unwrap();
    assert_eq!(shown["outcome"], "invalid");
    page_when(&host, &cookie, |p| p.contains("端末の回答"));
    let answer = as_shown(step, "valid", "有効", shown.get("record"));
    assert_eq!(http(&host, "POST", "/answer", Some(&cookie), Some(&answer)).status, 303);

    let status = run.wait().unwrap();
    let log = rest.join().unwrap();
    let report: Value = serde_json::from_slice(&std::fs::read(report_dir.join("report.json")).unwrap())
        .unwrap_or_else(|e| panic!("{e}\n{log}"));
    let case = |id: &str| {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(case("FILE-QUAL-001")["verdict"], "pass", "{:#}", case("FILE-QUAL-001"));
    let wrong = case("FILE-QUAL-002");
    assert_eq!(wrong["verdict"], "fail");
    let failed: Vec<&str> = wrong["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"OUT-INVALID"), "{failed:?}");
    assert_eq!(report["run"]["client"]["name"], "Receipt");
    assert!(!status.success(), "a failed case fails the run");
    // the token is in no report
    for f in ["report.json", "journal.jsonl", "junit.xml"] {
        let text = std::fs::read_to_string(report_dir.join(f)).unwrap();
        assert!(!text.contains(&token), "{f} carries the token");
    }
}

#[test]
fn a_lan_address_needs_the_flag() {
    let out = Command::new(common::onshi())
        .args(["run", "--operator", "--listen", "0.0.0.0:0", "--case", "FILE-QUAL-001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--lan"), "{err}");
}
