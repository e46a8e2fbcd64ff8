//! The running terminal: watches `req/` (events plus a periodic rescan), takes each request
//! once its writer is done, answers it from the national service, and writes face-reader
//! results into `face/`.
//!
//! When is a request "done"? When it appeared by a rename (atomic), or when its writer closed
//! it. A file whose writer the events showed but whose close they did not is waited for up
//! to `stall_timeout_ms` and then taken as it is (the half-written file meets the `.err`
//! convention like any unreadable request). A file no event announced — found by the
//! rescan, as on a network share — is taken once it has not changed for `settle_ms`.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use onshi_national::http::client::RemoteNational;
use onshi_national::{Clock, ConsentChoices, EligibilityService, FaceConfirmation, FolderAnswer, FolderCall};
use onshi_protocol::codes::{self, Code};
use onshi_protocol::filename::{Direction, Extension, FaceFileName, Family, FileName, MessageFileName};
use onshi_protocol::model::{QualificationRequest, QualificationResult};
use onshi_protocol::synthetic::{ErrorCatalogue, ErrorKey};
use onshi_protocol::xml::{EncodeError, Limits};
use onshi_protocol::{MessageKind, ReadError, XmlOptions, write_message};
use onshi_registry::rng::Stream;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use crate::events::{Blob, Folder, FsOp, Recorder, TerminalEvent};
use crate::families::{self, Reply, Request};
use crate::folders::{self, Folders, NotRegular, ReadOutcome};
use crate::observe::{self, Ownership, ReqEvent};
use crate::settings::{TerminalFaultKind, TerminalSettings, Upstream};
use onshi_national::faults::Delay;

/// How the terminal reaches the national system.
#[derive(Clone)]
pub enum NationalLink {
    /// The service in this process (fast; for the harness's own unit tests).
    InProcess(Arc<dyn EligibilityService>),
    /// A national mock over HTTP(S) — in this process's World or elsewhere — so that network
    /// faults reach the folder interface.
    Http(RemoteNational),
}

impl NationalLink {
    async fn confirm_by_card(
        &self,
        request: &QualificationRequest,
        now: chrono::NaiveDateTime,
    ) -> Result<QualificationResult, String> {
        match self {
            NationalLink::InProcess(s) => Ok(s.confirm_by_card(request, now)),
            NationalLink::Http(r) => r.confirm_by_card(request).await.map_err(|e| e.to_string()),
        }
    }

    async fn call(&self, call: &FolderCall, now: chrono::NaiveDateTime) -> Result<FolderAnswer, String> {
        match self {
            NationalLink::InProcess(s) => Ok(call.answer(s.as_ref(), now)),
            NationalLink::Http(r) => r.call(call).await.map_err(|e| e.to_string()),
        }
    }

    async fn confirm_by_face(
        &self,
        face: &FaceConfirmation,
        now: chrono::NaiveDateTime,
    ) -> Result<QualificationResult, String> {
        match self {
            NationalLink::InProcess(s) => s.confirm_by_face(face, now).map_err(|e| e.to_string()),
            NationalLink::Http(r) => r.confirm_by_face(face).await.map_err(|e| e.to_string()),
        }
    }
}

/// Everything a terminal needs.
#[derive(Clone)]
pub struct TerminalConfig {
    /// Its folders.
    pub folders: Folders,
    /// How it behaves.
    pub settings: TerminalSettings,
    /// How it reaches the national system.
    pub national: NationalLink,
    /// The error codes it answers with.
    pub catalogue: Arc<ErrorCatalogue>,
    /// The World's clock.
    pub clock: Arc<dyn Clock>,
    /// Where its events go.
    pub recorder: Arc<dyn Recorder>,
    /// Seeds the terminal's identifiers (face file names, ArbitraryFileIdentifier).
    pub seed: u64,
}

