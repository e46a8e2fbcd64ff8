//! Every family round-trips through the terminal on a real folder: 照会番号登録, the bulk
//! flows with 処理中 and zip delivery, 薬剤情報 as XML and PDF — and each answer lints clean.

mod common;

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use onshi_national::ConsentChoices;
use onshi_protocol::codes;
use onshi_protocol::lint::lint;
use onshi_protocol::model::*;
use onshi_protocol::xml::Limits;
use onshi_protocol::{MessageKind, TextEncoding, XmlOptions, read_message, write_message};
use onshi_registry::Registry;
use onshi_terminal::*;

use common::*;

/// The shared fixture, with the fast pickup these tests use.
async fn start(settings: TerminalSettings) -> Fixture {
    common::start(TerminalSettings {
        pickup_delay_ms: 20,
        rescan_ms: 100,
        ..settings
    })
    .await
}

fn header() -> MessageHeader {
    MessageHeader {
        qualification_confirmation_date: Some("20251121".into()),
        medical_institution_code: Some("9900000001".into()),
        arbitrary_file_identifier: Some("AFI-1".into()),
        ..Default::default()
    }
}

/// Writes a request atomically and waits for `res/<result>`; returns its bytes.
async fn round_trip(f: &Fixture, request: &str, bytes: &[u8], result: &str) -> Vec<u8> {
    let folders = f.terminal.folders();
    let tmp = folders.req.join(format!(".{request}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, folders.req.join(request)).unwrap();
    let path = folders.res.join(result);
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "no {result}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    std::fs::read(&path).unwrap()
}

fn assert_clean(kind: MessageKind, bytes: &[u8]) {
    let report = lint(kind, bytes, &Limits::default());
    assert!(!report.has_errors(), "{kind:?}: {:#?}", report.findings);
}

fn registration_info(registry: &Registry, persona: &str, reference: &str) -> ReferenceNumberRegistrationInfo {
    let c = &registry.persona(persona).unwrap().insurance[0].card;
    ReferenceNumberRegistrationInfo {
        reference_number: Some(reference.into()),
        insurer_number: Some(c.insurer_number.interface().to_owned()),
        insured_card_symbol: c.symbol.clone(),
        insured_identification_number: Some(c.number.clone()),
        insured_branch_number: c.branch.clone(),
    }
}

#[tokio::test]
async fn a_single_registration_is_answered_and_shows_in_the_next_face_file() {
    let f = start(TerminalSettings {
        encoding: TextEncoding::ShiftJis,
        ..Default::default()
    })
    .await;
    let request = ReferenceRegistrationRequest {
        message_header: Some(header()),
        message_body: Some(ReferenceRegistrationRequestBody {
            reference_number_registration_info: Some(registration_info(&f.registry, "valid-kenpo-insured", "KARTE-7")),
        }),
    };
    let bytes = write_message(&request, &XmlOptions::default()).unwrap();
    let out = round_trip(
        &f,
        "OQSsiimm01req_202511210001.xml",
        &bytes,
        "OQSsiimm01res_202511210001.xml",
    )
    .await;
    assert_clean(MessageKind::ReferenceRegistrationResult, &out);
    let (r, doc) = read_message::<ReferenceRegistrationResult>(&out, &Limits::default()).unwrap();
    assert_eq!(doc.encoding, TextEncoding::ShiftJis);
    let h = r.message_header.unwrap();
    assert_eq!(
        h.character_code_identifier,
        Some(codes::CharacterCodeIdentifier::ShiftJis)
    );
    assert_eq!(h.arbitrary_file_identifier.as_deref(), Some("AFI-1"));
    assert_eq!(
        r.message_body.unwrap().processing_result_status,
        Some(codes::ProcessingResultStatus::Normal)
    );
    let face = f
        .terminal
        .present_card(PresentCard {
            card: None,
            visit: Default::default(),
            persona: "valid-kenpo-insured".into(),
            consents: ConsentChoices::default(),
            slow: None,
        })
        .await
        .unwrap();
    let text = std::fs::read(f.terminal.folders().face.join(face)).unwrap();
    let (face, _) = read_message::<QualificationResult>(&text, &Limits::default()).unwrap();
    assert_eq!(face.results()[0].reference_number.as_deref(), Some("KARTE-7"));
}

fn search_info(registry: &Registry, persona: &str, id: &str) -> QualificationConfirmSearchInfo {
    let p = registry.persona(persona).unwrap();
    let c = &p.insurance[0].card;
    QualificationConfirmSearchInfo {
        insurer_number: Some(c.insurer_number.interface().to_owned()),
        insured_card_symbol: c.symbol.clone(),
        insured_identification_number: Some(c.number.clone()),
        insured_branch_number: c.branch.clone(),
        birthdate: Some(p.birthdate.format("%Y%m%d").to_string()),
        limit_application_certificate_related_cons_flg: Some(codes::LimitConsentFlag::NotConsented),
        arbitrary_identifier: Some(id.into()),
    }
}

fn download(reception: &str) -> Vec<u8> {
    write_message(
        &BulkDownloadRequest {
            message_header: Some(MessageHeader {
                medical_institution_code: Some("9900000001".into()),
                ..Default::default()
            }),
            message_body: Some(BulkDownloadRequestBody {
                reception_number: Some(reception.into()),
            }),
        },
        &XmlOptions::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_bulk_confirmation_is_processing_first_then_delivered() {
    let f = start(TerminalSettings::default()).await;
    f.national.set_bulk_processing(Duration::from_millis(700));
    let upload = BulkConfirmRequest {
        message_header: Some(header()),
        message_body: Some(BulkConfirmRequestBody {
            qualification_confirm_search_info: Some(Repeated(vec![
                search_info(&f.registry, "valid-kenpo-insured", "P1_1"),
                search_info(&f.registry, "valid-kenpo-family", "P2_2"),
            ])),
        }),
    };
    let out = round_trip(
        &f,
        "OQSmuquc01req_202511210001.xml",
        &write_message(&upload, &XmlOptions::default()).unwrap(),
        "OQSmuquc01res_202511210001.xml",
    )
    .await;
    assert_clean(MessageKind::BulkUploadResult, &out);
    let (received, _) = read_message::<BulkUploadResult>(&out, &Limits::default()).unwrap();
    let reception = received.message_body.unwrap().reception_number.unwrap();

    let early = round_trip(
        &f,
        "OQSmuquc02req_202511210002.xml",
        &download(&reception),
        "OQSmuquc02res_202511210002.xml",
    )
    .await;
    assert_clean(MessageKind::BulkConfirmResult, &early);
    let (early, _) = read_message::<BulkConfirmResult>(&early, &Limits::default()).unwrap();
    assert_eq!(
        early.message_header.unwrap().segment_of_result,
        Some(codes::SegmentOfResult::Processing)
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let done = round_trip(
        &f,
        "OQSmuquc02req_202511210003.xml",
        &download(&reception),
        "OQSmuquc02res_202511210003.xml",
    )
    .await;
    assert_clean(MessageKind::BulkConfirmResult, &done);
    let (done, _) = read_message::<BulkConfirmResult>(&done, &Limits::default()).unwrap();
    let h = done.message_header.unwrap();
    assert_eq!(h.reception_number.as_deref(), Some(reception.as_str()));
    assert_eq!(h.number_of_normal_processing.as_deref(), Some("2"));
    let ids: Vec<_> = done
        .message_body
        .unwrap()
        .bulk_confirm_unit
        .unwrap()
        .0
        .into_iter()
        .map(|u| {
            u.qualification_confirm_search_info
                .unwrap()
                .arbitrary_identifier
                .unwrap()
        })
        .collect();
    assert_eq!(ids, ["P1_1", "P2_2"]);
}

#[tokio::test]
async fn finished_pull_results_can_come_zipped() {
    let f = start(TerminalSettings {
        zip_bulk_results: true,
        ..Default::default()
    })
    .await;
    f.national.set_bulk_processing(Duration::ZERO);
    let pull = BulkPullRequest {
        message_header: Some(header()),
        message_body: Some(BulkPullRequestBody {
            qualification_confirm_search_info: Some(BulkPullSearchInfo {
                medical_treatment_month: Some("202511".into()),
                ..Default::default()
            }),
        }),
    };
    let out = round_trip(
        &f,
        "OQSmutic01req_202511210001.xml",
        &write_message(&pull, &XmlOptions::default()).unwrap(),
        "OQSmutic01res_202511210001.xml",
    )
    .await;
    let (received, _) = read_message::<BulkUploadResult>(&out, &Limits::default()).unwrap();
    let reception = received.message_body.unwrap().reception_number.unwrap();
    let zipped = round_trip(
        &f,
        "OQSmutic02req_202511210002.xml",
        &download(&reception),
        "OQSmutic02res_202511210002.zip",
    )
    .await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    assert_eq!(archive.len(), 1);
    let mut inner = archive.by_index(0).unwrap();
    assert_eq!(inner.name().unwrap(), "OQSmutic02res_202511210002.xml");
    let mut xml = Vec::new();
    inner.read_to_end(&mut xml).unwrap();
    assert_clean(MessageKind::BulkConfirmResult, &xml);
    let (r, _) = read_message::<BulkConfirmResult>(&xml, &Limits::default()).unwrap();
    let unit = &r.message_body.unwrap().bulk_confirm_unit.unwrap().0[0];
    assert_eq!(
        unit.result_of_qualification_confirmation.as_ref().unwrap().0[0]
            .name
            .as_deref(),
        Some("扶助　次郎")
    );
}

fn drug_request(registry: &Registry, persona: &str, category: &str) -> Vec<u8> {
    let c = &registry.persona(persona).unwrap().insurance[0].card;
    write_message(
        &MedicalInfoRequest {
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
        },
        &XmlOptions {
            encoding: TextEncoding::ShiftJis,
            ..Default::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn drug_information_comes_as_xml_or_pdf_once_the_patient_consented() {
    let f = start(TerminalSettings::default()).await;
    let refused = round_trip(
        &f,
        "YZKsiquc01req_022511210900P001.xml",
        &drug_request(&f.registry, "valid-kenpo-insured", "2"),
        "YZKsiquc01res_022511210900P001.xml",
    )
    .await;
    assert_clean(MessageKind::DrugInfoResult, &refused);
    let (r, _) = read_message::<DrugResult>(&refused, &Limits::default()).unwrap();
    assert_eq!(r.message_header.unwrap().result_code.as_deref(), Some("9"));

    f.terminal
        .present_card(PresentCard {
            card: None,
            visit: Default::default(),
            persona: "valid-kenpo-insured".into(),
            consents: ConsentChoices {
                pharmacists: Some("1".into()),
                ..Default::default()
            },
            slow: None,
        })
        .await
        .unwrap();
    let xml = round_trip(
        &f,
        "YZKsiquc01req_022511210901P001.xml",
        &drug_request(&f.registry, "valid-kenpo-insured", "2"),
        "YZKsiquc01res_022511210901P001.xml",
    )
    .await;
    assert_clean(MessageKind::DrugInfoResult, &xml);
    let pdf = round_trip(
        &f,
        "YZKsiquc01req_012511210902P001.xml",
        &drug_request(&f.registry, "valid-kenpo-insured", "1"),
        "YZKsiquc01res_012511210902P001.pdf",
    )
    .await;
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(!Path::new(&f.terminal.folders().res.join("YZKsiquc01res_012511210902P001.xml")).exists());
}

fn xml<T: XmlRecord>(message: &T) -> Vec<u8> {
    write_message(message, &XmlOptions::default()).unwrap()
}

/// A valid request of every family the terminal serves (by its name's stem).
fn every_family(registry: &Registry) -> Vec<(&'static str, Vec<u8>)> {
    let pull = |info: BulkPullSearchInfo| {
        xml(&BulkPullRequest {
            message_header: Some(header()),
            message_body: Some(BulkPullRequestBody {
                qualification_confirm_search_info: Some(info),
            }),
        })
    };
    let registration = |reference: &str| registration_info(registry, "valid-kenpo-insured", reference);
    vec![
        (
            "OQSsiimm01",
            xml(&ReferenceRegistrationRequest {
                message_header: Some(header()),
                message_body: Some(ReferenceRegistrationRequestBody {
                    reference_number_registration_info: Some(registration("K-1")),
                }),
            }),
        ),
        (
            "OQSmuimm01",
            xml(&BulkRegistrationRequest {
                message_header: Some(header()),
                message_body: Some(BulkRegistrationRequestBody {
                    reference_number_registration_info: Some(Repeated(vec![registration("K-2")])),
                }),
            }),
        ),
        (
            "OQSmuquc01",
            xml(&BulkConfirmRequest {
                message_header: Some(header()),
                message_body: Some(BulkConfirmRequestBody {
                    qualification_confirm_search_info: Some(Repeated(vec![search_info(
                        registry,
                        "valid-kenpo-insured",
                        "P1",
                    )])),
                }),
            }),
        ),
        ("OQSmuquc02", download("SYNR000000000")),
        (
            "OQSmutic01",
            pull(BulkPullSearchInfo {
                medical_treatment_month: Some("202511".into()),
                ..Default::default()
            }),
        ),
        (
            "OQSmuhvq01",
            pull(BulkPullSearchInfo {
                consent_date_from: Some("20251101".into()),
                consent_date_to: Some("20251121".into()),
                medical_treatment_flag: Some(codes::MedicalTreatmentFlag::HomeVisit),
                ..Default::default()
            }),
        ),
        (
            "OQSmuonq01",
            pull(BulkPullSearchInfo {
                examination_date_from: Some("20251101".into()),
                examination_date_to: Some("20251121".into()),
                medical_treatment_flag: Some(codes::MedicalTreatmentFlag::Online),
                ..Default::default()
            }),
        ),
        ("YZKsiquc01", drug_request(registry, "valid-kenpo-insured", "2")),
        ("TKKsiquc01", drug_request(registry, "valid-kenpo-insured", "2")),
    ]
}

/// Waits for the answer to `req/<stem>req_<suffix>.xml`: the `.err` text, or the result bytes.
async fn answer_of(f: &Fixture, stem: &str, suffix: &str, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let folders = f.terminal.folders().clone();
    let request = format!("{stem}req_{suffix}.xml");
    let tmp = folders.req.join(format!(".{request}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, folders.req.join(&request)).unwrap();
    let err = folders.res.join(format!("{stem}req_{suffix}.err"));
    let results: Vec<_> = ["xml", "zip", "pdf"]
        .iter()
        .map(|x| folders.res.join(format!("{stem}res_{suffix}.{x}")))
        .collect();
    let start = Instant::now();
    loop {
        if err.exists() {
            // The request is moved next to its .err, never lost.
            while !folders.res.join(&request).exists() {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{request} was not moved to res/"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            return Err(std::fs::read_to_string(&err).unwrap());
        }
        if let Some(p) = results.iter().find(|p| p.exists()) {
            return Ok(std::fs::read(p).unwrap());
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no answer to {request}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn every_family_meets_bad_input_with_the_err_convention_and_reordered_input_with_an_answer() {
    let f = start(TerminalSettings {
        max_request_bytes: 64 * 1024,
        ..Default::default()
    })
    .await;
    f.national.set_bulk_processing(Duration::ZERO);
    let mut n = 0;
    for (stem, good) in every_family(&f.registry) {
        let mut next = || {
            n += 1;
            format!("2025112{n:05}")
        };
        // Truncated, a DTD, Shift_JIS bytes under a UTF-8 declaration, oversized: `.err`.
        let truncated = good[..good.len() / 2].to_vec();
        let text = String::from_utf8(good.clone()).unwrap();
        let with_dtd = text.replacen("?>", "?><!DOCTYPE XmlMsg [<!ENTITY x \"y\">]>", 1);
        // Shift_JIS bytes (a Japanese comment makes sure there are some) under a UTF-8
        // declaration.
        let mis_encoded = {
            let sjis = text.replace("UTF-8", "Shift_JIS").replacen("?>", "?><!--検証-->", 1);
            let mut b = TextEncoding::ShiftJis.encode_str(&sjis).unwrap();
            let end = b.windows(2).position(|w| w == b"?>").unwrap() + 2;
            let mut out = br#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#.to_vec();
            out.extend_from_slice(&b.split_off(end));
            out
        };
        let oversized = {
            let pad = format!("<!--{}-->", "x".repeat(70 * 1024));
            text.replacen("?>", &format!("?>{pad}"), 1).into_bytes()
        };
        for (what, bytes) in [
            ("truncated", truncated),
            ("a DTD", with_dtd.into_bytes()),
            ("oversized", oversized),
        ] {
            let answer = answer_of(&f, stem, &next(), &bytes).await;
            assert!(answer.is_err(), "{stem} {what}: expected the .err convention");
        }
        // Mis-encoded bytes are refused.
        assert!(std::str::from_utf8(&mis_encoded).is_err());
        assert!(
            answer_of(&f, stem, &next(), &mis_encoded).await.is_err(),
            "{stem} mis-encoded"
        );
        // The same request in the scrambled order of real terminals is answered.
        let mut reordered = onshi_protocol::xml::decode(&good, &Limits::default()).unwrap().root;
        for c in reordered.children.iter_mut() {
            c.children.reverse();
        }
        let bytes = onshi_protocol::xml::encode(&reordered, &Default::default()).unwrap();
        let answer = answer_of(&f, stem, &next(), &bytes).await;
        assert!(answer.is_ok(), "{stem} reordered: {answer:?}");
    }
    f.terminal.stop().await;
}
