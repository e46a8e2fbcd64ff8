//! The families beyond the single 資格確認: 照会番号登録 (single and bulk), 資格確認一括照会,
//! the 医療扶助 / 訪問診療 / オンライン診療 pulls, and 薬剤 / 特定健診 — each as a correct client
//! does it (bulk: upload, wait for the ReceptionNumber, poll patiently while 処理中; medical
//! information: only with a valid consent from the face reader) unless a defect says otherwise.

use std::collections::HashMap;
use std::thread::sleep;
use std::time::{Duration, Instant};

use onshi_protocol::codes::{
    LimitConsentFlag, MedicalTreatmentFlag, PrDiInfClassification, ProcessingResultStatus, SegmentOfResult,
};
use onshi_protocol::driver::{
    BulkResult, Card, ConfirmBulkParams, ConfirmBulkResult, Consents, FetchMedicalInfoParams, FetchMedicalInfoResult,
    MedicalInfoFormat, MedicalInfoKind, Outcome, PatientRecord, PullBulkParams, PullBulkResult, PullKind,
    PulledPatient, ReferenceResult, RegisterReferenceNumberParams, RegisterReferenceNumberResult,
};
use onshi_protocol::filename::{Family, Step};
use onshi_protocol::model::XmlRecord;
use onshi_protocol::model::*;
use onshi_protocol::read_message;
use onshi_protocol::xml::Limits;
use serde_json::json;

use crate::defects::Defect;
use crate::folder::{Arrival, FolderClient, Sent, today_jst};
use crate::interpret::{self, Defects as _};

/// Consents the client has seen in face files, by card — what a receipt computer keeps so
/// that staff can open 薬剤 / 特定健診 only while the patient's consent holds.
#[derive(Debug, Default)]
pub struct ConsentBook {
    by_card: HashMap<(String, String, String), Consents>,
}

fn card_key(insurer: &str, number: &str, birthdate: &str) -> (String, String, String) {
    (insurer.trim().to_owned(), number.to_owned(), birthdate.to_owned())
}

impl ConsentBook {
    pub(crate) fn remember(&mut self, record: &PatientRecord, consents: Consents) {
        if let (Some(i), Some(n), Some(b)) = (&record.insurer_number, &record.number, &record.birthdate) {
            self.by_card.insert(card_key(i, n, b), consents);
        }
    }

    /// `Ok` when the card's consent for `kind` is given and its AvailableTime is after `now`
    /// (`yyyyMMddHHmmss`); otherwise why not, for the receptionist.
    fn check(&self, card: &Card, kind: MedicalInfoKind, now: &str) -> Result<(), String> {
        let consents = self
            .by_card
            .get(&card_key(&card.insurer_number, &card.number, &card.birthdate))
            .ok_or("この患者の顔認証での同意情報がありません (no consent seen at the face reader)")?;
        let record = match kind {
            MedicalInfoKind::Drug => &consents.pharmacists,
            MedicalInfoKind::Checkup => &consents.specific_health_checkups,
        };
        match record {
            Some(r) if r.flag == "1" => match r.available_time.as_deref() {
                Some(until) if until.len() == now.len() && until < now => Err(format!(
                    "閲覧同意の有効期限が切れています ({until}) (the consent expired)"
                )),
                _ => Ok(()),
            },
            _ => Err("閲覧に同意していません (the patient did not consent)".into()),
        }
    }
}

/// What the terminal said went wrong, from a header (`ErrorCode`, `ErrorMessage`).
fn header_error(h: &MessageHeader) -> String {
    format!(
        "{} {}",
        h.error_code.as_deref().unwrap_or(""),
        h.error_message.as_deref().unwrap_or("")
    )
    .trim()
    .to_owned()
}

fn header(institution: &str, date: &str, afi: &str) -> MessageHeader {
    MessageHeader {
        qualification_confirmation_date: Some(date.to_owned()),
        medical_institution_code: Some(institution.to_owned()),
        arbitrary_file_identifier: Some(afi.to_owned()),
        ..Default::default()
    }
}

