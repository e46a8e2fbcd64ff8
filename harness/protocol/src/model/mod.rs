//! Typed messages of the folder interface.
//!
//! Each record is declared once with `xml_record!`: the Rust struct, its XML element
//! names, their spec (logical) order and the schema the lint walks all come from that one
//! list. Every field is optional so that a message missing required elements still reads —
//! saying what is missing is the lint's job, not the reader's. Values are kept as written
//! (strings and code enums with an `Unknown` variant): the harness must be able to show a
//! client's exact bytes back to it.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codes::{self, Code};
use crate::xml::Element;

/// An insurer number (保険者番号) — the one place that knows how the interface writes it: 8
/// characters, a 6-digit 国保 number right-aligned with two half-width spaces, never zeros
/// (MSG-INS-002); the card prints it without the spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct InsurerNumber(String);

impl InsurerNumber {
    /// The number as printed on a card (6 or 8 digits).
    pub fn from_printed(printed: &str) -> InsurerNumber {
        InsurerNumber(format!("{:>8}", printed.trim()))
    }

    /// The 8 characters the interface carries.
    pub fn interface(&self) -> &str {
        &self.0
    }

    /// The number as printed on the card.
    pub fn printed(&self) -> &str {
        self.0.trim_start()
    }
}

impl std::fmt::Display for InsurerNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A printed insurer number (6 or 8 digits) the way the interface carries it
/// ([`InsurerNumber::from_printed`]).
pub fn interface_insurer_number(printed: &str) -> String {
    InsurerNumber::from_printed(printed).0
}

