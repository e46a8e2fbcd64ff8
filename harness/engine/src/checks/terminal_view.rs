//! Reading the terminal's side of the story out of journal entries: which requests it took,
//! what it answered, which face files it wrote.

use onshi_protocol::codes::{Code, ProcessingResultStatus, SegmentOfResult};
use onshi_protocol::model::QualificationResult;
use onshi_protocol::xml::Limits;
use onshi_protocol::{ReadError, read_message};
use onshi_terminal::{Actor, Folder, FsOp, TerminalEvent};

use crate::journal::{Entry, Event};

/// A request the terminal took out of `req/`.
pub(crate) struct Taken<'a> {
    pub seq: u64,
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// What the terminal answered.
pub(crate) enum Answer {
    Result { seq: u64, result: Box<QualificationResult> },
    Rejected { seq: u64, code: String, text: String },
}

impl Answer {
    pub fn seq(&self) -> u64 {
        match self {
            Answer::Result { seq, .. } | Answer::Rejected { seq, .. } => *seq,
        }
    }

    /// "QualificationValidity 3 — 無効（新しい資格あり）", "SegmentOfResult 9 — 異常終了 (SYN-E9001)", …
    pub fn describe(&self) -> String {
        match self {
            Answer::Rejected { code, .. } => format!("an .err file ({code}): the request could not be processed"),
            Answer::Result { result, .. } => describe(result),
        }
    }

    /// The text the client must show, if the answer carries one.
    pub fn message(&self) -> Option<String> {
        match self {
            Answer::Rejected { text, .. } => Some(text.clone()),
            Answer::Result { result, .. } => {
                let h = result.header();
                if h.segment_of_result
                    .as_ref()
                    .is_some_and(|s| *s != SegmentOfResult::Normal)
                {
                    return h.error_message;
                }
                result.body().processing_result_message
            }
        }
    }
}

pub(crate) fn describe(result: &QualificationResult) -> String {
    let h = result.header();
    let b = result.body();
    match h.segment_of_result {
        Some(SegmentOfResult::Normal) => {}
        Some(s) => return format!("SegmentOfResult {s} ({})", h.error_code.unwrap_or_default()),
        None => return "a result without SegmentOfResult".into(),
    }
    match b.processing_result_status {
        Some(ProcessingResultStatus::Error) => {
            return format!(
                "ProcessingResultStatus {} ({})",
                ProcessingResultStatus::Error,
                b.processing_result_code.unwrap_or_default()
            );
        }
        Some(ProcessingResultStatus::Normal) => {}
        other => {
            return format!(
                "ProcessingResultStatus {}",
                other.map(|s| s.describe()).unwrap_or_default()
            );
        }
    }
    match b.qualification_validity {
        Some(v) => format!("QualificationValidity {v}"),
        None => "a result without QualificationValidity".into(),
    }
}

fn terminal(e: &Entry) -> Option<&TerminalEvent> {
    match &e.event {
        Event::Terminal(t) => Some(t),
        _ => None,
    }
}

/// Requests the terminal took (including ones it then rejected).
pub(crate) fn requests(entries: &[Entry]) -> Vec<Taken<'_>> {
    entries
        .iter()
        .filter_map(|e| match terminal(e)? {
            TerminalEvent::RequestTaken { name, bytes } => Some(Taken {
                seq: e.seq,
                name,
                bytes: &bytes.0,
            }),
            _ => None,
        })
        .collect()
}

/// The terminal's last answer among `entries`.
pub(crate) fn answer(entries: &[Entry]) -> Option<Answer> {
    entries.iter().rev().find_map(|e| match terminal(e)? {
        TerminalEvent::ResultWritten { bytes, .. } => {
            let result = parse(&bytes.0).ok()?;
            Some(Answer::Result {
                seq: e.seq,
                result: Box::new(result),
            })
        }
        TerminalEvent::RequestRejected { code, text, .. } => Some(Answer::Rejected {
            seq: e.seq,
            code: code.clone(),
            text: text.clone(),
        }),
        _ => None,
    })
}

/// The complete face file named `file`.
pub(crate) fn face(entries: &[Entry], file: &str) -> Option<(u64, QualificationResult)> {
    entries.iter().find_map(|e| match terminal(e)? {
        TerminalEvent::FaceWritten { name, bytes, .. } if name == file => Some((e.seq, parse(&bytes.0).ok()?)),
        _ => None,
    })
}

fn parse(bytes: &[u8]) -> Result<QualificationResult, ReadError> {
    read_message::<QualificationResult>(bytes, &Limits::default()).map(|(r, _)| r)
}

/// File-system events in one folder for one name, caused by the client.
pub(crate) fn client_fs<'a>(entries: &'a [Entry], folder: Folder, file: &'a str) -> Vec<(u64, FsOp)> {
    entries
        .iter()
        .filter_map(|e| match terminal(e)? {
            TerminalEvent::Fs {
                folder: f,
                op,
                name,
                actor: Actor::Client,
                ..
            } if *f == folder && name == file => Some((e.seq, *op)),
            _ => None,
        })
        .collect()
}

/// Request files the client made appear in `req/` (created or renamed in).
pub(crate) fn client_requests_appearing(entries: &[Entry]) -> Vec<(u64, &str)> {
    entries
        .iter()
        .filter_map(|e| match terminal(e)? {
            TerminalEvent::Fs {
                folder: Folder::Req,
                op: FsOp::Created | FsOp::RenamedTo,
                name,
                actor: Actor::Client,
                ..
            } if name.contains("req_") && !name.starts_with('.') => Some((e.seq, name.as_str())),
            _ => None,
        })
        .collect()
}
