//! `--bundle FILE` and `onshi keys new`: which files of a finished run make its evidence
//! bundle, the facts written beside them (harness, machine, World), and the signing key.
//! The archive, hashes and signature are onshi-evidence's; this module only chooses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onshi_evidence::{Harness, Kind, Machine, Manifest, RunFacts, SigningKey};
use onshi_harness::RunReport;

use crate::{EXIT_HARNESS, EXIT_USAGE};

/// The bundle options of `onshi run`, `onshi demo` and `onshi rush`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct BundleArgs {
    /// Also write an evidence bundle (証跡バンドル): one archive with the reports, the journal,
    /// the suite as run and the World's settings, every file hashed in its manifest; a
    /// reviewer checks it with `onshi verify FILE` (docs/evidence.md).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Sign the bundle's manifest with this Ed25519 secret key (`onshi keys new` makes one).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "KEY", requires = "bundle")]
    pub sign_key: Option<PathBuf>,
}

impl BundleArgs {
    /// Checked before the run, so that a wrong path costs no run: the bundle's folder (made
    /// if missing) and the signing key, which is returned.
    pub(crate) fn prepare(&self) -> Result<Option<SigningKey>, String> {
        if let Some(bundle) = &self.bundle {
            if bundle.is_dir() {
                return Err(format!(
                    "--bundle {} is a folder; give a file name, e.g. run.zip",
                    bundle.display()
                ));
            }
            if let Some(parent) = bundle.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("--bundle: cannot create {}: {e}", parent.display()))?;
            }
        }
        let Some(path) = &self.sign_key else { return Ok(None) };
        let pem = read_key_file(path).map_err(|e| format!("--sign-key: {e}"))?;
        onshi_evidence::read_secret_key(&pem, &path.display().to_string())
            .map(Some)
            .map_err(|e| format!("--sign-key: {e}"))
    }
}

/// Why a bundle is not to be used: it cannot be read, or it does not match its manifest.
pub(crate) enum NotIntact {
    /// Not a readable bundle.
    Unreadable(String),
    /// Files or the signature disagree with the manifest.
    Tampered(String),
}

impl NotIntact {
    /// The exit code: 2 unreadable, 1 tampered (as `onshi verify`).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            NotIntact::Unreadable(_) => EXIT_HARNESS,
            NotIntact::Tampered(_) => crate::EXIT_FAIL,
        }
    }

    /// What to tell the user.
    pub(crate) fn message(&self) -> &str {
        match self {
            NotIntact::Unreadable(m) | NotIntact::Tampered(m) => m,
        }
    }
}

/// The bundle at `path`, read and checked against its manifest (hashes and the signature
/// over it): what `onshi report` and `onshi diff` work from. Verdicts are not re-derived —
/// that is `onshi verify`.
pub(crate) fn read_intact(path: &Path) -> Result<onshi_evidence::Bundle, NotIntact> {
    let bundle = onshi_evidence::read(path).map_err(|e| NotIntact::Unreadable(format!("{}: {e}", path.display())))?;
    let problems = onshi_evidence::check(&bundle, None).problems;
    if problems.is_empty() {
        return Ok(bundle);
    }
    let list: Vec<String> = problems.iter().map(|p| format!("\n  {p}")).collect();
    Err(NotIntact::Tampered(format!(
        "{} does not match its manifest (改変されたバンドルです); `onshi verify` tells more:{}",
        path.display(),
        list.concat()
    )))
}

/// A key file's text (small; anything large is not a key).
pub(crate) fn read_key_file(path: &Path) -> Result<String, String> {
    onshi_harness::input::read_text(path, "key file", 64 * 1024).map_err(|e| e.to_string())
}

/// The program that makes the bundle: version, source commit, SHA-256 of this binary.
pub(crate) fn harness() -> Harness {
    let binary_sha256 = std::env::current_exe()
        .and_then(std::fs::read)
        .map(|b| onshi_evidence::sha256_hex(&b))
        .unwrap_or_else(|e| format!("unknown ({e})"));
    Harness {
        name: "onshi-harness".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        commit: env!("ONSHI_COMMIT").into(),
        binary_sha256,
    }
}

/// The machine's basic facts: no host name, no addresses.
fn machine() -> Machine {
    let memory_bytes = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    Machine {
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|k| k.trim().to_owned()),
    }
}

fn versions() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("driver_protocol".into(), onshi_protocol::driver::PROTOCOL.into()),
        ("report".into(), "onshi-report/1".into()),
        ("harness".into(), env!("CARGO_PKG_VERSION").into()),
    ])
}

fn manifest(kind: Kind, run: RunFacts) -> Manifest {
    Manifest {
        format: String::new(),
        kind,
        made_at: chrono::Utc::now().to_rfc3339(),
        harness: harness(),
        machine: machine(),
        run,
        files: Vec::new(),
    }
}

/// The parts of a suite run's bundle that are not in its report folder.
pub(crate) struct RunEvidence<'a> {
    /// The report folder.
    pub report_dir: &'a Path,
    /// The report just written there.
    pub report: &'a RunReport,
    /// The suite exactly as run: (path inside the suite, text).
    pub suite: &'a [(String, String)],
    /// The error codes the World answered with, as text.
    pub error_codes: String,
    /// The person at the console, in operator mode.
    pub operator: Option<String>,
    /// Settings of the World beyond those in the report.
    pub world: BTreeMap<String, serde_json::Value>,
}

/// The report files a suite run leaves, by their name in the bundle.
const RUN_REPORTS: [&str; 5] = [
    "report.json",
    "junit.xml",
    "report.html",
    "journal.jsonl",
    "adapter-stderr.log",
];

