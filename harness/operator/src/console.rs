//! The console's state, shared by its two sides: the driver side reads the harness's
//! `onshi-driver/1` calls on stdin and answers on stdout; the web side shows the current call
//! to a person and takes their answer. The state is the server's, so a reload, or a second
//! browser, sees the same step; the first answer to a step wins.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use onshi_protocol::driver::{
    ConfirmQualificationParams, ConfirmQualificationResult, Evidence, ImportFaceParams, ImportFaceResult,
    InitializeResult, RpcRequest, RpcResponse,
};
use onshi_protocol::model::interface_insurer_number;
use onshi_registry::{CardKey, Registry};
use serde_json::{Value, json};
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;

use crate::answer::{self, AnswerError, Form};
use crate::evidence::{self, Screenshot};
use crate::terminal::{self, Awaited, TerminalAnswer};
use crate::texts::Lang;

/// How the console runs (`onshi operator-console`; `onshi run --operator` fills these in).
#[derive(Debug, Clone)]
pub struct ConsoleArgs {
    /// Where the web console listens.
    pub listen: SocketAddr,
    /// The run's secret: the printed URL carries it, the browser then keeps it in a cookie.
    pub token: String,
    /// The page's language.
    pub lang: Lang,
    /// The run's live journal (what the terminal answered).
    pub live_journal: PathBuf,
    /// Where the console keeps what must survive a restart (the software's identity).
    pub state_dir: PathBuf,
    /// The World's people, to name the patient on the page (None: the card only).
    pub registry: Option<Arc<Registry>>,
}

/// Why the console stopped.
#[derive(Debug, Error)]
pub enum ConsoleError {
    /// The web console cannot listen.
    #[error("the operator console cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Talking to the harness failed.
    #[error("talking to the harness failed: {0}")]
    Io(#[from] std::io::Error),
}

/// What the person is asked to do.
#[derive(Debug, Clone)]
pub enum Task {
    /// Say which software this is (the `initialize` call).
    Identity,
    /// Confirm a patient's qualification from their card.
    Confirm(ConfirmQualificationParams),
    /// Import what the face-auth reader produced.
    Face(ImportFaceParams),
}

impl Task {
    /// The terminal answer this task waits for, if any.
    pub fn awaited(&self) -> Option<Awaited> {
        match self {
            Task::Identity => None,
            Task::Confirm(p) if p.via == onshi_protocol::driver::Via::File => Some(Awaited::Result),
            Task::Confirm(_) => Some(Awaited::Api),
            Task::Face(f) => Some(Awaited::Face(f.file.clone())),
        }
    }
}

/// A step waiting for the person.
#[derive(Debug)]
pub struct Pending {
    /// The step's number in this console's life (forms carry it, so a stale answer is told).
    pub number: u64,
    /// What to do.
    pub task: Task,
    /// When it was shown.
    pub started: Instant,
    /// The live journal's length when it began.
    pub journal_from: u64,
    /// The patient's name and birth date, when the World knows the card.
    pub patient: Option<(String, String)>,
    reply: Option<oneshot::Sender<Value>>,
}

/// Everything the page shows.
#[derive(Debug, Default)]
pub struct State {
    /// Changes whenever the page should change (a new step, an answer).
    pub version: u64,
    /// The step waiting for the person.
    pub pending: Option<Pending>,
    /// Cases begun (`reset` calls).
    pub cases: u64,
    /// Steps answered.
    pub answered: u64,
    /// The harness said the run is over.
    pub finished: bool,
    /// The last step that ended without the person's answer (the harness moved on).
    pub expired: Option<u64>,
    /// The screenshot kept with the last answer.
    pub last_evidence: Option<crate::evidence::Kept>,
}

/// Why an answer was not taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubmitError {
    /// The step was answered already (another browser, or twice) or the harness moved on.
    #[error("step {0} is over: it was answered already, or the harness moved on (この手順は終了しています)")]
    Over(u64),
    /// The form is not a valid answer.
    #[error(transparent)]
    Invalid(#[from] AnswerError),
    /// The attached screenshot is not kept (not an image, too large).
    #[error(transparent)]
    Screenshot(#[from] crate::evidence::ScreenshotError),
    /// The screenshot could not be written; the answer was not taken, so nothing is lost.
    #[error(
        "the screenshot cannot be kept ({0}); answer again without it, or free disk space (スクリーンショットを保存できません)"
    )]
    Keep(String),
}

/// The console: its settings and its state.
#[derive(Debug)]
pub struct Console {
    /// How it runs.
    pub args: ConsoleArgs,
    state: Mutex<State>,
    next: Mutex<u64>,
    /// A browser has been shown that the run is over.
    pub(crate) farewell: tokio::sync::Notify,
}

