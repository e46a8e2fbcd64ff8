//! Message kinds and typed read/write: bytes ⇄ [`XmlRecord`] through the XML layer.

use thiserror::Error;

use crate::filename::{Direction, Extension, Family, FileName, Step};
use crate::model::{Child, ModelError, QualificationRequest, QualificationResult, XmlRecord};
use crate::order::{self, ElementOrder};
use crate::xml::{self, DecodeError, Document, EncodeError, Limits, TextEncoding, WriteOptions};

/// The message kinds this version models: every request and XML result of the folder
/// interface (the body of `CIPsiquc` is not public, so it has no kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// `OQSsiquc01req` — 資格確認要求.
    QualificationRequest,
    /// `OQSsiquc01res` — 資格確認結果.
    QualificationResult,
    /// `OQSsiquc01res_face_*` — face-reader result.
    FaceResult,
    /// `OQSsiimm01req` — 照会番号登録要求.
    ReferenceRegistrationRequest,
    /// `OQSsiimm01res` — 照会番号登録結果.
    ReferenceRegistrationResult,
    /// `OQSmuimm01req` — 照会番号一括登録要求.
    BulkRegistrationRequest,
    /// `OQSmuquc01req` — 資格確認一括照会要求.
    BulkConfirmRequest,
    /// `OQSmutic01req` — 医療扶助 一括取得要求.
    MedicalAidPullRequest,
    /// `OQSmuhvq01req` — 訪問診療 一括取得要求.
    HomeVisitPullRequest,
    /// `OQSmuonq01req` — オンライン診療 一括取得要求.
    OnlinePullRequest,
    /// `OQSmu*01res` — 一括 アップロード結果 (ReceptionNumber).
    BulkUploadResult,
    /// `OQSmu*02req` — 一括 ダウンロード要求.
    BulkDownloadRequest,
    /// `OQSmuimm02res` — 照会番号一括登録結果.
    BulkRegistrationResult,
    /// `OQSmuquc02res` and the pulls' `02res` — 一括照会結果.
    BulkConfirmResult,
    /// `YZKsiquc01req` — 薬剤情報 閲覧要求.
    DrugInfoRequest,
    /// `TKKsiquc01req` — 特定健診情報 閲覧要求.
    CheckupInfoRequest,
    /// `YZKsiquc01res_*.xml` — 薬剤情報.
    DrugInfoResult,
    /// `TKKsiquc01res_*.xml` — 特定健診情報.
    CheckupInfoResult,
}

/// A file name whose family is not modelled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{name}: {family} ({title}) messages are not modelled: their layout is not public")]
pub struct UnsupportedFamily {
    /// The file name.
    pub name: String,
    /// Its family.
    pub family: Family,
    /// The family's title.
    pub title: &'static str,
}

