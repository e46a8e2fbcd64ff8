//! `onshi` — the command line of onshi-harness.
//!
//! Exit codes: 0 all applicable cases passed (or the files are clean), 1 some case failed
//! (or a file has lint errors), 2 harness or adapter error, 3 usage error.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_suite.rs"));
}
mod bundle;
mod card;
mod diff;
mod operator;
mod review;
mod rush;
mod serve;
mod smb;
mod validate;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use onshi_harness::report::{self, CaseReport, RunReport, Verdict};
use onshi_harness::scenario::{Case, LoadError, Suite};
use onshi_harness::{Progress, RunOptions};
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::Registry;

// The national mock allocates many small strings per request; mimalloc serves them faster
// than the system allocator (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub(crate) const EXIT_FAIL: u8 = 1;
pub(crate) const EXIT_HARNESS: u8 = 2;
pub(crate) const EXIT_USAGE: u8 = 3;

#[derive(Parser)]
#[command(
    name = "onshi",
    version,
    about = "Conformance harness for オンライン資格確認 (online eligibility confirmation) clients",
    after_help = "Exit codes: 0 all applicable cases passed, 1 some failed, 2 harness or adapter error, 3 usage error.\nDocs: README.md, docs/driver-protocol.md, docs/api.md, docs/cases.md, docs/checks.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance suite against a client's adapter (onshi-driver/1 over stdin/stdout).
    Run(RunArgs),
    /// Run the bundled reference client through the whole suite.
    Demo {
        /// Where to write report.json, junit.xml, journal.jsonl.
        #[arg(value_parser = crate::absolute_path(), long, default_value = "onshi-report", value_name = "DIR")]
        report_dir: PathBuf,
        #[command(flatten)]
        bundle: bundle::BundleArgs,
        /// The language of the reports: ja or en (default: the locale).
        #[arg(long, value_name = "ja|en", value_parser = ["ja", "en"])]
        lang: Option<String>,
    },
    /// A reception rush (受付ラッシュ): lookup latency under load, per stage, from a profile.
    Rush(rush::RushArgs),
    /// Lint message files and print findings with check IDs; non-zero exit on errors.
    Validate {
        // read once, here, and named in findings as the user wrote them
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Start the national mock (HTTPS + admin API) and a terminal folder for manual testing with
    /// a real client; prints URLs, files and a copy-paste example; runs until Ctrl-C.
    Serve(serve::ServeArgs),
    /// The virtual My Number card: list, generate, serve into pcscd, run an APDU script.
    Card {
        #[command(subcommand)]
        command: card::CardCommand,
    },
    /// The test PKI.
    Pki {
        #[command(subcommand)]
        command: serve::PkiCommand,
    },
    /// Judge a finished run again from its journal: every case's checks and verdict derived
    /// anew with the suite and compared with report.json; exit 1 on any difference.
    Verify(verify::VerifyArgs),
    /// Render a bundle (or a report folder) again for a reviewer: report.html opening with the
    /// readiness page (導入準備の判定), in Japanese or English, optionally printed to PDF.
    Report(review::ReportArgs),
    /// Compare two runs (bundles, report folders or report.json): regressions, fixes,
    /// applicability and check changes; exit 1 on a regression — the gate against a baseline.
    Diff(diff::DiffArgs),
    /// Signing keys for evidence bundles (`--sign-key`, `onshi verify --key`).
    Keys {
        #[command(subcommand)]
        command: bundle::KeysCommand,
    },
    /// Print the case catalogue.
    Cases {
        /// Read cases from this folder instead of the embedded suite.
        #[arg(value_parser = crate::absolute_path(), long, value_name = "DIR")]
        suite: Option<PathBuf>,
    },
    /// The bundled reference client, as an adapter (`demo` runs it): `onshi run --adapter
    /// "onshi reference-client --defect NAME"` shows a deliberate defect caught;
    /// `--list-defects` lists them.
    ReferenceClient(onshi_reference_client::Args),
    /// The operator console `onshi run --operator` starts as its adapter.
    #[command(hide = true)]
    OperatorConsole(operator::ConsoleCommand),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The adapter command, run with `sh -c`, e.g. "python3 my_adapter.py".
    #[arg(long, value_name = "CMD", required_unless_present = "operator")]
    adapter: Option<String>,
    #[command(flatten)]
    operator: operator::OperatorArgs,
    #[command(flatten)]
    smb: smb::SmbArgs,
    #[command(flatten)]
    bundle: bundle::BundleArgs,
    /// Allow --listen / --smb-listen on an address other machines can reach.
    #[arg(long)]
    lan: bool,
    /// Read cases from this folder instead of the embedded suite.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "DIR")]
    suite: Option<PathBuf>,
    /// Run only this case (repeatable).
    #[arg(long = "case", value_name = "ID")]
    cases: Vec<String>,
    /// Seed of the synthetic World (identifiers, generated population).
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed: u64,
    /// Where to write report.json, junit.xml, journal.jsonl and adapter-stderr.log.
    #[arg(value_parser = crate::absolute_path(), long, default_value = "onshi-report", value_name = "DIR")]
    report_dir: PathBuf,
    /// Also write the JUnit XML here.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write the JSON report here.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The reception date to simulate, YYYYMMDD (default: today in Japan).
    #[arg(long, value_parser = parse_date, value_name = "YYYYMMDD")]
    date: Option<NaiveDate>,
    /// The terminal's shared folder (default: <report-dir>/terminal).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "DIR")]
    terminal_dir: Option<PathBuf>,
    /// Longest wait for one adapter call, in seconds (1 to 3600).
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    call_timeout: u64,
    /// The longest own time-out a client may declare before CLIENT-TIMEOUT warns, in seconds
    /// (how long a patient can wait at the counter; a judgement, not a specification value).
    #[arg(long, default_value_t = onshi_harness::checks::DESK_TIMEOUT_MS / 1000, value_name = "SECS")]
    desk_timeout: u64,
    /// Error codes for the World's answers, in the format of fixtures/synthetic-error-codes.toml
    /// (default: the embedded synthetic codes).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    error_codes: Option<PathBuf>,
}

