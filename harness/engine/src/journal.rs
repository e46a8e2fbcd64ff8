//! The journal: one ordered, timestamped log of everything that crossed an interface in a
//! run — file-system events, the terminal's decisions, every driver call and answer, the
//! steps of each case. It is the single source of truth: checks read only the journal, and
//! it is written as JSON Lines so a run can be re-checked offline.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use onshi_national::events::NationalEvent;
use onshi_terminal::TerminalEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the driver client saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DriverEvent {
    /// The adapter process was started.
    Spawned {
        /// The adapter command.
        command: String,
        /// Its process id, when known.
        pid: Option<u32>,
    },
    /// A call was sent.
    Call {
        /// The JSON-RPC id.
        id: u64,
        /// The `onshi-driver/1` method.
        method: String,
        /// Its params, as sent.
        params: Value,
    },
    /// The adapter answered a call.
    Result {
        /// The JSON-RPC id.
        id: u64,
        /// The method answered.
        method: String,
        /// The result, as received.
        result: Value,
        /// How long the answer took.
        elapsed_ms: u64,
    },
    /// The adapter answered a call with a JSON-RPC error.
    Error {
        /// The JSON-RPC id.
        id: u64,
        /// The method answered.
        method: String,
        /// The JSON-RPC error code.
        code: i64,
        /// The error's message.
        message: String,
        /// How long the answer took.
        elapsed_ms: u64,
    },
    /// No answer within the deadline.
    Timeout {
        /// The JSON-RPC id.
        id: u64,
        /// The method not answered.
        method: String,
        /// How long the harness waited.
        after_ms: u64,
    },
    /// A stdout line that is not a JSON-RPC response.
    Garbage {
        /// The line (cut at 64 KiB).
        line: String,
    },
    /// The adapter process ended.
    Exited {
        /// Its exit status (none when a signal killed it).
        status: Option<i32>,
        /// Its last stderr lines.
        stderr_tail: String,
    },
    /// The harness killed the adapter.
    Killed {
        /// Why.
        reason: String,
    },
}

/// One journal event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Event {
    /// The run started.
    Run {
        /// The harness version.
        harness_version: String,
        /// The World's seed.
        seed: u64,
        /// The reception date simulated, YYYYMMDD.
        date: String,
        /// The adapter command.
        adapter: String,
    },
    /// A case started.
    CaseStart {
        /// Its ID.
        case: String,
    },
    /// A case ended.
    CaseEnd {
        /// Its ID.
        case: String,
        /// Its verdict.
        verdict: String,
        /// The checks were judged on the case's entries before this sequence number (entries
        /// after it, a late connection's, were not seen); none when the case stopped early.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        judged_before: Option<u64>,
    },
    /// A step ended: what it recorded for its checks. With the case and the journal, this is
    /// all a check needs, so a journal's verdicts can be judged again (`onshi verify`).
    StepDone {
        /// The case's ID.
        case: String,
        /// The step, 1-based.
        index: usize,
        /// The step's entries end before this sequence number.
        end_seq: u64,
        /// The step kind's record.
        record: Value,
    },
    /// A step of a case started.
    Step {
        /// The case's ID.
        case: String,
        /// The step, 1-based.
        index: usize,
        /// Its `do`.
        action: String,
        /// Details (reserved; `{}` today).
        detail: Value,
    },
    /// The terminal: the folder's file-system events and the terminal's decisions.
    Terminal(TerminalEvent),
    /// The national mock: every HTTP exchange and what it found.
    National(NationalEvent),
    /// The driver client: calls to the adapter and their answers.
    Driver(DriverEvent),
    /// The virtual My Number card on the vpcd link (PC/SC).
    Card {
        /// The card's id.
        card: String,
        /// What happened on the link (an APDU and its answer, power, presence).
        link: onshi_card::vpcd::LinkEvent,
    },
    /// A remark of the harness (why PC/SC cases are not applicable, …).
    Note {
        /// The remark.
        message: String,
    },
    /// The report of a rush step (`rush.json`'s content).
    Rush {
        /// The case's ID.
        case: String,
        /// The rush report.
        report: Value,
    },
}

/// A journal entry: sequence number, milliseconds since the run started, the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its sequence number: 1, 2, 3 … without gaps.
    pub seq: u64,
    /// Milliseconds since the run started.
    pub t_ms: f64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// The journal of one run.
#[derive(Debug)]
pub struct Journal {
    start: Instant,
    entries: Mutex<Vec<Entry>>,
    /// A file every entry is also appended to as it happens (operator mode).
    tee: Mutex<Option<std::io::LineWriter<std::fs::File>>>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            start: Instant::now(),
            entries: Mutex::new(Vec::new()),
            tee: Mutex::new(None),
        }
    }
}

