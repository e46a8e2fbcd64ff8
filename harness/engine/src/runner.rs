//! Running a suite: for each case, a fresh World, the steps on its timeline, the checks over
//! the journal, a verdict. A broken adapter or World never hangs the run: the case becomes an
//! `error` with the reason, the adapter is restarted, and the run goes on.

use onshi_protocol::CheckId;
use onshi_protocol::ids;
use std::sync::Arc;
use std::time::{Duration, Instant};

use onshi_protocol::driver::{self, Environment, HarnessInfo, InitializeParams, InitializeResult, error_code};
use onshi_registry::Registry;
use serde_json::{Value, json};

use crate::checks::{self, CallAnswer};
use crate::driver::{CallError, DriverClient};
use crate::journal::{Event, Journal};
use crate::report::{CaseReport, ClientReport, JournalSpan, RunInfo, RunReport, SCHEMA, Tool, Verdict};
use crate::scenario::{ApiSetup, Case, Suite};
use crate::steps::{self, Calls, LocalFuture, StepContext, Stop, wait_for_pcscd};
use crate::world::{CaseWorld, World};

pub use crate::options::RunOptions;

/// Notified as the run progresses (the CLI draws a progress bar).
pub trait Progress {
    /// Case `index` of `total` starts.
    fn started(&mut self, _index: usize, _total: usize, _case: &Case) {}
    /// A case ended.
    fn finished(&mut self, _report: &CaseReport) {}
}

/// A progress observer that does nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// Why a run could not be done at all (as opposed to cases failing or erroring).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write the report folder {path}: {source}")]
    /// The report folder cannot be written.
    ReportDir {
        /// The folder.
        path: String,
        #[source]
        /// The error.
        source: std::io::Error,
    },
    #[error(transparent)]
    /// The World could not start.
    World(#[from] crate::world::WorldError),
    #[error(transparent)]
    /// The run's folders are unusable.
    Folders(#[from] crate::folders::FolderError),
}

/// The JSON Lines journal inside the report folder.
pub(crate) const JOURNAL_FILE: &str = "journal.jsonl";
/// The adapter's stderr inside the report folder.
pub(crate) const STDERR_FILE: &str = "adapter-stderr.log";

struct Runner<'a> {
    options: &'a RunOptions,
    suite: &'a Suite,
    world: World,
    journal: Arc<Journal>,
    adapter: Adapter,
    /// The private pcscd of this run (when some case needs card.pcsc and PC/SC is here).
    pcscd: Option<onshi_card::pcscd::Pcscd>,
    /// Why card.pcsc cases cannot run on this machine.
    pcsc_unavailable: Option<String>,
}

/// The client's adapter across the cases of a run.
struct Adapter {
    driver: DriverClient,
    client: Option<InitializeResult>,
    init_error: Option<(String, CheckId)>,
    /// The API setup the running adapter was initialized with.
    api_setup: ApiSetup,
    /// The step under way (0-based index) and the first journal entry of its case: an
    /// adapter that dies during its call crashed on what the World had sent it.
    current_step: Option<(usize, u64)>,
}

/// What starting and calling the adapter needs of the run.
#[derive(Clone, Copy)]
struct Env<'a> {
    options: &'a RunOptions,
    world: &'a World,
    pcscd: Option<&'a onshi_card::pcscd::Pcscd>,
    journal: &'a Journal,
}

