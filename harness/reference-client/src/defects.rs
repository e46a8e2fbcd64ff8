//! The deliberate defects: each a real wrong behaviour seen (or easily made) in clinic
//! software, each with the case that must catch it and the check ID it must fail with. The
//! mutation-matrix test runs the suite once per defect and holds the suite to this table.

use std::fmt;
use std::str::FromStr;

use onshi_protocol::{CheckId, ids};

/// A deliberate defect of the reference client. Each variant is described once, in
/// [`DEFECTS`] (its `--defect` name, the wrong behaviour and the cases that catch it), and
/// in docs/cases.md, which is generated from it.
#[allow(missing_docs)] // described in DEFECTS, not twice
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defect {
    AnyResultValid,
    NewQualificationAsValid,
    IgnoreValidity,
    FirstOfMany,
    MissingResultListIsError,
    GenericErrorMessage,
    IgnoreNotice,
    HouseholderName,
    Utf8OnlyReader,
    GetaSubstitution,
    AssumesSpecOrder,
    RequiresSymbol,
    ZeroPadInsurer,
    TrimInsurer,
    BranchDefault00,
    DropLimitConsent,
    IgnoreElderly,
    SjisUnderUtf8Declaration,
    InPlaceWrite,
    ResendStorm,
    NoTimeout,
    IgnoreReferenceNumber,
    EagerFaceRead,
    ContentLengthChars,
    InstitutionCodeBoolean,
    NeverRelogin,
    RetryStorm,
    ApiNoTimeout,
    BearerPrefix,
    IgnoreLoginFailure,
    LoginStorm,
    ResultListAsObject,
    RawParseError,
    NoRetry,
    TrustHttp200,
    ReuseResultName,
    EagerResultRead,
    NoEchoCheck,
    AnyNewFile,
    IgnoreZip,
    Bulk02Before01,
    ProcessingAsError,
    Poll100ms,
    ZeroPadReference,
    DrugWithoutConsent,
    PdfAsXml,
    FirstItemOnly,
    StrictCodeTables,
    KeepResults,
    ReimportFaces,
    SlowFaceImport,
    CardByAtr,
    NoTriesLeft,
    RetryWrongPin,
    LockedAsWrongPin,
    ShortCertRead,
    ReconnectBeforeSign,
    RemovedAsError,
    CrashOnErrorAnswer,
    CrashOnBadLogin,
    NoLoginRetry,
    LoginEverySearch,
    KeepaliveNoReconnect,
}

/// What a defect does and what must catch it.
#[derive(Debug, Clone, Copy)]
pub struct DefectInfo {
    /// The defect.
    pub defect: Defect,
    /// The `--defect` name.
    pub name: &'static str,
    /// The wrong behaviour, as a vendor would recognise it.
    pub behaviour: &'static str,
    /// The cases that must fail, each with the check it must fail. The first is the case the
    /// defect was made for. Every case not listed must pass.
    pub catches: &'static [Catch],
}

/// A case that catches a defect, and the check it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Catch {
    /// The case's ID.
    pub case: &'static str,
    /// The check it fails (a declared check ID: an undeclared one does not compile).
    pub check: CheckId,
}

const fn c(case: &'static str, check: CheckId) -> Catch {
    Catch { case, check }
}

/// The API cases in which the client searches: a defect in every search request fails each.
const API_SEARCHES: [&str; 19] = [
    "API-QUAL-001",
    "API-QUAL-002",
    "API-QUAL-003",
    "API-QUAL-004",
    "API-QUAL-005",
    "API-SYMBOL-001",
    "API-TOKEN-001",
    "API-TOKEN-002",
    "API-BUSY-001",
    "API-MAINT-001",
    "API-RESET-001",
    "API-SLOW-001",
    "API-MALFORMED-001",
    "API-PAD-001",
    "API-ERR-001",
    "API-AUTH-BUSY-001",
    "API-AUTH-RESET-001",
    "API-TOKEN-003",
    "API-KEEPALIVE-001",
];

