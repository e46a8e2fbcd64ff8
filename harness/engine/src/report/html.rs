//! `report.html`: a conformance run as one self-contained page (no script, no external
//! assets): the summary, every case's verdict, and for each case that failed the failing
//! checks with the rule, why it matters and how to fix it, expected and actual side by side
//! with the difference marked, and the messages exchanged in the case — what the client sent
//! beside what the World answered. A view of the report and the journal only.
//!
//! The page is built with `maud`, which escapes every value it inserts: text a client
//! controls can only ever become text. The one raw insertion is [`head`]'s fixed
//! stylesheet and policy.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{CaseReport, RunReport, Verdict};
use crate::checks::{self, CheckResult};
use crate::journal::{DriverEvent, Entry, Event};
use crate::texts::Lang;
use onshi_national::events::NationalEvent;
use onshi_protocol::driver::Evidence;
use onshi_terminal::TerminalEvent;

/// Nothing may load from outside the page.
const CSP: &str =
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
.readiness .verdict { font-size: 1.35rem; font-weight: 700; padding: 0.5rem 0.8rem; border-radius: 6px; }
.readiness .ready { background: #e8f5e9; color: #17702a; } .readiness .action { background: #fdecea; color: #b00; }
.unmet { border-left: 4px solid #b00; padding: 0 0.8rem; margin: 0.8rem 0; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  .readiness { page-break-after: always; }
  h2, h3 { page-break-after: avoid; } tr, .check, .unmet { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  pre { white-space: pre-wrap; }
  .noprint { display: none; }
}
";

/// The `<head>` every report page shares: charset, viewport, the content policy, the title
/// (escaped) and the page's fixed stylesheet.
pub fn head(title: &str, css: &[&str]) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            (PreEscaped(CSP))
            title { (title) }
            style { @for c in css { (PreEscaped(c)) } }
        }
    }
}

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

/// `expected` and `actual` as markup, with the part of each line that differs marked: the
/// lines are compared in order, and within a line what lies between the common start and
/// the common end is marked.
pub(crate) fn diff(expected: &str, actual: &str) -> (Markup, Markup) {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) => {
                let (mx, my) = mark_line(x, y);
                left.push(mx);
                right.push(my);
            }
            (Some(x), None) => left.push(html! { mark { (x) } }),
            (None, Some(y)) => right.push(html! { mark { (y) } }),
            (None, None) => unreachable!("within the longer of the two"),
        }
    }
    let lines = |v: Vec<Markup>| html! { @for l in &v { (l) "\n" } };
    (lines(left), lines(right))
}

fn mark_line(x: &str, y: &str) -> (Markup, Markup) {
    if x == y {
        return (html! { (x) }, html! { (y) });
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
        let s = |r: &[char]| r.iter().collect::<String>();
        html! { (s(&c[..pre])) mark { (s(&c[pre..c.len() - post])) } (s(&c[c.len() - post..])) }
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

/// A link to a failed case's details further down the page.
fn case_link(id: &str) -> Markup {
    html! { a href={ "#case-" (id) } { (id) } }
}

/// One failed check: what went wrong, expected beside actual, the rule and the fix.
fn check_block(k: &CheckResult, lang: Lang) -> Markup {
    let info = checks::info_in(&k.id, lang);
    html! {
        p { b { (k.id) } " " (info.map_or("", |i| i.title)) }
        p { (k.message) }
        @if k.expected.is_some() || k.actual.is_some() {
            @let (e, a) = diff(k.expected.as_deref().unwrap_or(""), k.actual.as_deref().unwrap_or(""));
            div.sbs {
                div { span.label { (lang.t("html.expected")) } pre { (e) } }
                div { span.label { (lang.t("html.actual")) } pre { (a) } }
            }
        }
        @if let Some(i) = info {
            p {
                b { (lang.t("html.rule")) } " " (i.rule) br;
                b { (lang.t("html.why")) } " " (i.why) br;
                b { (lang.t("html.fix")) } " " (i.fix)
            }
        }
        @if !k.events.is_empty() {
            @let ev: Vec<String> = k.events.iter().map(|e| format!("#{e}")).collect();
            p.meta { (lang.t("html.journal_events")) " " (ev.join(", ")) }
        }
    }
}

/// Evidence the client attached to its answers in `entries` (operator mode: screenshots).
fn evidence(entries: &[Entry]) -> Vec<Evidence> {
    entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Driver(DriverEvent::Result { result, .. }) => result.get("evidence").cloned(),
            _ => None,
        })
        .filter_map(|v| serde_json::from_value::<Vec<Evidence>>(v).ok())
        .flatten()
        .collect()
}

/// Whether an evidence path names a file in the report's evidence folder (an adapter writes
/// the path: a link elsewhere, or a `javascript:` one, is shown as text).
fn linkable(file: &str) -> bool {
    file.strip_prefix("operator/evidence/").is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('.')
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    })
}

