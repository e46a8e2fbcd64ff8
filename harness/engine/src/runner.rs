//! Running a suite: for each case, a fresh World, the steps on its timeline, the checks over
//! the journal, a verdict. A broken adapter or World never hangs the run: the case becomes an
//! `error` with the reason, the adapter is restarted, and the run goes on.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use onshi_protocol::driver::{
    self, ConfirmBulkParams, ConfirmBulkResult, ConfirmQualificationParams, ConfirmQualificationResult, Environment,
    FetchMedicalInfoParams, FetchMedicalInfoResult, HarnessInfo, ImportFaceParams, ImportFaceResult, InitializeParams,
    InitializeResult, Period, PullBulkParams, PullBulkResult, ReferenceEntry, RegisterReferenceNumberParams,
    RegisterReferenceNumberResult, error_code,
};
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::Registry;
use onshi_terminal::{PresentCard, SlowWrite};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::checks::{self, CallAnswer, StepData, StepRecord};
use crate::driver::{CallError, DriverClient};
use crate::journal::{Event, Journal};
use crate::report::{CaseReport, ClientReport, JournalSpan, RunInfo, RunReport, SCHEMA, Tool, Verdict};
use crate::scenario::{ApiSetup, Case, StepDef, Suite};
use crate::world::{CaseWorld, World};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The adapter command (run with `sh -c`).
    pub adapter: String,
    pub seed: u64,
    /// The reception date the World simulates.
    pub date: NaiveDate,
    /// Where report.json, junit.xml, journal.jsonl and adapter-stderr.log go.
    pub report_dir: PathBuf,
    /// The terminal's shared folder (default: `<report_dir>/terminal`).
    pub terminal_dir: Option<PathBuf>,
    /// The longest the harness waits for any driver call without an expectation saying
    /// otherwise.
    pub call_timeout: Duration,
    /// The clinic's institution code (synthetic).
    pub institution_code: String,
    /// Time after the last step for trailing events (late resends, consumption).
    pub settle: Duration,
    /// The error codes the World answers with (default: the synthetic catalogue).
    pub error_codes: Option<Arc<ErrorCatalogue>>,
    /// The longest own time-out a client may declare before CLIENT-TIMEOUT warns.
    pub desk_timeout: Duration,
}

impl RunOptions {
    pub fn new(adapter: impl Into<String>, date: NaiveDate, report_dir: PathBuf) -> Self {
        RunOptions {
            adapter: adapter.into(),
            seed: 0,
            date,
            report_dir,
            terminal_dir: None,
            call_timeout: Duration::from_secs(60),
            institution_code: "9900000001".into(),
            settle: Duration::from_millis(300),
            error_codes: None,
            desk_timeout: Duration::from_millis(checks::DESK_TIMEOUT_MS),
        }
    }
}

/// Notified as the run progresses (the CLI draws a progress bar).
pub trait Progress {
    fn started(&mut self, _index: usize, _total: usize, _case: &Case) {}
    fn finished(&mut self, _report: &CaseReport) {}
}

/// A progress observer that does nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// Why a run could not be done at all (as opposed to cases failing or erroring).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write the report folder {path}: {source}")]
    ReportDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    World(#[from] crate::world::WorldError),
    #[error(transparent)]
    Folders(#[from] crate::folders::FolderError),
}

/// The JSON Lines journal inside the report folder.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The adapter's stderr inside the report folder.
pub const STDERR_FILE: &str = "adapter-stderr.log";

struct Runner<'a> {
    options: &'a RunOptions,
    suite: &'a Suite,
    world: World,
    journal: Arc<Journal>,
    driver: DriverClient,
    client: Option<InitializeResult>,
    init_error: Option<(String, &'static str)>,
    /// The API setup the running adapter was initialized with.
    api_setup: ApiSetup,
    /// The private pcscd of this run (when some case needs card.pcsc and PC/SC is here).
    pcscd: Option<onshi_card::pcscd::Pcscd>,
    /// Why card.pcsc cases cannot run on this machine.
    pcsc_unavailable: Option<String>,
    /// The step under way (0-based index) and the first journal entry of its case: an
    /// adapter that dies during its call crashed on what the World had sent it.
    current_step: Option<(usize, u64)>,
    /// The first journal entry of the case under way.
    case_first: u64,
}

/// Waits (at most 5 s) until pcscd's count of insertions and removals satisfies `done`.
async fn wait_for_pcscd(pcscd: &onshi_card::pcscd::Pcscd, done: impl Fn(usize, usize) -> bool) -> bool {
    let since = Instant::now();
    loop {
        let (inserted, removed) = pcscd.presence_changes();
        if done(inserted, removed) {
            return true;
        }
        if since.elapsed() > Duration::from_secs(5) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
        driver,
        journal: journal.clone(),
        world,
        client: None,
        init_error: None,
        api_setup: ApiSetup::default(),
        pcscd,
        pcsc_unavailable,
        current_step: None,
        case_first: 0,
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
    runner.driver.shutdown(Duration::from_secs(5)).await;
    let terminal_root = runner.world.terminal_folders().root;
    let client = runner.client.clone();
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
        },
        summary: Default::default(),
        cases: reports,
        exit_code: 0,
    };
    report.finish();
    Ok(report)
}

