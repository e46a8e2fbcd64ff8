//! # onshi-terminal
//!
//! The simulated 資格確認端末 (qualification terminal) as clients see it: a shared folder with
//! `req/`, `res/` and `face/`. It takes request files from `req/`, answers them in `res/`
//! from the national service, writes face-auth reader results into `face/`, and follows the
//! conventions real clients rely on (atomic result writes, the `.err` convention for
//! unreadable requests, SegmentOfResult 9 for invalid ones). It records every file-system
//! event in its folders, attributed to itself or to the client, so that checks can tell an
//! atomic rename from an in-place write and a resend from a new request. It never judges.

#![warn(missing_docs)]

pub mod events;
mod families;
pub mod folders;
mod observe;
pub mod reader;
pub mod settings;
pub mod smb;
mod terminal;

pub use events::{Actor, Blob, Folder, FsOp, MemoryRecorder, Recorder, TerminalEvent};
pub use folders::Folders;
pub use onshi_national::{Clock, SystemClock};
pub use settings::{SlowResults, TerminalFault, TerminalFaultKind, TerminalSettings, Upstream};
pub use terminal::{NationalLink, PresentCard, SlowWrite, Terminal, TerminalConfig, TerminalError};
