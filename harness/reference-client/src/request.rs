//! The 資格確認要求 both interfaces send: the card formatted for the interface
//! ([`Card::qualification_request`]) — or, with a defect, formatted wrong.

use onshi_protocol::codes::LimitConsentFlag;
use onshi_protocol::driver::Card;
use onshi_protocol::model::QualificationRequest;

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
    let mut request = card.qualification_request(date, consent, institution_code);
    if let Some(h) = request.message_header.as_mut() {
        h.arbitrary_file_identifier = arbitrary_file_identifier.map(str::to_owned);
    }
    let info = request
        .message_body
        .as_mut()
        .and_then(|b| b.qualification_confirm_search_info.as_mut())
        .expect("the request has its search info");
    if defects.has(Defect::ZeroPadInsurer) {
        info.insurer_number = Some(format!("{:0>8}", card.insurer_number.trim()));
    }
    if defects.has(Defect::BranchDefault00) && info.insured_branch_number.is_none() {
        info.insured_branch_number = Some("00".to_owned());
    }
    if defects.has(Defect::DropLimitConsent) {
        info.limit_application_certificate_related_cons_flg = Some(LimitConsentFlag::NotConsented);
    }
    request
}
