//! The command line: exit codes, `validate` on bad input, `cases`, and adapters that break.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

fn code(args: &[&str]) -> (i32, String) {
    common::said(args)
}

#[test]
fn usage_errors_exit_3_and_help_exits_0() {
    assert_eq!(code(&["--help"]).0, 0);
    assert_eq!(code(&["run", "--help"]).0, 0);
    assert_eq!(code(&[]).0, 3);
    assert_eq!(code(&["run"]).0, 3);
    assert_eq!(code(&["frobnicate"]).0, 3);
    let (c, text) = code(&["run", "--adapter", "true", "--date", "20251301"]);
    assert_eq!(c, 3, "{text}");
    assert!(text.contains("YYYYMMDD"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let (c, text) = code(&[
        "run",
        "--adapter",
        "true",
        "--case",
        "NOPE-001",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(c, 3);
    assert!(text.contains("no case \"NOPE-001\""), "{text}");
}

#[test]
fn a_broken_suite_is_a_usage_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite/file");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(
        suite.join("FILE-X-001.toml"),
        "id = \"FILE-X-001\"\ntitle = \"t\"\nrequirement = \"r\"\ncapabilities = []\nseverity = \"sometimes\"\nsummary = \"s\"\n",
    )
    .unwrap();
    let (c, text) = code(&[
        "run",
        "--adapter",
        "true",
        "--suite",
        dir.path().join("suite").to_str().unwrap(),
    ]);
    assert_eq!(c, 3, "{text}");
    assert!(text.contains("file/FILE-X-001.toml:5:"), "{text}");
    assert!(text.contains("sometimes"), "{text}");
    let (c, text) = code(&["run", "--adapter", "true", "--suite", "/nonexistent/suite"]);
    assert_eq!(c, 3);
    assert!(text.contains("cannot read the suite folder"), "{text}");
}

#[test]
fn cases_lists_the_catalogue_with_its_proofs() {
    let (c, text) = code(&["cases"]);
    assert_eq!(c, 0);
    assert!(text.contains("FILE-QUAL-003"));
    assert!(
        text.contains("proven by --defect newqual-as-valid → OUT-NEWQUAL"),
        "{text}"
    );
}

const REQUEST: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<XmlMsg><MessageHeader><QualificationConfirmationDate>20250101</QualificationConfirmationDate>
<MedicalInstitutionCode>9900000001</MedicalInstitutionCode></MessageHeader>
<MessageBody><QualificationConfirmSearchInfo><InsurerNumber>  990015</InsurerNumber>
<InsuredIdentificationNumber>12345</InsuredIdentificationNumber><Birthdate>19660723</Birthdate>
<LimitApplicationCertificateRelatedConsFlg>0</LimitApplicationCertificateRelatedConsFlg>
</QualificationConfirmSearchInfo></MessageBody></XmlMsg>
"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn validate_reports_findings_with_check_ids_and_never_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "OQSsiquc01req_202501010001.xml", REQUEST.as_bytes());
    let (c, text) = code(&["validate", &good]);
    assert_eq!(c, 0, "{text}");
    assert!(text.contains("ok"));

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "OQSsiquc01req_1.xml",
            REQUEST.replace("  990015", "00990015").into_bytes(),
            "MSG-INS-002",
        ),
        ("OQSsiquc01req_2.xml", Vec::new(), "MSG-XML-001"),
        ("OQSsiquc01req_3.xml", REQUEST.as_bytes()[..150].to_vec(), "MSG-XML-001"),
        (
            "OQSsiquc01req_4.xml",
            REQUEST
                .replace("<XmlMsg>", "<!DOCTYPE x [<!ENTITY a \"b\">]><XmlMsg>")
                .into_bytes(),
            "MSG-XML-002",
        ),
        ("OQSsiquc01req_5.xml", vec![b' '; 5 * 1024 * 1024], "MSG-XML-003"),
        (
            "OQSsiquc01req_6.xml",
            {
                let mut b = REQUEST.replace("12345", "検証").into_bytes();
                let i = b.windows(6).position(|w| w == "検証".as_bytes()).unwrap();
                b.splice(i..i + 6, [0x8c, 0x9f, 0x8f, 0xd8]); // 検証 in Shift_JIS under a UTF-8 declaration
                b
            },
            "MSG-ENC-001",
        ),
        (
            "weird name.xml",
            REQUEST.replace("19660723", "19661332").into_bytes(),
            "MSG-DATE-001",
        ),
        ("OQSsiquc01req_../x.xml", Vec::new(), "MSG-NAME-001"),
    ];
    for (name, bytes, check) in cases {
        let safe = name.replace('/', "_");
        let path = write(dir.path(), &safe, &bytes);
        let start = Instant::now();
        let (c, text) = code(&["validate", &path]);
        assert!(start.elapsed() < Duration::from_secs(20));
        assert_eq!(c, 1, "{name}: {text}");
        assert!(text.contains(check), "{name}: expected {check} in\n{text}");
    }
    let (c, text) = code(&["validate", "/nonexistent/file.xml"]);
    assert_eq!(c, 3, "{text}");
}

