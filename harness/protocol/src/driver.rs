//! The driver protocol `onshi-driver/1`: how the harness drives any client through a thin
//! adapter, as JSON-RPC 2.0 (one JSON object per line over the adapter's stdin/stdout).
//!
//! This is a public contract: fields may be added, never renamed or removed. Unknown fields
//! in an adapter's answer are ignored, so adapters may report more than is asked.
//! `docs/driver-protocol.md` and `docs/driver-protocol.schema.json` describe it for vendors;
//! the schema is generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol name sent in `initialize`.
pub const PROTOCOL: &str = "onshi-driver/1";

/// JSON-RPC error codes the harness interprets.
pub mod error_code {
    /// -32700: the line is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// -32600: not a JSON-RPC request.
    pub const INVALID_REQUEST: i64 = -32600;
    /// The adapter does not implement the method: its cases become not applicable.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// -32602: the params do not fit the method.
    pub const INVALID_PARAMS: i64 = -32602;
    /// -32603: the adapter failed.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Application errors use codes from here up, with a message.
    pub const APPLICATION_MIN: i64 = 1000;
}

/// Method names.
pub mod method {
    /// Starts a session: the environment in, the client's description out.
    pub const INITIALIZE: &str = "initialize";
    /// Forgets everything of the last case (the client's state, not the World's).
    pub const RESET: &str = "reset";
    /// The receptionist confirms an insurance card.
    pub const CONFIRM_QUALIFICATION: &str = "confirm_qualification";
    /// The client imports a face-auth result.
    pub const IMPORT_FACE: &str = "import_face";
    /// The clinic registers 照会番号.
    pub const REGISTER_REFERENCE_NUMBER: &str = "register_reference_number";
    /// 資格確認一括照会 of several cards.
    pub const CONFIRM_BULK: &str = "confirm_bulk";
    /// 薬剤情報 / 特定健診情報 of a patient.
    pub const FETCH_MEDICAL_INFO: &str = "fetch_medical_info";
    /// A 医療扶助 / 訪問診療 / オンライン診療 pull.
    pub const PULL_BULK: &str = "pull_bulk";
    /// The client verifies a PIN on the card in the PC/SC reader and signs a challenge.
    pub const VERIFY_CARD_PIN: &str = "verify_card_pin";
    /// Ends the session; the adapter exits.
    pub const SHUTDOWN: &str = "shutdown";
}

/// Capability names a client declares in its implementation statement.
pub mod capability {
    /// 資格確認 through the terminal folder.
    pub const FILE_QUALIFICATION: &str = "file.qualification";
    /// Face-auth results in `face/`.
    pub const FILE_FACE: &str = "file.face";
    /// 照会番号 registration through the folder.
    pub const FILE_REFERENCE_NUMBER: &str = "file.reference-number";
    /// 資格確認一括照会 through the folder.
    pub const FILE_BULK_QUALIFICATION: &str = "file.bulk-qualification";
    /// 薬剤情報 / 特定健診情報 through the folder.
    pub const FILE_MEDICAL_INFO: &str = "file.medical-info";
    /// 医療扶助 / 訪問診療 / オンライン診療 pulls through the folder.
    pub const FILE_BULK_PULL: &str = "file.bulk-pull";
    /// 資格確認 through the HTTP API.
    pub const API_QUALIFICATION: &str = "api.qualification";
    /// The My Number card on PC/SC.
    pub const CARD_PCSC: &str = "card.pcsc";
    /// Every capability.
    pub const ALL: &[&str] = &[
        FILE_QUALIFICATION,
        FILE_FACE,
        FILE_REFERENCE_NUMBER,
        FILE_BULK_QUALIFICATION,
        FILE_MEDICAL_INFO,
        FILE_BULK_PULL,
        API_QUALIFICATION,
        CARD_PCSC,
    ];
}