/// What kind of element a field is, for the lint's schema walk.
#[derive(Debug, Clone, Copy)]
pub enum FieldKind {
    /// A leaf with a value.
    Value,
    /// A record with these children.
    Record(&'static [Child]),
    /// A wrapper element holding repeated `item` records.
    List {
        /// The item element's name.
        item: &'static str,
        /// The item's children.
        children: &'static [Child],
    },
    /// A record that may appear several times directly in its parent (no wrapper).
    Repeated(&'static [Child]),
}

/// A child element of a record: its name and kind.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    /// The element's name.
    pub name: &'static str,
    /// What kind of element it is.
    pub kind: FieldKind,
}

/// Why an element tree does not fit the typed model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    #[error("line {line}: <{element}> should hold a value but contains elements")]
    /// A value was expected, an element with children was found.
    ExpectedValue {
        /// The element.
        element: String,
        /// The line.
        line: u32,
    },
    #[error("the root element is <{found}>, expected <{expected}>")]
    /// The root element is not the message's.
    WrongRoot {
        /// What was found.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// A field type: a value (string or code) or a nested record or list.
pub trait Field: Sized {
    /// What kind of element the type is.
    const KIND: FieldKind;
    /// Reads it from an element.
    fn read(el: &Element) -> Result<Self, ModelError>;
    /// Writes it as an element named `name`.
    fn write(&self, name: &'static str) -> Element;

    /// Reads the field out of its parent: the first child named `name` (a repeated field
    /// reads them all).
    fn read_in(parent: &Element, name: &str) -> Result<Option<Self>, ModelError> {
        parent.child(name).map(Self::read).transpose()
    }

    /// Adds the field to its parent.
    fn write_in(&self, parent: &mut Element, name: &'static str) {
        parent.children.push(self.write(name));
    }
}

impl Field for String {
    const KIND: FieldKind = FieldKind::Value;
    fn read(el: &Element) -> Result<Self, ModelError> {
        if !el.is_leaf() {
            return Err(ModelError::ExpectedValue {
                element: el.name.clone(),
                line: el.line,
            });
        }
        Ok(el.text.clone())
    }
    fn write(&self, name: &'static str) -> Element {
        Element::leaf(name, self.clone())
    }
}

impl<T: Code> Field for T {
    const KIND: FieldKind = FieldKind::Value;
    fn read(el: &Element) -> Result<Self, ModelError> {
        String::read(el).map(|s| T::from_code(&s))
    }
    fn write(&self, name: &'static str) -> Element {
        Element::leaf(name, self.code())
    }
}

/// A record: an element whose children are named fields.
pub trait XmlRecord: Field + Default {
    /// The root element's name.
    const ELEMENT: &'static str;
    /// Its children, in the specification's order.
    const CHILDREN: &'static [Child];

    /// The message as its root element.
    fn to_element(&self) -> Element {
        self.write(Self::ELEMENT)
    }

    /// Reads a root element, checking its name.
    fn from_root(el: &Element) -> Result<Self, ModelError> {
        if el.name != Self::ELEMENT {
            return Err(ModelError::WrongRoot {
                found: el.name.clone(),
                expected: Self::ELEMENT,
            });
        }
        Self::read(el)
    }
}

/// Declares a record. Field order is the spec order.
macro_rules! xml_record {
    (
        $(#[$meta:meta])*
        pub struct $ty:ident = $xml:literal {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty = $fxml:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $ty {
            $(
                #[doc = concat!("`", $fxml, "`.")]
                $(#[$fmeta])*
                #[serde(rename = $fxml, default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$fty>,
            )*
        }

        impl Field for $ty {
            const KIND: FieldKind = FieldKind::Record(<$ty as XmlRecord>::CHILDREN);
            fn read(el: &Element) -> Result<Self, ModelError> {
                Ok($ty {
                                        $( $field: <$fty as Field>::read_in(el, $fxml)?, )*
                })
            }
            fn write(&self, name: &'static str) -> Element {
                let mut el = Element::new(name);
                                $( if let Some(v) = &self.$field { v.write_in(&mut el, $fxml); } )*
                el
            }
        }

        impl XmlRecord for $ty {
            const ELEMENT: &'static str = $xml;
            const CHILDREN: &'static [Child] = &[
                $( Child { name: $fxml, kind: <$fty as Field>::KIND }, )*
            ];
        }
    };
}

/// Declares a wrapper element holding repeated records. In JSON it is an array of
/// single-key objects (`[{"Item": {…}}, …]`), the shape of the HTTP API.
macro_rules! xml_list {
    ( $(#[$meta:meta])* pub struct $ty:ident = $xml:literal of $item:ty = $ixml:literal; ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $ty(pub Vec<$item>);

        impl Field for $ty {
            const KIND: FieldKind = FieldKind::List {
                item: $ixml,
                children: <$item as XmlRecord>::CHILDREN,
            };
            fn read(el: &Element) -> Result<Self, ModelError> {
                el.children_named($ixml).map(<$item as Field>::read).collect::<Result<_, _>>().map($ty)
            }
            fn write(&self, name: &'static str) -> Element {
                let mut el = Element::new(name);
                el.children.extend(self.0.iter().map(|i| i.write($ixml)));
                el
            }
        }

        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for item in &self.0 {
                    seq.serialize_element(&std::collections::BTreeMap::from([($ixml, item)]))?;
                }
                seq.end()
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let wrapped: Vec<std::collections::BTreeMap<String, $item>> = Deserialize::deserialize(d)?;
                Ok($ty(wrapped.into_iter().flat_map(|m| m.into_values()).collect()))
            }
        }
    };
}

/// A record repeated directly in its parent, without a wrapper element — one
/// `ReferenceNumberRegistrationInfo` per person in a bulk registration, one
/// `BulkConfirmUnit` per person in a bulk result. In JSON, an array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Repeated<T>(pub Vec<T>);

impl<T: XmlRecord> Field for Repeated<T> {
    const KIND: FieldKind = FieldKind::Repeated(T::CHILDREN);

    fn read(el: &Element) -> Result<Self, ModelError> {
        T::read(el).map(|t| Repeated(vec![t]))
    }

    fn write(&self, name: &'static str) -> Element {
        self.0.first().map_or_else(|| Element::new(name), |t| t.write(name))
    }

    fn read_in(parent: &Element, name: &str) -> Result<Option<Self>, ModelError> {
        let items = parent
            .children_named(name)
            .map(T::read)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!items.is_empty()).then_some(Repeated(items)))
    }

    fn write_in(&self, parent: &mut Element, name: &'static str) {
        parent.children.extend(self.0.iter().map(|t| t.write(name)));
    }
}

xml_record! {
    /// `MessageHeader` of every OQS message; which elements appear depends on the family.
    pub struct MessageHeader = "MessageHeader" {
        process_execution_time: String = "ProcessExecutionTime",
        qualification_confirmation_date: String = "QualificationConfirmationDate",
        medical_institution_code: String = "MedicalInstitutionCode",
        arbitrary_file_identifier: String = "ArbitraryFileIdentifier",
        reception_number: String = "ReceptionNumber",
        reference_classification: codes::ReferenceClassification = "ReferenceClassification",
        segment_of_result: codes::SegmentOfResult = "SegmentOfResult",
        error_code: String = "ErrorCode",
        error_message: String = "ErrorMessage",
        number_of_processing_result: String = "NumberOfProcessingResult",
        number_of_normal_processing: String = "NumberOfNormalProcessing",
        number_of_error: String = "NumberOfError",
        character_code_identifier: codes::CharacterCodeIdentifier = "CharacterCodeIdentifier",
    }
}

xml_record! {
    /// 資格確認照会用情報 — the insurance-card data a query is made with.
    pub struct QualificationConfirmSearchInfo = "QualificationConfirmSearchInfo" {
        insurer_number: String = "InsurerNumber",
        insured_card_symbol: String = "InsuredCardSymbol",
        insured_identification_number: String = "InsuredIdentificationNumber",
        insured_branch_number: String = "InsuredBranchNumber",
        birthdate: String = "Birthdate",
        limit_application_certificate_related_cons_flg: codes::LimitConsentFlag =
            "LimitApplicationCertificateRelatedConsFlg",
        arbitrary_identifier: String = "ArbitraryIdentifier",
    }
}

xml_record! {
    /// 高齢受給者証情報.
    pub struct ElderlyRecipientCertificateInfo = "ElderlyRecipientCertificateInfo" {
        certificate_date: String = "ElderlyRecipientCertificateDate",
        valid_start_date: String = "ElderlyRecipientValidStartDate",
        valid_end_date: String = "ElderlyRecipientValidEndDate",
        contribution_ratio: String = "ElderlyRecipientContributionRatio",
    }
}

xml_record! {
    /// 限度額適用認定証関連情報.
    pub struct LimitApplicationCertificateRelatedInfo = "LimitApplicationCertificateRelatedInfo" {
        classification: codes::LimitCertificateClassification = "LimitApplicationCertificateClassification",
        classification_flag: codes::LimitCertificateFlag = "LimitApplicationCertificateClassificationFlag",
        certificate_date: String = "LimitApplicationCertificateDate",
        valid_start_date: String = "LimitApplicationCertificateValidStartDate",
        valid_end_date: String = "LimitApplicationCertificateValidEndDate",
        long_term_date: String = "LimitApplicationCertificateLongTermDate",
    }
}

xml_record! {
    /// 特定疾病療養受療証情報.
    pub struct SpecificDiseasesCertificateInfo = "SpecificDiseasesCertificateInfo" {
        disease_category: codes::SpecificDiseaseCategory = "SpecificDiseasesDiseaseCategory",
        certificate_date: String = "SpecificDiseasesCertificateDate",
        valid_start_date: String = "SpecificDiseasesValidStartDate",
        valid_end_date: String = "SpecificDiseasesValidEndDate",
        self_pay: String = "SpecificDiseasesSelfPay",
    }
}

xml_list! {
    /// `SpecificDiseasesCertificateList`.
    pub struct SpecificDiseasesCertificateList = "SpecificDiseasesCertificateList"
        of SpecificDiseasesCertificateInfo = "SpecificDiseasesCertificateInfo";
}

xml_record! {
    /// 医療券・調剤券 (医療扶助 only). Codes OQSCD018–026 are kept as text.
    pub struct MedicalTicketInfo = "MedicalTicketInfo" {
        ticket_type: String = "TicketType",
        valid_date: String = "MedicalTicketValidDate",
        expiration_date: String = "MedicalTicketExpirationDate",
        issue_number: String = "IssueNumber",
        medical_treatment_month: String = "MedicalTreatmentMonth",
        designated_medical_institution_code: String = "DesignatedMedicalInstitutionCode",
        designated_medical_institution_flag: String = "DesignatedMedicalInstitutionFlag",
        designated_medical_institution_name: String = "DesignatedMedicalInstitutionName",
        prescription_issuer_medical_institution_code: String = "PrescriptionIssuerMedicalInstitutionCode",
        prescription_issuer_medical_institution_name: String = "PrescriptionIssuerMedicalInstitutionName",
        injury_name1: String = "InjuryName1",
        injury_name2: String = "InjuryName2",
        injury_name3: String = "InjuryName3",
        medical_treatment_type: String = "MedicalTreatmentType",
        self_pay_amount: String = "SelfPayAmount",
        district_contact_name: String = "DistrictContactName",
        handling_contact_name: String = "HandlingContactName",
        single_or_combined_use: String = "SingleOrCombinedUse",
        status_of_social_insurance: String = "StatusOfSocialInsurance",
        consistency_flag: String = "ConsistencyFlag",
        status_of_infection: String = "StatusOfInfecton",
        status_of_elderly_medical_care: String = "StatusOfElderlyMedicalCare",
        status_of_prefectural_expenses: String = "StatusOfPrefecturalExpenses",
        remarks1: String = "Remarks1",
        remarks2: String = "Remarks2",
        remarks3: String = "Remarks3",
    }
}

xml_list! {
    /// `PublicExpenseResultList` (医療扶助).
    pub struct PublicExpenseResultList = "PublicExpenseResultList" of MedicalTicketInfo = "MedicalTicketInfo";
}

xml_record! {
    /// 資格確認結果 — one person's qualification, with every element the reference lists.
    pub struct ResultOfQualificationConfirmation = "ResultOfQualificationConfirmation" {
        insured_card_classification: codes::InsuredCardClassification = "InsuredCardClassification",
        insurer_number: String = "InsurerNumber",
        insured_card_symbol: String = "InsuredCardSymbol",
        insured_identification_number: String = "InsuredIdentificationNumber",
        insured_branch_number: String = "InsuredBranchNumber",
        personal_family_classification: codes::PersonalFamilyClassification = "PersonalFamilyClassification",
        insured_name: String = "InsuredName",
        name: String = "Name",
        name_of_other: String = "NameOfOther",
        name_kana: String = "NameKana",
        name_of_other_kana: String = "NameOfOtherKana",
        sex1: codes::Sex = "Sex1",
        sex2: codes::Sex = "Sex2",
        birthdate: String = "Birthdate",
        address: String = "Address",
        post_number: String = "PostNumber",
        qualification_date: String = "QualificationDate",
        disqualification_date: String = "DisqualificationDate",
        insured_certificate_issuance_date: String = "InsuredCertificateIssuanceDate",
        insured_card_valid_date: String = "InsuredCardValidDate",
        insured_card_expiration_date: String = "InsuredCardExpirationDate",
        insured_partial_contribution_ratio: String = "InsuredPartialContributionRatio",
        preschool_classification: codes::PreschoolClassification = "PreschoolClassification",
        reason_of_loss: codes::ReasonOfLoss = "ReasonOfLoss",
        insurer_name: String = "InsurerName",
        public_expense_number: String = "PublicExpenseNumber",
        beneficiary_number: String = "BeneficiaryNumber",
        welfare_office_name: String = "WelfareOfficeName",
        elderly_recipient_certificate_info: ElderlyRecipientCertificateInfo = "ElderlyRecipientCertificateInfo",
        limit_application_certificate_related_cons_flg: codes::LimitConsentFlag =
            "LimitApplicationCertificateRelatedConsFlg",
        limit_application_certificate_related_cons_time: String = "LimitApplicationCertificateRelatedConsTime",
        limit_application_certificate_related_info: LimitApplicationCertificateRelatedInfo =
            "LimitApplicationCertificateRelatedInfo",
        limit_application_certificate_changed: codes::LimitCertificateChanged = "LimitApplicationCertificateChanged",
        specific_diseases_certificate_related_cons_flg: codes::ConsentFlag =
            "SpecificDiseasesCertificateRelatedConsFlg",
        specific_diseases_certificate_related_cons_time: String = "SpecificDiseasesCertificateRelatedConsTime",
        specific_diseases_certificate_list: SpecificDiseasesCertificateList = "SpecificDiseasesCertificateList",
        public_expense_result_list: PublicExpenseResultList = "PublicExpenseResultList",
        specific_health_checkups_info_cons_flg: codes::ConsentFlag = "SpecificHealthCheckupsInfoConsFlg",
        specific_health_checkups_info_cons_time: String = "SpecificHealthCheckupsInfoConsTime",
        specific_health_checkups_info_available_time: String = "SpecificHealthCheckupsInfoAvailableTime",
        pharmacists_info_cons_flg: codes::ConsentFlag = "PharmacistsInfoConsFlg",
        pharmacists_info_cons_time: String = "PharmacistsInfoConsTime",
        pharmacists_info_available_time: String = "PharmacistsInfoAvailableTime",
        diagnosis_info_cons_flg: codes::ConsentFlag = "DiagnosisInfoConsFlg",
        diagnosis_info_cons_time: String = "DiagnosisInfoConsTime",
        diagnosis_info_available_time: String = "DiagnosisInfoAvailableTime",
        operation_info_cons_flg: codes::ConsentFlag = "OperationInfoConsFlg",
        operation_info_cons_time: String = "OperationInfoConsTime",
        operation_info_available_time: String = "OperationInfoAvailableTime",
        reference_number: String = "ReferenceNumber",
        qualification_confirmation_key: String = "QualificationConfirmationKey",
        prescription_issue_select: codes::PrescriptionIssueSelect = "PrescriptionIssueSelect",
        arbitrary_identifier: String = "ArbitraryIdentifier",
    }
}

xml_list! {
    /// `ResultList` — 0..n results (n > 1 with QualificationValidity 5 複数該当).
    pub struct ResultList = "ResultList" of ResultOfQualificationConfirmation = "ResultOfQualificationConfirmation";
}

xml_record! {
    /// Body of `OQSsiquc01req`.
    pub struct QualificationRequestBody = "MessageBody" {
        qualification_confirm_search_info: QualificationConfirmSearchInfo = "QualificationConfirmSearchInfo",
    }
}

xml_record! {
    /// `OQSsiquc01req` — 資格確認要求 by insurance-card data (OQS-IF-001).
    pub struct QualificationRequest = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: QualificationRequestBody = "MessageBody",
    }
}

xml_record! {
    /// Body of `OQSsiquc01res` and of face-reader results.
    pub struct QualificationResultBody = "MessageBody" {
        qualification_confirm_search_info: QualificationConfirmSearchInfo = "QualificationConfirmSearchInfo",
        processing_result_status: codes::ProcessingResultStatus = "ProcessingResultStatus",
        processing_result_code: String = "ProcessingResultCode",
        processing_result_message: String = "ProcessingResultMessage",
        qualification_validity: codes::QualificationValidity = "QualificationValidity",
        result_list: ResultList = "ResultList",
        prescription_issue_select: codes::PrescriptionIssueSelect = "PrescriptionIssueSelect",
    }
}

xml_record! {
    /// `OQSsiquc01res` (OQS-IF-002) and `OQSsiquc01res_face_*` — 資格確認結果.
    pub struct QualificationResult = "XmlMsg" {
        message_header: MessageHeader = "MessageHeader",
        message_body: QualificationResultBody = "MessageBody",
    }
}

mod bulk;
mod medical_info;
mod reference;

pub use bulk::*;
pub use medical_info::*;
pub use reference::*;

impl QualificationResult {
    /// The header.
    pub fn header(&self) -> MessageHeader {
        self.message_header.clone().unwrap_or_default()
    }

