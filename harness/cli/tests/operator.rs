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
use onshi_protocol::driver::{ConfirmQualificationParams, Consents, ImportFaceParams, InitializeParams, PatientRecord};
use onshi_reference_client::{FolderClient, Options};
use serde_json::Value;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// One HTTP/1.1 request on a fresh connection, with an urlencoded form.
fn http(host: &str, method: &str, path: &str, cookie: Option<&str>, form: Option<&str>) -> Reply {
    let body = form.map(|f| ("application/x-www-form-urlencoded".to_owned(), f.as_bytes().to_vec()));
    send(host, method, path, cookie, body)
}

/// A `multipart/form-data` body: the text fields, then a file in `file_field`.
fn multipart(fields: &[(String, String)], file_field: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----onshi-test-boundary-7d3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"..\\\\..\\\\screen.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// One HTTP/1.1 request on a fresh connection; `body` is its content type and bytes.
fn send(host: &str, method: &str, path: &str, cookie: Option<&str>, body: Option<(String, Vec<u8>)>) -> Reply {
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
    if let Some((content_type, bytes)) = &body {
        req.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    req.push_str("\r\n");
    let mut raw_req = req.into_bytes();
    if let Some((_, bytes)) = body {
        raw_req.extend_from_slice(&bytes);
    }
    s.write_all(&raw_req).unwrap();
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
fn as_shown(step: u64, outcome: &str, shown: &Value) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("step", &step.to_string())
        .append_pair("outcome", outcome)
        .append_pair("message", shown["message"].as_str().unwrap_or(""));
    for key in stored_keys(shown) {
        f.append_pair(&format!("same_{key}"), "on");
    }
    f.finish()
}

/// The form fields of every value the software stored (record, consents, 照会番号).
fn stored_keys(shown: &Value) -> Vec<&'static str> {
    let record: Option<PatientRecord> = serde_json::from_value(shown["record"].clone()).ok();
    let consents: Option<Consents> = serde_json::from_value(shown["consents"].clone()).ok();
    let reference = shown["reference_number"].as_str();
    onshi_operator::fields::flatten(record.as_ref(), consents.as_ref(), reference)
        .into_keys()
        .collect()
}

/// A running `onshi run --operator`: its process, the printed URL's host and token, the
/// report folder, and the rest of its stderr once it ends.
struct OperatorRun {
    process: std::process::Child,
    host: String,
    token: String,
    report_dir: std::path::PathBuf,
    stderr: std::thread::JoinHandle<String>,
    _dir: tempfile::TempDir,
}

fn start_run(cases: &[&str]) -> OperatorRun {
    start_run_with(cases, &["--operator-time", "120"])
}

fn start_run_with(cases: &[&str], extra: &[&str]) -> OperatorRun {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("report");
    let mut process = Command::new(common::onshi())
        .args(["run", "--operator", "--report-dir"])
        .arg(&report_dir)
        .args(extra)
        .args(cases.iter().flat_map(|c| ["--case", c]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(process.stderr.take().unwrap());
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
    OperatorRun {
        process,
        host,
        token,
        report_dir,
        stderr: rest,
        _dir: dir,
    }
}

impl OperatorRun {
    /// Waits for the end: the exit status and report.json.
    fn finish(&mut self) -> (std::process::ExitStatus, Value) {
        let status = self.process.wait().unwrap();
        let report = std::fs::read(self.report_dir.join("report.json"));
        let report: Value = match report.ok().and_then(|r| serde_json::from_slice(&r).ok()) {
            Some(r) => r,
            None => {
                let stderr = std::mem::replace(&mut self.stderr, std::thread::spawn(String::new));
                panic!("no report.json; the run said:\n{}", stderr.join().unwrap());
            }
        };
        (status, report)
    }

    /// "Their software": the reference client's folder code on the run's terminal folder.
    fn software(&self) -> FolderClient {
        let init: InitializeParams = serde_json::from_value(last_call(&self.live(), "initialize")).unwrap();
        let folders = init.environment.terminal.expect("the terminal folders");
        FolderClient::new(&folders, &init.environment.institution_code, Options::default())
    }

    fn live(&self) -> std::path::PathBuf {
        self.report_dir.join("operator/live.jsonl")
    }
}

fn verdict_and_failures(report: &Value, id: &str) -> (String, Vec<String>) {
    let case = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    let failed = case["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    (case["verdict"].as_str().unwrap().to_owned(), failed)
}

#[test]
fn a_person_answers_the_suite_through_the_console_and_gets_the_adapter_verdicts() {
    let mut run = start_run(&["FILE-QUAL-001", "FILE-QUAL-002", "FILE-FACE-001"]);
    let (host, token) = (run.host.clone(), run.token.clone());
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
        Some(&format!(
            "step={id}&name=Receipt&version=4.2&cap=file.qualification&cap=file.face"
        )),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);

    let live = run.live();
    let mut software = run.software();

    // the cases run in order: FILE-FACE-001 first — the face-auth reader, whose consents and
    // 照会番号 are compared too
    let page = page_when(&host, &cookie, |p| {
        p.contains("顔認証付きカードリーダーで受付を完了しました")
    });
    let step = step_of(&page);
    let params: ImportFaceParams = serde_json::from_value(last_call(&live, "import_face")).unwrap();
    let shown = serde_json::to_value(software.import_face(&params)).unwrap();
    let page = page_when(&host, &cookie, |p| p.contains(r#"id="terminal-answer""#));
    assert!(
        page.contains("薬剤情報の閲覧同意"),
        "the consents are shown for comparison"
    );
    let answer = as_shown(step, shown["outcome"].as_str().unwrap(), &shown);
    assert_eq!(http(&host, "POST", "/answer", Some(&cookie), Some(&answer)).status, 303);

    // case 1: the page says what the patient did, in the clinic's words
    let face_step = step;
    let page = page_when(&host, &cookie, |p| {
        p.contains("保険証を提示しました") && step_of(p) != face_step
    });
    assert!(page.contains("保険者番号 06990012"), "{page}");
    let step = step_of(&page);
    assert_eq!(
        step_of(&page_when(&host, &cookie, |_| true)),
        step,
        "a reload shows the same step"
    );
    let params: ConfirmQualificationParams = serde_json::from_value(last_call(&live, "confirm_qualification")).unwrap();
    let shown = serde_json::to_value(software.confirm(&params)).unwrap();
    let page = page_when(&host, &cookie, |p| p.contains(r#"id="terminal-answer""#));
    assert!(page.contains("有効"), "the terminal's answer is shown beside the form");
    let answer = as_shown(step, shown["outcome"].as_str().unwrap(), &shown);
    let fields: Vec<(String, String)> = form_urlencoded::parse(answer.as_bytes()).into_owned().collect();
    // a screenshot must be an image: anything else is refused and the step stays open
    let exe = multipart(&fields, "screenshot", b"MZ\x90\0 not a picture");
    let refused = send(&host, "POST", "/answer", Some(&cookie), Some(exe));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("画像ファイルを添付してください"),
        "{}",
        refused.body
    );
    assert_eq!(
        step_of(&page_when(&host, &cookie, |_| true)),
        step,
        "the step is still open"
    );
    // the answer with a screenshot: kept as evidence, named by the harness
    let png = [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        b"synthetic screen",
    ]
    .concat();
    let with_shot = multipart(&fields, "screenshot", &png);
    assert_eq!(
        send(&host, "POST", "/answer", Some(&cookie), Some(with_shot)).status,
        303
    );
    let after = page_when(&host, &cookie, |p| p.contains(r#"id="evidence""#));
    assert!(after.contains("FILE-QUAL-001-step"), "{after}");
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
    page_when(&host, &cookie, |p| p.contains(r#"id="terminal-answer""#));
    let answer = as_shown(step, "valid", &shown);
    assert_eq!(http(&host, "POST", "/answer", Some(&cookie), Some(&answer)).status, 303);

    let (status, report) = run.finish();
    let report_dir = run.report_dir.clone();
    assert_eq!(verdict_and_failures(&report, "FILE-QUAL-001").0, "pass");
    let (verdict, failed) = verdict_and_failures(&report, "FILE-QUAL-002");
    assert_eq!(verdict, "fail");
    assert!(failed.contains(&"OUT-INVALID".to_owned()), "{failed:?}");
    assert_eq!(
        verdict_and_failures(&report, "FILE-FACE-001"),
        ("pass".to_owned(), vec![]),
        "{report:#}"
    );
    assert_eq!(report["run"]["client"]["name"], "Receipt");
    assert!(!status.success(), "a failed case fails the run");
    // the screenshot is indexed with the case and its hash, and the journal ties it to the answer
    let evidence = report_dir.join("operator/evidence");
    let index = std::fs::read_to_string(evidence.join("index.jsonl")).unwrap();
    let kept: Value = serde_json::from_str(index.lines().next().unwrap()).unwrap();
    assert_eq!(kept["case"], "FILE-QUAL-001");
    let file = kept["file"].as_str().unwrap();
    assert!(file.ends_with(".png") && !file.contains(".."), "{file}");
    assert_eq!(std::fs::read(evidence.join(file)).unwrap(), png);
    assert_eq!(index.lines().count(), 1, "the refused file was not kept");
    let journal = std::fs::read_to_string(report_dir.join("journal.jsonl")).unwrap();
    assert!(
        journal.contains(&format!("operator/evidence/{file}")) && journal.contains(kept["sha256"].as_str().unwrap()),
        "the answer in the journal names the screenshot and its hash"
    );
    // the token is in no report
    for f in ["report.json", "journal.jsonl", "junit.xml"] {
        let text = std::fs::read_to_string(report_dir.join(f)).unwrap();
        assert!(!text.contains(&token), "{f} carries the token");
    }
}

/// A person who walks away: the step times out as a hung adapter's call does, the case is an
/// error, and the next case starts on a fresh console that remembers the software.
#[test]
fn a_step_nobody_answers_times_out_and_the_run_goes_on() {
    let mut run = start_run_with(
        &["FILE-QUAL-001", "FILE-QUAL-002"],
        &["--operator-time", "10", "--call-timeout", "10"],
    );
    let host = run.host.clone();
    let first = http(&host, "GET", &format!("/?token={}", run.token), None, None);
    let cookie = first
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .unwrap()
        .1
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = page_when(&host, &cookie, |p| p.contains(r#"name="cap""#));
    let id = step_of(&page);
    let ok = http(
        &host,
        "POST",
        "/answer",
        Some(&cookie),
        Some(&format!("step={id}&name=Receipt&cap=file.qualification")),
    );
    assert_eq!(ok.status, 303);
    let page = page_when(&host, &cookie, |p| p.contains("保険証を提示しました"));
    let abandoned = step_of(&page);
    // nobody answers; the harness gives up and starts the console again for the next case
    let start = Instant::now();
    let page = loop {
        if let Ok(mut s) = TcpStream::connect(&host) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n");
            let mut raw = String::new();
            if s.write_all(req.as_bytes()).is_ok()
                && s.read_to_string(&mut raw).is_ok()
                && raw.contains("保険証を提示しました")
            {
                let step = step_of(&raw);
                if step != abandoned || start.elapsed() > Duration::from_secs(11) {
                    break raw;
                }
            }
        }
        assert!(start.elapsed() < Duration::from_secs(90), "no second case");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!page.contains(r#"name="cap""#), "the software's identity is remembered");
    let mut software = run.software();
    let params: ConfirmQualificationParams =
        serde_json::from_value(last_call(&run.live(), "confirm_qualification")).unwrap();
    let shown = serde_json::to_value(software.confirm(&params)).unwrap();
    page_when(&host, &cookie, |p| p.contains(r#"id="terminal-answer""#));
    let page = page_when(&host, &cookie, |_| true);
    let answer = as_shown(step_of(&page), shown["outcome"].as_str().unwrap(), &shown);
    assert_eq!(http(&host, "POST", "/answer", Some(&cookie), Some(&answer)).status, 303);
    let (_, report) = run.finish();
    let (verdict, _) = verdict_and_failures(&report, "FILE-QUAL-001");
    assert_eq!(verdict, "error", "{report:#}");
    let case = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "FILE-QUAL-001")
        .unwrap();
    assert!(case.to_string().contains("DRV-HANG"), "{case:#}");
    assert_eq!(verdict_and_failures(&report, "FILE-QUAL-002").0, "pass", "{report:#}");
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

/// Debian's chromedriver, if installed (must be when ONSHI_REQUIRE_SYSTEM_TOOLS is set).
fn chromedriver() -> Option<std::path::PathBuf> {
    let found = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(),
            "ONSHI_REQUIRE_SYSTEM_TOOLS is set but chromedriver is not installed"
        );
        eprintln!("chromedriver is not installed: the operator console is not driven in a browser here");
    }
    found
}

/// The browser's console messages so far (chromedriver's log endpoint).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// A Chrome DevTools Protocol command through chromedriver.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({"cmd": self.0, "params": self.1});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// The fonts the browser really drew `selector`'s own text with, and how many glyphs each:
/// Japanese drawn as empty boxes would show no CJK font here.
async fn fonts_drawing(client: &fantoccini::Client, selector: &str) -> Vec<(String, u64)> {
    let root = client
        .issue_cmd(Cdp("DOM.getDocument", serde_json::json!({})))
        .await
        .unwrap();
    let node = client
        .issue_cmd(Cdp(
            "DOM.querySelector",
            serde_json::json!({"nodeId": root["root"]["nodeId"], "selector": selector}),
        ))
        .await
        .unwrap();
    client
        .issue_cmd(Cdp("CSS.enable", serde_json::json!({})))
        .await
        .unwrap();
    let fonts = client
        .issue_cmd(Cdp(
            "CSS.getPlatformFontsForNode",
            serde_json::json!({"nodeId": node["nodeId"]}),
        ))
        .await
        .unwrap();
    fonts["fonts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["familyName"].as_str().unwrap_or_default().to_owned(),
                f["glyphCount"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

async fn wait_page(client: &fantoccini::Client, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let page = client.source().await.unwrap();
        if ready(&page) {
            return page;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the page never showed {what}:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Ticks the radio or box `selector` and types `text` into `field`, as a person does.
async fn click(client: &fantoccini::Client, selector: &str) {
    client
        .find(fantoccini::Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn type_into(client: &fantoccini::Client, selector: &str, text: &str) {
    client
        .find(fantoccini::Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Answers the current step in the browser: the outcome, the message, and "same" ticked for
/// every value the software stored.
async fn answer_in_browser(client: &fantoccini::Client, outcome: &str, shown: &Value) {
    click(client, &format!("input[name=outcome][value={outcome}]")).await;
    type_into(
        client,
        "textarea[name=message]",
        shown["message"].as_str().unwrap_or(""),
    )
    .await;
    for key in stored_keys(shown) {
        click(client, &format!("input[name='same_{key}']")).await;
    }
    click(client, "button[type=submit]").await;
}

/// The whole session in a real browser (headless chromium through chromedriver): the person
/// follows the printed URL, says which software it is, answers one case as the software showed
/// it and one wrongly, reloads mid-case, and the page updates by itself when the terminal
/// answers. The page logs no console message and loads nothing from elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_in_a_browser_runs_the_console_end_to_end() {
    let Some(browser) = common::chromium() else { return };
    let Some(driver) = chromedriver() else { return };
    let mut run = start_run(&["FILE-QUAL-001", "FILE-QUAL-002"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut webdriver = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "chromedriver does not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": browser,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     format!("--user-data-dir={}", profile.path().display())],
        },
        "goog:loggingPrefs": {"browser": "ALL"},
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let client = fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
    let origin = format!("http://{}", run.host);
    client.goto(&format!("{origin}/?token={}", run.token)).await.unwrap();
    assert_eq!(
        client.current_url().await.unwrap().as_str(),
        format!("{origin}/"),
        "the token leaves the address bar"
    );

    wait_page(&client, "the identity form", |p| p.contains(r#"name="cap""#)).await;
    type_into(&client, "input[name=name]", "BrowserReceipt").await;
    click(&client, "input[name=cap][value='file.qualification']").await;
    click(&client, "button[type=submit]").await;

    let mut software = run.software();
    let mut last_step = 0;
    for (case, wrong) in [("FILE-QUAL-001", None), ("FILE-QUAL-002", Some("valid"))] {
        let page = wait_page(&client, case, |p| {
            p.contains("保険証を提示しました") && step_of(p) != last_step
        })
        .await;
        let step = step_of(&page);
        last_step = step;
        client.refresh().await.unwrap();
        assert_eq!(
            step_of(&client.source().await.unwrap()),
            step,
            "a reload keeps the step"
        );
        let params: ConfirmQualificationParams =
            serde_json::from_value(last_call(&run.live(), "confirm_qualification")).unwrap();
        let shown = tokio::task::block_in_place(|| serde_json::to_value(software.confirm(&params)).unwrap());
        // no reload by the test: the page's own script notices the terminal's answer
        wait_page(&client, "the terminal's answer", |p| {
            p.contains(r#"id="terminal-answer""#)
        })
        .await;
        let outcome = wrong.unwrap_or_else(|| shown["outcome"].as_str().unwrap());
        answer_in_browser(&client, outcome, &shown).await;
    }
    wait_page(&client, "the end of the run", |p| p.contains("試験は終了しました")).await;
    // the Japanese is drawn with a Japanese font, not as empty boxes
    let fonts = fonts_drawing(&client, "h1").await;
    assert!(
        fonts
            .iter()
            .any(|(family, glyphs)| family.contains("CJK") && *glyphs > 0),
        "the heading's Japanese was drawn with {fonts:?}"
    );

    let loaded = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .unwrap();
    for name in loaded.as_array().unwrap() {
        assert!(name.as_str().unwrap().starts_with(&origin), "an outside load: {name}");
    }
    let log = client.issue_cmd(BrowserLog).await.unwrap();
    assert_eq!(log.as_array().map_or(0, Vec::len), 0, "console messages: {log:#}");
    client.close().await.unwrap();
    let _ = webdriver.kill();
    let _ = webdriver.wait();

    let (status, report) = run.finish();
    assert!(!status.success());
    assert_eq!(report["run"]["client"]["name"], "BrowserReceipt");
    assert_eq!(verdict_and_failures(&report, "FILE-QUAL-001").0, "pass");
    let (verdict, failed) = verdict_and_failures(&report, "FILE-QUAL-002");
    assert_eq!(verdict, "fail");
    assert!(failed.contains(&"OUT-INVALID".to_owned()), "{failed:?}");
}

/// The printed URL's token moved into the session cookie, as a browser does.
fn cookie_of(run: &OperatorRun) -> String {
    let first = http(&run.host, "GET", &format!("/?token={}", run.token), None, None);
    first
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .expect("a cookie")
        .1
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// "Their software" as a program of its own: the reference client's adapter, driven with the
/// calls the harness made to the console — as a person drives their program with what the
/// page says. It works the terminal folder and the API itself; the robot only reports.
struct Program {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: BufReader<std::process::ChildStdout>,
    next: u64,
}

impl Program {
    fn start() -> Program {
        let mut child = Command::new(common::onshi())
            .arg("reference-client")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Program {
            input: child.stdin.take().unwrap(),
            output: BufReader::new(child.stdout.take().unwrap()),
            child,
            next: 0,
        }
    }

    fn call(&mut self, method: &str, params: &Value) -> Value {
        self.next += 1;
        let req = serde_json::json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        writeln!(self.input, "{req}").unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        let reply: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{method}: {e}: {line}"));
        assert!(reply["error"].is_null(), "the program failed {method}: {reply}");
        reply["result"].clone()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Follows the live journal: each complete line once, with the byte offset after it.
struct Tail {
    path: std::path::PathBuf,
    offset: u64,
}

impl Tail {
    /// The next entry, or None when the run has ended and nothing more comes.
    fn next(&mut self, run: &mut OperatorRun) -> Option<Entry> {
        let start = Instant::now();
        loop {
            let text = std::fs::read(&self.path).unwrap_or_default();
            let rest = text.get(self.offset as usize..).unwrap_or_default();
            if let Some(end) = rest.iter().position(|b| *b == b'\n') {
                self.offset += end as u64 + 1;
                match serde_json::from_slice::<Entry>(&rest[..end]) {
                    Ok(entry) => return Some(entry),
                    Err(_) => continue,
                }
            }
            if run.process.try_wait().unwrap().is_some() {
                return None;
            }
            assert!(start.elapsed() < Duration::from_secs(180), "the journal stopped moving");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether call `id` has been answered (or given up) since this tail's offset `from`.
    fn settled(&self, from: u64, id: u64) -> bool {
        let text = std::fs::read(&self.path).unwrap_or_default();
        text.get(from as usize..)
            .unwrap_or_default()
            .split(|b| *b == b'\n')
            .filter_map(|l| serde_json::from_slice::<Entry>(l).ok())
            .any(|e| {
                matches!(e.event,
                Event::Driver(DriverEvent::Result { id: i, .. } | DriverEvent::Error { id: i, .. } | DriverEvent::Timeout { id: i, .. }) if i == id)
            })
    }
}

/// The page of the step the console shows for call `id` (a page with `marker`), or None if
/// the harness settled the call without the person (the software's identity, remembered).
fn step_page(host: &str, cookie: &str, marker: &str, (tail, from, id): (&Tail, u64, u64)) -> Option<String> {
    let start = Instant::now();
    loop {
        let page = http(host, "GET", "/", Some(cookie), None).body;
        if page.contains(r#"name="step" value=""#) && page.contains(marker) {
            return Some(page);
        }
        if tail.settled(from, id) {
            return None;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no step shown:\n{page}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Case → (verdict, check → status) of a report.
fn verdicts(report: &Value) -> std::collections::BTreeMap<String, (String, Vec<(String, String)>)> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let checks = c["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| {
                    (
                        k["id"].as_str().unwrap().to_owned(),
                        k["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (
                c["id"].as_str().unwrap().to_owned(),
                (c["verdict"].as_str().unwrap().to_owned(), checks),
            )
        })
        .collect()
}

/// The whole suite by hand: a robot person reads each step off the page, works "their
/// software" (the reference client as a separate program on the same terminal folder and
/// API) and reports what it shows — ticking "same" where the page shows the terminal's or
/// the API's answer, typing the values where it does not. Every case that can be done by hand
/// gets the verdict and the checks an adapter run of the same program gets; the rest are not
/// applicable with a reason.
#[test]
fn the_whole_applicable_suite_by_hand_gives_the_adapter_report() {
    let mut run = start_run_with(&[], &["--operator-time", "60"]);
    let host = run.host.clone();
    let cookie = cookie_of(&run);
    // the harness starts its driver again at times (a restart case); so does the robot
    let mut program = Program::start();
    let mut tail = Tail {
        path: run.live(),
        offset: 0,
    };
    let hand = ["file.qualification", "file.face", "api.qualification"];
    let started = Instant::now();
    let (mut steps, mut api_answers_shown) = (0, 0);
    while let Some(entry) = tail.next(&mut run) {
        let Event::Driver(DriverEvent::Call { id, method, params }) = entry.event else {
            continue;
        };
        let from = tail.offset;
        match method.as_str() {
            "initialize" => {
                let me = program.call("initialize", &params);
                let Some(page) = step_page(&host, &cookie, r#"name="cap""#, (&tail, from, id)) else {
                    continue;
                };
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("step", &step_of(&page).to_string())
                    .append_pair("name", me["client"]["name"].as_str().unwrap())
                    .append_pair("version", me["client"]["version"].as_str().unwrap());
                for cap in me["capabilities"].as_array().unwrap() {
                    if hand.contains(&cap.as_str().unwrap()) {
                        form.append_pair("cap", cap.as_str().unwrap());
                    }
                }
                let r = http(&host, "POST", "/answer", Some(&cookie), Some(&form.finish()));
                assert_eq!(r.status, 303, "{}", r.body);
            }
            "reset" => {
                program.call("reset", &params);
            }
            "shutdown" => {
                program.call("shutdown", &params);
                program = Program::start();
            }
            "confirm_qualification" | "import_face" => {
                let shown = program.call(&method, &params);
                let page = step_page(&host, &cookie, r#"name="outcome""#, (&tail, from, id)).expect("a step to answer");
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("step", &step_of(&page).to_string())
                    .append_pair("outcome", shown["outcome"].as_str().unwrap())
                    .append_pair("message", shown["message"].as_str().unwrap_or(""));
                let answered = page.contains(r#"id="terminal-answer""#);
                if answered && page.contains("HTTP ") {
                    api_answers_shown += 1;
                }
                let record: Option<PatientRecord> = serde_json::from_value(shown["record"].clone()).ok();
                let consents: Option<Consents> = serde_json::from_value(shown["consents"].clone()).ok();
                let values = onshi_operator::fields::flatten(
                    record.as_ref(),
                    consents.as_ref(),
                    shown["reference_number"].as_str(),
                );
                for (key, value) in values {
                    match answered {
                        true => form.append_pair(&format!("same_{key}"), "on"),
                        false => form.append_pair(&format!("v_{key}"), &value),
                    };
                }
                let form = form.finish();
                let r = http(&host, "POST", "/answer", Some(&cookie), Some(&form));
                assert_eq!(
                    r.status, 303,
                    "{method} step not taken: {} {form} {shown}\n{page}",
                    r.body
                );
                steps += 1;
            }
            _ => {}
        }
    }
    let by_hand = started.elapsed();
    let (_, report) = run.finish();
    let operator = verdicts(&report);
    let applicable: Vec<String> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        // a rush drives several reception PCs at machine speed: not by hand
        .filter(|c| c["area"] != "perf")
        .filter(|c| {
            c["capabilities"]
                .as_array()
                .unwrap()
                .iter()
                .all(|cap| hand.contains(&cap.as_str().unwrap()))
        })
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let wrong: Vec<String> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let expected = if applicable.iter().any(|a| c["id"] == a.as_str()) {
                "pass"
            } else {
                "not_applicable"
            };
            c["verdict"] != expected
        })
        .map(|c| format!("{} {} {} {}", c["id"], c["verdict"], c["reason"], c["checks"]))
        .collect();
    assert!(wrong.is_empty(), "by hand:\n{}", wrong.join("\n"));
    assert!(api_answers_shown > 0, "the API's answers were shown beside the form");
    eprintln!(
        "the whole suite by hand: {} cases applicable, {steps} steps answered, {} s",
        applicable.len(),
        by_hand.as_secs()
    );

    // the same program through an adapter, on the same cases: the same verdicts and checks
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<&str> = applicable.iter().flat_map(|c| ["--case", c.as_str()]).collect();
    let (code, adapter_report, stderr) =
        common::run_suite(&common::reference_adapter(None), &dir.path().join("r"), &cases);
    assert_eq!(code, 0, "{stderr}");
    let adapter = verdicts(&adapter_report.unwrap());
    for (case, result) in &adapter {
        assert_eq!(&operator[case], result, "{case}: by hand (left) and by adapter (right)");
    }
    assert_eq!(adapter.len(), applicable.len());
    // the same artefacts
    let junit = std::fs::read_to_string(run.report_dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), operator.len());
}