fn python() -> &'static str {
    "python3"
}

fn misbehaving(mode: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adapters/misbehaving.py");
    format!("{} '{}' {mode}", python(), script.display())
}

fn case_report(report: &serde_json::Value, id: &str) -> serde_json::Value {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone()
}

#[test]
fn an_adapter_that_never_initialises_makes_errors_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (c, report, text) = run_suite(
        &misbehaving("crash-on-init"),
        dir.path(),
        &["--case", "FILE-QUAL-001", "--case", "FILE-QUAL-002"],
    );
    assert_eq!(c, 2, "{text}");
    let report = report.unwrap();
    for id in ["FILE-QUAL-001", "FILE-QUAL-002"] {
        let case = case_report(&report, id);
        assert_eq!(case["verdict"], "error");
        let reason = case["reason"].as_str().unwrap();
        assert!(
            reason.contains("status 3") && reason.contains("configuration file missing"),
            "{reason}"
        );
    }
    let stderr = std::fs::read_to_string(dir.path().join("adapter-stderr.log")).unwrap();
    assert!(stderr.contains("configuration file missing"));
}

#[test]
fn a_client_that_crashes_on_a_step_fails_the_case_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (c, report, text) = run_suite(
        &reference_adapter(Some("crash-on-error-answer")),
        dir.path(),
        &["--case", "FILE-ERR-001", "--case", "FILE-QUAL-001"],
    );
    // a failure of the client (exit 1), not a harness error (exit 2)
    assert_eq!(c, 1, "{text}");
    let report = report.unwrap();
    let crashed = case_report(&report, "FILE-ERR-001");
    assert_eq!(crashed["verdict"], "fail", "{crashed}");
    let check = &crashed["checks"][0];
    assert_eq!(check["id"], "CLIENT-CRASH");
    let message = check["message"].as_str().unwrap();
    // what the World had just sent, and what the client said as it died
    assert!(message.contains("SegmentOfResult 9"), "{message}");
    assert!(
        message.contains("status 101") && message.contains("panicked"),
        "{message}"
    );
    assert_eq!(check["events"].as_array().unwrap().len(), 1);
    // the next case runs against a restarted adapter
    assert_eq!(case_report(&report, "FILE-QUAL-001")["verdict"], "pass");
    let journal = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    let initializations = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "call" && e["method"] == "initialize")
        .count();
    assert_eq!(initializations, 2, "one restart");
}