/// Why the terminal cannot do something.
#[derive(Debug, Error)]
pub enum TerminalError {
    /// The folders could not be created.
    #[error("cannot prepare the terminal folders under {root}: {source}")]
    Folders {
        /// The terminal folder.
        root: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The folders could not be watched.
    #[error("cannot watch the terminal folders: {0}")]
    Watch(#[from] notify::Error),
    /// The reader cannot confirm the patient (no such persona, no qualification).
    #[error("the face-auth reader cannot confirm {persona:?}: {reason}")]
    Face {
        /// The patient.
        persona: String,
        /// Why.
        reason: String,
    },
    /// No such card (a shipped id or a card file).
    #[error("the face-auth reader has no such card: {0}")]
    Card(String),
    /// The face file could not be written.
    #[error("cannot write the face result {name}: {source}")]
    FaceWrite {
        /// The face file's name.
        name: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// A patient at the face-auth reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentCard {
    /// The patient.
    pub persona: String,
    /// A card image (shipped id or path): the reader model runs against the virtual card
    /// first. `None`: the patient is confirmed without the card-level flow.
    pub card: Option<String>,
    /// How the patient authenticates, and whether they take the card away.
    pub visit: crate::reader::Visit,
    /// What the patient answers on the consent screens.
    pub consents: ConsentChoices,
    /// Write the face file slowly, in place, like a slow share (clients must wait for it).
    pub slow: Option<SlowWrite>,
}

/// A file written slowly, in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowWrite {
    /// In how many pieces.
    pub chunks: usize,
    /// The pause between two pieces.
    pub interval_ms: u64,
}

struct Shared {
    config: TerminalConfig,
    ownership: Arc<Ownership>,
    faces: AtomicU64,
    /// Delays drawn so far (each draw has its own key, so a run repeats exactly).
    draws: AtomicU64,
    /// How often each fault has applied.
    fault_counts: Mutex<HashMap<String, u32>>,
    background: Mutex<Vec<JoinHandle<()>>>,
    /// The virtual cards of this run, by id: one object per card, so PIN counters carry
    /// over between visits and to PC/SC.
    cards: Mutex<HashMap<String, CardInHand>>,
}

/// A virtual card and the image it was made from.
#[derive(Clone)]
pub struct CardInHand {
    pub card: onshi_card::vpcd::SharedCard,
    pub image: Arc<onshi_card::CardImage>,
}

impl Shared {
    fn record(&self, event: TerminalEvent) {
        self.config.recorder.record(event);
    }

    /// A delay: drawn from `delay` when set, else `fixed_ms`.
    fn draw(&self, delay: &Option<Delay>, fixed_ms: u64) -> Duration {
        match delay {
            None => Duration::from_millis(fixed_ms),
            Some(d) => {
                let n = self.draws.fetch_add(1, Ordering::Relaxed);
                d.sample(&mut Stream::new(self.config.seed, 0xDE1A_0000 ^ n))
            }
        }
    }

    /// The faults that act on a request of `family` (counted as applied).
    fn faults_for(&self, family: Family, request: &str) -> Vec<TerminalFaultKind> {
        let mut counts = self.fault_counts.lock().expect("fault counts");
        self.config
            .settings
            .faults
            .iter()
            .filter(|f| f.kind != TerminalFaultKind::StaleResults)
            .filter(|f| f.families.is_empty() || f.families.contains(&family))
            .filter(|f| {
                let n = counts.entry(f.id.clone()).or_default();
                let take = f.first.is_none_or(|first| *n < first);
                *n += u32::from(take);
                take
            })
            .map(|f| {
                self.record(TerminalEvent::FaultApplied {
                    id: f.id.clone(),
                    kind: f.kind.name(),
                    request: Some(request.to_owned()),
                });
                f.kind.clone()
            })
            .collect()
    }
}

/// A running terminal. Stop it with [`Terminal::stop`].
pub struct Terminal {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    run: Option<JoinHandle<()>>,
    _watcher: notify::RecommendedWatcher,
}

impl Terminal {
    /// Creates the folders when missing and starts watching them.
    pub async fn start(mut config: TerminalConfig) -> Result<Terminal, TerminalError> {
        let root = config.folders.root.display().to_string();
        let folder_error = |source| TerminalError::Folders {
            root: root.clone(),
            source,
        };
        let folders = config.folders.absolute().map_err(folder_error)?;
        folders.create().map_err(folder_error)?;
        config.folders = folders;
        let ownership = Arc::new(Ownership::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let watcher = observe::watch(&config.folders, config.recorder.clone(), ownership.clone(), tx)?;
        let shared = Arc::new(Shared {
            config,
            ownership,
            faces: AtomicU64::new(0),
            draws: AtomicU64::new(0),
            fault_counts: Mutex::new(HashMap::new()),
            background: Mutex::new(Vec::new()),
            cards: Mutex::new(HashMap::new()),
        });
        if shared
            .config
            .settings
            .faults
            .iter()
            .any(|f| f.kind == TerminalFaultKind::StaleResults)
        {
            plant_stale_results(&shared).await;
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        let run = tokio::spawn(run(shared.clone(), rx, stop_rx));
        Ok(Terminal {
            shared,
            stop: Some(stop_tx),
            run: Some(run),
            _watcher: watcher,
        })
    }

    /// The terminal's folders.
    pub fn folders(&self) -> &Folders {
        &self.shared.config.folders
    }

    /// The run's virtual card `id` (a shipped card id or an image path), made on first use.
    pub fn card(&self, id: &str) -> Result<CardInHand, TerminalError> {
        let mut cards = self.shared.cards.lock().expect("cards");
        if let Some(c) = cards.get(id) {
            return Ok(c.clone());
        }
        let image = onshi_card::image::resolve(id).map_err(|e| TerminalError::Card(e.to_string()))?;
        let c = CardInHand {
            card: Arc::new(Mutex::new(onshi_card::Card::new(&image))),
            image: Arc::new(image),
        };
        cards.insert(id.to_owned(), c.clone());
        Ok(c)
    }

    /// A patient presents their card at the face-auth reader and finishes the screens: the
    /// face result appears in `face/`. Returns its file name at once; with `slow` the file
    /// is still being written when this returns.
    pub async fn present_card(&self, card: PresentCard) -> Result<String, TerminalError> {
        self.present_card_timed(card).await.map(|(name, _)| name)
    }

    /// [`Terminal::present_card`], also returning when the national system answered (or
    /// the reader refused the card) — the rush's stage boundary before the file is written.
    pub async fn present_card_timed(&self, card: PresentCard) -> Result<(String, Instant), TerminalError> {
        let s = &self.shared;
        let cfg = &s.config;
        let now = cfg.clock.now();
        let refused = match &card.card {
            Some(id) => self.visit_reader(id, &card.visit, now)?,
            None => None,
        };
        let mut result = match refused {
            Some(answer) => onshi_national::face_error_result(&cfg.settings.institution_code, now, answer),
            None => cfg
                .national
                .confirm_by_face(
                    &FaceConfirmation {
                        persona: card.persona.clone(),
                        institution_code: cfg.settings.institution_code.clone(),
                        consents: card.consents.clone(),
                    },
                    now,
                )
                .await
                .map_err(|reason| TerminalError::Face {
                    persona: card.persona.clone(),
                    reason,
                })?,
        };
        let answered = Instant::now();
        let n = s.faces.fetch_add(1, Ordering::Relaxed);
        let mut rng = Stream::new(cfg.seed, 0xFACE_0000 + n);
        let id_bytes: Vec<u8> = (0..11).map(|_| rng.below(256) as u8).collect();
        let hex: String = (0..20).map(|_| format!("{:x}", rng.below(16))).collect();
        if let Some(h) = result.message_header.as_mut() {
            h.arbitrary_file_identifier = Some(base64::engine::general_purpose::STANDARD.encode(id_bytes));
            h.character_code_identifier = Some(character_code(cfg));
        }
        let name = FaceFileName {
            opaque: Some(format!("{}{hex}", cfg.settings.institution_code)),
            timestamp: now.format("%Y%m%d%H%M%S").to_string(),
        }
        .to_string();
        let bytes = write_message(&result, &xml_options(cfg)).map_err(|e| TerminalError::Face {
            persona: card.persona.clone(),
            reason: e.to_string(),
        })?;
        let path = cfg.folders.face.join(&name);
        match card.slow {
            None => {
                folders::write_atomic(&cfg.folders.face, &name, &bytes, || {
                    s.ownership.claim_once(path.clone(), FsOp::RenamedTo)
                })
                .map_err(|source| TerminalError::FaceWrite {
                    name: name.clone(),
                    source,
                })?;
                s.record(TerminalEvent::FaceWritten {
                    name: name.clone(),
                    persona: card.persona,
                    bytes: Blob(bytes),
                });
            }
            Some(slow) => {
                let chunks = slow.chunks.max(1);
                let interval = Duration::from_millis(slow.interval_ms);
                s.ownership
                    .claim_writes_until(path.clone(), Instant::now() + interval * (chunks as u32 + 2));
                s.record(TerminalEvent::FaceWriteStarted {
                    name: name.clone(),
                    chunks,
                    interval_ms: slow.interval_ms,
                });
                let shared = s.clone();
                let task_name = name.clone();
                let handle = tokio::spawn(async move {
                    match write_slowly(&path, &bytes, chunks, interval).await {
                        Ok(()) => shared.record(TerminalEvent::FaceWritten {
                            name: task_name,
                            persona: card.persona,
                            bytes: Blob(bytes),
                        }),
                        Err(e) => shared.record(TerminalEvent::Problem {
                            message: format!("writing face result {task_name} failed: {e}"),
                        }),
                    }
                });
                s.background.lock().expect("background").push(handle);
            }
        }
        Ok((name, answered))
    }

    /// The patient at the reader with card `id`: runs the reader model, journals each step,
    /// and returns the error to report when the reader refused.
    fn visit_reader(
        &self,
        id: &str,
        visit: &crate::reader::Visit,
        now: chrono::NaiveDateTime,
    ) -> Result<Option<onshi_protocol::synthetic::ErrorAnswer>, TerminalError> {
        let s = &self.shared;
        let hand = self.card(id)?;
        let (steps, outcome) = {
            let mut card = hand.card.lock().unwrap_or_else(|p| p.into_inner());
            crate::reader::authenticate(&mut card, &hand.image, visit, &s.config.settings.reader, now.date())
        };
        for step in steps {
            s.record(TerminalEvent::Reader {
                card: id.to_owned(),
                step,
            });
        }
        Ok(outcome.err().map(|failure| {
            let answer = s.config.catalogue.answer(failure.error_key(), &failure.detail());
            s.record(TerminalEvent::ReaderRefused {
                card: id.to_owned(),
                failure,
                code: answer.code.clone(),
                message: answer.message.clone(),
            });
            answer
        }))
    }

    /// Stops watching and answering, abandons work in progress, and records which files are
    /// left in the folders.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(run) = self.run.take() {
            let _ = run.await;
        }
        let background = std::mem::take(&mut *self.shared.background.lock().expect("background"));
        for h in background {
            h.abort();
            let _ = h.await;
        }
        let f = &self.shared.config.folders;
        let list = |folder| {
            f.list(folder)
                .unwrap_or_default()
                .into_iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect()
        };
        self.shared.record(TerminalEvent::Inventory {
            req: list(Folder::Req),
            res: list(Folder::Res),
            face: list(Folder::Face),
        });
    }
}

async fn write_slowly(path: &std::path::Path, bytes: &[u8], chunks: usize, interval: Duration) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut f = tokio::fs::File::create(path).await?;
    let size = bytes.len().div_ceil(chunks);
    for (i, chunk) in bytes.chunks(size.max(1)).enumerate() {
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        f.write_all(chunk).await?;
        f.flush().await?;
        f.sync_data().await?;
    }
    Ok(())
}

fn xml_options(cfg: &TerminalConfig) -> XmlOptions {
    XmlOptions {
        encoding: cfg.settings.encoding,
        order: cfg.settings.order,
    }
}

fn character_code(cfg: &TerminalConfig) -> codes::CharacterCodeIdentifier {
    codes::CharacterCodeIdentifier::from_code(cfg.settings.encoding.character_code())
}

/// A file in `req/` waiting to be taken.
#[derive(Debug)]
struct Pending {
    first_seen: Instant,
    last_change: Instant,
    /// A rename or a close-after-write said the writer is done.
    complete: bool,
    /// Events showed a writer at work and no close yet.
    writing: bool,
    /// Size and modification time at the last rescan.
    stat: Option<(u64, SystemTime)>,
    /// This request's pickup delay (drawn once).
    pickup: Option<Duration>,
}

impl Pending {
    fn new(now: Instant) -> Self {
        Pending {
            first_seen: now,
            last_change: now,
            complete: false,
            writing: false,
            stat: None,
            pickup: None,
        }
    }
}

/// Names in `req/` nobody should take: temporary files of clients or of the terminal.
fn is_temporary(name: &OsString) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.') || n.ends_with(".tmp"))
}

