//! Building a `ResultOfQualificationConfirmation` from a registry person.

use chrono::{NaiveDate, NaiveDateTime};
use onshi_protocol::codes::{self, Code};
use onshi_protocol::model::{
    ElderlyRecipientCertificateInfo, LimitApplicationCertificateRelatedInfo, ResultOfQualificationConfirmation,
    SpecificDiseasesCertificateInfo, SpecificDiseasesCertificateList,
};
use onshi_registry::{InsurancePeriod, Person};

// Written out rather than with `format("%Y%m%d")`, which parses its pattern on every call:
// these run several times for every answer.
pub(crate) fn ymd(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

pub(crate) fn ymdhms(t: NaiveDateTime) -> String {
    use chrono::Timelike;
    format!("{}{:02}{:02}{:02}", ymd(t.date()), t.hour(), t.minute(), t.second())
}

fn active(from: NaiveDate, to: Option<NaiveDate>, on: NaiveDate) -> bool {
    from <= on && to.is_none_or(|t| on <= t)
}

/// What to include beyond the qualification itself.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Disclose {
    /// The patient consented to the 限度額適用認定証 information (OQSCD001 1).
    pub limit: bool,
    /// The patient consented to the 特定疾病療養受療証 information.
    pub specific_diseases: bool,
}

/// The result for `period` of `person` on `on`.
pub(crate) fn result_for(
    person: &Person,
    period: &InsurancePeriod,
    on: NaiveDate,
    now: NaiveDateTime,
    disclose: Disclose,
) -> ResultOfQualificationConfirmation {
    let ended = period.to.is_some_and(|to| to < on);
    let limit_info = period
        .limit
        .as_ref()
        .filter(|l| disclose.limit && active(l.from, l.to, on))
        .map(|l| LimitApplicationCertificateRelatedInfo {
            classification: Some(codes::LimitCertificateClassification::from_code(&l.classification)),
            classification_flag: Some(codes::LimitCertificateFlag::from_code(&l.flag)),
            certificate_date: l.issued.map(ymd),
            valid_start_date: Some(ymd(l.from)),
            valid_end_date: l.to.map(ymd),
            long_term_date: None,
        });
    let diseases: Vec<_> = period
        .specific_diseases
        .iter()
        .filter(|d| disclose.specific_diseases && active(d.from, d.to, on))
        .map(|d| SpecificDiseasesCertificateInfo {
            disease_category: Some(codes::SpecificDiseaseCategory::from_code(&d.category)),
            certificate_date: d.issued.map(ymd),
            valid_start_date: Some(ymd(d.from)),
            valid_end_date: d.to.map(ymd),
            self_pay: d.self_pay.clone(),
        })
        .collect();
    ResultOfQualificationConfirmation {
        insured_card_classification: Some(codes::InsuredCardClassification::from_code(&period.card_classification)),
        insurer_number: Some(period.card.insurer_number.interface().to_owned()),
        insured_card_symbol: period.card.symbol.clone(),
        insured_identification_number: Some(period.card.number.clone()),
        insured_branch_number: period.card.branch.clone(),
        personal_family_classification: Some(codes::PersonalFamilyClassification::from_code(&period.relationship)),
        insured_name: period.insured_name.clone(),
        name: Some(person.name.clone()),
        name_kana: Some(person.name_kana.clone()),
        sex1: Some(codes::Sex::from_code(&person.sex)),
        birthdate: Some(ymd(person.birthdate)),
        address: person.address.clone(),
        post_number: person.post_number.clone(),
        qualification_date: Some(ymd(period.from)),
        disqualification_date: period.to.filter(|_| ended).map(ymd),
        insured_certificate_issuance_date: period.issued.map(ymd),
        insured_card_valid_date: Some(ymd(period.from)),
        insured_partial_contribution_ratio: period.copay_ratio.clone(),
        reason_of_loss: period
            .reason_of_loss
            .as_deref()
            .filter(|_| ended)
            .map(codes::ReasonOfLoss::from_code),
        insurer_name: Some(period.insurer_name.clone()),
        elderly_recipient_certificate_info: period.elderly.as_ref().filter(|e| active(e.from, e.to, on)).map(|e| {
            ElderlyRecipientCertificateInfo {
                certificate_date: e.issued.map(ymd),
                valid_start_date: Some(ymd(e.from)),
                valid_end_date: e.to.map(ymd),
                contribution_ratio: Some(e.ratio.clone()),
            }
        }),
        limit_application_certificate_related_cons_flg: Some(if disclose.limit {
            codes::LimitConsentFlag::Consented
        } else {
            codes::LimitConsentFlag::NotConsented
        }),
        limit_application_certificate_related_cons_time: disclose.limit.then(|| ymdhms(now)),
        limit_application_certificate_related_info: limit_info,
        specific_diseases_certificate_list: (!diseases.is_empty()).then_some(SpecificDiseasesCertificateList(diseases)),
        ..Default::default()
    }
}
