//! The synthetic error-code catalogue.
//!
//! 別紙6-1 (処理結果コード) is not public, so every `ErrorCode`, `ProcessingResultCode` and
//! `.err` text the World emits comes from this catalogue. The embedded default
//! (`fixtures/synthetic-error-codes.toml`) marks every code `SYN-`; users can load their own
//! file with real values.

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

/// The situations the World reports with an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKey {
    /// A request file that cannot be decoded or parsed (the `.err` convention).
    RequestUnreadable,
    /// A request of a family the terminal does not serve.
    RequestUnsupported,
    /// A required element is missing.
    RequestMissingElement,
    /// A value is malformed (institution code, insurer number, date, …).
    RequestInvalidValue,
    /// The request's MedicalInstitutionCode is not the terminal's.
    RequestInstitutionMismatch,
    /// The national system cannot be reached.
    UpstreamUnavailable,
    /// The result cannot be written in the terminal's output encoding.
    ResultUnencodable,
    /// API login without a client certificate.
    ApiLoginNoCertificate,
    /// API login with a certificate the system does not accept (unknown CA, expired, …).
    ApiLoginBadCertificate,
    /// API login with credentials the system does not accept.
    ApiLoginBadCredentials,
    /// An API request without a token.
    ApiTokenMissing,
    /// An API request with an unknown, expired or revoked token, or in the wrong header form.
    ApiTokenInvalid,
    /// An API request that is not well-formed (length, JSON, types).
    ApiBadRequest,
    /// An API path that does not exist.
    ApiNotFound,
    /// The API cannot answer now (5xx).
    ApiServiceUnavailable,
    /// 照会番号登録: no person holds the card.
    ReferencePersonNotFound,
    /// 照会番号登録: the card data match several people (no 枝番).
    ReferencePersonAmbiguous,
    /// 照会番号登録: the reference number is used for another person.
    ReferenceNumberInUse,
    /// A bulk download for a ReceptionNumber the system does not know (or another institution's).
    BulkUnknownReception,
    /// 薬剤情報 / 特定健診情報: the patient's consent is missing or expired.
    MedicalInfoNoConsent,
    /// 薬剤情報 / 特定健診情報: no person holds the card.
    MedicalInfoPersonNotFound,
    /// A terminal that fails to write its answer (disk full) — journaled, never written.
    TerminalWriteFailed,
    /// Face-auth reader: the card does not answer as a JPKI card (【001】).
    ReaderCardUnreadable,
    /// Face-auth reader: not a My Number card, e.g. a 住基カード (【002】).
    ReaderNotMyNumberCard,
    /// Face-auth reader: the 利用者証明用電子証明書 is expired or revoked (【006】).
    ReaderCertificateInvalid,
    /// Face-auth reader: the PIN is locked.
    ReaderPinLocked,
    /// Face-auth reader: the card has no PIN (顔認証マイナンバーカード) and PIN entry was chosen.
    ReaderPinNotSet,
    /// Face-auth reader: wrong PINs, tries left, the patient gave up.
    ReaderPinFailed,
    /// Face-auth reader: the face did not match and no visual check followed.
    ReaderFaceNotMatched,
    /// Face-auth reader: the card was taken away mid-flow.
    ReaderCardRemoved,
}