struct Loop {
    shared: Arc<Shared>,
    pending: HashMap<OsString, Pending>,
    in_flight: HashSet<OsString>,
    /// Names already reported as not processable (until they go away).
    ignored: HashSet<OsString>,
}

async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<ReqEvent>, mut stop: oneshot::Receiver<()>) {
    let settings = shared.config.settings.clone();
    let mut lp = Loop {
        shared,
        pending: HashMap::new(),
        in_flight: HashSet::new(),
        ignored: HashSet::new(),
    };
    let mut tasks: JoinSet<(OsString, Taken)> = JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rescan = tokio::time::interval(Duration::from_millis(settings.rescan_ms.max(10)));
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => break,
                        Some(ev) = rx.recv() => {
                if settings.req_events {
                    lp.on_event(ev);
                    // A complete request is taken at once, not at the next tick.
                    lp.spawn_ready(&settings, &mut tasks);
                }
            }
            _ = rescan.tick() => lp.rescan(),
            _ = tick.tick() => lp.spawn_ready(&settings, &mut tasks),
            Some(done) = tasks.join_next() => {
                if let Ok((name, taken)) = done {
                    lp.in_flight.remove(&name);
                    if taken == Taken::LeftInPlace {
                        lp.ignored.insert(name);
                    }
                }
            }
        }
    }
    tasks.shutdown().await;
}

