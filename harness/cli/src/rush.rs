//! `onshi rush`: a reception rush from a profile, on virtual time or in real time, with a
//! live progress display, a console summary and `rush.json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use clap::Parser as _;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;

use onshi_harness::input;
use onshi_reference_client::timing::{self, Timing};
use onshi_registry::Registry;
use onshi_registry::rng::Stream;
use onshi_rush::estimate::{self, Mode};
use onshi_rush::live::{LiveOptions, LiveState};
use onshi_rush::profile::human;
use onshi_rush::report::{RunInfo, RushReport};
use onshi_rush::{
    self as rush, Drawn, Outcomes, Partition, Profile, RushStats, Taken, VirtualClient, VirtualOptions, Way, merge,
};

use crate::{EXIT_FAIL, EXIT_HARNESS, EXIT_USAGE, embedded};

#[derive(clap::Args)]
pub struct RushArgs {
    /// A shipped profile (see --list) or a profile file (.toml).
    #[arg(value_name = "PROFILE", required_unless_present = "list")]
    profile: Option<String>,
    /// List the shipped profiles.
    #[arg(long)]
    list: bool,
    /// Run on virtual time: deterministic, every step drawn from the profile's
    /// distributions (the client modelled by world.client_import, by --client reference, or
    /// by --client-from); a whole region in seconds.
    #[arg(long = "virtual")]
    virtual_time: bool,
    /// The adapter command for a real-time run (default: the bundled reference client).
    #[arg(long, value_name = "CMD")]
    adapter: Option<String>,
    /// Arrival window instead of the profile's duration (90s, 10m, 2h; at most 24h).
    #[arg(long, value_parser = rush::profile::parse_window, value_name = "D")]
    duration: Option<Duration>,
    /// Seed of arrivals, patients and service times.
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed: u64,
    /// Where to write rush.json.
    #[arg(value_parser = crate::absolute_path(), long, default_value = "onshi-rush", value_name = "DIR")]
    report_dir: PathBuf,
    /// Run only facilities i with i % N == K (scale-out over several processes; see
    /// docs/scaling.md). `job/N` takes K from JOB_COMPLETION_INDEX, which a Kubernetes
    /// Indexed Job gives each of its pods.
    #[arg(long, value_parser = parse_partition, value_name = "K/N")]
    partition: Option<Partition>,
    /// Worker threads on virtual time (default: the number of CPUs; at most twice that —
    /// the simulation is CPU-bound, and each thread holds a facility's patients).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Start even when the estimate passes a ceiling (patients, memory; see docs/limits.md).
    #[arg(long)]
    force: bool,
    /// The reception date to simulate, YYYYMMDD (default: today in Japan).
    #[arg(long, value_parser = crate::parse_date, value_name = "YYYYMMDD")]
    date: Option<NaiveDate>,
    /// Longest wait for one adapter call, in seconds (real time: a stalled adapter is then
    /// killed, counted and started again; virtual time: the reference client's time-out).
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    call_timeout: u64,
    /// Real time: how long visits still under way after the window may take, in seconds;
    /// the rest are counted as dropped.
    #[arg(long, default_value_t = 120, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    drain: u64,
    /// Error codes for the World's answers (default: the embedded synthetic codes).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    error_codes: Option<PathBuf>,
    /// Virtual time: model the client's import time on a real-time run of it — the import
    /// stage of that run's rush.json (p50 and p95, fitted as a log-normal) instead of the
    /// profile's world.client_import.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "RUSH_JSON", requires = "virtual_time")]
    client_from: Option<PathBuf>,
    /// Virtual time: the client to simulate — `profile` (world.client_import: the World
    /// alone) or `reference` (the bundled reference client, waiting as its own code does: a
    /// look into res/ every 25 ms, two reads 100 ms apart, its time-out), optionally with
    /// the reference client's options, e.g. "reference --style stable-read".
    #[arg(
        long,
        value_name = "MODEL",
        requires = "virtual_time",
        conflicts_with = "client_from"
    )]
    client: Option<String>,
    /// Instead of running, add up the reports of runs of PROFILE on partitions (each DIR
    /// holding a rush.json and rush.hlog; repeat, or give several) into one report of the
    /// whole; see docs/scaling.md.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "DIR", num_args = 1.., conflicts_with_all = ["virtual_time", "adapter", "partition", "duration"])]
    merge: Vec<PathBuf>,
    #[command(flatten)]
    bundle: crate::bundle::BundleArgs,
    /// The language of rush.html: ja or en (default: the locale).
    #[arg(long, value_name = "ja|en", value_parser = ["ja", "en"])]
    lang: Option<String>,
}