/// The same check failing in each of `cases`.
const fn each<const N: usize>(cases: [&'static str; N], check: CheckId) -> [Catch; N] {
    let mut out = [c("", check); N];
    let mut i = 0;
    while i < N {
        out[i] = c(cases[i], check);
        i += 1;
    }
    out
}

/// The API cases in which no login succeeds (refused, or answered with something else).
const API_LOGINS: [&str; 5] = [
    "API-LOGIN-001",
    "API-LOGIN-002",
    "API-LOGIN-003",
    "API-AUTH-JSON-001",
    "API-AUTH-MAINT-001",
];

/// Catches that depend on timing under load: the case fails with the check when two of the
/// rush's reception PCs happen to wait for a result at the same moment, and passes when they
/// do not. The mutation matrix accepts either; these are not counted as proofs.
pub const LOAD_DEPENDENT: &[(&str, Catch)] = &[
    // one PC takes the other's result, the other waits in vain
    ("any-new-file", c("RUSH-SLO-001", ids::RUSH_ERRORS)),
];

/// Every defect, with what it does and the cases that must catch it.
pub const DEFECTS: &[DefectInfo] = &[
    DefectInfo {
        defect: Defect::AnyResultValid,
        name: "any-result-valid",
        behaviour: "treats any result file as a valid qualification, without looking at SegmentOfResult, ProcessingResultStatus or QualificationValidity",
        // It never reads the result, so every non-valid answer and every message is lost.
        catches: &[
            c("FILE-ERR-001", ids::OUT_ERROR),
            c("FILE-QUAL-002", ids::OUT_INVALID),
            c("FILE-QUAL-003", ids::OUT_NEWQUAL),
            c("FILE-QUAL-004", ids::OUT_NOTFOUND),
            c("FILE-QUAL-005", ids::OUT_MULTIPLE),
            c("FILE-ERR-002", ids::OUT_ERROR),
            c("FILE-MSG-001", ids::OUT_MESSAGE),
            c("API-QUAL-002", ids::OUT_INVALID),
            c("API-QUAL-003", ids::OUT_NEWQUAL),
            c("API-QUAL-004", ids::OUT_NOTFOUND),
            c("API-QUAL-005", ids::OUT_MULTIPLE),
            c("API-TOKEN-002", ids::OUT_INVALID),
            c("BULK-CARD-001", ids::BULK_RESULT),
            c("BULK-QUAL-001", ids::BULK_RESULT),
            c("TERM-COLLIDE-001", ids::OUT_VALID),
            c("FACE-PIN-001", ids::OUT_INVALID),
            c("FACE-LOCKED-001", ids::OUT_ERROR),
            c("FACE-REVOKED-001", ids::OUT_ERROR),
            c("FACE-JUKI-001", ids::OUT_ERROR),
            c("API-ERR-001", ids::OUT_ERROR),
            c("API-TOKEN-003", ids::OUT_INVALID),
            c("API-KEEPALIVE-001", ids::OUT_INVALID),
        ],
    },
    DefectInfo {
        defect: Defect::NewQualificationAsValid,
        name: "newqual-as-valid",
        behaviour: "reads QualificationValidity 3 — 無効（新しい資格あり） as valid",
        catches: &[
            c("FILE-QUAL-003", ids::OUT_NEWQUAL),
            c("API-QUAL-003", ids::OUT_NEWQUAL),
            c("BULK-QUAL-001", ids::BULK_RESULT),
        ],
    },
    DefectInfo {
        defect: Defect::IgnoreValidity,
        name: "ignore-validity",
        behaviour: "concludes 'valid' from ProcessingResultStatus 1 alone and never reads QualificationValidity",
        catches: &[
            c("FILE-QUAL-002", ids::OUT_INVALID),
            c("FILE-QUAL-003", ids::OUT_NEWQUAL),
            c("FILE-QUAL-004", ids::OUT_NOTFOUND),
            c("FILE-QUAL-005", ids::OUT_MULTIPLE),
            c("API-QUAL-002", ids::OUT_INVALID),
            c("API-QUAL-003", ids::OUT_NEWQUAL),
            c("API-QUAL-004", ids::OUT_NOTFOUND),
            c("API-QUAL-005", ids::OUT_MULTIPLE),
            c("API-TOKEN-002", ids::OUT_INVALID),
            c("BULK-CARD-001", ids::BULK_RESULT),
            c("BULK-QUAL-001", ids::BULK_RESULT),
            c("FACE-PIN-001", ids::OUT_INVALID),
            c("API-TOKEN-003", ids::OUT_INVALID),
            c("API-KEEPALIVE-001", ids::OUT_INVALID),
        ],
    },
    DefectInfo {
        defect: Defect::FirstOfMany,
        name: "first-of-many",
        behaviour: "takes ResultList[0] when QualificationValidity is 5 — 複数該当, registering one of several people",
        catches: &[
            c("FILE-QUAL-005", ids::OUT_MULTIPLE),
            c("API-QUAL-005", ids::OUT_MULTIPLE),
            c("BULK-CARD-001", ids::BULK_RESULT),
        ],
    },
    DefectInfo {
        defect: Defect::MissingResultListIsError,
        name: "missing-resultlist-is-error",
        behaviour: "treats an answer without ResultList as a broken file, so QualificationValidity 4 — 該当資格なし becomes an error",
        catches: &[
            c("FILE-QUAL-004", ids::OUT_NOTFOUND),
            c("API-QUAL-004", ids::OUT_NOTFOUND),
            c("BULK-QUAL-001", ids::BULK_RESULT),
        ],
    },
    DefectInfo {
        defect: Defect::GenericErrorMessage,
        name: "generic-error-message",
        behaviour: "shows its own generic 'error' text instead of the ErrorMessage / ProcessingResultMessage it received",
        catches: &[
            c("REF-ERR-001", ids::REG_RESULT),
            c("FILE-ERR-002", ids::OUT_MESSAGE),
            c("FILE-ERR-001", ids::OUT_MESSAGE),
            c("FACE-LOCKED-001", ids::OUT_MESSAGE),
            c("FACE-REVOKED-001", ids::OUT_MESSAGE),
            c("FACE-JUKI-001", ids::OUT_MESSAGE),
            c("API-ERR-001", ids::OUT_MESSAGE),
        ],
    },
    DefectInfo {
        defect: Defect::IgnoreNotice,
        name: "ignore-notice",
        behaviour: "drops the ProcessingResultMessage of a successful answer (supplementary information the receptionist must see)",
        catches: &[c("FILE-MSG-001", ids::OUT_MESSAGE)],
    },
    DefectInfo {
        defect: Defect::HouseholderName,
        name: "householder-name",
        behaviour: "stores InsuredName (被保険者氏名, the householder) as the patient's name",
        catches: &[
            c("FILE-QUAL-001", ids::REC_NAME),
            c("API-QUAL-001", ids::REC_NAME),
            c("API-TOKEN-001", ids::REC_NAME),
            c("BULK-SJIS-001", ids::BULK_RESULT),
            c("FACE-VISUAL-001", ids::REC_NAME),
            c("BULK-ZIP-001", ids::BULK_RESULT),
            c("TERM-TWICE-001", ids::REC_NAME),
        ],
    },
    DefectInfo {
        defect: Defect::Utf8OnlyReader,
        name: "utf8-only-reader",
        behaviour: "reads every result file as UTF-8 whatever its declaration says",
        catches: &[c("FILE-ENC-001", ids::REC_NAME), c("BULK-SJIS-001", ids::BULK_RESULT)],
    },
    DefectInfo {
        defect: Defect::GetaSubstitution,
        name: "geta-substitution",
        behaviour: "stores names through Shift_JIS and replaces characters it cannot hold with 〓",
        catches: &[c("FILE-ENC-002", ids::REC_NAME)],
    },
    DefectInfo {
        defect: Defect::AssumesSpecOrder,
        name: "assumes-spec-order",
        behaviour: "stops reading the header at CharacterCodeIdentifier, its last element in spec order",
        catches: &[c("FILE-ORDER-001", ids::OUT_VALID)],
    },
    DefectInfo {
        defect: Defect::RequiresSymbol,
        name: "requires-symbol",
        behaviour: "rejects a result without InsuredCardSymbol (被保険者証記号), an optional element",
        catches: &[
            c("FILE-OPT-001", ids::OUT_VALID),
            c("FILE-KOUKI-001", ids::OUT_VALID),
            c("FACE-AID-001", ids::OUT_VALID),
            c("PULL-AID-001", ids::PULL_RESULT),
            c("PULL-VISIT-001", ids::PULL_RESULT),
            c("PULL-ZIP-001", ids::PULL_RESULT),
            // the burst's 後期高齢者 patients have no symbol
            c("RUSH-SLO-001", ids::RUSH_ERRORS),
        ],
    },
    DefectInfo {
        defect: Defect::ZeroPadInsurer,
        name: "zero-pad-insurer",
        behaviour: "pads a 6-digit 国保 insurer number with zeros (\"00990015\") instead of spaces",
        catches: &[
            c("FILE-PAD-001", ids::MSG_INS_002),
            c("BULK-CARD-001", ids::BULK_CARD),
            c("API-PAD-001", ids::MSG_INS_002),
        ],
    },
    DefectInfo {
        defect: Defect::TrimInsurer,
        name: "trim-insurer",
        behaviour: "stores the insurer number with its leading spaces trimmed",
        catches: &[c("FILE-PAD-001", ids::REC_INSURER), c("API-PAD-001", ids::REC_INSURER)],
    },
    DefectInfo {
        defect: Defect::BranchDefault00,
        name: "branch-default-00",
        behaviour: "sends InsuredBranchNumber 00 for a card that has no branch number",
        // Twins queried without 枝番 get "00" too, which matches neither twin.
        catches: &[
            c("FILE-KOUKI-001", ids::REQ_CARD),
            c("FILE-QUAL-005", ids::OUT_MULTIPLE),
            c("API-QUAL-005", ids::OUT_MULTIPLE),
            c("BULK-CARD-001", ids::BULK_CARD),
            // the burst's 後期高齢者 patients have no branch number
            c("RUSH-SLO-001", ids::RUSH_ERRORS),
        ],
    },
    DefectInfo {
        defect: Defect::DropLimitConsent,
        name: "drop-limit-consent",
        behaviour: "always sends LimitApplicationCertificateRelatedConsFlg 0, ignoring the patient's consent",
        catches: &[c("FILE-LIMIT-001", ids::REQ_CONSENT)],
    },
    DefectInfo {
        defect: Defect::IgnoreElderly,
        name: "ignore-elderly",
        behaviour: "does not store the 高齢受給者証 (ElderlyRecipientCertificateInfo), so the co-payment is billed at the wrong ratio",
        catches: &[c("FILE-ELDERLY-001", ids::REC_BENEFIT)],
    },
    DefectInfo {
        defect: Defect::SjisUnderUtf8Declaration,
        name: "sjis-under-utf8-declaration",
        behaviour: "writes Shift_JIS bytes under a UTF-8 XML declaration",
        // the burst's generated patients carry half-width kana symbols (ｹﾝｼｮｳ…)
        catches: &[
            c("FILE-LINT-001", ids::MSG_ENC_001),
            c("RUSH-SLO-001", ids::RUSH_ERRORS),
        ],
    },
    DefectInfo {
        defect: Defect::InPlaceWrite,
        name: "in-place-write",
        behaviour: "writes the request directly under its final name, in two chunks",
        catches: &[c("FILE-ATOMIC-001", ids::FS_REQ_ATOMIC)],
    },
    DefectInfo {
        defect: Defect::ResendStorm,
        name: "resend-storm",
        behaviour: "writes the request again every second while it waits for the answer",
        catches: &[
            c("FILE-DUP-001", ids::FS_REQ_DUP),
            c("TERM-NEVER-001", ids::OUT_TIMEOUT),
            c("TERM-WRITEFAIL-001", ids::OUT_TIMEOUT),
        ],
    },
    DefectInfo {
        defect: Defect::NoTimeout,
        name: "no-timeout",
        behaviour: "waits for a result forever",
        catches: &[
            c("FILE-TIMEOUT-001", ids::OUT_TIMEOUT),
            c("TERM-NEVER-001", ids::OUT_TIMEOUT),
            c("TERM-LATE-001", ids::OUT_TIMEOUT),
            c("TERM-WRITEFAIL-001", ids::OUT_TIMEOUT),
        ],
    },
    DefectInfo {
        defect: Defect::IgnoreReferenceNumber,
        name: "ignore-reference-number",
        behaviour: "does not read the ReferenceNumber (照会番号) of a face result",
        catches: &[
            c("REF-SINGLE-001", ids::FACE_REFNUM),
            c("FILE-FACE-001", ids::FACE_REFNUM),
        ],
    },
    DefectInfo {
        defect: Defect::EagerFaceRead,
        name: "eager-face-read",
        behaviour: "parses a face file as soon as it exists, before the reader finished writing it",
        catches: &[c("FILE-FACE-002", ids::FACE_STABLE_READ)],
    },
    DefectInfo {
        defect: Defect::ContentLengthChars,
        name: "content-length-chars",
        behaviour: "counts Content-Length in characters instead of bytes, so a body with non-ASCII text is cut short",
        catches: &[c("API-SYMBOL-001", ids::API_LEN_001)],
    },
    DefectInfo {
        defect: Defect::InstitutionCodeBoolean,
        name: "institution-code-boolean",
        behaviour: "sends MedicalInstitutionCode as the JSON boolean true instead of a 10-digit string",
        // Every search carries it; the mock reads `true` as its text, an impossible code.
        catches: &each(API_SEARCHES, ids::API_TYPE_001),
    },
    DefectInfo {
        defect: Defect::NeverRelogin,
        name: "never-relogin",
        behaviour: "never logs in again: once its token expires every search fails",
        catches: &[
            c("API-TOKEN-001", ids::OUT_VALID),
            c("API-TOKEN-002", ids::OUT_INVALID),
            c("API-TOKEN-003", ids::OUT_VALID),
        ],
    },
    DefectInfo {
        defect: Defect::RetryStorm,
        name: "retry-storm",
        behaviour: "retries a failed request at once and without limit, ignoring Retry-After",
        // Against a maintenance page that never ends it loops until its deadline.
        catches: &[
            c("API-BUSY-001", ids::API_RETRY_001),
            c("API-MAINT-001", ids::API_STORM_001),
        ],
    },
    DefectInfo {
        defect: Defect::ApiNoTimeout,
        name: "api-no-timeout",
        behaviour: "waits for an HTTP answer forever",
        catches: &[c("API-SLOW-001", ids::OUT_TIMEOUT)],
    },
    DefectInfo {
        defect: Defect::BearerPrefix,
        name: "bearer-prefix",
        behaviour: "sends `Authorization: Bearer <token>`; the API takes the bare idToken",
        catches: &each(API_SEARCHES, ids::API_AUTH_002),
    },
    DefectInfo {
        defect: Defect::IgnoreLoginFailure,
        name: "ignore-login-failure",
        behaviour: "goes on to search without a token after the login was refused, and shows the search's error instead of the login's",
        catches: &each(API_LOGINS, ids::API_AUTH_001),
    },
    DefectInfo {
        defect: Defect::LoginStorm,
        name: "login-storm",
        behaviour: "tries a refused login again and again (a certificate does not get better by retrying)",
        catches: &[
            c("API-LOGIN-002", ids::API_STORM_001),
            c("API-LOGIN-001", ids::API_STORM_001),
            c("API-LOGIN-003", ids::API_STORM_001),
            c("API-AUTH-JSON-001", ids::API_STORM_001),
            c("API-AUTH-MAINT-001", ids::API_STORM_001),
        ],
    },
    DefectInfo {
        defect: Defect::ResultListAsObject,
        name: "resultlist-as-object",
        behaviour: "reads ResultList as one object (the XML shape) instead of the API's array of wrapper objects",
        // It finds no result in any answer with a ResultList.
        catches: &[
            c("API-QUAL-001", ids::OUT_VALID),
            c("API-QUAL-002", ids::OUT_INVALID),
            c("API-QUAL-003", ids::OUT_NEWQUAL),
            c("API-SYMBOL-001", ids::OUT_VALID),
            c("API-TOKEN-001", ids::OUT_VALID),
            c("API-TOKEN-002", ids::OUT_VALID),
            c("API-BUSY-001", ids::OUT_VALID),
            c("API-RESET-001", ids::OUT_VALID),
            c("API-AUTH-BUSY-001", ids::OUT_VALID),
            c("API-AUTH-RESET-001", ids::OUT_VALID),
            c("API-PAD-001", ids::OUT_VALID),
            c("API-TOKEN-003", ids::OUT_INVALID),
            c("API-KEEPALIVE-001", ids::OUT_VALID),
        ],
    },
    DefectInfo {
        defect: Defect::RawParseError,
        name: "raw-parse-error",
        behaviour: "parses an HTML error page as JSON and shows the parser's error instead of the HTTP status",
        catches: &[
            c("API-MAINT-001", ids::OUT_MESSAGE),
            c("API-AUTH-MAINT-001", ids::OUT_MESSAGE),
        ],
    },
    DefectInfo {
        defect: Defect::NoRetry,
        name: "no-retry",
        behaviour: "gives up at the first network error (a reset connection) instead of trying again",
        catches: &[
            c("API-RESET-001", ids::OUT_VALID),
            c("API-AUTH-RESET-001", ids::OUT_VALID),
            c("API-KEEPALIVE-001", ids::OUT_VALID),
        ],
    },
    DefectInfo {
        defect: Defect::TrustHttp200,
        name: "trust-http-200",
        behaviour: "takes any HTTP 200 answer as a valid qualification without reading it",
        // It never reads an answer: no non-valid outcome and no record survives.
        catches: &[
            c("API-MALFORMED-001", ids::OUT_ERROR),
            c("API-QUAL-001", ids::REC_NAME),
            c("API-QUAL-002", ids::OUT_INVALID),
            c("API-QUAL-003", ids::OUT_NEWQUAL),
            c("API-QUAL-004", ids::OUT_NOTFOUND),
            c("API-QUAL-005", ids::OUT_MULTIPLE),
            c("API-SYMBOL-001", ids::REC_CARD),
            c("API-TOKEN-001", ids::REC_NAME),
            c("API-TOKEN-002", ids::OUT_INVALID),
            c("API-ERR-001", ids::OUT_ERROR),
            c("API-PAD-001", ids::REC_INSURER),
            c("API-TOKEN-003", ids::OUT_INVALID),
            c("API-KEEPALIVE-001", ids::OUT_INVALID),
        ],
    },
    // The folder conventions and the families beyond 資格確認.
    DefectInfo {
        defect: Defect::ReuseResultName,
        name: "reuse-result-name",
        behaviour: "numbers requests `yyyyMMdd` + a counter from 0001 without looking in res/, so it reuses a name whose old result is still there",
        catches: &[c("TERM-STALE-001", ids::FS_NAME_REUSE)],
    },
    DefectInfo {
        defect: Defect::EagerResultRead,
        name: "eager-result-read",
        behaviour: "parses a result as soon as its name exists, before the terminal finished writing it",
        catches: &[c("TERM-SLOW-001", ids::RES_STABLE_READ)],
    },
    DefectInfo {
        defect: Defect::NoEchoCheck,
        name: "no-echo-check",
        behaviour: "takes the file under the result name without checking that it echoes its MedicalInstitutionCode and ArbitraryFileIdentifier",
        catches: &[c("TERM-COLLIDE-001", ids::OUT_VALID)],
    },
    DefectInfo {
        defect: Defect::AnyNewFile,
        name: "any-new-file",
        behaviour: "takes the first new result file of the family in res/ as the answer to its pending request, whatever its name or content",
        catches: &[
            c("TERM-COLLIDE-001", ids::OUT_VALID),
            c("TERM-TWICE-001", ids::OUT_VALID),
            c("TERM-LATE-001", ids::OUT_VALID),
        ],
    },
    DefectInfo {
        defect: Defect::IgnoreZip,
        name: "ignore-zip",
        behaviour: "looks only for .xml (and .pdf) results and never sees a bulk result delivered as .zip",
        catches: &[c("BULK-ZIP-001", ids::BULK_RESULT), c("PULL-ZIP-001", ids::PULL_RESULT)],
    },
    DefectInfo {
        defect: Defect::Bulk02Before01,
        name: "bulk-02-before-01",
        behaviour: "writes the download request (02req) right after the upload, before the 01 result gave it a ReceptionNumber",
        catches: &[
            c("BULK-QUAL-001", ids::BULK_ORDER),
            c("BULK-CARD-001", ids::BULK_ORDER),
            c("BULK-SJIS-001", ids::BULK_ORDER),
            c("BULK-ZIP-001", ids::BULK_ORDER),
            c("PULL-AID-001", ids::BULK_ORDER),
            c("PULL-ONLINE-001", ids::BULK_ORDER),
            c("PULL-VISIT-001", ids::BULK_ORDER),
            c("PULL-ZIP-001", ids::BULK_ORDER),
            c("REF-BULK-001", ids::BULK_ORDER),
        ],
    },
    DefectInfo {
        defect: Defect::ProcessingAsError,
        name: "processing-as-error",
        behaviour: "treats SegmentOfResult 2 — 処理中 as a failure instead of asking again later",
        catches: &[
            c("BULK-QUAL-001", ids::BULK_RESULT),
            c("PULL-AID-001", ids::PULL_RESULT),
            c("REF-BULK-001", ids::REG_RESULT),
        ],
    },
    DefectInfo {
        defect: Defect::Poll100ms,
        name: "poll-100ms",
        behaviour: "asks again every 100 ms while the bulk result is 処理中",
        catches: &[
            c("BULK-QUAL-001", ids::BULK_POLL),
            c("PULL-AID-001", ids::BULK_POLL),
            c("REF-BULK-001", ids::BULK_POLL),
        ],
    },
    DefectInfo {
        defect: Defect::ZeroPadReference,
        name: "zero-pad-reference",
        behaviour: "pads 6-digit 国保 insurer numbers with zeros in 照会番号 registrations",
        catches: &[c("REF-KOKUHO-001", ids::REG_CARD)],
    },
    DefectInfo {
        defect: Defect::DrugWithoutConsent,
        name: "drug-without-consent",
        behaviour: "requests 薬剤 / 特定健診 information without checking the patient's consent and its AvailableTime",
        catches: &[
            c("MED-NOCONSENT-001", ids::MED_CONSENT),
            c("MED-EXPIRED-001", ids::MED_CONSENT),
        ],
    },
    DefectInfo {
        defect: Defect::PdfAsXml,
        name: "pdf-as-xml",
        behaviour: "parses a PDF result (FileCategory 1) as XML and reports an error",
        catches: &[c("MED-PDF-001", ids::MED_RESULT)],
    },
    DefectInfo {
        defect: Defect::FirstItemOnly,
        name: "first-item-only",
        behaviour: "reads only the first drug of each dispensing day and the first item of each check-up",
        catches: &[
            c("MED-DRUG-001", ids::MED_RESULT),
            c("MED-CHECKUP-001", ids::MED_RESULT),
        ],
    },
    DefectInfo {
        defect: Defect::StrictCodeTables,
        name: "strict-code-tables",
        behaviour: "knows only the InsuredCardClassification codes of 2021 and rejects a result with A1 (医療券)",
        catches: &[
            c("FACE-AID-001", ids::OUT_VALID),
            c("PULL-AID-001", ids::PULL_RESULT),
            c("PULL-ZIP-001", ids::PULL_RESULT),
        ],
    },
    DefectInfo {
        defect: Defect::KeepResults,
        name: "keep-results",
        behaviour: "never deletes or moves the results and face files it has read",
        catches: &[c("TERM-CLEAN-001", ids::FS_CONSUMED)],
    },
    DefectInfo {
        defect: Defect::ReimportFaces,
        name: "reimport-faces",
        behaviour: "keeps face files and reads every one in the folder again at each import",
        catches: &[
            c("FACE-ONCE-001", ids::FACE_ONCE),
            c("TERM-CLEAN-001", ids::FS_CONSUMED),
        ],
    },
    DefectInfo {
        defect: Defect::SlowFaceImport,
        name: "slow-face-import",
        behaviour: "picks up a face result only 4 s after it appears, like a client that scans the face folder every few seconds",
        catches: &[c("RUSH-SLO-001", ids::RUSH_SLO)],
    },
    DefectInfo {
        defect: Defect::CardByAtr,
        name: "card-by-atr",
        behaviour: "recognises a My Number card by the contact ATR of one card generation instead of selecting the JPKI AID",
        catches: &[c("CARD-AID-001", ids::CARD_AID)],
    },
    DefectInfo {
        defect: Defect::NoTriesLeft,
        name: "no-tries-left",
        behaviour: "reports a wrong PIN without the tries left from 63 Cx",
        catches: &[c("CARD-WRONG-001", ids::CARD_TRIES)],
    },
    DefectInfo {
        defect: Defect::RetryWrongPin,
        name: "retry-wrong-pin",
        behaviour: "sends a rejected PIN a second time 'to be sure', using up another of the patient's tries",
        catches: &[c("CARD-WRONG-001", ids::CARD_NO_RETRY)],
    },
    DefectInfo {
        defect: Defect::LockedAsWrongPin,
        name: "locked-as-wrong-pin",
        behaviour: "reads 69 84 (PIN locked) as an ordinary wrong PIN and asks the patient to try again",
        catches: &[
            c("CARD-LOCKED-001", ids::CARD_LOCKED),
            c("CARD-LASTTRY-001", ids::CARD_LOCKED),
        ],
    },
    DefectInfo {
        defect: Defect::ShortCertRead,
        name: "short-cert-read",
        behaviour: "reads the 利用者証明用電子証明書 with one 256-byte READ BINARY and takes that as the whole certificate",
        catches: &[c("CARD-PIN-001", ids::CARD_CERT), c("CARD-AID-001", ids::CARD_CERT)],
    },
    DefectInfo {
        defect: Defect::ReconnectBeforeSign,
        name: "reconnect-before-sign",
        behaviour: "reconnects to the card (power cycle) between VERIFY and the signature, losing the verified PIN",
        catches: &[
            c("CARD-PIN-001", ids::CARD_SESSION),
            c("CARD-AID-001", ids::CARD_SESSION),
            c("CARD-REMOVED-001", ids::CARD_SESSION),
        ],
    },
    DefectInfo {
        defect: Defect::CrashOnErrorAnswer,
        name: "crash-on-error-answer",
        behaviour: "crashes (exits with an unhandled exception) on an answer with SegmentOfResult 9 — 異常終了 instead of reporting the error",
        catches: &[
            c("FILE-ERR-001", ids::CLIENT_CRASH),
            c("FACE-LOCKED-001", ids::CLIENT_CRASH),
            c("FACE-REVOKED-001", ids::CLIENT_CRASH),
            c("FACE-JUKI-001", ids::CLIENT_CRASH),
        ],
    },
    DefectInfo {
        defect: Defect::CrashOnBadLogin,
        name: "crash-on-bad-login",
        behaviour: "crashes (an unhandled JSON parse exception) when the login answer is not JSON",
        catches: &[
            c("API-AUTH-JSON-001", ids::CLIENT_CRASH),
            c("API-AUTH-MAINT-001", ids::CLIENT_CRASH),
        ],
    },
    DefectInfo {
        defect: Defect::NoLoginRetry,
        name: "no-login-retry",
        behaviour: "gives up when the login is answered 503 (busy, Retry-After) instead of waiting and logging in again",
        catches: &[c("API-AUTH-BUSY-001", ids::OUT_VALID)],
    },
    DefectInfo {
        defect: Defect::LoginEverySearch,
        name: "login-every-search",
        behaviour: "logs in again before every search instead of keeping its token for the next patient",
        // against a maintenance page every retried search comes with a login: a login storm
        catches: &[
            c("API-TOKEN-003", ids::API_TOKEN_REUSE),
            c("API-MAINT-001", ids::API_STORM_001),
        ],
    },
    DefectInfo {
        defect: Defect::KeepaliveNoReconnect,
        name: "keepalive-no-reconnect",
        behaviour: "keeps its API connection alive but goes on using it after the server closed it (an answer cut short): the next searches on it fail instead of opening a new one (implies --keep-alive)",
        catches: &[
            c("API-KEEPALIVE-001", ids::OUT_VALID),
            c("API-RESET-001", ids::OUT_VALID),
        ],
    },
    DefectInfo {
        defect: Defect::RemovedAsError,
        name: "removed-as-error",
        behaviour: "reports a card taken out of the reader as a system error instead of 'no card'",
        catches: &[
            c("CARD-REMOVED-001", ids::CARD_REMOVED),
            c("CARD-NOCARD-001", ids::CARD_REMOVED),
        ],
    },
];

impl DefectInfo {
    /// The check the defect must fail `case` with, if the case catches it.
    pub fn check_for(&self, case: &str) -> Option<CheckId> {
        self.catches.iter().find(|c| c.case == case).map(|c| c.check)
    }
}

impl Defect {
    /// What the defect does and what must catch it.
    pub fn info(self) -> &'static DefectInfo {
        DEFECTS
            .iter()
            .find(|d| d.defect == self)
            .expect("every defect is in DEFECTS")
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info().name)
    }
}

impl FromStr for Defect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DEFECTS.iter().find(|d| d.name == s).map(|d| d.defect).ok_or_else(|| {
            format!(
                "unknown defect {s:?}; known: {}",
                DEFECTS.iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for d in DEFECTS {
            assert_eq!(d.name.parse::<Defect>().unwrap(), d.defect);
            assert_eq!(DEFECTS.iter().filter(|x| x.defect == d.defect).count(), 1);
        }
        assert!("nope".parse::<Defect>().unwrap_err().contains("any-result-valid"));
    }
}
