//! A rush in real time against a client's adapter.
//!
//! The World runs for real (the national mock over HTTPS with the profile's answer times as
//! a latency fault, the terminal folder with its pickup and write times, the face-auth
//! reader model). Every patient starts at their intended time from the same arrival plan
//! the virtual mode uses; readers and reception PCs are semaphores (one patient each, first
//! come first served). The client is driven through a pool of adapter processes, one per
//! reception PC and reader up to `real.max_connections`, each told its workstation id so
//! that their request names stay apart.
//!
//! Latency counts from the intended start, so a harness or client that falls behind shows
//! up as latency, and starts later than [`LATE_START`] are counted. The moments inside the
//! World (request taken, national answer, result written) come from a tap on the mocks'
//! recorders that keeps timings and card numbers, not message bytes; they are matched to
//! patients by card number and time after the run.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use onshi_national::events::NationalEvent;
use onshi_national::faults::{Endpoint, Fault, FaultKind, Scope};
use onshi_protocol::driver::{
    self, Card, ConfirmQualificationParams, Environment, HarnessInfo, ImportFaceParams, InitializeParams, Via,
};
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::{PersonId, Registry};
use onshi_terminal::reader::{AuthMethod, Visit as ReaderVisit};
use onshi_terminal::{PresentCard, Terminal, TerminalEvent, TerminalSettings};
use serde_json::Value;
use thiserror::Error;
use tokio::sync::{Semaphore, mpsc};

use super::profile::{Mark, Profile, Way};
use super::simulate::queue_stats;
use super::simulate::{Outcomes, Partition, Patient, Who, patients};
use super::stats::{Queue, RushStats, Visit, bucket_width, histogram};
use onshi_harness::driver::{CallError, DriverClient, clip};
use onshi_harness::journal::Journal;
use onshi_harness::world::{Recorders, World, period_card};

/// A start later than this after its intended time is counted as late.
pub const LATE_START: Duration = Duration::from_millis(50);

#[derive(Debug, Error)]
/// Why a real-time run could not run.
pub enum LiveError {
    #[error(transparent)]
    /// The World could not start.
    World(#[from] onshi_harness::world::WorldError),
    #[error("adapter {index} cannot start: {message}")]
    /// An instance of the adapter could not start.
    Adapter {
        /// Which instance.
        index: usize,
        /// Why.
        message: String,
    },
    #[error("{0}")]
    /// The profile cannot be run as planned.
    Plan(String),
}

/// Options of a real-time run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The adapter command (one instance per reader and reception PC).
    pub adapter: String,
    /// The seed of the World and of the arrivals.
    pub seed: u64,
    /// The arrival window, µs.
    pub window_us: u64,
    /// Which facilities this process runs.
    pub partition: Partition,
    /// The terminal folder and the adapters' stderr logs go here.
    pub work_dir: PathBuf,
    /// The longest wait for one call.
    pub call_timeout: Duration,
    /// How long visits still under way after the window may take to finish; the rest are
    /// counted as dropped.
    pub drain: Duration,
    /// The clinic's institution code.
    pub institution_code: String,
    /// The error codes the World answers with.
    pub catalogue: Arc<ErrorCatalogue>,
}

/// What a live run shows while it runs (read by the progress display).
#[derive(Debug)]
pub struct LiveState {
    /// Visits planned for the window.
    pub planned: AtomicU64,
    /// Patients arrived so far.
    pub arrived: AtomicU64,
    /// Visits that reached the client.
    pub completed: AtomicU64,
    /// Visits whose call failed.
    pub failed: AtomicU64,
    /// Visits the harness started later than `LATE_START` after their time.
    pub late: AtomicU64,
    /// Patients waiting for a face-auth reader now.
    pub waiting_reader: AtomicI64,
    /// Patients waiting for a reception PC now.
    pub waiting_desk: AtomicI64,
    /// When the run started.
    pub started: Instant,
    /// End-to-end latency of the visits so far.
    pub latency: Mutex<Histogram<u64>>,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState {
            planned: AtomicU64::new(0),
            arrived: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            late: AtomicU64::new(0),
            waiting_reader: AtomicI64::new(0),
            waiting_desk: AtomicI64::new(0),
            started: Instant::now(),
            latency: Mutex::new(histogram()),
        }
    }
}

