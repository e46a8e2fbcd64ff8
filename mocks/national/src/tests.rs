use super::*;
use onshi_protocol::lint::lint;
use onshi_protocol::model::{QualificationConfirmSearchInfo, QualificationRequestBody};
use onshi_protocol::{Limits, MessageKind, XmlOptions, write_message};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
}

fn now() -> NaiveDateTime {
    today().and_hms_opt(9, 0, 5).unwrap()
}

fn national() -> LocalNational {
    LocalNational::new(
        Arc::new(Registry::embedded(today(), 0)),
        Arc::new(ErrorCatalogue::default()),
    )
}

fn request_for(n: &LocalNational, persona: &str, period: usize, branch: bool, consent: &str) -> QualificationRequest {
    let p = n.registry().persona(persona).unwrap();
    let c = &p.insurance[period].card;
    QualificationRequest {
        message_header: Some(MessageHeader {
            qualification_confirmation_date: Some(ymd(today())),
            medical_institution_code: Some("9900000001".into()),
            arbitrary_file_identifier: Some("T-1".into()),
            ..Default::default()
        }),
        message_body: Some(QualificationRequestBody {
            qualification_confirm_search_info: Some(QualificationConfirmSearchInfo {
                insurer_number: Some(c.insurer_number.interface().to_owned()),
                insured_card_symbol: c.symbol.clone(),
                insured_identification_number: Some(c.number.clone()),
                insured_branch_number: if branch { c.branch.clone() } else { None },
                birthdate: Some(ymd(p.birthdate)),
                limit_application_certificate_related_cons_flg: Some(codes::LimitConsentFlag::from_code(consent)),
                arbitrary_identifier: None,
            }),
        }),
    }
}

/// The result lints clean, except for values echoed from a (deliberately bad) request.
fn assert_lints_clean(kind: MessageKind, r: &QualificationResult) {
    let bytes = write_message(r, &XmlOptions::default()).unwrap();
    let report = lint(kind, &bytes, &Limits::default());
    let echoed = [
        "QualificationConfirmSearchInfo",
        "MedicalInstitutionCode",
        "QualificationConfirmationDate",
    ];
    let own: Vec<_> = report
        .findings
        .iter()
        .filter(|f| {
            !echoed
                .iter()
                .any(|e| f.path.as_deref().unwrap_or("").contains(e) || f.message.starts_with(e))
        })
        .collect();
    assert!(own.is_empty(), "{own:#?}\n{}", String::from_utf8_lossy(&bytes));
}

fn validity(r: &QualificationResult) -> Option<String> {
    r.body().qualification_validity.map(|v| v.code().to_owned())
}

#[test]
fn every_persona_gets_its_validity_and_a_clean_result() {
    let n = national();
    let cases = [
        ("valid-kenpo-family", 0, true, "1"),
        ("lost-eligibility", 0, true, "2"),
        ("changed-insurer", 0, true, "3"),
        ("twins-a", 0, false, "5"),
        ("kokuho-6digit", 0, true, "1"),
        ("kouki-no-branch", 0, true, "1"),
        ("elderly-70-74", 0, true, "1"),
        ("limit-certificate", 0, true, "1"),
        ("non-sjis-name", 0, true, "1"),
        ("long-symbol", 0, true, "1"),
        ("expiring-card-notice", 0, true, "1"),
    ];
    for (persona, period, branch, expected) in cases {
        let r = n.confirm_by_card(&request_for(&n, persona, period, branch, "1"), now());
        assert_eq!(validity(&r).as_deref(), Some(expected), "{persona}");
        assert_lints_clean(MessageKind::QualificationResult, &r);
        assert_eq!(r.header().arbitrary_file_identifier.as_deref(), Some("T-1"));
    }
}

#[test]
fn not_found_and_zero_padding() {
    let n = national();
    let mut req = request_for(&n, "kokuho-6digit", 0, true, "0");
    let info = req
        .message_body
        .as_mut()
        .unwrap()
        .qualification_confirm_search_info
        .as_mut()
        .unwrap();
    info.insurer_number = Some("00990015".into());
    let r = n.confirm_by_card(&req, now());
    assert_eq!(validity(&r).as_deref(), Some("4"));
    assert!(r.results().is_empty());
    assert_lints_clean(MessageKind::QualificationResult, &r);
}

#[test]
fn new_qualification_result_carries_the_new_card() {
    let n = national();
    let r = n.confirm_by_card(&request_for(&n, "changed-insurer", 0, true, "0"), now());
    let res = &r.results()[0];
    assert_eq!(res.insurer_number.as_deref(), Some("06990012"));
    assert_eq!(res.insured_identification_number.as_deref(), Some("77"));
}

