//! What the terminal records: every file-system event it sees in its folders and every
//! decision it takes. The engine turns these into journal entries; the terminal never judges.

use serde::{Deserialize, Serialize};

pub use onshi_national::events::Blob;

/// The three folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    Req,
    Res,
    Face,
}

impl Folder {
    pub fn name(self) -> &'static str {
        match self {
            Folder::Req => "req",
            Folder::Res => "res",
            Folder::Face => "face",
        }
    }
}

/// A file-system operation as the watcher reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsOp {
    Created,
    Modified,
    /// A writer closed the file (the write is complete).
    ClosedWrite,
    /// Renamed away from this name (`cookie` pairs it with `RenamedTo`).
    RenamedFrom,
    /// Renamed to this name: it appeared complete.
    RenamedTo,
    Removed,
    /// Opened (journaled for face files only: who read which face file, and when).
    Opened,
}

/// Who caused a file-system event, as far as the terminal knows: its own operations are
/// claimed beforehand; everything else is someone else — normally the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Terminal,
    Client,
}

/// One terminal event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TerminalEvent {
    /// A file-system event in one of the folders.
    Fs {
        folder: Folder,
        op: FsOp,
        /// The file name (lossy UTF-8 for names that are not UTF-8).
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cookie: Option<u32>,
        actor: Actor,
    },
    /// The periodic rescan found a file no event had announced.
    ScanFound { folder: Folder, name: String },
    /// A request was taken out of `req/`.
    RequestTaken { name: String, bytes: Blob },
    /// A file in `req/` the terminal does not process (not a request name, a directory …).
    Ignored {
        folder: Folder,
        name: String,
        reason: String,
    },
    /// A request could not be read: moved into `res/` with a `.err` sibling.
    RequestRejected {
        name: String,
        err_file: String,
        code: String,
        text: String,
        /// The lint check the problem falls under, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check: Option<String>,
    },
    /// A result was written into `res/`.
    ResultWritten {
        request: String,
        name: String,
        bytes: Blob,
        segment_of_result: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_code: Option<String>,
    },
    /// The terminal took a request and, by its settings, will not answer it.
    Unanswered { request: String, reason: String },
    /// A terminal fault (`[terminal] faults`) acted on a request (or, for stale results, on
    /// the folder at start).
    FaultApplied {
        id: String,
        kind: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
    },
    /// A file the terminal put into `res/` that is not the answer to a request: a leftover
    /// or stale result, or a second copy of an answer.
    Planted { name: String, bytes: Blob, why: String },
    /// The terminal started writing a result slowly, in place.
    ResultWriteStarted {
        request: String,
        name: String,
        chunks: usize,
        interval_ms: u64,
    },
    /// The face-auth reader started writing a face result slowly, in chunks.
    FaceWriteStarted {
        name: String,
        chunks: usize,
        interval_ms: u64,
    },
    /// A face result is complete in `face/`.
    FaceWritten { name: String, persona: String, bytes: Blob },
    /// One step of the face-auth reader with a patient's card.
    Reader {
        card: String,
        step: crate::reader::ReaderStep,
    },
    /// The reader did not confirm the patient: what its screen said, and the code the face
    /// result carries.
    ReaderRefused {
        card: String,
        failure: crate::reader::ReaderFailure,
        code: String,
        message: String,
    },
    /// Something the terminal could not do (a write failed, the watcher reported an error).
    Problem { message: String },
    /// A write into `res/` that had failed succeeded at last (`attempts` in all, the first
    /// `waited_ms` before).
    WriteRecovered {
        name: String,
        attempts: u32,
        waited_ms: u64,
    },
    /// Files present in the folders when the terminal stopped.
    Inventory {
        req: Vec<String>,
        res: Vec<String>,
        face: Vec<String>,
    },
}

/// Where the terminal's events go. Called from several threads, at the moment the event
/// happens.
pub trait Recorder: Send + Sync {
    fn record(&self, event: TerminalEvent);
}

/// A recorder that keeps events in memory (tests, manual use).
#[derive(Debug, Default)]
pub struct MemoryRecorder(pub std::sync::Mutex<Vec<TerminalEvent>>);

impl Recorder for MemoryRecorder {
    fn record(&self, event: TerminalEvent) {
        self.0.lock().expect("recorder lock").push(event);
    }
}

impl MemoryRecorder {
    pub fn events(&self) -> Vec<TerminalEvent> {
        self.0.lock().expect("recorder lock").clone()
    }
}