/// clap value parser for every path option: made absolute at once, against the working
/// directory of the command line. Nothing after the edge sees a relative path — the
/// file-system watcher reports absolute ones, adapters may run elsewhere, printed commands are
/// pasted into other shells.
pub(crate) fn absolute_path() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PathBufValueParser::new().try_map(|p| onshi_harness::folders::absolute(&p))
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| format!("{s:?} is not a date written YYYYMMDD"))
}

pub(crate) fn today_jst() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive()
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Command::ReferenceClient(args) = cli.command {
        return match onshi_reference_client::main_with(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("onshi reference-client: {e:#}");
                ExitCode::from(EXIT_HARNESS)
            }
        };
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ONSHI_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Demo {
            report_dir,
            bundle,
            lang,
        } => {
            let exe = match std::env::current_exe() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("onshi demo: cannot find this program's path to start the reference client: {e}");
                    return ExitCode::from(EXIT_HARNESS);
                }
            };
            run_command(RunArgs {
                adapter: Some(format!("{} reference-client", shell_quote(&exe))),
                operator: operator::OperatorArgs {
                    lang,
                    ..Default::default()
                },
                smb: Default::default(),
                bundle,
                lan: false,
                suite: None,
                cases: Vec::new(),
                seed: 0,
                report_dir,
                junit: None,
                json: None,
                date: None,
                terminal_dir: None,
                call_timeout: 60,
                desk_timeout: onshi_harness::checks::DESK_TIMEOUT_MS / 1000,
                error_codes: None,
            })
        }
        Command::Rush(args) => rush::rush_command(args),
        Command::Validate { files } => validate::run(&files),
        Command::Cases { suite } => cases_command(suite.as_deref()),
        Command::Verify(args) => verify::verify_command(args),
        Command::Keys { command } => bundle::keys_command(command),
        Command::Report(args) => review::report_command(args),
        Command::Diff(args) => diff::diff_command(args),
        Command::Serve(args) => serve::serve_command(args),
        Command::Pki { command } => serve::pki_command(command),
        Command::Card { command } => card::card_command(command),
        Command::ReferenceClient(_) => unreachable!("handled above"),
        Command::OperatorConsole(c) => match operator::console_command(c) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("onshi operator-console: {e:#}");
                ExitCode::from(EXIT_HARNESS)
            }
        },
    }
}

