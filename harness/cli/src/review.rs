//! `onshi report BUNDLE`: a bundle (or a report folder) rendered again for a reviewer, in the
//! language they read — the readiness page first — and optionally printed to PDF through a
//! headless Chromium. Only files this command names are written, inside `--out`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onshi_harness::RunReport;

use crate::{EXIT_HARNESS, EXIT_USAGE};

#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    /// An evidence bundle (`--bundle`), or a report folder, or its report.json.
    #[arg(value_parser = crate::absolute_path(), value_name = "BUNDLE|REPORT")]
    input: PathBuf,
    /// The language: ja or en (default: the locale, LANG=ja_JP.UTF-8 giving Japanese).
    #[arg(long, value_name = "ja|en", value_parser = ["ja", "en"])]
    lang: Option<String>,
    /// Where to write report.html.
    #[arg(value_parser = crate::absolute_path(), long, default_value = "onshi-review", value_name = "DIR")]
    out: PathBuf,
    /// Also print the page to this PDF file with headless Chromium (chromium must be installed).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    pdf: Option<PathBuf>,
}

/// What to render: a suite run's report with its journal, or a rush's page as made.
enum Source {
    Run(Box<RunReport>, Vec<onshi_harness::journal::Entry>),
    Rush(Vec<u8>),
}

fn from_bundle(path: &Path) -> Result<Source, (u8, String)> {
    let bundle =
        crate::bundle::read_intact(path).map_err(|e| (e.exit_code(), format!("not rendered: {}", e.message())))?;
    let file = |name: &str| {
        bundle
            .file(name)
            .ok_or_else(|| (EXIT_HARNESS, format!("{name} is not in the bundle")))
    };
    match bundle.manifest.kind {
        onshi_evidence::Kind::Rush => Ok(Source::Rush(file("report/rush.html")?.to_vec())),
        onshi_evidence::Kind::Run => {
            let report = serde_json::from_slice(file("report/report.json")?)
                .map_err(|e| (EXIT_HARNESS, format!("report/report.json is not a report: {e}")))?;
            let journal = std::str::from_utf8(file("report/journal.jsonl")?)
                .map_err(|_| "report/journal.jsonl is not UTF-8".to_owned())
                .and_then(|t| onshi_harness::journal::parse_jsonl(t, "report/journal.jsonl"))
                .map_err(|e| (EXIT_HARNESS, e))?;
            Ok(Source::Run(Box::new(report), journal))
        }
    }
}

fn from_folder(path: &Path) -> Result<Source, (u8, String)> {
    let (report, journal) = crate::verify::read_run(path).map_err(|e| (EXIT_HARNESS, e))?;
    Ok(Source::Run(Box::new(report), journal))
}

pub(crate) fn report_command(args: ReportArgs) -> ExitCode {
    let lang = crate::report_lang(args.lang.as_deref());
    let source = if crate::verify::is_bundle(&args.input) {
        from_bundle(&args.input)
    } else {
        from_folder(&args.input)
    };
    let (name, page) = match source {
        Ok(Source::Run(report, journal)) => (
            "report.html",
            onshi_harness::report::html::render(&report, &journal, lang).into_bytes(),
        ),
        Ok(Source::Rush(page)) => ("rush.html", page),
        Err((code, e)) => {
            eprintln!("onshi report: {e}");
            return ExitCode::from(code);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("onshi report: cannot create {}: {e}", args.out.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let html = args.out.join(name);
    if let Err(e) = std::fs::write(&html, &page) {
        eprintln!("onshi report: {}: {e}", html.display());
        return ExitCode::from(EXIT_HARNESS);
    }
    println!("{}", html.display());
    if let Some(pdf) = &args.pdf {
        if let Err(e) = print_pdf(&html, pdf) {
            eprintln!("onshi report --pdf: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
        println!("{}", pdf.display());
    }
    ExitCode::SUCCESS
}

/// Prints `html` to `pdf` with a headless Chromium found on PATH.
fn print_pdf(html: &Path, pdf: &Path) -> Result<(), String> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .ok_or("no chromium, chromium-browser or google-chrome on PATH; install one (apt-get install chromium) or print report.html from a browser")?;
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .map_err(|e| format!("cannot start {browser}: {e}"))?;
    let made = std::fs::metadata(pdf).is_ok_and(|m| m.len() > 0);
    if !out.status.success() || !made {
        return Err(format!(
            "{browser} did not print the page: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        ));
    }
    Ok(())
}