impl Loop {
    fn spawn_ready(&mut self, settings: &TerminalSettings, tasks: &mut JoinSet<(OsString, Taken)>) {
        for name in self.ready(settings) {
            self.in_flight.insert(name.clone());
            let shared = self.shared.clone();
            tasks.spawn(async move {
                let taken = take_request(shared, name.clone()).await;
                (name, taken)
            });
        }
    }

    fn on_event(&mut self, ev: ReqEvent) {
        if is_temporary(&ev.name) || self.in_flight.contains(&ev.name) {
            return;
        }
        let now = Instant::now();
        match ev.op {
            FsOp::Removed | FsOp::RenamedFrom => {
                self.pending.remove(&ev.name);
                self.ignored.remove(&ev.name);
            }
            FsOp::Created => {
                self.ignored.remove(&ev.name);
                // Only a regular file has a writer to wait for; a link or a directory is whole.
                let regular = std::fs::symlink_metadata(self.shared.config.folders.req.join(&ev.name))
                    .is_ok_and(|m| m.file_type().is_file());
                let mut p = Pending::new(now);
                p.writing = regular;
                p.complete = !regular;
                self.pending.insert(ev.name, p);
            }
            FsOp::RenamedTo => {
                self.ignored.remove(&ev.name);
                let mut p = Pending::new(now);
                p.complete = true;
                self.pending.insert(ev.name, p);
            }
            FsOp::Modified => {
                let p = self.pending.entry(ev.name).or_insert_with(|| Pending::new(now));
                p.last_change = now;
                p.complete = false;
                p.writing = true;
            }
            FsOp::Opened => {}
            FsOp::ClosedWrite => {
                let p = self.pending.entry(ev.name).or_insert_with(|| Pending::new(now));
                p.last_change = now;
                p.complete = true;
                p.writing = false;
            }
        }
    }

    fn rescan(&mut self) {
        let folders = &self.shared.config.folders;
        let Ok(entries) = std::fs::read_dir(&folders.req) else {
            return;
        };
        let now = Instant::now();
        let mut present = HashSet::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            present.insert(name.clone());
            if is_temporary(&name) || self.in_flight.contains(&name) || self.ignored.contains(&name) {
                continue;
            }
            let stat = entry
                .metadata()
                .ok()
                .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            match self.pending.get_mut(&name) {
                Some(p) => {
                    if p.stat.is_some() && p.stat != stat {
                        p.last_change = now;
                    }
                    p.stat = stat;
                }
                None => {
                    self.shared.record(TerminalEvent::ScanFound {
                        folder: Folder::Req,
                        name: name.to_string_lossy().into_owned(),
                    });
                    let mut p = Pending::new(now);
                    p.stat = stat;
                    self.pending.insert(name, p);
                }
            }
        }
        // A name reported once is reported again only after it went away (a share may
        // remove it without an event).
        self.ignored.retain(|n| present.contains(n));
    }

    /// Requests to take now; names that are not requests are reported once and left alone.
    fn ready(&mut self, settings: &TerminalSettings) -> Vec<OsString> {
        let now = Instant::now();
        for p in self.pending.values_mut().filter(|p| p.pickup.is_none()) {
            p.pickup = Some(self.shared.draw(&settings.pickup_delay, settings.pickup_delay_ms));
        }
        let settle = Duration::from_millis(settings.settle_ms);
        let stall = Duration::from_millis(settings.stall_timeout_ms);
        let due: Vec<OsString> = self
            .pending
            .iter()
            .filter(|(_, p)| {
                let settled = if p.writing {
                    false
                } else {
                    now.duration_since(p.last_change) >= settle
                };
                now.duration_since(p.first_seen) >= p.pickup.unwrap_or_default()
                    && (p.complete || settled || now.duration_since(p.first_seen) >= stall)
            })
            .map(|(n, _)| n.clone())
            .collect();
        let mut take = Vec::new();
        for name in due {
            self.pending.remove(&name);
            match not_a_request(&name) {
                Some(reason) => {
                    self.shared.record(TerminalEvent::Ignored {
                        folder: Folder::Req,
                        name: name.to_string_lossy().into_owned(),
                        reason,
                    });
                    self.ignored.insert(name);
                }
                None => take.push(name),
            }
        }
        take
    }
}

