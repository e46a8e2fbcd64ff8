//! Every message family of the folder interface: names map to kinds, well-formed samples read
//! and lint clean, content sniffing finds the kind, and the family-specific mistakes real
//! clients make are caught with their check IDs.

use std::ffi::OsStr;

use onshi_protocol::filename::FileName;
use onshi_protocol::lint::lint;
use onshi_protocol::model::*;
use onshi_protocol::xml::{Limits, decode};
use onshi_protocol::{MessageKind, read_message};

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#;

fn msg(header: &str, body: &str) -> String {
    format!("{DECL}\n<XmlMsg><MessageHeader>{header}</MessageHeader><MessageBody>{body}</MessageBody></XmlMsg>")
}

const RESULT_HEADER: &str = "<ProcessExecutionTime>20250101093000</ProcessExecutionTime>\
    <MedicalInstitutionCode>9900000001</MedicalInstitutionCode><ArbitraryFileIdentifier>A1</ArbitraryFileIdentifier>\
    <SegmentOfResult>1</SegmentOfResult><CharacterCodeIdentifier>0</CharacterCodeIdentifier>";

fn registration_info(reference: &str) -> String {
    format!(
        "<ReferenceNumberRegistrationInfo><ReferenceNumber>{reference}</ReferenceNumber>\
         <InsurerNumber>06990012</InsurerNumber><InsuredCardSymbol>1001</InsuredCardSymbol>\
         <InsuredIdentificationNumber>1101</InsuredIdentificationNumber><InsuredBranchNumber>00</InsuredBranchNumber>\
         </ReferenceNumberRegistrationInfo>"
    )
}

fn search_info(id: &str) -> String {
    format!(
        "<QualificationConfirmSearchInfo><InsurerNumber>06990012</InsurerNumber><InsuredCardSymbol>1001</InsuredCardSymbol>\
         <InsuredIdentificationNumber>1101</InsuredIdentificationNumber><InsuredBranchNumber>00</InsuredBranchNumber>\
         <Birthdate>19780815</Birthdate><LimitApplicationCertificateRelatedConsFlg>0</LimitApplicationCertificateRelatedConsFlg>\
         <ArbitraryIdentifier>{id}</ArbitraryIdentifier></QualificationConfirmSearchInfo>"
    )
}

const MIC: &str = "<MedicalInstitutionCode>9900000001</MedicalInstitutionCode>";

fn confirm_unit(status: &str) -> String {
    let error = if status == "2" {
        "<ProcessingResultCode>SYN-P0001</ProcessingResultCode><ProcessingResultMessage>【合成】エラー</ProcessingResultMessage>"
    } else {
        "<QualificationValidity>1</QualificationValidity>\
         <ResultOfQualificationConfirmation><InsuredCardClassification>01</InsuredCardClassification>\
         <Name>検証　一郎</Name><Sex1>1</Sex1><Birthdate>19780815</Birthdate><InsurerName>テスト健康保険組合</InsurerName>\
         </ResultOfQualificationConfirmation>"
    };
    format!(
        "<BulkConfirmUnit>{}<ProcessingResultStatus>{status}</ProcessingResultStatus>{error}</BulkConfirmUnit>",
        search_info("P1_1")
    )
}