// ---- the tap on the World's recorders -------------------------------------------------------

#[derive(Debug, Clone)]
enum Tapped {
    /// The terminal took request `name` about card `number`.
    Taken { name: String, number: String },
    /// The terminal wrote the result of `request`.
    Written { request: String },
    /// The national mock answered a query about card `number`.
    Answered { number: String, api: bool },
}

/// Keeps the moments the rush needs from the mocks' events, and nothing else.
struct Tap {
    events: Mutex<Vec<(Instant, Tapped)>>,
}

/// The card number in a request body, XML (`<InsuredIdentificationNumber>1101<`) or JSON
/// (`"InsuredIdentificationNumber": "1101"`); any ASCII-compatible encoding.
fn card_number(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"InsuredIdentificationNumber";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &body[at..];
    let start = rest
        .iter()
        .position(|b| !matches!(b, b'>' | b'"' | b':' | b' ' | b'\t'))?;
    let value = &rest[start..];
    let end = value.iter().position(|b| matches!(b, b'<' | b'"'))?;
    std::str::from_utf8(&value[..end]).ok().map(str::to_owned)
}

impl Tap {
    fn push(&self, at: Instant, t: Tapped) {
        self.events.lock().expect("tap").push((at, t));
    }
}

impl onshi_terminal::Recorder for Tap {
    fn record(&self, event: TerminalEvent) {
        let now = Instant::now();
        match event {
            TerminalEvent::RequestTaken { name, bytes } => {
                if let Some(number) = card_number(&bytes.0) {
                    self.push(now, Tapped::Taken { name, number });
                }
            }
            TerminalEvent::ResultWritten { request, .. } => self.push(now, Tapped::Written { request }),
            _ => {}
        }
    }
}

impl onshi_national::events::NationalRecorder for Tap {
    fn record(&self, event: NationalEvent) {
        let now = Instant::now();
        if let NationalEvent::Exchange(x) = event
            && x.status == 200
            && let Some(number) = card_number(&x.body.0)
        {
            // the answer leaves after the latency the profile's fault adds
            let at = now + Duration::from_millis(x.delay_ms);
            let api = x.path.contains("/search");
            self.push(at, Tapped::Answered { number, api });
        }
    }
}

// ---- the adapter pool -----------------------------------------------------------------------

struct Conn {
    index: usize,
    driver: DriverClient,
    ready: bool,
}

struct Pool {
    idle: tokio::sync::Mutex<mpsc::Receiver<Conn>>,
    back: mpsc::Sender<Conn>,
    init: InitializeParams,
    restarts: AtomicU64,
}

impl Pool {
    /// Waits for a free adapter (first come first served: tokio's mutex is fair).
    async fn get(&self) -> Conn {
        self.idle
            .lock()
            .await
            .recv()
            .await
            .expect("the pool holds every adapter")
    }

    fn put(&self, c: Conn) {
        let _ = self.back.try_send(c);
    }

    async fn initialize(&self, c: &mut Conn, timeout: Duration) -> Result<(), CallError> {
        let mut params = self.init.clone();
        params.environment.workstation = Some(format!("{:02}", c.index));
        c.driver
            .call(
                driver::method::INITIALIZE,
                serde_json::to_value(params).expect("serialisable"),
                timeout,
            )
            .await?;
        c.ready = true;
        Ok(())
    }

    /// One call on a free adapter. An adapter that timed out, died or broke the protocol is
    /// killed and started again (initialized) for the next call.
    async fn call(&self, method: &str, params: Value, timeout: Duration) -> Result<Value, CallError> {
        let mut c = self.get().await;
        if !c.ready {
            if let Err(e) = self.initialize(&mut c, timeout).await {
                c.driver.kill("initialize failed during the rush").await;
                self.put(c);
                return Err(e);
            }
            self.restarts.fetch_add(1, Ordering::Relaxed);
        }
        let result = c.driver.call(method, params, timeout).await;
        if let Err(e) = &result
            && !matches!(e, CallError::Rpc { .. })
        {
            c.driver.kill(&format!("{e}")).await;
            c.ready = false;
        }
        self.put(c);
        result
    }
}

