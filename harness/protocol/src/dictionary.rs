//! The element dictionary: every element name the model knows, its Japanese name and the
//! format of its value. The lint checks values against it and user-facing messages quote
//! the Japanese name next to the element name.

use crate::codes::{self, Code, CodeTable};

/// The format of a leaf value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Free text, optionally limited in characters.
    Text { max: Option<usize> },
    /// Exactly `len` ASCII digits.
    Digits { len: usize },
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
    pub name: &'static str,
    pub ja: &'static str,
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
    e("TicketType", "医療券・調剤券別", TEXT),
    e("MedicalTicketValidDate", "医療券有効開始年月日", Format::Date),
    e("MedicalTicketExpirationDate", "医療券有効終了年月日", Format::Date),
    e("IssueNumber", "発行番号", TEXT),
    e("MedicalTreatmentMonth", "診療年月", Format::Month),
    e("DesignatedMedicalInstitutionCode", "指定医療機関コード", TEXT),
    e("DesignatedMedicalInstitutionFlag", "指定医療機関確認フラグ", TEXT),
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
    e("MedicalTreatmentType", "診療別", TEXT),
    e("SelfPayAmount", "本人支払額", TEXT),
    e("DistrictContactName", "地区担当員名", TEXT),
    e("HandlingContactName", "取扱担当者名", TEXT),
    e("SingleOrCombinedUse", "単独・併用別", TEXT),
    e("StatusOfSocialInsurance", "社会保険状況", TEXT),
    e("ConsistencyFlag", "社会保険状況の整合性フラグ", TEXT),
    e("StatusOfInfecton", "感染症法37条の2の該当状況", TEXT),
    e("StatusOfElderlyMedicalCare", "後期高齢者医療の該当状況", TEXT),
    e("StatusOfPrefecturalExpenses", "都道府県費の該当状況", TEXT),
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
