//! `onshi diff OLD NEW`: two runs (bundles, report folders or report.json files) compared —
//! regressions, fixes, applicability and check changes — with exit 1 on a regression, the
//! gate a vendor's CI puts against last release's bundle.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onshi_harness::RunReport;
use onshi_harness::report::diff::{CaseChange, RunDiff};

use crate::{EXIT_FAIL, EXIT_HARNESS};

#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// The baseline: a bundle, a report folder or a report.json (last release's run).
    #[arg(value_parser = crate::absolute_path(), value_name = "OLD")]
    old: PathBuf,
    /// The run to judge against it.
    #[arg(value_parser = crate::absolute_path(), value_name = "NEW")]
    new: PathBuf,
    /// Also write the comparison as JUnit XML (a failed test case per regression).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// The report of a bundle (whose hashes must hold), a report folder or a report.json.
fn read_report(path: &Path) -> Result<RunReport, String> {
    let bytes = if crate::verify::is_bundle(path) {
        let bundle = crate::bundle::read_intact(path).map_err(|e| e.message().to_owned())?;
        if bundle.manifest.kind != onshi_evidence::Kind::Run {
            return Err(format!(
                "{} is a reception rush's bundle; onshi diff compares suite runs (a rush's SLOs are in its rush.json)",
                path.display()
            ));
        }
        bundle
            .file("report/report.json")
            .ok_or_else(|| format!("{}: report/report.json is not in the bundle", path.display()))?
            .to_vec()
    } else {
        let file = if path.is_dir() {
            path.join("report.json")
        } else {
            path.to_path_buf()
        };
        onshi_harness::input::read_bytes(&file, "report", 512 << 20).map_err(|e| e.to_string())?
    };
    serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a report: {e}", path.display()))
}

fn line(c: &CaseChange) -> String {
    let v = |v: Option<onshi_harness::Verdict>| v.map_or("—".to_owned(), |v| v.to_string());
    format!(
        "  {} [{}] {} → {}  {}",
        c.id,
        match c.severity {
            onshi_harness::scenario::Severity::Mandatory => "mandatory",
            onshi_harness::scenario::Severity::Recommended => "recommended",
        },
        v(c.old),
        v(c.new),
        c.title
    )
}

fn print(d: &RunDiff, old: &RunReport, new: &RunReport) {
    let who = |r: &RunReport| {
        let client = r
            .run
            .client
            .as_ref()
            .map_or("?".to_owned(), |c| format!("{} {}", c.name, c.version));
        format!("{client}, {}", r.run.started_at)
    };
    println!("baseline: {}\nnew:      {}", who(old), who(new));
    let section = |title: &str, cases: &[CaseChange], details: bool| {
        if cases.is_empty() {
            return;
        }
        println!("\n{title}: {}", cases.len());
        for c in cases {
            println!("{}", line(c));
            if details {
                for f in &c.failing {
                    println!("      {f}");
                }
            }
        }
    };
    section("regressions (新たな不合格)", &d.regressions, true);
    section("fixed (修正済み)", &d.fixed, false);
    section("applicability changed (適用の変化)", &d.applicability, false);
    section("no longer in the suite (削除されたケース)", &d.removed, false);
    if !d.evidence.is_empty() {
        println!("\nchecks that changed (チェック結果の変化): {}", d.evidence.len());
        let s =
            |s: Option<onshi_harness::checks::Status>| s.map_or("—".to_owned(), |s| format!("{s:?}").to_lowercase());
        for e in &d.evidence {
            println!("  {} {}: {} → {}  {}", e.case, e.check, s(e.old), s(e.new), e.message);
        }
    }
    println!(
        "\n{} case(s) compared: {} regression(s), {} fixed (回帰 {} 件、修正 {} 件)",
        d.compared,
        d.regressions.len(),
        d.fixed.len(),
        d.regressions.len(),
        d.fixed.len()
    );
}

pub(crate) fn diff_command(args: DiffArgs) -> ExitCode {
    let (old, new) = match (read_report(&args.old), read_report(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("onshi diff: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    let d = onshi_harness::report::diff::diff(&old, &new);
    print(&d, &old, &new);
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, onshi_harness::report::diff_junit(&d, &new))
    {
        eprintln!("onshi diff: {}: {e}", path.display());
        return ExitCode::from(EXIT_HARNESS);
    }
    if d.regressed() {
        ExitCode::from(EXIT_FAIL)
    } else {
        ExitCode::SUCCESS
    }
}
