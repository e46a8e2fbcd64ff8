use std::sync::Arc;

use chrono::Duration;
use onshi_protocol::lint::lint;
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_protocol::{Limits, MessageKind, XmlOptions, write_message};
use onshi_registry::Registry;

use super::*;
use crate::{ConsentChoices, EligibilityService, FaceConfirmation};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
}

fn now() -> NaiveDateTime {
    today().and_hms_opt(9, 30, 0).unwrap()
}

fn national() -> LocalNational {
    let n = LocalNational::new(
        Arc::new(Registry::embedded(today(), 0)),
        Arc::new(ErrorCatalogue::default()),
    );
    n.set_bulk_processing(std::time::Duration::ZERO);
    n
}

fn mic() -> MessageHeader {
    MessageHeader {
        medical_institution_code: Some("9900000001".into()),
        arbitrary_file_identifier: Some("F-1".into()),
        qualification_confirmation_date: Some(ymd(today())),
        ..Default::default()
    }
}

fn info_for(n: &LocalNational, persona: &str, reference: &str) -> ReferenceNumberRegistrationInfo {
    let c = &n.registry().persona(persona).unwrap().insurance[0].card;
    ReferenceNumberRegistrationInfo {
        reference_number: Some(reference.into()),
        insurer_number: Some(c.insurer_number.interface().to_owned()),
        insured_card_symbol: c.symbol.clone(),
        insured_identification_number: Some(c.number.clone()),
        insured_branch_number: c.branch.clone(),
    }
}

/// The answer lints clean, apart from request values it echoes (a bad request's own values).
fn lints_clean<T: XmlRecord>(kind: MessageKind, message: &T) {
    let bytes = write_message(message, &XmlOptions::default()).unwrap();
    let report = lint(kind, &bytes, &Limits::default());
    let own: Vec<_> = report
        .errors()
        .filter(|f| {
            !f.path
                .as_deref()
                .unwrap_or("")
                .contains("/QualificationConfirmSearchInfo/")
        })
        .collect();
    assert!(own.is_empty(), "{kind:?}: {own:#?}");
}

fn face(n: &LocalNational, persona: &str, consents: ConsentChoices, at: NaiveDateTime) -> QualificationResult {
    n.confirm_by_face(
        &FaceConfirmation {
            persona: persona.into(),
            institution_code: "9900000001".into(),
            consents,
        },
        at,
    )
    .unwrap()
}

#[test]
fn a_registered_reference_number_appears_in_the_next_face_result() {
    let n = national();
    let before = face(&n, "valid-kenpo-insured", ConsentChoices::default(), now());
    let r0 = &before.results()[0];
    assert_eq!(r0.reference_number, None);
    assert!(
        r0.qualification_confirmation_key
            .as_deref()
            .unwrap()
            .starts_with("SYNQCK")
    );

    let request = ReferenceRegistrationRequest {
        message_header: Some(mic()),
        message_body: Some(ReferenceRegistrationRequestBody {
            reference_number_registration_info: Some(info_for(&n, "valid-kenpo-insured", "KARTE-0042")),
        }),
    };
    let result = n.register_reference(&request, now());
    lints_clean(MessageKind::ReferenceRegistrationResult, &result);
    let body = result.message_body.clone().unwrap();
    assert_eq!(
        body.processing_result_status,
        Some(codes::ProcessingResultStatus::Normal)
    );
    assert_eq!(
        result.message_header.unwrap().arbitrary_file_identifier.as_deref(),
        Some("F-1")
    );
    let after = face(&n, "valid-kenpo-insured", ConsentChoices::default(), now());
    assert_eq!(after.results()[0].reference_number.as_deref(), Some("KARTE-0042"));
    assert_eq!(after.results()[0].qualification_confirmation_key, None);

    // Another person may not take the same number; an unknown card is not found.
    let mut other = request.clone();
    other.message_body.as_mut().unwrap().reference_number_registration_info =
        Some(info_for(&n, "valid-kenpo-family", "KARTE-0042"));
    let refused = n.register_reference(&other, now()).message_body.unwrap();
    assert_eq!(refused.processing_result_code.as_deref(), Some("SYN-R1003"));
    let mut unknown = info_for(&n, "valid-kenpo-family", "KARTE-0043");
    unknown.insured_identification_number = Some("424242".into());
    other.message_body.as_mut().unwrap().reference_number_registration_info = Some(unknown);
    let refused = n.register_reference(&other, now());
    lints_clean(MessageKind::ReferenceRegistrationResult, &refused);
    assert_eq!(
        refused.message_body.unwrap().processing_result_code.as_deref(),
        Some("SYN-R1001")
    );
}