fn read<T: XmlRecord>(client: &FolderClient, name: &str, bytes: &[u8]) -> Result<T, String> {
    read_message::<T>(&client.as_read(bytes), &Limits::default())
        .map(|(m, _)| m)
        .map_err(|e| format!("{name} を読み取れません: {e}"))
}

fn timeout_text(what: &str, ms: u64) -> String {
    format!("タイムアウト: {ms} ms 以内に{what}の結果が返りませんでした (no result within {ms} ms)")
}

impl FolderClient {
    /// Waits for one result; the `.err` convention and a timeout become errors.
    fn receive(&mut self, sent: &Sent, deadline: Instant, what: &str, ms: u64) -> Result<(String, Vec<u8>), String> {
        match self.wait(sent, deadline) {
            Some(Arrival::Result { name, bytes }) => Ok((name, bytes)),
            Some(Arrival::Refused { text }) => Err(format!("端末が要求を処理できませんでした: {}", text.trim())),
            None => Err(timeout_text(what, ms)),
        }
    }

    /// Upload (`01req`) → ReceptionNumber (`01res`) → download (`02req`) until the result is
    /// no longer 処理中. Returns the finished `02res` (XML, unzipped).
    fn bulk_flow<T: XmlRecord>(
        &mut self,
        family: Family,
        date: &str,
        timeout_ms: Option<u64>,
        upload: impl FnOnce(&str) -> T,
    ) -> Result<(String, Vec<u8>), String> {
        let ms = timeout_ms.unwrap_or(self.options.timeout_ms);
        let deadline = self.deadline(timeout_ms);
        let sent = self.send(family, Step::First, date, None, upload)?;
        if self.has(Defect::Bulk02Before01) {
            // Asks for the result straight away, with the number it has not been given yet.
            let early = self.download_request(family, date, "")?;
            tracing::debug!("sent {} before the upload result", early.name);
        }
        let (name, bytes) = self.receive(&sent, deadline, "一括照会の受付", ms)?;
        let received: BulkUploadResult = read(self, &name, &bytes)?;
        let h = received.message_header.unwrap_or_default();
        if h.segment_of_result
            .as_ref()
            .is_some_and(|s| *s != SegmentOfResult::Normal)
        {
            return Err(format!("一括照会を受け付けられませんでした: {}", header_error(&h)));
        }
        let body = received.message_body.unwrap_or_default();
        if body.processing_result_status == Some(ProcessingResultStatus::Error) {
            return Err(format!(
                "一括照会を受け付けられませんでした: {} {}",
                body.processing_result_code.unwrap_or_default(),
                body.processing_result_message.unwrap_or_default()
            ));
        }
        let reception = body
            .reception_number
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("{name} に ReceptionNumber（受付番号）がありません"))?;
        loop {
            let sent = self.download_request(family, date, &reception)?;
            let (name, bytes) = self.receive(&sent, deadline, "一括照会", ms)?;
            let result: BulkConfirmResult = read(self, &name, &bytes)?;
            let h = result.message_header.unwrap_or_default();
            match h.segment_of_result {
                Some(SegmentOfResult::Normal) => return Ok((name, bytes)),
                Some(SegmentOfResult::Processing) if !self.has(Defect::ProcessingAsError) => {
                    let pause = if self.has(Defect::Poll100ms) {
                        100
                    } else {
                        self.options.bulk_poll_ms
                    };
                    if Instant::now() + Duration::from_millis(pause) >= deadline {
                        return Err(timeout_text("一括照会（処理中）", ms));
                    }
                    sleep(Duration::from_millis(pause));
                }
                Some(SegmentOfResult::Processing) => {
                    return Err(format!("一括照会がエラーになりました: 処理中 ({reception})"));
                }
                _ => return Err(format!("一括照会がエラーになりました: {}", header_error(&h))),
            }
        }
    }

    fn download_request(&mut self, family: Family, date: &str, reception: &str) -> Result<Sent, String> {
        let institution = self.institution_code().to_owned();
        self.send(family, Step::Second, date, Some(reception.to_owned()), |afi: &str| {
            BulkDownloadRequest {
                message_header: Some(MessageHeader {
                    medical_institution_code: Some(institution),
                    arbitrary_file_identifier: Some(afi.to_owned()),
                    ..Default::default()
                }),
                message_body: Some(BulkDownloadRequestBody {
                    reception_number: Some(reception.to_owned()),
                }),
            }
        })
    }

    fn registration_info(&self, reference: &str, card: &Card) -> ReferenceNumberRegistrationInfo {
        let insurer = if self.has(Defect::ZeroPadReference) {
            format!("{:0>8}", card.insurer_number.trim())
        } else {
            format!("{:>8}", card.insurer_number.trim())
        };
        ReferenceNumberRegistrationInfo {
            reference_number: Some(reference.to_owned()),
            insurer_number: Some(insurer),
            insured_card_symbol: card.symbol.clone().filter(|s| !s.is_empty()),
            insured_identification_number: Some(card.number.clone()),
            insured_branch_number: card.branch.clone(),
        }
    }

    /// `register_reference_number`: one `OQSsiimm01req` per entry, or one `OQSmuimm01` upload.
    pub fn register_reference_number(&mut self, p: &RegisterReferenceNumberParams) -> RegisterReferenceNumberResult {
        let date = today_jst();
        let institution = self.institution_code().to_owned();
        let failed = |message: &str| -> Vec<ReferenceResult> {
            p.entries
                .iter()
                .map(|e| ReferenceResult {
                    reference_number: e.reference_number.clone(),
                    ok: false,
                    message: message.to_owned(),
                })
                .collect()
        };
        if p.bulk {
            let infos: Vec<_> = p
                .entries
                .iter()
                .map(|e| self.registration_info(&e.reference_number, &e.card))
                .collect();
            let flow = self.bulk_flow(Family::OqsMuImm, &date, p.timeout_ms, |afi: &str| {
                BulkRegistrationRequest {
                    message_header: Some(header(&institution, &date, afi)),
                    message_body: Some(BulkRegistrationRequestBody {
                        reference_number_registration_info: Some(Repeated(infos)),
                    }),
                }
            });
            let units = flow.and_then(|(name, bytes)| {
                let r: BulkRegistrationResult = read(self, &name, &bytes)?;
                Ok(r.message_body
                    .and_then(|b| b.bulk_registration_unit)
                    .map(|u| u.0)
                    .unwrap_or_default())
            });
            let results = match units {
                Err(e) => failed(&e),
                Ok(units) => p
                    .entries
                    .iter()
                    .map(|e| {
                        let unit = units.iter().find(|u| {
                            u.reference_number_registration_info
                                .as_ref()
                                .and_then(|i| i.reference_number.as_deref())
                                == Some(e.reference_number.as_str())
                        });
                        match unit {
                            None => ReferenceResult {
                                reference_number: e.reference_number.clone(),
                                ok: false,
                                message: "一括登録結果にこの照会番号がありません".into(),
                            },
                            Some(u) => ReferenceResult {
                                reference_number: e.reference_number.clone(),
                                ok: u.processing_result_status == Some(ProcessingResultStatus::Normal),
                                message: registration_message(
                                    &self.options.defects,
                                    u.processing_result_status.as_ref(),
                                    u.processing_result_code.as_deref(),
                                    u.processing_result_message.as_deref(),
                                ),
                            },
                        }
                    })
                    .collect(),
            };
            return RegisterReferenceNumberResult { results };
        }
        let mut results = Vec::new();
        for e in &p.entries {
            let info = self.registration_info(&e.reference_number, &e.card);
            let ms = p.timeout_ms.unwrap_or(self.options.timeout_ms);
            let deadline = self.deadline(p.timeout_ms);
            let outcome = self
                .send(Family::OqsSiImm, Step::First, &date, None, |afi: &str| {
                    ReferenceRegistrationRequest {
                        message_header: Some(header(&institution, &date, afi)),
                        message_body: Some(ReferenceRegistrationRequestBody {
                            reference_number_registration_info: Some(info),
                        }),
                    }
                })
                .and_then(|sent| self.receive(&sent, deadline, "照会番号登録", ms))
                .and_then(|(name, bytes)| read::<ReferenceRegistrationResult>(self, &name, &bytes));
            results.push(match outcome {
                Err(message) => ReferenceResult {
                    reference_number: e.reference_number.clone(),
                    ok: false,
                    message,
                },
                Ok(r) => {
                    let h = r.message_header.unwrap_or_default();
                    let b = r.message_body.unwrap_or_default();
                    if h.segment_of_result
                        .as_ref()
                        .is_some_and(|s| *s != SegmentOfResult::Normal)
                    {
                        ReferenceResult {
                            reference_number: e.reference_number.clone(),
                            ok: false,
                            message: format!("照会番号を登録できませんでした: {}", header_error(&h)),
                        }
                    } else {
                        ReferenceResult {
                            reference_number: e.reference_number.clone(),
                            ok: b.processing_result_status == Some(ProcessingResultStatus::Normal),
                            message: registration_message(
                                &self.options.defects,
                                b.processing_result_status.as_ref(),
                                b.processing_result_code.as_deref(),
                                b.processing_result_message.as_deref(),
                            ),
                        }
                    }
                }
            });
        }
        RegisterReferenceNumberResult { results }
    }

    /// `confirm_bulk`: one `OQSmuquc01` upload of every card, then the download.
    pub fn confirm_bulk(&mut self, p: &ConfirmBulkParams) -> ConfirmBulkResult {
        let date = p.date.clone().unwrap_or_else(today_jst);
        let institution = self.institution_code().to_owned();
        let defects = self.options.defects.clone();
        let infos: Vec<QualificationConfirmSearchInfo> = p
            .cards
            .iter()
            .enumerate()
            .map(|(i, card)| {
                let request = crate::request::qualification_request(card, &date, false, &institution, None, &defects);
                let mut info = request
                    .message_body
                    .and_then(|b| b.qualification_confirm_search_info)
                    .unwrap_or_default();
                info.limit_application_certificate_related_cons_flg = Some(LimitConsentFlag::NotConsented);
                info.arbitrary_identifier = Some(format!("P{}", i + 1));
                info
            })
            .collect();
        let flow = self.bulk_flow(Family::OqsMuQuc, &date, p.timeout_ms, |afi: &str| BulkConfirmRequest {
            message_header: Some(header(&institution, &date, afi)),
            message_body: Some(BulkConfirmRequestBody {
                qualification_confirm_search_info: Some(Repeated(infos)),
            }),
        });
        let units = flow.and_then(|(name, bytes)| Ok(units(read::<BulkConfirmResult>(self, &name, &bytes)?)));
        let results = p
            .cards
            .iter()
            .map(|card| match &units {
                Err(e) => BulkResult {
                    card: card.clone(),
                    outcome: Outcome::Error,
                    message: e.clone(),
                    record: None,
                },
                Ok(units) => {
                    let unit = units.iter().find(|u| {
                        u.qualification_confirm_search_info.as_ref().is_some_and(|i| {
                            i.insurer_number.as_deref().map(str::trim) == Some(card.insurer_number.trim())
                                && i.insured_identification_number.as_deref() == Some(card.number.as_str())
                                && i.birthdate.as_deref() == Some(card.birthdate.as_str())
                        })
                    });
                    match unit {
                        None => BulkResult {
                            card: card.clone(),
                            outcome: Outcome::Error,
                            message: "一括照会結果にこの保険証がありません".into(),
                            record: None,
                        },
                        Some(u) => {
                            let c = interpret::conclude(&unit_as_result(u), None, &self.options.defects);
                            BulkResult {
                                card: card.clone(),
                                outcome: c.outcome,
                                message: c.message,
                                record: c.record,
                            }
                        }
                    }
                }
            })
            .collect();
        ConfirmBulkResult { results }
    }

    /// `pull_bulk`: a 医療扶助 / 訪問診療 / オンライン診療 pull.
    pub fn pull_bulk(&mut self, p: &PullBulkParams) -> PullBulkResult {
        let date = today_jst();
        let institution = self.institution_code().to_owned();
        let (family, flag) = match p.kind {
            PullKind::MedicalAid => (Family::OqsMuTic, None),
            PullKind::HomeVisit => (Family::OqsMuHvq, Some(MedicalTreatmentFlag::HomeVisit)),
            PullKind::Online => (Family::OqsMuOnq, Some(MedicalTreatmentFlag::Online)),
        };
        let search = BulkPullSearchInfo {
            medical_treatment_month: p.month.clone(),
            consent_date_from: p.consent_from.clone(),
            consent_date_to: p.consent_to.clone(),
            examination_date_from: p.examined_from.clone(),
            examination_date_to: p.examined_to.clone(),
            medical_treatment_flag: flag,
        };
        let flow = self.bulk_flow(family, &date, p.timeout_ms, |afi: &str| BulkPullRequest {
            message_header: Some(header(&institution, &date, afi)),
            message_body: Some(BulkPullRequestBody {
                qualification_confirm_search_info: Some(search),
            }),
        });
        let units = match flow.and_then(|(name, bytes)| Ok(units(read::<BulkConfirmResult>(self, &name, &bytes)?))) {
            Ok(u) => u,
            Err(message) => {
                return PullBulkResult {
                    ok: false,
                    message,
                    patients: Vec::new(),
                };
            }
        };
        let mut patients = Vec::new();
        for u in &units {
            let c = interpret::conclude(&unit_as_result(u), None, &self.options.defects);
            for r in u.result_of_qualification_confirmation.iter().flat_map(|r| r.0.iter()) {
                patients.push(PulledPatient {
                    name: r.name.clone().unwrap_or_default(),
                    birthdate: r.birthdate.clone().unwrap_or_default(),
                    outcome: c.outcome,
                    record: Some(interpret::patient_record(r, &self.options.defects)),
                    public_expense_number: r.public_expense_number.clone(),
                    beneficiary_number: r.beneficiary_number.clone(),
                });
            }
        }
        PullBulkResult {
            ok: true,
            message: format!("{} 名", patients.len()),
            patients,
        }
    }

    /// `fetch_medical_info`: 薬剤情報 / 特定健診情報 for a patient whose consent holds.
    pub fn fetch_medical_info(&mut self, p: &FetchMedicalInfoParams) -> FetchMedicalInfoResult {
        let refused = |message: String| FetchMedicalInfoResult {
            ok: false,
            message,
            items: None,
            document_bytes: None,
        };
        // The harness's clock when it sends a well-formed one, else the client's own (JST).
        let now = p
            .now
            .clone()
            .filter(|n| n.len() == 14 && n.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| {
                (chrono::Utc::now() + chrono::Duration::hours(9))
                    .format("%Y%m%d%H%M%S")
                    .to_string()
            });
        if !self.has(Defect::DrugWithoutConsent)
            && let Err(why) = self.consents.check(&p.card, p.kind, &now)
        {
            return refused(why);
        }
        let family = match p.kind {
            MedicalInfoKind::Drug => Family::YzkSiQuc,
            MedicalInfoKind::Checkup => Family::TkkSiQuc,
        };
        let category = match p.format {
            MedicalInfoFormat::Pdf => "1",
            MedicalInfoFormat::Xml => "2",
        };
        let (start, end) = match (p.kind, &p.period) {
            (MedicalInfoKind::Checkup, _) => (None, None),
            (MedicalInfoKind::Drug, Some(period)) => (Some(period.from.clone()), Some(period.to.clone())),
            (MedicalInfoKind::Drug, None) => (Some(months_before(&now, 6)), Some(now[..6].to_owned())),
        };
        let institution = self.institution_code().to_owned();
        let card = p.card.clone();
        let ms = p.timeout_ms.unwrap_or(self.options.timeout_ms);
        let deadline = self.deadline(p.timeout_ms);
        let received = self
            .send(family, Step::First, &now[..8], None, |afi: &str| MedicalInfoRequest {
                message_header: Some(MedicalInfoRequestHeader {
                    medical_institution_code: Some(institution),
                    insurer_number: Some(format!("{:>8}", card.insurer_number.trim())),
                    insurance_card_symbol: card.symbol.clone().filter(|s| !s.is_empty()),
                    insured_person_identification_number: Some(card.number.clone()),
                    branch_number: card.branch.clone(),
                    arbitrary_file_identifier: Some(afi.to_owned()),
                }),
                message_body: Some(MedicalInfoRequestBody {
                    start_date: start,
                    end_date: end,
                    file_category: Some(category.into()),
                    pr_di_inf_classification: Some(PrDiInfClassification::Show),
                    medical_treatment_flag: Some(MedicalTreatmentFlag::Outpatient),
                }),
            })
            .and_then(|sent| self.receive(&sent, deadline, "医療情報閲覧", ms));
        let (name, bytes) = match received {
            Ok(r) => r,
            Err(e) => return refused(e),
        };
        if name.ends_with(".pdf") && !self.has(Defect::PdfAsXml) {
            return FetchMedicalInfoResult {
                ok: true,
                message: format!("{name} ({} bytes)", bytes.len()),
                items: None,
                document_bytes: Some(bytes.len() as u64),
            };
        }
        let limit = if self.has(Defect::FirstItemOnly) { 1 } else { usize::MAX };
        let answer = match p.kind {
            MedicalInfoKind::Drug => read::<DrugResult>(self, &name, &bytes).map(|r| drug_items(r, limit)),
            MedicalInfoKind::Checkup => read::<CheckupResult>(self, &name, &bytes).map(|r| checkup_items(r, limit)),
        };
        match answer {
            Err(e) => refused(e),
            Ok((code, message, items)) if code.as_deref() == Some("1") => FetchMedicalInfoResult {
                ok: true,
                message: message.unwrap_or_else(|| format!("{} 件", items.len())),
                items: Some(items),
                document_bytes: None,
            },
            Ok((code, message, _)) => refused(format!(
                "{} {}",
                code.unwrap_or_default(),
                message.unwrap_or_else(|| "閲覧できませんでした".into())
            )),
        }
    }
}