impl MessageKind {
    /// The elements a message of this kind must have, with a value — the one declaration
    /// the lint checks and docs/checks.md lists. `a/b/c`: that element; `List/*/leaf`: in every
    /// item of a list; `parent/Item+/leaf`: at least one `Item`, each with `leaf`.
    pub fn required_elements(self) -> &'static [&'static str] {
        match self {
            MessageKind::QualificationRequest => &[
                "MessageHeader/QualificationConfirmationDate",
                "MessageHeader/MedicalInstitutionCode",
                "MessageBody/QualificationConfirmSearchInfo/InsurerNumber",
                "MessageBody/QualificationConfirmSearchInfo/InsuredIdentificationNumber",
                "MessageBody/QualificationConfirmSearchInfo/Birthdate",
                "MessageBody/QualificationConfirmSearchInfo/LimitApplicationCertificateRelatedConsFlg",
            ],
            MessageKind::QualificationResult | MessageKind::FaceResult => &[
                "MessageHeader/ProcessExecutionTime",
                "MessageHeader/QualificationConfirmationDate",
                "MessageHeader/MedicalInstitutionCode",
                "MessageHeader/ReferenceClassification",
                "MessageHeader/SegmentOfResult",
                "MessageHeader/CharacterCodeIdentifier",
                "MessageBody/ResultList/*/InsuredCardClassification",
                "MessageBody/ResultList/*/Name",
                "MessageBody/ResultList/*/Sex1",
                "MessageBody/ResultList/*/Birthdate",
                "MessageBody/ResultList/*/InsurerName",
            ],
            MessageKind::ReferenceRegistrationRequest => &[
                "MessageHeader/MedicalInstitutionCode",
                "MessageBody/ReferenceNumberRegistrationInfo/ReferenceNumber",
                "MessageBody/ReferenceNumberRegistrationInfo/InsurerNumber",
                "MessageBody/ReferenceNumberRegistrationInfo/InsuredIdentificationNumber",
            ],
            MessageKind::BulkRegistrationRequest => &[
                "MessageHeader/MedicalInstitutionCode",
                "MessageBody/ReferenceNumberRegistrationInfo+/ReferenceNumber",
                "MessageBody/ReferenceNumberRegistrationInfo+/InsurerNumber",
                "MessageBody/ReferenceNumberRegistrationInfo+/InsuredIdentificationNumber",
            ],
            MessageKind::BulkConfirmRequest => &[
                "MessageHeader/QualificationConfirmationDate",
                "MessageHeader/MedicalInstitutionCode",
                "MessageBody/QualificationConfirmSearchInfo+/InsurerNumber",
                "MessageBody/QualificationConfirmSearchInfo+/InsuredIdentificationNumber",
                "MessageBody/QualificationConfirmSearchInfo+/Birthdate",
                "MessageBody/QualificationConfirmSearchInfo+/LimitApplicationCertificateRelatedConsFlg",
            ],
            MessageKind::MedicalAidPullRequest => &[
                "MessageHeader/MedicalInstitutionCode",
                "MessageBody/QualificationConfirmSearchInfo/MedicalTreatmentMonth",
            ],
            MessageKind::HomeVisitPullRequest => &[
                "MessageHeader/MedicalInstitutionCode",
                "MessageBody/QualificationConfirmSearchInfo/ConsentDateFrom",
                "MessageBody/QualificationConfirmSearchInfo/ConsentDateTo",
                "MessageBody/QualificationConfirmSearchInfo/MedicalTreatmentFlag",
            ],
            MessageKind::OnlinePullRequest => &[
                "MessageHeader/MedicalInstitutionCode",
                "MessageBody/QualificationConfirmSearchInfo/MedicalTreatmentFlag",
            ],
            MessageKind::BulkUploadResult => &[
                "MessageHeader/ProcessExecutionTime",
                "MessageHeader/MedicalInstitutionCode",
                "MessageHeader/CharacterCodeIdentifier",
            ],
            MessageKind::BulkDownloadRequest => {
                &["MessageHeader/MedicalInstitutionCode", "MessageBody/ReceptionNumber"]
            }
            MessageKind::ReferenceRegistrationResult => &[
                "MessageHeader/ProcessExecutionTime",
                "MessageHeader/MedicalInstitutionCode",
                "MessageHeader/SegmentOfResult",
                "MessageHeader/CharacterCodeIdentifier",
            ],
            MessageKind::BulkRegistrationResult | MessageKind::BulkConfirmResult => &[
                "MessageHeader/ProcessExecutionTime",
                "MessageHeader/MedicalInstitutionCode",
                "MessageHeader/ReceptionNumber",
                "MessageHeader/SegmentOfResult",
                "MessageHeader/CharacterCodeIdentifier",
            ],
            MessageKind::DrugInfoRequest => &[
                "MessageHeader/MedicalInstitutionCode",
                "MessageHeader/InsurerNumber",
                "MessageHeader/InsuredPersonIdentificationNumber",
                "MessageBody/StartDate",
                "MessageBody/EndDate",
                "MessageBody/FileCategory",
                "MessageBody/MedicalTreatmentFlag",
            ],
            MessageKind::CheckupInfoRequest => &[
                "MessageHeader/MedicalInstitutionCode",
                "MessageHeader/InsurerNumber",
                "MessageHeader/InsuredPersonIdentificationNumber",
                "MessageBody/FileCategory",
                "MessageBody/MedicalTreatmentFlag",
            ],
            MessageKind::DrugInfoResult | MessageKind::CheckupInfoResult => &[
                "MessageHeader/ProcessExecutionTime",
                "MessageHeader/MedicalInstitutionCode",
                "MessageHeader/ResultCode",
                "MessageHeader/CharacterCodeIdentifier",
            ],
        }
    }

    /// Every kind.
    pub const ALL: [MessageKind; 18] = [
        MessageKind::QualificationRequest,
        MessageKind::QualificationResult,
        MessageKind::FaceResult,
        MessageKind::ReferenceRegistrationRequest,
        MessageKind::ReferenceRegistrationResult,
        MessageKind::BulkRegistrationRequest,
        MessageKind::BulkConfirmRequest,
        MessageKind::MedicalAidPullRequest,
        MessageKind::HomeVisitPullRequest,
        MessageKind::OnlinePullRequest,
        MessageKind::BulkUploadResult,
        MessageKind::BulkDownloadRequest,
        MessageKind::BulkRegistrationResult,
        MessageKind::BulkConfirmResult,
        MessageKind::DrugInfoRequest,
        MessageKind::CheckupInfoRequest,
        MessageKind::DrugInfoResult,
        MessageKind::CheckupInfoResult,
    ];

    /// The kind's title, with its file-name prefix.
    pub fn title(self) -> &'static str {
        match self {
            MessageKind::QualificationRequest => "OQSsiquc01req 資格確認要求 (eligibility request)",
            MessageKind::QualificationResult => "OQSsiquc01res 資格確認結果 (eligibility result)",
            MessageKind::FaceResult => "OQSsiquc01res_face 顔認証結果 (face-reader result)",
            MessageKind::ReferenceRegistrationRequest => {
                "OQSsiimm01req 照会番号登録要求 (reference-number registration)"
            }
            MessageKind::ReferenceRegistrationResult => {
                "OQSsiimm01res 照会番号登録結果 (reference-number registration result)"
            }
            MessageKind::BulkRegistrationRequest => {
                "OQSmuimm01req 照会番号一括登録要求 (bulk reference-number registration)"
            }
            MessageKind::BulkConfirmRequest => "OQSmuquc01req 資格確認一括照会要求 (bulk eligibility request)",
            MessageKind::MedicalAidPullRequest => "OQSmutic01req 医療扶助 一括取得要求 (medical-aid bulk request)",
            MessageKind::HomeVisitPullRequest => "OQSmuhvq01req 訪問診療 一括取得要求 (home-visit bulk request)",
            MessageKind::OnlinePullRequest => {
                "OQSmuonq01req オンライン診療 一括取得要求 (online-consultation bulk request)"
            }
            MessageKind::BulkUploadResult => "OQSmu…01res アップロード結果 (bulk upload result)",
            MessageKind::BulkDownloadRequest => "OQSmu…02req ダウンロード要求 (bulk download request)",
            MessageKind::BulkRegistrationResult => "OQSmuimm02res 照会番号一括登録結果 (bulk registration result)",
            MessageKind::BulkConfirmResult => "OQSmu…02res 一括照会結果 (bulk result)",
            MessageKind::DrugInfoRequest => "YZKsiquc01req 薬剤情報 閲覧要求 (drug information request)",
            MessageKind::CheckupInfoRequest => "TKKsiquc01req 特定健診情報 閲覧要求 (health check-up request)",
            MessageKind::DrugInfoResult => "YZKsiquc01res 薬剤情報 (drug information)",
            MessageKind::CheckupInfoResult => "TKKsiquc01res 特定健診情報 (health check-up information)",
        }
    }

    /// The schema of the root's children.
    pub fn schema(self) -> &'static [Child] {
        use crate::model as m;
        match self {
            MessageKind::QualificationRequest => QualificationRequest::CHILDREN,
            MessageKind::QualificationResult | MessageKind::FaceResult => QualificationResult::CHILDREN,
            MessageKind::ReferenceRegistrationRequest => m::ReferenceRegistrationRequest::CHILDREN,
            MessageKind::ReferenceRegistrationResult => m::ReferenceRegistrationResult::CHILDREN,
            MessageKind::BulkRegistrationRequest => m::BulkRegistrationRequest::CHILDREN,
            MessageKind::BulkConfirmRequest => m::BulkConfirmRequest::CHILDREN,
            MessageKind::MedicalAidPullRequest | MessageKind::HomeVisitPullRequest | MessageKind::OnlinePullRequest => {
                m::BulkPullRequest::CHILDREN
            }
            MessageKind::BulkUploadResult => m::BulkUploadResult::CHILDREN,
            MessageKind::BulkDownloadRequest => m::BulkDownloadRequest::CHILDREN,
            MessageKind::BulkRegistrationResult => m::BulkRegistrationResult::CHILDREN,
            MessageKind::BulkConfirmResult => m::BulkConfirmResult::CHILDREN,
            MessageKind::DrugInfoRequest | MessageKind::CheckupInfoRequest => m::MedicalInfoRequest::CHILDREN,
            MessageKind::DrugInfoResult => m::DrugResult::CHILDREN,
            MessageKind::CheckupInfoResult => m::CheckupResult::CHILDREN,
        }
    }

    /// Whether the terminal writes this kind (as opposed to the client).
    pub fn is_result(self) -> bool {
        matches!(
            self,
            MessageKind::QualificationResult
                | MessageKind::FaceResult
                | MessageKind::ReferenceRegistrationResult
                | MessageKind::BulkUploadResult
                | MessageKind::BulkRegistrationResult
                | MessageKind::BulkConfirmResult
                | MessageKind::DrugInfoResult
                | MessageKind::CheckupInfoResult
        )
    }

    /// The kind a request or result name announces. `.err`, `.pdf` and `.zip` files are not
    /// XML messages (`Ok(None)`).
    pub fn for_file_name(name: &FileName) -> Result<Option<MessageKind>, UnsupportedFamily> {
        let m = match name {
            FileName::Face(_) => return Ok(Some(MessageKind::FaceResult)),
            FileName::Message(m) => m,
        };
        if m.extension != Extension::Xml {
            return Ok(None);
        }
        use Direction::{Request as Req, Result as Res};
        use Family as F;
        use Step::{First, Second};
        Ok(Some(match (m.family, m.step, m.direction) {
            (F::OqsSiQuc, First, Req) => MessageKind::QualificationRequest,
            (F::OqsSiQuc, First, Res) => MessageKind::QualificationResult,
            (F::OqsSiImm, First, Req) => MessageKind::ReferenceRegistrationRequest,
            (F::OqsSiImm, First, Res) => MessageKind::ReferenceRegistrationResult,
            (F::OqsMuImm, First, Req) => MessageKind::BulkRegistrationRequest,
            (F::OqsMuQuc, First, Req) => MessageKind::BulkConfirmRequest,
            (F::OqsMuTic, First, Req) => MessageKind::MedicalAidPullRequest,
            (F::OqsMuHvq, First, Req) => MessageKind::HomeVisitPullRequest,
            (F::OqsMuOnq, First, Req) => MessageKind::OnlinePullRequest,
            (f, First, Res) if f.is_bulk() => MessageKind::BulkUploadResult,
            (f, Second, Req) if f.is_bulk() => MessageKind::BulkDownloadRequest,
            (F::OqsMuImm, Second, Res) => MessageKind::BulkRegistrationResult,
            (f, Second, Res) if f.is_bulk() => MessageKind::BulkConfirmResult,
            (F::YzkSiQuc, First, Req) => MessageKind::DrugInfoRequest,
            (F::TkkSiQuc, First, Req) => MessageKind::CheckupInfoRequest,
            (F::YzkSiQuc, First, Res) => MessageKind::DrugInfoResult,
            (F::TkkSiQuc, First, Res) => MessageKind::CheckupInfoResult,
            (family, ..) => {
                return Err(UnsupportedFamily {
                    name: m.to_string(),
                    family,
                    title: family.title(),
                });
            }
        }))
    }

    /// Guesses the kind from content, for files whose name says nothing.
    pub fn sniff(root: &xml::Element) -> MessageKind {
        let header = root.child("MessageHeader");
        let body = root.child("MessageBody");
        let has = |name| header.and_then(|h| h.child(name)).is_some();
        let body_has = |name| body.and_then(|b| b.child(name)).is_some();
        if has("InsuredPersonIdentificationNumber") || has("InsuranceCardSymbol") || has("BranchNumber") {
            return if body_has("StartDate") {
                MessageKind::DrugInfoRequest
            } else {
                MessageKind::CheckupInfoRequest
            };
        }
        if has("QuaInf") {
            return MessageKind::DrugInfoResult;
        }
        if has("QualificationsInfo") {
            return MessageKind::CheckupInfoResult;
        }
        let result = has("ProcessExecutionTime") || has("SegmentOfResult");
        if body_has("BulkConfirmUnit") {
            return MessageKind::BulkConfirmResult;
        }
        if body_has("BulkRegistrationUnit") {
            return MessageKind::BulkRegistrationResult;
        }
        if body_has("ReferenceNumberRegistrationInfo") {
            let n = body.map_or(0, |b| b.children_named("ReferenceNumberRegistrationInfo").count());
            return match (result, n) {
                (true, _) => MessageKind::ReferenceRegistrationResult,
                (false, 1) => MessageKind::ReferenceRegistrationRequest,
                (false, _) => MessageKind::BulkRegistrationRequest,
            };
        }
        if body_has("ReceptionNumber") {
            return if result {
                MessageKind::BulkUploadResult
            } else {
                MessageKind::BulkDownloadRequest
            };
        }
        if !result {
            let info = body.and_then(|b| b.child("QualificationConfirmSearchInfo"));
            let info_has = |name| info.and_then(|i| i.child(name)).is_some();
            if info_has("MedicalTreatmentMonth") {
                return MessageKind::MedicalAidPullRequest;
            }
            if info_has("MedicalTreatmentFlag") {
                let flag = info
                    .and_then(|i| i.child("MedicalTreatmentFlag"))
                    .map(|f| f.text.trim());
                return if flag == Some("2") {
                    MessageKind::HomeVisitPullRequest
                } else {
                    MessageKind::OnlinePullRequest
                };
            }
            let n = body.map_or(0, |b| b.children_named("QualificationConfirmSearchInfo").count());
            return if n > 1 {
                MessageKind::BulkConfirmRequest
            } else {
                MessageKind::QualificationRequest
            };
        }
        match header
            .and_then(|h| h.child("ReferenceClassification"))
            .map(|e| e.text.as_str())
        {
            Some("1") => MessageKind::FaceResult,
            _ => MessageKind::QualificationResult,
        }
    }
}