#[test]
fn bulk_uploads_are_received_then_processed_then_delivered() {
    let n = national();
    n.set_bulk_processing(std::time::Duration::from_secs(3600));
    let upload = BulkUpload::ReferenceRegistration(BulkRegistrationRequest {
        message_header: Some(mic()),
        message_body: Some(BulkRegistrationRequestBody {
            reference_number_registration_info: Some(Repeated(vec![
                info_for(&n, "valid-kenpo-insured", "KARTE-1"),
                info_for(&n, "twins-a", "KARTE-2").tap_branch(None),
            ])),
        }),
    });
    let received = n.bulk_upload(&upload, now());
    lints_clean(MessageKind::BulkUploadResult, &received);
    let reception = received.message_body.unwrap().reception_number.unwrap();
    let download = BulkDownloadRequest {
        message_header: Some(mic()),
        message_body: Some(BulkDownloadRequestBody {
            reception_number: Some(reception.clone()),
        }),
    };
    let BulkDownload::Registration(processing) = n.bulk_download(BulkFamily::ReferenceRegistration, &download, now())
    else {
        panic!()
    };
    lints_clean(MessageKind::BulkRegistrationResult, &processing);
    let h = processing.message_header.unwrap();
    assert_eq!(h.segment_of_result, Some(codes::SegmentOfResult::Processing));
    assert_eq!(h.reception_number.as_deref(), Some(reception.as_str()));

    n.set_bulk_processing(std::time::Duration::ZERO);
    // The deadline was fixed at upload; a new upload is ready at once.
    let received = n.bulk_upload(&upload, now());
    let reception = received.message_body.unwrap().reception_number.unwrap();
    let download = BulkDownloadRequest {
        message_body: Some(BulkDownloadRequestBody {
            reception_number: Some(reception),
        }),
        ..download
    };
    let BulkDownload::Registration(done) = n.bulk_download(BulkFamily::ReferenceRegistration, &download, now()) else {
        panic!()
    };
    lints_clean(MessageKind::BulkRegistrationResult, &done);
    let units = done.message_body.unwrap().bulk_registration_unit.unwrap().0;
    let statuses: Vec<_> = units.iter().map(|u| u.processing_result_code.clone()).collect();
    // The twins share a card: without 枝番 the registration is ambiguous.
    assert_eq!(statuses, [None, Some("SYN-R1002".to_owned())]);

    let mut unknown = download.clone();
    unknown.message_body.as_mut().unwrap().reception_number = Some("SYNR-nope".into());
    let BulkDownload::Confirmation(refused) = n.bulk_download(BulkFamily::Confirmation, &unknown, now()) else {
        panic!()
    };
    let h = refused.message_header.unwrap();
    assert_eq!(h.segment_of_result, Some(codes::SegmentOfResult::Abnormal));
    assert_eq!(h.error_code.as_deref(), Some("SYN-B1001"));
}

trait TapBranch {
    fn tap_branch(self, branch: Option<String>) -> Self;
}

impl TapBranch for ReferenceNumberRegistrationInfo {
    fn tap_branch(mut self, branch: Option<String>) -> Self {
        self.insured_branch_number = branch;
        self
    }
}

