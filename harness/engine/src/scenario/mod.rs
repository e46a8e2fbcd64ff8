//! Scenarios: one conformance case per TOML file (`scenarios/<area>/<ID>.toml`), with its
//! terminal settings and a timeline of steps — World actions and driver calls with
//! expectations. The format is documented in `docs/scenario-format.md`.

mod load;
pub mod requirements;
pub mod timing;

use onshi_national::ConsentChoices;
use onshi_national::faults::Fault;
use onshi_national::http::ServerSettings;
use onshi_national::state::PersonChange;
use onshi_protocol::driver::{MedicalInfoFormat, MedicalInfoKind, Outcome, PullKind, Via};
use onshi_terminal::TerminalSettings;
use serde::{Deserialize, Serialize};

pub use load::{LoadError, RUSH_DIR, Suite, load_dir, load_sources};

/// How much a case matters for certification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Every client must pass it.
    Mandatory,
    /// Good practice; a failure is reported but is not a certification blocker.
    Recommended,
}

/// A case, as its file defines it (see `docs/scenario-format.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDef {
    pub id: String,
    pub title: String,
    /// The requirements covered (IDs of `requirements/requirements.toml`), e.g.
    /// `OQS-IF-001/002`.
    pub requirements: Vec<String>,
    /// The same, joined with ", " for display.
    pub requirement: String,
    /// Capabilities the client must declare; otherwise the case is not applicable.
    pub capabilities: Vec<String>,
    pub severity: Severity,
    /// Why the case exists, for the catalogue.
    pub summary: String,
    /// Behaviour checks (FS-*) enabled for the whole case.
    pub checks: Vec<String>,
    /// The time-out the case asks the client to keep (`timeout_ms` of its steps that give
    /// none), and the value of `timeout` in its time expressions for clients that declare no
    /// time-out of their own.
    pub client_timeout_ms: Option<u64>,
    /// Some of the case's times follow the client's time-out (docs/scenario-format.md).
    pub follows_client_timeout: bool,
    pub terminal: TerminalSettings,
    /// The national mock's strictness for this case.
    pub national: ServerSettings,
    /// What the harness gives the client for the HTTP API.
    pub api: ApiSetup,
    /// The timeline, from the `[[step]]` tables.
    pub steps: Vec<StepDef>,
}

/// The client certificate and credentials the harness gives the client (`[api]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSetup {
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

/// The `do = "…"` of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ConfirmQualification,
    PresentCard,
    ImportFace,
    Wait,
    AdvanceClock,
    SetFault,
    ClearFault,
    ChangePerson,
    RevokeTokens,
    RegisterReferenceNumber,
    ConfirmBulk,
    PullBulk,
    FetchMedicalInfo,
    InsertCard,
    RemoveCard,
    VerifyCardPin,
    Rush,
}

/// One 照会番号 to register (`register_reference_number` entries).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    pub reference_number: String,
    pub card: CardSpec,
}

/// What a `pull_bulk` step asks for. Dates may be relative (`today-10d`, `month`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSpec {
    pub kind: PullKind,
    pub month: Option<String>,
    pub consent_from: Option<String>,
    pub consent_to: Option<String>,
    pub examined_from: Option<String>,
    pub examined_to: Option<String>,
}

/// A scenario date: `YYYYMMDD`, `YYYYMM` (the first of that month) or a relative date
/// (`today-10d`, `month-1m`), resolved against the run's date.
pub fn resolve_date(s: &str, today: chrono::NaiveDate) -> Result<chrono::NaiveDate, String> {
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
    pub from: String,
    pub to: String,
}

/// One step of a case's timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum StepDef {
    /// Driver call: the receptionist confirms a patient's insurance card.
    ConfirmQualification {
        /// The folder interface (default) or the HTTP API.
        via: Via,
        card: CardSpec,
        consent_limit_certificate: bool,
        /// Passed to the client as `timeout_ms`.
        timeout_ms: Option<u64>,
        expect: Expect,
    },
    /// World action: a patient presents their card at the face-auth reader.
    PresentCard {
        persona: String,
        /// The virtual My Number card the patient places (a shipped card id): the reader
        /// model runs the card-level flow first. Absent: the patient is confirmed directly.
        my_number_card: Option<String>,
        /// Face (with each attempt's result), PIN (the entries typed) or visual check.
        auth: onshi_terminal::reader::AuthMethod,
        /// The patient takes the card away at this stage.
        remove_at: Option<onshi_terminal::reader::Stage>,
        consents: ConsentChoices,
        slow: Option<SlowSpec>,
    },
    /// Driver call: the client imports the last face file.
    ImportFace { timeout_ms: u64, expect: Expect },
    /// Wait in real time.
    Wait { ms: u64 },
    /// Move the World's clock (`90s`, `5m`, `2h`, `1d`).
    AdvanceClock { by: String },
    /// World action: a fault of the national mock starts applying.
    SetFault { fault: Fault },
    /// World action: a fault stops applying.
    ClearFault { id: String },
    /// World action: a persona's state changes (lose eligibility, change insurer, …).
    ChangePerson { change: PersonChange },
    /// World action: every issued API token is revoked.
    RevokeTokens,
    /// Driver call: the clinic registers 照会番号 (single requests, or one bulk upload).
    RegisterReferenceNumber {
        entries: Vec<ReferenceSpec>,
        bulk: bool,
        timeout_ms: Option<u64>,
        expect: Expect,
    },
    /// Driver call: 資格確認一括照会 of several cards.
    ConfirmBulk {
        cards: Vec<CardSpec>,
        timeout_ms: Option<u64>,
        expect: Expect,
    },
    /// Driver call: a 医療扶助 / 訪問診療 / オンライン診療 pull.
    PullBulk {
        pull: PullSpec,
        timeout_ms: Option<u64>,
        expect: Expect,
    },
    /// Driver call: 薬剤情報 / 特定健診情報 for a patient.
    FetchMedicalInfo {
        kind: MedicalInfoKind,
        card: CardSpec,
        format: MedicalInfoFormat,
        period: Option<PeriodSpec>,
        timeout_ms: Option<u64>,
        expect: Expect,
    },
    /// World action: the patient's My Number card goes into the PC/SC reader
    /// (`Virtual PCD 00 00`); with `remove_during` it is snatched away while the card
    /// processes that command, before answering.
    InsertCard {
        my_number_card: String,
        remove_during: Option<CardCommand>,
    },
    /// World action: the card leaves the PC/SC reader.
    RemoveCard,
    /// Driver call: the client verifies the PIN on the card in the reader and signs a challenge.
    VerifyCardPin {
        pin: String,
        timeout_ms: Option<u64>,
        expect: Expect,
    },
    /// A reception rush in real time against the client, judged by SLOs (`RUSH-SLO`) and by
    /// its failed calls and wrong answers (`RUSH-ERRORS`).
    Rush {
        /// The profile, with the step's SLOs when it gives any.
        profile: Box<crate::rush::Profile>,
        /// The arrival window.
        window_us: u64,
    },
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
    pub fn ins(self) -> u8 {
        match self {
            CardCommand::Select => 0xA4,
            CardCommand::Read => 0xB0,
            CardCommand::Verify => 0x20,
            CardCommand::Sign => 0x2A,
        }
    }
}