/// (file name, content) of a clean sample of every kind.
fn samples() -> Vec<(&'static str, String)> {
    let reception = "<ReceptionNumber>SYN-R-0001</ReceptionNumber>";
    vec![
        (
            "OQSsiimm01req_202501010001.xml",
            msg(
                &format!("{MIC}<ArbitraryFileIdentifier>A1</ArbitraryFileIdentifier>"),
                &registration_info("P0001"),
            ),
        ),
        (
            "OQSsiimm01res_202501010001.xml",
            msg(
                RESULT_HEADER,
                &format!(
                    "{}<ProcessingResultStatus>1</ProcessingResultStatus>",
                    registration_info("P0001")
                ),
            ),
        ),
        (
            "OQSmuimm01req_202501010002.xml",
            msg(
                MIC,
                &format!("{}{}", registration_info("P0001"), registration_info("P0002")),
            ),
        ),
        (
            "OQSmuimm01res_202501010002.xml",
            msg(
                RESULT_HEADER,
                &format!("{reception}<ProcessingResultStatus>1</ProcessingResultStatus>"),
            ),
        ),
        ("OQSmuimm02req_202501010003.xml", msg(MIC, reception)),
        (
            "OQSmuimm02res_202501010003.xml",
            msg(
                &format!("{RESULT_HEADER}{reception}"),
                &format!(
                    "<BulkRegistrationUnit>{}<ProcessingResultStatus>1</ProcessingResultStatus></BulkRegistrationUnit>",
                    registration_info("P0001")
                ),
            ),
        ),
        (
            "OQSmuquc01req_202501010004.xml",
            msg(
                &format!("<QualificationConfirmationDate>20250101</QualificationConfirmationDate>{MIC}"),
                &format!("{}{}", search_info("P1_1"), search_info("P2_2")),
            ),
        ),
        (
            "OQSmuquc01res_202501010004.xml",
            msg(
                RESULT_HEADER,
                &format!("{reception}<ReceptionDateTime>20250101093000</ReceptionDateTime>"),
            ),
        ),
        (
            "OQSmuquc02res_202501010005.xml",
            msg(
                &format!(
                    "{RESULT_HEADER}{reception}<NumberOfProcessingResult>2</NumberOfProcessingResult>\
                     <NumberOfNormalProcessing>1</NumberOfNormalProcessing><NumberOfError>1</NumberOfError>"
                ),
                &format!("{}{}", confirm_unit("1"), confirm_unit("2")),
            ),
        ),
        (
            "OQSmutic01req_202501010006.xml",
            msg(
                MIC,
                "<QualificationConfirmSearchInfo><MedicalTreatmentMonth>202501</MedicalTreatmentMonth></QualificationConfirmSearchInfo>",
            ),
        ),
        (
            "OQSmuhvq01req_202501010007.xml",
            msg(
                MIC,
                "<QualificationConfirmSearchInfo><ConsentDateFrom>20241201</ConsentDateFrom><ConsentDateTo>20250101</ConsentDateTo>\
                 <MedicalTreatmentFlag>2</MedicalTreatmentFlag></QualificationConfirmSearchInfo>",
            ),
        ),
        (
            "OQSmuonq01req_202501010008.xml",
            msg(
                MIC,
                "<QualificationConfirmSearchInfo><ExaminationDateFrom>20241201</ExaminationDateFrom>\
                 <ExaminationDateTo>20250101</ExaminationDateTo><MedicalTreatmentFlag>3</MedicalTreatmentFlag>\
                 </QualificationConfirmSearchInfo>",
            ),
        ),
        (
            "YZKsiquc01req_022501010900P001.xml",
            msg(
                &format!(
                    "{MIC}<InsurerNumber>  990001</InsurerNumber><InsuranceCardSymbol>ﾃｽﾄ</InsuranceCardSymbol>\
                     <InsuredPersonIdentificationNumber>000001</InsuredPersonIdentificationNumber><BranchNumber>00</BranchNumber>\
                     <ArbitraryFileIdentifier>P001</ArbitraryFileIdentifier>"
                ),
                "<StartDate>202407</StartDate><EndDate>202501</EndDate><FileCategory>2</FileCategory>\
                 <PrDiInfClassification>1</PrDiInfClassification><MedicalTreatmentFlag>1</MedicalTreatmentFlag>",
            ),
        ),
        (
            "TKKsiquc01req_022501010900P001.xml",
            msg(
                &format!(
                    "{MIC}<InsurerNumber>  990001</InsurerNumber><InsuredPersonIdentificationNumber>000001</InsuredPersonIdentificationNumber>"
                ),
                "<FileCategory>2</FileCategory><MedicalTreatmentFlag>1</MedicalTreatmentFlag>",
            ),
        ),
        (
            "YZKsiquc01res_022501010900P001.xml",
            msg(
                "<ProcessExecutionTime>20250101093000</ProcessExecutionTime><MedicalInstitutionCode>9900000001</MedicalInstitutionCode>\
                 <ResultCode>1</ResultCode><CharacterCodeIdentifier>0</CharacterCodeIdentifier>\
                 <QuaInf><Name>検証　一郎</Name><KanaName>ｹﾝｼｮｳ ｲﾁﾛｳ</KanaName><Birth>19780815</Birth><AdmGendCode>1</AdmGendCode></QuaInf>",
                "<MeTrMonthInf><MeTrMonth>202412</MeTrMonth><MeTrDiHNm>試験薬局</MeTrDiHNm><DiDateInfs><DiDateInf>\
                 <DiDate>20241210</DiDate><DrugInfs><DrugInf><DrugC>SYN0001</DrugC><DrugN>【合成】検証錠10mg</DrugN>\
                 <Qua1>1</Qua1><Unit>錠</Unit><Times>14</Times></DrugInf></DrugInfs></DiDateInf></DiDateInfs></MeTrMonthInf>",
            ),
        ),
        (
            "TKKsiquc01res_022501010900P001.xml",
            msg(
                "<ProcessExecutionTime>20250101093000</ProcessExecutionTime><MedicalInstitutionCode>9900000001</MedicalInstitutionCode>\
                 <ResultCode>1</ResultCode><CharacterCodeIdentifier>0</CharacterCodeIdentifier>\
                 <QualificationsInfo><Name>検証　一郎</Name><Birthday>19780815</Birthday></QualificationsInfo>",
                "<SpecificHealthCheckupInfo><EffectiveTime>20240601</EffectiveTime><HealthCheckupResultAndQuestionInfos>\
                 <HealthCheckupResultAndQuestionInfo><ItemCode>9N001000000000001</ItemCode><ItemName>身長</ItemName>\
                 <DataValue>170.2</DataValue><Unit>cm</Unit></HealthCheckupResultAndQuestionInfo>\
                 </HealthCheckupResultAndQuestionInfos></SpecificHealthCheckupInfo>",
            ),
        ),
    ]
}