/// Encoding and element order of a written message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XmlOptions {
    /// The text encoding.
    pub encoding: TextEncoding,
    /// The order of the elements.
    pub order: ElementOrder,
}

/// Why bytes could not be read as a typed message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error(transparent)]
    /// The bytes are not a well-formed message.
    Decode(#[from] DecodeError),
    #[error(transparent)]
    /// The message does not fit the model.
    Model(#[from] ModelError),
}

/// Writes a typed message.
pub fn write_message<T: XmlRecord>(message: &T, options: &XmlOptions) -> Result<Vec<u8>, EncodeError> {
    let mut el = message.to_element();
    order::apply(&mut el, options.order, T::CHILDREN);
    xml::encode(
        &el,
        &WriteOptions {
            encoding: options.encoding,
            indent: true,
        },
    )
}

/// Reads a typed message, tolerant of element order and omitted optional elements.
pub fn read_message<T: XmlRecord>(bytes: &[u8], limits: &Limits) -> Result<(T, Document), ReadError> {
    let doc = xml::decode(bytes, limits)?;
    let message = T::from_root(&doc.root)?;
    Ok((message, doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element a kind requires is one the dictionary knows (so the lint can name it with
    /// its Japanese label), and every request kind requires the institution code.
    #[test]
    fn required_elements_are_known_elements() {
        for kind in MessageKind::ALL {
            for path in kind.required_elements() {
                for part in path.split('/').filter(|p| *p != "*") {
                    let name = part.trim_end_matches('+');
                    assert!(
                        crate::dictionary::info(name).is_some(),
                        "{kind:?}: {name} (in {path}) is not in the dictionary"
                    );
                }
            }
            assert!(
                kind.required_elements()
                    .contains(&"MessageHeader/MedicalInstitutionCode"),
                "{kind:?} does not require the institution code"
            );
        }
    }
}
