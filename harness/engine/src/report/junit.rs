//! JUnit XML (written with `quick-junit`): one `<testsuite>` per area, one `<testcase>` per
//! case, so CI systems show each case. A failed case carries one `<failure>` typed by its first
//! root cause's check ID; its text lists every root cause (expected, actual, journal events)
//! and what failed because of each. Text from the client (its messages, its stored values) may
//! hold anything; characters XML cannot carry are removed or replaced, never written raw.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CaseReport, RunReport, Verdict};

/// `report` as JUnit XML.
pub fn junit_xml(report: &RunReport) -> String {
    let mut junit = Report::new("onshi-harness");
    junit.set_time(Duration::from_millis(report.run.duration_ms));
    let mut areas: Vec<&str> = report.cases.iter().map(|c| c.area.as_str()).collect();
    areas.dedup();
    for area in areas {
        let mut suite = TestSuite::new(format!("scenarios/{}", xml_text(area)));
        let cases: Vec<&CaseReport> = report.cases.iter().filter(|c| c.area == area).collect();
        suite.set_time(Duration::from_millis(cases.iter().map(|c| c.duration_ms).sum()));
        for c in cases {
            let mut case = TestCase::new(format!("{} {}", xml_text(&c.id), xml_text(&c.title)), status(c));
            case.set_classname(xml_text(area));
            case.set_time(Duration::from_millis(c.duration_ms));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("a report of plain strings serialises to a String")
}

/// A comparison of two runs as JUnit XML: one `<testcase>` per case of the new run, failed
/// when it regressed (its failing checks as the text), so CI shows the gate's reason.
pub fn diff_junit(d: &super::diff::RunDiff, new: &RunReport) -> String {
    let mut junit = Report::new("onshi-diff");
    let mut suite = TestSuite::new("regressions against the baseline");
    for c in &new.cases {
        let status = match d.regressions.iter().find(|r| r.id == c.id) {
            None => TestCaseStatus::success(),
            Some(r) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let was = r.old.map_or("not in the baseline".to_owned(), |v| format!("was {v}"));
                let now = r.new.map_or_else(String::new, |v| v.to_string());
                status.set_message(xml_text(&format!("{now} ({was})")));
                status.set_description(xml_text(&r.failing.join("\n")));
                status
            }
        };
        let mut case = TestCase::new(format!("{} {}", xml_text(&c.id), xml_text(&c.title)), status);
        case.set_classname(xml_text(&c.area));
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit
        .to_string()
        .expect("a report of plain strings serialises to a String")
}

fn status(c: &CaseReport) -> TestCaseStatus {
    match c.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail => {
            let roots = c.root_failures();
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut text = Vec::new();
            for (f, after) in &roots {
                let mut one = format!("{}: {}", f.id, f.message);
                if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                    one.push_str(&format!("\nexpected: {e}\nactual: {a}"));
                }
                if !f.events.is_empty() {
                    let ev: Vec<String> = f.events.iter().map(|e| format!("#{e}")).collect();
                    one.push_str(&format!("\njournal events: {}", ev.join(" ")));
                }
                for a in after {
                    one.push_str(&format!("\nthen {} failed because of it: {}", a.id, a.message));
                }
                text.push(one);
            }
            match roots.first() {
                Some((first, _)) => {
                    let more = match roots.len() {
                        1 => String::new(),
                        n => format!(" (and {} more root cause(s))", n - 1),
                    };
                    status
                        .set_type(xml_text(&first.id))
                        .set_message(xml_text(&format!("{}: {}{more}", first.id, first.message)));
                }
                None => {
                    status.set_type("FAIL").set_message("the case failed");
                }
            }
            status.set_description(xml_text(&text.join("\n\n")));
            status
        }
        Verdict::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_type(c.reason_check.as_deref().unwrap_or("HARNESS"))
                .set_message(xml_text(c.reason.as_deref().unwrap_or("")));
            status
        }
        Verdict::NotApplicable => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(xml_text(c.reason.as_deref().unwrap_or("not applicable")));
            status
        }
    }
}

/// `s` with the characters XML 1.0 cannot hold at all replaced by U+FFFD; `quick-junit`
/// removes control characters and ANSI escapes itself.
fn xml_text(s: &str) -> String {
    s.replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckResult, Status};
    use crate::report::fixtures::{case, report};

    fn failed(id: &str, message: &str, caused_by: Option<&str>) -> CheckResult {
        CheckResult {
            id: id.into(),
            status: Status::Fail,
            message: message.into(),
            expected: Some("`valid`".into()),
            actual: Some(message.into()),
            events: vec![7],
            step: Some(1),
            caused_by: caused_by.map(str::to_owned),
        }
    }

    /// The XML parses, element by element, with quick-xml, and holds no character XML 1.0
    /// forbids, raw or as a character reference.
    fn well_formed(xml: &str) {
        let mut reader = quick_xml::Reader::from_str(xml);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not well-formed at {}: {e}\n{xml}", reader.error_position()),
            }
        }
        let forbidden = |c: char| (c < ' ' && !"\t\n\r".contains(c)) || c == '\u{FFFE}' || c == '\u{FFFF}';
        assert!(!xml.chars().any(forbidden), "a raw character XML 1.0 forbids:\n{xml:?}");
        assert!(
            !xml.contains("&#x") && !xml.contains("&#"),
            "a character reference:\n{xml}"
        );
    }

    #[test]
    fn control_characters_in_client_text_do_not_break_the_xml() {
        let hostile = "the client said \u{1}\u{8}\u{1b}[31mred\u{1b}[0m \u{FFFF} <b>&</b> ]]> \"quoted\"";
        let xml = junit_xml(&report(vec![case(
            Verdict::Fail,
            vec![failed("OUT-VALID", hostile, None)],
            None,
        )]));
        well_formed(&xml);
        assert!(xml.contains("red"), "{xml}");
        assert!(!xml.contains('\u{1}') && !xml.contains('\u{1b}'), "{xml}");
        assert!(xml.contains("&lt;b&gt;&amp;&lt;/b&gt;"), "{xml}");
        let error = junit_xml(&report(vec![case(Verdict::Error, vec![], Some(hostile))]));
        well_formed(&error);
    }

    #[test]
    fn a_failed_case_is_one_failure_typed_by_its_first_root_with_every_root_in_its_text() {
        let xml = junit_xml(&report(vec![
            case(
                Verdict::Fail,
                vec![
                    failed("REQ-CARD", "sent the wrong card", None),
                    failed("OUT-VALID", "reported invalid", Some("REQ-CARD")),
                    failed("FS-REQ-ATOMIC", "not atomic", None),
                ],
                None,
            ),
            case(Verdict::Pass, vec![], None),
            case(
                Verdict::NotApplicable,
                vec![],
                Some("the client does not declare api.qualification"),
            ),
        ]));
        well_formed(&xml);
        assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
        assert!(xml.contains("type=\"REQ-CARD\""), "{xml}");
        assert!(xml.contains("(and 1 more root cause(s))"), "{xml}");
        assert!(
            xml.contains("then OUT-VALID failed because of it: reported invalid"),
            "{xml}"
        );
        assert!(xml.contains("FS-REQ-ATOMIC: not atomic"), "{xml}");
        assert!(xml.contains("<skipped"), "{xml}");
        assert!(xml.contains("tests=\"3\""), "{xml}");
        assert!(
            xml.contains("name=\"FILE-TEST-001 a &lt;title&gt; &amp; more\""),
            "{xml}"
        );
    }
}
