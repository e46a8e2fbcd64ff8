//! Insured persons and their insurance timelines, with dates resolved for one run.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who a person is in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonId {
    /// A named persona from `fixtures/personas.toml`.
    Persona(String),
    /// Person `n` of the generated population.
    Generated(u64),
}

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PersonId::Persona(id) => write!(f, "persona {id}"),
            PersonId::Generated(n) => write!(f, "generated person #{n}"),
        }
    }
}

impl PersonId {
    /// The id as one string, as the face-auth reader names the patient: a persona's id, or
    /// `#<n>` for generated person `n` (persona ids never start with `#`).
    pub fn key(&self) -> String {
        match self {
            PersonId::Persona(id) => id.clone(),
            PersonId::Generated(n) => format!("#{n}"),
        }
    }

    /// The inverse of [`PersonId::key`].
    pub fn from_key(key: &str) -> PersonId {
        match key.strip_prefix('#').and_then(|n| n.parse().ok()) {
            Some(n) => PersonId::Generated(n),
            None => PersonId::Persona(key.to_owned()),
        }
    }
}

/// The data printed on an insurance card that identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CardIdentity {
    /// 保険者番号.
    pub insurer_number: InsurerNumber,
    /// 記号, when the card has one.
    pub symbol: Option<String>,
    /// 番号.
    pub number: String,
    /// 枝番, when the card has one.
    pub branch: Option<String>,
}

impl CardIdentity {
    /// The insurer number as printed on the card (6 or 8 digits).
    pub fn printed_insurer_number(&self) -> &str {
        self.insurer_number.printed()
    }
}

pub use onshi_protocol::model::{InsurerNumber, interface_insurer_number};

/// 高齢受給者証.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElderlyCertificate {
    /// `020` or `030`.
    pub ratio: String,
    /// When the certificate was issued.
    pub issued: Option<NaiveDate>,
    /// The first day it is valid.
    pub from: NaiveDate,
    /// The last day it is valid, when it ends.
    pub to: Option<NaiveDate>,
}

/// 限度額適用認定証.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitCertificate {
    /// OQSCD011.
    pub classification: String,
    /// OQSCD012, e.g. `A03`.
    pub flag: String,
    /// When the certificate was issued.
    pub issued: Option<NaiveDate>,
    /// The first day it is valid.
    pub from: NaiveDate,
    /// The last day it is valid, when it ends.
    pub to: Option<NaiveDate>,
}

/// 特定疾病療養受療証.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecificDisease {
    /// OQSCD013.
    pub category: String,
    /// Monthly limit in yen.
    pub self_pay: Option<String>,
    /// When the certificate was issued.
    pub issued: Option<NaiveDate>,
    /// The first day it is valid.
    pub from: NaiveDate,
    /// The last day it is valid, when it ends.
    pub to: Option<NaiveDate>,
}

/// One insurance qualification (資格) of a person, valid from `from` to `to` inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsurancePeriod {
    /// The card of the period.
    pub card: CardIdentity,
    /// 保険者名称.
    pub insurer_name: String,
    /// OQSCD010.
    pub card_classification: String,
    /// OQSCD009: 1 本人, 2 家族.
    pub relationship: String,
    /// 被保険者氏名 (the householder for dependants).
    pub insured_name: Option<String>,
    /// The first day of the qualification.
    pub from: NaiveDate,
    /// The last day, when it ended or will end.
    pub to: Option<NaiveDate>,
    /// OQSCD008, when `to` is set.
    pub reason_of_loss: Option<String>,
    /// When the card was issued.
    pub issued: Option<NaiveDate>,
    /// `InsuredPartialContributionRatio` (後期高齢者).
    pub copay_ratio: Option<String>,
    /// 高齢受給者証, for those aged 70 to 74.
    pub elderly: Option<ElderlyCertificate>,
    /// 限度額適用認定証, when one was issued.
    pub limit: Option<LimitCertificate>,
    /// 特定疾病療養受療証.
    pub specific_diseases: Vec<SpecificDisease>,
}