/// `K/N`, or `job/N` with K from the environment's JOB_COMPLETION_INDEX (a Kubernetes
/// Indexed Job's pod index).
fn parse_partition(s: &str) -> Result<Partition, String> {
    match s.strip_prefix("job/") {
        None => s.parse(),
        Some(n) => {
            let k = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
                "job/N takes the partition from JOB_COMPLETION_INDEX, which is not set (a Kubernetes Indexed Job sets it; elsewhere give K/N)".to_owned()
            })?;
            format!("{}/{n}", k.trim())
                .parse()
                .map_err(|e| format!("JOB_COMPLETION_INDEX={k}: {e}"))
        }
    }
}

/// The shipped profiles: (id, text).
fn shipped() -> Vec<(&'static str, &'static str)> {
    embedded::SCENARIOS
        .iter()
        .filter_map(|(rel, text)| {
            let id = rel
                .strip_prefix(onshi_harness::scenario::RUSH_DIR)?
                .strip_suffix(".toml")?;
            Some((id, *text))
        })
        .collect()
}

/// The most a rush.json or rush.hlog to merge or fit may hold.
const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads the profile named on the command line: the profile, its path as a suite file and its
/// text (a bundle keeps them).
fn load(name: &str, registry: &Registry) -> Result<(Profile, String, String), String> {
    let (text, origin) = match shipped().into_iter().find(|(id, _)| *id == name) {
        Some((id, text)) => (
            text.to_owned(),
            format!("scenarios/{}{id}.toml", onshi_harness::scenario::RUSH_DIR),
        ),
        None if name.ends_with(".toml") || name.contains('/') => (
            input::read_text(Path::new(name), "rush profile", input::MAX_TEXT_BYTES).map_err(|e| e.to_string())?,
            name.to_owned(),
        ),
        None => {
            let ids: Vec<&str> = shipped().iter().map(|x| x.0).collect();
            return Err(format!(
                "no shipped profile {name:?} (shipped: {}); give a path to use a file",
                ids.join(", ")
            ));
        }
    };
    let profile = rush::load_profile(&text, &origin, registry).map_err(|errors| {
        let mut s = format!("the profile has {} problem(s):", errors.len());
        for e in errors {
            s.push_str(&format!("\n  {e}"));
        }
        s
    })?;
    // in a bundle the profile sits where a suite keeps profiles
    let file_name = origin.rsplit('/').next().unwrap_or("profile.toml");
    let rel = format!("{}{file_name}", onshi_harness::scenario::RUSH_DIR);
    Ok((profile, rel, text))
}

