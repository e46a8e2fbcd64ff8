//! `onshi verify`: a finished run judged again from its journal — every case's checks and
//! verdict derived anew with the suite, and compared with what report.json says. Given an
//! evidence bundle, first every file's hash and the signature, then the same judgement with
//! the suite, personas and settings in the bundle.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onshi_harness::RunReport;
use onshi_harness::journal::{Entry, parse_jsonl};
use onshi_registry::Registry;

use crate::{EXIT_FAIL, EXIT_HARNESS, load_suite, parse_date, print_load_errors};

#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// An evidence bundle (`--bundle`), or a run's report folder (report.json and the
    /// journal it names), or its report.json.
    #[arg(value_parser = crate::absolute_path(), value_name = "BUNDLE|REPORT")]
    report: PathBuf,
    /// The suite the run used, when it was not the embedded one (`onshi run --suite`); a
    /// bundle carries its own.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "DIR")]
    suite: Option<PathBuf>,
    /// The public key the bundle must be signed with (`onshi keys new` made it); without it a
    /// signature is checked against the key it names, which proves nothing about who signed.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "PUBKEY")]
    key: Option<PathBuf>,
}

/// Whether `path` is a bundle rather than a report folder or report.json: a zip archive.
pub(crate) fn is_bundle(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 4];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && magic == *b"PK\x03\x04"
}

/// Reads report.json and its journal from a report folder (or the report.json itself).
pub(crate) fn read_run(path: &Path) -> Result<(RunReport, Vec<Entry>), String> {
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
    Ok((report, parse_jsonl(&journal, &journal_file.display().to_string())?))
}

pub(crate) fn verify_command(args: VerifyArgs) -> ExitCode {
    if is_bundle(&args.report) {
        return verify_bundle(&args);
    }
    if args.key.is_some() {
        eprintln!(
            "onshi verify: --key checks a bundle's signature; {} is not a bundle",
            args.report.display()
        );
        return ExitCode::from(crate::EXIT_USAGE);
    }
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

/// A note for when a bundle was made by another build of the harness than this one, naming
/// the build that re-derives it exactly; empty when it is this one.
pub(crate) fn made_by_note(m: &onshi_evidence::Manifest) -> String {
    let ours = (env!("CARGO_PKG_VERSION"), env!("ONSHI_COMMIT"));
    if (m.harness.version.as_str(), m.harness.commit.as_str()) == ours {
        return String::new();
    }
    format!(
        "\n  note: the bundle was made by onshi-harness {} (commit {}); this is {} (commit {}). Checks can change \
         between versions: re-derive it with the version that made it (このバンドルは onshi-harness {} で作成されました。同じ版で再検証してください)",
        m.harness.version, m.harness.commit, ours.0, ours.1, m.harness.version
    )
}

/// The bundle's files under `prefix`, as (path after the prefix, text).
fn texts_under(bundle: &onshi_evidence::Bundle, prefix: &str) -> Result<Vec<(String, String)>, String> {
    bundle
        .files
        .iter()
        .filter_map(|(p, b)| Some((p.strip_prefix(prefix)?, b)))
        .map(|(rel, b)| {
            String::from_utf8(b.clone())
                .map(|t| (rel.to_owned(), t))
                .map_err(|_| format!("{prefix}{rel} is not UTF-8"))
        })
        .collect()
}

/// A text file of the bundle.
fn text<'a>(bundle: &'a onshi_evidence::Bundle, path: &str) -> Result<&'a str, String> {
    let bytes = bundle
        .file(path)
        .ok_or_else(|| format!("{path} is not in the bundle; nothing to judge with"))?;
    std::str::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8"))
}

/// A suite run's verdicts judged again from its bundle: the differences (empty: identical),
/// with the counts, or why it cannot be judged.
fn rederive_run(bundle: &onshi_evidence::Bundle) -> Result<(onshi_harness::rederive::Rederived, usize), String> {
    let report: RunReport = serde_json::from_str(text(bundle, "report/report.json")?)
        .map_err(|e| format!("report/report.json is not a report: {e}"))?;
    let journal = parse_jsonl(text(bundle, "report/journal.jsonl")?, "report/journal.jsonl")?;
    let date = parse_date(&report.run.date).map_err(|e| format!("report/report.json's date: {e}"))?;
    if text(bundle, "catalogue/requirements.toml")? != onshi_harness::scenario::requirements::TEXT {
        return Err(format!(
            "the bundle's requirement catalogue is not this harness's{}",
            made_by_note(&bundle.manifest)
        ));
    }
    let population = onshi_registry::Population {
        seed: report.run.seed,
        ..Default::default()
    };
    let registry = Registry::new(
        text(bundle, "world/personas.toml")?,
        "world/personas.toml",
        population,
        date,
    )
    .map_err(|e| format!("world/personas.toml: {e}{}", made_by_note(&bundle.manifest)))?;
    let sources = texts_under(bundle, "suite/")?;
    let suite = onshi_harness::load_sources(&report.run.suite, &sources, &registry, &onshi_rush::step::Support)
        .map_err(|errors| {
            format!(
                "the bundle's suite does not load in this harness: {}{}",
                errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                made_by_note(&bundle.manifest)
            )
        })?;
    let desk = report
        .run
        .desk_timeout_ms
        .unwrap_or(onshi_harness::checks::DESK_TIMEOUT_MS);
    let cases = report.cases.len();
    Ok((
        onshi_harness::rederive::rederive(&suite, &registry, desk, &journal, &report),
        cases,
    ))
}