#[test]
fn failures_are_grouped_by_root_cause_in_every_report() {
    // one wrong value in every search request: the boolean institution code
    let dir = tempfile::tempdir().unwrap();
    let cases = ["API-QUAL-001", "API-QUAL-002", "API-BUSY-001"];
    let mut args = Vec::new();
    for c in cases {
        args.extend(["--case", c]);
    }
    let (c, report, text) = run_suite(&reference_adapter(Some("institution-code-boolean")), dir.path(), &args);
    assert_eq!(c, 1, "{text}");
    let report = report.unwrap();
    for id in cases {
        let case = case_report(&report, id);
        let failed: Vec<&serde_json::Value> = case["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["status"] == "fail")
            .collect();
        // the request's mistake is the root; the outcome and the lint follow from it
        assert_eq!(failed[0]["id"], "API-TYPE-001", "{id}");
        assert!(failed[0].get("caused_by").is_none());
        for k in failed.iter().filter(|k| k["id"] != "API-TYPE-001") {
            assert_eq!(k["caused_by"], "API-TYPE-001", "{id}: {k}");
        }
        assert!(
            failed.iter().any(|k| k["id"].as_str().unwrap().starts_with("OUT-")),
            "{id}"
        );
    }
    // console: one cause to fix, named once with the cases and what followed
    let summary = &text[text
        .find("Root causes — fix these first")
        .expect("a root-cause summary")..];
    assert!(
        summary.contains("API-TYPE-001") && summary.contains("3 case(s)"),
        "{summary}"
    );
    assert!(summary.contains("then failed because of it: MSG-INST-001"), "{summary}");
    assert!(
        !summary.contains("\n  MSG-INST-001"),
        "MSG-INST-001 is not a root:\n{summary}"
    );
    assert!(text.contains("→ then OUT-VALID failed because of it"), "{text}");
    // JUnit: one <failure> per case, of the root cause, with the rest in its text
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure ").count(), 3, "{junit}");
    assert_eq!(junit.matches("type=\"API-TYPE-001\">").count(), 3, "{junit}");
    assert!(junit.contains("then OUT-VALID failed because of it"), "{junit}");
    // HTML: the root-cause table first
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let roots = html
        .find("Root causes — fix these first")
        .expect("root causes in the HTML");
    assert!(roots < html.find("What went wrong").unwrap());
    assert!(html.contains("Then failed because of it"));
}

#[test]
fn an_error_answers_message_is_checked_even_when_the_case_does_not_ask() {
    // FILE-ERR-001 without `message = "result"`: the ErrorMessage must still be shown
    let suite = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(repo.join("scenarios/file/FILE-ERR-001.toml")).unwrap();
    assert!(text.contains("message = \"result\"\n"));
    std::fs::create_dir(suite.path().join("file")).unwrap();
    std::fs::write(
        suite.path().join("file/FILE-ERR-001.toml"),
        text.replace("message = \"result\"\n", ""),
    )
    .unwrap();
    let suite_arg = suite.path().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (c, report, text) = run_suite(
        &reference_adapter(Some("generic-error-message")),
        &dir.path().join("defect"),
        &["--suite", suite_arg],
    );
    assert_eq!(c, 1, "{text}");
    assert_eq!(verdicts(&report.unwrap())[0].2, ["OUT-MESSAGE"]);
    let (c, _, text) = run_suite(
        &reference_adapter(None),
        &dir.path().join("ok"),
        &["--suite", suite_arg],
    );
    assert_eq!(c, 0, "{text}");
}

#[test]
fn a_hung_adapter_is_cut_off_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let (c, report, text) = run_suite(
        &misbehaving("hang-on-confirm"),
        dir.path(),
        &[
            "--case",
            "FILE-QUAL-001",
            "--case",
            "FILE-QUAL-004",
            "--call-timeout",
            "2",
        ],
    );
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    assert_eq!(c, 2, "{text}");
    let report = report.unwrap();
    for id in ["FILE-QUAL-001", "FILE-QUAL-004"] {
        let case = case_report(&report, id);
        assert_eq!(case["verdict"], "error", "{case}");
        assert_eq!(case["reason_check"], "DRV-HANG");
    }
}

#[test]
fn method_not_found_makes_the_case_not_applicable_and_bad_answers_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (c, report, text) = run_suite(
        &misbehaving("no-face"),
        &dir.path().join("a"),
        &["--case", "FILE-FACE-001"],
    );
    assert_eq!(c, 0, "{text}");
    let case = case_report(&report.unwrap(), "FILE-FACE-001");
    assert_eq!(case["verdict"], "not_applicable");
    assert!(case["reason"].as_str().unwrap().contains("import_face"));

    let (c, report, text) = run_suite(
        &misbehaving("bad-outcome"),
        &dir.path().join("b"),
        &["--case", "FILE-QUAL-001"],
    );
    assert_eq!(c, 2, "{text}");
    let case = case_report(&report.unwrap(), "FILE-QUAL-001");
    assert_eq!(case["verdict"], "error");
    assert_eq!(case["reason_check"], "DRV-ANSWER");
    assert!(
        case["reason"].as_str().unwrap().contains("unknown variant `ok`"),
        "{case}"
    );

    // Garbage on stdout is journaled and skipped; the answers behind it are still judged
    // (this fake client writes no request, so the case fails rather than errors).
    let (c, report, text) = run_suite(
        &misbehaving("garbage"),
        &dir.path().join("c"),
        &["--case", "FILE-ERR-001"],
    );
    assert_eq!(c, 1, "{text}");
    let case = case_report(&report.unwrap(), "FILE-ERR-001");
    assert_eq!(case["verdict"], "fail");
    assert!(
        case["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "OUT-ERROR" && c["status"] == "pass")
    );
    let journal = std::fs::read_to_string(dir.path().join("c/journal.jsonl")).unwrap();
    assert!(journal.contains("\"event\":\"garbage\""));
}

