//! Terminal settings: what a real terminal's configuration or behaviour varies in. Every
//! field has a default so a scenario names only what it changes.

use onshi_protocol::{ElementOrder, TextEncoding};
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Time from pickup to the result appearing in `res/`.
    pub result_delay_ms: u64,
    /// `false`: the terminal takes requests and never answers (a fault).
    pub answer: bool,
    pub upstream: Upstream,
    /// Larger request files are refused with the `.err` convention.
    pub max_request_bytes: usize,
    /// Deliver finished bulk results (`02res`) as a `.zip` holding the XML, as some
    /// terminals do for 医療扶助 / 訪問診療 / オンライン診療.
    pub zip_bulk_results: bool,
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
            result_delay_ms: 0,
            answer: true,
            upstream: Upstream::Up,
            max_request_bytes: 4 * 1024 * 1024,
            zip_bulk_results: false,
        }
    }
}
