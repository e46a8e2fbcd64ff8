//! 照会番号登録 — registering a clinic's reference numbers (patient ids) for people, single
//! (`OQSsiimm01`, OQS-IF-003/004) and bulk (`OQSmuimm01/02`, OQS-IF-009…012). Afterwards the
//! person's face results carry the `ReferenceNumber`.

use serde::{Deserialize, Serialize};

use super::{Child, Field, FieldKind, MessageHeader, ModelError, Repeated, XmlRecord};
use crate::codes;
use crate::xml::Element;

xml_record! {
    /// 照会番号登録情報 — one person's card and the clinic's reference number.
    pub struct ReferenceNumberRegistrationInfo = "ReferenceNumberRegistrationInfo" {
        reference_number: String = "ReferenceNumber",
        insurer_number: String = "InsurerNumber",
        insured_card_symbol: String = "InsuredCardSymbol",
        insured_identification_number: String = "InsuredIdentificationNumber",
        insured_branch_number: String = "InsuredBranchNumber",
    }
}

xml_record! {
    /// Body of `OQSsiimm01req`.
    pub struct ReferenceRegistrationRequestBody = "MessageBody" {
        reference_number_registration_info: ReferenceNumberRegistrationInfo = "ReferenceNumberRegistrationInfo",
    }
}

xml_record! {
    /// `OQSsiimm01req` — 照会番号登録要求 (OQS-IF-003).
    pub struct ReferenceRegistrationRequest = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: ReferenceRegistrationRequestBody = "MessageBody",
    }
}

xml_record! {
    /// Body of `OQSsiimm01res`.
    pub struct ReferenceRegistrationResultBody = "MessageBody" {
        reference_number_registration_info: ReferenceNumberRegistrationInfo = "ReferenceNumberRegistrationInfo",
        processing_result_status: codes::ProcessingResultStatus = "ProcessingResultStatus",
        processing_result_code: String = "ProcessingResultCode",
        processing_result_message: String = "ProcessingResultMessage",
    }
}

xml_record! {
    /// `OQSsiimm01res` — 照会番号登録結果 (OQS-IF-004).
    pub struct ReferenceRegistrationResult = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: ReferenceRegistrationResultBody = "MessageBody",
    }
}

xml_record! {
    /// Body of `OQSmuimm01req`: one `ReferenceNumberRegistrationInfo` per person.
    pub struct BulkRegistrationRequestBody = "MessageBody" {
        reference_number_registration_info: Repeated<ReferenceNumberRegistrationInfo> = "ReferenceNumberRegistrationInfo",
    }
}

xml_record! {
    /// `OQSmuimm01req` — 照会番号一括登録要求 (OQS-IF-009).
    pub struct BulkRegistrationRequest = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: BulkRegistrationRequestBody = "MessageBody",
    }
}

xml_record! {
    /// 一括登録結果単位 — one person's outcome in `OQSmuimm02res`.
    pub struct BulkRegistrationUnit = "BulkRegistrationUnit" {
        reference_number_registration_info: ReferenceNumberRegistrationInfo = "ReferenceNumberRegistrationInfo",
        processing_result_status: codes::ProcessingResultStatus = "ProcessingResultStatus",
        processing_result_code: String = "ProcessingResultCode",
        processing_result_message: String = "ProcessingResultMessage",
    }
}

xml_record! {
    /// Body of `OQSmuimm02res`.
    pub struct BulkRegistrationResultBody = "MessageBody" {
        bulk_registration_unit: Repeated<BulkRegistrationUnit> = "BulkRegistrationUnit",
    }
}

xml_record! {
    /// `OQSmuimm02res` — 照会番号一括登録結果 (OQS-IF-012).
    pub struct BulkRegistrationResult = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: BulkRegistrationResultBody = "MessageBody",
    }
}
