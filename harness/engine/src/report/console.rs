//! The console view of a report: a summary table and, for each failed check, what was
//! expected, what happened, the events that prove it and how to fix it.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::html::case_title;
use super::{RunReport, Verdict};
use crate::checks::{self, Status};
use crate::texts::Lang;

/// One row per case, in `lang`.
pub fn summary_table(report: &RunReport, lang: Lang) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header([
            lang.t("report.col.case"),
            lang.t("report.col.verdict"),
            lang.t("report.col.title"),
            lang.t("report.col.failed"),
        ]);
    for c in &report.cases {
        let mut failed: Vec<&str> = c.failures().map(|f| f.id.as_str()).collect();
        failed.dedup();
        let detail = match c.verdict {
            Verdict::Fail => failed.join(" "),
            Verdict::Error | Verdict::NotApplicable => c.reason.clone().unwrap_or_default(),
            Verdict::Pass => String::new(),
        };
        let verdict = lang.t(match c.verdict {
            Verdict::Pass => "console.pass",
            Verdict::Fail => "console.fail",
            Verdict::NotApplicable => "console.not_applicable",
            Verdict::Error => "console.error",
        });
        t.add_row([c.id.as_str(), verdict, case_title(c, lang), first_line(&detail)]);
    }
    let s = &report.summary;
    let line = lang.fill(
        "console.summary",
        &[
            ("total", &s.total),
            ("pass", &s.pass),
            ("fail", &s.fail),
            ("mandatory", &s.mandatory_failures),
            ("na", &s.not_applicable),
            ("error", &s.error),
        ],
    );
    format!("{t}\n{line}\n")
}

/// One line on the PC/SC cases a run could not apply, and how to enable them.
pub fn pcsc_notice(report: &RunReport, lang: Lang) -> Option<String> {
    let card = onshi_protocol::driver::capability::CARD_PCSC;
    let skipped: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::NotApplicable && c.capabilities.iter().any(|x| x == card))
        .collect();
    let first = skipped.first()?;
    let reason = first_line(first.reason.as_deref().unwrap_or(""));
    // the reason may already say which packages to install
    let install = if reason.contains("apt-get") {
        ""
    } else {
        "apt-get install pcscd vsmartcard-vpcd libpcsclite-dev pkgconf, and "
    };
    let line = lang.fill(
        "console.pcsc",
        &[("n", &skipped.len()), ("reason", &reason), ("install", &install)],
    );
    Some(format!("{line}\n"))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The details of every failure and error, with the catalogue's advice, in `lang`.
pub fn failure_details(report: &RunReport, lang: Lang) -> String {
    let mut out = String::new();
    for c in &report.cases {
        match c.verdict {
            Verdict::Fail => {
                out.push_str(&format!("\n✗ {} — {}\n", c.id, case_title(c, lang)));
                // each root cause in full; what failed because of it, a line each
                for (f, after) in c.root_failures() {
                    let info = checks::info_in(&f.id, lang);
                    let title = info.map(|i| i.title).unwrap_or("");
                    out.push_str(&format!("  {} {title}\n    {}\n", f.id, f.message));
                    if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                        out.push_str(&format!(
                            "    {} {e}\n    {} {a}\n",
                            lang.t("console.expected"),
                            lang.t("console.actual")
                        ));
                    }
                    if !f.events.is_empty() {
                        let ev: Vec<String> = f.events.iter().map(|e| format!("#{e}")).collect();
                        out.push_str(&format!("    {}: {}\n", lang.t("html.journal_events"), ev.join(" ")));
                    }
                    if let Some(i) = info {
                        out.push_str(&format!("    {}: {}\n", lang.t("console.fix"), i.fix));
                    }
                    // one line per check, however often it followed (each retry, say)
                    let mut shown: Vec<&str> = Vec::new();
                    for a in &after {
                        if shown.contains(&a.id.as_str()) {
                            continue;
                        }
                        shown.push(&a.id);
                        let times = after.iter().filter(|x| x.id == a.id).count();
                        let id = if times > 1 {
                            format!("{} (×{times})", a.id)
                        } else {
                            a.id.clone()
                        };
                        out.push_str(&format!(
                            "    → {}\n",
                            lang.fill("console.then", &[("id", &id), ("message", &first_line(&a.message))])
                        ));
                    }
                }
                // Checks that could not run because of the failures above, grouped by reason.
                let mut skipped: Vec<(&str, Vec<&str>)> = Vec::new();
                for c in c.checks.iter().filter(|c| c.status == Status::Skipped) {
                    match skipped.iter_mut().find(|(reason, _)| *reason == c.message) {
                        Some((_, ids)) => ids.push(&c.id),
                        None => skipped.push((&c.message, vec![&c.id])),
                    }
                }
                for (reason, ids) in skipped {
                    out.push_str(&format!(
                        "  {}: {} — {reason}\n",
                        lang.t("console.not_evaluated"),
                        ids.join(", ")
                    ));
                }
            }
            Verdict::Error => {
                out.push_str(&format!(
                    "\n! {} — {} ({})\n",
                    c.id,
                    case_title(c, lang),
                    lang.t("console.harness_error")
                ));
                if let Some(r) = &c.reason {
                    for line in r.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
                if let Some(id) = c.reason_check.as_deref()
                    && let Some(i) = checks::info_in(id, lang)
                {
                    out.push_str(&format!("    {id}: {}\n", i.fix));
                }
            }
            _ => {}
        }
    }
    out
}

/// The run's root causes, the most widespread first: what to fix first, with the cases each
/// failed in and what failed because of it. Empty when nothing failed.
pub fn root_cause_summary(report: &RunReport, lang: Lang) -> String {
    let causes = super::root_causes(report);
    if causes.is_empty() {
        return String::new();
    }
    let followed: usize = causes.iter().flat_map(|c| &c.consequences).map(|(_, n)| n).sum();
    let mut out = format!(
        "\n{}\n",
        lang.fill(
            "console.root_causes",
            &[
                ("n", &causes.len()),
                ("cases", &report.summary.fail),
                ("followed", &followed)
            ]
        )
    );
    for c in &causes {
        let info = checks::info_in(c.id, lang);
        let title = info.map(|i| i.title).unwrap_or("");
        let cases = if c.cases.len() > 4 {
            lang.fill(
                "console.and_more",
                &[("first", &c.cases[..4].join(", ")), ("n", &(c.cases.len() - 4))],
            )
        } else {
            c.cases.join(", ")
        };
        out.push_str(&format!(
            "  {} {title} — {}\n    {} {}\n",
            c.id,
            lang.fill("console.in_cases", &[("n", &c.cases.len()), ("cases", &cases)]),
            lang.t("html.example"),
            first_line(&c.example.message)
        ));
        if let Some(i) = info {
            out.push_str(&format!("    {}: {}\n", lang.t("console.fix"), i.fix));
        }
        if !c.consequences.is_empty() {
            let list: Vec<String> = c
                .consequences
                .iter()
                .map(|(id, n)| {
                    if *n > 1 {
                        format!("{id} ×{n}")
                    } else {
                        (*id).to_owned()
                    }
                })
                .collect();
            out.push_str(&format!("    {} {}\n", lang.t("console.then_list"), list.join(", ")));
        }
    }
    out
}