fn registration_message(
    defects: &[Defect],
    status: Option<&ProcessingResultStatus>,
    code: Option<&str>,
    message: Option<&str>,
) -> String {
    match status {
        Some(ProcessingResultStatus::Normal) => "登録しました".into(),
        _ if defects.has(Defect::GenericErrorMessage) => interpret::GENERIC_ERROR.into(),
        _ => format!(
            "照会番号を登録できませんでした: {} {}",
            code.unwrap_or(""),
            message.unwrap_or("")
        )
        .trim()
        .to_owned(),
    }
}

fn units(r: BulkConfirmResult) -> Vec<BulkConfirmUnit> {
    r.message_body
        .and_then(|b| b.bulk_confirm_unit)
        .map(|u| u.0)
        .unwrap_or_default()
}

/// A bulk unit read like a single answer, so that it gets the same interpretation.
fn unit_as_result(u: &BulkConfirmUnit) -> QualificationResult {
    QualificationResult {
        message_header: Some(MessageHeader {
            segment_of_result: Some(SegmentOfResult::Normal),
            ..Default::default()
        }),
        message_body: Some(QualificationResultBody {
            processing_result_status: u.processing_result_status.clone(),
            processing_result_code: u.processing_result_code.clone(),
            processing_result_message: u.processing_result_message.clone(),
            qualification_validity: u.qualification_validity.clone(),
            result_list: u.result_of_qualification_confirmation.clone().map(|r| ResultList(r.0)),
            ..Default::default()
        }),
    }
}