/// Runs `cases` of `suite` (all when `only` is empty).
pub async fn run(
    suite: &Suite,
    only: &[String],
    registry: Arc<Registry>,
    options: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<RunReport, RunError> {
    let (report_dir, terminal_root) =
        crate::folders::run_folders(&options.report_dir, options.terminal_dir.as_deref())?;
    // everything below, and the rush steps of the cases, see only absolute folders
    let options = &RunOptions {
        report_dir: report_dir.clone(),
        terminal_dir: Some(terminal_root.clone()),
        ..options.clone()
    };
    let report_dir = &report_dir;
    let io_err = |source| RunError::ReportDir {
        path: report_dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(report_dir).map_err(io_err)?;
    for f in [JOURNAL_FILE, STDERR_FILE] {
        let p = report_dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io_err)?;
        }
    }
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let journal = Arc::new(Journal::default());
    if let Some(op) = &options.operator {
        journal.tee_to(&op.live_journal).map_err(|source| RunError::ReportDir {
            path: op.live_journal.display().to_string(),
            source,
        })?;
    }
    journal.append(Event::Run {
        harness_version: env!("CARGO_PKG_VERSION").into(),
        seed: options.seed,
        date: options.date.format("%Y%m%d").to_string(),
        adapter: options.adapter.clone(),
    });
    let world = World::start(
        terminal_root,
        registry,
        options.error_codes.clone().unwrap_or_default(),
        journal.clone(),
        options.institution_code.clone(),
        options.seed,
    )
    .await?;
    let cases: Vec<&Case> = suite
        .cases
        .iter()
        .filter(|c| only.is_empty() || only.iter().any(|o| o == c.id()))
        .collect();
    let mut driver = DriverClient::new(options.adapter.clone(), journal.clone(), report_dir.join(STDERR_FILE));
    // PC/SC cases need a pcscd with the vpcd reader; the run starts its own, private one
    let needs_pcsc = cases
        .iter()
        .any(|c| c.def.capabilities.iter().any(|x| x == driver::capability::CARD_PCSC));
    let (pcscd, pcsc_unavailable) = if needs_pcsc {
        match onshi_card::pcscd::Pcscd::start(&report_dir.join("pcscd")) {
            Ok(p) => {
                driver.set_env("PCSCLITE_CSOCK_NAME", &p.socket.display().to_string());
                (Some(p), None)
            }
            Err(e) => {
                journal.append(Event::Note {
                    message: format!("PC/SC cases are not applicable: {e}"),
                });
                (None, Some(e.to_string()))
            }
        }
    } else {
        (None, None)
    };
    let mut runner = Runner {
        options,
        suite,
        journal: journal.clone(),
        world,
        adapter: Adapter {
            driver,
            client: None,
            init_error: None,
            api_setup: ApiSetup::default(),
            current_step: None,
        },
        pcscd,
        pcsc_unavailable,
    };
    let mut reports = Vec::with_capacity(cases.len());
    let mut written = 1;
    for (i, case) in cases.iter().enumerate() {
        progress.started(i, cases.len(), case);
        let report = runner.run_case(case).await;
        journal
            .append_jsonl(&report_dir.join(JOURNAL_FILE), written)
            .map_err(io_err)?;
        written = journal.next_seq();
        progress.finished(&report);
        reports.push(report);
    }
    runner.adapter.driver.shutdown(Duration::from_secs(5)).await;
    let terminal_root = runner.world.terminal_folders().root;
    let client = runner.adapter.client.clone();
    runner.world.stop().await;
    journal
        .append_jsonl(&report_dir.join(JOURNAL_FILE), written)
        .map_err(io_err)?;
    let mut report = RunReport {
        schema: SCHEMA.into(),
        harness: Tool {
            name: "onshi-harness".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        run: RunInfo {
            seed: options.seed,
            date: options.date.format("%Y%m%d").to_string(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            duration_ms: started.elapsed().as_millis() as u64,
            adapter: options.adapter.clone(),
            suite: suite.origin.clone(),
            client: client.as_ref().map(|c| ClientReport {
                name: c.client.name.clone(),
                version: c.client.version.clone(),
                capabilities: c.capabilities.clone(),
            }),
            journal: JOURNAL_FILE.into(),
            terminal_root,
            desk_timeout_ms: Some(options.desk_timeout.as_millis() as u64),
        },
        summary: Default::default(),
        cases: reports,
        exit_code: 0,
    };
    report.finish();
    Ok(report)
}

fn call_stop(method: &str, e: &CallError) -> Stop {
    match e {
        CallError::Rpc { code, .. } if *code == error_code::METHOD_NOT_FOUND => Stop::not_applicable(
            format!("the adapter does not implement {method} (-32601)"),
            Some(ids::DRV_RPC),
        ),
        CallError::Rpc { .. } => Stop::error(format!("{method}: {e}"), Some(ids::DRV_RPC)),
        CallError::Timeout { .. } => Stop::error(format!("{method}: {e}"), Some(ids::DRV_HANG)),
        CallError::Exited { .. } | CallError::Spawn { .. } | CallError::Io(_) => {
            Stop::error(format!("{method}: {e}"), Some(ids::DRV_EXIT))
        }
        CallError::LineTooLong { .. } => Stop::error(format!("{method}: {e}"), Some(ids::DRV_LINE)),
    }
}

/// The check a failed `initialize` falls under: the same as for any call.
fn init_check(e: &CallError) -> CheckId {
    call_stop(driver::method::INITIALIZE, e).check.unwrap_or(ids::DRV_EXIT)
}

impl Adapter {
    async fn initialize(&mut self, env: Env<'_>, setup: ApiSetup) -> Result<(), (String, CheckId)> {
        let params = InitializeParams {
            protocol: driver::PROTOCOL.into(),
            harness: HarnessInfo {
                name: "onshi-harness".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            environment: Environment {
                institution_code: env.options.institution_code.clone(),
                terminal: Some(env.world.terminal_folders()),
                api: Some(
                    env.world
                        .api_environment(&env.options.institution_code, setup.client_certificate)
                        .map_err(|e| (e, ids::DRV_EXIT))?,
                ),
                pcsc: env.pcscd.map(|_| driver::PcscEnvironment {
                    reader: onshi_card::pcscd::READER.into(),
                }),
                workstation: None,
            },
        };
        let v = self
            .driver
            .call(
                driver::method::INITIALIZE,
                serde_json::to_value(params).expect("serialisable"),
                env.options.call_timeout,
            )
            .await
            .map_err(|e| (format!("initialize failed: {e}"), init_check(&e)))?;
        let init: InitializeResult = serde_json::from_value(v).map_err(|e| {
            (
                format!("initialize answered something that is not an InitializeResult: {e}"),
                ids::DRV_ANSWER,
            )
        })?;
        self.client = Some(init);
        self.api_setup = setup;
        Ok(())
    }

    /// Starts and initializes the adapter when it is not running (first case, or after it
    /// was stopped or crashed).
    async fn ensure(&mut self, env: Env<'_>, setup: ApiSetup) -> Result<(), Stop> {
        if self.driver.is_running() && setup != self.api_setup {
            // A case that gives the client other credentials: a fresh adapter, a fresh initialize.
            self.driver.shutdown(Duration::from_secs(5)).await;
        }
        if self.driver.is_running() {
            return Ok(());
        }
        if let Some((e, check)) = &self.init_error
            && self.client.is_none()
        {
            // A client that never initialised is not retried for every case.
            return Err(Stop::error(e.clone(), Some(*check)));
        }
        self.initialize(env, setup).await.map_err(|(e, check)| {
            self.init_error = Some((e.clone(), check));
            Stop::error(e, Some(check))
        })
    }

    /// A driver call inside a step. With `deadline` (an expectation's `within_ms`), silence
    /// is the client's failure; without it, the adapter broke.
    async fn call(
        &mut self,
        env: Env<'_>,
        method: &str,
        params: Value,
        deadline: Option<Duration>,
    ) -> Result<CallAnswer<Value>, Stop> {
        // An earlier step may have had to stop the adapter; a new one starts initialized.
        self.ensure(env, self.api_setup).await?;
        // a person needs time to read their screen and say what it shows
        let deadline = match &env.options.operator {
            Some(op) => deadline.map(|d| d + op.allowance),
            None => deadline,
        };
        let timeout = deadline.unwrap_or(env.options.call_timeout);
        match self.driver.call(method, params, timeout).await {
            Ok(v) => Ok(CallAnswer::Answered(v)),
            Err(CallError::Timeout { after }) if deadline.is_some() => Ok(CallAnswer::TimedOut {
                after_ms: after.as_millis() as u64,
            }),
            Err(CallError::Exited { status, stderr_tail }) if self.current_step.is_some() => {
                let (index, case_first) = self.current_step.expect("checked");
                let exit = match status {
                    Some(s) => format!("exited with status {s}"),
                    None => "was killed by a signal".to_owned(),
                };
                let window = env.journal.range(case_first, u64::MAX);
                Err(Stop::crashed(checks::client_crash(
                    method,
                    index + 1,
                    &exit,
                    &stderr_tail,
                    &window,
                )))
            }
            Err(e) => Err(call_stop(method, &e)),
        }
    }
}

/// The adapter as the steps of one case call it.
struct Calling<'a> {
    adapter: &'a mut Adapter,
    env: Env<'a>,
}

impl Calls for Calling<'_> {
    fn call<'a>(
        &'a mut self,
        method: &'a str,
        params: Value,
        deadline: Option<Duration>,
    ) -> LocalFuture<'a, Result<CallAnswer<Value>, Stop>> {
        Box::pin(self.adapter.call(self.env, method, params, deadline))
    }
}

