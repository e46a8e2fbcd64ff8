//! The element dictionary: every element name the model knows, its Japanese name and the
//! format of its value. The lint checks values against it and user-facing messages quote
//! the Japanese name next to the element name.

use crate::codes::{self, Code, CodeTable};

/// The format of a leaf value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Free text, optionally limited in characters.
    Text {
        /// The most characters, if limited.
        max: Option<usize>,
    },
    /// Exactly `len` ASCII digits.
    Digits {
        /// How many digits.
        len: usize,
    },
    /// 8 characters: 8 digits, or two half-width spaces and 6 digits (国保).
    InsurerNumber,
    /// 2 digits.
    Branch,
    /// YYYYMMDD, a real calendar date.
    Date,
    /// YYYYMMDDHHmmss, a real date and time.
    DateTime,
    /// YYYYMM.
    Month,
    /// 3-digit percentage code: `010`, `020`, `030`.
    Ratio,
    /// A non-negative integer.
    Count,
    /// A value of a code table.
    Code(&'static CodeTable),
    /// Half-width katakana with half-width spaces (氏名カナ).
    HalfWidthKana,
    /// `123-4567`.
    PostNumber,
    /// A container element (no value of its own).
    Container,
}

/// One entry of the dictionary.
#[derive(Debug, Clone, Copy)]
pub struct ElementInfo {
    /// The element's name.
    pub name: &'static str,
    /// Its Japanese name.
    pub ja: &'static str,
    /// The format of its value.
    pub format: Format,
}

const fn e(name: &'static str, ja: &'static str, format: Format) -> ElementInfo {
    ElementInfo { name, ja, format }
}

const TEXT: Format = Format::Text { max: None };
const TEXT20: Format = Format::Text { max: Some(20) };
const C: Format = Format::Container;