/// Why a name in `req/` is not something the terminal takes, if it is not.
fn not_a_request(name: &OsString) -> Option<String> {
    match FileName::parse_os(name) {
        Err(e) => Some(format!("not a request file name: {e}")),
        Ok(FileName::Face(_)) => Some("a face-result name does not belong in req/".into()),
        Ok(FileName::Message(m)) if m.direction == Direction::Result => {
            Some("a result name does not belong in req/; results appear in res/".into())
        }
        Ok(FileName::Message(m)) if m.extension != Extension::Xml => Some(format!(
            "requests end in .xml; .{} files are not taken",
            m.extension.as_str()
        )),
        Ok(_) => None,
    }
}

/// What became of a name the loop handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// Answered, rejected, taken back by the client, or waiting for nothing more.
    Done,
    /// Still in `req/` and not to be taken again until it changes (a directory, a link).
    LeftInPlace,
}

/// Takes one request out of `req/` and answers it.
async fn take_request(shared: Arc<Shared>, name: OsString) -> Taken {
    let cfg = &shared.config;
    let display = name.to_string_lossy().into_owned();
    let Ok(FileName::Message(msg_name)) = FileName::parse_os(&name) else {
        return Taken::Done; // filtered before; a race with a rename
    };
    let path = cfg.folders.req.join(&name);
    let taken_at = Instant::now();
    let bytes = match folders::read_bounded(&path, cfg.settings.max_request_bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Taken::Done, // the client took it back
        Err(e) => {
            shared.record(TerminalEvent::Problem {
                message: format!("cannot read req/{display}: {e}"),
            });
            return Taken::Done;
        }
        Ok(ReadOutcome::NotRegular(NotRegular::Directory)) => {
            shared.record(TerminalEvent::Ignored {
                folder: Folder::Req,
                name: display,
                reason: "a directory named like a request".into(),
            });
            return Taken::LeftInPlace;
        }
        Ok(ReadOutcome::NotRegular(NotRegular::Symlink)) => {
            // Answered, but the link stays where it is: moved into res/ it would offer the
            // client whatever it points to.
            let detail = format!("req/{display} is {}", NotRegular::Symlink.describe());
            let text = shared.config.catalogue.answer(ErrorKey::RequestUnreadable, &detail);
            write_err(&shared, &msg_name, None, text.code, text.message, None, Move::Leave).await;
            return Taken::LeftInPlace;
        }
        Ok(ReadOutcome::NotRegular(kind)) => {
            reject(
                &shared,
                &msg_name,
                None,
                format!("req/{display} is {}", kind.describe()),
                None,
            )
            .await;
            return Taken::Done;
        }
        Ok(ReadOutcome::TooLarge { limit }) => {
            reject(
                &shared,
                &msg_name,
                None,
                format!("the file is larger than {limit} bytes"),
                Some(onshi_protocol::ids::MSG_XML_003.as_str()),
            )
            .await;
            return Taken::Done;
        }
        Ok(ReadOutcome::Bytes(b)) => b,
    };
    let kind = match MessageKind::for_file_name(&FileName::Message(msg_name.clone())) {
        Ok(Some(kind)) => kind,
        // Results and non-XML names were filtered before; CIP's layout is not public.
        _ => {
            reject_unsupported(&shared, &msg_name, bytes).await;
            return Taken::Done;
        }
    };
    let limits = Limits {
        max_bytes: cfg.settings.max_request_bytes,
        ..Limits::default()
    };
    let request = match Request::read(kind, msg_name.family, &bytes, &limits) {
        Ok(r) => r,
        Err(e) => {
            let check = match &e {
                ReadError::Decode(d) => d.check_id(),
                ReadError::Model(_) => onshi_protocol::ids::MSG_ELEM_003,
            };
            reject(&shared, &msg_name, Some(bytes), e.to_string(), Some(check.as_str())).await;
            return Taken::Done;
        }
    };
    shared.ownership.claim_once(path.clone(), FsOp::Removed);
    if let Err(e) = std::fs::remove_file(&path) {
        shared.record(TerminalEvent::Problem {
            message: format!("cannot remove req/{display} after reading it: {e}"),
        });
    }
    let request_bytes = bytes.clone();
    shared.record(TerminalEvent::RequestTaken {
        name: display.clone(),
        bytes: Blob(bytes),
    });
    let faults = shared.faults_for(msg_name.family, &display);
    let fault = |f: fn(&TerminalFaultKind) -> bool| faults.iter().find(|k| f(k)).cloned();
    let (reply, result_bytes) = answer(&shared, &request).await;
    let res_name = |extension| msg_name.result_name(extension).to_string();
    if fault(|k| *k == TerminalFaultKind::NameCollision).is_some() {
        plant_leftover(
            &shared,
            &res_name(Extension::Xml),
            "name_collision: an older answer under the same name",
        )
        .await;
    }
    let mut delay = shared.draw(&cfg.settings.result_delay, cfg.settings.result_delay_ms);
    if let Some(TerminalFaultKind::AnswersLate { ms }) = fault(|k| matches!(k, TerminalFaultKind::AnswersLate { .. })) {
        delay += Duration::from_millis(ms);
    }
    tokio::time::sleep_until((taken_at + delay).into()).await;
    let never = fault(|k| *k == TerminalFaultKind::NeverAnswers).is_some();
    if !cfg.settings.answer || never {
        shared.record(TerminalEvent::Unanswered {
            request: display,
            reason: if never {
                "terminal fault never_answers".into()
            } else {
                "the terminal is set never to answer".into()
            },
        });
        return Taken::Done;
    }
    let (extension, result_bytes) = if cfg.settings.zip_bulk_results && reply.is_finished_bulk() {
        let inner = res_name(Extension::Xml);
        match families::zip_one(&inner, &result_bytes) {
            Ok(z) => (Extension::Zip, z),
            Err(e) => {
                shared.record(TerminalEvent::Problem {
                    message: format!("zipping {inner} failed, written as XML: {e}"),
                });
                (Extension::Xml, result_bytes)
            }
        }
    } else {
        (reply.extension(), result_bytes)
    };
    let name = res_name(extension);
    if fault(|k| *k == TerminalFaultKind::WriteFailure).is_some() {
        let text = cfg
            .catalogue
            .answer(ErrorKey::TerminalWriteFailed, "No space left on device");
        shared.record(TerminalEvent::Problem {
            message: format!(
                "writing res/{name} failed (terminal fault write_failure): {} {}",
                text.code, text.message
            ),
        });
        return Taken::Done;
    }
    let summary = reply.summary();
    let written = TerminalEvent::ResultWritten {
        request: display.clone(),
        name: name.clone(),
        bytes: Blob(result_bytes.clone()),
        segment_of_result: summary.segment_of_result,
        error_code: summary.error_code,
    };
    let path = cfg.folders.res.join(&name);
    let taken_back = Some((display.as_str(), request_bytes.as_slice()));
    if let Some(slow) = cfg.settings.slow_results {
        let chunks = slow.chunks.max(1);
        let interval = Duration::from_millis(slow.interval_ms);
        shared.record(TerminalEvent::ResultWriteStarted {
            request: display.clone(),
            name: name.clone(),
            chunks,
            interval_ms: slow.interval_ms,
        });
        let mut retry = Retry::new(&shared, &name, taken_back);
        loop {
            shared
                .ownership
                .claim_writes_until(path.clone(), Instant::now() + interval * (chunks as u32 + 2));
            match write_slowly(&path, &result_bytes, chunks, interval).await {
                Ok(()) => break,
                Err(e) => retry.failed(&e).await,
            }
        }
        retry.done();
    } else {
        until_written(&shared, &name, taken_back, || {
            folders::write_atomic(&cfg.folders.res, &name, &result_bytes, || {
                shared.ownership.claim_once(path.clone(), FsOp::RenamedTo)
            })
        })
        .await;
    }
    shared.record(written);
    if cfg.settings.touch_after_write {
        tokio::time::sleep(Duration::from_millis(50)).await;
        shared
            .ownership
            .claim_writes_until(path.clone(), Instant::now() + Duration::from_secs(1));
        let touched = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now()));
        if let Err(e) = touched {
            shared.record(TerminalEvent::Problem {
                message: format!("touching res/{name} failed: {e}"),
            });
        }
    }
    if let Some(TerminalFaultKind::AnswersTwice { after_ms }) =
        fault(|k| matches!(k, TerminalFaultKind::AnswersTwice { .. }))
    {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        let again = cfg.folders.res.join(&name);
        match folders::write_atomic(&cfg.folders.res, &name, &result_bytes, || {
            shared.ownership.claim_once(again.clone(), FsOp::RenamedTo)
        }) {
            Ok(()) => shared.record(TerminalEvent::Planted {
                name,
                bytes: Blob(result_bytes),
                why: format!("answers_twice: the answer to {display} once more"),
            }),
            Err(e) => shared.record(TerminalEvent::Problem {
                message: format!("writing res/{name} a second time failed: {e}"),
            }),
        }
    }
    Taken::Done
}