fn case_details(c: &CaseReport, journal: &[Entry], lang: Lang) -> Markup {
    let span: Vec<Entry> = journal
        .iter()
        .filter(|e| e.seq >= c.journal.first && e.seq <= c.journal.last)
        .cloned()
        .collect();
    let msgs = messages(&span);
    let shots = evidence(&span);
    html! {
        section id={ "case-" (c.id) } {
            h3 { (c.id) " — " span class=(c.verdict.as_str()) { (verdict_word(c.verdict, lang)) } " — " (case_title(c, lang)) }
            p.meta {
                (lang.t("readiness.requirement")) " " (c.requirement) " · " (severity_word(c.severity, lang)) " · " (c.source)
                " · " (lang.t("html.journal")) " #" (c.journal.first) "–#" (c.journal.last)
            }
            @if let Some(reason) = &c.reason {
                p { b { (lang.t("html.reason")) } " " (reason) }
            }
            @if !shots.is_empty() {
                p {
                    b { (lang.t("html.screenshots")) }
                    @for e in &shots {
                        " "
                        // a link only to a file in the evidence folder; anything else is text
                        @if linkable(&e.file) { a href=(e.file) { (e.file) } } @else { code { (e.file) } }
                        " " span.meta { "SHA-256 " (e.sha256) }
                    }
                }
            }
            @for (k, after) in c.root_failures() {
                div.check {
                    (check_block(k, lang))
                    @if !after.is_empty() {
                        // what followed from it, each in full behind its one-line summary
                        p { b { (lang.t("html.then_failed")) } }
                        @for a in after {
                            details {
                                summary { b { (a.id) } " " (a.message) }
                                (check_block(a, lang))
                            }
                        }
                    }
                }
            }
            @if !msgs.is_empty() {
                h4 { (lang.t("html.messages")) }
                div.sbs {
                    div.label { (lang.t("html.client_sent")) }
                    div.label { (lang.t("html.world_answered")) }
                    @for m in &msgs {
                        @let cell = html! {
                            div { span.label { "#" (m.seq) " " (m.what) } pre { (shorten(&m.body)) } }
                        };
                        @if m.from_client { (cell) div {} } @else { div {} (cell) }
                    }
                }
            }
        }
    }
}

/// A case's title in the reader's language (the English one when the case has no Japanese).
pub fn case_title(c: &CaseReport, lang: Lang) -> &str {
    match (lang, &c.title_ja) {
        (Lang::Ja, Some(t)) => t,
        _ => &c.title,
    }
}

/// A verdict in the reader's language.
pub fn verdict_word(v: Verdict, lang: Lang) -> &'static str {
    lang.t(match v {
        Verdict::Pass => "verdict.pass",
        Verdict::Fail => "verdict.fail",
        Verdict::NotApplicable => "verdict.not_applicable",
        Verdict::Error => "verdict.error",
    })
}

fn severity_word(s: crate::spec::Severity, lang: Lang) -> &'static str {
    match s {
        crate::spec::Severity::Mandatory => lang.t("readiness.mandatory"),
        crate::spec::Severity::Recommended => lang.t("readiness.recommended"),
    }
}

