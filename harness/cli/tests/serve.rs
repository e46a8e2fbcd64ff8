//! `onshi serve`: a client configured only from the printed instructions logs in and confirms
//! a persona (over the API and through the terminal folder); the printed admin command makes
//! the API misbehave; the admin API refuses requests without its token; everything is
//! journaled; Ctrl-C stops it cleanly. The instructions are run with `sh` and `curl`, exactly
//! as a developer would paste them.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Serving {
    child: Child,
    printed: Vec<String>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `onshi serve` on free ports with `extra` arguments, once it has printed its instructions.
fn serve_with(dir: &std::path::Path, extra: &[&str]) -> Serving {
    serve_from(None, dir, extra)
}

/// [`serve_with`], started in the working directory `cwd` (then `dir` may be relative to it).
fn serve_from(cwd: Option<&std::path::Path>, dir: &std::path::Path, extra: &[&str]) -> Serving {
    let mut command = Command::new(onshi());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    let mut child = command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--dir",
        ])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("onshi serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut printed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("utf-8 output");
        let done = line.contains("Ctrl-C stops");
        printed.push(line);
        if done {
            break;
        }
    }
    assert!(
        printed.last().is_some_and(|l| l.contains("Ctrl-C")),
        "serve stopped early:\n{}",
        printed.join("\n")
    );
    Serving { child, printed }
}

fn serve(dir: &std::path::Path) -> Serving {
    serve_with(dir, &[])
}

/// The indented lines after the line starting with `heading`.
fn block(printed: &[String], heading: &str) -> String {
    printed
        .iter()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| format!("{}\n", l.trim_start()))
        .collect()
}

