//! `report.html`: a conformance run as one self-contained page (no script, no external
//! assets): the summary, every case's verdict, and for each case that failed the failing
//! checks with the rule, why it matters and how to fix it, expected and actual side by side
//! with the difference marked, and the messages exchanged in the case — what the client sent
//! beside what the World answered. A view of the report and the journal only.

use std::fmt::Write as _;

use super::{CaseReport, RunReport, Verdict};
use crate::checks;
use crate::journal::{Entry, Event};
use crate::report::svg::escape;
use onshi_national::events::NationalEvent;
use onshi_terminal::TerminalEvent;

/// Nothing may load from outside the page.
pub const CSP: &str =
    r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"#;

const CSS: &str = "
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05rem; }
.meta { color: #555; }
.cards { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.4rem 0.8rem; min-width: 7rem; }
.card b { display: block; font-size: 1.3rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; width: 100%; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
.pass { color: #17702a; font-weight: 600; } .fail, .error { color: #b00; font-weight: 600; } .not_applicable { color: #777; }
.check { border-left: 4px solid #b00; padding: 0.2rem 0.8rem; margin: 0.8rem 0; background: #fdf6f6; }
.sbs { display: grid; grid-template-columns: 1fr 1fr; gap: 0.6rem; }
.sbs > div { min-width: 0; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; font-size: 12.5px; margin: 0.2rem 0; }
mark { background: #ffd54f; }
.label { font-size: 12px; color: #555; font-weight: 600; }
";

/// Message bytes as text: UTF-8, or Shift_JIS when they are not UTF-8.
fn text(bytes: &[u8]) -> (String, &'static str) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), ""),
        Err(_) => (
            encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned(),
            " (decoded from Shift_JIS)",
        ),
    }
}

/// `expected` and `actual` escaped, with the part of each line that differs marked: the
/// lines are compared in order, and within a line what lies between the common start and
/// the common end is marked.
pub(crate) fn diff(expected: &str, actual: &str) -> (String, String) {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = (String::new(), String::new());
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i).copied(), a.get(i).copied());
        let (mx, my) = match (x, y) {
            (Some(x), Some(y)) => mark_line(x, y),
            (Some(x), None) => (format!("<mark>{}</mark>", escape(x)), String::new()),
            (None, Some(y)) => (String::new(), format!("<mark>{}</mark>", escape(y))),
            (None, None) => unreachable!("within the longer of the two"),
        };
        if x.is_some() {
            out.0.push_str(&mx);
            out.0.push('\n');
        }
        if y.is_some() {
            out.1.push_str(&my);
            out.1.push('\n');
        }
    }
    out
}

fn mark_line(x: &str, y: &str) -> (String, String) {
    if x == y {
        return (escape(x), escape(y));
    }
    let (xc, yc): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
    let pre = xc.iter().zip(&yc).take_while(|(a, b)| a == b).count();
    let post = xc[pre..]
        .iter()
        .rev()
        .zip(yc[pre..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let part = |c: &[char]| {
        let s = |r: &[char]| escape(&r.iter().collect::<String>());
        format!(
            "{}<mark>{}</mark>{}",
            s(&c[..pre]),
            s(&c[pre..c.len() - post]),
            s(&c[c.len() - post..])
        )
    };
    (part(&xc), part(&yc))
}

/// One message of a case: which way it went, what it is, its text.
struct Message {
    seq: u64,
    from_client: bool,
    what: String,
    body: String,
}

fn messages(entries: &[Entry]) -> Vec<Message> {
    let mut out = Vec::new();
    for e in entries {
        let (from_client, what, bytes): (bool, String, &[u8]) = match &e.event {
            Event::Terminal(TerminalEvent::RequestTaken { name, bytes }) => (true, format!("req/{name}"), &bytes.0),
            Event::Terminal(TerminalEvent::ResultWritten { name, bytes, .. }) => {
                (false, format!("res/{name}"), &bytes.0)
            }
            Event::Terminal(TerminalEvent::FaceWritten { name, bytes, .. }) => {
                (false, format!("face/{name}"), &bytes.0)
            }
            Event::National(NationalEvent::Exchange(x)) if !x.path.contains("/terminal") => {
                let (req, _) = text(&x.body.0);
                out.push(Message {
                    seq: e.seq,
                    from_client: true,
                    what: format!("{} {}", x.method, x.path),
                    body: req,
                });
                (false, format!("HTTP {}", x.status), &x.response_body.0)
            }
            _ => continue,
        };
        let (body, note) = text(bytes);
        out.push(Message {
            seq: e.seq,
            from_client,
            what: format!("{what}{note}"),
            body,
        });
    }
    out
}

/// Longest text shown for one message.
const MAX_SHOWN: usize = 8_000;

fn shorten(s: &str) -> String {
    if s.len() <= MAX_SHOWN {
        return s.to_owned();
    }
    let cut = (0..=MAX_SHOWN).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
    format!(
        "{}\n… ({} bytes more; the journal has all of it)",
        &s[..cut],
        s.len() - cut
    )
}

/// One failed check: what went wrong, expected beside actual, the rule and the fix.
fn check_block(h: &mut String, k: &crate::checks::CheckResult) {
    let info = checks::info(&k.id);
    let _ = write!(
        h,
        r#"<p><b>{}</b> {}</p><p>{}</p>"#,
        escape(&k.id),
        escape(info.map_or("", |i| i.title)),
        escape(&k.message)
    );
    if k.expected.is_some() || k.actual.is_some() {
        let (e, a) = diff(k.expected.as_deref().unwrap_or(""), k.actual.as_deref().unwrap_or(""));
        let _ = write!(
            h,
            r#"<div class="sbs"><div><span class="label">expected</span><pre>{e}</pre></div><div><span class="label">actual</span><pre>{a}</pre></div></div>"#
        );
    }
    if let Some(i) = info {
        let _ = write!(
            h,
            "<p><b>Rule:</b> {}<br><b>Why it matters:</b> {}<br><b>Fix:</b> {}</p>",
            escape(i.rule),
            escape(i.why),
            escape(i.fix)
        );
    }
    if !k.events.is_empty() {
        let ev: Vec<String> = k.events.iter().map(|e| format!("#{e}")).collect();
        let _ = write!(h, r#"<p class="meta">journal events {}</p>"#, ev.join(", "));
    }
}

fn case_details(h: &mut String, c: &CaseReport, journal: &[Entry]) {
    let _ = write!(
        h,
        r#"<section id="case-{id}"><h3>{id} — <span class="{v}">{vs}</span> — {t}</h3><p class="meta">requirement {r} · {sev:?} · {src} · journal #{f}–#{l}</p>"#,
        id = escape(&c.id),
        v = c.verdict.as_str(),
        vs = c.verdict.as_str(),
        t = escape(&c.title),
        r = escape(&c.requirement),
        sev = c.severity,
        src = escape(&c.source),
        f = c.journal.first,
        l = c.journal.last
    );
    if let Some(reason) = &c.reason {
        let _ = write!(h, "<p><b>Reason:</b> {}</p>", escape(reason));
    }
    for (k, after) in c.root_failures() {
        h.push_str(r#"<div class="check">"#);
        check_block(h, k);
        if !after.is_empty() {
            // what followed from it, each in full behind its one-line summary
            h.push_str("<p><b>Then failed because of it:</b></p>");
            for a in after {
                let _ = write!(
                    h,
                    "<details><summary><b>{}</b> {}</summary>",
                    escape(&a.id),
                    escape(&a.message)
                );
                check_block(h, a);
                h.push_str("</details>");
            }
        }
        h.push_str("</div>");
    }
    let span: Vec<Entry> = journal
        .iter()
        .filter(|e| e.seq >= c.journal.first && e.seq <= c.journal.last)
        .cloned()
        .collect();
    let msgs = messages(&span);
    if !msgs.is_empty() {
        h.push_str(r#"<h4>Messages exchanged</h4><div class="sbs"><div class="label">the client sent</div><div class="label">the World answered</div>"#);
        for m in msgs {
            let cell = format!(
                r#"<div><span class="label">#{} {}</span><pre>{}</pre></div>"#,
                m.seq,
                escape(&m.what),
                escape(&shorten(&m.body))
            );
            if m.from_client {
                h.push_str(&cell);
                h.push_str("<div></div>");
            } else {
                h.push_str("<div></div>");
                h.push_str(&cell);
            }
        }
        h.push_str("</div>");
    }
    h.push_str("</section>");
}

/// `report.html` of run `r`, with the messages of each failed case taken from `journal`.
pub fn render(r: &RunReport, journal: &[Entry]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{CSP}<title>onshi run — {} passed, {} failed</title><style>{CSS}</style></head><body>"#,
        r.summary.pass, r.summary.fail
    );
    let client = r
        .run
        .client
        .as_ref()
        .map(|c| format!("{} {} ({})", c.name, c.version, c.capabilities.join(", ")))
        .unwrap_or_else(|| "did not initialize".into());
    let _ = write!(
        h,
        r#"<h1>Conformance run (オンライン資格確認)</h1><p class="meta">client {} · adapter <code>{}</code> · reception date {} · seed {} · {} s · started {} · {} {}</p>"#,
        escape(&client),
        escape(&r.run.adapter),
        escape(&r.run.date),
        r.run.seed,
        r.run.duration_ms / 1000,
        escape(&r.run.started_at),
        escape(&r.harness.name),
        escape(&r.harness.version)
    );
    let s = &r.summary;
    h.push_str(r#"<div class="cards">"#);
    for (label, n, class) in [
        ("cases", s.total, ""),
        ("passed", s.pass, "pass"),
        ("failed", s.fail, "fail"),
        ("mandatory failed", s.mandatory_failures, "fail"),
        ("not applicable", s.not_applicable, "not_applicable"),
        ("errors", s.error, "error"),
    ] {
        let _ = write!(h, r#"<div class="card"><b class="{class}">{n}</b>{label}</div>"#);
    }
    h.push_str("</div>");
    h.push_str(
        "<h2>Cases</h2><table><tr><th>case</th><th>verdict</th><th>title</th><th>failed checks / reason</th></tr>",
    );
    for c in &r.cases {
        let failed: Vec<&str> = c.failures().map(|k| k.id.as_str()).collect();
        let detail = if !failed.is_empty() {
            failed.join(", ")
        } else {
            c.reason.clone().unwrap_or_default()
        };
        let id = if matches!(c.verdict, Verdict::Fail | Verdict::Error) {
            format!(r##"<a href="#case-{0}">{0}</a>"##, escape(&c.id))
        } else {
            escape(&c.id)
        };
        let _ = write!(
            h,
            r#"<tr><td>{id}</td><td class="{v}">{v}</td><td>{}</td><td>{}</td></tr>"#,
            escape(&c.title),
            escape(&detail),
            v = c.verdict.as_str()
        );
    }
    h.push_str("</table>");
    let failing: Vec<&CaseReport> = r
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
        .collect();
    let causes = super::root_causes(r);
    if !causes.is_empty() {
        h.push_str(
            "<h2>Root causes — fix these first</h2><table><tr><th>check</th><th>cases</th><th>e.g.</th><th>fix</th><th>then failed because of it</th></tr>",
        );
        for c in &causes {
            let info = checks::info(c.id);
            let cases: Vec<String> = c
                .cases
                .iter()
                .map(|id| format!(r##"<a href="#case-{0}">{0}</a>"##, escape(id)))
                .collect();
            let after: Vec<String> = c
                .consequences
                .iter()
                .map(|(id, n)| {
                    if *n > 1 {
                        format!("{} ×{n}", escape(id))
                    } else {
                        escape(id)
                    }
                })
                .collect();
            let _ = write!(
                h,
                "<tr><td><b>{}</b> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(c.id),
                escape(info.map_or("", |i| i.title)),
                cases.join(", "),
                escape(&c.example.message),
                escape(info.map_or("", |i| i.fix)),
                after.join(", ")
            );
        }
        h.push_str("</table>");
    }
    if !failing.is_empty() {
        h.push_str("<h2>What went wrong</h2>");
        for c in failing {
            case_details(&mut h, c, journal);
        }
    }
    h.push_str(r#"<p class="meta">The same data is in report.json; every message in journal.jsonl. All data is synthetic.</p></body></html>"#);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_is_marked_on_both_sides() {
        let (e, a) = diff("invalid_new_qualification", "valid");
        assert_eq!(e, "<mark>invalid_new_qualification</mark>\n");
        assert_eq!(a, "<mark>valid</mark>\n");
        let (e, a) = diff("InsurerNumber \"  990015\"", "InsurerNumber \"00990015\"");
        assert_eq!(e, "InsurerNumber &quot;<mark>  </mark>990015&quot;\n");
        assert_eq!(a, "InsurerNumber &quot;<mark>00</mark>990015&quot;\n");
        let (e, a) = diff("a\nb", "a");
        assert_eq!((e.as_str(), a.as_str()), ("a\n<mark>b</mark>\n", "a\n"));
    }

    #[test]
    fn shift_jis_messages_are_shown_decoded() {
        let (t, note) = text(&[0x8c, 0x9f, 0x8f, 0xd8]);
        assert_eq!((t.as_str(), note), ("検証", " (decoded from Shift_JIS)"));
        assert_eq!(text("検証".as_bytes()).1, "");
    }

    /// Everything a client controls — its messages, its name, the values it stored, the
    /// bytes it wrote — reaches the page escaped by the one escaping function: a client's text
    /// can never become markup in a reviewer's browser.
    #[test]
    fn client_text_is_escaped_everywhere() {
        use crate::checks::{CheckResult, Status};
        use crate::report::fixtures::{case, report};
        use onshi_terminal::events::Blob;
        const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
        let failed = CheckResult {
            id: "OUT-MESSAGE".into(),
            status: Status::Fail,
            message: format!("the client showed {HOSTILE}"),
            expected: Some(format!("expected {HOSTILE}")),
            actual: Some(format!("actual {HOSTILE}")),
            events: vec![2],
            step: Some(1),
            caused_by: None,
        };
        let mut r = report(vec![
            case(Verdict::Fail, vec![failed], None),
            case(Verdict::Error, vec![], Some(HOSTILE)),
        ]);
        r.run.client = Some(crate::report::ClientReport {
            name: HOSTILE.into(),
            version: HOSTILE.into(),
            capabilities: vec![HOSTILE.into()],
        });
        r.run.adapter = HOSTILE.into();
        let journal = vec![Entry {
            seq: 2,
            t_ms: 1.0,
            event: Event::Terminal(TerminalEvent::RequestTaken {
                name: format!("OQSsiquc01req_{HOSTILE}.xml"),
                bytes: Blob(format!("<?xml version=\"1.0\"?><XmlMsg>{HOSTILE}</XmlMsg>").into_bytes()),
            }),
        }];
        let html = render(&r, &journal);
        assert!(!html.contains("<script"), "a raw <script in the page");
        assert!(!html.contains("<img"), "a raw <img in the page");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "the text is shown, escaped"
        );
    }
}