impl Action {
    /// The `do = "…"` name.
    pub fn name(self) -> &'static str {
        match self {
            Action::ConfirmQualification => "confirm_qualification",
            Action::PresentCard => "present_card",
            Action::ImportFace => "import_face",
            Action::Wait => "wait",
            Action::AdvanceClock => "advance_clock",
            Action::SetFault => "set_fault",
            Action::ClearFault => "clear_fault",
            Action::ChangePerson => "change_person",
            Action::RevokeTokens => "revoke_tokens",
            Action::RegisterReferenceNumber => "register_reference_number",
            Action::ConfirmBulk => "confirm_bulk",
            Action::PullBulk => "pull_bulk",
            Action::FetchMedicalInfo => "fetch_medical_info",
            Action::InsertCard => "insert_card",
            Action::RemoveCard => "remove_card",
            Action::VerifyCardPin => "verify_card_pin",
            Action::Rush => "rush",
        }
    }
}

impl StepDef {
    pub fn kind(&self) -> Action {
        match self {
            StepDef::ConfirmQualification { .. } => Action::ConfirmQualification,
            StepDef::PresentCard { .. } => Action::PresentCard,
            StepDef::ImportFace { .. } => Action::ImportFace,
            StepDef::Wait { .. } => Action::Wait,
            StepDef::AdvanceClock { .. } => Action::AdvanceClock,
            StepDef::SetFault { .. } => Action::SetFault,
            StepDef::ClearFault { .. } => Action::ClearFault,
            StepDef::ChangePerson { .. } => Action::ChangePerson,
            StepDef::RevokeTokens => Action::RevokeTokens,
            StepDef::RegisterReferenceNumber { .. } => Action::RegisterReferenceNumber,
            StepDef::ConfirmBulk { .. } => Action::ConfirmBulk,
            StepDef::PullBulk { .. } => Action::PullBulk,
            StepDef::FetchMedicalInfo { .. } => Action::FetchMedicalInfo,
            StepDef::InsertCard { .. } => Action::InsertCard,
            StepDef::RemoveCard => Action::RemoveCard,
            StepDef::VerifyCardPin { .. } => Action::VerifyCardPin,
            StepDef::Rush { .. } => Action::Rush,
        }
    }

    /// The `do = "…"` name.
    pub fn action(&self) -> &'static str {
        self.kind().name()
    }
}

/// The insurance card for a `confirm_qualification` step: a persona's card or explicit data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSpec {
    pub persona: Option<String>,
    /// Which of the persona's cards: the current one (default) or the one before it.
    #[serde(default)]
    pub period: PeriodChoice,
    /// Leave the branch number out (e.g. twins sharing a card).
    #[serde(default)]
    pub omit_branch: bool,
    pub insurer_number: Option<String>,
    pub symbol: Option<String>,
    pub number: Option<String>,
    pub branch: Option<String>,
    pub birthdate: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodChoice {
    #[default]
    Current,
    Previous,
}

/// A face file written slowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowSpec {
    pub chunks: usize,
    pub interval_ms: u64,
}

/// "Compare with what the terminal answered."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromResult {
    Result,
}

/// What a driver call must produce.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Option<Outcome>,
    /// The check the outcome expectation is reported under (default: by outcome, OUT-*).
    pub check: Option<String>,
    /// The client's message contains the terminal's error or supplementary message verbatim.
    pub message: Option<FromResult>,
    /// The stored record equals the terminal's result.
    pub record: Option<FromResult>,
    pub consents: Option<FromResult>,
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

/// A loaded case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub def: CaseDef,
    /// The file it came from, relative to the suite root.
    pub source: String,
    /// The folder under the suite root (`file`, `api`, …).
    pub area: String,
    /// The case file's text when its times follow the client's time-out: it is loaded again
    /// for a client that declares its own.
    pub text: Option<std::sync::Arc<str>>,
}

impl Case {
    pub fn id(&self) -> &str {
        &self.def.id
    }
}