/// Every element, in roughly the order of `reference/protocol.md`.
pub const ELEMENTS: &[ElementInfo] = &[
    e("XmlMsg", "XMLメッセージ", C),
    e("MessageHeader", "メッセージヘッダ", C),
    e("MessageBody", "メッセージボディ", C),
    // header
    e("ProcessExecutionTime", "処理実行日時", Format::DateTime),
    e("QualificationConfirmationDate", "資格確認日", Format::Date),
    e("MedicalInstitutionCode", "医療機関コード", Format::Digits { len: 10 }),
    e("ArbitraryFileIdentifier", "任意のファイル識別子", TEXT),
    e("ReceptionNumber", "受付番号", Format::Text { max: Some(100) }),
    e(
        "ReferenceClassification",
        "照会区分",
        Format::Code(codes::ReferenceClassification::TABLE),
    ),
    e(
        "SegmentOfResult",
        "処理結果区分",
        Format::Code(codes::SegmentOfResult::TABLE),
    ),
    e("ErrorCode", "エラーコード", TEXT),
    e("ErrorMessage", "エラーメッセージ", TEXT),
    e("NumberOfProcessingResult", "処理件数", Format::Count),
    e("NumberOfNormalProcessing", "正常件数", Format::Count),
    e("NumberOfError", "エラー件数", Format::Count),
    e(
        "CharacterCodeIdentifier",
        "文字コード識別",
        Format::Code(codes::CharacterCodeIdentifier::TABLE),
    ),
    // body
    e("QualificationConfirmSearchInfo", "資格確認照会用情報", C),
    e(
        "ProcessingResultStatus",
        "処理結果状況",
        Format::Code(codes::ProcessingResultStatus::TABLE),
    ),
    e("ProcessingResultCode", "処理結果コード", TEXT),
    e("ProcessingResultMessage", "処理結果メッセージ", TEXT),
    e(
        "QualificationValidity",
        "資格有効性",
        Format::Code(codes::QualificationValidity::TABLE),
    ),
    e("ResultList", "資格確認結果リスト", C),
    e("ResultOfQualificationConfirmation", "資格確認結果", C),
    e(
        "PrescriptionIssueSelect",
        "処方箋発行形態",
        Format::Code(codes::PrescriptionIssueSelect::TABLE),
    ),
    // search info and insurance
    e("InsurerNumber", "保険者番号", Format::InsurerNumber),
    e("InsuredCardSymbol", "被保険者証記号", TEXT20),
    e("InsuredIdentificationNumber", "被保険者証番号", TEXT20),
    e("InsuredBranchNumber", "被保険者証枝番", Format::Branch),
    e("Birthdate", "生年月日", Format::Date),
    e(
        "LimitApplicationCertificateRelatedConsFlg",
        "限度額適用認定証提供同意フラグ",
        Format::Code(codes::LimitConsentFlag::TABLE),
    ),
    e("ArbitraryIdentifier", "任意の識別子", TEXT),
    e(
        "InsuredCardClassification",
        "被保険者証区分",
        Format::Code(codes::InsuredCardClassification::TABLE),
    ),
    e(
        "PersonalFamilyClassification",
        "本人・家族の別",
        Format::Code(codes::PersonalFamilyClassification::TABLE),
    ),
    e("InsuredName", "被保険者氏名（世帯主氏名）", TEXT),
    e("Name", "氏名", TEXT),
    e("NameOfOther", "氏名（その他）", TEXT),
    e("NameKana", "氏名カナ", Format::HalfWidthKana),
    e("NameOfOtherKana", "氏名カナ（その他）", Format::HalfWidthKana),
    e("Sex1", "性別1", Format::Code(codes::Sex::TABLE)),
    e("Sex2", "性別2", Format::Code(codes::Sex::TABLE)),
    e("Address", "住所", TEXT),
    e("PostNumber", "郵便番号", Format::PostNumber),
    e("QualificationDate", "資格取得年月日", Format::Date),
    e("DisqualificationDate", "資格喪失年月日", Format::Date),
    e("InsuredCertificateIssuanceDate", "被保険者証交付年月日", Format::Date),
    e("InsuredCardValidDate", "被保険者証有効開始年月日", Format::Date),
    e("InsuredCardExpirationDate", "被保険者証有効終了年月日", Format::Date),
    e("InsuredPartialContributionRatio", "一部負担金割合", Format::Ratio),
    e(
        "PreschoolClassification",
        "未就学区分",
        Format::Code(codes::PreschoolClassification::TABLE),
    ),
    e("ReasonOfLoss", "資格喪失事由", Format::Code(codes::ReasonOfLoss::TABLE)),
    e("InsurerName", "保険者名称", TEXT),
    e("PublicExpenseNumber", "公費負担者番号", TEXT),
    e("BeneficiaryNumber", "受給者番号", TEXT),
    e("WelfareOfficeName", "福祉事務所名", TEXT),
    // elderly recipient
    e("ElderlyRecipientCertificateInfo", "高齢受給者証情報", C),
    e(
        "ElderlyRecipientCertificateDate",
        "高齢受給者証交付年月日",
        Format::Date,
    ),
    e(
        "ElderlyRecipientValidStartDate",
        "高齢受給者証有効開始年月日",
        Format::Date,
    ),
    e(
        "ElderlyRecipientValidEndDate",
        "高齢受給者証有効終了年月日",
        Format::Date,
    ),
    e(
        "ElderlyRecipientContributionRatio",
        "高齢受給者証一部負担金割合",
        Format::Ratio,
    ),
    // limit application certificate
    e(
        "LimitApplicationCertificateRelatedConsTime",
        "限度額適用認定証提供同意日時",
        Format::DateTime,
    ),
    e("LimitApplicationCertificateRelatedInfo", "限度額適用認定証関連情報", C),
    e(
        "LimitApplicationCertificateClassification",
        "限度額適用認定証区分",
        Format::Code(codes::LimitCertificateClassification::TABLE),
    ),
    e(
        "LimitApplicationCertificateClassificationFlag",
        "限度額適用認定証適用区分",
        Format::Code(codes::LimitCertificateFlag::TABLE),
    ),
    e(
        "LimitApplicationCertificateDate",
        "限度額適用認定証交付年月日",
        Format::Date,
    ),
    e(
        "LimitApplicationCertificateValidStartDate",
        "限度額適用認定証有効開始年月日",
        Format::Date,
    ),
    e(
        "LimitApplicationCertificateValidEndDate",
        "限度額適用認定証有効終了年月日",
        Format::Date,
    ),
    e(
        "LimitApplicationCertificateLongTermDate",
        "限度額適用認定証長期入院該当年月日",
        Format::Date,
    ),
    e(
        "LimitApplicationCertificateChanged",
        "限度額適用認定証情報変更有無",
        Format::Code(codes::LimitCertificateChanged::TABLE),
    ),
    // specific diseases
    e(
        "SpecificDiseasesCertificateRelatedConsFlg",
        "特定疾病療養受療証提供同意フラグ",
        Format::Code(codes::ConsentFlag::TABLE),
    ),
    e(
        "SpecificDiseasesCertificateRelatedConsTime",
        "特定疾病療養受療証提供同意日時",
        Format::DateTime,
    ),
    e("SpecificDiseasesCertificateList", "特定疾病療養受療証リスト", C),
    e("SpecificDiseasesCertificateInfo", "特定疾病療養受療証情報", C),
    e(
        "SpecificDiseasesDiseaseCategory",
        "認定疾病区分",
        Format::Code(codes::SpecificDiseaseCategory::TABLE),
    ),
    e(
        "SpecificDiseasesCertificateDate",
        "特定疾病療養受療証交付年月日",
        Format::Date,
    ),
    e(
        "SpecificDiseasesValidStartDate",
        "特定疾病療養受療証有効開始年月日",
        Format::Date,
    ),
    e(
        "SpecificDiseasesValidEndDate",
        "特定疾病療養受療証有効終了年月日",
        Format::Date,
    ),
    e("SpecificDiseasesSelfPay", "自己負担限度額", Format::Count),
    // medical aid tickets (医療扶助)
    e("PublicExpenseResultList", "医療扶助資格確認結果リスト", C),
    e("MedicalTicketInfo", "医療券・調剤券情報", C),
    e("TicketType", "医療券・調剤券別", Format::Code(codes::TicketType::TABLE)),
    e("MedicalTicketValidDate", "医療券有効開始年月日", Format::Date),
    e("MedicalTicketExpirationDate", "医療券有効終了年月日", Format::Date),
    e("IssueNumber", "発行番号", TEXT),
    e("MedicalTreatmentMonth", "診療年月", Format::Month),
    e("DesignatedMedicalInstitutionCode", "指定医療機関コード", TEXT),
    e(
        "DesignatedMedicalInstitutionFlag",
        "指定医療機関確認フラグ",
        Format::Code(codes::DesignatedInstitutionFlag::TABLE),
    ),
    e("DesignatedMedicalInstitutionName", "指定医療機関名", TEXT),
    e(
        "PrescriptionIssuerMedicalInstitutionCode",
        "処方箋発行医療機関コード",
        TEXT,
    ),
    e("PrescriptionIssuerMedicalInstitutionName", "処方箋発行医療機関名", TEXT),
    e("InjuryName1", "傷病名1", TEXT),
    e("InjuryName2", "傷病名2", TEXT),
    e("InjuryName3", "傷病名3", TEXT),
    e(
        "MedicalTreatmentType",
        "診療別",
        Format::Code(codes::MedicalTreatmentType::TABLE),
    ),
    e("SelfPayAmount", "本人支払額", TEXT),
    e("DistrictContactName", "地区担当員名", TEXT),
    e("HandlingContactName", "取扱担当者名", TEXT),
    e(
        "SingleOrCombinedUse",
        "単独・併用別",
        Format::Code(codes::SingleOrCombinedUse::TABLE),
    ),
    e(
        "StatusOfSocialInsurance",
        "社会保険状況",
        Format::Code(codes::StatusOfSocialInsurance::TABLE),
    ),
    e(
        "ConsistencyFlag",
        "社会保険状況の整合性フラグ",
        Format::Code(codes::ConsistencyFlag::TABLE),
    ),
    e(
        "StatusOfInfecton",
        "感染症法37条の2の該当状況",
        Format::Code(codes::StatusOfInfection::TABLE),
    ),
    e(
        "StatusOfElderlyMedicalCare",
        "後期高齢者医療の該当状況",
        Format::Code(codes::StatusOfElderlyMedicalCare::TABLE),
    ),
    e(
        "StatusOfPrefecturalExpenses",
        "都道府県費の該当状況",
        Format::Code(codes::StatusOfPrefecturalExpenses::TABLE),
    ),
    e("Remarks1", "備考1", TEXT),
    e("Remarks2", "備考2", TEXT),
    e("Remarks3", "備考3", TEXT),
    // consents for information viewing
    e(
        "SpecificHealthCheckupsInfoConsFlg",
        "特定健診情報閲覧同意フラグ",
        Format::Code(codes::ConsentFlag::TABLE),
    ),
    e(
        "SpecificHealthCheckupsInfoConsTime",
        "特定健診情報閲覧同意日時",
        Format::DateTime,
    ),
    e(
        "SpecificHealthCheckupsInfoAvailableTime",
        "特定健診情報閲覧有効期限",
        Format::DateTime,
    ),
    e(
        "PharmacistsInfoConsFlg",
        "薬剤情報閲覧同意フラグ",
        Format::Code(codes::ConsentFlag::TABLE),
    ),
    e("PharmacistsInfoConsTime", "薬剤情報閲覧同意日時", Format::DateTime),
    e("PharmacistsInfoAvailableTime", "薬剤情報閲覧有効期限", Format::DateTime),
    e(
        "DiagnosisInfoConsFlg",
        "診療情報閲覧同意フラグ",
        Format::Code(codes::ConsentFlag::TABLE),
    ),
    e("DiagnosisInfoConsTime", "診療情報閲覧同意日時", Format::DateTime),
    e("DiagnosisInfoAvailableTime", "診療情報閲覧有効期限", Format::DateTime),
    e(
        "OperationInfoConsFlg",
        "手術情報閲覧同意フラグ",
        Format::Code(codes::ConsentFlag::TABLE),
    ),
    e("OperationInfoConsTime", "手術情報閲覧同意日時", Format::DateTime),
    e("OperationInfoAvailableTime", "手術情報閲覧有効期限", Format::DateTime),
    e("ReferenceNumber", "照会番号", Format::Text { max: Some(50) }),
    e("QualificationConfirmationKey", "資格確認キー", TEXT),
    // 照会番号登録 and the bulk flows
    e("ReferenceNumberRegistrationInfo", "照会番号登録情報", C),
    e("BulkRegistrationUnit", "一括登録結果単位", C),
    e("BulkConfirmUnit", "一括照会結果単位", C),
    e("ReceptionDateTime", "受付日時", Format::DateTime),
    e("ConsentDateFrom", "同意日（開始）", Format::Date),
    e("ConsentDateTo", "同意日（終了）", Format::Date),
    e("ExaminationDateFrom", "診察日（開始）", Format::Date),
    e("ExaminationDateTo", "診察日（終了）", Format::Date),
    e(
        "MedicalTreatmentFlag",
        "診療区分",
        Format::Code(codes::MedicalTreatmentFlag::TABLE),
    ),
    // 薬剤情報 / 特定健診情報 requests
    e("InsuranceCardSymbol", "被保険者証記号", TEXT20),
    e("InsuredPersonIdentificationNumber", "被保険者証番号", TEXT20),
    e("BranchNumber", "被保険者証枝番", Format::Branch),
    e("StartDate", "取得開始年月", Format::Month),
    e("EndDate", "取得終了年月", Format::Month),
    e("FileCategory", "ファイル区分", Format::Digits { len: 1 }),
    e(
        "PrDiInfClassification",
        "薬剤情報等",
        Format::Code(codes::PrDiInfClassification::TABLE),
    ),
    // 薬剤情報 / 特定健診情報 results (meanings marked 推定 are inferred from client code)
    e("ResultCode", "結果コード", TEXT),
    e("MessageContents", "メッセージ内容", TEXT),
    e("QuaInf", "資格情報", C),
    e("KanaName", "氏名カナ", TEXT),
    e("Birth", "生年月日", Format::Date),
    e("AdmGendCode", "性別", Format::Code(codes::Sex::TABLE)),
    e("MeTrMonthInf", "診療月情報", C),
    e("DiOrg", "調剤・処方の別（推定）", TEXT),
    e("MeTrDiHCd", "医療機関コード（推定）", TEXT),
    e("PrlsHCd", "処方医療機関コード（推定）", TEXT),
    e("MeTrDiHNm", "医療機関名（推定）", TEXT),
    e("MeTrMonth", "診療年月", Format::Month),
    e("PrlsHNm", "処方医療機関名（推定）", TEXT),
    e("PrIsOrg", "処方箋発行元の別（推定）", TEXT),
    e("InOut", "入院・外来の別（推定）", TEXT),
    e("DiDateInfs", "調剤日情報リスト", C),
    e("DiDateInf", "調剤日情報", C),
    e("DiDate", "調剤日（推定）", Format::Date),
    e("PrDate", "処方日（推定）", Format::Date),
    e("DrugInfs", "薬剤情報リスト", C),
    e("DrugInf", "薬剤情報", C),
    e("DrugC", "医薬品コード", TEXT),
    e("DrugN", "医薬品名", TEXT),
    e("IngreN", "成分名", TEXT),
    e("Qua1", "数量", TEXT),
    e("Unit", "単位", TEXT),
    e("UsageN", "用法", TEXT),
    e("Times", "回数", TEXT),
    e("SpInst", "特別指示", TEXT),
    e("MeTrIdCl", "診療識別（推定）", TEXT),
    e("MeTrInfs", "診療行為情報リスト", C),
    e("MeTrInf", "診療行為情報", C),
    e("SinInfCd", "診療行為コード", TEXT),
    e("SinInfN", "診療行為名", TEXT),
    e("QualificationsInfo", "資格情報", C),
    e("KanasName", "氏名カナ", TEXT),
    e("Birthday", "生年月日", Format::Date),
    e("AdministrativeGenderCode", "性別", Format::Code(codes::Sex::TABLE)),
    e("SpecificHealthCheckupInfo", "特定健診情報", C),
    e("EffectiveTime", "実施日", Format::Date),
    e("HealthCheckupResultAndQuestionInfos", "健診結果・問診リスト", C),
    e("HealthCheckupResultAndQuestionInfo", "健診結果・問診", C),
    e("ItemCode", "項目コード", TEXT),
    e("ItemName", "項目名", TEXT),
    e("DataType", "データ型", TEXT),
    e("DataValue", "値", TEXT),
    e("Oid", "OID", TEXT),
    e("DataValueName", "値の名称", TEXT),
];

/// Looks an element up by name.
pub fn info(name: &str) -> Option<&'static ElementInfo> {
    ELEMENTS.iter().find(|e| e.name == name)
}

/// "InsurerNumber (保険者番号)" — how user-facing text names an element.
pub fn label(name: &str) -> String {
    Label(name).to_string()
}

/// [`label`] formatted only when shown (the lint builds messages only for findings).
pub struct Label<'a>(pub &'a str);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match info(self.0) {
            Some(i) => write!(f, "{} ({})", i.name, i.ja),
            None => f.write_str(self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = ELEMENTS.iter().map(|e| e.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn label_quotes_the_japanese_name() {
        assert_eq!(label("InsurerNumber"), "InsurerNumber (保険者番号)");
        assert_eq!(label("Nope"), "Nope");
    }
}
