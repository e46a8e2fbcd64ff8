//! The vocabulary of case files that steps, the World and the checks share: cards,
//! expectations, dates, the client's credentials. Plain data, deserialised from the TOML of
//! `docs/scenario-format.md`; it imports nothing else of the engine.

use onshi_protocol::driver::{Outcome, PullKind};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The client certificate and credentials the harness gives the client (`[api]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSetup {
    /// Which client certificate (default: the valid one).
    #[serde(default)]
    pub client_certificate: CertificateChoice,
}

/// Which client certificate the client is configured with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateChoice {
    /// The institution's valid certificate.
    #[default]
    Valid,
    /// No certificate at all.
    None,
    /// A certificate from a CA the national system does not trust.
    Foreign,
    /// An expired certificate.
    Expired,
}

/// One 照会番号 to register (`register_reference_number` entries).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    /// The clinic's patient ID to register (1–50 characters).
    pub reference_number: String,
    /// Whose card it is registered for.
    pub card: CardSpec,
}

/// What a `pull_bulk` step asks for. Dates may be relative (`today-10d`, `month`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSpec {
    /// 医療扶助, 訪問診療 or オンライン診療.
    pub kind: PullKind,
    /// (medical_aid) the month of treatment.
    pub month: Option<String>,
    /// The first day of the consent period.
    pub consent_from: Option<String>,
    /// The last day of the consent period.
    pub consent_to: Option<String>,
    /// (online) the first day of the examination period.
    pub examined_from: Option<String>,
    /// (online) the last day of the examination period.
    pub examined_to: Option<String>,
}

/// A scenario date: `YYYYMMDD`, `YYYYMM` (the first of that month) or a relative date
/// (`today-10d`, `month-1m`), resolved against the run's date.
pub(crate) fn resolve_date(s: &str, today: chrono::NaiveDate) -> Result<chrono::NaiveDate, String> {
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        return chrono::NaiveDate::parse_from_str(&format!("{s}01"), "%Y%m%d")
            .map_err(|_| format!("{s:?} is not a month written YYYYMM"));
    }
    onshi_registry::date::DateExpr::parse(s).map(|d| d.resolve(today))
}

/// The months of a `fetch_medical_info` step (YYYYMM or relative dates).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodSpec {
    /// The first month.
    pub from: String,
    /// The last month.
    pub to: String,
}

/// A card command, by what it does (for `remove_during`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardCommand {
    /// SELECT (A4).
    Select,
    /// READ BINARY (B0).
    Read,
    /// VERIFY (20).
    Verify,
    /// COMPUTE DIGITAL SIGNATURE (80 2A).
    Sign,
}

impl CardCommand {
    pub(crate) fn ins(self) -> u8 {
        match self {
            CardCommand::Select => 0xA4,
            CardCommand::Read => 0xB0,
            CardCommand::Verify => 0x20,
            CardCommand::Sign => 0x2A,
        }
    }
}

/// The insurance card for a `confirm_qualification` step: a persona's card or explicit data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSpec {
    /// The persona whose card it is (fixtures/personas.toml).
    pub persona: Option<String>,
    /// Which of the persona's cards: the current one (default) or the one before it.
    #[serde(default)]
    pub period: PeriodChoice,
    /// Leave the branch number out (e.g. twins sharing a card).
    #[serde(default)]
    pub omit_branch: bool,
    /// (explicit card) 保険者番号 as printed.
    pub insurer_number: Option<String>,
    /// (explicit card) 記号.
    pub symbol: Option<String>,
    /// (explicit card) 番号.
    pub number: Option<String>,
    /// (explicit card) 枝番.
    pub branch: Option<String>,
    /// (explicit card) the birth date, YYYYMMDD.
    pub birthdate: Option<String>,
}

/// Which of a persona's cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodChoice {
    /// The card of the current insurance period.
    #[default]
    Current,
    /// The card before it (a patient who changed insurer and shows the old card).
    Previous,
}

/// A face file written slowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowSpec {
    /// In how many pieces the file is written.
    pub chunks: usize,
    /// The pause between two pieces.
    pub interval_ms: u64,
}

/// "Compare with what the terminal answered."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromResult {
    /// `"result"`: what the terminal (or the API) answered.
    Result,
}

/// What a driver call must produce.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The outcome the client must report.
    pub outcome: Option<Outcome>,
    /// The check the outcome expectation is reported under (default: by outcome, OUT-*).
    pub check: Option<onshi_protocol::CheckId>,
    /// The client's message contains the terminal's error or supplementary message verbatim.
    pub message: Option<FromResult>,
    /// The stored record equals the terminal's result.
    pub record: Option<FromResult>,
    /// (import_face) the consents the client stored equal the face result's.
    pub consents: Option<FromResult>,
    /// (import_face) the 照会番号 the client stored equals the face result's.
    pub reference_number: Option<FromResult>,
    /// The request carries the card, consent and date as given (default: true).
    pub request: Option<bool>,
    /// The client must answer within this long; silence fails the outcome check.
    pub within_ms: Option<u64>,
    /// (register_reference_number, confirm_bulk, pull_bulk) the client's per-person results
    /// equal what the terminal answered.
    pub results: Option<FromResult>,
    /// (fetch_medical_info) whether the client obtained the information.
    pub ok: Option<bool>,
    /// (fetch_medical_info) the drugs or check-up items (or the PDF) equal the terminal's.
    pub items: Option<FromResult>,
    /// (verify_card_pin) what the client concluded about the card.
    pub pin: Option<onshi_protocol::driver::PinOutcome>,
    /// (verify_card_pin) the tries left the client reports.
    pub tries_left: Option<u8>,
}

/// A problem in a case or rush profile file, with its line when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file, as the user gave it or as the suite names it.
    pub file: String,
    /// The line (1-based), when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// How much a case matters for certification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Every client must pass it.
    Mandatory,
    /// Good practice; a failure is reported but is not a certification blocker.
    Recommended,
}

/// The line (1-based) of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of the key at `path` in the TOML document `text` — `mix.face`,
/// `facility[2].curve[0].at` — taken from the spans of toml's own parse, the one way the
/// harness places a problem in a file. `None` when the text does not parse or has no such key;
/// a path that goes deeper than the document gives the line of the deepest key it has.
pub fn toml_line(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut at = None;
    for segment in path.split('.') {
        let (name, index) = match segment.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let Some((key, value)) = table.get_key_value(name) else {
            break;
        };
        at = Some(key.span());
        let mut value = value;
        if let Some(i) = index
            && let DeValue::Array(items) = value.get_ref()
            && let Some(item) = items.get(i)
        {
            at = Some(item.span());
            value = item;
        }
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    at.map(|s| line_of(text, s.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_path_finds_its_line_in_tables_arrays_and_inline_tables() {
        let text = "id = \"x\"\n\n[mix]\nface = 0.5\n\n[[facility]]\nid = \"a\"\n\n[[facility]]\nid = \"b\"\ncurve = [{ at = \"0m\" }, { at = \"5m\",\n  rate = 3 }]\n";
        assert_eq!(toml_line(text, "id"), Some(1));
        assert_eq!(toml_line(text, "mix.face"), Some(4));
        assert_eq!(toml_line(text, "facility[1].id"), Some(10));
        assert_eq!(toml_line(text, "facility[1]"), Some(9));
        assert_eq!(toml_line(text, "facility[1].curve[1].rate"), Some(12));
        assert_eq!(toml_line(text, "facility[1].nothing"), Some(9));
        assert_eq!(toml_line(text, "absent"), None);
        assert_eq!(toml_line("not = [toml", "not"), None);
    }
}