/// How a case ended early.
struct Stop {
    verdict: Verdict,
    reason: String,
    check: Option<&'static str>,
    /// The checks of a case that ends early as a failure (the client crashed).
    checks: Vec<checks::CheckResult>,
}

impl Stop {
    fn error(reason: impl Into<String>, check: Option<&'static str>) -> Self {
        Stop {
            verdict: Verdict::Error,
            reason: reason.into(),
            check,
            checks: Vec::new(),
        }
    }

    fn not_applicable(reason: impl Into<String>, check: Option<&'static str>) -> Self {
        Stop {
            verdict: Verdict::NotApplicable,
            ..Stop::error(reason, check)
        }
    }

    /// The client failed the case by crashing: `check` says on what.
    fn crashed(check: checks::CheckResult) -> Self {
        Stop {
            verdict: Verdict::Fail,
            reason: String::new(),
            check: None,
            checks: vec![check],
        }
    }
}

fn call_stop(method: &str, e: &CallError) -> Stop {
    match e {
        CallError::Rpc { code, .. } if *code == error_code::METHOD_NOT_FOUND => Stop::not_applicable(
            format!("the adapter does not implement {method} (-32601)"),
            Some("DRV-RPC"),
        ),
        CallError::Rpc { .. } => Stop::error(format!("{method}: {e}"), Some("DRV-RPC")),
        CallError::Timeout { .. } => Stop::error(format!("{method}: {e}"), Some("DRV-HANG")),
        CallError::Exited { .. } | CallError::Spawn { .. } | CallError::Io(_) => {
            Stop::error(format!("{method}: {e}"), Some("DRV-EXIT"))
        }
        CallError::LineTooLong { .. } => Stop::error(format!("{method}: {e}"), Some("DRV-LINE")),
    }
}

/// The check a failed `initialize` falls under: the same as for any call.
fn init_check(e: &CallError) -> &'static str {
    call_stop(driver::method::INITIALIZE, e).check.unwrap_or("DRV-EXIT")
}

fn decode<T: DeserializeOwned>(method: &str, v: Value) -> Result<T, Stop> {
    serde_json::from_value(v).map_err(|e| {
        Stop::error(
            format!("{method}: the adapter's result does not match onshi-driver/1: {e}"),
            Some("DRV-ANSWER"),
        )
    })
}

