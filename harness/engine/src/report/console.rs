//! The console view of a report: a summary table and, for each failed check, what was
//! expected, what happened, the events that prove it and how to fix it.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::{RunReport, Verdict};
use crate::checks::{self, Status};

/// One row per case.
pub fn summary_table(report: &RunReport) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(["case", "verdict", "title", "failed checks / reason"]);
    for c in &report.cases {
        let mut failed: Vec<&str> = c.failures().map(|f| f.id.as_str()).collect();
        failed.dedup();
        let detail = match c.verdict {
            Verdict::Fail => failed.join(" "),
            Verdict::Error | Verdict::NotApplicable => c.reason.clone().unwrap_or_default(),
            Verdict::Pass => String::new(),
        };
        let verdict = match c.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NotApplicable => "n/a",
            Verdict::Error => "ERROR",
        };
        t.add_row([c.id.as_str(), verdict, c.title.as_str(), first_line(&detail)]);
    }
    let s = &report.summary;
    format!(
        "{t}\n{} cases: {} passed, {} failed ({} mandatory), {} not applicable, {} errors\n",
        s.total, s.pass, s.fail, s.mandatory_failures, s.not_applicable, s.error
    )
}

/// One line on the PC/SC cases a run could not apply, and how to enable them.
pub fn pcsc_notice(report: &RunReport) -> Option<String> {
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
    Some(format!(
        "{} PC/SC card case(s) not applicable ({reason}). To run them: {install}give the client PC/SC (the bundled \
         one: cargo run --release -p onshi-cli --features pcsc -- demo).\n",
        skipped.len(),
    ))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The details of every failure and error, with the catalogue's advice.
pub fn failure_details(report: &RunReport) -> String {
    let mut out = String::new();
    for c in &report.cases {
        match c.verdict {
            Verdict::Fail => {
                out.push_str(&format!("\n✗ {} — {}\n", c.id, c.title));
                // each root cause in full; what failed because of it, a line each
                for (f, after) in c.root_failures() {
                    let title = checks::info(&f.id).map(|i| i.title).unwrap_or("");
                    out.push_str(&format!("  {} {title}\n    {}\n", f.id, f.message));
                    if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                        out.push_str(&format!("    expected: {e}\n    actual:   {a}\n"));
                    }
                    if !f.events.is_empty() {
                        let ev: Vec<String> = f.events.iter().map(|e| format!("#{e}")).collect();
                        out.push_str(&format!("    journal events: {}\n", ev.join(" ")));
                    }
                    if let Some(i) = checks::info(&f.id) {
                        out.push_str(&format!("    fix: {}\n", i.fix));
                    }
                    // one line per check, however often it followed (each retry, say)
                    let mut shown: Vec<&str> = Vec::new();
                    for a in &after {
                        if shown.contains(&a.id.as_str()) {
                            continue;
                        }
                        shown.push(&a.id);
                        let times = after.iter().filter(|x| x.id == a.id).count();
                        out.push_str(&format!(
                            "    → then {}{} failed because of it: {}\n",
                            a.id,
                            if times > 1 {
                                format!(" (×{times})")
                            } else {
                                String::new()
                            },
                            first_line(&a.message)
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
                    out.push_str(&format!("  not evaluated: {} — {reason}\n", ids.join(", ")));
                }
            }
            Verdict::Error => {
                out.push_str(&format!("\n! {} — {} (harness or adapter error)\n", c.id, c.title));
                if let Some(r) = &c.reason {
                    for line in r.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
                if let Some(i) = c.reason_check.as_deref().and_then(checks::info) {
                    out.push_str(&format!("    {}: {}\n", i.id, i.fix));
                }
            }
            _ => {}
        }
    }
    out
}

/// The run's root causes, the most widespread first: what to fix first, with the cases each
/// failed in and what failed because of it. Empty when nothing failed.
pub fn root_cause_summary(report: &RunReport) -> String {
    let causes = super::root_causes(report);
    if causes.is_empty() {
        return String::new();
    }
    let followed: usize = causes.iter().flat_map(|c| &c.consequences).map(|(_, n)| n).sum();
    let mut out = format!(
        "\nRoot causes — fix these first ({} across {} failed case(s); {followed} more check(s) failed because of them):\n",
        causes.len(),
        report.summary.fail
    );
    for c in &causes {
        let title = checks::info(c.id).map(|i| i.title).unwrap_or("");
        let cases = if c.cases.len() > 4 {
            format!("{} and {} more", c.cases[..4].join(", "), c.cases.len() - 4)
        } else {
            c.cases.join(", ")
        };
        out.push_str(&format!(
            "  {} {title} — {} case(s): {cases}\n    e.g. {}\n",
            c.id,
            c.cases.len(),
            first_line(&c.example.message)
        ));
        if let Some(i) = checks::info(c.id) {
            out.push_str(&format!("    fix: {}\n", i.fix));
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
            out.push_str(&format!("    then failed because of it: {}\n", list.join(", ")));
        }
    }
    out
}