fn kind_of(name: &str) -> MessageKind {
    let parsed = FileName::parse_os(OsStr::new(name)).expect("a valid name");
    MessageKind::for_file_name(&parsed)
        .expect("a modelled family")
        .expect("an XML message")
}

fn errors(kind: MessageKind, text: &str) -> Vec<&'static str> {
    lint(kind, text.as_bytes(), &Limits::default())
        .findings
        .iter()
        .filter(|f| f.severity == onshi_protocol::Severity::Error)
        .map(|f| f.check.as_str())
        .collect()
}

#[test]
fn every_sample_names_its_kind_reads_and_lints_clean() {
    let mut kinds = std::collections::BTreeSet::new();
    for (name, text) in samples() {
        let kind = kind_of(name);
        kinds.insert(format!("{kind:?}"));
        let report = lint(kind, text.as_bytes(), &Limits::default());
        assert!(!report.has_errors(), "{name}: {:#?}", report.findings);
        let doc = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(MessageKind::sniff(&doc.root), kind, "{name}: content sniffing");
        let read = match kind {
            MessageKind::ReferenceRegistrationRequest => {
                read_message::<ReferenceRegistrationRequest>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::ReferenceRegistrationResult => {
                read_message::<ReferenceRegistrationResult>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::BulkRegistrationRequest => {
                read_message::<BulkRegistrationRequest>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::BulkRegistrationResult => {
                read_message::<BulkRegistrationResult>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::BulkConfirmRequest => {
                read_message::<BulkConfirmRequest>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::BulkConfirmResult => {
                read_message::<BulkConfirmResult>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::BulkUploadResult => {
                read_message::<BulkUploadResult>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::BulkDownloadRequest => {
                read_message::<BulkDownloadRequest>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::MedicalAidPullRequest | MessageKind::HomeVisitPullRequest | MessageKind::OnlinePullRequest => {
                read_message::<BulkPullRequest>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::DrugInfoRequest | MessageKind::CheckupInfoRequest => {
                read_message::<MedicalInfoRequest>(text.as_bytes(), &Limits::default()).map(drop)
            }
            MessageKind::DrugInfoResult => read_message::<DrugResult>(text.as_bytes(), &Limits::default()).map(drop),
            MessageKind::CheckupInfoResult => {
                read_message::<CheckupResult>(text.as_bytes(), &Limits::default()).map(drop)
            }
            other => panic!("no sample expected for {other:?}"),
        };
        read.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(kinds.len(), 15, "{kinds:?}");
}

#[test]
fn repeated_records_are_read_in_order() {
    let text = &samples()[2].1;
    let (r, _) = read_message::<BulkRegistrationRequest>(text.as_bytes(), &Limits::default()).unwrap();
    let refs: Vec<_> = r
        .message_body
        .unwrap()
        .reference_number_registration_info
        .unwrap()
        .0
        .into_iter()
        .map(|i| i.reference_number.unwrap())
        .collect();
    assert_eq!(refs, ["P0001", "P0002"]);
}

#[test]
fn names_of_every_step_map_to_their_kinds() {
    for (name, kind) in [
        ("OQSmutic01res_1.xml", MessageKind::BulkUploadResult),
        ("OQSmuhvq02req_1.xml", MessageKind::BulkDownloadRequest),
        ("OQSmuonq02res_1.xml", MessageKind::BulkConfirmResult),
        ("OQSmuimm02res_1.xml", MessageKind::BulkRegistrationResult),
    ] {
        assert_eq!(kind_of(name), kind, "{name}");
    }
    let zip = FileName::parse_os(OsStr::new("OQSmutic02res_1.zip")).unwrap();
    assert_eq!(MessageKind::for_file_name(&zip), Ok(None));
    let cip = FileName::parse_os(OsStr::new("CIPsiquc01req_1.xml")).unwrap();
    assert!(
        MessageKind::for_file_name(&cip)
            .unwrap_err()
            .to_string()
            .contains("not public")
    );
}

#[test]
fn a_bulk_unit_missing_a_required_value_is_named_by_position() {
    let text = msg(
        MIC,
        &format!(
            "{}{}",
            registration_info("P0001"),
            registration_info("P0002").replace("<InsurerNumber>06990012</InsurerNumber>", "")
        ),
    );
    let r = lint(
        MessageKind::BulkRegistrationRequest,
        text.as_bytes(),
        &Limits::default(),
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.check == "MSG-REQ-001")
        .expect("MSG-REQ-001");
    assert_eq!(
        f.path.as_deref(),
        Some("XmlMsg/MessageBody/ReferenceNumberRegistrationInfo[2]")
    );
    assert!(f.message.contains("InsurerNumber"), "{}", f.message);
    let empty = msg(MIC, "");
    assert!(errors(MessageKind::BulkRegistrationRequest, &empty).contains(&"MSG-REQ-001"));
}

#[test]
fn drug_requests_with_the_qualification_element_names_are_caught() {
    // A client that reused its 資格確認 writer: InsuredIdentificationNumber instead of
    // InsuredPersonIdentificationNumber.
    let text = msg(
        &format!(
            "{MIC}<InsurerNumber>06990012</InsurerNumber><InsuredIdentificationNumber>1101</InsuredIdentificationNumber>"
        ),
        "<StartDate>202501</StartDate><EndDate>202407</EndDate><FileCategory>2</FileCategory><MedicalTreatmentFlag>1</MedicalTreatmentFlag>",
    );
    let r = lint(MessageKind::DrugInfoRequest, text.as_bytes(), &Limits::default());
    let ids: Vec<_> = r.findings.iter().map(|f| f.check.as_str()).collect();
    for id in ["MSG-REQ-001", "MSG-ELEM-001", "MSG-PULL-001"] {
        assert!(ids.contains(&id), "{id} missing: {:#?}", r.findings);
    }
}

#[test]
fn pulls_need_their_flag_and_a_range_in_order() {
    let wrong_flag = msg(
        MIC,
        "<QualificationConfirmSearchInfo><ConsentDateFrom>20250101</ConsentDateFrom><ConsentDateTo>20241201</ConsentDateTo>\
         <MedicalTreatmentFlag>3</MedicalTreatmentFlag></QualificationConfirmSearchInfo>",
    );
    let r = lint(
        MessageKind::HomeVisitPullRequest,
        wrong_flag.as_bytes(),
        &Limits::default(),
    );
    let pulls: Vec<_> = r.findings.iter().filter(|f| f.check == "MSG-PULL-001").collect();
    assert_eq!(pulls.len(), 2, "flag and range: {:#?}", r.findings);
    let no_range = msg(
        MIC,
        "<QualificationConfirmSearchInfo><MedicalTreatmentFlag>3</MedicalTreatmentFlag></QualificationConfirmSearchInfo>",
    );
    assert_eq!(errors(MessageKind::OnlinePullRequest, &no_range), ["MSG-PULL-001"]);
}

#[test]
fn bulk_results_must_be_consistent() {
    let processing = msg(
        &format!(
            "{}<ReceptionNumber>R</ReceptionNumber>",
            RESULT_HEADER.replace(">1</SegmentOfResult>", ">2</SegmentOfResult>")
        ),
        &confirm_unit("1"),
    );
    assert_eq!(errors(MessageKind::BulkConfirmResult, &processing), ["MSG-BULK-001"]);
    let miscounted = samples()[8]
        .1
        .replace("<NumberOfError>1</NumberOfError>", "<NumberOfError>0</NumberOfError>");
    assert_eq!(errors(MessageKind::BulkConfirmResult, &miscounted), ["MSG-BULK-001"]);
    let unexplained = samples()[8]
        .1
        .replace("<ProcessingResultCode>SYN-P0001</ProcessingResultCode>", "");
    assert_eq!(errors(MessageKind::BulkConfirmResult, &unexplained), ["MSG-RES-001"]);
    let no_reception = msg(RESULT_HEADER, "<ProcessingResultStatus>1</ProcessingResultStatus>");
    assert_eq!(errors(MessageKind::BulkUploadResult, &no_reception), ["MSG-REQ-001"]);
}

#[test]
fn medical_info_errors_carry_their_message() {
    let failed = samples()[14]
        .1
        .replace("<ResultCode>1</ResultCode>", "<ResultCode>9</ResultCode>");
    assert_eq!(errors(MessageKind::DrugInfoResult, &failed), ["MSG-RES-001"]);
}
