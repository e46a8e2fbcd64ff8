//! The operator console from a test's side: HTTP to the page, an `onshi run --operator` in
//! the background, and a robot person who answers every step from what "their software" — a
//! separate program — shows.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use onshi_harness::journal::{DriverEvent, Entry, Event};
use onshi_protocol::driver::{Consents, PatientRecord};
use serde_json::Value;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// One HTTP/1.1 request on a fresh connection, with an urlencoded form.
pub fn http(host: &str, method: &str, path: &str, cookie: Option<&str>, form: Option<&str>) -> Reply {
    let body = form.map(|f| ("application/x-www-form-urlencoded".to_owned(), f.as_bytes().to_vec()));
    send(host, method, path, cookie, body)
}

/// One HTTP/1.1 request on a fresh connection; `body` is its content type and bytes.
pub fn send(host: &str, method: &str, path: &str, cookie: Option<&str>, body: Option<(String, Vec<u8>)>) -> Reply {
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

pub fn step_of(page: &str) -> u64 {
    let at = page.find(r#"name="step" value=""#).expect("a form with a step") + 19;
    page[at..].split('"').next().unwrap().parse().unwrap()
}

/// Waits until the page shows what `ready` looks for.
pub fn page_when(host: &str, cookie: &str, ready: impl Fn(&str) -> bool) -> String {
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
pub fn last_call(live: &Path, method: &str) -> Value {
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

/// A running `onshi run --operator`: its process, the printed URL's host and token, the
/// report folder, and the rest of its stderr once it ends.
pub struct OperatorRun {
    pub process: std::process::Child,
    pub host: String,
    pub token: String,
    pub report_dir: std::path::PathBuf,
    pub stderr: std::thread::JoinHandle<String>,
    _dir: tempfile::TempDir,
}

pub fn start_run(cases: &[&str]) -> OperatorRun {
    start_run_with(cases, &["--operator-time", "120"])
}

pub fn start_run_with(cases: &[&str], extra: &[&str]) -> OperatorRun {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("report");
    let mut process = Command::new(super::onshi())
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
    pub fn finish(&mut self) -> (std::process::ExitStatus, Value) {
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

    pub fn live(&self) -> std::path::PathBuf {
        self.report_dir.join("operator/live.jsonl")
    }
}

/// The printed URL's token moved into the session cookie, as a browser does.
pub fn cookie_of(run: &OperatorRun) -> String {
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

/// "Their software" as a program of its own (an adapter, here), driven with the calls the
/// harness made to the console — as a person drives their program with what the page says. It
/// works the terminal folder and the API itself; the robot person only reports.
pub struct Program {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: BufReader<std::process::ChildStdout>,
    next: u64,
}

impl Program {
    /// Starts `command` as the program.
    pub fn start(mut command: Command) -> Program {
        let mut child = command
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

    pub fn call(&mut self, method: &str, params: &Value) -> Value {
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
pub struct Tail {
    pub path: std::path::PathBuf,
    pub offset: u64,
}

impl Tail {
    /// The next entry, or None when the run has ended and nothing more comes.
    pub fn next(&mut self, run: &mut OperatorRun) -> Option<Entry> {
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
    pub fn settled(&self, from: u64, id: u64) -> bool {
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
pub fn step_page(host: &str, cookie: &str, marker: &str, (tail, from, id): (&Tail, u64, u64)) -> Option<String> {
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
pub fn case_checks(report: &Value) -> std::collections::BTreeMap<String, (String, Vec<(String, String)>)> {
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

/// What a robot person's session was.
pub struct ByHand {
    /// Steps answered (outcome forms; the software's identity not counted).
    pub steps: usize,
    /// Steps whose page showed the API's answer beside the form.
    pub api_answers_shown: usize,
    /// From the first entry of the journal to the end of the run.
    pub took: Duration,
}

/// A robot person answers the whole run: for each call the harness makes to the console it
/// works `program` (started with `start`, again after each shutdown) with the same call, then
/// answers the page with what the program shows — ticking "same" where the page shows the
/// terminal's or the API's answer, typing the values where it does not. Only functions in
/// `hand` are declared.
pub fn by_hand(run: &mut OperatorRun, start: impl Fn() -> Command, hand: &[&str]) -> ByHand {
    let host = run.host.clone();
    let cookie = cookie_of(run);
    let mut slot: Option<Program> = None;
    let mut tail = Tail {
        path: run.live(),
        offset: 0,
    };
    let began = Instant::now();
    let (mut steps, mut api_answers_shown) = (0, 0);
    while let Some(entry) = tail.next(run) {
        let Event::Driver(DriverEvent::Call { id, method, params }) = entry.event else {
            continue;
        };
        let from = tail.offset;
        let program = slot.get_or_insert_with(|| Program::start(start()));
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
                // the harness starts its driver again at times (a restart case); so does the robot
                slot = None;
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
    ByHand {
        steps,
        api_answers_shown,
        took: began.elapsed(),
    }
}