impl ErrorKey {
    /// Every key.
    pub const ALL: [ErrorKey; 30] = [
        ErrorKey::RequestUnreadable,
        ErrorKey::RequestUnsupported,
        ErrorKey::RequestMissingElement,
        ErrorKey::RequestInvalidValue,
        ErrorKey::RequestInstitutionMismatch,
        ErrorKey::UpstreamUnavailable,
        ErrorKey::ResultUnencodable,
        ErrorKey::ApiLoginNoCertificate,
        ErrorKey::ApiLoginBadCertificate,
        ErrorKey::ApiLoginBadCredentials,
        ErrorKey::ApiTokenMissing,
        ErrorKey::ApiTokenInvalid,
        ErrorKey::ApiBadRequest,
        ErrorKey::ApiNotFound,
        ErrorKey::ApiServiceUnavailable,
        ErrorKey::ReferencePersonNotFound,
        ErrorKey::ReferencePersonAmbiguous,
        ErrorKey::ReferenceNumberInUse,
        ErrorKey::BulkUnknownReception,
        ErrorKey::MedicalInfoNoConsent,
        ErrorKey::MedicalInfoPersonNotFound,
        ErrorKey::TerminalWriteFailed,
        ErrorKey::ReaderCardUnreadable,
        ErrorKey::ReaderNotMyNumberCard,
        ErrorKey::ReaderCertificateInvalid,
        ErrorKey::ReaderPinLocked,
        ErrorKey::ReaderPinNotSet,
        ErrorKey::ReaderPinFailed,
        ErrorKey::ReaderFaceNotMatched,
        ErrorKey::ReaderCardRemoved,
    ];

    /// The key's name in the catalogue file.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKey::RequestUnreadable => "request-unreadable",
            ErrorKey::RequestUnsupported => "request-unsupported",
            ErrorKey::RequestMissingElement => "request-missing-element",
            ErrorKey::RequestInvalidValue => "request-invalid-value",
            ErrorKey::RequestInstitutionMismatch => "request-institution-mismatch",
            ErrorKey::UpstreamUnavailable => "upstream-unavailable",
            ErrorKey::ResultUnencodable => "result-unencodable",
            ErrorKey::ApiLoginNoCertificate => "api-login-no-certificate",
            ErrorKey::ApiLoginBadCertificate => "api-login-bad-certificate",
            ErrorKey::ApiLoginBadCredentials => "api-login-bad-credentials",
            ErrorKey::ApiTokenMissing => "api-token-missing",
            ErrorKey::ApiTokenInvalid => "api-token-invalid",
            ErrorKey::ApiBadRequest => "api-bad-request",
            ErrorKey::ApiNotFound => "api-not-found",
            ErrorKey::ApiServiceUnavailable => "api-service-unavailable",
            ErrorKey::ReferencePersonNotFound => "reference-person-not-found",
            ErrorKey::ReferencePersonAmbiguous => "reference-person-ambiguous",
            ErrorKey::ReferenceNumberInUse => "reference-number-in-use",
            ErrorKey::BulkUnknownReception => "bulk-unknown-reception",
            ErrorKey::MedicalInfoNoConsent => "medical-info-no-consent",
            ErrorKey::MedicalInfoPersonNotFound => "medical-info-person-not-found",
            ErrorKey::TerminalWriteFailed => "terminal-write-failed",
            ErrorKey::ReaderCardUnreadable => "reader-card-unreadable",
            ErrorKey::ReaderNotMyNumberCard => "reader-not-my-number-card",
            ErrorKey::ReaderCertificateInvalid => "reader-certificate-invalid",
            ErrorKey::ReaderPinLocked => "reader-pin-locked",
            ErrorKey::ReaderPinNotSet => "reader-pin-not-set",
            ErrorKey::ReaderPinFailed => "reader-pin-failed",
            ErrorKey::ReaderFaceNotMatched => "reader-face-not-matched",
            ErrorKey::ReaderCardRemoved => "reader-card-removed",
        }
    }
}

/// A code and its message template.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorText {
    /// The error code.
    pub code: String,
    /// Its message.
    pub message: String,
}

/// A code with its message filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The error code.
    pub code: String,
    /// Its message.
    pub message: String,
    /// How a SegmentOfResult 9 answer carrying it is shaped.
    pub shape: ErrorShape,
}

/// The shape of a SegmentOfResult 9 — 異常終了 answer. Not public; chosen from evidence
/// (docs/world.md, "Error answers").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorShape {
    /// The header's ErrorCode and ErrorMessage, and ProcessingResultStatus 2 — エラー in the
    /// body: strict validators written from real answers require ProcessingResultStatus in
    /// every answer.
    #[default]
    Status,
    /// The header's ErrorCode and ErrorMessage only (the harness's answers until 2026-12).
    HeaderOnly,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    error_answer_shape: ErrorShape,
    codes: BTreeMap<String, ErrorText>,
}

