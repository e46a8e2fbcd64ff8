//! Reading the terminal's side of the story out of journal entries: which requests it took,
//! what it answered, which face files it wrote.

use onshi_protocol::model::QualificationResult;
use onshi_protocol::xml::Limits;
use onshi_protocol::{ReadError, read_message};
use onshi_terminal::{Actor, Folder, FsOp, TerminalEvent};

use super::answer::Answer;
use crate::journal::{Entry, Event};

/// A request the terminal took out of `req/`.
pub(crate) struct Taken<'a> {
    pub seq: u64,
    pub name: &'a str,
    pub bytes: &'a [u8],
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

/// The terminal's last answer among `entries` to a request the client wrote among them — not
/// a late answer to an earlier request that happens to arrive meanwhile.
pub(crate) fn answer(entries: &[Entry]) -> Option<Answer> {
    let own: Vec<&str> = client_requests_appearing(entries).into_iter().map(|(_, n)| n).collect();
    entries.iter().rev().find_map(|e| match terminal(e)? {
        TerminalEvent::ResultWritten { request, .. } | TerminalEvent::RequestRejected { name: request, .. }
            if !own.contains(&request.as_str()) =>
        {
            None
        }
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

/// A result the terminal wrote.
pub(crate) struct Written<'a> {
    pub seq: u64,
    pub t_ms: f64,
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Results written into `res/` whose names start with `prefix`, in order.
pub(crate) fn written<'a>(entries: &'a [Entry], prefix: &str) -> Vec<Written<'a>> {
    entries
        .iter()
        .filter_map(|e| match terminal(e)? {
            TerminalEvent::ResultWritten { name, bytes, .. } if name.starts_with(prefix) => Some(Written {
                seq: e.seq,
                t_ms: e.t_ms,
                name,
                bytes: &bytes.0,
            }),
            _ => None,
        })
        .collect()
}

/// The XML inside a result: the bytes themselves, or the first file of a `.zip`.
pub(crate) fn xml_of(name: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    if !name.ends_with(".zip") {
        return Some(bytes.to_vec());
    }
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut file = archive.by_index(0).ok()?;
    let mut out = Vec::new();
    // Bounded like every other read of the harness: a bulk result is far below 4 MiB.
    (&mut file).take(4 * 1024 * 1024).read_to_end(&mut out).ok()?;
    Some(out)
}

/// Reads a typed message leniently (`None` when unreadable: the lint says why).
pub(crate) fn read<T: onshi_protocol::model::XmlRecord>(bytes: &[u8]) -> Option<T> {
    read_message::<T>(bytes, &Limits::default()).ok().map(|(m, _)| m)
}

/// Journal time of the entry with `seq`.
pub(crate) fn time_of(entries: &[Entry], seq: u64) -> f64 {
    entries.iter().find(|e| e.seq == seq).map_or(0.0, |e| e.t_ms)
}