fn verify_bundle(args: &VerifyArgs) -> ExitCode {
    let fail = |e: String| {
        eprintln!("onshi verify: {e}");
        ExitCode::from(EXIT_HARNESS)
    };
    let trusted = match &args.key {
        None => None,
        Some(p) => match crate::bundle::read_key_file(p)
            .and_then(|pem| onshi_evidence::read_public_key(&pem, &p.display().to_string()).map_err(|e| e.to_string()))
        {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("onshi verify: --key: {e}");
                return ExitCode::from(crate::EXIT_USAGE);
            }
        },
    };
    if args.suite.is_some() {
        eprintln!("onshi verify: a bundle carries the suite it ran; --suite is for report folders");
        return ExitCode::from(crate::EXIT_USAGE);
    }
    let bundle = match onshi_evidence::read(&args.report) {
        Ok(b) => b,
        Err(e) => return fail(format!("{}: {e}", args.report.display())),
    };
    let m = &bundle.manifest;
    println!(
        "bundle: {} — a {} made {} by onshi-harness {} (commit {})",
        args.report.display(),
        match m.kind {
            onshi_evidence::Kind::Run => "suite run",
            onshi_evidence::Kind::Rush => "reception rush",
        },
        m.made_at,
        m.harness.version,
        m.harness.commit
    );
    let integrity = onshi_evidence::check(&bundle, trusted.as_ref());
    let mut problems: Vec<String> = integrity.problems.iter().map(ToString::to_string).collect();
    if problems.is_empty() {
        println!(
            "files: all {} match their SHA-256 in the manifest (全ファイルのハッシュが一致)",
            integrity.files
        );
    }
    match (&integrity.signed_by, &trusted) {
        (Some(k), Some(_)) => println!("signature: valid, by the key given ({k}) (署名を確認しました)"),
        (Some(k), None) => println!(
            "signature: valid, by key {k} — pass --key with the vendor's public key to know who signed (署名者は未確認)"
        ),
        (None, None) if bundle.signature.is_none() => println!("signature: none (署名なし)"),
        _ => {}
    }
    let rederived = match m.kind {
        onshi_evidence::Kind::Run => rederive_run(&bundle).map(|(r, cases)| {
            problems.extend(r.differences.iter().map(ToString::to_string));
            r.differences.is_empty().then(|| {
                format!(
                    "{} cases re-derived identically from the journal, {} stopped early as the journal records, of {cases} \
                     ({} ケースの判定をジャーナルから再導出し、すべて一致しました)",
                    r.identical,
                    r.stopped,
                    r.identical + r.stopped
                )
            })
        }),
        onshi_evidence::Kind::Rush => crate::rush::rederive_bundle(&bundle).map(|d| {
            let same = d.is_empty();
            problems.extend(d);
            same.then(|| {
                "the rush's SLO verdicts, counts and latencies re-derived identically from rush.hlog \
                 (SLO判定をヒストグラムから再導出し、一致しました)"
                    .to_owned()
            })
        }),
    };
    match rederived {
        Ok(Some(line)) => println!("{line}"),
        Ok(None) => {}
        Err(e) => problems.push(format!("cannot re-derive the verdicts: {e}")),
    }
    if problems.is_empty() {
        println!("verified (検証に成功しました)");
        ExitCode::SUCCESS
    } else {
        println!(
            "{} problem(s) — this bundle is not the run it claims to be (検証に失敗しました):",
            problems.len()
        );
        for p in &problems {
            println!("  {p}");
        }
        if integrity.problems.is_empty() {
            let note = made_by_note(m);
            if !note.is_empty() {
                println!("{}", note.trim_start_matches('\n'));
            }
        }
        ExitCode::from(EXIT_FAIL)
    }
}