#[test]
fn lost_eligibility_shows_disqualification() {
    let n = national();
    let r = n.confirm_by_card(&request_for(&n, "lost-eligibility", 0, true, "0"), now());
    let res = &r.results()[0];
    assert_eq!(res.disqualification_date.as_deref(), Some("20251031"));
    assert_eq!(res.reason_of_loss, Some(codes::ReasonOfLoss::Other));
}

#[test]
fn limit_information_only_with_consent() {
    let n = national();
    let with = n.confirm_by_card(&request_for(&n, "limit-certificate", 0, true, "1"), now());
    let info = with.results()[0]
        .limit_application_certificate_related_info
        .clone()
        .unwrap();
    assert_eq!(info.classification_flag, Some(codes::LimitCertificateFlag::A03));
    let without = n.confirm_by_card(&request_for(&n, "limit-certificate", 0, true, "0"), now());
    assert!(
        without.results()[0]
            .limit_application_certificate_related_info
            .is_none()
    );
}

#[test]
fn processing_error_notice_replaces_the_qualification() {
    let n = national();
    let r = n.confirm_by_card(&request_for(&n, "processing-error", 0, true, "0"), now());
    let body = r.body();
    assert_eq!(
        body.processing_result_status,
        Some(codes::ProcessingResultStatus::Error)
    );
    assert_eq!(body.processing_result_code.as_deref(), Some("SYN-P2001"));
    assert!(body.qualification_validity.is_none() && body.result_list.is_none());
    assert_lints_clean(MessageKind::QualificationResult, &r);
}

#[test]
fn invalid_requests_get_segment_of_result_9_with_synthetic_codes() {
    let n = national();
    let base = request_for(&n, "valid-kenpo-family", 0, true, "1");
    type Mutation = Box<dyn Fn(&mut QualificationRequest)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "SYN-E2001",
            Box::new(|r| r.message_header.as_mut().unwrap().medical_institution_code = None),
        ),
        (
            "SYN-E2002",
            Box::new(|r| r.message_header.as_mut().unwrap().qualification_confirmation_date = Some("20251131".into())),
        ),
        (
            "SYN-E2002",
            Box::new(|r| {
                r.message_body
                    .as_mut()
                    .unwrap()
                    .qualification_confirm_search_info
                    .as_mut()
                    .unwrap()
                    .insurer_number = Some("990015".into())
            }),
        ),
        (
            "SYN-E2001",
            Box::new(|r| {
                r.message_body
                    .as_mut()
                    .unwrap()
                    .qualification_confirm_search_info
                    .as_mut()
                    .unwrap()
                    .limit_application_certificate_related_cons_flg = None
            }),
        ),
    ];
    for (code, mutate) in mutations {
        let mut req = base.clone();
        mutate(&mut req);
        let r = n.confirm_by_card(&req, now());
        let h = r.header();
        assert_eq!(h.segment_of_result, Some(codes::SegmentOfResult::Abnormal));
        assert_eq!(h.error_code.as_deref(), Some(code));
        assert_lints_clean(MessageKind::QualificationResult, &r);
    }
}

#[test]
fn face_result_carries_consents_and_reference_number() {
    let n = national();
    let face = FaceConfirmation {
        persona: "face-consenting".into(),
        institution_code: "9900000001".into(),
        consents: ConsentChoices {
            diagnosis: Some("0".into()),
            ..ConsentChoices::all()
        },
    };
    let r = n.confirm_by_face(&face, now()).unwrap();
    assert_lints_clean(MessageKind::FaceResult, &r);
    let res = &r.results()[0];
    assert_eq!(res.reference_number.as_deref(), Some("TESTREF-0001"));
    assert_eq!(res.pharmacists_info_cons_flg, Some(codes::ConsentFlag::Consent));
    assert_eq!(res.pharmacists_info_cons_time.as_deref(), Some("20251121090005"));
    assert_eq!(res.pharmacists_info_available_time.as_deref(), Some("20251122090005"));
    assert_eq!(res.diagnosis_info_cons_flg, Some(codes::ConsentFlag::NoConsent));
    assert!(res.diagnosis_info_available_time.is_none());
    assert!(matches!(
        n.confirm_by_face(
            &FaceConfirmation {
                persona: "nobody".into(),
                ..face
            },
            now()
        ),
        Err(FaceError::UnknownPersona(_))
    ));
}