/// A JSON-RPC 2.0 request (the harness sends these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcRequest {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// The request id (absent for notifications).
    pub id: Value,
    /// The method.
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Its params.
    pub params: Option<Value>,
}

/// A JSON-RPC 2.0 error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RpcError {
    /// The error code.
    pub code: i64,
    /// The error's message.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Details, if any.
    pub data: Option<Value>,
}

/// A JSON-RPC 2.0 response (the adapter sends these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcResponse {
    /// Always `2.0`.
    pub jsonrpc: String,
    #[serde(default)]
    /// The id of the request answered.
    pub id: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The result, on success.
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The error, on failure.
    pub error: Option<RpcError>,
}

/// `initialize` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InitializeParams {
    /// Always `onshi-driver/1`.
    pub protocol: String,
    /// The harness calling.
    pub harness: HarnessInfo,
    /// What the client works against.
    pub environment: Environment,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// The harness.
pub struct HarnessInfo {
    /// `onshi-harness`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Where the simulated World can be reached. Parts not in use are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// The clinic's 10-digit 医療機関コード (synthetic).
    pub institution_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The terminal's shared folder, when the run has one.
    pub terminal: Option<TerminalFolders>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The national API, when the run has one.
    pub api: Option<ApiEnvironment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The PC/SC reader, when the run has one.
    pub pcsc: Option<PcscEnvironment>,
    /// The reception PC this adapter instance stands for, when several instances share one
    /// terminal folder (a rush starts one per PC): each must keep its request file names
    /// apart from the others'. Absent in conformance runs (added in onshi-driver/1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workstation: Option<String>,
}

/// The terminal's shared folder: absolute paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TerminalFolders {
    /// The shared folder (absolute).
    pub root: String,
    /// `req/`, where the client writes requests.
    pub req: String,
    /// `res/`, where the terminal writes results.
    pub res: String,
    /// `face/`, where the face-auth reader writes its results.
    pub face: String,
}

/// The national system's HTTP API (PEM strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiEnvironment {
    /// The API's base URL.
    pub base_url: String,
    /// The CA certificate to trust the API with (PEM).
    pub ca_cert_pem: String,
    /// The clinic's client certificate (PEM).
    pub client_cert_pem: String,
    /// Its private key (PEM).
    pub client_key_pem: String,
    /// The login body to send.
    pub credentials: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// The PC/SC reader the card is put into.
pub struct PcscEnvironment {
    /// Its name (`Virtual PCD 00 00`).
    pub reader: String,
}

/// `initialize` result: the client's implementation statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InitializeResult {
    /// The client.
    pub client: ClientInfo,
    /// Capabilities from [`capability`]; cases needing an undeclared one are not applicable.
    pub capabilities: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// The client as it describes itself.
pub struct ClientInfo {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// (added in onshi-driver/1, optional) The client's own, fixed time-out for one answer —
    /// a result in `res/` or an API search — in milliseconds, when it does not follow the
    /// `timeout_ms` the harness asks for. Cases about time-outs and late answers then place
    /// their faults relative to it. Leave it out if the client honours `timeout_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Insurance-card data as printed on the card (or typed in by the receptionist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Card {
    /// 保険者番号 as printed: 8 digits, or 6 digits for 国保. The client formats it for the
    /// request (8 characters, 6-digit numbers right-aligned with two half-width spaces).
    pub insurer_number: String,
    /// 記号; absent when the card has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// 番号.
    pub number: String,
    /// 枝番 (2 digits); absent when the card has none (e.g. 後期高齢者).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// YYYYMMDD.
    pub birthdate: String,
}