/// The first wait after a refused write into `res/`; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Retries of one write into `res/` (of `target`) until it succeeds: the terminal never
/// gives an answer up because a folder refused it for a while (a full disk, a share that went
/// away). `taken_back` is the request already taken out of `req/`: it is put back there while
/// the writes fail, so that nothing is lost if the harness stops, and removed again once the
/// answer is written. Only the first failure and the recovery are journaled.
struct Retry<'a> {
    shared: &'a Shared,
    target: &'a str,
    taken_back: Option<(&'a str, &'a [u8])>,
    started: Instant,
    wait: Duration,
    attempts: u32,
    put_back: Option<std::path::PathBuf>,
}

impl<'a> Retry<'a> {
    fn new(shared: &'a Shared, target: &'a str, taken_back: Option<(&'a str, &'a [u8])>) -> Self {
        Retry {
            shared,
            target,
            taken_back,
            started: Instant::now(),
            wait: RETRY_FIRST,
            attempts: 1,
            put_back: None,
        }
    }

    /// The last attempt failed with `e`: waits before the next one.
    async fn failed(&mut self, e: &std::io::Error) {
        if self.attempts == 1 {
            self.put_back = self
                .taken_back
                .and_then(|(name, bytes)| put_request_back(self.shared, name, bytes));
            let held = match (self.taken_back, &self.put_back) {
                (None, _) => "the request stays in req/".to_owned(),
                (Some((name, _)), Some(_)) => format!("req/{name} is back in req/ until then"),
                (Some((name, _)), None) => {
                    format!("req/{name} could not be put back; the journal holds its bytes")
                }
            };
            self.shared.record(TerminalEvent::Problem {
                message: format!(
                    "writing res/{} failed: {e} — retrying until res/ accepts it (after {} ms at first, then up to every {} s); {held}",
                    self.target,
                    RETRY_FIRST.as_millis(),
                    RETRY_MAX.as_secs()
                ),
            });
        }
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(RETRY_MAX);
        self.attempts += 1;
    }

