//! What the terminal — or, for a step through the HTTP API, the national system — answered
//! during the current step, read from the run's live journal (the harness appends every event
//! to it as it happens in operator mode) and read the way a correct client reads it, so the
//! person can compare it with what their software shows.

use std::io::{BufRead, Seek, SeekFrom};
use std::path::Path;

use onshi_harness::journal::{Entry, Event};
use onshi_national::events::{Exchange, NationalEvent};
use onshi_national::http::api::SEARCH_PATH;
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
    /// The national system's answer to a search over the HTTP API, during the step.
    Api,
}

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file the terminal wrote, by name.
    File(String),
    /// The API's answer to a search, by HTTP status.
    Api(u16),
}

/// The terminal's answer, as a correct client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalAnswer {
    /// The file, or the API exchange, it came from.
    pub source: Source,
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
    /// A result (from a file or the API) as a correct client reads it.
    fn of(
        source: Source,
        result: &QualificationResult,
        header: Option<&onshi_protocol::xml::Element>,
    ) -> TerminalAnswer {
        let c = interpret::conclude(result, header, &[]);
        let first = result.results().first();
        TerminalAnswer {
            source,
            outcome: c.outcome,
            message: c.message,
            record: c.record,
            consents: first.map(interpret::consents),
            reference_number: first.and_then(|r| r.reference_number.clone()),
        }
    }

    fn error(source: Source, message: String) -> TerminalAnswer {
        TerminalAnswer {
            source,
            outcome: Outcome::Error,
            message,
            record: None,
            consents: None,
            reference_number: None,
        }
    }

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
        found = Some(match (&entry.event, awaited) {
            (Event::Terminal(TerminalEvent::ResultWritten { name, bytes, .. }), Awaited::Result) => {
                read_answer(name, &bytes.0)
            }
            (Event::Terminal(TerminalEvent::FaceWritten { name, bytes, .. }), Awaited::Face(file)) if name == file => {
                read_answer(name, &bytes.0)
            }
            (Event::National(NationalEvent::Exchange(x)), Awaited::Api) if x.path == SEARCH_PATH => read_api_answer(x),
            _ => continue,
        });
    }
    found
}

/// One answer file read as a correct client reads it.
pub fn read_answer(name: &str, bytes: &[u8]) -> TerminalAnswer {
    match read_message::<QualificationResult>(bytes, &Limits::default()) {
        Ok((result, doc)) => {
            TerminalAnswer::of(Source::File(name.to_owned()), &result, doc.root.child("MessageHeader"))
        }
        Err(e) => TerminalAnswer::error(Source::File(name.to_owned()), format!("the file cannot be read: {e}")),
    }
}

/// The API's answer to one search, as a correct client reads it: a complete 200 answer is
/// read like a result file (its `XmlMsg` in JSON); anything else is an error on the screen.
pub fn read_api_answer(x: &Exchange) -> TerminalAnswer {
    let source = Source::Api(x.status);
    let body = &x.response_body.0;
    if x.status != 200 {
        return TerminalAnswer::error(source, format!("the API answered HTTP {}", x.status));
    }
    if x.cut_after_bytes.is_some_and(|n| n < body.len()) {
        return TerminalAnswer::error(source, "the API's answer was cut short".to_owned());
    }
    let result = serde_json::from_slice::<serde_json::Value>(body)
        .map_err(|e| e.to_string())
        .and_then(|v| {
            let msg = v.get("XmlMsg").cloned().ok_or("no XmlMsg in the answer")?;
            serde_json::from_value::<QualificationResult>(msg).map_err(|e| e.to_string())
        });
    match result {
        Ok(result) => TerminalAnswer::of(source, &result, None),
        Err(e) => TerminalAnswer::error(source, format!("the API's answer cannot be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onshi_national::events::Blob;

    #[test]
    fn an_unreadable_file_is_an_error_answer_not_a_panic() {
        let a = read_answer("OQSsiquc01res_x.xml", b"<XmlMsg><unclosed>");
        assert_eq!(a.outcome, Outcome::Error);
        assert!(a.message.contains("cannot be read"));
    }

    fn exchange(status: u16, body: &[u8]) -> Exchange {
        Exchange {
            connection: 1,
            remote: "127.0.0.1:50000".into(),
            tls: true,
            client_cert: None,
            method: "POST".into(),
            path: SEARCH_PATH.into(),
            version: "HTTP/1.1".into(),
            headers: vec![],
            body: Blob(vec![]),
            status,
            response_body: Blob(body.to_vec()),
            cut_after_bytes: None,
            faults: vec![],
            findings: vec![],
            retry_after_s: None,
            persona: None,
            duration_ms: 1.0,
            delay_ms: 0,
        }
    }

    fn valid_result() -> QualificationResult {
        use onshi_protocol::codes::*;
        use onshi_protocol::model::*;
        QualificationResult {
            message_header: Some(MessageHeader {
                segment_of_result: Some(SegmentOfResult::Normal),
                ..Default::default()
            }),
            message_body: Some(QualificationResultBody {
                processing_result_status: Some(ProcessingResultStatus::Normal),
                qualification_validity: Some(QualificationValidity::Valid),
                result_list: Some(ResultList(vec![ResultOfQualificationConfirmation {
                    insurer_number: Some("06990012".into()),
                    insured_identification_number: Some("2001".into()),
                    name: Some("検証　花子".into()),
                    ..Default::default()
                }])),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn the_api_answer_is_read_as_a_client_reads_it() {
        let ok = exchange(200, &onshi_national::http::json::result_bytes(&valid_result()));
        let a = read_api_answer(&ok);
        assert_eq!(a.source, Source::Api(200));
        assert_eq!(a.outcome, Outcome::Valid, "{}", a.message);
        assert_eq!(a.values().get("insurer_number").map(String::as_str), Some("06990012"));
        // refused, cut short, or not the expected JSON: an error on the screen, never a panic
        let refused = read_api_answer(&exchange(503, b"{}"));
        assert_eq!((refused.outcome, refused.source), (Outcome::Error, Source::Api(503)));
        let mut cut = ok.clone();
        cut.cut_after_bytes = Some(10);
        assert_eq!(read_api_answer(&cut).outcome, Outcome::Error);
        for body in [&b"not json"[..], b"{}", b"{\"XmlMsg\": 3}"] {
            let a = read_api_answer(&exchange(200, body));
            assert_eq!(a.outcome, Outcome::Error, "{body:?}");
            assert!(a.message.contains("cannot be read"), "{}", a.message);
        }
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