impl InsurancePeriod {
    /// Whether the qualification covers `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

/// What the national system says about a person besides the qualification: a processing
/// error (ProcessingResultStatus 2) or a supplementary notice with status 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessingNotice {
    /// OQSCD004: `1` (with supplementary information) or `2` (error).
    pub status: String,
    /// The code shown with it.
    pub code: String,
    /// The message shown with it.
    pub message: String,
}

/// 医療券・調剤券 of a 医療扶助 recipient for one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MedicalTicket {
    /// OQSCD018: 01 医療券, 02 調剤券.
    pub ticket_type: String,
    /// The month it is for.
    pub month: NaiveDate,
    /// The first day it is valid.
    pub valid_from: NaiveDate,
    /// The last day it is valid.
    pub valid_to: Option<NaiveDate>,
    /// Its issue number.
    pub issue_number: String,
    /// OQSCD019.
    pub treatment_type: String,
    /// 本人支払額 in yen.
    pub self_pay: Option<String>,
    /// 傷病名.
    pub injury_names: Vec<String>,
}

/// 医療扶助 (medical aid under public assistance): who pays, and the tickets issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MedicalAid {
    /// 公費負担者番号 (8 digits).
    pub public_expense_number: String,
    /// 受給者番号 (7 digits).
    pub beneficiary_number: String,
    /// 福祉事務所名.
    pub welfare_office: String,
    /// The first day of the aid.
    pub from: NaiveDate,
    /// The last day, when it ends.
    pub to: Option<NaiveDate>,
    /// The tickets issued.
    pub tickets: Vec<MedicalTicket>,
}

impl MedicalAid {
    /// Whether the aid covers `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

/// The kind of consultation a visit consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// 訪問診療 (OQSCD028 2).
    HomeVisit,
    /// オンライン診療 (OQSCD028 3).
    Online,
}

/// A patient's consent to share their qualification for 訪問診療 or オンライン診療, given to
/// the institution (on the マイナ資格確認アプリ or at a visit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitConsent {
    /// The consultation kind it is for.
    pub kind: VisitKind,
    /// When it was given.
    pub consented: NaiveDate,
    /// The consultation it was given for, if known.
    pub examined: Option<NaiveDate>,
}

/// An insured person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// The persona's id, or the generated person's number.
    pub id: PersonId,
    /// One line about why the person exists (personas) — shown in catalogues.
    pub summary: String,
    /// Full-width, family and given name separated by a full-width space.
    pub name: String,
    /// Half-width katakana.
    pub name_kana: String,
    /// OQSCD007.
    pub sex: String,
    /// The birth date.
    pub birthdate: NaiveDate,
    /// The address, when known.
    pub address: Option<String>,
    /// The postal code, when known.
    pub post_number: Option<String>,
    /// Oldest first.
    pub insurance: Vec<InsurancePeriod>,
    /// 照会番号 registered by the institution.
    pub reference_number: Option<String>,
    /// A processing error or supplementary notice the national system gives for the person.
    pub notice: Option<ProcessingNotice>,
    /// 医療扶助, for recipients of public assistance (who usually have no insurance).
    pub medical_aid: Option<MedicalAid>,
    /// Consents to share the qualification for 訪問診療 or オンライン診療.
    pub visit_consents: Vec<VisitConsent>,
}

impl Person {
    /// The period active on `date`, preferring the latest-starting one.
    pub fn active_period(&self, date: NaiveDate) -> Option<usize> {
        self.insurance
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_active_on(date))
            .max_by_key(|(_, p)| p.from)
            .map(|(i, _)| i)
    }

    /// The period a card shows on `date`: the active one, else the latest (`None` for a
    /// person with no insurance at all, such as a 医療扶助 recipient).
    pub fn shown_period(&self, date: NaiveDate) -> Option<usize> {
        self.active_period(date).or_else(|| self.insurance.len().checked_sub(1))
    }

    /// Age in whole years on `date`.
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        date.years_since(self.birthdate).unwrap_or(0)
    }
}