    /// The write succeeded.
    fn done(self) {
        if self.attempts > 1 {
            self.shared.record(TerminalEvent::WriteRecovered {
                name: self.target.to_owned(),
                attempts: self.attempts,
                waited_ms: self.started.elapsed().as_millis() as u64,
            });
        }
        if let Some(path) = self.put_back {
            self.shared.ownership.claim_once(path.clone(), FsOp::Removed);
            if let Err(e) = std::fs::remove_file(&path) {
                self.shared.record(TerminalEvent::Problem {
                    message: format!(
                        "cannot remove the put-back request {} after answering it: {e}",
                        path.display()
                    ),
                });
            }
        }
    }
}

/// Runs a synchronous write into `res/` until it succeeds (see [`Retry`]).
async fn until_written(
    shared: &Shared,
    target: &str,
    taken_back: Option<(&str, &[u8])>,
    mut attempt: impl FnMut() -> std::io::Result<()>,
) {
    let mut retry = Retry::new(shared, target, taken_back);
    while let Err(e) = attempt() {
        retry.failed(&e).await;
    }
    retry.done();
}

/// Writes a taken request back into `req/` under its name, unless something else already
/// holds the name (the client re-sent it). Returns the path to remove once answered.
fn put_request_back(shared: &Shared, name: &str, bytes: &[u8]) -> Option<std::path::PathBuf> {
    let req = &shared.config.folders.req;
    let path = req.join(name);
    if std::fs::symlink_metadata(&path).is_ok() {
        return None;
    }
    folders::write_atomic(req, name, bytes, || {
        shared.ownership.claim_once(path.clone(), FsOp::RenamedTo)
    })
    .ok()
    .map(|()| path)
}

/// Another patient's result from yesterday, as a terminal that had answered under the same
/// name before would leave it.
async fn leftover(shared: &Shared) -> Option<Vec<u8>> {
    let cfg = &shared.config;
    let yesterday = cfg.clock.now() - chrono::Duration::days(1);
    let face = FaceConfirmation {
        persona: "minimal-record".into(),
        institution_code: cfg.settings.institution_code.clone(),
        consents: ConsentChoices::default(),
    };
    let mut result = cfg.national.confirm_by_face(&face, yesterday).await.ok()?;
    if let Some(h) = result.message_header.as_mut() {
        h.reference_classification = Some(codes::ReferenceClassification::InsuranceCard);
        h.arbitrary_file_identifier = Some("SYN-LEFTOVER".into());
        h.character_code_identifier = Some(character_code(cfg));
    }
    write_message(&result, &xml_options(cfg)).ok()
}

async fn plant_leftover(shared: &Shared, name: &str, why: &str) {
    let cfg = &shared.config;
    let Some(bytes) = leftover(shared).await else {
        shared.record(TerminalEvent::Problem {
            message: format!("cannot build the leftover result for {name}"),
        });
        return;
    };
    let path = cfg.folders.res.join(name);
    match folders::write_atomic(&cfg.folders.res, name, &bytes, || {
        shared.ownership.claim_once(path.clone(), FsOp::RenamedTo)
    }) {
        Ok(()) => shared.record(TerminalEvent::Planted {
            name: name.to_owned(),
            bytes: Blob(bytes),
            why: why.to_owned(),
        }),
        Err(e) => shared.record(TerminalEvent::Problem {
            message: format!("planting res/{name} failed: {e}"),
        }),
    }
}

/// Yesterday's results in `res/`, one of them under today's first request name.
async fn plant_stale_results(shared: &Arc<Shared>) {
    let today = shared.config.clock.now().date();
    let yesterday = today - chrono::Duration::days(1);
    for (date, n) in [(yesterday, 1), (yesterday, 2), (today, 1)] {
        let name = format!("OQSsiquc01res_{}{n:04}.xml", date.format("%Y%m%d"));
        plant_leftover(shared, &name, "stale_results: left in res/ from an earlier day").await;
    }
    shared.record(TerminalEvent::FaultApplied {
        id: shared
            .config
            .settings
            .faults
            .iter()
            .find(|f| f.kind == TerminalFaultKind::StaleResults)
            .map(|f| f.id.clone())
            .unwrap_or_default(),
        kind: TerminalFaultKind::StaleResults.name(),
        request: None,
    });
}