#[test]
fn a_bulk_confirmation_answers_each_person_and_counts() {
    let n = national();
    let card = |persona: &str, id: &str| {
        let p = n.registry().persona(persona).unwrap();
        let c = &p.insurance[p.active_period(today()).unwrap_or(0)].card;
        QualificationConfirmSearchInfo {
            insurer_number: Some(c.insurer_number.interface().to_owned()),
            insured_card_symbol: c.symbol.clone(),
            insured_identification_number: Some(c.number.clone()),
            insured_branch_number: c.branch.clone(),
            birthdate: Some(ymd(p.birthdate)),
            limit_application_certificate_related_cons_flg: Some(codes::LimitConsentFlag::NotConsented),
            arbitrary_identifier: Some(id.into()),
        }
    };
    let mut nobody = card("valid-kenpo-insured", "P3_3");
    nobody.birthdate = Some("19000101".into());
    let mut broken = card("valid-kenpo-insured", "P4_4");
    broken.birthdate = Some("1900-01-01".into());
    let upload = BulkUpload::Confirmation(BulkConfirmRequest {
        message_header: Some(mic()),
        message_body: Some(BulkConfirmRequestBody {
            qualification_confirm_search_info: Some(Repeated(vec![
                card("valid-kenpo-insured", "P1_1"),
                card("face-consenting", "P2_2"),
                nobody,
                broken,
            ])),
        }),
    });
    let received = n.bulk_upload(&upload, now()).message_body.unwrap();
    assert!(received.reception_date_time.is_some());
    let download = BulkDownloadRequest {
        message_header: Some(mic()),
        message_body: Some(BulkDownloadRequestBody {
            reception_number: received.reception_number,
        }),
    };
    let BulkDownload::Confirmation(done) = n.bulk_download(BulkFamily::Confirmation, &download, now()) else {
        panic!()
    };
    lints_clean(MessageKind::BulkConfirmResult, &done);
    let h = done.message_header.clone().unwrap();
    assert_eq!(
        (
            h.number_of_processing_result.as_deref(),
            h.number_of_normal_processing.as_deref(),
            h.number_of_error.as_deref()
        ),
        (Some("4"), Some("3"), Some("1"))
    );
    let units = done.message_body.unwrap().bulk_confirm_unit.unwrap().0;
    let validity: Vec<_> = units
        .iter()
        .map(|u| u.qualification_validity.clone().map(|v| v.code().to_owned()))
        .collect();
    assert_eq!(validity, [Some("1".into()), Some("1".into()), Some("4".into()), None]);
    assert_eq!(units[1].reference_number.as_deref(), Some("TESTREF-0001"));
    assert_eq!(
        units[0]
            .qualification_confirm_search_info
            .as_ref()
            .unwrap()
            .arbitrary_identifier
            .as_deref(),
        Some("P1_1")
    );
    assert_eq!(units[3].processing_result_code.as_deref(), Some("SYN-E2002"));
}

fn pull(n: &LocalNational, upload: BulkUpload, family: BulkFamily) -> BulkConfirmResult {
    let reception = n.bulk_upload(&upload, now()).message_body.unwrap().reception_number;
    let download = BulkDownloadRequest {
        message_header: Some(mic()),
        message_body: Some(BulkDownloadRequestBody {
            reception_number: reception,
        }),
    };
    let BulkDownload::Confirmation(r) = n.bulk_download(family, &download, now()) else {
        panic!()
    };
    lints_clean(MessageKind::BulkConfirmResult, &r);
    r
}