impl Console {
    /// A console with nothing to do yet.
    pub fn new(args: ConsoleArgs) -> Arc<Console> {
        Arc::new(Console {
            args,
            state: Mutex::new(State::default()),
            next: Mutex::new(0),
            farewell: tokio::sync::Notify::new(),
        })
    }

    /// Reads the state under its lock.
    pub fn with<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.state.lock().expect("console state"))
    }

    fn change(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.state.lock().expect("console state");
        f(&mut s);
        s.version += 1;
    }

    /// What the terminal (or the API, for a step through it) has answered in the current
    /// step, if it has.
    pub fn terminal_answer(&self) -> Option<TerminalAnswer> {
        let (from, awaited) = self.with(|s| {
            s.pending.as_ref().and_then(|p| {
                // a face file was written before its step: look from the run's start
                let awaited = p.task.awaited()?;
                let from = if matches!(awaited, Awaited::Face(_)) {
                    0
                } else {
                    p.journal_from
                };
                Some((from, awaited))
            })
        })?;
        terminal::latest_answer(&self.args.live_journal, from, &awaited)
    }

    /// Shows `task` to the person; the receiver gets their answer as the call's result.
    fn ask(&self, task: Task) -> oneshot::Receiver<Value> {
        let (tx, rx) = oneshot::channel();
        let number = {
            let mut n = self.next.lock().expect("console counter");
            *n += 1;
            *n
        };
        let patient = match &task {
            Task::Confirm(p) => self.patient(&p.card),
            _ => None,
        };
        let journal_from = terminal::journal_end(&self.args.live_journal);
        self.change(|s| {
            s.pending = Some(Pending {
                number,
                task,
                started: Instant::now(),
                journal_from,
                patient,
                reply: Some(tx),
            })
        });
        rx
    }

    fn patient(&self, card: &onshi_protocol::driver::Card) -> Option<(String, String)> {
        let registry = self.args.registry.as_ref()?;
        let key = CardKey {
            insurer_number: interface_insurer_number(&card.insurer_number),
            symbol: card.symbol.clone(),
            number: card.number.clone(),
            branch: card.branch.clone(),
        };
        match registry.find_card(&key, &[]).as_slice() {
            [(p, _)] => Some((p.name.clone(), p.birthdate.format("%Y%m%d").to_string())),
            _ => None,
        }
    }

    /// The harness moved on: the step waiting for the person is over.
    fn expire(&self) {
        self.change(|s| {
            if let Some(p) = s.pending.take() {
                s.expired = Some(p.number);
            }
        });
    }

    /// Takes the person's answer to step `number`, with the screenshot they attached: the
    /// first answer wins. The screenshot is kept before the answer goes to the harness.
    pub fn submit(&self, number: u64, form: &Form, shot: Option<&Screenshot>) -> Result<(), SubmitError> {
        let terminal = self.terminal_answer();
        let mut s = self.state.lock().expect("console state");
        let p = s
            .pending
            .as_mut()
            .filter(|p| p.number == number)
            .ok_or(SubmitError::Over(number))?;
        // the form is judged first: a refused answer keeps no screenshot
        enum Given {
            Identity(InitializeResult),
            Screen(Box<answer::ScreenAnswer>),
        }
        let given = match &p.task {
            Task::Identity => Given::Identity(answer::identity(form)?),
            Task::Confirm(_) | Task::Face(_) => {
                Given::Screen(Box::new(answer::screen_answer(form, terminal.as_ref())?))
            }
        };
        let kept = match shot {
            Some(shot) => Some(
                evidence::keep(
                    &self.args.state_dir.join("evidence"),
                    shot,
                    number,
                    evidence::current_step(&self.args.live_journal),
                )
                .map_err(|e| SubmitError::Keep(e.to_string()))?,
            ),
            None => None,
        };
        let evidence: Vec<Evidence> = kept
            .iter()
            .map(|k| Evidence {
                file: format!("{}/{}", evidence::RELATIVE, k.file),
                sha256: k.sha256.clone(),
            })
            .collect();
        let result = match (&p.task, given) {
            (_, Given::Identity(id)) => {
                self.remember(&id);
                serde_json::to_value(id).expect("serialisable")
            }
            (Task::Face(_), Given::Screen(a)) => serde_json::to_value(ImportFaceResult {
                outcome: a.outcome,
                message: a.message,
                record: a.record,
                consents: a.consents,
                reference_number: a.reference_number,
                evidence,
            })
            .expect("serialisable"),
            (_, Given::Screen(a)) => serde_json::to_value(ConfirmQualificationResult {
                outcome: a.outcome,
                message: a.message,
                record: a.record,
                evidence,
            })
            .expect("serialisable"),
        };
        let reply = p.reply.take().ok_or(SubmitError::Over(number))?;
        // the harness may have gone: the answer then has nowhere to go, as for any adapter
        let _ = reply.send(result);
        s.pending = None;
        s.last_evidence = kept;
        s.answered += 1;
        s.version += 1;
        Ok(())
    }

    fn identity_file(&self) -> PathBuf {
        self.args.state_dir.join("identity.json")
    }

    /// Keeps the software's identity for a console started again in the same run.
    fn remember(&self, id: &InitializeResult) {
        let _ = std::fs::create_dir_all(&self.args.state_dir);
        if let Err(e) = std::fs::write(self.identity_file(), serde_json::to_vec(id).expect("serialisable")) {
            tracing::warn!("the operator's answers cannot be kept for a restart: {e}");
        }
    }

    fn remembered(&self) -> Option<InitializeResult> {
        serde_json::from_slice(&std::fs::read(self.identity_file()).ok()?).ok()
    }
}