/// Writes `text` to stdout; a closed pipe (`onshi … | head`) is not an error worth a panic.
pub(crate) fn say(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

pub(crate) fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

pub(crate) fn load_suite(dir: Option<&Path>, registry: &Registry) -> Result<Suite, Vec<LoadError>> {
    let (origin, sources) = suite_sources(dir)?;
    onshi_harness::load_sources(&origin, &sources, registry, &onshi_rush::step::Support)
}

/// A suite's files: (path inside the suite, text).
pub(crate) type Sources = Vec<(String, String)>;

/// The suite's files with its origin: a folder's, or the embedded ones.
pub(crate) fn suite_sources(dir: Option<&Path>) -> Result<(String, Sources), Vec<LoadError>> {
    match dir {
        Some(d) => Ok((d.display().to_string(), onshi_harness::read_dir_sources(d)?)),
        None => Ok((
            "embedded".into(),
            embedded::SCENARIOS
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
        )),
    }
}

pub(crate) fn print_load_errors(errors: &[LoadError]) {
    eprintln!("onshi: the suite has {} problem(s):", errors.len());
    for e in errors {
        eprintln!("  {e}");
    }
}

fn cases_command(dir: Option<&Path>) -> ExitCode {
    let registry = Registry::embedded(today_jst(), 0);
    let suite = match load_suite(dir, &registry) {
        Ok(s) => s,
        Err(e) => {
            print_load_errors(&e);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let proofs = proofs();
    for c in &suite.cases {
        println!("{}  [{}] {}", c.id(), severity_tag(c), c.def.title);
        println!(
            "    requirement {} · needs {}",
            c.def.requirement,
            c.def.capabilities.join(", ")
        );
        for p in proofs.iter().filter(|p| p.case == c.id()) {
            println!("    proven by --defect {} → {}", p.defect, p.check);
        }
    }
    println!(
        "\n{} cases ({}). Details: docs/cases.md",
        suite.cases.len(),
        suite.origin
    );
    ExitCode::SUCCESS
}

fn severity_tag(c: &Case) -> &'static str {
    match c.def.severity {
        onshi_harness::scenario::Severity::Mandatory => "mandatory",
        onshi_harness::scenario::Severity::Recommended => "recommended",
    }
}

/// The defect table of the reference client, as catalogue proofs.
fn proofs() -> Vec<onshi_harness::docs::Proof> {
    onshi_reference_client::DEFECTS
        .iter()
        .flat_map(|d| {
            d.catches.iter().map(|c| onshi_harness::docs::Proof {
                case: c.case,
                defect: d.name,
                check: c.check,
                behaviour: d.behaviour,
            })
        })
        .collect()
}

struct Bar {
    bar: ProgressBar,
}

impl Progress for Bar {
    fn started(&mut self, index: usize, total: usize, case: &Case) {
        self.bar.set_length(total as u64);
        self.bar.set_position(index as u64);
        self.bar.set_message(format!("{} {}", case.id(), case.def.title));
    }

    fn finished(&mut self, r: &CaseReport) {
        let mark = match r.verdict {
            Verdict::Pass => "✓",
            Verdict::Fail => "✗",
            Verdict::NotApplicable => "-",
            Verdict::Error => "!",
        };
        let line = format!("{mark} {:<18} {:<15} {}", r.id, r.verdict.as_str(), r.title);
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
        self.bar.inc(1);
    }
}

fn run_command(args: RunArgs) -> ExitCode {
    let terminal_root = match onshi_harness::folders::run_folders(&args.report_dir, args.terminal_dir.as_deref()) {
        Ok((_, t)) => t,
        Err(e) => {
            eprintln!("onshi run: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let date = args.date.unwrap_or_else(today_jst);
    let registry = Arc::new(Registry::embedded(date, args.seed));
    let loaded = suite_sources(args.suite.as_deref()).and_then(|(origin, sources)| {
        onshi_harness::load_sources(&origin, &sources, &registry, &onshi_rush::step::Support).map(|s| (s, sources))
    });
    let (suite, sources) = match loaded {
        Ok(s) => s,
        Err(e) => {
            print_load_errors(&e);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let sign_key = match args.bundle.prepare() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("onshi run: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(unknown) = args.cases.iter().find(|id| suite.case(id).is_none()) {
        eprintln!(
            "onshi run: no case {unknown:?} in the suite ({}); `onshi cases` lists them",
            suite.origin
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let (error_codes, error_codes_text) = match load_error_codes(args.error_codes.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("onshi run: --error-codes: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let (adapter, operator, call_timeout) = if args.operator.operator {
        let p = match operator::prepare(&args.operator, args.lan, &args.report_dir, date, args.seed) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("onshi run --operator: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        };
        if p.lan {
            eprintln!(
                "onshi: WARNING the operator console listens on an address other machines can reach; \
                 anyone with the URL below can answer for you (他のPCからアクセスできます。URLを共有しないでください)"
            );
        }
        eprintln!(
            "onshi: operator mode (手作業モード) — open this page in a browser and follow it:\n\n    {}\n",
            p.url
        );
        // a person who walks away times out like a hung adapter, after their allowance
        let timeout = args.call_timeout.max(args.operator.operator_time);
        (p.adapter, Some(p.mode), timeout)
    } else {
        (args.adapter.clone().unwrap_or_default(), None, args.call_timeout)
    };
    let options = RunOptions {
        error_codes,
        seed: args.seed,
        terminal_dir: args.terminal_dir.clone(),
        call_timeout: Duration::from_secs(call_timeout.max(1)),
        desk_timeout: Duration::from_secs(args.desk_timeout),
        operator,
        ..RunOptions::new(adapter.clone(), date, args.report_dir.clone())
    };
    // kept until the run ends: dropping it stops smbd
    let _share = match smb::start(&args.smb, &terminal_root, &args.report_dir.join("smb"), args.lan) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("onshi run --smb: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("█▉▊▋▌▍▎▏ "),
    );
    eprintln!(
        "onshi: {} case(s) from {} against `{}` — reception date {}, seed {}",
        if args.cases.is_empty() {
            suite.cases.len()
        } else {
            args.cases.len()
        },
        suite.origin,
        if args.operator.operator {
            "the operator console"
        } else {
            &adapter
        },
        date.format("%Y-%m-%d"),
        args.seed
    );
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onshi: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    let mut progress = Bar { bar };
    let result = runtime.block_on(onshi_harness::run(
        &suite,
        &args.cases,
        registry,
        &options,
        &mut progress,
    ));
    progress.bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onshi: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    if let Err(e) = write_reports(&report, &args) {
        eprintln!("onshi: cannot write the reports: {e}");
        return ExitCode::from(EXIT_HARNESS);
    }
    if let Some(path) = &args.bundle.bundle {
        let evidence = bundle::RunEvidence {
            report_dir: &args.report_dir,
            report: &report,
            suite: &sources,
            error_codes: error_codes_text,
            operator: args.operator.operator_name.clone(),
            world: [
                ("call_timeout_s".to_owned(), call_timeout.into()),
                (
                    "error_codes".to_owned(),
                    args.error_codes
                        .as_ref()
                        .map_or("embedded synthetic codes".to_owned(), |p| p.display().to_string())
                        .into(),
                ),
            ]
            .into(),
        };
        match bundle::write_run_bundle(path, sign_key.as_ref(), evidence) {
            Ok(m) => bundle::print_written(path, &m, sign_key.as_ref()),
            Err(e) => {
                eprintln!("onshi: cannot write the bundle: {e}");
                return ExitCode::from(EXIT_HARNESS);
            }
        }
    }
    let lang = report_lang(args.operator.lang.as_deref());
    print!("{}", report::summary_table(&report, lang));
    if let Some(line) = report::pcsc_notice(&report, lang) {
        print!("{line}");
    }
    print!("{}", report::failure_details(&report, lang));
    print!("{}", report::root_cause_summary(&report, lang));
    println!(
        "\nreports: {dir}/report.html, {dir}/report.json, {dir}/junit.xml, journal {dir}/journal.jsonl",
        dir = args.report_dir.display()
    );
    if let Some(client) = &report.run.client {
        println!(
            "client: {} {} ({})",
            client.name,
            client.version,
            client.capabilities.join(", ")
        );
    }
    ExitCode::from(report.exit_code as u8)
}

/// The error-code file of `--error-codes`, if given, and the text of the codes in use
/// (the embedded ones without it), which a bundle keeps.
pub(crate) fn load_error_codes(path: Option<&Path>) -> Result<(Option<Arc<ErrorCatalogue>>, String), String> {
    let Some(path) = path else {
        return Ok((None, onshi_protocol::synthetic::DEFAULT.to_owned()));
    };
    let text = onshi_harness::input::read_text(path, "error-code file", onshi_harness::input::MAX_TEXT_BYTES)
        .map_err(|e| e.to_string())?;
    let catalogue = ErrorCatalogue::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    Ok((Some(Arc::new(catalogue)), text))
}

/// The language asked for with `--lang`, else the locale's.
pub(crate) fn report_lang(flag: Option<&str>) -> onshi_harness::texts::Lang {
    flag.and_then(|l| onshi_harness::texts::Lang::parse(l).ok())
        .unwrap_or_else(onshi_harness::texts::Lang::from_env)
}

fn write_reports(report: &RunReport, args: &RunArgs) -> Result<(), String> {
    let write = |path: &Path, text: &str| std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()));
    let json = serde_json::to_string_pretty(report).expect("report serialises");
    let junit = report::junit_xml(report);
    write(&args.report_dir.join("report.json"), &json)?;
    write(&args.report_dir.join("junit.xml"), &junit)?;
    // the HTML view shows the messages of failing cases, from the journal just written
    let journal = onshi_harness::journal::read_jsonl(&args.report_dir.join("journal.jsonl")).unwrap_or_default();
    write(
        &args.report_dir.join("report.html"),
        &report::html::render(report, &journal, report_lang(args.operator.lang.as_deref())),
    )?;
    if let Some(p) = &args.json {
        write(p, &json)?;
    }
    if let Some(p) = &args.junit {
        write(p, &junit)?;
    }
    Ok(())
}