/// The answer to a readable request, already encoded. Characters the output encoding cannot
/// carry turn the answer into the family's error form (never a silent `?`).
async fn answer(shared: &Shared, request: &Request) -> (Reply, Vec<u8>) {
    let cfg = &shared.config;
    let now = cfg.clock.now();
    let mic = request.institution().unwrap_or_default();
    let catalogue = &cfg.catalogue;
    let mut reply = if cfg.settings.upstream == Upstream::Down {
        request.error(now, &catalogue.answer(ErrorKey::UpstreamUnavailable, ""))
    } else if mic.len() == 10 && mic.bytes().all(|b| b.is_ascii_digit()) && mic != cfg.settings.institution_code {
        let detail = format!("{mic} ≠ {}", cfg.settings.institution_code);
        request.error(now, &catalogue.answer(ErrorKey::RequestInstitutionMismatch, &detail))
    } else {
        let asked = match (request, request.call()) {
            (Request::Qualification(q), _) => cfg.national.confirm_by_card(q, now).await.map(Reply::Qualification),
            (_, Some(call)) => cfg.national.call(&call, now).await.map(Reply::from),
            (_, None) => unreachable!("every other request is a folder call"),
        };
        match asked {
            Ok(r) => r,
            Err(detail) => {
                // The national side failed (network, HTTP error, malformed answer): the clinic
                // sees the family's error form, the journal sees why.
                shared.record(TerminalEvent::Problem {
                    message: format!("the national system did not answer: {detail}"),
                });
                request.error(now, &catalogue.answer(ErrorKey::UpstreamUnavailable, ""))
            }
        }
    };
    reply.set_character_code(character_code(cfg));
    match reply.encode(&xml_options(cfg)) {
        Ok(bytes) => (reply, bytes),
        Err(e) => {
            let detail = match e {
                EncodeError::Unencodable { path, ch, .. } | EncodeError::InvalidCharacter { path, ch } => {
                    format!("{path} U+{:04X}", ch as u32)
                }
                other => other.to_string(),
            };
            let mut fallback = request.error(now, &catalogue.answer(ErrorKey::ResultUnencodable, &detail));
            fallback.set_character_code(character_code(cfg));
            let bytes = fallback.encode(&xml_options(cfg)).unwrap_or_else(|_| {
                // The echoed request itself may hold the character: answer without the echo.
                let mut bare = fallback.clone();
                if let Reply::Qualification(q) = &mut bare
                    && let Some(b) = q.message_body.as_mut()
                {
                    b.qualification_confirm_search_info = None;
                }
                bare.encode(&xml_options(cfg)).expect("error answers are encodable")
            });
            (fallback, bytes)
        }
    }
}

/// A request of a family this version does not serve: the `.err` convention.
async fn reject_unsupported(shared: &Arc<Shared>, name: &MessageFileName, bytes: Vec<u8>) {
    let detail = format!("{} — {}", name.family, name.family.title());
    let text = shared.config.catalogue.answer(ErrorKey::RequestUnsupported, &detail);
    write_err(shared, name, Some(bytes), text.code, text.message, None, Move::IntoRes).await;
}

/// An unreadable request: the `.err` convention.
async fn reject(
    shared: &Arc<Shared>,
    name: &MessageFileName,
    bytes: Option<Vec<u8>>,
    detail: String,
    check: Option<&str>,
) {
    let text = shared.config.catalogue.answer(ErrorKey::RequestUnreadable, &detail);
    write_err(shared, name, bytes, text.code, text.message, check, Move::IntoRes).await;
}

/// What happens to a rejected request once its `.err` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// Moved into `res/` under its own name (the convention).
    IntoRes,
    /// Left in `req/` (a symbolic link: never carried into `res/`).
    Leave,
}

/// Writes `res/<request>.err` first, then (with [`Move::IntoRes`]) moves the request into
/// `res/`. Both wait for `res/` to accept them; the request stays in `req/` until then.
async fn write_err(
    shared: &Arc<Shared>,
    name: &MessageFileName,
    bytes: Option<Vec<u8>>,
    code: String,
    message: String,
    check: Option<&str>,
    then: Move,
) {
    let cfg = &shared.config;
    let req_name = name.to_string();
    if let Some(bytes) = bytes {
        shared.record(TerminalEvent::RequestTaken {
            name: req_name.clone(),
            bytes: Blob(bytes),
        });
    }
    let err_name = name.error_sibling().to_string();
    let text = format!("{code} {message}\r\n");
    let encoded = cfg
        .settings
        .encoding
        .encode_str(&text)
        .unwrap_or_else(|_| text.clone().into_bytes());
    let err_path = cfg.folders.res.join(&err_name);
    until_written(shared, &err_name, None, || {
        folders::write_atomic(&cfg.folders.res, &err_name, &encoded, || {
            shared.ownership.claim_once(err_path.clone(), FsOp::RenamedTo)
        })
    })
    .await;
    if then == Move::IntoRes {
        let from = cfg.folders.req.join(&req_name);
        let to = cfg.folders.res.join(&req_name);
        until_written(shared, &req_name, None, || {
            shared.ownership.claim_once(from.clone(), FsOp::RenamedFrom);
            shared.ownership.claim_once(to.clone(), FsOp::RenamedTo);
            match std::fs::rename(&from, &to) {
                // The client took its request back meanwhile: nothing left to move.
                Err(_) if std::fs::symlink_metadata(&from).is_err() => Ok(()),
                other => other,
            }
        })
        .await;
    }
    shared.record(TerminalEvent::RequestRejected {
        name: req_name,
        err_file: err_name,
        code,
        text: message,
        check: check.map(str::to_owned),
    });
}