type Answer = (Option<String>, Option<String>, Vec<serde_json::Value>);

fn drug_items(r: DrugResult, limit: usize) -> Answer {
    let h = r.message_header.unwrap_or_default();
    let mut items = Vec::new();
    for month in r
        .message_body
        .and_then(|b| b.me_tr_month_inf)
        .map(|m| m.0)
        .unwrap_or_default()
    {
        for day in month.di_date_infs.map(|d| d.0).unwrap_or_default() {
            for drug in day.drug_infs.map(|d| d.0).unwrap_or_default().into_iter().take(limit) {
                items.push(json!({
                    "date": day.di_date,
                    "code": drug.drug_c,
                    "name": drug.drug_n,
                    "quantity": drug.qua1,
                    "unit": drug.unit,
                }));
            }
        }
    }
    (h.result_code, h.message_contents, items)
}

fn checkup_items(r: CheckupResult, limit: usize) -> Answer {
    let h = r.message_header.unwrap_or_default();
    let mut items = Vec::new();
    for checkup in r
        .message_body
        .and_then(|b| b.specific_health_checkup_info)
        .map(|c| c.0)
        .unwrap_or_default()
    {
        for i in checkup
            .health_checkup_result_and_question_infos
            .map(|i| i.0)
            .unwrap_or_default()
            .into_iter()
            .take(limit)
        {
            items.push(json!({
                "date": checkup.effective_time,
                "code": i.item_code,
                "name": i.item_name,
                "value": i.data_value,
                "unit": i.unit,
            }));
        }
    }
    (h.result_code, h.message_contents, items)
}