fn names(r: &BulkConfirmResult) -> Vec<String> {
    r.message_body
        .as_ref()
        .and_then(|b| b.bulk_confirm_unit.as_ref())
        .map(|u| {
            u.0.iter()
                .map(|u| {
                    u.result_of_qualification_confirmation.as_ref().unwrap().0[0]
                        .name
                        .clone()
                        .unwrap()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn pulls_find_medical_aid_and_consented_patients() {
    let n = national();
    let request = |info: BulkPullSearchInfo| BulkPullRequest {
        message_header: Some(mic()),
        message_body: Some(BulkPullRequestBody {
            qualification_confirm_search_info: Some(info),
        }),
    };
    let aid = pull(
        &n,
        BulkUpload::MedicalAid(request(BulkPullSearchInfo {
            medical_treatment_month: Some("202511".into()),
            ..Default::default()
        })),
        BulkFamily::MedicalAid,
    );
    assert_eq!(names(&aid), ["扶助　次郎"]);
    let unit = &aid.message_body.unwrap().bulk_confirm_unit.unwrap().0[0];
    let r = &unit.result_of_qualification_confirmation.as_ref().unwrap().0[0];
    assert_eq!(
        r.insured_card_classification,
        Some(codes::InsuredCardClassification::MedicalAid)
    );
    assert_eq!(r.public_expense_number.as_deref(), Some("12990013"));
    assert_eq!(
        r.public_expense_result_list.as_ref().unwrap().0[0]
            .issue_number
            .as_deref(),
        Some("SYN-T0001")
    );
    let range = |from: &str, to: &str, flag: codes::MedicalTreatmentFlag, consent: bool| {
        request(BulkPullSearchInfo {
            consent_date_from: consent.then(|| from.into()),
            consent_date_to: consent.then(|| to.into()),
            examination_date_from: (!consent).then(|| from.into()),
            examination_date_to: (!consent).then(|| to.into()),
            medical_treatment_flag: Some(flag),
            ..Default::default()
        })
    };
    let visits = pull(
        &n,
        BulkUpload::HomeVisit(range(
            "20251101",
            "20251121",
            codes::MedicalTreatmentFlag::HomeVisit,
            true,
        )),
        BulkFamily::HomeVisit,
    );
    assert_eq!(names(&visits), ["訪問　梅子"]);
    let online = pull(
        &n,
        BulkUpload::Online(range(
            "20251115",
            "20251121",
            codes::MedicalTreatmentFlag::Online,
            false,
        )),
        BulkFamily::Online,
    );
    assert_eq!(names(&online), ["遠隔　竹男"]);
    let none = pull(
        &n,
        BulkUpload::Online(range("20250101", "20250131", codes::MedicalTreatmentFlag::Online, true)),
        BulkFamily::Online,
    );
    assert!(names(&none).is_empty());
    assert_eq!(
        none.message_header.unwrap().number_of_processing_result.as_deref(),
        Some("0")
    );
}

fn drug_request(n: &LocalNational, persona: &str, category: &str) -> MedicalInfoRequest {
    let c = &n.registry().persona(persona).unwrap().insurance[0].card;
    MedicalInfoRequest {
        message_header: Some(MedicalInfoRequestHeader {
            medical_institution_code: Some("9900000001".into()),
            insurer_number: Some(c.insurer_number.interface().to_owned()),
            insurance_card_symbol: c.symbol.clone(),
            insured_person_identification_number: Some(c.number.clone()),
            branch_number: c.branch.clone(),
            arbitrary_file_identifier: Some("P001".into()),
        }),
        message_body: Some(MedicalInfoRequestBody {
            start_date: Some("202505".into()),
            end_date: Some("202511".into()),
            file_category: Some(category.into()),
            pr_di_inf_classification: Some(codes::PrDiInfClassification::Show),
            medical_treatment_flag: Some(codes::MedicalTreatmentFlag::Outpatient),
        }),
    }
}

#[test]
fn drug_information_needs_a_valid_consent() {
    let n = national();
    let request = drug_request(&n, "valid-kenpo-insured", "2");
    let MedicalInfoAnswer::Drug(refused) = n.medical_info(MedicalInfoKind::Drug, &request, now()) else {
        panic!()
    };
    lints_clean(MessageKind::DrugInfoResult, &refused);
    let h = refused.message_header.unwrap();
    assert_eq!(h.result_code.as_deref(), Some("9"));
    assert!(h.message_contents.unwrap().starts_with("SYN-M1001"));

    let consents = ConsentChoices {
        pharmacists: Some("1".into()),
        diagnosis: Some("1".into()),
        ..Default::default()
    };
    face(&n, "valid-kenpo-insured", consents, now());
    let MedicalInfoAnswer::Drug(drugs) = n.medical_info(MedicalInfoKind::Drug, &request, now()) else {
        panic!()
    };
    lints_clean(MessageKind::DrugInfoResult, &drugs);
    assert_eq!(drugs.message_header.as_ref().unwrap().result_code.as_deref(), Some("1"));
    let months = drugs.message_body.unwrap().me_tr_month_inf.unwrap().0;
    assert!(!months.is_empty());
    assert!(
        months[0].di_date_infs.as_ref().unwrap().0[0].me_tr_infs.is_none(),
        "category 2 has no 診療情報"
    );
    let with_treatments = drug_request(&n, "valid-kenpo-insured", "4");
    let MedicalInfoAnswer::Drug(d) = n.medical_info(MedicalInfoKind::Drug, &with_treatments, now()) else {
        panic!()
    };
    let months = d.message_body.unwrap().me_tr_month_inf.unwrap().0;
    assert!(months[0].di_date_infs.as_ref().unwrap().0[0].me_tr_infs.is_some());
    let MedicalInfoAnswer::Pdf(pdf) = n.medical_info(
        MedicalInfoKind::Drug,
        &drug_request(&n, "valid-kenpo-insured", "1"),
        now(),
    ) else {
        panic!()
    };
    assert!(pdf.0.starts_with(b"%PDF-1.4"));
    // A day later the consent has expired; the check-up consent was never given.
    let later = now() + Duration::hours(25);
    assert!(matches!(
        n.medical_info(MedicalInfoKind::Drug, &request, later),
                MedicalInfoAnswer::Drug(r) if r.message_header.as_ref().unwrap().message_contents.as_ref().unwrap().contains("有効期限切れ")
    ));
    let MedicalInfoAnswer::Checkup(c) = n.medical_info(MedicalInfoKind::Checkup, &request, now()) else {
        panic!()
    };
    assert_eq!(c.message_header.unwrap().result_code.as_deref(), Some("9"));
}

#[test]
fn checkups_come_as_xml_or_pdf() {
    let n = national();
    face(
        &n,
        "valid-kenpo-insured",
        ConsentChoices {
            specific_health_checkups: Some("1".into()),
            ..Default::default()
        },
        now(),
    );
    let mut request = drug_request(&n, "valid-kenpo-insured", "2");
    request.message_body.as_mut().unwrap().start_date = None;
    request.message_body.as_mut().unwrap().end_date = None;
    let MedicalInfoAnswer::Checkup(c) = n.medical_info(MedicalInfoKind::Checkup, &request, now()) else {
        panic!()
    };
    lints_clean(MessageKind::CheckupInfoResult, &c);
    assert_eq!(c.message_body.unwrap().specific_health_checkup_info.unwrap().0.len(), 3);
    request.message_body.as_mut().unwrap().file_category = Some("3".into());
    assert!(matches!(
        n.medical_info(MedicalInfoKind::Checkup, &request, now()),
                MedicalInfoAnswer::Checkup(r) if r.message_header.as_ref().unwrap().message_contents.as_ref().unwrap().contains("FileCategory")
    ));
}

#[test]
fn a_medical_aid_recipient_at_the_face_reader() {
    let n = national();
    let r = face(&n, "medical-aid", ConsentChoices::default(), now());
    let one = &r.results()[0];
    assert_eq!(
        one.insured_card_classification,
        Some(codes::InsuredCardClassification::MedicalAid)
    );
    assert_eq!(one.beneficiary_number.as_deref(), Some("9900021"));
}

#[test]
fn folder_calls_travel_as_json() {
    let n = national();
    let call = FolderCall::BulkDownload {
        family: BulkFamily::Online,
        request: BulkDownloadRequest {
            message_header: Some(mic()),
            message_body: Some(BulkDownloadRequestBody {
                reception_number: Some("SYNR-x".into()),
            }),
        },
    };
    let json = serde_json::to_string(&call).unwrap();
    let back: FolderCall = serde_json::from_str(&json).unwrap();
    assert_eq!(back, call);
    let answer = call.answer(&n, now());
    let json = serde_json::to_string(&answer).unwrap();
    assert_eq!(serde_json::from_str::<FolderAnswer>(&json).unwrap(), answer);
}