impl Card {
    /// The 資格確認要求 for this card, formatted as both interfaces expect: the insurer number
    /// as 8 characters (6-digit numbers right-aligned with two half-width spaces), absent
    /// fields left out.
    pub fn qualification_request(
        &self,
        date: &str,
        consent_limit_certificate: bool,
        institution_code: &str,
    ) -> crate::model::QualificationRequest {
        use crate::codes::LimitConsentFlag;
        use crate::model::{
            MessageHeader, QualificationConfirmSearchInfo, QualificationRequest, QualificationRequestBody,
        };
        QualificationRequest {
            message_header: Some(MessageHeader {
                qualification_confirmation_date: Some(date.to_owned()),
                medical_institution_code: Some(institution_code.to_owned()),
                ..Default::default()
            }),
            message_body: Some(QualificationRequestBody {
                qualification_confirm_search_info: Some(QualificationConfirmSearchInfo {
                    insurer_number: Some(crate::model::interface_insurer_number(&self.insurer_number)),
                    insured_card_symbol: self.symbol.clone().filter(|s| !s.is_empty()),
                    insured_identification_number: Some(self.number.clone()),
                    insured_branch_number: self.branch.clone(),
                    birthdate: Some(self.birthdate.clone()),
                    limit_application_certificate_related_cons_flg: Some(if consent_limit_certificate {
                        LimitConsentFlag::Consented
                    } else {
                        LimitConsentFlag::NotConsented
                    }),
                    arbitrary_identifier: None,
                }),
            }),
        }
    }
}

/// Which interface the client should use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The terminal's folder interface.
    File,
    /// The national system's HTTP API.
    Api,
}

/// `confirm_qualification` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmQualificationParams {
    /// The folder interface or the HTTP API.
    pub via: Via,
    /// The insurance card the receptionist enters.
    pub card: Card,
    /// The patient consents to the 限度額適用認定証 information being returned.
    pub consent_limit_certificate: bool,
    /// 資格確認日 YYYYMMDD; absent means today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// How long the client should wait for an answer before giving up (added in
    /// onshi-driver/1; clients that cannot configure their timeout ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// What the client concluded and would show at reception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// QualificationValidity 1 — 有効.
    Valid,
    /// QualificationValidity 2 — 無効.
    Invalid,
    /// QualificationValidity 3 — 無効（新しい資格あり）.
    InvalidNewQualification,
    /// QualificationValidity 4 — 該当資格なし.
    NotFound,
    /// QualificationValidity 5 — 複数該当.
    Multiple,
    /// No usable answer: an error result, an unreadable file, a timeout.
    Error,
}

