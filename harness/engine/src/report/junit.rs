//! JUnit XML: one `<testcase>` per case, so CI systems show each case; failures carry the
//! check ID, expected, actual and the journal events.

use quick_xml::escape::escape;

use super::{RunReport, Verdict};

pub fn junit_xml(report: &RunReport) -> String {
    let s = &report.summary;
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"onshi-harness\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n",
        s.total,
        s.fail,
        s.error,
        s.not_applicable,
        secs(report.run.duration_ms)
    ));
    let mut areas: Vec<&str> = report.cases.iter().map(|c| c.area.as_str()).collect();
    areas.dedup();
    for area in areas {
        let cases: Vec<_> = report.cases.iter().filter(|c| c.area == area).collect();
        let count = |v: Verdict| cases.iter().filter(|c| c.verdict == v).count();
        out.push_str(&format!(
            "  <testsuite name=\"scenarios/{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n",
            escape(area),
            cases.len(),
            count(Verdict::Fail),
            count(Verdict::Error),
            count(Verdict::NotApplicable),
            secs(cases.iter().map(|c| c.duration_ms).sum())
        ));
        for c in cases {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{} {}\" time=\"{}\">\n",
                escape(area),
                escape(&c.id),
                escape(&c.title),
                secs(c.duration_ms)
            ));
            match c.verdict {
                Verdict::Pass => {}
                Verdict::Fail => {
                    // one <failure> per root cause (CI systems often show only the first);
                    // what failed because of it goes into its text
                    for (f, after) in c.root_failures() {
                        let mut text = f.message.clone();
                        if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                            text.push_str(&format!("\nexpected: {e}\nactual: {a}"));
                        }
                        if !f.events.is_empty() {
                            let ev: Vec<String> = f.events.iter().map(|e| format!("#{e}")).collect();
                            text.push_str(&format!("\njournal events: {}", ev.join(" ")));
                        }
                        for a in after {
                            text.push_str(&format!("\nthen {} failed because of it: {}", a.id, a.message));
                        }
                        out.push_str(&format!(
                            "      <failure type=\"{}\" message=\"{}: {}\">{}</failure>\n",
                            escape(&f.id),
                            escape(&f.id),
                            escape(&f.message),
                            escape(&text)
                        ));
                    }
                }
                Verdict::Error => out.push_str(&format!(
                    "      <error type=\"{}\" message=\"{}\"/>\n",
                    escape(c.reason_check.as_deref().unwrap_or("HARNESS")),
                    escape(c.reason.as_deref().unwrap_or(""))
                )),
                Verdict::NotApplicable => out.push_str(&format!(
                    "      <skipped message=\"{}\"/>\n",
                    escape(c.reason.as_deref().unwrap_or("not applicable"))
                )),
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
