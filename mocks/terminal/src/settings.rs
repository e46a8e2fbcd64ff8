//! Terminal settings: what a real terminal's configuration or behaviour varies in. Every
//! field has a default so a scenario names only what it changes.

use onshi_national::faults::Delay;
use onshi_protocol::{ElementOrder, TextEncoding};
use serde::{Deserialize, Serialize};

/// Results written in place, in chunks, like a slow share: clients must wait until a result
/// is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowResults {
    /// In how many pieces a result is written.
    pub chunks: usize,
    /// The pause between two pieces.
    pub interval_ms: u64,
}

/// Something the terminal does wrong on purpose, with an ID for the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalFault {
    /// Its id, in the journal's `fault_applied` events.
    pub id: String,
    /// What the terminal does wrong.
    pub kind: TerminalFaultKind,
    /// Only requests of these families (`OQSsiquc`, `OQSmuquc`, …); empty: every family.
    #[serde(default)]
    pub families: Vec<onshi_protocol::filename::Family>,
    /// Only the first N requests it matches.
    #[serde(default)]
    pub first: Option<u32>,
}

/// The kinds of terminal fault (docs/scenario-format.md, "Terminal faults").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TerminalFaultKind {
    /// Takes the request and never answers.
    NeverAnswers,
    /// Answers, then writes the same answer again `after_ms` later (a new file event).
    AnswersTwice {
        /// How long after the first answer.
        after_ms: u64,
    },
    /// Answers `ms` later than it would (typically after the client gave up).
    AnswersLate {
        /// How much later.
        ms: u64,
    },
    /// A leftover result (another patient's, from yesterday) sits under the answer's name
    /// from the moment the request is taken until the real answer replaces it.
    NameCollision,
    /// Cannot write the answer (disk full): nothing appears in `res/`.
    WriteFailure,
    /// When the terminal starts, `res/` already holds yesterday's results — including one
    /// under today's first request name (`OQSsiquc01res_<today>0001.xml`).
    StaleResults,
}

impl TerminalFaultKind {
    /// The name a scenario gives it (`type = "…"`), taken from its serde form so the two
    /// cannot drift apart.
    pub fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default()
    }
}

/// Whether the national system behind the terminal answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upstream {
    /// Requests are answered by the national service.
    #[default]
    Up,
    /// The national side is unreachable: every request is answered with SegmentOfResult 9
    /// and the (synthetic) `upstream-unavailable` code.
    Down,
}

/// The terminal's behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TerminalSettings {
    /// The institution the terminal belongs to (医療機関コード, synthetic).
    pub institution_code: String,
    /// Output encoding of results (CharacterCodeIdentifier follows it).
    pub encoding: TextEncoding,
    /// Element order of results.
    pub order: ElementOrder,
    /// How long a request stays in `req/` before the terminal takes it (real terminals:
    /// "within a few seconds").
    pub pickup_delay_ms: u64,
    /// A request whose completion no event announced (no close-after-write, no rename) is
    /// taken once it has not changed for this long.
    pub settle_ms: u64,
    /// A request still being written after this long is taken as it is.
    pub stall_timeout_ms: u64,
    /// Period of the directory rescan that backs up file-system events.
    pub rescan_ms: u64,
    /// Find requests by file-system events (`false`: by the rescan only, as on a network
    /// share that sends no notifications; requests are then taken once unchanged for
    /// `settle_ms`).
    pub req_events: bool,
    /// Time from pickup to the result appearing in `res/`.
    pub result_delay_ms: u64,
    /// `false`: the terminal takes requests and never answers (a fault).
    pub answer: bool,
    /// What the terminal does with the national system's answers (pass them on, or fail).
    pub upstream: Upstream,
    /// Larger request files are refused with the `.err` convention.
    pub max_request_bytes: usize,
    /// Deliver finished bulk results (`02res`) as a `.zip` holding the XML, as some
    /// terminals do for 医療扶助 / 訪問診療 / オンライン診療.
    pub zip_bulk_results: bool,
    /// A distribution for the pickup delay, drawn per request from the run's seed
    /// (instead of `pickup_delay_ms`).
    pub pickup_delay: Option<Delay>,
    /// A distribution for the result delay, drawn per request (instead of `result_delay_ms`).
    pub result_delay: Option<Delay>,
    /// Write results in place, slowly (clients must wait for a complete file).
    pub slow_results: Option<SlowResults>,
    /// After a result appears, touch it (a change event) — what watchers that react only to
    /// changes need.
    pub touch_after_write: bool,
    /// What the terminal does wrong on purpose.
    pub faults: Vec<TerminalFault>,
    /// The face-auth card reader: face-match attempts, visual-check fallback.
    pub reader: crate::reader::ReaderSettings,
}

impl Default for TerminalSettings {
    fn default() -> Self {
        TerminalSettings {
            institution_code: "9900000001".to_owned(),
            encoding: TextEncoding::Utf8,
            order: ElementOrder::Spec,
            pickup_delay_ms: 200,
            settle_ms: 300,
            stall_timeout_ms: 10_000,
            rescan_ms: 500,
            req_events: true,
            result_delay_ms: 0,
            answer: true,
            upstream: Upstream::Up,
            max_request_bytes: 4 * 1024 * 1024,
            zip_bulk_results: false,
            pickup_delay: None,
            result_delay: None,
            slow_results: None,
            touch_after_write: false,
            faults: Vec::new(),
            reader: crate::reader::ReaderSettings::default(),
        }
    }
}