pub fn rush_command(args: RushArgs) -> ExitCode {
    let date = args.date.unwrap_or_else(crate::today_jst);
    let registry = Registry::embedded(date, args.seed);
    if args.list {
        for (id, text) in shipped() {
            match rush::load_profile(text, id, &registry) {
                Ok(p) => println!("{id:<20} {}\n{:<20} {}", p.title, "", p.summary),
                Err(e) => println!("{id:<20} (does not load: {})", e[0]),
            }
        }
        return ExitCode::SUCCESS;
    }
    let name = args.profile.as_deref().expect("clap requires PROFILE without --list");
    let (profile, profile_file, profile_text) = match load(name, &registry) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("onshi rush: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if args.virtual_time && args.adapter.is_some() {
        eprintln!("onshi rush: --virtual models the client; --adapter is for real-time runs");
        return ExitCode::from(EXIT_USAGE);
    }
    let sign_key = match args.bundle.prepare() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("onshi rush: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let client = match virtual_client(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("onshi rush: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut window_us = args.duration.unwrap_or(profile.duration).as_micros() as u64;
    if !args.virtual_time && args.merge.is_empty() {
        match shortened_window(window_us) {
            Ok(w) => window_us = w,
            Err(e) => {
                eprintln!("onshi rush: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let partition = args.partition.unwrap_or(Partition::WHOLE);
    let threads = threads(args.threads);
    if args.merge.is_empty() {
        let mode = if args.virtual_time {
            Mode::Virtual {
                threads,
                cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            }
        } else {
            Mode::Real {
                drain: Duration::from_secs(args.drain),
            }
        };
        let e = estimate::estimate(&profile, window_us, partition, mode);
        eprintln!("onshi rush: {}", e.line(mode));
        let over = e.over_ceilings(mode);
        if !over.is_empty() && !args.force {
            eprintln!(
                "onshi rush: not started — {}. Shorten the window (--duration), split the facilities over several processes (--partition K/N, docs/scaling.md), or start anyway with --force. Ceilings: docs/limits.md",
                over.join("; ")
            );
            return ExitCode::from(EXIT_USAGE);
        }
        if !args.virtual_time && e.peak_per_s > estimate::REAL_PATIENTS_PER_S {
            eprintln!(
                "onshi rush: warning — up to {:.0} patients per second arrive; the harness drives about {:.0} per second in real time on 2 cores (docs/performance.md), so later latencies may be the harness's own. Virtual time (--virtual) has no such limit",
                e.peak_per_s,
                estimate::REAL_PATIENTS_PER_S
            );
        }
    }
    let result = if !args.merge.is_empty() {
        // runs that cannot be read or do not belong together are the user's to fix
        match merge_runs(&profile, &args.merge) {
            Ok(merged) => Ok(merged),
            Err(e) => {
                eprintln!("onshi rush: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    } else if args.virtual_time {
        run_virtual(&profile, &registry, &args, window_us, partition, threads, client)
    } else {
        run_live(profile.clone(), registry, &args, window_us, partition)
    };
    let (stats, report) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onshi rush: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    let lang = crate::report_lang(args.lang.as_deref());
    crate::say(&report.summary(lang));
    if let Err(e) = write_report(&args.report_dir, &stats, &report, lang) {
        eprintln!("onshi rush: {e}");
        return ExitCode::from(EXIT_HARNESS);
    }
    if let Some(path) = &args.bundle.bundle {
        if let Err(e) = write_bundle(
            path,
            &args,
            sign_key.as_ref(),
            &report,
            (profile_file, profile_text),
            date,
        ) {
            eprintln!("onshi rush: cannot write the bundle: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    }
    crate::say(&format!(
        "Report: {} ({})\n",
        args.report_dir.join("rush.html").display(),
        args.report_dir.join("rush.json").display()
    ));
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAIL)
    }
}

/// The threads of a virtual run: `asked`, at most twice the CPUs (saying so when capped);
/// by default the CPUs.
fn threads(asked: Option<u64>) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cpus * 2;
    match asked {
        None => cpus,
        Some(n) if n as usize > cap => {
            eprintln!(
                "onshi rush: --threads {n} capped at {cap} (twice this machine's {cpus} CPUs): the simulation is CPU-bound, more threads only hold more patients in memory"
            );
            cap
        }
        Some(n) => n as usize,
    }
}

/// The environment variable that caps a real-time run's arrival window — for smoke tests of
/// documented commands (the docs test runs `--duration 5m` as written, in seconds).
pub const MAX_WINDOW_ENV: &str = "ONSHI_RUSH_MAX_WINDOW";

/// `window_us`, or less when [`MAX_WINDOW_ENV`] says so (and then it says so on stderr).
fn shortened_window(window_us: u64) -> Result<u64, String> {
    let Ok(cap) = std::env::var(MAX_WINDOW_ENV) else {
        return Ok(window_us);
    };
    let cap = rush::profile::parse_window(&cap).map_err(|e| format!("{MAX_WINDOW_ENV}: {e}"))?;
    let cap_us = cap.as_micros() as u64;
    if cap_us >= window_us {
        return Ok(window_us);
    }
    eprintln!(
        "onshi rush: the arrival window is shortened from {} to {} by {MAX_WINDOW_ENV}",
        human(Duration::from_micros(window_us)),
        human(cap)
    );
    Ok(cap_us)
}

fn run_virtual(
    profile: &Profile,
    registry: &Registry,
    args: &RushArgs,
    window_us: u64,
    partition: Partition,
    threads: usize,
    client: Option<Arc<dyn VirtualClient>>,
) -> Result<(RushStats, RushReport), String> {
    let started = Instant::now();
    let outcomes = Outcomes::prepare(profile, registry, registry.today())?;
    let client_model = client.as_ref().and_then(|c| c.describe());
    let opts = VirtualOptions {
        seed: args.seed,
        window_us,
        partition,
        threads,
        client,
    };
    let total = profile.facility_count();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} virtual time: {pos}/{len} facilities simulated [{elapsed}, about {eta} left]",
        )
        .expect("valid template"),
    );
    let done = AtomicU64::new(0);
    let stats = std::thread::scope(|scope| {
        let sim = scope.spawn(|| rush::run_virtual(profile, &outcomes, &opts, &done));
        while !sim.is_finished() {
            bar.set_position(done.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_millis(100));
        }
        sim.join().map_err(|_| "the simulation failed".to_owned())
    })?;
    bar.finish_and_clear();
    let facilities = partition.count(total);
    let mut report = RushReport::new(
        &stats,
        &RunInfo {
            profile,
            mode: "virtual",
            seed: args.seed,
            window_us,
            partition: partition.label(),
            facilities,
            elapsed_s: started.elapsed().as_secs_f64(),
        },
    );
    report.client_model = client_model;
    Ok((stats, report))
}

fn run_live(
    profile: Profile,
    registry: Registry,
    args: &RushArgs,
    window_us: u64,
    partition: Partition,
) -> Result<(RushStats, RushReport), String> {
    let started = Instant::now();
    let catalogue = crate::load_error_codes(args.error_codes.as_deref())
        .map_err(|e| format!("--error-codes: {e}"))?
        .0
        .unwrap_or_default();
    let adapter = match &args.adapter {
        Some(a) => a.clone(),
        None => {
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find this program to start the reference client: {e}"))?;
            format!("{} reference-client", crate::shell_quote(&exe))
        }
    };
    let outcomes = Arc::new(Outcomes::prepare(&profile, &registry, registry.today())?);
    let opts = LiveOptions {
        adapter: adapter.clone(),
        seed: args.seed,
        window_us,
        partition,
        work_dir: args.report_dir.join("work"),
        call_timeout: Duration::from_secs(args.call_timeout.max(1)),
        drain: Duration::from_secs(args.drain),
        institution_code: "9900000001".into(),
        catalogue,
    };
    let facilities = partition.count(profile.facility_count());
    eprintln!(
        "onshi rush: {} in real time for {} against `{adapter}` — {facilities} facilities, seed {}",
        profile.id,
        human(Duration::from_micros(window_us)),
        args.seed
    );
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let state = Arc::new(LiveState::default());
    let bar = ProgressBar::new_spinner();
    let stats = runtime.block_on(async {
        let ticker = {
            let (state, bar) = (state.clone(), bar.clone());
            tokio::spawn(async move {
                loop {
                    bar.set_message(live_line(&state, window_us));
                    bar.tick();
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            })
        };
        let result = rush::live::run_live(&profile, Arc::new(registry), outcomes, &opts, state.clone()).await;
        ticker.abort();
        result
    });
    bar.finish_and_clear();
    let stats = stats.map_err(|e| e.to_string())?;
    let report = RushReport::new(
        &stats,
        &RunInfo {
            profile: &profile,
            mode: "real",
            seed: args.seed,
            window_us,
            partition: partition.label(),
            facilities,
            elapsed_s: started.elapsed().as_secs_f64(),
        },
    );
    Ok((stats, report))
}

/// The client of a virtual run, from `--client` or `--client-from` (`None`: the profile's).
fn virtual_client(args: &RushArgs) -> Result<Option<Arc<dyn VirtualClient>>, String> {
    if let Some(file) = &args.client_from {
        // the import stage of a real-time rush.json, fitted as the client's import time
        let fitted = input::read_bytes(file, "rush.json", MAX_REPORT_BYTES)
            .map_err(|e| e.to_string())
            .and_then(|json| rush::report::client_model_from(&json, &file.display().to_string()))
            .map_err(|e| format!("--client-from {}: {e}", file.display()))?;
        return Ok(Some(Arc::new(Drawn {
            import: fitted.0,
            origin: Some(fitted.1),
        })));
    }
    let Some(line) = &args.client else { return Ok(None) };
    let mut words = line.split_whitespace();
    match words.next() {
        Some("profile") if words.next().is_none() => Ok(None),
        Some("reference") => {
            let cmd = ReferenceCommand::try_parse_from(std::iter::once("reference").chain(words))
                .map_err(|e| format!("--client {line:?}: {}", e.render().to_string().trim()))?;
            Ok(Some(Arc::new(ReferenceTiming {
                timing: Timing::of(&cmd.args.options()),
                call_timeout_ms: args.call_timeout * 1000,
                line: line.trim().to_owned(),
            })))
        }
        _ => Err(format!(
            "--client {line:?}: say `profile` or `reference` (with the reference client's options)"
        )),
    }
}

/// The reference client's options after `--client reference`.
#[derive(clap::Parser)]
#[command(name = "reference")]
struct ReferenceCommand {
    #[command(flatten)]
    args: onshi_reference_client::Args,
}

/// The bundled reference client on virtual time: its own [`Timing`] decides when it has a
/// result, as on the wall clock.
#[derive(Debug)]
struct ReferenceTiming {
    timing: Timing,
    /// What the harness passes as `timeout_ms` (as in a real-time run).
    call_timeout_ms: u64,
    line: String,
}

impl VirtualClient for ReferenceTiming {
    fn import_face(&self, written: u64, _: &mut Stream) -> Taken {
        Taken::Imported(written + micros(self.timing.face_import()))
    }

    fn confirm(&self, way: Way, sent: u64, ready: u64, _: &mut Stream) -> Taken {
        let timeout = self.timing.timeout_or(Some(self.call_timeout_ms));
        let ready = Duration::from_micros(ready.saturating_sub(sent));
        let taken = match way {
            Way::Api => self.timing.api_result(ready, timeout),
            _ => self.timing.folder_result(ready, timeout),
        };
        match taken {
            timing::Taken::Imported(d) => Taken::Imported(sent + micros(d)),
            timing::Taken::GaveUp(d) => Taken::GaveUp(sent + micros(d)),
        }
    }

    fn describe(&self) -> Option<String> {
        let t = &self.timing;
        Some(format!(
            "`{}`: the bundled reference client's own timing — a look into res/ every {} ms, trusted after two reads {} ms apart, gives up after {} ms",
            self.line,
            t.poll.as_millis(),
            t.stable_gap.as_millis(),
            t.timeout_or(Some(self.call_timeout_ms)).as_millis()
        ))
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

/// Reads the runs in `dirs` and adds them up into the report of the whole.
fn merge_runs(profile: &Profile, dirs: &[PathBuf]) -> Result<(RushStats, RushReport), String> {
    let started = Instant::now();
    let mut parts = Vec::new();
    for dir in dirs {
        let read = |name: &str| {
            let path = dir.join(name);
            input::read_bytes(&path, "rush report", MAX_REPORT_BYTES).map_err(|e| e.to_string())
        };
        let part = merge::read_part(&read("rush.json")?, &read(merge::HLOG)?)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        parts.push((dir.display().to_string(), part));
    }
    let (merged, report) = merge_parts(profile, parts)?;
    eprintln!(
        "onshi rush: merged {} run(s) ({} facilities) in {:.2} s{}",
        dirs.len(),
        merged.facilities,
        started.elapsed().as_secs_f64(),
        merged
            .partition
            .as_ref()
            .map(|p| format!(" — only partitions {p}: not the whole facility set"))
            .unwrap_or_default()
    );
    Ok((merged.stats, report))
}

/// Adds up runs, each named by where it came from, into the report of the whole.
fn merge_parts(profile: &Profile, parts: Vec<(String, merge::Part)>) -> Result<(merge::Merged, RushReport), String> {
    let mut merger = merge::Merger::new(&profile.id);
    for (from, part) in parts {
        merger.add(part).map_err(|e| format!("{from}: {e}"))?;
    }
    let merged = merger.finish().map_err(|e| e.to_string())?;
    if merged.stats.slos.len() != profile.slos.len() {
        return Err(format!(
            "the runs measured {} SLO(s), the profile {} has {}: merge with the profile file they ran",
            merged.stats.slos.len(),
            profile.id,
            profile.slos.len()
        ));
    }
    let report = RushReport::new(
        &merged.stats,
        &RunInfo {
            profile,
            mode: &merged.mode,
            seed: merged.seed,
            window_us: merged.window_us,
            partition: merged.partition.clone(),
            facilities: merged.facilities,
            elapsed_s: merged.elapsed_s,
        },
    );
    Ok((merged, report))
}

/// A rush's verdicts judged again from a bundle: the report rebuilt from the run's exact
/// counters (rush.hlog) with the bundled profile, its SLO verdicts and counts compared with
/// rush.json. Returns the differences, or why it cannot be judged.
pub(crate) fn rederive_bundle(bundle: &onshi_evidence::Bundle) -> Result<Vec<String>, String> {
    let file = |name: &str| {
        bundle
            .file(name)
            .ok_or_else(|| format!("{name} is not in the bundle; nothing to judge"))
    };
    let json = file("report/rush.json")?;
    let hlog = file(&format!("report/{}", merge::HLOG))?;
    let recorded: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("report/rush.json is not JSON: {e}"))?;
    let profiles: Vec<(&String, &Vec<u8>)> = bundle
        .files
        .iter()
        .filter(|(p, _)| p.starts_with(&format!("suite/{}", onshi_harness::scenario::RUSH_DIR)))
        .collect();
    let [(profile_path, profile_text)] = profiles[..] else {
        return Err(format!(
            "the bundle holds {} rush profiles; a rush's bundle holds the one it ran",
            profiles.len()
        ));
    };
    let text = std::str::from_utf8(profile_text).map_err(|_| format!("{profile_path} is not UTF-8"))?;
    let date = (bundle.manifest.run.world.get("date").and_then(|d| d.as_str()))
        .and_then(|d| crate::parse_date(d).ok())
        .ok_or("the bundle's manifest does not say the reception date")?;
    let seed = recorded.get("seed").and_then(|s| s.as_u64()).unwrap_or(0);
    let registry = Registry::embedded(date, seed);
    let profile = rush::load_profile(text, profile_path, &registry).map_err(|errors| {
        format!(
            "{profile_path} does not load in this harness ({}){}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
            crate::verify::made_by_note(&bundle.manifest)
        )
    })?;
    let part = merge::read_part(json, hlog).map_err(|e| format!("report/rush.json with report/rush.hlog: {e}"))?;
    let (_, again) = merge_parts(&profile, vec![("the bundle".into(), part)])?;
    let again = serde_json::to_value(&again).map_err(|e| e.to_string())?;
    let mut differences = Vec::new();
    for field in ["slos", "counts", "latency"] {
        let (a, b) = (recorded.get(field), again.get(field));
        if !same(a, b) {
            differences.push(
                match (field, a.and_then(|v| v.as_array()), b.and_then(|v| v.as_array())) {
                    ("slos", Some(a), Some(b)) => {
                        let changed: Vec<String> = a
                            .iter()
                            .zip(b)
                            .filter(|(x, y)| !same(Some(x), Some(y)))
                            .map(|(x, y)| {
                                format!(
                                    "{}: recorded pass={} measured {} ms, re-derived pass={} measured {} ms",
                                    y["id"].as_str().unwrap_or("?"),
                                    x["pass"],
                                    x["measured_ms"],
                                    y["pass"],
                                    y["measured_ms"]
                                )
                            })
                            .collect();
                        format!(
                            "report/rush.json SLO verdicts differ from rush.hlog: {}",
                            changed.join("; ")
                        )
                    }
                    _ => {
                        let (was, again) = first_difference(a, b);
                        format!(
                            "report/rush.json `{field}` differs from what rush.hlog re-derives: recorded {was}, re-derived {again}"
                        )
                    }
                },
            );
        }
    }
    Ok(differences)
}

/// Whether two JSON values are the same, numbers to within rounding: a mean added up in
/// another order differs in its last digit.
fn same(a: Option<&serde_json::Value>, b: Option<&serde_json::Value>) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(Some(p), Some(q)))
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.keys().eq(y.keys()) && x.keys().all(|k| same(x.get(k), y.get(k)))
        }
        _ => a == b,
    }
}

/// The first place two JSON values differ, each side shortened for a message.
fn first_difference(a: Option<&serde_json::Value>, b: Option<&serde_json::Value>) -> (String, String) {
    use serde_json::Value;
    match (a, b) {
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            let i = x.iter().zip(y).position(|(p, q)| !same(Some(p), Some(q))).unwrap_or(0);
            first_difference(x.get(i), y.get(i))
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) if x.keys().eq(y.keys()) => {
            let k = x
                .keys()
                .find(|k| !same(x.get(*k), y.get(*k)))
                .cloned()
                .unwrap_or_default();
            let (p, q) = first_difference(x.get(&k), y.get(&k));
            (format!("{k}: {p}"), format!("{k}: {q}"))
        }
        _ => {
            let show = |v: Option<&Value>| {
                let t = v.map_or("nothing".to_owned(), Value::to_string);
                if t.chars().count() > 80 {
                    format!("{}…", t.chars().take(80).collect::<String>())
                } else {
                    t
                }
            };
            (show(a), show(b))
        }
    }
}

/// The live progress line: time, arrivals, queues, latency so far, failures.
fn live_line(s: &LiveState, window_us: u64) -> String {
    let (p50, p99) = {
        let h = s.latency.lock().expect("latency");
        if h.is_empty() {
            ("–".to_owned(), "–".to_owned())
        } else {
            let q = |x| human(Duration::from_micros(h.value_at_quantile(x)));
            (q(0.5), q(0.99))
        }
    };
    format!(
        "{} / {} · arrived {}/{} · done {} · waiting: reader {} desk {} · p50 {p50} p99 {p99} · failed {} late {}",
        human(s.started.elapsed()),
        human(Duration::from_micros(window_us)),
        s.arrived.load(Ordering::Relaxed),
        s.planned.load(Ordering::Relaxed),
        s.completed.load(Ordering::Relaxed),
        s.waiting_reader.load(Ordering::Relaxed),
        s.waiting_desk.load(Ordering::Relaxed),
        s.failed.load(Ordering::Relaxed),
        s.late.load(Ordering::Relaxed),
    )
}

/// The rush's evidence bundle: its reports, the profile and the World's settings.
fn write_bundle(
    path: &Path,
    args: &RushArgs,
    key: Option<&onshi_evidence::SigningKey>,
    report: &RushReport,
    profile: (String, String),
    date: NaiveDate,
) -> Result<(), String> {
    let (_, error_codes) = crate::load_error_codes(args.error_codes.as_deref())?;
    let world = [
        ("seed".to_owned(), serde_json::Value::from(args.seed)),
        ("date".to_owned(), date.format("%Y%m%d").to_string().into()),
        ("mode".to_owned(), report.mode.clone().into()),
        ("window_s".to_owned(), report.window_s.into()),
        ("partition".to_owned(), report.partition.clone().into()),
    ]
    .into();
    let evidence = crate::bundle::RushEvidence {
        report_dir: &args.report_dir,
        profile,
        error_codes,
        adapter: (!args.virtual_time && args.merge.is_empty())
            .then(|| args.adapter.clone().unwrap_or_else(|| "onshi reference-client".into())),
        world,
    };
    let m = crate::bundle::write_rush_bundle(path, key, evidence)?;
    crate::bundle::print_written(path, &m, key);
    Ok(())
}

fn write_report(
    dir: &Path,
    stats: &RushStats,
    report: &RushReport,
    lang: onshi_harness::texts::Lang,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let json = serde_json::to_vec_pretty(report).map_err(|e| e.to_string())?;
    let mut hlog = Vec::new();
    merge::write_hlog(stats, report.raw.window_us, &mut hlog).map_err(|e| e.to_string())?;
    for (name, bytes) in [
        ("rush.json", json),
        ("rush.html", rush::html::render(report, lang).into_bytes()),
        (merge::HLOG, hlog),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
