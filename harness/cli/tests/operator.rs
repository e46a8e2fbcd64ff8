//! Operator mode end to end: `onshi run --operator` with the test as the person (answering
//! the web console over HTTP) and the reference client's folder code as "their software"
//! (writing the request, reading the result). One case is answered as the software showed it
//! and passes; one is answered wrongly and fails with the outcome check — the same verdicts
//! an adapter run gives.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::console::*;
use onshi_protocol::driver::{ConfirmQualificationParams, Consents, ImportFaceParams, InitializeParams, PatientRecord};
use onshi_reference_client::{FolderClient, Options};
use serde_json::Value;

/// "Their software": the reference client's folder code on the run's terminal folder, called
/// by the test itself.
fn software(run: &OperatorRun) -> FolderClient {
    let init: InitializeParams = serde_json::from_value(last_call(&run.live(), "initialize")).unwrap();
    let folders = init.environment.terminal.expect("the terminal folders");
    FolderClient::new(&folders, &init.environment.institution_code, Options::default())
}

/// "Their software" as a program of its own: the reference client's adapter.
fn reference_program() -> Command {
    let mut c = Command::new(common::onshi());
    c.arg("reference-client");
    c
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
    let mut software = software(&run);

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
    let mut software = software(&run);
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
    let cdp = |cmd, params| async move { client.issue_cmd(Cdp(cmd, params)).await.unwrap() };
    let root = cdp("DOM.getDocument", serde_json::json!({})).await;
    let node = cdp(
        "DOM.querySelector",
        serde_json::json!({"nodeId": root["root"]["nodeId"], "selector": selector}),
    )
    .await;
    cdp("CSS.enable", serde_json::json!({})).await;
    let fonts = cdp(
        "CSS.getPlatformFontsForNode",
        serde_json::json!({"nodeId": node["nodeId"]}),
    )
    .await;
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

    let mut software = software(&run);
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

/// The whole suite by hand: a robot person reads each step off the page, works "their
/// software" (the reference client as a separate program on the same terminal folder and
/// API) and reports what it shows — ticking "same" where the page shows the terminal's or
/// the API's answer, typing the values where it does not. Every case that can be done by hand
/// gets the verdict and the checks an adapter run of the same program gets; the rest are not
/// applicable with a reason.
#[test]
fn the_whole_applicable_suite_by_hand_gives_the_adapter_report() {
    let mut run = start_run_with(&[], &["--operator-time", "60"]);
    let hand = ["file.qualification", "file.face", "api.qualification"];
    let session = by_hand(&mut run, reference_program, &hand);
    let (_, report) = run.finish();
    let operator = case_checks(&report);
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
    assert!(
        session.api_answers_shown > 0,
        "the API's answers were shown beside the form"
    );
    eprintln!(
        "the whole suite by hand: {} cases applicable, {} steps answered, {} s",
        applicable.len(),
        session.steps,
        session.took.as_secs()
    );

    // the same program through an adapter, on the same cases: the same verdicts and checks
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<&str> = applicable.iter().flat_map(|c| ["--case", c.as_str()]).collect();
    let (code, adapter_report, stderr) =
        common::run_suite(&common::reference_adapter(None), &dir.path().join("r"), &cases);
    assert_eq!(code, 0, "{stderr}");
    let adapter = case_checks(&adapter_report.unwrap());
    for (case, result) in &adapter {
        assert_eq!(&operator[case], result, "{case}: by hand (left) and by adapter (right)");
    }
    assert_eq!(adapter.len(), applicable.len());
    // the same artefacts
    let junit = std::fs::read_to_string(run.report_dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), operator.len());
}