/// How long the console stays after `shutdown` for a page to show that the run is over.
const FAREWELL: std::time::Duration = std::time::Duration::from_secs(3);

/// Methods that can be done by hand; anything else is answered "not implemented", which
/// makes its cases not applicable.
fn task_of(req: &RpcRequest) -> Result<Task, String> {
    let params = req.params.clone().unwrap_or(Value::Null);
    let bad = |e: serde_json::Error| format!("{}: {e}", req.method);
    match req.method.as_str() {
        "confirm_qualification" => Ok(Task::Confirm(serde_json::from_value(params).map_err(bad)?)),
        "import_face" => Ok(Task::Face(serde_json::from_value(params).map_err(bad)?)),
        other => Err(format!(
            "{other} is not done by hand in operator mode (手作業では実施できない操作です)"
        )),
    }
}

async fn reply(out: &mut tokio::io::Stdout, id: Value, result: Result<Value, (i64, String)>) -> std::io::Result<()> {
    let (result, error) = match result {
        Ok(v) => (Some(v), None),
        Err((code, message)) => (
            None,
            Some(onshi_protocol::driver::RpcError {
                code,
                message,
                data: None,
            }),
        ),
    };
    let mut line = serde_json::to_vec(&RpcResponse {
        jsonrpc: "2.0".into(),
        id,
        result,
        error,
    })
    .expect("serialisable");
    line.push(b'\n');
    out.write_all(&line).await?;
    out.flush().await
}

/// Runs the console: serves the page on `args.listen` and answers the harness's calls on
/// stdin/stdout until `shutdown` or the end of stdin.
pub async fn run_console(args: ConsoleArgs) -> Result<(), ConsoleError> {
    let console = Console::new(args);
    let server = crate::web::serve(console.clone()).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    let mut waiting: Option<(Value, oneshot::Receiver<Value>)> = None;
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { break };
                if waiting.take().is_some() {
                    console.expire();
                }
                let Ok(req) = serde_json::from_str::<RpcRequest>(&line) else {
                    tracing::warn!("not a JSON-RPC request: {line}");
                    continue;
                };
                match req.method.as_str() {
                    "initialize" => match console.remembered() {
                        Some(id) => reply(&mut out, req.id, Ok(serde_json::to_value(id).expect("serialisable"))).await?,
                        None => waiting = Some((req.id, console.ask(Task::Identity))),
                    },
                    "reset" => {
                        console.change(|s| s.cases += 1);
                        reply(&mut out, req.id, Ok(json!({}))).await?;
                    }
                    "shutdown" => {
                        console.change(|s| s.finished = true);
                        reply(&mut out, req.id, Ok(json!({}))).await?;
                        // a moment for the open page to learn the run is over (it polls every
                        // second), rather than finding the server gone
                        let _ = tokio::time::timeout(FAREWELL, console.farewell.notified()).await;
                        break;
                    }
                    _ => match task_of(&req) {
                        Ok(task) => waiting = Some((req.id, console.ask(task))),
                        Err(message) => reply(&mut out, req.id, Err((onshi_protocol::driver::error_code::METHOD_NOT_FOUND, message))).await?,
                    },
                }
            }
            answer = async { (&mut waiting.as_mut().expect("guarded").1).await }, if waiting.is_some() => {
                let (id, _) = waiting.take().expect("guarded");
                if let Ok(result) = answer {
                    reply(&mut out, id, Ok(result)).await?;
                }
            }
        }
    }
    server.stop().await;
    Ok(())
}