/// Runs pasted commands in another working directory than `onshi serve`'s: every path they
/// name must be absolute.
fn sh(script: &str) -> String {
    let out = Command::new("sh")
        .current_dir("/")
        .args(["-e", "-c", script])
        .output()
        .expect("sh runs (and curl is installed: scripts/test installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the printed commands failed:\n{script}\nstdout:\n{text}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn value_of<'a>(printed: &'a [String], label: &str) -> &'a str {
    printed
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{}", printed.join("\n")))
}

#[test]
fn a_client_configured_from_the_printed_instructions_confirms_a_persona() {
    // started with a relative --dir, as the README has it; the commands are pasted elsewhere
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path().join("onshi-serve");
    let mut s = serve_from(Some(cwd.path()), std::path::Path::new("onshi-serve"), &[]);
    assert!(
        value_of(&s.printed, "Terminal folder").starts_with(&dir.display().to_string()),
        "{:?}",
        s.printed
    );
    let try_it = block(&s.printed, "Try it");
    assert!(try_it.contains("curl"), "{try_it}");
    let out = sh(&try_it);
    // Over the API (JSON) and through the terminal folder (XML): QualificationValidity 1.
    assert!(out.contains(r#""QualificationValidity":"1""#), "{out}");
    assert!(
        out.contains("<QualificationValidity>1</QualificationValidity>"),
        "{out}"
    );
    assert!(out.contains("検証　一郎"), "{out}");

    // A search body for every persona: the printed search, pointed at another persona's body,
    // answers for that persona (here: a person who lost eligibility, QualificationValidity 2).
    let bodies = value_of(&s.printed, "search bodies").split_whitespace().next().unwrap();
    let dir_of_bodies = std::path::Path::new(bodies).parent().unwrap();
    let count = std::fs::read_dir(dir_of_bodies).unwrap().count();
    assert!(count >= 15, "{count} search bodies in {}", dir_of_bodies.display());
    let search_line = try_it.lines().nth(1).unwrap();
    let lost = dir_of_bodies.join("search-lost-eligibility.json");
    assert!(lost.is_file());
    let search_other = format!(
        "{}\n{}\n",
        try_it.lines().next().unwrap(),
        search_line.replace(
            &search_line[search_line.find("--data-binary @").unwrap() + 15..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned(),
            &lost.display().to_string()
        )
    );
    let out3 = sh(&search_other);
    assert!(out3.contains(r#""QualificationValidity":"2""#), "{out3}");

    // The printed admin command sets a fault: the next search is answered 503 + Retry-After.
    let misbehave = block(&s.printed, "Make it misbehave");
    let set_fault = misbehave.lines().next().expect("a fault command");
    assert!(sh(set_fault).contains("\"ok\""));
    let search_again: String = try_it.lines().take(2).map(|l| format!("{l}\n")).collect();
    let busy = sh(&search_again.replace("curl -sS --cacert", "curl -sS -i --cacert"));
    assert!(
        busy.contains("HTTP/1.1 503") && busy.contains("retry-after: 5"),
        "{busy}"
    );

    // The admin API refuses a request without its token, and journals the refusal.
    let admin = value_of(&s.printed, "Admin API").split_whitespace().next().unwrap();
    let admin = admin.trim_end_matches("/admin/…");
    let refused = sh(&format!(
        "curl -sS -o /dev/null -w '%{{http_code}}' {admin}/admin/faults"
    ));
    assert_eq!(refused, "401");

    // Ctrl-C: a clean stop.
    let pid = s.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "onshi serve did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    // Every exchange is in the journal, with the fault applied and the refused admin request.
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = journal.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds = |name: &str| events.iter().filter(|e| e["event"] == name).count();
    assert!(kinds("exchange") >= 4, "{journal}");
    assert_eq!(kinds("admin_refused"), 1);
    assert!(events.iter().any(|e| e["faults"][0] == "busy"), "{journal}");
    assert!(kinds("result_written") >= 1, "{journal}");
}

#[test]
fn pki_init_writes_a_pki_that_serve_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let out = run_onshi(&["pki", "init", "--out", pki.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in [
        "ca.pem",
        "server.pem",
        "client-9900000001.pem",
        "client-expired.pem",
        "client-foreign.pem",
    ] {
        assert!(pki.join(f).is_file(), "{f}");
    }
    let serve_dir = dir.path().join("serve");
    let s = serve_with(&serve_dir, &["--pki", pki.to_str().unwrap()]);
    let out = sh(&block(&s.printed, "Try it"));
    assert!(out.contains(r#""QualificationValidity":"1""#), "{out}");
    // The files handed to the client are the fresh PKI's, not the embedded one.
    assert_eq!(
        std::fs::read_to_string(serve_dir.join("pki/ca.pem")).unwrap(),
        std::fs::read_to_string(pki.join("ca.pem")).unwrap()
    );
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = run_onshi(&[
        "serve",
        "--listen",
        &addr,
        "--admin-listen",
        "127.0.0.1:0",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&addr) && err.contains("cannot start"), "{err}");
}

#[test]
fn a_terminal_against_a_national_mock_in_another_process_gets_its_faults() {
    let national_dir = tempfile::tempdir().unwrap();
    let national = serve(national_dir.path());
    let url = value_of(&national.printed, "National API (HTTPS)").to_owned();
    let key = value_of(&national.printed, "terminal key")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let terminal_dir = tempfile::tempdir().unwrap();
    // Without the key the terminal-only session is refused up front, naming the option.
    let out = run_onshi(&[
        "serve",
        "--dir",
        terminal_dir.path().to_str().unwrap(),
        "--national",
        &url,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--national-terminal-key"));
    let terminal = serve_with(
        terminal_dir.path(),
        &["--national", &url, "--national-terminal-key", &key],
    );
    assert!(value_of(&terminal.printed, "Admin API").contains("remote"));
    // The folder commands of the terminal-only session reach the other process.
    let try_it = block(&terminal.printed, "Try it");
    let folder: String = try_it.lines().skip(2).map(|l| format!("{l}\n")).collect();
    assert!(sh(&folder).contains("<QualificationValidity>1</QualificationValidity>"));

    // A fault set on the national mock reaches the folder interface: SegmentOfResult 9.
    let admin = value_of(&national.printed, "Admin API")
        .split_whitespace()
        .next()
        .unwrap();
    let admin = admin.trim_end_matches("/admin/…").to_owned();
    let token = value_of(&national.printed, "admin token").to_owned();
    sh(&format!(
        "curl -sS -H 'Authorization: Bearer {token}' --data '{{\"id\":\"down\",\"scope\":{{\"endpoint\":\"terminal\"}},\"kind\":{{\"type\":\"status\",\"code\":503}}}}' {admin}/admin/faults"
    ));
    // The same request under a new name (the copy's source stays the example file).
    let again: String = folder
        .lines()
        .map(|l| match l.split_once(".xml ") {
            Some((source, rest)) if l.starts_with("cp ") => {
                format!("{source}.xml {}\n", rest.replace("9999.xml", "9998.xml"))
            }
            _ => format!("{}\n", l.replace("9999.xml", "9998.xml")),
        })
        .collect();
    let out = sh(&again);
    assert!(out.contains("<SegmentOfResult>9</SegmentOfResult>"), "{out}");
    let journal = std::fs::read_to_string(national_dir.path().join("journal.jsonl")).unwrap();
    assert!(journal.contains("/onshi-harness/terminal/v1/card"), "{journal}");
}