impl Runner<'_> {
    fn env(&self) -> Env<'_> {
        Env {
            options: self.options,
            world: &self.world,
            pcscd: self.pcscd.as_ref(),
            journal: &self.journal,
        }
    }

    async fn run_case(&mut self, case: &Case) -> CaseReport {
        let started = Instant::now();
        let first = self.journal.append(Event::CaseStart {
            case: case.id().to_owned(),
        });
        let (verdict, reason, reason_check, checks, judged_before) = match self.execute(case, first).await {
            Ok((checks, judged_before)) => {
                let failed = checks.iter().any(|c| c.status == checks::Status::Fail);
                let verdict = if failed { Verdict::Fail } else { Verdict::Pass };
                (verdict, None, None, checks, Some(judged_before))
            }
            Err(stop) => (
                stop.verdict,
                (!stop.reason.is_empty()).then_some(stop.reason),
                stop.check.map(String::from),
                stop.checks,
                None,
            ),
        };
        let last = self.journal.append(Event::CaseEnd {
            case: case.id().to_owned(),
            verdict: verdict.as_str().to_owned(),
            judged_before,
        });
        CaseReport {
            id: case.id().to_owned(),
            title: case.def.title.clone(),
            title_ja: case.def.title_ja.clone(),
            requirement: case.def.requirement.clone(),
            severity: case.def.severity,
            area: case.area.clone(),
            source: case.source.clone(),
            capabilities: case.def.capabilities.clone(),
            verdict,
            reason,
            reason_check,
            duration_ms: started.elapsed().as_millis() as u64,
            checks,
            journal: JournalSpan { first, last },
        }
    }

    /// Runs the case: its checks, and the sequence number before which the journal was judged;
    /// `Err` ends it early with a verdict.
    async fn execute(&mut self, case: &Case, first: u64) -> Result<(Vec<checks::CheckResult>, u64), Stop> {
        if let Some(why) = &self.pcsc_unavailable
            && case.def.capabilities.iter().any(|c| c == driver::capability::CARD_PCSC)
        {
            return Err(Stop::not_applicable(
                format!("{why}; {}", onshi_card::pcscd::HOW_TO_ENABLE),
                None,
            ));
        }
        let env = Env {
            options: self.options,
            world: &self.world,
            pcscd: self.pcscd.as_ref(),
            journal: &self.journal,
        };
        self.adapter.ensure(env, case.def.api).await?;
        let caps = &self.adapter.client.as_ref().expect("initialized").capabilities;
        let missing: Vec<&str> = case
            .def
            .capabilities
            .iter()
            .filter(|c| !caps.contains(c))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Stop::not_applicable(
                format!("the client does not declare {}", missing.join(", ")),
                None,
            ));
        }
        // a client with its own fixed time-out: the case's times follow it
        let declared = self.adapter.client.as_ref().and_then(|c| c.client.timeout_ms);
        let resolved;
        let case = match declared {
            Some(t) if case.def.follows_client_timeout => {
                resolved = self
                    .suite
                    .for_client_timeout(case, t, &self.world.registry)
                    .map_err(|e| Stop::error(e, None))?;
                &resolved
            }
            _ => case,
        };
        let mut cw = self
            .world
            .start_case(&case.def.terminal, &case.def.national)
            .await
            .map_err(|e| Stop::error(format!("the World could not start: {e}"), None))?;
        let outcome = self.steps(case, &mut cw, first).await;
        self.adapter.current_step = None;
        if let Some((_, vicc)) = cw.in_reader.take() {
            vicc.remove();
            // every case starts with an empty reader, as pcscd sees it
            if let Some(pcscd) = &self.pcscd {
                wait_for_pcscd(pcscd, |inserted, removed| removed >= inserted).await;
            }
        }
        tokio::time::sleep(self.options.settle).await;
        cw.terminal.stop().await;
        let executed = outcome?;
        let entries = self.journal.range(first, u64::MAX);
        let judged_before = first + entries.len() as u64;
        let mut results = steps::evaluate(&case.def.steps, &executed, &case.def.checks, case.def.api, &entries);
        if case.def.follows_client_timeout {
            results.extend(checks::client_timeout(
                declared,
                self.options.desk_timeout.as_millis() as u64,
            ));
        }
        Ok((results, judged_before))
    }

    /// The case's steps in order, each through its kind (`crate::steps`).
    async fn steps(&mut self, case: &Case, cw: &mut CaseWorld, case_first: u64) -> Result<Vec<steps::Executed>, Stop> {
        let env = self.env();
        match self
            .adapter
            .driver
            .call(driver::method::RESET, json!({}), env.options.call_timeout)
            .await
        {
            Ok(_) => {}
            Err(CallError::Rpc { code, .. }) if code == error_code::METHOD_NOT_FOUND => {}
            Err(e) => return Err(call_stop(driver::method::RESET, &e)),
        }
        let mut executed = Vec::with_capacity(case.def.steps.len());
        for (index, step) in case.def.steps.iter().enumerate() {
            let first_seq = self.journal.append(Event::Step {
                case: case.id().to_owned(),
                index: index + 1,
                action: step.action().into(),
                detail: json!({}),
            });
            self.adapter.current_step = Some((index, case_first));
            let env = Env {
                options: self.options,
                world: &self.world,
                pcscd: self.pcscd.as_ref(),
                journal: &self.journal,
            };
            let mut calling = Calling {
                adapter: &mut self.adapter,
                env,
            };
            let mut cx = StepContext {
                world: &self.world,
                case_world: cw,
                journal: &self.journal,
                pcscd: self.pcscd.as_ref(),
                options: self.options,
                case_id: case.id(),
                index,
                calls: &mut calling,
            };
            let done = step.execute(&mut cx, first_seq).await?;
            // the record makes the checks a function of the journal (`onshi verify`)
            self.journal.append(Event::StepDone {
                case: case.id().to_owned(),
                index: index + 1,
                end_seq: done.span.end_seq,
                record: done.record_json(),
            });
            executed.push(done);
        }
        Ok(executed)
    }
}
