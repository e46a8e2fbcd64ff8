//! What the client must report, as the World saw it: the terminal's result file or .err, or
//! the national API's answer (a result, a refusal, a maintenance page, a cut connection).

use onshi_protocol::codes::{Code, ProcessingResultStatus, SegmentOfResult};
use onshi_protocol::model::QualificationResult;

/// What the terminal or the national API answered.
pub(crate) enum Answer {
    /// A result (a file in `res/`, or an API answer with `XmlMsg`).
    Result { seq: u64, result: Box<QualificationResult> },
    /// An `.err` file of the terminal.
    Rejected { seq: u64, code: String, text: String },
    /// An API answer without a result: a refusal, a maintenance page, a body that is not
    /// JSON, a cut connection. `what` says which; `text` is what the client must show, if any.
    Http {
        seq: u64,
        what: String,
        text: Option<String>,
    },
}

impl Answer {
    pub fn seq(&self) -> u64 {
        match self {
            Answer::Result { seq, .. } | Answer::Rejected { seq, .. } | Answer::Http { seq, .. } => *seq,
        }
    }

    /// "QualificationValidity 3 — 無効（新しい資格あり）", "SegmentOfResult 9 — 異常終了 (SYN-E9001)", …
    pub fn describe(&self) -> String {
        match self {
            Answer::Rejected { code, .. } => format!("an .err file ({code}): the request could not be processed"),
            Answer::Result { result, .. } => describe(result),
            Answer::Http { what, .. } => what.clone(),
        }
    }

    /// The text the client must show, if the answer carries one.
    pub fn message(&self) -> Option<String> {
        match self {
            Answer::Rejected { text, .. } => Some(text.clone()),
            Answer::Http { text, .. } => text.clone(),
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
