//! Code tables OQSCD001–OQSCD044 (業務コード) as enums with their Japanese labels.
//!
//! Every table keeps values it does not know in an `Unknown(String)` variant, so a message
//! with a code outside the table is read without loss and reported by the lint
//! (`MSG-CODE-001`) instead of being dropped. Values come from public client code (see
//! `reference/protocol.md` §7); the official annex 別紙5-1 was not available.

use std::fmt;

/// One value of a code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeEntry {
    /// The value as written in messages.
    pub code: &'static str,
    /// Label as clinic staff know it.
    pub ja: &'static str,
    /// English gloss.
    pub en: &'static str,
}

/// A code table (OQSCDnnn).
#[derive(Debug, PartialEq, Eq)]
pub struct CodeTable {
    /// The table's id (`OQSCD006`).
    pub id: &'static str,
    /// Its Japanese name.
    pub name_ja: &'static str,
    /// Its English name.
    pub name_en: &'static str,
    /// Its values.
    pub entries: &'static [CodeEntry],
}

impl CodeTable {
    /// The entry of `code`, if the table has it.
    pub fn lookup(&self, code: &str) -> Option<&'static CodeEntry> {
        self.entries.iter().find(|e| e.code == code)
    }

    /// "1 有効, 2 無効, …" — for error messages that list what would have been accepted.
    pub fn summary(&self) -> String {
        self.entries
            .iter()
            .map(|e| format!("{} {}", e.code, e.ja))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A value typed by its code table.
pub trait Code: Sized + Clone + PartialEq {
    /// The table the values come from.
    const TABLE: &'static CodeTable;
    /// Never fails: values outside the table become `Unknown`.
    fn from_code(code: &str) -> Self;
    /// The value as written.
    fn code(&self) -> &str;

    /// Its table entry, if known.
    fn entry(&self) -> Option<&'static CodeEntry> {
        Self::TABLE.lookup(self.code())
    }
    /// Whether the table has the value.
    fn is_known(&self) -> bool {
        self.entry().is_some()
    }
    /// Its Japanese label, if known.
    fn label_ja(&self) -> Option<&'static str> {
        self.entry().map(|e| e.ja)
    }
    /// "3 — 無効（新しい資格あり）", or "7 — not in OQSCD006" for unknown values.
    fn describe(&self) -> String {
        match self.entry() {
            Some(e) => format!("{} — {}", e.code, e.ja),
            None => format!(
                "{:?} — not in {} ({})",
                self.code(),
                Self::TABLE.id,
                Self::TABLE.name_ja
            ),
        }
    }
}