impl Outcome {
    /// The outcome as written in the protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::Invalid => "invalid",
            Outcome::InvalidNewQualification => "invalid_new_qualification",
            Outcome::NotFound => "not_found",
            Outcome::Multiple => "multiple",
            Outcome::Error => "error",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the client stored about the patient. Values exactly as received (codes as their
/// code strings, dates as YYYYMMDD, the insurer number with its padding); a field is absent
/// when the result has no value for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PatientRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 保険者番号.
    pub insurer_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 記号.
    pub symbol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 番号.
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 枝番.
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 氏名.
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 氏名カナ.
    pub name_kana: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 生年月日, YYYYMMDD.
    pub birthdate: Option<String>,
    /// `Sex1` code: 1 男, 2 女, 3 未設定.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 保険者名称.
    pub insurer_name: Option<String>,
    /// `InsuredPartialContributionRatio` (後期高齢者), e.g. `010`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copay_ratio: Option<String>,
    /// 高齢受給者証.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elderly: Option<ElderlyRecord>,
    /// 限度額適用認定証.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_certificate: Option<LimitCertificateRecord>,
    /// 特定疾病療養受療証.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specific_diseases: Option<Vec<SpecificDiseaseRecord>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
/// 高齢受給者証 as stored.
pub struct ElderlyRecord {
    /// `ElderlyRecipientContributionRatio`, e.g. `020`.
    pub ratio: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The first valid day.
    pub valid_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The last valid day.
    pub valid_end: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
/// 限度額適用認定証 as stored.
pub struct LimitCertificateRecord {
    /// OQSCD011 code.
    pub classification: String,
    /// OQSCD012 code (適用区分), e.g. `A03`.
    pub flag: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
/// 特定疾病療養受療証 as stored.
pub struct SpecificDiseaseRecord {
    /// OQSCD013 code.
    pub category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 自己負担限度額.
    pub self_pay: Option<String>,
}

/// `confirm_qualification` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmQualificationResult {
    /// What the client concluded.
    pub outcome: Outcome,
    /// The text the client shows at reception (error and supplementary messages verbatim).
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What the client stored, when it stored something.
    pub record: Option<PatientRecord>,
    /// Files kept as evidence of what the screen showed (operator mode: the person's
    /// screenshot). Optional; no check judges it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

/// A file kept as evidence of an answer, named relative to the report folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Its path, relative to the report folder (`operator/evidence/…`).
    pub file: String,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

/// `import_face` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImportFaceParams {
    /// File name in the face folder.
    pub file: String,
    /// How long the client may take.
    pub timeout_ms: u64,
}

/// One consent the patient gave (or refused) at the face-auth reader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentRecord {
    /// The flag as received (OQSCD001 for the limit certificate, OQSCD016 otherwise).
    pub flag: String,
    /// YYYYMMDDHHmmss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Until when viewing is allowed, YYYYMMDDHHmmss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_time: Option<String>,
}

/// The consents of a face result; a kind is absent when the result has no flag for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Consents {
    /// 限度額適用認定証.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_certificate: Option<ConsentRecord>,
    /// 特定疾病療養受療証.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specific_diseases: Option<ConsentRecord>,
    /// 特定健診情報.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specific_health_checkups: Option<ConsentRecord>,
    /// 薬剤情報.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pharmacists: Option<ConsentRecord>,
    /// 診療情報.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<ConsentRecord>,
    /// 手術情報.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<ConsentRecord>,
}

/// `import_face` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImportFaceResult {
    /// What the client concluded.
    pub outcome: Outcome,
    /// The text the client shows at reception.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What the client stored.
    pub record: Option<PatientRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The consents it stored.
    pub consents: Option<Consents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The 照会番号 it stored.
    pub reference_number: Option<String>,
    /// Files kept as evidence of what the screen showed (see [`Evidence`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

/// `register_reference_number` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegisterReferenceNumberParams {
    /// The 照会番号 to register.
    pub entries: Vec<ReferenceEntry>,
    /// Use the bulk interface (OQSmuimm) instead of single registrations (OQSsiimm).
    pub bulk: bool,
    /// How long the harness would like the client to wait (added in onshi-driver/1, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// One 照会番号 and the card it is for.
pub struct ReferenceEntry {
    /// The 照会番号.
    pub reference_number: String,
    /// The card.
    pub card: Card,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// `register_reference_number` result.
pub struct RegisterReferenceNumberResult {
    /// One result per entry.
    pub results: Vec<ReferenceResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// What the client reports for one entry.
pub struct ReferenceResult {
    /// The 照会番号.
    pub reference_number: String,
    /// Whether it was registered.
    pub ok: bool,
    /// The text the client shows.
    pub message: String,
}

/// `confirm_bulk` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmBulkParams {
    /// The cards.
    pub cards: Vec<Card>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The reception date, YYYYMMDD.
    pub date: Option<String>,
    /// How long the harness would like the client to wait for the whole flow, 処理中
    /// included (added in onshi-driver/1, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Which bulk pull (`pull_bulk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PullKind {
    /// 医療扶助 (`OQSmutic`): the recipients with 医療券 for `month`.
    MedicalAid,
    /// 訪問診療 (`OQSmuhvq`): patients who consented in the consent range.
    HomeVisit,
    /// オンライン診療 (`OQSmuonq`): patients who consented, or were examined, in the range.
    Online,
}

/// `pull_bulk` params (added in onshi-driver/1): a bulk pull of patients the national system
/// knows for the institution. Dates are YYYYMMDD, the month YYYYMM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PullBulkParams {
    /// Which pull.
    pub kind: PullKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// (medical_aid) the month, YYYYMM.
    pub month: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The first day of the consent period.
    pub consent_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The last day of the consent period.
    pub consent_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// (online) the first day of the examination period.
    pub examined_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// (online) the last day of the examination period.
    pub examined_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How long the client may take.
    pub timeout_ms: Option<u64>,
}

/// One patient a pull returned, as the client stored them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PulledPatient {
    /// 氏名.
    pub name: String,
    /// YYYYMMDD.
    pub birthdate: String,
    /// What the client concluded about the patient.
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What it stored.
    pub record: Option<PatientRecord>,
    /// 公費負担者番号 (医療扶助).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_expense_number: Option<String>,
    /// 受給者番号 (医療扶助).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// `pull_bulk` result.
pub struct PullBulkResult {
    /// Whether the pull succeeded.
    pub ok: bool,
    /// The text the client shows.
    pub message: String,
    /// The patients it got.
    pub patients: Vec<PulledPatient>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// `confirm_bulk` result.
pub struct ConfirmBulkResult {
    /// One result per card.
    pub results: Vec<BulkResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// What the client reports for one card.
pub struct BulkResult {
    /// The card.
    pub card: Card,
    /// What the client concluded.
    pub outcome: Outcome,
    /// The text the client shows.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What it stored.
    pub record: Option<PatientRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
/// Which information.
pub enum MedicalInfoKind {
    /// 薬剤情報 (YZK).
    Drug,
    /// 特定健診情報 (TKK).
    Checkup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
/// The format asked for.
pub enum MedicalInfoFormat {
    /// XML.
    Xml,
    /// PDF.
    Pdf,
}

/// A span of months, YYYYMM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Period {
    /// The first month, YYYYMM.
    pub from: String,
    /// The last month, YYYYMM.
    pub to: String,
}

/// `fetch_medical_info` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FetchMedicalInfoParams {
    /// Which information.
    pub kind: MedicalInfoKind,
    /// The patient's card.
    pub card: Card,
    /// XML or PDF.
    pub format: MedicalInfoFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// (drug) the months to ask for.
    pub period: Option<Period>,
    /// Added in onshi-driver/1, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// The World's clock (`yyyyMMddHHmmss`, JST) — what a client compares consent
    /// `AvailableTime`s with; absent: the client's own clock. Added in onshi-driver/1, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// `fetch_medical_info` result.
pub struct FetchMedicalInfoResult {
    /// Whether the client obtained the information.
    pub ok: bool,
    /// The text the client shows.
    pub message: String,
    /// For XML: one object per drug dispensed (`date` YYYYMMDD, `code`, `name`, `quantity`,
    /// `unit`) or per check-up item (`date`, `code`, `name`, `value`, `unit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Value>>,
    /// For PDF: the size of the document received (added in onshi-driver/1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_bytes: Option<u64>,
}

/// `verify_card_pin` params: the patient's My Number card is in the PC/SC reader named in
/// `environment.pcsc`; the client runs the user-authentication flow — find the card by the
/// JPKI AID, read the 利用者証明用電子証明書, VERIFY the PIN, sign the challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifyCardPinParams {
    /// The PIN the patient typed.
    pub pin: String,
    /// Bytes to sign (base64): the client signs the SHA-256 DigestInfo of them with the
    /// authentication key (added in onshi-driver/1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// How long the client may take (added in onshi-driver/1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
/// What the client concluded about the card.
pub enum PinOutcome {
    /// The PIN was accepted (and the challenge signed).
    Ok,
    /// A wrong PIN.
    WrongPin,
    /// The PIN is locked.
    Blocked,
    /// No card in the reader.
    NoCard,
    /// Anything else.
    Error,
}

impl std::fmt::Display for PinOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PinOutcome::Ok => "ok",
            PinOutcome::WrongPin => "wrong_pin",
            PinOutcome::Blocked => "blocked",
            PinOutcome::NoCard => "no_card",
            PinOutcome::Error => "error",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
/// `verify_card_pin` result.
pub struct VerifyCardPinResult {
    /// What the client concluded.
    pub outcome: PinOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The tries left the card reported.
    pub tries_left: Option<u8>,
    /// What the client would show (added in onshi-driver/1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The signature over the challenge, base64 (added in onshi-driver/1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The 利用者証明用電子証明書 the client read, base64 DER (added in onshi-driver/1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

/// `reset` and `shutdown` take and return an empty object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Empty {}

/// The JSON Schema of the whole protocol: every method's params and result under
/// `x-methods`, their types under `$defs`.
pub fn json_schema() -> Value {
    use schemars::generate::SchemaSettings;
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut methods = serde_json::Map::new();
    macro_rules! method {
        ($name:expr, $params:ty, $result:ty) => {
            methods.insert(
                $name.to_owned(),
                serde_json::json!({
                    "params": generator.subschema_for::<$params>(),
                    "result": generator.subschema_for::<$result>(),
                }),
            );
        };
    }
    method!(method::INITIALIZE, InitializeParams, InitializeResult);
    method!(method::RESET, Empty, Empty);
    method!(
        method::CONFIRM_QUALIFICATION,
        ConfirmQualificationParams,
        ConfirmQualificationResult
    );
    method!(method::IMPORT_FACE, ImportFaceParams, ImportFaceResult);
    method!(
        method::REGISTER_REFERENCE_NUMBER,
        RegisterReferenceNumberParams,
        RegisterReferenceNumberResult
    );
    method!(method::CONFIRM_BULK, ConfirmBulkParams, ConfirmBulkResult);
    method!(
        method::FETCH_MEDICAL_INFO,
        FetchMedicalInfoParams,
        FetchMedicalInfoResult
    );
    method!(method::PULL_BULK, PullBulkParams, PullBulkResult);
    method!(method::VERIFY_CARD_PIN, VerifyCardPinParams, VerifyCardPinResult);
    method!(method::SHUTDOWN, Empty, Empty);
    let error = generator.subschema_for::<RpcError>();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://onshi-harness.invalid/schema/onshi-driver-1.json",
        "title": "onshi-driver/1",
        "description": "JSON-RPC 2.0 methods the harness calls on a client adapter. Each line on the adapter's stdin is a request {jsonrpc, id, method, params}; the adapter answers one line {jsonrpc, id, result} or {jsonrpc, id, error}.",
        "x-methods": methods,
        "x-error": error,
        "$defs": generator.take_definitions(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_names_are_the_documented_strings() {
        for o in [
            Outcome::Valid,
            Outcome::Invalid,
            Outcome::InvalidNewQualification,
            Outcome::NotFound,
            Outcome::Multiple,
            Outcome::Error,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), Value::String(o.as_str().into()));
        }
    }

    #[test]
    fn unknown_result_fields_are_ignored_for_forward_compatibility() {
        let r: ConfirmQualificationResult =
            serde_json::from_str(r#"{"outcome":"valid","message":"","extra":1,"record":{"name":"x","more":true}}"#)
                .unwrap();
        assert_eq!(r.record.unwrap().name.as_deref(), Some("x"));
    }

    #[test]
    fn schema_lists_every_method() {
        let schema = json_schema();
        let methods = schema["x-methods"].as_object().unwrap();
        for m in [
            "initialize",
            "reset",
            "confirm_qualification",
            "import_face",
            "register_reference_number",
            "confirm_bulk",
            "fetch_medical_info",
            "verify_card_pin",
            "shutdown",
        ] {
            assert!(methods.contains_key(m), "{m}");
        }
        assert!(schema["$defs"]["Card"].is_object());
    }
}