impl Journal {
    /// Appends an event; returns its sequence number.
    pub(crate) fn append(&self, event: Event) -> u64 {
        let t_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        let mut entries = self.entries.lock().expect("journal");
        let seq = entries.len() as u64 + 1;
        let entry = Entry {
            seq,
            t_ms: (t_ms * 1000.0).round() / 1000.0,
            event,
        };
        if let Some(tee) = self.tee.lock().expect("journal tee").as_mut() {
            // one whole line per entry: a reader never sees half of one
            let mut line = serde_json::to_vec(&entry).expect("journal events serialise");
            line.push(b'\n');
            if let Err(e) = tee.write_all(&line) {
                tracing::warn!("the live journal cannot be written: {e}");
            }
        }
        entries.push(entry);
        seq
    }

    /// From now on, also appends every entry to `path` as it happens (created or truncated).
    pub fn tee_to(&self, path: &Path) -> std::io::Result<()> {
        let file = std::fs::File::create(path)?;
        *self.tee.lock().expect("journal tee") = Some(std::io::LineWriter::new(file));
        Ok(())
    }

    /// The next sequence number (the first event appended after this call gets it).
    pub(crate) fn next_seq(&self) -> u64 {
        self.entries.lock().expect("journal").len() as u64 + 1
    }

    /// Entries with `from <= seq < to`.
    pub fn range(&self, from: u64, to: u64) -> Vec<Entry> {
        let entries = self.entries.lock().expect("journal");
        let lo = (from.max(1) - 1) as usize;
        let hi = ((to.max(1) - 1) as usize).min(entries.len());
        entries.get(lo..hi).map(<[Entry]>::to_vec).unwrap_or_default()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("journal").len()
    }

    /// Whether nothing was journaled yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes entries `from..` as JSON Lines, appending to `path`.
    pub(crate) fn append_jsonl(&self, path: &Path, from: u64) -> std::io::Result<()> {
        let entries = self.range(from, u64::MAX);
        let mut f = std::io::BufWriter::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?);
        for e in entries {
            serde_json::to_writer(&mut f, &e)?;
            f.write_all(b"\n")?;
        }
        f.flush()
    }
}

/// Reads a journal written by the run (`journal.jsonl`).
pub fn read_jsonl(path: &Path) -> std::io::Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)?;
    parse_jsonl(&text, &path.display().to_string()).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// A journal's text as entries; a line that is not an entry is named `origin:line`.
pub fn parse_jsonl(text: &str, origin: &str) -> Result<Vec<Entry>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{origin}:{}: not a journal entry: {e}", i + 1)))
        .collect()
}

