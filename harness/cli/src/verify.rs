//! `onshi verify`: a finished run judged again from its journal — every case's checks and
//! verdict derived anew with the suite, and compared with what report.json says.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onshi_harness::RunReport;
use onshi_harness::journal::Entry;
use onshi_registry::Registry;

use crate::{EXIT_FAIL, EXIT_HARNESS, load_suite, parse_date, print_load_errors};

#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// The run's report folder (report.json and the journal it names), or its report.json.
    #[arg(value_parser = crate::absolute_path(), value_name = "REPORT")]
    report: PathBuf,
    /// The suite the run used, when it was not the embedded one (`onshi run --suite`).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "DIR")]
    suite: Option<PathBuf>,
}

/// Reads report.json and its journal from a report folder (or the report.json itself).
fn read_run(path: &Path) -> Result<(RunReport, Vec<Entry>), String> {
    let (dir, report_file) = if path.is_dir() {
        (path.to_path_buf(), path.join("report.json"))
    } else {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (dir, path.to_path_buf())
    };
    let text = std::fs::read(&report_file).map_err(|e| format!("{}: {e}", report_file.display()))?;
    let report: RunReport =
        serde_json::from_slice(&text).map_err(|e| format!("{} is not a report: {e}", report_file.display()))?;
    // the journal is named relative to the report; never follow it out of the folder
    let name = Path::new(&report.run.journal);
    if name.is_absolute() || name.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(format!(
            "the report names its journal {:?}, outside its folder",
            report.run.journal
        ));
    }
    let journal_file = dir.join(name);
    let journal = std::fs::read_to_string(&journal_file).map_err(|e| format!("{}: {e}", journal_file.display()))?;
    let entries = journal
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<Entry>(l)
                .map_err(|e| format!("{} line {}: not a journal entry: {e}", journal_file.display(), i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((report, entries))
}

pub(crate) fn verify_command(args: VerifyArgs) -> ExitCode {
    let (report, journal) = match read_run(&args.report) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onshi verify: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    let date = match parse_date(&report.run.date) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("onshi verify: the report's date: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    let registry = Registry::embedded(date, report.run.seed);
    let suite = match load_suite(args.suite.as_deref(), &registry) {
        Ok(s) => s,
        Err(errors) => {
            print_load_errors(&errors);
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    let desk = report
        .run
        .desk_timeout_ms
        .unwrap_or(onshi_harness::checks::DESK_TIMEOUT_MS);
    let r = onshi_harness::rederive::rederive(&suite, &registry, desk, &journal, &report);
    if r.differences.is_empty() {
        println!(
            "{} cases re-derived identically from the journal, {} stopped early as the journal records \
             ({} ケースの判定をジャーナルから再導出し、すべて一致しました)",
            r.identical,
            r.stopped,
            r.identical + r.stopped
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "{} differences between report.json and its journal (レポートとジャーナルが一致しません):",
            r.differences.len()
        );
        for d in &r.differences {
            println!("  {d}");
        }
        ExitCode::from(EXIT_FAIL)
    }
}