/// Writes the bundle of a suite run.
pub(crate) fn write_run_bundle(path: &Path, key: Option<&SigningKey>, ev: RunEvidence<'_>) -> Result<Manifest, String> {
    let mut files = Vec::new();
    for name in RUN_REPORTS {
        let p = ev.report_dir.join(name);
        match std::fs::read(&p) {
            Ok(bytes) => files.push((format!("report/{name}"), bytes)),
            // an adapter that never started leaves no stderr log
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && name == "adapter-stderr.log" => {}
            Err(e) => return Err(format!("{}: {e}", p.display())),
        }
    }
    // the screenshots a person attached in operator mode, which the journal names
    let evidence = ev.report_dir.join("operator/evidence");
    if let Ok(entries) = std::fs::read_dir(&evidence) {
        let mut names: Vec<_> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .collect();
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let bytes = std::fs::read(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
            files.push((
                format!("report/operator/evidence/{}", e.file_name().to_string_lossy()),
                bytes,
            ));
        }
    }
    files.extend(common_files(ev.suite, ev.error_codes));
    let run = &ev.report.run;
    let mut world = ev.world;
    world.insert("seed".into(), run.seed.into());
    world.insert("date".into(), run.date.clone().into());
    world.insert("desk_timeout_ms".into(), run.desk_timeout_ms.into());
    world.insert("suite".into(), run.suite.clone().into());
    let facts = RunFacts {
        command: std::env::args().skip(1).collect(),
        adapter: Some(run.adapter.clone()),
        operator: ev.operator,
        client: run.client.as_ref().and_then(|c| serde_json::to_value(c).ok()),
        world,
        versions: versions(),
    };
    onshi_evidence::write(path, manifest(Kind::Run, facts), files, key).map_err(|e| e.to_string())
}

/// The suite, the requirement catalogue, the personas and the error codes, as run.
fn common_files(suite: &[(String, String)], error_codes: String) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = suite
        .iter()
        .map(|(rel, text)| (format!("suite/{rel}"), text.clone().into_bytes()))
        .collect();
    files.push((
        "catalogue/requirements.toml".into(),
        onshi_harness::scenario::requirements::TEXT.into(),
    ));
    files.push(("world/personas.toml".into(), onshi_registry::EMBEDDED_PERSONAS.into()));
    files.push(("world/error-codes.toml".into(), error_codes.into_bytes()));
    files
}

/// The parts of a rush's bundle.
pub(crate) struct RushEvidence<'a> {
    /// The rush's report folder (rush.json, rush.html, rush.hlog).
    pub report_dir: &'a Path,
    /// The profile as run: (its path as a suite file, text).
    pub profile: (String, String),
    /// The error codes, as text.
    pub error_codes: String,
    /// The adapter command of a real-time run.
    pub adapter: Option<String>,
    /// The World's settings.
    pub world: BTreeMap<String, serde_json::Value>,
}

/// Writes the bundle of a rush.
pub(crate) fn write_rush_bundle(
    path: &Path,
    key: Option<&SigningKey>,
    ev: RushEvidence<'_>,
) -> Result<Manifest, String> {
    let mut files = Vec::new();
    for name in ["rush.json", "rush.html", onshi_rush::merge::HLOG] {
        let p = ev.report_dir.join(name);
        let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        files.push((format!("report/{name}"), bytes));
    }
    files.extend(common_files(&[ev.profile], ev.error_codes));
    let facts = RunFacts {
        command: std::env::args().skip(1).collect(),
        adapter: ev.adapter,
        operator: None,
        client: None,
        world: ev.world,
        versions: versions(),
    };
    onshi_evidence::write(path, manifest(Kind::Rush, facts), files, key).map_err(|e| e.to_string())
}

/// Prints where the bundle went and how to check it.
pub(crate) fn print_written(path: &Path, m: &Manifest, key: Option<&SigningKey>) {
    let signed = key
        .map(|k| format!(", signed by {}", onshi_evidence::fingerprint(&k.verifying_key())))
        .unwrap_or_default();
    crate::say(&format!(
        "bundle: {} ({} files{signed}) — check it with `onshi verify {}`\n",
        path.display(),
        m.files.len(),
        crate::shell_quote(path)
    ));
}

/// `onshi keys`.
#[derive(clap::Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a signing key pair: the secret key (keep it; `--sign-key`) and the public key (hand
    /// it to reviewers; `onshi verify --key`).
    New {
        /// The secret key's file; the public key goes beside it with `.pub` added.
        #[arg(value_parser = crate::absolute_path(), long, default_value = "onshi-signing.key", value_name = "FILE")]
        out: PathBuf,
    },
}

pub(crate) fn keys_command(command: KeysCommand) -> ExitCode {
    let KeysCommand::New { out } = command;
    let public = PathBuf::from(format!("{}.pub", out.display()));
    for p in [&out, &public] {
        if p.exists() {
            eprintln!(
                "onshi keys new: {} exists; not overwritten (a lost secret key cannot be made again)",
                p.display()
            );
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let (key, secret_pem, public_pem) = match onshi_evidence::new_key() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("onshi keys new: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    if let Err(e) = write_secret(&out, &secret_pem)
        .and_then(|()| std::fs::write(&public, public_pem).map_err(|e| format!("{}: {e}", public.display())))
    {
        eprintln!("onshi keys new: {e}");
        return ExitCode::from(EXIT_HARNESS);
    }
    println!(
        "secret key: {} (only you can read it; sign with --sign-key)\npublic key: {} (hand it to reviewers: onshi verify BUNDLE --key {})\nfingerprint: {}",
        out.display(),
        public.display(),
        crate::shell_quote(&public),
        onshi_evidence::fingerprint(&key.verifying_key())
    );
    ExitCode::SUCCESS
}

/// Writes the secret key readable by its owner only, never over an existing file.
fn write_secret(path: &Path, pem: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(pem.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}