impl Runner<'_> {
    async fn initialize(&mut self, setup: ApiSetup) -> Result<(), (String, &'static str)> {
        let params = InitializeParams {
            protocol: driver::PROTOCOL.into(),
            harness: HarnessInfo {
                name: "onshi-harness".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            environment: Environment {
                institution_code: self.options.institution_code.clone(),
                terminal: Some(self.world.terminal_folders()),
                api: Some(
                    self.world
                        .api_environment(&self.options.institution_code, setup.client_certificate)
                        .map_err(|e| (e, "DRV-EXIT"))?,
                ),
                pcsc: self.pcscd.as_ref().map(|_| driver::PcscEnvironment {
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
                self.options.call_timeout,
            )
            .await
            .map_err(|e| (format!("initialize failed: {e}"), init_check(&e)))?;
        let init: InitializeResult = serde_json::from_value(v).map_err(|e| {
            (
                format!("initialize answered something that is not an InitializeResult: {e}"),
                "DRV-ANSWER",
            )
        })?;
        self.client = Some(init);
        self.api_setup = setup;
        Ok(())
    }

    async fn run_case(&mut self, case: &Case) -> CaseReport {
        let started = Instant::now();
        let first = self.journal.append(Event::CaseStart {
            case: case.id().to_owned(),
        });
        let (verdict, reason, reason_check, checks) = match self.execute(case, first).await {
            Ok(checks) => {
                let failed = checks.iter().any(|c| c.status == checks::Status::Fail);
                (if failed { Verdict::Fail } else { Verdict::Pass }, None, None, checks)
            }
            Err(stop) => (
                stop.verdict,
                (!stop.reason.is_empty()).then_some(stop.reason),
                stop.check.map(str::to_owned),
                stop.checks,
            ),
        };
        let last = self.journal.append(Event::CaseEnd {
            case: case.id().to_owned(),
            verdict: verdict.as_str().to_owned(),
        });
        CaseReport {
            id: case.id().to_owned(),
            title: case.def.title.clone(),
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

    /// Starts and initializes the adapter when it is not running (first case, or after it
    /// was stopped or crashed).
    async fn ensure_adapter(&mut self, setup: ApiSetup) -> Result<(), Stop> {
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
            return Err(Stop::error(e.clone(), Some(check)));
        }
        self.initialize(setup).await.map_err(|(e, check)| {
            self.init_error = Some((e.clone(), check));
            Stop::error(e, Some(check))
        })
    }

    /// Runs the case; `Err` ends it early with a verdict.
    async fn execute(&mut self, case: &Case, first: u64) -> Result<Vec<checks::CheckResult>, Stop> {
        if let Some(why) = &self.pcsc_unavailable
            && case.def.capabilities.iter().any(|c| c == driver::capability::CARD_PCSC)
        {
            return Err(Stop::not_applicable(
                format!("{why}; {}", onshi_card::pcscd::HOW_TO_ENABLE),
                None,
            ));
        }
        self.ensure_adapter(case.def.api).await?;
        let caps = &self.client.as_ref().expect("initialized").capabilities;
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
        let declared = self.client.as_ref().and_then(|c| c.client.timeout_ms);
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
        self.case_first = first;
        let outcome = self.steps(case, &mut cw).await;
        self.current_step = None;
        if let Some((_, vicc)) = cw.in_reader.take() {
            vicc.remove();
            // every case starts with an empty reader, as pcscd sees it
            if let Some(pcscd) = &self.pcscd {
                wait_for_pcscd(pcscd, |inserted, removed| removed >= inserted).await;
            }
        }
        tokio::time::sleep(self.options.settle).await;
        cw.terminal.stop().await;
        let steps = outcome?;
        let entries = self.journal.range(first, u64::MAX);
        let mut results = checks::evaluate(case, &steps, &entries);
        if case.def.follows_client_timeout {
            results.extend(checks::client_timeout(
                declared,
                self.options.desk_timeout.as_millis() as u64,
            ));
        }
        Ok(results)
    }

    async fn steps(&mut self, case: &Case, cw: &mut CaseWorld) -> Result<Vec<StepRecord>, Stop> {
        match self
            .driver
            .call(driver::method::RESET, json!({}), self.options.call_timeout)
            .await
        {
            Ok(_) => {}
            Err(CallError::Rpc { code, .. }) if code == error_code::METHOD_NOT_FOUND => {}
            Err(e) => return Err(call_stop(driver::method::RESET, &e)),
        }
        let date = self.world.date.format("%Y%m%d").to_string();
        let mut records = Vec::new();
        for (index, step) in case.def.steps.iter().enumerate() {
            let first_seq = self.journal.append(Event::Step {
                case: case.id().to_owned(),
                index: index + 1,
                action: step.action().into(),
                detail: json!({}),
            });
            self.current_step = Some((index, self.case_first));
            let data = match step {
                StepDef::ConfirmQualification {
                    via,
                    card,
                    consent_limit_certificate,
                    timeout_ms,
                    expect,
                } => {
                    let card = self.world.card(card).map_err(step_error(index))?;
                    let params = ConfirmQualificationParams {
                        via: *via,
                        card,
                        consent_limit_certificate: *consent_limit_certificate,
                        date: Some(date.clone()),
                        timeout_ms: *timeout_ms,
                    };
                    let method = driver::method::CONFIRM_QUALIFICATION;
                    let deadline = expect.within_ms.map(Duration::from_millis);
                    let answer = self
                        .call_with::<_, ConfirmQualificationResult>(method, &params, deadline)
                        .await?;
                    StepData::Confirm { params, answer }
                }
                StepDef::PresentCard {
                    persona,
                    my_number_card,
                    auth,
                    remove_at,
                    consents,
                    slow,
                } => {
                    let file = cw
                        .terminal
                        .present_card(PresentCard {
                            persona: persona.clone(),
                            card: my_number_card.clone(),
                            visit: onshi_terminal::reader::Visit {
                                method: auth.clone(),
                                remove_at: *remove_at,
                            },
                            consents: consents.clone(),
                            slow: slow.map(|s| SlowWrite {
                                chunks: s.chunks,
                                interval_ms: s.interval_ms,
                            }),
                        })
                        .await
                        .map_err(step_error(index))?;
                    cw.last_face = Some(file.clone());
                    StepData::PresentCard { file }
                }
                StepDef::ImportFace { timeout_ms, expect } => {
                    let file = cw.last_face.clone().expect("the loader checks a card was presented");
                    let params = ImportFaceParams {
                        file: file.clone(),
                        timeout_ms: *timeout_ms,
                    };
                    let deadline = expect.within_ms.map(Duration::from_millis);
                    let answer = self
                        .call_with::<_, ImportFaceResult>(driver::method::IMPORT_FACE, &params, deadline)
                        .await?;
                    StepData::ImportFace { file, answer }
                }
                StepDef::Wait { ms } => {
                    tokio::time::sleep(Duration::from_millis(*ms)).await;
                    StepData::Other
                }
                StepDef::AdvanceClock { by } => {
                    let d = crate::clock::parse_duration(by).map_err(|e| Stop::error(e, None))?;
                    self.world.clock.advance(d);
                    StepData::Other
                }
                StepDef::SetFault { fault } => {
                    self.world
                        .national
                        .set_fault(fault.clone())
                        .map_err(step_error(index))?;
                    StepData::Other
                }
                StepDef::ClearFault { id } => {
                    if !self.world.national.clear_fault(id) {
                        return Err(Stop::error(
                            format!("step {}: no fault {id:?} to clear", index + 1),
                            None,
                        ));
                    }
                    StepData::Other
                }
                StepDef::ChangePerson { change } => {
                    self.world
                        .national
                        .apply_change(change.clone())
                        .map_err(step_error(index))?;
                    StepData::Other
                }
                StepDef::RevokeTokens => {
                    self.world.national.revoke_tokens();
                    StepData::Other
                }
                StepDef::RegisterReferenceNumber {
                    entries,
                    bulk,
                    timeout_ms,
                    expect,
                } => {
                    let entries = entries
                        .iter()
                        .map(|e| {
                            Ok(ReferenceEntry {
                                reference_number: e.reference_number.clone(),
                                card: self.world.card(&e.card)?,
                            })
                        })
                        .collect::<Result<Vec<_>, crate::world::WorldError>>()
                        .map_err(step_error(index))?;
                    let params = RegisterReferenceNumberParams {
                        entries,
                        bulk: *bulk,
                        timeout_ms: *timeout_ms,
                    };
                    let answer = self
                        .call_with::<_, RegisterReferenceNumberResult>(
                            driver::method::REGISTER_REFERENCE_NUMBER,
                            &params,
                            expect.within_ms.map(Duration::from_millis),
                        )
                        .await?;
                    StepData::Register { params, answer }
                }
                StepDef::ConfirmBulk {
                    cards,
                    timeout_ms,
                    expect,
                } => {
                    let cards = cards
                        .iter()
                        .map(|c| self.world.card(c))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(step_error(index))?;
                    let params = ConfirmBulkParams {
                        cards,
                        date: Some(date.clone()),
                        timeout_ms: *timeout_ms,
                    };
                    let answer = self
                        .call_with::<_, ConfirmBulkResult>(
                            driver::method::CONFIRM_BULK,
                            &params,
                            expect.within_ms.map(Duration::from_millis),
                        )
                        .await?;
                    StepData::Bulk { params, answer }
                }
                StepDef::PullBulk {
                    pull,
                    timeout_ms,
                    expect,
                } => {
                    let today = self.world.date;
                    let day = |v: &Option<String>| {
                        v.as_deref()
                            .map(|s| crate::scenario::resolve_date(s, today).map(|d| d.format("%Y%m%d").to_string()))
                            .transpose()
                    };
                    let resolved = (|| -> Result<PullBulkParams, String> {
                        Ok(PullBulkParams {
                            kind: pull.kind,
                            month: day(&pull.month)?.map(|d| d[..6].to_owned()),
                            consent_from: day(&pull.consent_from)?,
                            consent_to: day(&pull.consent_to)?,
                            examined_from: day(&pull.examined_from)?,
                            examined_to: day(&pull.examined_to)?,
                            timeout_ms: *timeout_ms,
                        })
                    })();
                    let params = resolved.map_err(step_error(index))?;
                    let answer = self
                        .call_with::<_, PullBulkResult>(
                            driver::method::PULL_BULK,
                            &params,
                            expect.within_ms.map(Duration::from_millis),
                        )
                        .await?;
                    StepData::Pull { params, answer }
                }
                StepDef::FetchMedicalInfo {
                    kind,
                    card,
                    format,
                    period,
                    timeout_ms,
                    expect,
                } => {
                    let card = self.world.card(card).map_err(step_error(index))?;
                    let today = self.world.date;
                    let month = |s: &str| {
                        crate::scenario::resolve_date(s, today)
                            .map(|d| d.format("%Y%m").to_string())
                            .map_err(step_error(index))
                    };
                    let period = match period {
                        Some(p) => Some(Period {
                            from: month(&p.from)?,
                            to: month(&p.to)?,
                        }),
                        None => None,
                    };
                    let params = FetchMedicalInfoParams {
                        kind: *kind,
                        card,
                        format: *format,
                        period,
                        timeout_ms: *timeout_ms,
                        now: Some(
                            onshi_national::Clock::now(&*self.world.clock)
                                .format("%Y%m%d%H%M%S")
                                .to_string(),
                        ),
                    };
                    let answer = self
                        .call_with::<_, FetchMedicalInfoResult>(
                            driver::method::FETCH_MEDICAL_INFO,
                            &params,
                            expect.within_ms.map(Duration::from_millis),
                        )
                        .await?;
                    StepData::Medical { params, answer }
                }
                StepDef::InsertCard {
                    my_number_card,
                    remove_during,
                } => {
                    if let Some((_, old)) = cw.in_reader.take() {
                        old.remove();
                    }
                    let pcscd = self.pcscd.as_ref().ok_or_else(|| {
                        Stop::error(format!("step {}: no pcscd is running for this run", index + 1), None)
                    })?;
                    // the reader must be seen empty before the card goes in, or pcscd takes it
                    // for the card it already had and clients get no insertion
                    wait_for_pcscd(pcscd, |inserted, removed| removed >= inserted).await;
                    let (before, _) = pcscd.presence_changes();
                    let hand = cw.terminal.card(my_number_card).map_err(step_error(index))?;
                    let journal = self.journal.clone();
                    let id = my_number_card.clone();
                    let sink: onshi_card::vpcd::EventSink = Arc::new(move |link| {
                        // pcscd's presence polls (an ATR request every 400 ms) are noise
                        if link != onshi_card::vpcd::LinkEvent::Atr {
                            journal.append(Event::Card { card: id.clone(), link });
                        }
                    });
                    let during = remove_during.map(|c| onshi_card::vpcd::RemoveDuring::Ins(c.ins()));
                    let vicc = onshi_card::vpcd::Vicc::insert(pcscd.vpcd_addr().as_str(), hand.card, sink, during)
                        .map_err(step_error(index))?;
                    // the card is on the reader before the patient is asked for the PIN
                    if !wait_for_pcscd(pcscd, |inserted, _| inserted > before).await {
                        return Err(step_error(index)("pcscd did not notice the card within 5 s"));
                    }
                    cw.in_reader = Some((my_number_card.clone(), vicc));
                    StepData::Other
                }
                StepDef::RemoveCard => {
                    if let Some((_, vicc)) = cw.in_reader.take() {
                        vicc.remove();
                        // pcscd notices on its next presence poll (every 400 ms)
                        if let Some(pcscd) = &self.pcscd {
                            wait_for_pcscd(pcscd, |inserted, removed| removed >= inserted).await;
                        }
                    }
                    StepData::Other
                }
                StepDef::Rush { profile, window_us } => {
                    let report = self.rush(case, profile, *window_us).await?;
                    self.journal.append(Event::Rush {
                        case: case.id().to_owned(),
                        report: serde_json::to_value(&report).expect("serialisable"),
                    });
                    StepData::Rush {
                        report: Box::new(report),
                    }
                }
                StepDef::VerifyCardPin {
                    pin,
                    timeout_ms,
                    expect,
                } => {
                    let challenge = format!("onshi-harness {} step {}", case.id(), index + 1);
                    let inserted = cw.in_reader.as_ref().is_some_and(|(_, v)| v.is_inserted());
                    let params = driver::VerifyCardPinParams {
                        pin: pin.clone(),
                        challenge: Some(base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            challenge.as_bytes(),
                        )),
                        timeout_ms: *timeout_ms,
                    };
                    let answer = self
                        .call_with::<_, driver::VerifyCardPinResult>(
                            driver::method::VERIFY_CARD_PIN,
                            &params,
                            expect.within_ms.map(Duration::from_millis),
                        )
                        .await?;
                    let facts = checks::CardFacts {
                        inserted,
                        certificate: match cw.in_reader.as_ref().map(|(id, _)| cw.terminal.card(id)) {
                            Some(Ok(hand)) => {
                                onshi_card::image::pem_der(&hand.image.auth.cert_pem, "CERTIFICATE").unwrap_or_default()
                            }
                            _ => Vec::new(),
                        },
                        challenge: challenge.into_bytes(),
                    };
                    StepData::CardPin { params, answer, facts }
                }
            };
            records.push(StepRecord {
                index,
                first_seq,
                end_seq: self.journal.next_seq(),
                data,
            });
        }
        Ok(records)
    }

    /// A rush step: the profile in real time against new instances of the adapter (in their
    /// own World under `<report dir>/rush/<case>`), while the case's own adapter waits.
    async fn rush(
        &mut self,
        case: &Case,
        profile: &crate::rush::Profile,
        window_us: u64,
    ) -> Result<crate::rush::report::RushReport, Stop> {
        let started = Instant::now();
        let registry = self.world.registry.clone();
        let outcomes = crate::rush::Outcomes::prepare(profile, &registry, self.world.date)
            .map_err(|e| Stop::error(format!("the rush cannot start: {e}"), None))?;
        let opts = crate::rush::live::LiveOptions {
            adapter: self.options.adapter.clone(),
            seed: self.options.seed,
            window_us,
            partition: crate::rush::Partition::WHOLE,
            work_dir: self.options.report_dir.join("rush").join(case.id()),
            call_timeout: self.options.call_timeout.min(Duration::from_secs(30)),
            drain: Duration::from_secs(60),
            institution_code: self.options.institution_code.clone(),
            catalogue: self.world.catalogue.clone(),
        };
        let state = Arc::new(crate::rush::live::LiveState::default());
        let stats = crate::rush::live::run_live(profile, registry, Arc::new(outcomes), &opts, state)
            .await
            .map_err(|e| Stop::error(format!("the rush could not run: {e}"), Some("DRV-EXIT")))?;
        Ok(crate::rush::report::RushReport::new(
            &stats,
            &crate::rush::report::RunInfo {
                profile,
                mode: "real",
                seed: self.options.seed,
                window_us,
                partition: None,
                facilities: profile.facility_count(),
                elapsed_s: started.elapsed().as_secs_f64(),
            },
        ))
    }

    /// A driver call inside a step. With `deadline` (an expectation's `within_ms`), silence
    /// is the client's failure; without it, the adapter broke.
    /// [`Self::call`] with typed params.
    async fn call_with<P: Serialize, T: DeserializeOwned>(
        &mut self,
        method: &str,
        params: &P,
        deadline: Option<Duration>,
    ) -> Result<CallAnswer<T>, Stop> {
        let params = serde_json::to_value(params).expect("driver params serialise");
        self.call(method, params, deadline).await
    }

    async fn call<T: DeserializeOwned>(
        &mut self,
        method: &str,
        params: Value,
        deadline: Option<Duration>,
    ) -> Result<CallAnswer<T>, Stop> {
        // An earlier step may have had to stop the adapter; a new one starts initialized.
        self.ensure_adapter(self.api_setup).await?;
        let timeout = deadline.unwrap_or(self.options.call_timeout);
        match self.driver.call(method, params, timeout).await {
            Ok(v) => decode(method, v).map(CallAnswer::Answered),
            Err(CallError::Timeout { after }) if deadline.is_some() => Ok(CallAnswer::TimedOut {
                after_ms: after.as_millis() as u64,
            }),
            Err(CallError::Exited { status, stderr_tail }) if self.current_step.is_some() => {
                let (index, case_first) = self.current_step.expect("checked");
                let exit = match status {
                    Some(s) => format!("exited with status {s}"),
                    None => "was killed by a signal".to_owned(),
                };
                let window = self.journal.range(case_first, u64::MAX);
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

/// Turns a problem preparing step `index` (0-based) into a stop that names the step.
fn step_error<E: std::fmt::Display>(index: usize) -> impl Fn(E) -> Stop {
    move |e| Stop::error(format!("step {}: {e}", index + 1), None)
}