/// `YYYYMM` of `n` months before the month of `now` (`yyyyMMdd…`).
fn months_before(now: &str, n: i32) -> String {
    let year: i32 = now[..4].parse().unwrap_or(2000);
    let month: i32 = now[4..6].parse().unwrap_or(1);
    let total = year * 12 + (month - 1) - n;
    format!("{:04}{:02}", total / 12, total % 12 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_before_crosses_years() {
        assert_eq!(months_before("20251121090000", 6), "202505");
        assert_eq!(months_before("20260301", 6), "202509");
    }

    #[test]
    fn consent_is_checked_for_flag_and_expiry() {
        let mut book = ConsentBook::default();
        let card = Card {
            insurer_number: "06990012".into(),
            symbol: None,
            number: "1".into(),
            branch: None,
            birthdate: "19800101".into(),
        };
        assert!(book.check(&card, MedicalInfoKind::Drug, "20251121090000").is_err());
        let record = PatientRecord {
            insurer_number: Some("06990012".into()),
            number: Some("1".into()),
            birthdate: Some("19800101".into()),
            ..Default::default()
        };
        let consents = Consents {
            pharmacists: Some(onshi_protocol::driver::ConsentRecord {
                flag: "1".into(),
                time: None,
                available_time: Some("20251122090000".into()),
            }),
            ..Default::default()
        };
        book.remember(&record, consents);
        assert!(book.check(&card, MedicalInfoKind::Drug, "20251121090000").is_ok());
        assert!(book.check(&card, MedicalInfoKind::Drug, "20251122090001").is_err());
        assert!(book.check(&card, MedicalInfoKind::Checkup, "20251121090000").is_err());
    }
}
