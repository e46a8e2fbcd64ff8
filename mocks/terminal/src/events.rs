//! What the terminal records: every file-system event it sees in its folders and every
//! decision it takes. The engine turns these into journal entries; the terminal never judges.

use serde::{Deserialize, Serialize};

pub use onshi_national::events::Blob;

/// The three folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    /// `req/`: requests from the client.
    Req,
    /// `res/`: results from the terminal.
    Res,
    /// `face/`: results of the face-auth reader.
    Face,
}

impl Folder {
    /// The folder's name.
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
    /// The file appeared (it may still be written to).
    Created,
    /// The file's content changed.
    Modified,
    /// A writer closed the file (the write is complete).
    ClosedWrite,
    /// Renamed away from this name (`cookie` pairs it with `RenamedTo`).
    RenamedFrom,
    /// Renamed to this name: it appeared complete.
    RenamedTo,
    /// The file was removed.
    Removed,
    /// Opened (journaled for face files only: who read which face file, and when).
    Opened,
}

/// Who caused a file-system event, as far as the terminal knows: its own operations are
/// claimed beforehand; everything else is someone else — normally the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The terminal itself.
    Terminal,
    /// Anyone else: normally the client.
    Client,
}

/// One terminal event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TerminalEvent {
    /// A file-system event in one of the folders.
    Fs {
        /// The folder.
        folder: Folder,
        /// What happened.
        op: FsOp,
        /// The file name (lossy UTF-8 for names that are not UTF-8).
        name: String,
        /// Pairs a `renamed_from` with its `renamed_to`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cookie: Option<u32>,
        /// Who did it.
        actor: Actor,
    },
    /// The periodic rescan found a file no event had announced.
    ScanFound {
        /// The folder.
        folder: Folder,
        /// The file name.
        name: String,
    },
    /// A request was taken out of `req/`.
    RequestTaken {
        /// The request's file name.
        name: String,
        /// Its bytes, exactly as the client wrote them.
        bytes: Blob,
    },
    /// A file in `req/` the terminal does not process (not a request name, a directory …).
    Ignored {
        /// The folder.
        folder: Folder,
        /// The file name.
        name: String,
        /// Why it is not processed.
        reason: String,
    },
    /// A request could not be read: moved into `res/` with a `.err` sibling.
    RequestRejected {
        /// The request's file name.
        name: String,
        /// The `.err` file written beside it.
        err_file: String,
        /// The error code in the `.err` file.
        code: String,
        /// The `.err` file's text.
        text: String,
        /// The lint check the problem falls under, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check: Option<String>,
    },
    /// A result was written into `res/`.
    ResultWritten {
        /// The request it answers.
        request: String,
        /// The result's file name.
        name: String,
        /// Its bytes, exactly as written.
        bytes: Blob,
        /// Its SegmentOfResult.
        segment_of_result: String,
        /// Its ErrorCode, when it is an error answer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_code: Option<String>,
    },
    /// The terminal took a request and, by its settings, will not answer it.
    Unanswered {
        /// The request.
        request: String,
        /// Why it will not be answered.
        reason: String,
    },
    /// A terminal fault (`[terminal] faults`) acted on a request (or, for stale results, on
    /// the folder at start).
    FaultApplied {
        /// The fault's id.
        id: String,
        /// Its kind.
        kind: String,
        /// The request it acted on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
    },
    /// A file the terminal put into `res/` that is not the answer to a request: a leftover
    /// or stale result, or a second copy of an answer.
    Planted {
        /// The file name.
        name: String,
        /// Its bytes.
        bytes: Blob,
        /// Why it is there.
        why: String,
    },
    /// The terminal started writing a result slowly, in place.
    ResultWriteStarted {
        /// The request it answers.
        request: String,
        /// The result's file name.
        name: String,
        /// In how many pieces.
        chunks: usize,
        /// The pause between two pieces.
        interval_ms: u64,
    },
    /// The face-auth reader started writing a face result slowly, in chunks.
    FaceWriteStarted {
        /// The face file's name.
        name: String,
        /// In how many pieces.
        chunks: usize,
        /// The pause between two pieces.
        interval_ms: u64,
    },
    /// A face result is complete in `face/`.
    FaceWritten {
        /// The face file's name.
        name: String,
        /// The patient.
        persona: String,
        /// Its bytes.
        bytes: Blob,
    },
    /// One step of the face-auth reader with a patient's card.
    Reader {
        /// The card's id.
        card: String,
        /// The step.
        step: crate::reader::ReaderStep,
    },
    /// The reader did not confirm the patient: what its screen said, and the code the face
    /// result carries.
    ReaderRefused {
        /// The card's id.
        card: String,
        /// Why the reader refused.
        failure: crate::reader::ReaderFailure,
        /// The code the face result carries.
        code: String,
        /// What the reader's screen said.
        message: String,
    },
    /// Something the terminal could not do (a write failed, the watcher reported an error).
    Problem {
        /// What went wrong.
        message: String,
    },
    /// A write into `res/` that had failed succeeded at last (`attempts` in all, the first
    /// `waited_ms` before).
    WriteRecovered {
        /// The file written.
        name: String,
        /// The attempts it took.
        attempts: u32,
        /// How long after the first attempt it succeeded.
        waited_ms: u64,
    },
    /// Files present in the folders when the terminal stopped.
    Inventory {
        /// In `req/`.
        req: Vec<String>,
        /// In `res/`.
        res: Vec<String>,
        /// In `face/`.
        face: Vec<String>,
    },
}

/// Where the terminal's events go. Called from several threads, at the moment the event
/// happens.
pub trait Recorder: Send + Sync {
    /// Records one event.
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
    /// The events recorded so far.
    pub fn events(&self) -> Vec<TerminalEvent> {
        self.0.lock().expect("recorder lock").clone()
    }
}