#[test]
fn real_error_codes_can_replace_the_synthetic_ones() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/synthetic-error-codes.toml"),
    )
    .unwrap();
    let codes = dir.path().join("codes.toml");
    std::fs::write(&codes, synthetic.replace("SYN-E9001", "REAL-9001")).unwrap();
    let codes_arg = codes.to_str().unwrap();
    let (c, report, text) = run_suite(
        &reference_adapter(None),
        &dir.path().join("r"),
        &["--case", "FILE-ERR-001", "--error-codes", codes_arg],
    );
    assert_eq!(c, 0, "{text}");
    let case = case_report(&report.unwrap(), "FILE-ERR-001");
    let out = case["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "OUT-ERROR")
        .unwrap()
        .clone();
    assert!(out["message"].as_str().unwrap().contains("REAL-9001"), "{out}");

    std::fs::write(&codes, "[codes.nonsense]\ncode = \"X\"\nmessage = \"m\"\n").unwrap();
    let (c, text) = code(&["run", "--adapter", "true", "--error-codes", codes_arg]);
    assert_eq!(c, 3);
    assert!(text.contains("--error-codes") && text.contains("nonsense"), "{text}");
}

#[test]
fn validate_handles_a_file_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(std::ffi::OsStr::from_bytes(b"OQSsiquc01req_\xff.xml"));
    std::fs::write(&path, REQUEST).unwrap();
    let out = std::process::Command::new(onshi())
        .arg("validate")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("MSG-NAME-001") && text.contains("not valid UTF-8"),
        "{text}"
    );
}

#[test]
fn after_a_missed_deadline_the_next_step_gets_a_fresh_initialized_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite/file");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(
        suite.join("FILE-RESTART-001.toml"),
        r#"
id = "FILE-RESTART-001"
title = "restart in the middle of a case"
requirement = "OQS-IF-001/002"
capabilities = ["file.qualification", "file.face"]
severity = "mandatory"
summary = "step 1 misses its deadline, so the adapter is stopped; step 3 needs a new one"

[terminal]
answer = false

[[step]]
do = "confirm_qualification"
card = { persona = "valid-kenpo-insured" }
timeout_ms = 500
[step.expect]
outcome = "error"
within_ms = 1500

[[step]]
do = "present_card"
persona = "face-consenting"

[[step]]
do = "import_face"
[step.expect]
outcome = "valid"
"#,
    )
    .unwrap();
    let suite_arg = dir.path().join("suite");
    let (c, report, text) = run_suite(
        &reference_adapter(Some("no-timeout")),
        &dir.path().join("r"),
        &["--suite", suite_arg.to_str().unwrap()],
    );
    assert_eq!(c, 1, "{text}");
    let case = case_report(&report.unwrap(), "FILE-RESTART-001");
    assert_eq!(case["verdict"], "fail", "{case}");
    let status = |id: &str, step: u64| {
        case["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id && c["step"] == step)
            .map(|c| c["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("OUT-TIMEOUT", 1).as_deref(), Some("fail"));
    assert_eq!(status("OUT-VALID", 3).as_deref(), Some("pass"), "{case}");
}

#[test]
fn the_html_report_shows_what_failed_and_the_messages_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let (code, report, text) = run_suite(
        &reference_adapter(Some("zero-pad-insurer")),
        dir.path(),
        &["--case", "FILE-PAD-001", "--case", "FILE-QUAL-001"],
    );
    assert_eq!(code, 1, "{text}");
    let report = report.unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    // the failing check with its explanation, expected and actual with the difference marked
    assert!(
        html.contains(r##"<a href="#case-FILE-PAD-001">"##),
        "the case table links to the failure"
    );
    assert!(html.contains("REQ-CARD") && html.contains("<b>Fix:</b>"));
    assert!(
        html.contains("InsurerNumber=&quot;<mark>  </mark>990015&quot;"),
        "expected side marked"
    );
    assert!(
        html.contains("InsurerNumber=&quot;<mark>00</mark>990015&quot;"),
        "actual side marked"
    );
    // the messages exchanged, request beside result
    let request = report["cases"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| {
            c["message"]
                .as_str()
                .and_then(|m| m.split_whitespace().find(|w| w.starts_with("req/OQS")))
        })
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned());
    assert!(
        html.contains(&request.expect("the lint names the request file")),
        "the request is shown"
    );
    assert!(html.contains("res/OQSsiquc01res_"), "the result is shown");
    assert!(html.contains("&lt;InsurerNumber&gt;00990015&lt;/InsurerNumber&gt;"));
    let Some(browser) = chromium() else { return };
    let (dom, console) = render_in_browser(&browser, &dir.path().join("report.html"));
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(dom.contains("What went wrong") && dom.contains("FILE-QUAL-001"));
}