    /// The body.
    pub fn body(&self) -> QualificationResultBody {
        self.message_body.clone().unwrap_or_default()
    }

    /// The results in `ResultList` (empty when absent).
    pub fn results(&self) -> &[ResultOfQualificationConfirmation] {
        self.message_body
            .as_ref()
            .and_then(|b| b.result_list.as_ref())
            .map(|l| l.0.as_slice())
            .unwrap_or(&[])
    }
}

impl QualificationRequest {
    /// The header.
    pub fn header(&self) -> MessageHeader {
        self.message_header.clone().unwrap_or_default()
    }

    /// The card data searched with.
    pub fn search_info(&self) -> QualificationConfirmSearchInfo {
        self.message_body
            .as_ref()
            .and_then(|b| b.qualification_confirm_search_info.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insurer_number_is_padded_with_spaces_for_the_interface_and_printed_without() {
        let kokuho = InsurerNumber::from_printed("990015");
        assert_eq!(kokuho.interface(), "  990015");
        assert_eq!(kokuho.printed(), "990015");
        let kenpo = InsurerNumber::from_printed(" 06990012 ");
        assert_eq!((kenpo.interface(), kenpo.printed()), ("06990012", "06990012"));
        assert_eq!(InsurerNumber::from_printed(kokuho.interface()), kokuho);
        assert_eq!(serde_json::to_string(&kokuho).unwrap(), "\"  990015\"");
    }

    #[test]
    fn schema_lists_children_in_spec_order() {
        let names: Vec<_> = MessageHeader::CHILDREN.iter().map(|c| c.name).collect();
        assert_eq!(names[0], "ProcessExecutionTime");
        assert_eq!(names.last(), Some(&"CharacterCodeIdentifier"));
        let FieldKind::List { item, .. } = ResultList::KIND else {
            panic!()
        };
        assert_eq!(item, "ResultOfQualificationConfirmation");
    }

    #[test]
    fn every_element_of_the_model_is_in_the_dictionary() {
        fn walk(children: &[Child]) {
            for c in children {
                assert!(
                    crate::dictionary::info(c.name).is_some(),
                    "{} missing from dictionary",
                    c.name
                );
                match c.kind {
                    FieldKind::Value => {}
                    FieldKind::Record(ch) | FieldKind::Repeated(ch) => walk(ch),
                    FieldKind::List { item, children } => {
                        assert!(crate::dictionary::info(item).is_some(), "{item}");
                        walk(children)
                    }
                }
            }
        }
        for schema in [
            QualificationRequest::CHILDREN,
            QualificationResult::CHILDREN,
            ReferenceRegistrationRequest::CHILDREN,
            ReferenceRegistrationResult::CHILDREN,
            BulkRegistrationRequest::CHILDREN,
            BulkRegistrationResult::CHILDREN,
            BulkConfirmRequest::CHILDREN,
            BulkPullRequest::CHILDREN,
            BulkUploadResult::CHILDREN,
            BulkDownloadRequest::CHILDREN,
            BulkConfirmResult::CHILDREN,
            MedicalInfoRequest::CHILDREN,
            DrugResult::CHILDREN,
            CheckupResult::CHILDREN,
        ] {
            walk(schema);
        }
    }

    #[test]
    fn a_value_element_with_children_is_an_error() {
        let mut el = Element::new("XmlMsg");
        let mut header = Element::new("MessageHeader");
        let mut mic = Element::new("MedicalInstitutionCode");
        mic.children.push(Element::leaf("X", "1"));
        header.children.push(mic);
        el.children.push(header);
        assert!(matches!(
            QualificationRequest::from_root(&el),
            Err(ModelError::ExpectedValue { .. })
        ));
    }

    #[test]
    fn json_result_list_uses_wrapper_objects() {
        let list = ResultList(vec![ResultOfQualificationConfirmation {
            name: Some("検証　一郎".into()),
            ..Default::default()
        }]);
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"ResultOfQualificationConfirmation": {"Name": "検証　一郎"}}])
        );
        let back: ResultList = serde_json::from_value(json).unwrap();
        assert_eq!(back, list);
    }
}