/// Why a catalogue file cannot be used.
#[derive(Debug, Error)]
pub enum CatalogueError {
    #[error("{origin}: {source}")]
    /// The file is not TOML of the catalogue's shape.
    Syntax {
        /// The file.
        origin: String,
        #[source]
        /// The error.
        source: toml::de::Error,
    },
    #[error("{origin}: unknown entry [codes.{key}] (known: {known})")]
    /// An entry the catalogue does not know.
    UnknownKey {
        /// The file.
        origin: String,
        /// The key.
        key: String,
        /// The known keys.
        known: String,
    },
    #[error("{origin}: entry [codes.{key}] is missing")]
    /// An entry the catalogue needs is missing.
    MissingKey {
        /// The file.
        origin: String,
        /// The key.
        key: &'static str,
    },
}

/// The catalogue of synthetic (or user-supplied) error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCatalogue {
    entries: BTreeMap<ErrorKey, ErrorText>,
    /// How SegmentOfResult 9 answers are shaped.
    pub shape: ErrorShape,
}

/// The embedded synthetic error codes, as text (an evidence bundle keeps the codes a run used).
pub const DEFAULT: &str = include_str!("../../../fixtures/synthetic-error-codes.toml");

impl Default for ErrorCatalogue {
    fn default() -> Self {
        ErrorCatalogue::parse(DEFAULT, "embedded synthetic-error-codes.toml").expect("embedded catalogue is valid")
    }
}

impl ErrorCatalogue {
    /// Parses a catalogue; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CatalogueError> {
        let file: CatalogueFile = toml::from_str(text).map_err(|source| CatalogueError::Syntax {
            origin: origin.to_owned(),
            source,
        })?;
        let mut entries = BTreeMap::new();
        for (name, text) in file.codes {
            let key =
                ErrorKey::ALL
                    .into_iter()
                    .find(|k| k.name() == name)
                    .ok_or_else(|| CatalogueError::UnknownKey {
                        origin: origin.to_owned(),
                        key: name.clone(),
                        known: ErrorKey::ALL.map(ErrorKey::name).join(", "),
                    })?;
            entries.insert(key, text);
        }
        if let Some(missing) = ErrorKey::ALL.into_iter().find(|k| !entries.contains_key(k)) {
            return Err(CatalogueError::MissingKey {
                origin: origin.to_owned(),
                key: missing.name(),
            });
        }
        Ok(ErrorCatalogue {
            entries,
            shape: file.error_answer_shape,
        })
    }

    /// The code and message for `key`, with `{detail}` filled in.
    pub fn answer(&self, key: ErrorKey, detail: &str) -> ErrorAnswer {
        let text = &self.entries[&key];
        ErrorAnswer {
            code: text.code.clone(),
            message: text.message.replace("{detail}", detail),
            shape: self.shape,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_is_complete_and_marked_synthetic() {
        let c = ErrorCatalogue::default();
        for key in ErrorKey::ALL {
            let a = c.answer(key, "x");
            assert!(a.code.starts_with("SYN-"), "{key:?}: {}", a.code);
            assert!(a.message.contains("合成"), "{key:?}");
        }
        assert!(
            c.answer(ErrorKey::RequestMissingElement, "Birthdate")
                .message
                .contains("Birthdate")
        );
    }

    #[test]
    fn bad_catalogues_name_the_problem() {
        let e = ErrorCatalogue::parse("[codes.nope]\ncode='1'\nmessage='m'", "mine.toml").unwrap_err();
        assert!(
            e.to_string().contains("mine.toml") && e.to_string().contains("nope"),
            "{e}"
        );
        let e = ErrorCatalogue::parse("[codes]", "mine.toml").unwrap_err();
        assert!(matches!(e, CatalogueError::MissingKey { .. }), "{e}");
        let e = ErrorCatalogue::parse("codes = 1", "mine.toml").unwrap_err();
        assert!(matches!(e, CatalogueError::Syntax { .. }), "{e}");
    }
}
