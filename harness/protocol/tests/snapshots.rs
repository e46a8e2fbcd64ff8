//! Snapshots of written XML: spec order, observed order, Shift_JIS. A change to the writer
//! shows up here as a diff to review.

use onshi_protocol::codes::*;
use onshi_protocol::model::*;
use onshi_protocol::xml::{Limits, decode};
use onshi_protocol::{ElementOrder, TextEncoding, XmlOptions, write_message};

fn sample_result() -> QualificationResult {
    QualificationResult {
        message_header: Some(MessageHeader {
            process_execution_time: Some("20250101090005".into()),
            qualification_confirmation_date: Some("20250101".into()),
            medical_institution_code: Some("9900000001".into()),
            arbitrary_file_identifier: Some("TEST-0001".into()),
            reference_classification: Some(ReferenceClassification::InsuranceCard),
            segment_of_result: Some(SegmentOfResult::Normal),
            character_code_identifier: Some(CharacterCodeIdentifier::Utf8),
            ..Default::default()
        }),
        message_body: Some(QualificationResultBody {
            qualification_confirm_search_info: Some(QualificationConfirmSearchInfo {
                insurer_number: Some("  990001".into()),
                insured_identification_number: Some("000001".into()),
                insured_branch_number: Some("00".into()),
                birthdate: Some("19700101".into()),
                limit_application_certificate_related_cons_flg: Some(LimitConsentFlag::Consented),
                ..Default::default()
            }),
            processing_result_status: Some(ProcessingResultStatus::Normal),
            qualification_validity: Some(QualificationValidity::Valid),
            result_list: Some(ResultList(vec![ResultOfQualificationConfirmation {
                insured_card_classification: Some(InsuredCardClassification::General),
                insurer_number: Some("  990001".into()),
                insured_identification_number: Some("000001".into()),
                insured_branch_number: Some("00".into()),
                personal_family_classification: Some(PersonalFamilyClassification::Insured),
                name: Some("検証　一郎".into()),
                name_kana: Some("ｹﾝｼｮｳ ｲﾁﾛｳ".into()),
                sex1: Some(Sex::Male),
                birthdate: Some("19700101".into()),
                address: Some("東京都テスト区検証町1-2-3".into()),
                insurer_name: Some("テスト市".into()),
                limit_application_certificate_related_cons_flg: Some(LimitConsentFlag::Consented),
                limit_application_certificate_related_info: Some(LimitApplicationCertificateRelatedInfo {
                    classification: Some(LimitCertificateClassification::Limit),
                    classification_flag: Some(LimitCertificateFlag::A03),
                    ..Default::default()
                }),
                specific_health_checkups_info_cons_time: Some("20250101090000".into()),
                diagnosis_info_cons_flg: Some(ConsentFlag::NoConsent),
                ..Default::default()
            }])),
            ..Default::default()
        }),
    }
}

fn text(opts: XmlOptions) -> String {
    let bytes = write_message(&sample_result(), &opts).unwrap();
    let doc = decode(&bytes, &Limits::default()).unwrap();
    assert_eq!(doc.encoding, opts.encoding);
    match opts.encoding {
        TextEncoding::Utf8 => String::from_utf8(bytes).unwrap(),
        TextEncoding::ShiftJis => encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned(),
    }
}

#[test]
fn result_in_spec_order() {
    insta::assert_snapshot!(text(XmlOptions::default()));
}

#[test]
fn result_in_observed_order() {
    insta::assert_snapshot!(text(XmlOptions {
        order: ElementOrder::Observed,
        ..Default::default()
    }));
}

#[test]
fn result_in_shift_jis() {
    let t = text(XmlOptions {
        encoding: TextEncoding::ShiftJis,
        ..Default::default()
    });
    assert!(t.starts_with("<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>"));
    insta::assert_snapshot!(t);
}
