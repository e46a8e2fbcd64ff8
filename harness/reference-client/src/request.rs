//! The 資格確認要求 both interfaces send: the card formatted for the interface (8-character
//! insurer number, absent fields left out) — or, with a defect, formatted wrong.

use onshi_protocol::codes::LimitConsentFlag;
use onshi_protocol::driver::Card;
use onshi_protocol::model::{
    MessageHeader, QualificationConfirmSearchInfo, QualificationRequest, QualificationRequestBody,
};

use crate::defects::Defect;
use crate::interpret::Defects as _;

/// The request for `card` on `date`.
pub fn qualification_request(
    card: &Card,
    date: &str,
    consent: bool,
    institution_code: &str,
    arbitrary_file_identifier: Option<&str>,
    defects: &[Defect],
) -> QualificationRequest {
    let printed = card.insurer_number.trim();
    let insurer = if defects.has(Defect::ZeroPadInsurer) {
        format!("{printed:0>8}")
    } else {
        format!("{printed:>8}")
    };
    let branch = match (&card.branch, defects.has(Defect::BranchDefault00)) {
        (None, true) => Some("00".to_owned()),
        (b, _) => b.clone(),
    };
    let consent = consent && !defects.has(Defect::DropLimitConsent);
    QualificationRequest {
        message_header: Some(MessageHeader {
            qualification_confirmation_date: Some(date.to_owned()),
            medical_institution_code: Some(institution_code.to_owned()),
            arbitrary_file_identifier: arbitrary_file_identifier.map(str::to_owned),
            ..Default::default()
        }),
        message_body: Some(QualificationRequestBody {
            qualification_confirm_search_info: Some(QualificationConfirmSearchInfo {
                insurer_number: Some(insurer),
                insured_card_symbol: card.symbol.clone().filter(|s| !s.is_empty()),
                insured_identification_number: Some(card.number.clone()),
                insured_branch_number: branch,
                birthdate: Some(card.birthdate.clone()),
                limit_application_certificate_related_cons_flg: Some(if consent {
                    LimitConsentFlag::Consented
                } else {
                    LimitConsentFlag::NotConsented
                }),
                arbitrary_identifier: None,
            }),
        }),
    }
}