/// `report.html` of run `r` in `lang`, opening with the readiness page, with the messages of
/// each failed case taken from `journal`.
pub fn render(r: &RunReport, journal: &[Entry], lang: Lang) -> String {
    let client = r
        .run
        .client
        .as_ref()
        .map(|c| format!("{} {} ({})", c.name, c.version, c.capabilities.join(", ")))
        .unwrap_or_else(|| lang.t("html.no_client").to_owned());
    let s = &r.summary;
    let failing: Vec<&CaseReport> = r
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
        .collect();
    let causes = super::root_causes(r);
    let title = format!("onshi — {}", super::readiness::Readiness::of(r).verdict_line(lang));
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(&title, &[CSS]))
            body {
                h1 { (lang.t("report.title")) }
                p.meta.noprint { (lang.t("report.print")) }
                (super::readiness::section(r, lang))
                h2 { (lang.t("html.run")) }
                p.meta {
                    (lang.t("html.client")) " " (client) " · " (lang.t("html.adapter")) " " code { (r.run.adapter) }
                    " · " (lang.t("html.date")) " " (r.run.date) " · " (lang.t("html.seed")) " " (r.run.seed)
                    " · " (r.run.duration_ms / 1000) " s · " (lang.t("html.started")) " " (r.run.started_at)
                    " · " (r.harness.name) " " (r.harness.version)
                }
                div.cards {
                    @for (label, n, class) in [
                        ("report.card.cases", s.total, ""),
                        ("report.card.passed", s.pass, "pass"),
                        ("report.card.failed", s.fail, "fail"),
                        ("report.card.mandatory_failed", s.mandatory_failures, "fail"),
                        ("report.card.not_applicable", s.not_applicable, "not_applicable"),
                        ("report.card.errors", s.error, "error"),
                    ] {
                        div.card { b class=(class) { (n) } (lang.t(label)) }
                    }
                }
                h2 { (lang.t("report.cases")) }
                table {
                    tr {
                        th { (lang.t("report.col.case")) } th { (lang.t("report.col.verdict")) }
                        th { (lang.t("report.col.title")) } th { (lang.t("report.col.failed")) }
                    }
                    @for c in &r.cases {
                        @let failed: Vec<&str> = c.failures().map(|k| k.id.as_str()).collect();
                        tr {
                            td {
                                @if matches!(c.verdict, Verdict::Fail | Verdict::Error) { (case_link(&c.id)) }
                                @else { (c.id) }
                            }
                            td class=(c.verdict.as_str()) { (verdict_word(c.verdict, lang)) }
                            td { (case_title(c, lang)) }
                            td {
                                @if failed.is_empty() { (c.reason.as_deref().unwrap_or_default()) }
                                @else { (failed.join(", ")) }
                            }
                        }
                    }
                }
                @if !causes.is_empty() {
                    h2 { (lang.t("report.root_causes")) }
                    table {
                        tr {
                            th { (lang.t("readiness.check")) } th { (lang.t("report.card.cases")) } th { (lang.t("html.example")) }
                            th { (lang.t("readiness.fix")) } th { (lang.t("html.then_failed")) }
                        }
                        @for c in &causes {
                            @let info = checks::info_in(c.id, lang);
                            tr {
                                td { b { (c.id) } " " (info.map_or("", |i| i.title)) }
                                td {
                                    @for (i, id) in c.cases.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        (case_link(id))
                                    }
                                }
                                td { (c.example.message) }
                                td { (info.map_or("", |i| i.fix)) }
                                td {
                                    @for (i, (id, n)) in c.consequences.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        (id)
                                        @if *n > 1 { " ×" (n) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !failing.is_empty() {
                    h2 { (lang.t("report.what_went_wrong")) }
                    @for c in failing { (case_details(c, journal, lang)) }
                }
                p.meta { (lang.t("report.footer")) }
            }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_is_marked_on_both_sides() {
        let diff = |e, a| {
            let (e, a) = diff(e, a);
            (e.into_string(), a.into_string())
        };
        let (e, a) = diff("invalid_new_qualification", "valid");
        assert_eq!(e, "<mark>invalid_new_qualification</mark>\n");
        assert_eq!(a, "<mark>valid</mark>\n");
        let (e, a) = diff("InsurerNumber \"  990015\"", "InsurerNumber \"00990015\"");
        assert_eq!(e, "InsurerNumber &quot;<mark>  </mark>990015&quot;\n");
        assert_eq!(a, "InsurerNumber &quot;<mark>00</mark>990015&quot;\n");
        let (e, a) = diff("a\nb", "a");
        assert_eq!((e.as_str(), a.as_str()), ("a\n<mark>b</mark>\n", "a\n"));
        let (e, _) = diff("x <b>&", "x <i>&");
        assert_eq!(e, "x &lt;<mark>b</mark>&gt;&amp;\n");
    }

    #[test]
    fn shift_jis_messages_are_shown_decoded() {
        let (t, note) = text(&[0x8c, 0x9f, 0x8f, 0xd8]);
        assert_eq!((t.as_str(), note), ("検証", " (decoded from Shift_JIS)"));
        assert_eq!(text("検証".as_bytes()).1, "");
    }

    /// Everything a client controls — its messages, its name, the values it stored, the
    /// bytes it wrote — reaches the page escaped by maud, the page builder: a client's text
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
        let journal = vec![
            Entry {
                seq: 2,
                t_ms: 1.0,
                event: Event::Terminal(TerminalEvent::RequestTaken {
                    name: format!("OQSsiquc01req_{HOSTILE}.xml"),
                    bytes: Blob(format!("<?xml version=\"1.0\"?><XmlMsg>{HOSTILE}</XmlMsg>").into_bytes()),
                }),
            },
            Entry {
                seq: 3,
                t_ms: 2.0,
                event: Event::Driver(DriverEvent::Result {
                    id: 1,
                    method: "confirm_qualification".into(),
                    result: serde_json::json!({"outcome": "valid", "message": "", "evidence": [
                        {"file": "javascript:alert(3)", "sha256": HOSTILE},
                        {"file": "operator/evidence/FILE-QUAL-001-step2-answer3.png", "sha256": "ab"},
                    ]}),
                    elapsed_ms: 1,
                }),
            },
        ];
        let html = render(&r, &journal, Lang::En);
        assert!(!html.contains("<script"), "a raw <script in the page");
        assert!(!html.contains("<img"), "a raw <img in the page");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "the text is shown, escaped"
        );
        assert!(
            !html.contains("href=\"javascript:"),
            "an adapter's path is never a script link"
        );
        assert!(html.contains("<code>javascript:alert(3)</code>"), "it is shown as text");
        assert!(
            html.contains("href=\"operator/evidence/FILE-QUAL-001-step2-answer3.png\""),
            "a screenshot in the evidence folder is linked"
        );
    }
}
