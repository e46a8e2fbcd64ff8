//! The bulk flows: 資格確認一括照会 (`OQSmuquc01/02`, OQS-IF-005…008) and the 医療扶助 /
//! 訪問診療 / オンライン診療 pulls (`OQSmutic`, `OQSmuhvq`, `OQSmuonq`). Every bulk flow is
//! upload (`01req`) → `ReceptionNumber` (`01res`) → download request (`02req`) → the result
//! (`02res`, SegmentOfResult 2 処理中 until it is ready). The 照会番号 bulk flow shares the
//! upload result and the download request; its own records are in `reference`.

use serde::{Deserialize, Serialize};

use super::{
    Child, Field, FieldKind, MessageHeader, ModelError, QualificationConfirmSearchInfo, Repeated,
    ResultOfQualificationConfirmation, XmlRecord,
};
use crate::codes;
use crate::xml::Element;

xml_record! {
    /// Body of `OQSmuquc01req`: one `QualificationConfirmSearchInfo` per person (each with its
    /// `ArbitraryIdentifier`).
    pub struct BulkConfirmRequestBody = "MessageBody" {
        qualification_confirm_search_info: Repeated<QualificationConfirmSearchInfo> = "QualificationConfirmSearchInfo",
    }
}

xml_record! {
    /// `OQSmuquc01req` — 資格確認一括照会要求 (OQS-IF-005).
    pub struct BulkConfirmRequest = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: BulkConfirmRequestBody = "MessageBody",
    }
}

xml_record! {
    /// The search of a bulk pull: which people a 医療扶助 / 訪問診療 / オンライン診療 pull
    /// returns.
    pub struct BulkPullSearchInfo = "QualificationConfirmSearchInfo" {
        medical_treatment_month: String = "MedicalTreatmentMonth",
        consent_date_from: String = "ConsentDateFrom",
        consent_date_to: String = "ConsentDateTo",
        examination_date_from: String = "ExaminationDateFrom",
        examination_date_to: String = "ExaminationDateTo",
        medical_treatment_flag: codes::MedicalTreatmentFlag = "MedicalTreatmentFlag",
    }
}

xml_record! {
    /// Body of `OQSmutic01req`, `OQSmuhvq01req`, `OQSmuonq01req`.
    pub struct BulkPullRequestBody = "MessageBody" {
        qualification_confirm_search_info: BulkPullSearchInfo = "QualificationConfirmSearchInfo",
    }
}

xml_record! {
    /// `OQSmutic01req` / `OQSmuhvq01req` / `OQSmuonq01req` — bulk pulls (OQS-IF-013/017/021).
    pub struct BulkPullRequest = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: BulkPullRequestBody = "MessageBody",
    }
}

xml_record! {
    /// Body of every bulk `01res`: the reception of the upload (not yet its result).
    pub struct BulkUploadResultBody = "MessageBody" {
        reception_number: String = "ReceptionNumber",
        reception_date_time: String = "ReceptionDateTime",
        processing_result_status: codes::ProcessingResultStatus = "ProcessingResultStatus",
        processing_result_code: String = "ProcessingResultCode",
        processing_result_message: String = "ProcessingResultMessage",
    }
}

xml_record! {
    /// Every bulk `01res` — アップロード結果.
    pub struct BulkUploadResult = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: BulkUploadResultBody = "MessageBody",
    }
}

xml_record! {
    /// Body of every bulk `02req`.
    pub struct BulkDownloadRequestBody = "MessageBody" {
        reception_number: String = "ReceptionNumber",
    }
}

xml_record! {
    /// Every bulk `02req` — ダウンロード要求: the result of an upload, by its `ReceptionNumber`.
    pub struct BulkDownloadRequest = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: BulkDownloadRequestBody = "MessageBody",
    }
}

xml_record! {
    /// 一括照会結果単位 — one person in a bulk result (`OQSmuquc02res` and the pulls' 02res).
    pub struct BulkConfirmUnit = "BulkConfirmUnit" {
        qualification_confirm_search_info: QualificationConfirmSearchInfo = "QualificationConfirmSearchInfo",
        processing_result_status: codes::ProcessingResultStatus = "ProcessingResultStatus",
        processing_result_code: String = "ProcessingResultCode",
        processing_result_message: String = "ProcessingResultMessage",
        qualification_validity: codes::QualificationValidity = "QualificationValidity",
        result_of_qualification_confirmation: Repeated<ResultOfQualificationConfirmation> =
            "ResultOfQualificationConfirmation",
        reference_number: String = "ReferenceNumber",
    }
}

xml_record! {
    /// Body of a bulk `02res` (except 照会番号).
    pub struct BulkConfirmResultBody = "MessageBody" {
        bulk_confirm_unit: Repeated<BulkConfirmUnit> = "BulkConfirmUnit",
    }
}

xml_record! {
    /// `OQSmuquc02res` (OQS-IF-008) and the pulls' `02res` — 一括照会結果. The header carries
    /// `ReceptionNumber`, `SegmentOfResult` (2 while processing) and the counts.
    pub struct BulkConfirmResult = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: BulkConfirmResultBody = "MessageBody",
    }
}