macro_rules! code_table {
    (
        $(#[$meta:meta])*
        $name:ident = $id:literal, $ja:literal, $en:literal {
            $( $variant:ident = $code:literal, $vja:literal, $ven:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( #[doc = concat!("`", $code, "` ", $vja, " — ", $ven)] $variant, )+
            /// A value outside the table, kept verbatim.
            Unknown(String),
        }

        impl Code for $name {
            const TABLE: &'static CodeTable = &CodeTable {
                id: $id,
                name_ja: $ja,
                name_en: $en,
                entries: &[ $( CodeEntry { code: $code, ja: $vja, en: $ven }, )+ ],
            };
            fn from_code(code: &str) -> Self {
                match code {
                    $( $code => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }
            fn code(&self) -> &str {
                match self {
                    $( Self::$variant => $code, )+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.describe())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_code(&s))
            }
        }
    };
}

code_table! {
    /// OQSCD001 限度額適用認定証同意フラグ.
    LimitConsentFlag = "OQSCD001", "限度額適用認定証同意フラグ", "limit-certificate consent flag" {
        NotConsented = "0", "未同意", "not consented";
        Consented = "1", "同意", "consented";
    }
}

code_table! {
    /// OQSCD002 照会区分 (`ReferenceClassification`).
    ReferenceClassification = "OQSCD002", "照会区分", "reference classification" {
        MyNumberCard = "1", "マイナンバーカード", "My Number card";
        InsuranceCard = "2", "被保険者証情報", "insurance-card data";
    }
}

code_table! {
    /// OQSCD003 処理結果区分 (`SegmentOfResult`).
    SegmentOfResult = "OQSCD003", "処理結果区分", "segment of result" {
        Normal = "1", "正常終了", "completed normally";
        Processing = "2", "処理中", "still processing";
        Abnormal = "9", "異常終了", "ended abnormally";
    }
}

code_table! {
    /// OQSCD004 処理結果状況 (`ProcessingResultStatus`).
    ProcessingResultStatus = "OQSCD004", "処理結果状況", "processing result status" {
        Normal = "1", "正常終了", "completed normally";
        Error = "2", "エラー", "error";
    }
}

code_table! {
    /// OQSCD005 文字コード識別 (`CharacterCodeIdentifier`).
    CharacterCodeIdentifier = "OQSCD005", "文字コード識別", "character code identifier" {
        Utf8 = "0", "UTF-8", "UTF-8";
        ShiftJis = "1", "Shift_JIS", "Shift_JIS";
    }
}

code_table! {
    /// OQSCD006 資格有効性 (`QualificationValidity`).
    QualificationValidity = "OQSCD006", "資格有効性", "qualification validity" {
        Valid = "1", "有効", "valid";
        Invalid = "2", "無効", "invalid";
        InvalidNewQualification = "3", "無効（新しい資格あり）", "invalid, a newer qualification exists";
        NoQualification = "4", "該当資格なし", "no matching qualification";
        Multiple = "5", "複数該当", "several matching qualifications";
        ValidUnregistered = "6", "有効（未登録）", "valid, not registered (医療扶助 only)";
    }
}

code_table! {
    /// OQSCD007 性別 (`Sex1`, `Sex2`).
    Sex = "OQSCD007", "性別", "sex" {
        Male = "1", "男", "male";
        Female = "2", "女", "female";
        Unset = "3", "未設定", "not set";
    }
}

code_table! {
    /// OQSCD008 資格喪失事由 (`ReasonOfLoss`).
    ReasonOfLoss = "OQSCD008", "資格喪失事由", "reason of loss" {
        Death = "01", "死亡", "death";
        PublicAssistance = "02", "生活保護受給開始", "public assistance started";
        OtherInsurance = "03", "医療保険等の資格取得", "joined other insurance";
        Other = "99", "その他", "other";
    }
}

code_table! {
    /// OQSCD009 本人・家族区分 (`PersonalFamilyClassification`).
    PersonalFamilyClassification = "OQSCD009", "本人・家族区分", "insured person or dependant" {
        Insured = "1", "本人", "insured person";
        Dependant = "2", "家族", "dependant";
    }
}

code_table! {
    /// OQSCD010 被保険者証区分 (`InsuredCardClassification`).
    InsuredCardClassification = "OQSCD010", "被保険者証区分", "insurance-card type" {
        General = "01", "被保険者証（一般）", "insurance card (general)";
        Retired = "02", "被保険者証（退職）", "insurance card (retired)";
        ShortTermGeneral = "03", "短期被保険者証（一般）", "short-term card (general)";
        ShortTermRetired = "04", "短期被保険者証（退職）", "short-term card (retired)";
        Certificate = "05", "被保険者資格証明書", "qualification certificate";
        SpecialRetired = "06", "特例退職被保険者証", "special retired insurance card";
        SelfDefenseForces = "07", "自衛官診療証", "Self-Defense Forces medical card";
        MedicalAid = "A1", "医療扶助", "medical aid";
    }
}

code_table! {
    /// OQSCD011 限度額適用認定証区分.
    LimitCertificateClassification = "OQSCD011", "限度額適用認定証区分", "limit-certificate type" {
        Limit = "01", "限度額適用認定証", "limit certificate";
        LimitAndReduction = "02", "限度額適用・標準負担額減額認定証", "limit and meal-cost reduction certificate";
        Reduction = "03", "標準負担額減額認定証", "meal-cost reduction certificate";
    }
}

code_table! {
    /// OQSCD012 限度額適用認定証適用区分.
    LimitCertificateFlag = "OQSCD012", "限度額適用認定証適用区分", "limit-certificate income bracket" {
        A01 = "A01", "ア", "bracket a";
        A02 = "A02", "イ", "bracket i";
        A03 = "A03", "ウ", "bracket u";
        A04 = "A04", "エ", "bracket e";
        A05 = "A05", "オ", "bracket o";
        A06 = "A06", "オ（境）", "bracket o (borderline)";
        B01 = "B01", "現役並みⅢ", "working-level III";
        B02 = "B02", "現役並みⅡ", "working-level II";
        B03 = "B03", "現役並みⅠ", "working-level I";
        B04 = "B04", "一般", "general";
        B05 = "B05", "低所得Ⅱ", "low income II";
        B06 = "B06", "低所得Ⅰ", "low income I";
        B07 = "B07", "低所得Ⅰ（老福）", "low income I (elderly welfare)";
        B08 = "B08", "低所得Ⅰ（境）", "low income I (borderline)";
        B09 = "B09", "一般Ⅱ", "general II";
        B10 = "B10", "一般Ⅰ", "general I";
    }
}

code_table! {
    /// OQSCD013 特定疾病療養受療証認定疾病区分.
    SpecificDiseaseCategory = "OQSCD013", "特定疾病療養受療証認定疾病区分", "specific-disease category" {
        Dialysis = "1", "人工透析を必要とする慢性腎不全", "chronic renal failure requiring dialysis";
        Hemophilia = "2", "先天性血液凝固因子障害（第VIII因子、第IX因子）", "congenital coagulation factor disorder";
        Hiv = "3", "血液凝固因子製剤の投与に起因するHIV感染症", "HIV infection from coagulation factor products";
    }
}

code_table! {
    /// OQSCD014 限度額適用認定証情報変更有無 (bulk results).
    LimitCertificateChanged = "OQSCD014", "限度額適用認定証情報変更有無", "limit-certificate information changed" {
        Unchanged = "0", "変更なし", "unchanged";
        ChangedOrUnknown = "1", "変更あり または 判定不能", "changed or undeterminable";
    }
}

code_table! {
    /// OQSCD015 未就学区分.
    PreschoolClassification = "OQSCD015", "未就学区分", "preschool classification" {
        Preschool = "1", "未就学該当", "preschool child";
    }
}

code_table! {
    /// OQSCD016 同意区分 (every `*ConsFlg` except 限度額).
    ConsentFlag = "OQSCD016", "同意区分", "consent" {
        NoConsent = "0", "同意なし", "no consent";
        Consent = "1", "同意あり", "consented";
        Expired = "2", "同意有効期限切れ", "consent expired";
        Unobtainable = "3", "同意取得困難", "consent could not be obtained";
    }
}

code_table! {
    /// OQSCD017 処方箋発行形態 (`PrescriptionIssueSelect`).
    PrescriptionIssueSelect = "OQSCD017", "処方箋発行形態", "prescription form" {
        Electronic = "1", "電子処方箋", "electronic prescription";
        Paper = "2", "紙の処方箋", "paper prescription";
    }
}

code_table! {
    /// OQSCD018 医療券・調剤券別 (`TicketType`).
    TicketType = "OQSCD018", "医療券・調剤券別", "medical or dispensing ticket" {
        MedicalTicket = "01", "医療券", "medical ticket";
        DispensingTicket = "02", "調剤券", "dispensing ticket";
    }
}

code_table! {
    /// OQSCD019 診療別 (`MedicalTreatmentType`).
    MedicalTreatmentType = "OQSCD019", "診療別", "kind of treatment" {
        Inpatient = "01", "入院", "inpatient";
        Outpatient = "02", "入院外", "outpatient";
        Dental = "03", "歯科", "dental";
        Dispensing = "04", "調剤", "dispensing";
        VisitingNursing = "05", "訪問看護", "visiting nursing";
    }
}

code_table! {
    /// OQSCD020 単独・併用別 (`SingleOrCombinedUse`).
    SingleOrCombinedUse = "OQSCD020", "単独・併用別", "alone or combined with insurance" {
        Single = "01", "単独", "alone";
        Combined = "02", "併用", "combined";
    }
}

code_table! {
    /// OQSCD021 社会保険状況 (`StatusOfSocialInsurance`).
    StatusOfSocialInsurance = "OQSCD021", "社会保険状況", "social insurance" {
        Yes = "01", "あり", "yes";
        No = "02", "なし", "no";
    }
}

code_table! {
    /// OQSCD022 社会保険状況の整合性フラグ (`ConsistencyFlag`).
    ConsistencyFlag = "OQSCD022", "社会保険状況の整合性フラグ", "social-insurance consistency" {
        Inconsistent = "1", "不整合あり", "inconsistent";
    }
}

code_table! {
    /// OQSCD023 感染症法37条の2の該当状況 (`StatusOfInfecton`).
    StatusOfInfection = "OQSCD023", "感染症法37条の2の該当状況", "Infectious Diseases Act art. 37-2" {
        Yes = "01", "あり", "yes";
        No = "02", "なし", "no";
    }
}

code_table! {
    /// OQSCD024 後期高齢者医療の該当状況 (`StatusOfElderlyMedicalCare`).
    StatusOfElderlyMedicalCare = "OQSCD024", "後期高齢者医療の該当状況", "late-stage elderly care" {
        Yes = "01", "あり", "yes";
        No = "02", "なし", "no";
    }
}

code_table! {
    /// OQSCD025 都道府県費の該当状況 (`StatusOfPrefecturalExpenses`).
    StatusOfPrefecturalExpenses = "OQSCD025", "都道府県費の該当状況", "prefectural expenses" {
        Yes = "01", "あり", "yes";
        No = "02", "なし", "no";
    }
}

code_table! {
    /// OQSCD026 指定医療機関確認フラグ (`DesignatedMedicalInstitutionFlag`).
    DesignatedInstitutionFlag = "OQSCD026", "指定医療機関確認フラグ", "designated institution check" {
        Match = "0", "一致", "matches";
        Mismatch = "1", "不一致", "does not match";
    }
}

code_table! {
    /// OQSCD027 同一個人有無フラグ.
    SamePersonFlag = "OQSCD027", "同一個人有無フラグ", "same person exists" {
        SamePerson = "1", "同一個人あり", "the same person exists";
    }
}

code_table! {
    /// OQSCD028 診療区分 (`MedicalTreatmentFlag`).
    MedicalTreatmentFlag = "OQSCD028", "診療区分", "kind of consultation" {
        Outpatient = "1", "外来", "outpatient";
        HomeVisit = "2", "訪問診療等", "home visit";
        Online = "3", "オンライン診療等", "online consultation";
        Emergency = "4", "救急時", "emergency";
    }
}

code_table! {
    /// OQSCD029 医療情報種別 (also the file prefixes `TKK`, `YZK`).
    MedicalInfoKind = "OQSCD029", "医療情報種別", "kind of medical information" {
        Checkup = "TKK", "特定健診情報", "specific health check-ups";
        Drug = "YZK", "薬剤情報等", "drug information";
    }
}

code_table! {
    /// OQSCD030 薬剤情報等 (`PrDiInfClassification`).
    PrDiInfClassification = "OQSCD030", "薬剤情報等", "include e-prescription data" {
        Hide = "0", "表示しない", "do not include";
        Show = "1", "表示する", "include";
    }
}

code_table! {
    /// OQSCD031 同意有効期限切れ理由.
    ConsentExpiryReason = "OQSCD031", "同意有効期限切れ理由", "why a consent expired" {
        ByKind = "0", "診療形態毎に異なる", "depends on the kind of consultation";
        Institution = "1", "医療機関による同意取り消し", "revoked by the institution";
        Patient = "2", "患者による同意取り消し", "revoked by the patient";
        Purpose = "3", "用途変更による同意取り消し", "revoked by a change of purpose";
    }
}

code_table! {
    /// OQSCD032 資格情報変更確認フラグ.
    QualificationChangedFlag = "OQSCD032", "資格情報変更確認フラグ", "qualification changed" {
        Same = "0", "一致", "unchanged";
        Changed = "1", "不一致", "changed";
    }
}

code_table! {
    /// OQSCD033 URL取得区分.
    UrlKind = "OQSCD033", "URL取得区分", "kind of URL" {
        HomeVisit = "2", "訪問診療等", "home visit";
        Online = "3", "オンライン診療等", "online consultation";
    }
}

code_table! {
    /// OQSCD034 (labelled URL取得区分 in the source; the values are formats) [?].
    ImageFormat = "OQSCD034", "URL取得区分（形式）", "format" {
        Pdf = "1", "PDF形式", "PDF";
        Png = "2", "PNG形式", "PNG";
    }
}

code_table! {
    /// OQSCD035 (labelled URL取得区分 in the source; change or keep) [?].
    ChangeOrKeep = "OQSCD035", "URL取得区分（変更）", "change" {
        Keep = "0", "変更しない", "keep";
        Change = "1", "変更する", "change";
    }
}

code_table! {
    /// OQSCD036 閲覧同意情報種別.
    ViewingConsentKind = "OQSCD036", "閲覧同意情報種別", "kind of viewing consent" {
        SpecificDiseases = "TSR", "特定疾病療養受療証情報", "specific-disease certificate";
        Checkup = "TKK", "特定健診情報", "health check-ups";
        Drug = "YZK", "薬剤情報/薬剤・処方", "drugs and prescriptions";
        Diagnosis = "SRJ", "診療情報/診療・その他アレルギー等・薬剤アレルギー等・検査情報", "diagnosis, allergies, tests";
        Operation = "SHJ", "手術情報/手術・傷病名・感染症情報", "operations, diseases, infections";
    }
}

code_table! {
    /// OQSCD037 利用設定区分.
    UseSetting = "OQSCD037", "利用設定区分", "use setting" {
        Off = "0", "利用しない", "not used";
        On = "1", "利用する", "used";
    }
}

code_table! {
    /// OQSCD038 電子処方箋利用区分.
    EPrescriptionUse = "OQSCD038", "電子処方箋利用区分", "e-prescription use" {
        NotUsed = "0", "利用しない", "not used";
        ElectronicOnly = "1", "電子処方箋のみ", "electronic only";
        Both = "2", "電子処方箋+紙の処方箋併用", "electronic and paper";
        PaperOnly = "3", "紙の処方箋のみ", "paper only";
    }
}

code_table! {
    /// OQSCD039 処方箋発行形態選択タイミング.
    PrescriptionChoiceTiming = "OQSCD039", "処方箋発行形態選択タイミング", "when the prescription form is chosen" {
        Elsewhere = "1", "資格確認時以外で確認する", "other than at confirmation";
        AtConfirmation = "2", "資格確認時に確認する", "at confirmation";
    }
}

code_table! {
    /// OQSCD040 情報要求パターン.
    InformationPattern = "OQSCD040", "情報要求パターン", "information request pattern" {
        EmergencySummary = "1", "救急用サマリー", "emergency summary";
        EmergencyFull = "2", "救急用全量版", "emergency full";
        PrescriptionAndEmergency = "3", "電子処方箋+救急用サマリー＋救急用全量版", "e-prescription and emergency";
        Drug = "4", "現行通りの薬剤情報", "drug information as before";
        DiagnosisDrug = "5", "現行通りの診療／薬剤情報", "diagnosis and drug information as before";
        Checkup = "6", "現行通りの特定健診情報", "health check-ups as before";
    }
}

code_table! {
    /// OQSCD041 二要素認証要素区分.
    AuthFactorKind = "OQSCD041", "二要素認証要素区分", "authentication factor" {
        Knowledge = "1", "記憶", "knowledge";
        Biometric = "2", "生体情報", "biometric";
        Possession = "3", "物理媒体", "possession";
    }
}

code_table! {
    /// OQSCD042 二要素認証方式区分. Its meaning depends on OQSCD041, so each code lists the
    /// method for each factor kind.
    AuthMethod = "OQSCD042", "二要素認証方式区分", "authentication method (by OQSCD041)" {
        M01 = "01", "記憶: ID/パスワード・生体: 指紋・物理: ICカード", "password / fingerprint / IC card";
        M02 = "02", "記憶: 暗証番号・生体: 顔・物理: ワンタイムパスワード", "PIN / face / one-time password";
        M03 = "03", "記憶: 秘密の質問・生体: 音声・物理: その他", "secret question / voice / other";
        M04 = "04", "生体: 静脈", "veins";
        M05 = "05", "生体: 虹彩", "iris";
    }
}

code_table! {
    /// OQSCD043 救急時閲覧権限有無.
    EmergencyViewing = "OQSCD043", "救急時閲覧権限有無", "emergency viewing permitted" {
        No = "0", "権限無し", "not permitted";
        Yes = "1", "権限あり", "permitted";
    }
}

code_table! {
    /// OQSCD044 連携システムID (padding as in the source, which is inconsistent [?]).
    LinkedSystem = "OQSCD044", "連携システムID", "linked system" {
        MedicalSubsidy = "01", "医療費助成", "medical subsidies";
        MaternalChild = "2", "母子保健", "maternal and child health";
        Vaccination = "4", "予防接種", "vaccination";
        LongTermCare = "8", "介護保険", "long-term care insurance";
    }
}

/// Every table this crate knows, in numeric order (for catalogues and docs).
pub const ALL_TABLES: &[&CodeTable] = &[
    LimitConsentFlag::TABLE,
    ReferenceClassification::TABLE,
    SegmentOfResult::TABLE,
    ProcessingResultStatus::TABLE,
    CharacterCodeIdentifier::TABLE,
    QualificationValidity::TABLE,
    Sex::TABLE,
    ReasonOfLoss::TABLE,
    PersonalFamilyClassification::TABLE,
    InsuredCardClassification::TABLE,
    LimitCertificateClassification::TABLE,
    LimitCertificateFlag::TABLE,
    SpecificDiseaseCategory::TABLE,
    LimitCertificateChanged::TABLE,
    PreschoolClassification::TABLE,
    ConsentFlag::TABLE,
    PrescriptionIssueSelect::TABLE,
    TicketType::TABLE,
    MedicalTreatmentType::TABLE,
    SingleOrCombinedUse::TABLE,
    StatusOfSocialInsurance::TABLE,
    ConsistencyFlag::TABLE,
    StatusOfInfection::TABLE,
    StatusOfElderlyMedicalCare::TABLE,
    StatusOfPrefecturalExpenses::TABLE,
    DesignatedInstitutionFlag::TABLE,
    SamePersonFlag::TABLE,
    MedicalTreatmentFlag::TABLE,
    MedicalInfoKind::TABLE,
    PrDiInfClassification::TABLE,
    ConsentExpiryReason::TABLE,
    QualificationChangedFlag::TABLE,
    UrlKind::TABLE,
    ImageFormat::TABLE,
    ChangeOrKeep::TABLE,
    ViewingConsentKind::TABLE,
    UseSetting::TABLE,
    EPrescriptionUse::TABLE,
    PrescriptionChoiceTiming::TABLE,
    InformationPattern::TABLE,
    AuthFactorKind::TABLE,
    AuthMethod::TABLE,
    EmergencyViewing::TABLE,
    LinkedSystem::TABLE,
];

/// Looks a table up by its id ("OQSCD006").
pub fn table(id: &str) -> Option<&'static CodeTable> {
    ALL_TABLES.iter().copied().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_describe_in_japanese() {
        let v = QualificationValidity::from_code("3");
        assert_eq!(v, QualificationValidity::InvalidNewQualification);
        assert_eq!(v.code(), "3");
        assert_eq!(v.to_string(), "3 — 無効（新しい資格あり）");
    }

    #[test]
    fn unknown_values_are_kept_verbatim() {
        let v = QualificationValidity::from_code("7");
        assert_eq!(v, QualificationValidity::Unknown("7".into()));
        assert_eq!(v.code(), "7");
        assert!(!v.is_known());
        assert!(v.describe().contains("not in OQSCD006"));
    }

    #[test]
    fn tables_are_numbered_consecutively_and_codes_are_unique() {
        for (i, t) in ALL_TABLES.iter().enumerate() {
            assert_eq!(t.id, format!("OQSCD{:03}", i + 1));
            let mut codes: Vec<_> = t.entries.iter().map(|e| e.code).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), t.entries.len(), "duplicate code in {}", t.id);
        }
    }

    #[test]
    fn serde_uses_the_code_string() {
        let json = serde_json::to_string(&Sex::Female).unwrap();
        assert_eq!(json, "\"2\"");
        let back: Sex = serde_json::from_str("\"9\"").unwrap();
        assert_eq!(back, Sex::Unknown("9".into()));
    }
}