// ---- the run --------------------------------------------------------------------------------

/// One planned visit.
struct Planned {
    facility: usize,
    patient: Patient,
    /// Time at the reader (placement + face or PIN + consent screens) or typing at the desk.
    service: Duration,
}

struct FacilityRt {
    readers: Semaphore,
    pcs: Semaphore,
}

/// What the patient tasks share.
struct Ctx {
    start: tokio::time::Instant,
    state: Arc<LiveState>,
    pool: Pool,
    terminal: Terminal,
    facilities: Vec<FacilityRt>,
    outcomes: Arc<Outcomes>,
    registry: Arc<Registry>,
    profile: Profile,
    call_timeout: Duration,
    /// Each visit with its card number (desk ways) and facility.
    visits: Mutex<Vec<(Visit, Option<String>, usize)>>,
    /// The first message of each kind of failed call (see `Counts::first_failures`).
    first_failures: Mutex<BTreeMap<String, String>>,
}

impl Ctx {
    fn us(&self, at: tokio::time::Instant) -> u64 {
        at.saturating_duration_since(self.start).as_micros() as u64
    }

    fn now_us(&self) -> u64 {
        self.us(tokio::time::Instant::now())
    }
}

/// Runs the profile in real time. `state` is updated as the run goes.
pub async fn run_live(
    profile: &Profile,
    registry: Arc<Registry>,
    outcomes: Arc<Outcomes>,
    opts: &LiveOptions,
    state: Arc<LiveState>,
) -> Result<RushStats, LiveError> {
    // the plan: every facility's patients from the seed, as on virtual time
    let mut facilities = Vec::new();
    let mut plan = Vec::new();
    for n in (0..profile.facility_count()).filter(|n| opts.partition.contains(*n)) {
        let Some((group, list, mut r)) = patients(profile, &outcomes, n, opts.seed, opts.window_us) else {
            continue;
        };
        let slot = facilities.len();
        facilities.push(FacilityRt {
            readers: Semaphore::new(group.readers as usize),
            pcs: Semaphore::new(group.reception_pcs as usize),
        });
        let svc = &profile.service;
        for patient in list {
            let service = if patient.way.at_reader() {
                let auth = if patient.way == Way::Face {
                    &svc.face_match
                } else {
                    &svc.pin_entry
                };
                svc.card_placement.sample(&mut r) + auth.sample(&mut r) + svc.consent_screens.sample(&mut r)
            } else {
                svc.desk_entry.sample(&mut r)
            };
            plan.push(Planned {
                facility: slot,
                patient,
                service,
            });
        }
    }
    plan.sort_by_key(|p| p.patient.arrived);
    state.planned.store(plan.len() as u64, Ordering::Relaxed);

    // the World, recording into the tap
    let tap = Arc::new(Tap {
        events: Mutex::new(Vec::new()),
    });
    std::fs::create_dir_all(&opts.work_dir).map_err(|source| onshi_harness::world::WorldError::Folder {
        path: opts.work_dir.display().to_string(),
        source,
    })?;
    let journal = Arc::new(Journal::default());
    let world = World::start_with(
        opts.work_dir.join("terminal"),
        registry.clone(),
        opts.catalogue.clone(),
        journal.clone(),
        Recorders {
            national: tap.clone(),
            terminal: tap.clone(),
        },
        opts.institution_code.clone(),
        opts.seed,
    )
    .await?;
    let terminal_settings = TerminalSettings {
        pickup_delay: Some(profile.world.terminal_pickup.clone()),
        result_delay: Some(profile.world.result_write.clone()),
        ..TerminalSettings::default()
    };
    let terminal = world
        .start_case(&terminal_settings, &onshi_national::http::ServerSettings::default())
        .await?
        .terminal;
    // the national answer time: a latency fault on every query (set after start_case, which
    // resets the mock)
    for (id, endpoint) in [
        ("rush-national-search", Endpoint::Search),
        ("rush-national-terminal", Endpoint::Terminal),
    ] {
        world
            .national
            .set_fault(Fault {
                id: id.into(),
                scope: Scope {
                    endpoint: Some(endpoint),
                    persona: None,
                },
                kind: FaultKind::Latency {
                    delay: profile.world.national.clone(),
                },
                when: Default::default(),
            })
            .map_err(|e| LiveError::Plan(e.to_string()))?;
    }

    // the adapters
    let size = facilities
        .iter()
        .map(|f| f.readers.available_permits() + f.pcs.available_permits())
        .sum::<usize>()
        .clamp(1, profile.real.max_connections as usize);
    let init = initialize_params(&world, &opts.institution_code)?;
    let (back, idle) = mpsc::channel(size);
    let pool = Pool {
        idle: tokio::sync::Mutex::new(idle),
        back,
        init,
        restarts: AtomicU64::new(0),
    };
    std::fs::create_dir_all(opts.work_dir.join("adapters")).ok();
    for index in 0..size {
        let mut c = Conn {
            index,
            driver: DriverClient::new(
                opts.adapter.clone(),
                journal.clone(),
                opts.work_dir.join("adapters").join(format!("{index:02}.stderr.log")),
            ),
            ready: false,
        };
        if let Err(e) = pool.initialize(&mut c, opts.call_timeout).await {
            c.driver.kill("initialize failed").await;
            terminal.stop().await;
            world.stop().await;
            return Err(LiveError::Adapter {
                index,
                message: e.to_string(),
            });
        }
        pool.put(c);
    }

    let ctx = Arc::new(Ctx {
        start: tokio::time::Instant::now(),
        state: state.clone(),
        pool,
        terminal,
        facilities,
        outcomes,
        registry,
        profile: profile.clone(),
        call_timeout: opts.call_timeout,
        visits: Mutex::new(Vec::new()),
        first_failures: Mutex::default(),
    });
    let run_start = Instant::now();

    // open arrivals: every patient starts at their intended time, whatever the others do
    let mut tasks = tokio::task::JoinSet::new();
    let bucket = bucket_width(opts.window_us);
    let mut stats = RushStats::new(bucket, profile.slos.len());
    for p in plan {
        let intended = ctx.start + Duration::from_micros(p.patient.arrived);
        tokio::time::sleep_until(intended).await;
        stats.arrival(p.patient.way, p.patient.arrived);
        state.arrived.fetch_add(1, Ordering::Relaxed);
        let lag = tokio::time::Instant::now().saturating_duration_since(intended);
        stats.start_lag.saturating_record(lag.as_micros() as u64);
        if lag > LATE_START {
            stats.counts.late_starts += 1;
            state.late.fetch_add(1, Ordering::Relaxed);
        }
        let ctx = ctx.clone();
        tasks.spawn(async move { visit(&ctx, p).await });
        // reap finished visits as we go (keeps the set small)
        while tasks.try_join_next().is_some() {}
    }
    // the window runs to its end even when nobody arrives late in it
    tokio::time::sleep_until(ctx.start + Duration::from_micros(opts.window_us)).await;
    // wait for the visits still under way, up to the drain limit
    let drained = tokio::time::timeout(opts.drain, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        stats.counts.dropped += tasks.len() as u64;
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    let elapsed = run_start.elapsed();
    tracing::debug!("live rush ran {elapsed:?}");

    let Ok(ctx) = Arc::try_unwrap(ctx) else {
        return Err(LiveError::Plan("visits still hold the run's state".into()));
    };
    let mut pool_conns = Vec::new();
    {
        let mut idle = ctx.pool.idle.lock().await;
        while let Ok(c) = idle.try_recv() {
            pool_conns.push(c);
        }
    }
    for mut c in pool_conns {
        c.driver.shutdown(Duration::from_secs(5)).await;
    }
    stats.counts.adapter_restarts = ctx.pool.restarts.load(Ordering::Relaxed);
    ctx.terminal.stop().await;
    world.stop().await;

    // the World's moments, matched to the visits
    let tapped = std::mem::take(&mut *tap.events.lock().expect("tap"));
    let mut visits = ctx.visits.into_inner().expect("visits");
    let first_failures = ctx.first_failures.into_inner().expect("failures");
    fill_world_moments(&mut visits, &tapped, ctx.start.into_std());
    let mut waits: HashMap<(usize, bool), Vec<(u64, u64)>> = HashMap::new();
    for (v, _, facility) in &visits {
        stats.visit(v, &profile.slos);
        if let (Some(a), Some(s)) = (v.at(Mark::Arrived), v.at(Mark::Served)) {
            waits.entry((*facility, v.way.at_reader())).or_default().push((a, s));
        }
    }
    for ((_, at_reader), w) in waits {
        queue_stats(&mut stats, if at_reader { Queue::Reader } else { Queue::Desk }, &w);
    }
    stats.counts.failed_calls = state.failed.load(Ordering::Relaxed);
    stats.counts.first_failures = first_failures;
    Ok(stats)
}

fn initialize_params(world: &World, institution_code: &str) -> Result<InitializeParams, LiveError> {
    let api = world
        .api_environment(institution_code, onshi_harness::spec::CertificateChoice::Valid)
        .map_err(LiveError::Plan)?;
    Ok(InitializeParams {
        protocol: driver::PROTOCOL.into(),
        harness: HarnessInfo {
            name: "onshi-harness".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        environment: Environment {
            institution_code: institution_code.to_owned(),
            terminal: Some(world.terminal_folders()),
            api: Some(api),
            pcsc: None,
            workstation: None,
        },
    })
}

/// One patient's visit.
async fn visit(ctx: &Ctx, p: Planned) {
    let facility = &ctx.facilities[p.facility];
    let patient = &p.patient;
    let mut marks = [None; 7];
    marks[Mark::Arrived as usize] = Some(patient.arrived);
    let expected = ctx.outcomes.expected(patient).to_owned();
    let (outcome, number) = if patient.way.at_reader() {
        ctx.state.waiting_reader.fetch_add(1, Ordering::Relaxed);
        let permit = facility.readers.acquire().await.expect("never closed");
        ctx.state.waiting_reader.fetch_sub(1, Ordering::Relaxed);
        marks[Mark::Served as usize] = Some(ctx.now_us());
        tokio::time::sleep(p.service).await;
        marks[Mark::Sent as usize] = Some(ctx.now_us());
        let presented = ctx.terminal.present_card_timed(present(ctx, patient)).await;
        let outcome = match presented {
            Ok((file, answered)) => {
                let refused = expected.starts_with("refused:");
                if !refused {
                    marks[Mark::Answered as usize] = Some(ctx.us(tokio::time::Instant::from_std(answered)));
                }
                marks[Mark::Written as usize] = Some(ctx.now_us());
                drop(permit);
                let params = ImportFaceParams {
                    file,
                    timeout_ms: ctx.call_timeout.as_millis() as u64,
                };
                call_outcome(ctx, driver::method::IMPORT_FACE, params, &mut marks).await
            }
            Err(e) => {
                drop(permit);
                tracing::warn!("the reader could not confirm a patient: {e}");
                "failed:terminal".to_owned()
            }
        };
        (outcome, None)
    } else {
        ctx.state.waiting_desk.fetch_add(1, Ordering::Relaxed);
        let permit = facility.pcs.acquire().await.expect("never closed");
        ctx.state.waiting_desk.fetch_sub(1, Ordering::Relaxed);
        marks[Mark::Served as usize] = Some(ctx.now_us());
        tokio::time::sleep(p.service).await;
        marks[Mark::Sent as usize] = Some(ctx.now_us());
        let card = desk_card(ctx, patient);
        let number = card.as_ref().map(|c| c.number.clone());
        let outcome = match card {
            None => "failed:no-card".to_owned(),
            Some(card) => {
                let params = ConfirmQualificationParams {
                    via: if patient.way == Way::Api { Via::Api } else { Via::File },
                    card,
                    consent_limit_certificate: false,
                    date: None,
                    timeout_ms: Some(ctx.call_timeout.as_millis() as u64),
                };
                call_outcome(ctx, driver::method::CONFIRM_QUALIFICATION, params, &mut marks).await
            }
        };
        drop(permit);
        (outcome, number)
    };
    let right = outcome == expected || (expected.starts_with("refused:") && outcome == "error");
    let wrong = !outcome.starts_with("failed:") && !right;
    let v = Visit {
        way: patient.way,
        marks,
        outcome,
        wrong,
    };
    if let Some(imported) = v.at(Mark::Imported) {
        ctx.state.completed.fetch_add(1, Ordering::Relaxed);
        let total = imported.saturating_sub(patient.arrived);
        ctx.state.latency.lock().expect("latency").saturating_record(total);
    }
    ctx.visits.lock().expect("visits").push((v, number, p.facility));
}

/// The patient at the reader: a persona with their card, or a generated person.
fn present(ctx: &Ctx, p: &Patient) -> PresentCard {
    let (persona, card, pin) = match p.who {
        Who::Population(n) => (PersonId::Generated(n).key(), None, None),
        Who::Persona(i) => {
            let entry = &ctx.profile.mix.personas[i];
            (
                entry.persona.clone(),
                entry.card.clone(),
                ctx.outcomes.pin(i).map(str::to_owned),
            )
        }
    };
    let method = match (p.way, pin) {
        (Way::Pin, Some(pin)) => AuthMethod::Pin { entries: vec![pin] },
        _ => AuthMethod::default(),
    };
    PresentCard {
        persona,
        card,
        visit: ReaderVisit {
            method,
            remove_at: None,
        },
        consents: Default::default(),
        slow: None,
    }
}

/// The insurance card a desk patient hands over.
fn desk_card(ctx: &Ctx, p: &Patient) -> Option<Card> {
    let person = match p.who {
        Who::Population(n) => ctx.registry.person(&PersonId::Generated(n))?,
        Who::Persona(i) => ctx.registry.persona(&ctx.profile.mix.personas[i].persona)?.clone(),
    };
    let index = person.shown_period(ctx.registry.today())?;
    Some(period_card(&person, index))
}

/// Calls the client and returns its outcome (or `failed:<why>`), marking `imported`.
async fn call_outcome(ctx: &Ctx, method: &str, params: impl serde::Serialize, marks: &mut [Option<u64>; 7]) -> String {
    let params = serde_json::to_value(params).expect("serialisable");
    let (kind, message) = match ctx.pool.call(method, params, ctx.call_timeout).await {
        Ok(v) => match v.get("outcome").and_then(Value::as_str) {
            Some(o) => {
                marks[Mark::Imported as usize] = Some(ctx.now_us());
                return o.to_owned();
            }
            None => (
                "failed:bad-answer",
                format!("the answer has no outcome: {}", clip(&v.to_string(), 300)),
            ),
        },
        Err(e) => {
            let kind = match e {
                CallError::Timeout { .. } => "failed:timeout",
                CallError::Exited { .. } => "failed:adapter-exited",
                CallError::Rpc { .. } => "failed:rpc-error",
                CallError::Spawn { .. } | CallError::Io(_) | CallError::LineTooLong { .. } => "failed:adapter-io",
            };
            (kind, clip(&e.to_string(), 300))
        }
    };
    ctx.state.failed.fetch_add(1, Ordering::Relaxed);
    let mut first = ctx.first_failures.lock().expect("failures");
    first
        .entry(kind.to_owned())
        .or_insert_with(|| format!("{method}: {message}"));
    kind.to_owned()
}

/// Fills `picked_up`, `answered` and `written` of desk visits from the tap: the request the
/// terminal took for the visit's card number within the visit, its result, and the national
/// answer in between (for the API: the answer within the call).
fn fill_world_moments(visits: &mut [(Visit, Option<String>, usize)], tapped: &[(Instant, Tapped)], start: Instant) {
    let us = |at: Instant| at.saturating_duration_since(start).as_micros() as u64;
    let mut taken: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
    let mut answered: HashMap<(&str, bool), Vec<u64>> = HashMap::new();
    let mut written: HashMap<&str, u64> = HashMap::new();
    for (at, t) in tapped {
        match t {
            Tapped::Taken { name, number } => taken.entry(number).or_default().push((us(*at), name)),
            Tapped::Written { request } => {
                written.entry(request).or_insert(us(*at));
            }
            Tapped::Answered { number, api } => answered.entry((number, *api)).or_default().push(us(*at)),
        }
    }
    let mut claimed: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (v, number, _) in visits.iter_mut() {
        let (Some(number), Some(sent), Some(imported)) = (number.as_deref(), v.at(Mark::Sent), v.at(Mark::Imported))
        else {
            continue;
        };
        let within = |t: u64, from: u64, to: u64| t >= from && t <= to;
        if v.way == Way::Api {
            v.marks[Mark::Answered as usize] = answered
                .get(&(number, true))
                .and_then(|ts| ts.iter().copied().find(|t| within(*t, sent, imported)));
            continue;
        }
        let Some((picked, name)) = taken.get(number).and_then(|ts| {
            ts.iter()
                .copied()
                .find(|(t, n)| within(*t, sent, imported) && !claimed.contains(n))
        }) else {
            continue;
        };
        claimed.insert(name);
        v.marks[Mark::PickedUp as usize] = Some(picked);
        let done = written.get(name).copied().filter(|t| within(*t, picked, imported));
        v.marks[Mark::Written as usize] = done;
        v.marks[Mark::Answered as usize] = answered.get(&(number, false)).and_then(|ts| {
            ts.iter()
                .copied()
                .find(|t| within(*t, picked, done.unwrap_or(imported)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_found_in_xml_and_json() {
        assert_eq!(
            card_number(b"<a><InsuredIdentificationNumber>0000012345</InsuredIdentificationNumber>").as_deref(),
            Some("0000012345")
        );
        assert_eq!(
            card_number(br#"{"InsurerNumber":"06990012", "InsuredIdentificationNumber": "1101"}"#).as_deref(),
            Some("1101")
        );
        assert_eq!(card_number(b"<InsuredIdentificationNumber>"), None);
        assert_eq!(card_number(b"nothing here"), None);
    }

    #[test]
    fn world_moments_go_to_the_visit_whose_call_they_fall_in() {
        let start = Instant::now();
        let at = |us: u64| start + Duration::from_micros(us);
        let visit = |way, sent, imported| Visit {
            way,
            marks: [Some(0), Some(0), Some(sent), None, None, None, Some(imported)],
            outcome: "valid".into(),
            wrong: false,
        };
        // two visits with the same card number, one after the other, and an API visit
        let mut visits = vec![
            (visit(Way::InsuranceCard, 100, 1_000), Some("77".to_owned()), 0),
            (visit(Way::InsuranceCard, 2_000, 3_000), Some("77".to_owned()), 0),
            (visit(Way::Api, 100, 900), Some("88".to_owned()), 1),
        ];
        let tapped = vec![
            (
                at(200),
                Tapped::Taken {
                    name: "A".into(),
                    number: "77".into(),
                },
            ),
            (
                at(500),
                Tapped::Answered {
                    number: "77".into(),
                    api: false,
                },
            ),
            (at(600), Tapped::Written { request: "A".into() }),
            (
                at(300),
                Tapped::Answered {
                    number: "88".into(),
                    api: true,
                },
            ),
            (
                at(2_100),
                Tapped::Taken {
                    name: "B".into(),
                    number: "77".into(),
                },
            ),
            (
                at(2_400),
                Tapped::Answered {
                    number: "77".into(),
                    api: false,
                },
            ),
            (at(2_500), Tapped::Written { request: "B".into() }),
        ];
        fill_world_moments(&mut visits, &tapped, start);
        let m = |i: usize, k: Mark| visits[i].0.at(k);
        assert_eq!(
            (m(0, Mark::PickedUp), m(0, Mark::Answered), m(0, Mark::Written)),
            (Some(200), Some(500), Some(600))
        );
        assert_eq!(
            (m(1, Mark::PickedUp), m(1, Mark::Answered), m(1, Mark::Written)),
            (Some(2_100), Some(2_400), Some(2_500))
        );
        assert_eq!((m(2, Mark::PickedUp), m(2, Mark::Answered)), (None, Some(300)));
    }
}
