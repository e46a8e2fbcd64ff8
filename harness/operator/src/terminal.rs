//! What the terminal answered during the current step, read from the run's live journal
//! (the harness appends every event to it as it happens in operator mode) and read the way a
//! correct client reads it — so the person can compare it with what their software shows.

use std::io::{BufRead, Seek, SeekFrom};
use std::path::Path;

use onshi_harness::journal::{Entry, Event};
use onshi_protocol::driver::{Consents, Outcome, PatientRecord};
use onshi_protocol::model::QualificationResult;
use onshi_protocol::{Limits, read_message};
use onshi_reference_client::interpret;
use onshi_terminal::TerminalEvent;

use crate::fields::{Values, flatten};

/// Which of the terminal's answers a step waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Awaited {
    /// A result file in `res/` (資格確認結果), written during the step.
    Result,
    /// The face-auth result of this name in `face/` (顔認証結果): the reader wrote it before
    /// the step that imports it.
    Face(String),
}

/// The terminal's answer, as a correct client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalAnswer {
    /// The file's name.
    pub file: String,
    /// The outcome it means.
    pub outcome: Outcome,
    /// The message a correct client shows.
    pub message: String,
    /// The record a correct client stores.
    pub record: Option<PatientRecord>,
    /// The consents of a face-auth result.
    pub consents: Option<Consents>,
    /// The 照会番号 of a face-auth result.
    pub reference_number: Option<String>,
}

impl TerminalAnswer {
    /// Its values by field key.
    pub fn values(&self) -> Values {
        flatten(
            self.record.as_ref(),
            self.consents.as_ref(),
            self.reference_number.as_deref(),
        )
    }
}

/// The journal's length now: a step reads only what comes after it.
pub fn journal_end(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The last answer of kind `awaited` journaled after byte `from` of the live journal, if any.
/// Lines that are not journal entries are skipped: the journal is the harness's own file,
/// and a half-read line cannot happen (each entry is written as one line).
pub fn latest_answer(path: &Path, from: u64, awaited: &Awaited) -> Option<TerminalAnswer> {
    let mut file = std::fs::File::open(path).ok()?;
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut found = None;
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        let Ok(entry) = serde_json::from_str::<Entry>(&line) else {
            continue;
        };
        let (name, bytes) = match (&entry.event, awaited) {
            (Event::Terminal(TerminalEvent::ResultWritten { name, bytes, .. }), Awaited::Result) => (name, bytes),
            (Event::Terminal(TerminalEvent::FaceWritten { name, bytes, .. }), Awaited::Face(file)) if name == file => {
                (name, bytes)
            }
            _ => continue,
        };
        found = Some(read_answer(name, &bytes.0));
    }
    found
}

/// One answer file read as a correct client reads it.
pub fn read_answer(name: &str, bytes: &[u8]) -> TerminalAnswer {
    match read_message::<QualificationResult>(bytes, &Limits::default()) {
        Ok((result, doc)) => {
            let c = interpret::conclude(&result, doc.root.child("MessageHeader"), &[]);
            let first = result.results().first();
            TerminalAnswer {
                file: name.to_owned(),
                outcome: c.outcome,
                message: c.message,
                record: c.record,
                consents: first.map(interpret::consents),
                reference_number: first.and_then(|r| r.reference_number.clone()),
            }
        }
        Err(e) => TerminalAnswer {
            file: name.to_owned(),
            outcome: Outcome::Error,
            message: format!("the file cannot be read: {e}"),
            record: None,
            consents: None,
            reference_number: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_file_is_an_error_answer_not_a_panic() {
        let a = read_answer("OQSsiquc01res_x.xml", b"<XmlMsg><unclosed>");
        assert_eq!(a.outcome, Outcome::Error);
        assert!(a.message.contains("cannot be read"));
    }

    #[test]
    fn a_missing_or_foreign_journal_has_no_answer() {
        let dir = std::env::temp_dir().join(format!("onshi-op-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("live.jsonl");
        assert_eq!(latest_answer(&p, 0, &Awaited::Result), None);
        std::fs::write(&p, "not json\n{\"seq\":1}\n").unwrap();
        assert_eq!(latest_answer(&p, 0, &Awaited::Result), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