/// The journal of a long-running session (`onshi serve`): every event goes to a JSON Lines
/// file, written by a thread of its own so that serialising and writing stay off the request
/// path (the file is flushed whenever the writer has caught up, and on [`LiveJournal::close`]).
/// The most recent events are kept in memory, as lines, for the admin API.
pub(crate) struct LiveJournal {
    start: Instant,
    sender: Mutex<Option<(u64, std::sync::mpsc::Sender<Entry>)>>,
    recent: std::sync::Arc<Mutex<std::collections::VecDeque<(u64, String)>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl LiveJournal {
    /// Events kept in memory for the admin API; older ones are only in the file.
    pub(crate) const RECENT: usize = 10_000;

    /// Creates (or truncates) `path` and starts the writer.
    pub fn create(path: &Path) -> std::io::Result<LiveJournal> {
        let mut file = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(path)?);
        let (tx, rx) = std::sync::mpsc::channel::<Entry>();
        let recent = std::sync::Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let shown = recent.clone();
        let writer = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || {
                let mut failed = false;
                let mut write = |e: Entry, file: &mut std::io::BufWriter<std::fs::File>| {
                    let line = serde_json::to_string(&e).expect("journal events serialise");
                    if let Err(err) = file.write_all(line.as_bytes()).and_then(|()| file.write_all(b"\n"))
                        && !failed
                    {
                        tracing::error!("the journal file cannot be written: {err}");
                        failed = true;
                    }
                    let mut r = shown.lock().expect("journal");
                    if r.len() == Self::RECENT {
                        r.pop_front();
                    }
                    r.push_back((e.seq, line));
                };
                // Polled rather than woken per event: under load a wake-up per exchange costs
                // more than the write itself. Idle, this is 500 cheap wake-ups a second.
                loop {
                    match rx.try_recv() {
                        Ok(e) => write(e, &mut file),
                        Err(std::sync::mpsc::TryRecvError::Empty) => {
                            let _ = file.flush(); // caught up
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                        Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
                    }
                }
                let _ = file.flush();
            })?;
        Ok(LiveJournal {
            start: Instant::now(),
            sender: Mutex::new(Some((1, tx))),
            recent,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Appends an event; returns its sequence number (0 once closed).
    pub(crate) fn append(&self, event: Event) -> u64 {
        let t_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        // Numbered and sent under one lock, so the file is in sequence order.
        let mut s = self.sender.lock().expect("journal");
        let Some((next, tx)) = s.as_mut() else {
            tracing::warn!("an event after the journal was closed is not recorded");
            return 0;
        };
        let seq = *next;
        *next += 1;
        let _ = tx.send(Entry {
            seq,
            t_ms: (t_ms * 1000.0).round() / 1000.0,
            event,
        });
        seq
    }

    /// Writes what is queued, flushes and stops the writer.
    pub fn close(&self) {
        self.sender.lock().expect("journal").take();
        if let Some(w) = self.writer.lock().expect("journal").take() {
            let _ = w.join();
        }
    }
}

impl Drop for LiveJournal {
    fn drop(&mut self) {
        self.close();
    }
}

impl onshi_national::http::admin::JournalReader for LiveJournal {
    fn read(&self, since: u64, limit: usize) -> Vec<Value> {
        let r = self.recent.lock().expect("journal");
        r.iter()
            .filter(|(seq, _)| *seq >= since)
            .take(limit)
            .filter_map(|(_, line)| serde_json::from_str(line).ok())
            .collect()
    }
}

impl onshi_national::events::NationalRecorder for LiveJournal {
    fn record(&self, event: NationalEvent) {
        self.append(Event::National(event));
    }
}

impl onshi_terminal::Recorder for LiveJournal {
    fn record(&self, event: TerminalEvent) {
        self.append(Event::Terminal(event));
    }
}

/// Lets the national mock record straight into the journal.
pub struct NationalRecorder(pub std::sync::Arc<Journal>);

impl onshi_national::events::NationalRecorder for NationalRecorder {
    fn record(&self, event: NationalEvent) {
        self.0.append(Event::National(event));
    }
}

/// Lets the terminal record straight into the journal.
pub(crate) struct TerminalRecorder(pub std::sync::Arc<Journal>);

impl onshi_terminal::Recorder for TerminalRecorder {
    fn record(&self, event: TerminalEvent) {
        self.0.append(Event::Terminal(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onshi_terminal::{Actor, Blob, Folder, FsOp};

    /// Operator mode's live journal: each entry is a whole line in the file the moment it is
    /// appended, before the run writes journal.jsonl.
    #[test]
    fn a_tee_has_every_entry_as_it_happens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("live.jsonl");
        let j = Journal::default();
        j.append(Event::Note {
            message: "before".into(),
        });
        j.tee_to(&p).unwrap();
        for n in 0..3 {
            j.append(Event::Note {
                message: format!("n{n}"),
            });
            let back = read_jsonl(&p).unwrap();
            assert_eq!(back.len(), n + 1, "entry {n} is in the file at once");
            assert_eq!(back.last(), j.range(n as u64 + 2, u64::MAX).first());
        }
    }

    #[test]
    fn entries_round_trip_through_jsonl() {
        let j = Journal::default();
        j.append(Event::CaseStart { case: "X".into() });
        j.append(Event::Terminal(TerminalEvent::Fs {
            folder: Folder::Req,
            op: FsOp::RenamedTo,
            name: "OQSsiquc01req_1.xml".into(),
            cookie: Some(7),
            actor: Actor::Client,
        }));
        j.append(Event::Terminal(TerminalEvent::RequestTaken {
            name: "OQSsiquc01req_1.xml".into(),
            bytes: Blob(vec![0xff, 0, b'<']),
        }));
        j.append(Event::Driver(DriverEvent::Call {
            id: 1,
            method: "reset".into(),
            params: serde_json::json!({}),
        }));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("journal.jsonl");
        j.append_jsonl(&p, 1).unwrap();
        let back = read_jsonl(&p).unwrap();
        assert_eq!(back, j.range(1, u64::MAX));
        let line = std::fs::read_to_string(&p).unwrap();
        assert!(line.contains(r#""source":"terminal","event":"fs""#), "{line}");
        assert_eq!(j.range(2, 4).len(), 2);
        assert_eq!(j.next_seq(), 5);
    }
}
