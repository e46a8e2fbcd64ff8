//! `onshi diff OLD NEW`: the gate a vendor's CI puts against last release's run. A release
//! that breaks a case is a regression (exit 1, the case and check named, a failed JUnit test
//! case); the same run against itself, or a fix, passes the gate.

mod common;

use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `onshi diff` with these arguments: exit code and what it printed.
fn diff(args: &[&str]) -> (i32, String) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    common::said(&all)
}

#[test]
fn a_release_that_breaks_a_case_fails_the_gate_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        "--case",
        "FILE-QUAL-001",
        "--case",
        "FILE-QUAL-002",
        "--case",
        "FILE-QUAL-004",
    ];
    let run = |name: &str, defect: Option<&str>| {
        let bundle = d.join(format!("{name}.zip"));
        let mut args = cases.to_vec();
        args.extend(["--bundle", s(&bundle)]);
        let (code, _, text) = common::run_suite(&common::reference_adapter(defect), &d.join(name), &args);
        assert!(code == 0 || code == 1, "{text}");
        bundle
    };
    let baseline = run("baseline", None);
    let broken = run("broken", Some("any-result-valid"));

    // the baseline against itself: no change, the gate passes
    let (code, said) = diff(&[s(&baseline), s(&baseline)]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("0 regression(s)"), "{said}");

    // the broken release: FILE-QUAL-002 regressed, with its check
    let junit = d.join("diff.xml");
    let (code, said) = diff(&[s(&baseline), s(&broken), "--junit", s(&junit)]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("regressions (新たな不合格)"), "{said}");
    assert!(said.contains("FILE-QUAL-002 [mandatory] pass → fail"), "{said}");
    assert!(said.contains("OUT-INVALID"), "{said}");
    assert!(!said.contains("FILE-QUAL-001 [mandatory] pass → fail"), "{said}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<failure").count(), d_regressions(&said), "{xml}");
    assert!(xml.contains("FILE-QUAL-002") && xml.contains("OUT-INVALID"), "{xml}");

    // the fix shipped: the old broken run as baseline, a fixed one passes and names the fix;
    // report folders and report.json files compare as bundles do
    let (code, said) = diff(&[s(&d.join("broken")), s(&d.join("baseline/report.json"))]);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("fixed (修正済み)") && said.contains("FILE-QUAL-002 [mandatory] fail → pass"),
        "{said}"
    );

    // unreadable input: a clear error, exit 2
    let (code, said) = diff(&[s(&baseline), s(&d.join("missing.zip"))]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("missing.zip"), "{said}");
}

/// The number of regressions the summary line states.
fn d_regressions(said: &str) -> usize {
    let line = said.lines().find(|l| l.contains("regression(s)")).unwrap();
    line.split(": ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
