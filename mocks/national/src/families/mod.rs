//! The national side of the folder interface's other families: 照会番号登録 (single and
//! bulk), the bulk flows with their reception numbers (資格確認一括照会 and the 医療扶助 /
//! 訪問診療 / オンライン診療 pulls), and 薬剤情報 / 特定健診情報.
//!
//! Bulk uploads are answered at once with a `ReceptionNumber`; their results are computed at
//! upload time and handed out once the configured processing time has passed — until then a
//! download gets SegmentOfResult 2 (処理中).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use onshi_protocol::codes::{self, Code};
use onshi_protocol::model::*;
use onshi_protocol::synthetic::{ErrorAnswer, ErrorKey};
use onshi_registry::{CardKey, MedicalAid, Person, PersonId, VisitKind, history};
use serde::{Deserialize, Serialize};

use crate::events::Blob;
use crate::result::{Disclose, result_for, ymd, ymdhms};
use crate::{LocalNational, parse_date, pdf};

/// Which bulk flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkFamily {
    /// `OQSmuimm` 照会番号一括登録.
    ReferenceRegistration,
    /// `OQSmuquc` 資格確認一括照会.
    Confirmation,
    /// `OQSmutic` 医療扶助.
    MedicalAid,
    /// `OQSmuhvq` 訪問診療.
    HomeVisit,
    /// `OQSmuonq` オンライン診療.
    Online,
}

/// A bulk upload (`01req`), by family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "family", content = "request", rename_all = "snake_case")]
pub enum BulkUpload {
    /// 照会番号一括登録 (`OQSmuimm01`).
    ReferenceRegistration(BulkRegistrationRequest),
    /// 資格確認一括照会 (`OQSmuquc01`).
    Confirmation(BulkConfirmRequest),
    /// 医療扶助 (`OQSmutic01`).
    MedicalAid(BulkPullRequest),
    /// 訪問診療 (`OQSmuhvq01`).
    HomeVisit(BulkPullRequest),
    /// オンライン診療 (`OQSmuonq01`).
    Online(BulkPullRequest),
}

impl BulkUpload {
    /// The upload's family.
    pub fn family(&self) -> BulkFamily {
        match self {
            BulkUpload::ReferenceRegistration(_) => BulkFamily::ReferenceRegistration,
            BulkUpload::Confirmation(_) => BulkFamily::Confirmation,
            BulkUpload::MedicalAid(_) => BulkFamily::MedicalAid,
            BulkUpload::HomeVisit(_) => BulkFamily::HomeVisit,
            BulkUpload::Online(_) => BulkFamily::Online,
        }
    }

    fn header(&self) -> MessageHeader {
        let h = match self {
            BulkUpload::ReferenceRegistration(r) => r.message_header.clone(),
            BulkUpload::Confirmation(r) => r.message_header.clone(),
            BulkUpload::MedicalAid(r) | BulkUpload::HomeVisit(r) | BulkUpload::Online(r) => r.message_header.clone(),
        };
        h.unwrap_or_default()
    }
}

/// A bulk download's answer (`02res`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "result", rename_all = "snake_case")]
pub enum BulkDownload {
    /// A bulk registration's result.
    Registration(BulkRegistrationResult),
    /// A bulk confirmation's (or pull's) result.
    Confirmation(BulkConfirmResult),
}

impl BulkDownload {
    /// The answer to a download of `family` that carries only `header` (processing, or an
    /// error).
    pub fn empty(family: BulkFamily, header: MessageHeader) -> Self {
        match family {
            BulkFamily::ReferenceRegistration => BulkDownload::Registration(BulkRegistrationResult {
                message_header: Some(header),
                message_body: Some(Default::default()),
            }),
            _ => BulkDownload::Confirmation(BulkConfirmResult {
                message_header: Some(header),
                message_body: Some(Default::default()),
            }),
        }
    }

    /// The answer's header.
    pub fn header(&self) -> MessageHeader {
        let h = match self {
            BulkDownload::Registration(r) => r.message_header.clone(),
            BulkDownload::Confirmation(r) => r.message_header.clone(),
        };
        h.unwrap_or_default()
    }

    fn header_mut(&mut self) -> &mut MessageHeader {
        let h = match self {
            BulkDownload::Registration(r) => &mut r.message_header,
            BulkDownload::Confirmation(r) => &mut r.message_header,
        };
        h.get_or_insert_with(Default::default)
    }
}

/// 薬剤情報 or 特定健診情報.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MedicalInfoKind {
    /// 薬剤情報.
    Drug,
    /// 特定健診情報.
    Checkup,
}

/// The answer to a 薬剤情報 / 特定健診情報 request: XML, or a PDF for the PDF categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "result", rename_all = "snake_case")]
pub enum MedicalInfoAnswer {
    /// Drug information (XML).
    Drug(DrugResult),
    /// Check-up information (XML).
    Checkup(CheckupResult),
    /// A PDF.
    Pdf(Blob),
}

/// One call of the terminal for a family other than 資格確認: what the terminal sends to the
/// national system (in process, or as JSON to the harness-internal endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FolderCall {
    /// A 照会番号 registration.
    RegisterReference {
        /// The request.
        request: ReferenceRegistrationRequest,
    },
    /// A bulk upload.
    BulkUpload {
        /// The upload.
        upload: BulkUpload,
    },
    /// A bulk download.
    BulkDownload {
        /// The family of the upload it follows.
        family: BulkFamily,
        /// The request.
        request: BulkDownloadRequest,
    },
    /// A 薬剤情報 / 特定健診情報 request.
    MedicalInfo {
        /// Which information.
        kind: MedicalInfoKind,
        /// The request.
        request: MedicalInfoRequest,
    },
}

/// The national system's answer to a [`FolderCall`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "answer", rename_all = "snake_case")]
pub enum FolderAnswer {
    /// A registration's result.
    RegisterReference(ReferenceRegistrationResult),
    /// An upload's result.
    BulkUpload(BulkUploadResult),
    /// A download's result.
    BulkDownload(BulkDownload),
    /// The information, or the refusal.
    MedicalInfo(MedicalInfoAnswer),
}

impl FolderCall {
    /// Answers the call with `service`.
    pub fn answer(&self, service: &dyn crate::EligibilityService, now: NaiveDateTime) -> FolderAnswer {
        match self {
            FolderCall::RegisterReference { request } => {
                FolderAnswer::RegisterReference(service.register_reference(request, now))
            }
            FolderCall::BulkUpload { upload } => FolderAnswer::BulkUpload(service.bulk_upload(upload, now)),
            FolderCall::BulkDownload { family, request } => {
                FolderAnswer::BulkDownload(service.bulk_download(*family, request, now))
            }
            FolderCall::MedicalInfo { kind, request } => {
                FolderAnswer::MedicalInfo(service.medical_info(*kind, request, now))
            }
        }
    }
}

/// A consent for information viewing, as the national system recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ViewingConsent {
    pub flag: Option<String>,
    pub until: Option<NaiveDateTime>,
}

impl ViewingConsent {
    fn valid_at(&self, now: NaiveDateTime) -> bool {
        self.flag.as_deref() == Some("1") && self.until.is_some_and(|u| now < u)
    }
}

/// Viewing consents of one person, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ViewingConsents {
    pub checkups: Option<ViewingConsent>,
    pub drugs: Option<ViewingConsent>,
    pub diagnosis: Option<ViewingConsent>,
}

#[derive(Debug)]
struct Job {
    institution: String,
    ready_at: Instant,
    result: BulkDownload,
}

/// Accepted bulk uploads, by reception number.
#[derive(Debug, Default)]
pub(crate) struct BulkJobs {
    jobs: HashMap<String, Job>,
    count: u64,
}

fn header(request: &MessageHeader, now: NaiveDateTime) -> MessageHeader {
    MessageHeader {
        process_execution_time: Some(ymdhms(now)),
        medical_institution_code: request.medical_institution_code.clone(),
        arbitrary_file_identifier: request.arbitrary_file_identifier.clone(),
        segment_of_result: Some(codes::SegmentOfResult::Normal),
        character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
        ..Default::default()
    }
}

fn failed(mut h: MessageHeader, e: &ErrorAnswer) -> MessageHeader {
    h.segment_of_result = Some(codes::SegmentOfResult::Abnormal);
    h.error_code = Some(e.code.clone());
    h.error_message = Some(e.message.clone());
    h
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

/// The institution code of a request, when it is 10 digits.
fn institution(h: &MessageHeader) -> Result<String, (ErrorKey, String)> {
    match present(&h.medical_institution_code) {
        None => Err((ErrorKey::RequestMissingElement, "MedicalInstitutionCode".into())),
        Some(m) if m.len() == 10 && m.bytes().all(|b| b.is_ascii_digit()) => Ok(m.to_owned()),
        Some(m) => Err((ErrorKey::RequestInvalidValue, format!("MedicalInstitutionCode={m:?}"))),
    }
}

fn month(s: &str) -> Option<NaiveDate> {
    (s.len() == 6).then(|| parse_date(&format!("{s}01"))).flatten()
}

/// `InsurerNumber` as the interface carries it: 8 characters, 6-digit numbers space-padded.
fn insurer_ok(v: &str) -> bool {
    let digits = v.trim_start();
    v.len() == 8 && (digits.len() == 8 || digits.len() == 6) && digits.bytes().all(|b| b.is_ascii_digit())
}

impl LocalNational {
    fn answer(&self, key: ErrorKey, detail: &str) -> ErrorAnswer {
        self.catalogue().answer(key, detail)
    }

    /// People holding the card (with the run's changes).
    fn holders(&self, key: &CardKey) -> Vec<(Person, usize)> {
        let states = self.states.read().expect("person states");
        self.registry().find_card(key, &states.changed)
    }

    /// Registers one reference number; `Err` is the ProcessingResultCode's key and detail.
    fn register_one(&self, info: &ReferenceNumberRegistrationInfo) -> Result<(), (ErrorKey, String)> {
        let reference = present(&info.reference_number)
            .ok_or_else(|| (ErrorKey::RequestMissingElement, "ReferenceNumber".to_owned()))?;
        if reference.chars().count() > 50 {
            return Err((
                ErrorKey::RequestInvalidValue,
                format!("ReferenceNumber {reference:?} (over 50 characters)"),
            ));
        }
        let insurer = present(&info.insurer_number)
            .ok_or_else(|| (ErrorKey::RequestMissingElement, "InsurerNumber".to_owned()))?;
        if !insurer_ok(insurer) {
            return Err((ErrorKey::RequestInvalidValue, format!("InsurerNumber={insurer:?}")));
        }
        let number = present(&info.insured_identification_number).ok_or_else(|| {
            (
                ErrorKey::RequestMissingElement,
                "InsuredIdentificationNumber".to_owned(),
            )
        })?;
        let key = CardKey {
            insurer_number: insurer.to_owned(),
            symbol: present(&info.insured_card_symbol).map(str::to_owned),
            number: number.to_owned(),
            branch: present(&info.insured_branch_number).map(str::to_owned),
        };
        let detail = format!("{insurer}/{number}");
        let (person, _) = match self.holders(&key).as_slice() {
            [] => return Err((ErrorKey::ReferencePersonNotFound, detail)),
            [one] => one.clone(),
            _ => return Err((ErrorKey::ReferencePersonAmbiguous, detail)),
        };
        let PersonId::Persona(persona) = &person.id else {
            // The generated population keeps no state: a registration for it is accepted
            // and forgotten, as the real system would accept it.
            return Ok(());
        };
        let taken_by_other = {
            let states = self.states.read().expect("person states");
            self.registry()
                .personas()
                .iter()
                .map(|p| states.changed.iter().find(|c| c.id == p.id).unwrap_or(p))
                .any(|p| p.id != person.id && p.reference_number.as_deref() == Some(reference))
        };
        if taken_by_other {
            return Err((ErrorKey::ReferenceNumberInUse, reference.to_owned()));
        }
        self.apply_change(crate::PersonChange::RegisterReferenceNumber {
            persona: persona.clone(),
            reference_number: reference.to_owned(),
        })
        .map_err(|e| (ErrorKey::RequestInvalidValue, e.to_string()))
    }

    fn status_of(
        &self,
        outcome: Result<(), (ErrorKey, String)>,
    ) -> (codes::ProcessingResultStatus, Option<String>, Option<String>) {
        match outcome {
            Ok(()) => (codes::ProcessingResultStatus::Normal, None, None),
            Err((key, detail)) => {
                let a = self.answer(key, &detail);
                (codes::ProcessingResultStatus::Error, Some(a.code), Some(a.message))
            }
        }
    }

    /// 照会番号登録（単件）.
    pub fn register_reference_single(
        &self,
        request: &ReferenceRegistrationRequest,
        now: NaiveDateTime,
    ) -> ReferenceRegistrationResult {
        let h = header(&request.message_header.clone().unwrap_or_default(), now);
        if let Err((key, detail)) = institution(&h) {
            return ReferenceRegistrationResult {
                message_header: Some(failed(h, &self.answer(key, &detail))),
                message_body: None,
            };
        }
        let info = request
            .message_body
            .as_ref()
            .and_then(|b| b.reference_number_registration_info.clone())
            .unwrap_or_default();
        let (status, code, message) = self.status_of(self.register_one(&info));
        ReferenceRegistrationResult {
            message_header: Some(h),
            message_body: Some(ReferenceRegistrationResultBody {
                reference_number_registration_info: Some(info),
                processing_result_status: Some(status),
                processing_result_code: code,
                processing_result_message: message,
            }),
        }
    }

    /// Sets how long bulk uploads take to process (real time).
    pub fn set_bulk_processing(&self, d: Duration) {
        *self.bulk_processing.write().expect("bulk processing") = d;
    }

    /// A bulk upload: the reception (`01res`) at once, the result later.
    pub fn bulk_upload_answer(&self, upload: &BulkUpload, now: NaiveDateTime) -> BulkUploadResult {
        let request_header = upload.header();
        let h = header(&request_header, now);
        let inst = match institution(&h) {
            Ok(i) => i,
            Err((key, detail)) => {
                return BulkUploadResult {
                    message_header: Some(failed(h, &self.answer(key, &detail))),
                    message_body: None,
                };
            }
        };
        let result = match upload {
            BulkUpload::ReferenceRegistration(r) => BulkDownload::Registration(self.bulk_registration(r, &h)),
            BulkUpload::Confirmation(r) => BulkDownload::Confirmation(self.bulk_confirmation(r, &h, now)),
            BulkUpload::MedicalAid(r) => BulkDownload::Confirmation(self.pull(BulkFamily::MedicalAid, r, &h, now)),
            BulkUpload::HomeVisit(r) => BulkDownload::Confirmation(self.pull(BulkFamily::HomeVisit, r, &h, now)),
            BulkUpload::Online(r) => BulkDownload::Confirmation(self.pull(BulkFamily::Online, r, &h, now)),
        };
        let reception = {
            let mut jobs = self.bulk.lock().expect("bulk jobs");
            jobs.count += 1;
            let reception = format!("SYNR{}{:06}", ymd(now.date()), jobs.count);
            let mut result = result;
            result.header_mut().reception_number = Some(reception.clone());
            jobs.jobs.insert(
                reception.clone(),
                Job {
                    institution: inst,
                    ready_at: Instant::now() + *self.bulk_processing.read().expect("bulk processing"),
                    result,
                },
            );
            reception
        };
        BulkUploadResult {
            message_header: Some(h),
            message_body: Some(BulkUploadResultBody {
                reception_number: Some(reception),
                reception_date_time: (upload.family() == BulkFamily::Confirmation).then(|| ymdhms(now)),
                processing_result_status: Some(codes::ProcessingResultStatus::Normal),
                ..Default::default()
            }),
        }
    }

    /// A bulk download (`02req`): SegmentOfResult 2 until the upload is processed.
    pub fn bulk_download_answer(
        &self,
        family: BulkFamily,
        request: &BulkDownloadRequest,
        now: NaiveDateTime,
    ) -> BulkDownload {
        let request_header = request.message_header.clone().unwrap_or_default();
        let mut h = header(&request_header, now);
        let reception = request
            .message_body
            .as_ref()
            .and_then(|b| present(&b.reception_number).map(str::to_owned));
        h.reception_number = reception.clone();
        let empty = |h: MessageHeader| BulkDownload::empty(family, h);
        let inst = match institution(&h) {
            Ok(i) => i,
            Err((key, detail)) => return empty(failed(h, &self.answer(key, &detail))),
        };
        let Some(reception) = reception else {
            let e = self.answer(ErrorKey::RequestMissingElement, "ReceptionNumber");
            return empty(failed(h, &e));
        };
        let jobs = self.bulk.lock().expect("bulk jobs");
        match jobs.jobs.get(&reception) {
            Some(job) if job.institution == inst => {
                if Instant::now() < job.ready_at {
                    h.segment_of_result = Some(codes::SegmentOfResult::Processing);
                    return empty(h);
                }
                let mut result = job.result.clone();
                let rh = result.header_mut();
                rh.process_execution_time = Some(ymdhms(now));
                result
            }
            _ => {
                let e = self.answer(ErrorKey::BulkUnknownReception, &reception);
                empty(failed(h, &e))
            }
        }
    }

    fn bulk_registration(&self, r: &BulkRegistrationRequest, h: &MessageHeader) -> BulkRegistrationResult {
        let infos = r
            .message_body
            .as_ref()
            .and_then(|b| b.reference_number_registration_info.clone())
            .unwrap_or_default()
            .0;
        let units = infos
            .into_iter()
            .map(|info| {
                let (status, code, message) = self.status_of(self.register_one(&info));
                BulkRegistrationUnit {
                    reference_number_registration_info: Some(info),
                    processing_result_status: Some(status),
                    processing_result_code: code,
                    processing_result_message: message,
                }
            })
            .collect();
        BulkRegistrationResult {
            message_header: Some(h.clone()),
            message_body: Some(BulkRegistrationResultBody {
                bulk_registration_unit: Some(Repeated(units)),
            }),
        }
    }

    fn bulk_confirmation(&self, r: &BulkConfirmRequest, h: &MessageHeader, now: NaiveDateTime) -> BulkConfirmResult {
        let request_header = r.message_header.clone().unwrap_or_default();
        let infos = r
            .message_body
            .as_ref()
            .and_then(|b| b.qualification_confirm_search_info.clone())
            .unwrap_or_default()
            .0;
        let units = infos
            .into_iter()
            .map(|info| {
                let single = QualificationRequest {
                    message_header: Some(request_header.clone()),
                    message_body: Some(QualificationRequestBody {
                        qualification_confirm_search_info: Some(info.clone()),
                    }),
                };
                let (result, persona) = self.confirm_card(&single, now);
                let header = result.header();
                let body = result.body();
                let reference = persona.and_then(|p| self.persona(&p)).and_then(|p| p.reference_number);
                let mut results = result.results().to_vec();
                for r in &mut results {
                    r.limit_application_certificate_changed = Some(codes::LimitCertificateChanged::Unchanged);
                }
                let (status, code, message) = if header.segment_of_result == Some(codes::SegmentOfResult::Abnormal) {
                    // A person-level problem in a bulk request is that person's error.
                    (
                        codes::ProcessingResultStatus::Error,
                        header.error_code,
                        header.error_message,
                    )
                } else {
                    (
                        body.processing_result_status
                            .unwrap_or(codes::ProcessingResultStatus::Normal),
                        body.processing_result_code,
                        body.processing_result_message,
                    )
                };
                BulkConfirmUnit {
                    qualification_confirm_search_info: Some(info),
                    processing_result_status: Some(status),
                    processing_result_code: code,
                    processing_result_message: message,
                    qualification_validity: body.qualification_validity,
                    result_of_qualification_confirmation: (!results.is_empty()).then_some(Repeated(results)),
                    reference_number: reference,
                }
            })
            .collect();
        let mut h = h.clone();
        h.qualification_confirmation_date = request_header.qualification_confirmation_date;
        counted(h, units)
    }

    fn pull(
        &self,
        family: BulkFamily,
        r: &BulkPullRequest,
        h: &MessageHeader,
        now: NaiveDateTime,
    ) -> BulkConfirmResult {
        let info = r
            .message_body
            .as_ref()
            .and_then(|b| b.qualification_confirm_search_info.clone())
            .unwrap_or_default();
        let date = |v: &Option<String>| present(v).and_then(parse_date);
        let today = now.date();
        let people: Vec<Person> = {
            let states = self.states.read().expect("person states");
            self.registry()
                .personas()
                .iter()
                .map(|p| states.changed.iter().find(|c| c.id == p.id).unwrap_or(p).clone())
                .collect()
        };
        let units: Vec<BulkConfirmUnit> = match family {
            BulkFamily::MedicalAid => {
                let Some(m) = present(&info.medical_treatment_month).and_then(month) else {
                    let e = self.answer(ErrorKey::RequestInvalidValue, "MedicalTreatmentMonth");
                    return counted(failed(h.clone(), &e), Vec::new());
                };
                people
                    .iter()
                    .filter_map(|p| {
                        let aid = p.medical_aid.as_ref()?;
                        aid.tickets
                            .iter()
                            .any(|t| t.month == m)
                            .then(|| aid_unit(p, aid, m, now))
                    })
                    .collect()
            }
            BulkFamily::HomeVisit | BulkFamily::Online => {
                let kind = if family == BulkFamily::HomeVisit {
                    VisitKind::HomeVisit
                } else {
                    VisitKind::Online
                };
                let consent = (date(&info.consent_date_from), date(&info.consent_date_to));
                let exam = (date(&info.examination_date_from), date(&info.examination_date_to));
                let within = |d: Option<NaiveDate>, (from, to): (Option<NaiveDate>, Option<NaiveDate>)| {
                    d.is_some_and(|d| from.is_none_or(|f| f <= d) && to.is_none_or(|t| d <= t))
                        && (from.is_some() || to.is_some())
                };
                people
                    .iter()
                    .filter(|p| {
                        p.visit_consents
                            .iter()
                            .any(|c| c.kind == kind && (within(Some(c.consented), consent) || within(c.examined, exam)))
                    })
                    .filter_map(|p| {
                        let period = p.shown_period(today)?;
                        let validity = if p.insurance[period].is_active_on(today) {
                            codes::QualificationValidity::Valid
                        } else {
                            codes::QualificationValidity::Invalid
                        };
                        Some(BulkConfirmUnit {
                            processing_result_status: Some(codes::ProcessingResultStatus::Normal),
                            qualification_validity: Some(validity),
                            result_of_qualification_confirmation: Some(Repeated(vec![result_for(
                                p,
                                &p.insurance[period],
                                today,
                                now,
                                Disclose::default(),
                            )])),
                            reference_number: p.reference_number.clone(),
                            ..Default::default()
                        })
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        counted(h.clone(), units)
    }

    /// Records the viewing consents given at the face-auth reader at `now`.
    pub(crate) fn record_viewing(&self, persona: &str, consents: &crate::ConsentChoices, now: NaiveDateTime) {
        let until = now + self.consent_validity;
        let c = |f: &Option<String>| {
            f.as_ref().map(|flag| ViewingConsent {
                flag: Some(flag.clone()),
                until: (flag == "1").then_some(until),
            })
        };
        let mut states = self.states.write().expect("person states");
        let v = states.viewing.entry(persona.to_owned()).or_default();
        v.checkups = c(&consents.specific_health_checkups).or(v.checkups.take());
        v.drugs = c(&consents.pharmacists).or(v.drugs.take());
        v.diagnosis = c(&consents.diagnosis).or(v.diagnosis.take());
    }

    /// 薬剤情報 / 特定健診情報: the patient must hold a valid viewing consent.
    pub fn medical_info_answer(
        &self,
        kind: MedicalInfoKind,
        request: &MedicalInfoRequest,
        seed: u64,
        now: NaiveDateTime,
    ) -> MedicalInfoAnswer {
        let rh = request.message_header.clone().unwrap_or_default();
        let body = request.message_body.clone().unwrap_or_default();
        let refuse = |key: ErrorKey, detail: &str| {
            let a = self.answer(key, detail);
            medical_error(kind, &rh, now, &a)
        };
        let Some(mic) = present(&rh.medical_institution_code) else {
            return refuse(ErrorKey::RequestMissingElement, "MedicalInstitutionCode");
        };
        if mic.len() != 10 || !mic.bytes().all(|b| b.is_ascii_digit()) {
            return refuse(
                ErrorKey::RequestInvalidValue,
                &format!("MedicalInstitutionCode={mic:?}"),
            );
        }
        let Some(insurer) = present(&rh.insurer_number) else {
            return refuse(ErrorKey::RequestMissingElement, "InsurerNumber");
        };
        if !insurer_ok(insurer) {
            return refuse(ErrorKey::RequestInvalidValue, &format!("InsurerNumber={insurer:?}"));
        }
        let Some(number) = present(&rh.insured_person_identification_number) else {
            return refuse(ErrorKey::RequestMissingElement, "InsuredPersonIdentificationNumber");
        };
        let category = present(&body.file_category).unwrap_or("");
        let (pdf, with_treatments) = match (kind, category) {
            (MedicalInfoKind::Drug, "1") => (true, false),
            (MedicalInfoKind::Drug, "2") => (false, false),
            (MedicalInfoKind::Drug, "3") => (true, true),
            (MedicalInfoKind::Drug, "4") => (false, true),
            (MedicalInfoKind::Checkup, "1") => (true, false),
            (MedicalInfoKind::Checkup, "2") => (false, false),
            _ => return refuse(ErrorKey::RequestInvalidValue, &format!("FileCategory={category:?}")),
        };
        let period = match kind {
            MedicalInfoKind::Checkup => None,
            MedicalInfoKind::Drug => {
                let start = present(&body.start_date).and_then(month);
                let end = present(&body.end_date).and_then(month);
                match (start, end) {
                    (Some(s), Some(e)) if s <= e => Some((s, e)),
                    _ => {
                        let detail = format!(
                            "StartDate={:?} EndDate={:?}",
                            body.start_date.unwrap_or_default(),
                            body.end_date.unwrap_or_default()
                        );
                        return refuse(ErrorKey::RequestInvalidValue, &detail);
                    }
                }
            }
        };
        let key = CardKey {
            insurer_number: insurer.to_owned(),
            symbol: present(&rh.insurance_card_symbol).map(str::to_owned),
            number: number.to_owned(),
            branch: present(&rh.branch_number).map(str::to_owned),
        };
        let person = match self.holders(&key).as_slice() {
            [(p, _)] => p.clone(),
            [] => return refuse(ErrorKey::MedicalInfoPersonNotFound, &format!("{insurer}/{number}")),
            _ => return refuse(ErrorKey::ReferencePersonAmbiguous, &format!("{insurer}/{number}")),
        };
        let viewing = match &person.id {
            PersonId::Persona(id) => self
                .states
                .read()
                .expect("person states")
                .viewing
                .get(id)
                .cloned()
                .unwrap_or_default(),
            PersonId::Generated(_) => ViewingConsents::default(),
        };
        let consent = match kind {
            MedicalInfoKind::Drug => &viewing.drugs,
            MedicalInfoKind::Checkup => &viewing.checkups,
        };
        if !consent.as_ref().is_some_and(|c| c.valid_at(now)) {
            let what = match consent {
                None => "同意なし (no consent recorded)".to_owned(),
                Some(c) if c.flag.as_deref() != Some("1") => {
                    format!("同意区分 {}", c.flag.clone().unwrap_or_default())
                }
                Some(_) => "同意有効期限切れ (consent expired)".to_owned(),
            };
            return refuse(ErrorKey::MedicalInfoNoConsent, &what);
        }
        let treatments = with_treatments && viewing.diagnosis.as_ref().is_some_and(|c| c.valid_at(now));
        match (kind, period) {
            (MedicalInfoKind::Drug, Some((from, to))) => {
                let dispensings = history::dispensings(seed, &person.id, from, to);
                if pdf {
                    let lines = dispensings
                        .iter()
                        .flat_map(|d| {
                            d.drugs.iter().map(move |g| {
                                format!("{} {} x{} {} days", ymd(d.dispensed), g.code, g.quantity, g.times)
                            })
                        })
                        .collect::<Vec<_>>();
                    return MedicalInfoAnswer::Pdf(Blob(pdf::text_pdf(
                        &format!("onshi-harness SYNTHETIC drug information {insurer}/{number}"),
                        &lines,
                    )));
                }
                MedicalInfoAnswer::Drug(drug_result(&rh, &person, &dispensings, treatments, now))
            }
            _ => {
                let checkups = history::checkups(seed, &person.id, person.birthdate, now.date());
                if pdf {
                    let lines = checkups
                        .iter()
                        .flat_map(|c| {
                            c.items
                                .iter()
                                .map(move |i| format!("{} {} {} {}", ymd(c.date), i.code, i.value, i.unit))
                        })
                        .collect::<Vec<_>>();
                    return MedicalInfoAnswer::Pdf(Blob(pdf::text_pdf(
                        &format!("onshi-harness SYNTHETIC health check-ups {insurer}/{number}"),
                        &lines,
                    )));
                }
                MedicalInfoAnswer::Checkup(checkup_result(&rh, &person, &checkups, now))
            }
        }
    }
}

/// A finished bulk result with its counts.
fn counted(mut h: MessageHeader, units: Vec<BulkConfirmUnit>) -> BulkConfirmResult {
    if h.segment_of_result == Some(codes::SegmentOfResult::Normal) {
        let errors = units
            .iter()
            .filter(|u| u.processing_result_status == Some(codes::ProcessingResultStatus::Error))
            .count();
        h.number_of_processing_result = Some(units.len().to_string());
        h.number_of_normal_processing = Some((units.len() - errors).to_string());
        h.number_of_error = Some(errors.to_string());
    }
    BulkConfirmResult {
        message_header: Some(h),
        message_body: Some(BulkConfirmResultBody {
            bulk_confirm_unit: (!units.is_empty()).then_some(Repeated(units)),
        }),
    }
}

/// A 医療扶助 recipient's result with the tickets for `month` (a date in it).
pub(crate) fn aid_result(p: &Person, aid: &MedicalAid, month: NaiveDate) -> ResultOfQualificationConfirmation {
    let month = month.with_day(1).expect("the first exists");
    let tickets: Vec<MedicalTicketInfo> = aid
        .tickets
        .iter()
        .filter(|t| t.month == month)
        .map(|t| MedicalTicketInfo {
            ticket_type: Some(t.ticket_type.clone()),
            valid_date: Some(ymd(t.valid_from)),
            expiration_date: t.valid_to.map(ymd),
            issue_number: Some(t.issue_number.clone()),
            medical_treatment_month: Some(format!("{:04}{:02}", month.year(), month.month())),
            medical_treatment_type: Some(t.treatment_type.clone()),
            self_pay_amount: t.self_pay.clone(),
            injury_name1: t.injury_names.first().cloned(),
            injury_name2: t.injury_names.get(1).cloned(),
            injury_name3: t.injury_names.get(2).cloned(),
            single_or_combined_use: Some("01".into()),
            status_of_social_insurance: Some("02".into()),
            ..Default::default()
        })
        .collect();
    ResultOfQualificationConfirmation {
        insured_card_classification: Some(codes::InsuredCardClassification::MedicalAid),
        name: Some(p.name.clone()),
        name_kana: Some(p.name_kana.clone()),
        sex1: Some(codes::Sex::from_code(&p.sex)),
        birthdate: Some(ymd(p.birthdate)),
        address: p.address.clone(),
        post_number: p.post_number.clone(),
        qualification_date: Some(ymd(aid.from)),
        public_expense_number: Some(aid.public_expense_number.clone()),
        beneficiary_number: Some(aid.beneficiary_number.clone()),
        welfare_office_name: Some(aid.welfare_office.clone()),
        public_expense_result_list: (!tickets.is_empty()).then_some(PublicExpenseResultList(tickets)),
        ..Default::default()
    }
}

/// A 医療扶助 recipient's unit for `month`.
fn aid_unit(p: &Person, aid: &MedicalAid, month: NaiveDate, now: NaiveDateTime) -> BulkConfirmUnit {
    let active = aid.is_active_on(now.date()) || aid.is_active_on(month);
    BulkConfirmUnit {
        processing_result_status: Some(codes::ProcessingResultStatus::Normal),
        qualification_validity: Some(if active {
            codes::QualificationValidity::Valid
        } else {
            codes::QualificationValidity::Invalid
        }),
        result_of_qualification_confirmation: Some(Repeated(vec![aid_result(p, aid, month)])),
        reference_number: p.reference_number.clone(),
        ..Default::default()
    }
}

fn medical_error(
    kind: MedicalInfoKind,
    rh: &MedicalInfoRequestHeader,
    now: NaiveDateTime,
    e: &ErrorAnswer,
) -> MedicalInfoAnswer {
    // [I] the reference only says "ResultCode ≠ 1, message in MessageContents".
    let contents = Some(format!("{} {}", e.code, e.message));
    match kind {
        MedicalInfoKind::Drug => MedicalInfoAnswer::Drug(DrugResult {
            message_header: Some(DrugResultHeader {
                process_execution_time: Some(ymdhms(now)),
                medical_institution_code: rh.medical_institution_code.clone(),
                arbitrary_file_identifier: rh.arbitrary_file_identifier.clone(),
                result_code: Some("9".into()),
                message_contents: contents,
                character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
                qua_inf: None,
            }),
            message_body: Some(Default::default()),
        }),
        MedicalInfoKind::Checkup => MedicalInfoAnswer::Checkup(CheckupResult {
            message_header: Some(CheckupResultHeader {
                process_execution_time: Some(ymdhms(now)),
                medical_institution_code: rh.medical_institution_code.clone(),
                arbitrary_file_identifier: rh.arbitrary_file_identifier.clone(),
                result_code: Some("9".into()),
                message_contents: contents,
                character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
                qualifications_info: None,
            }),
            message_body: Some(Default::default()),
        }),
    }
}

fn drug_result(
    rh: &MedicalInfoRequestHeader,
    p: &Person,
    dispensings: &[history::Dispensing],
    treatments: bool,
    now: NaiveDateTime,
) -> DrugResult {
    let months = dispensings
        .iter()
        .map(|d| MeTrMonthInf {
            di_org: Some("2".into()),
            me_tr_di_h_cd: Some(d.pharmacy_code.clone()),
            prls_h_cd: Some(d.clinic_code.clone()),
            me_tr_di_h_nm: Some(d.pharmacy_name.clone()),
            me_tr_month: Some(format!("{:04}{:02}", d.dispensed.year(), d.dispensed.month())),
            prls_h_nm: Some(d.clinic_name.clone()),
            pr_is_org: Some("1".into()),
            in_out: Some("2".into()),
            di_date_infs: Some(DiDateInfs(vec![DiDateInf {
                di_date: Some(ymd(d.dispensed)),
                pr_date: Some(ymd(d.prescribed)),
                drug_infs: Some(DrugInfs(
                    d.drugs
                        .iter()
                        .map(|g| DrugInf {
                            drug_c: Some(g.code.clone()),
                            drug_n: Some(g.name.clone()),
                            ingre_n: Some(g.ingredient.clone()),
                            qua1: Some(g.quantity.clone()),
                            unit: Some(g.unit.clone()),
                            usage_n: Some(g.usage.clone()),
                            times: Some(g.times.clone()),
                            sp_inst: None,
                            me_tr_id_cl: Some("21".into()),
                        })
                        .collect(),
                )),
                me_tr_infs: treatments.then(|| {
                    MeTrInfs(vec![MeTrInf {
                        sin_inf_cd: Some("SYN-S0001".into()),
                        sin_inf_n: Some("【合成】外来診療料".into()),
                        qua1: Some("1".into()),
                        unit: None,
                        times: Some("1".into()),
                        me_tr_id_cl: Some("12".into()),
                    }])
                }),
            }])),
        })
        .collect();
    DrugResult {
        message_header: Some(DrugResultHeader {
            process_execution_time: Some(ymdhms(now)),
            medical_institution_code: rh.medical_institution_code.clone(),
            arbitrary_file_identifier: rh.arbitrary_file_identifier.clone(),
            result_code: Some("1".into()),
            message_contents: None,
            character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
            qua_inf: Some(QuaInf {
                name: Some(p.name.clone()),
                kana_name: Some(p.name_kana.clone()),
                birth: Some(ymd(p.birthdate)),
                adm_gend_code: Some(codes::Sex::from_code(&p.sex)),
            }),
        }),
        message_body: Some(DrugResultBody {
            me_tr_month_inf: Some(Repeated(months)),
        }),
    }
}

fn checkup_result(
    rh: &MedicalInfoRequestHeader,
    p: &Person,
    checkups: &[history::Checkup],
    now: NaiveDateTime,
) -> CheckupResult {
    CheckupResult {
        message_header: Some(CheckupResultHeader {
            process_execution_time: Some(ymdhms(now)),
            medical_institution_code: rh.medical_institution_code.clone(),
            arbitrary_file_identifier: rh.arbitrary_file_identifier.clone(),
            result_code: Some("1".into()),
            message_contents: None,
            character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
            qualifications_info: Some(QualificationsInfo {
                name: Some(p.name.clone()),
                kanas_name: Some(p.name_kana.clone()),
                birthday: Some(ymd(p.birthdate)),
                administrative_gender_code: Some(codes::Sex::from_code(&p.sex)),
            }),
        }),
        message_body: Some(CheckupResultBody {
            specific_health_checkup_info: Some(Repeated(
                checkups
                    .iter()
                    .map(|c| SpecificHealthCheckupInfo {
                        effective_time: Some(ymd(c.date)),
                        health_checkup_result_and_question_infos: Some(HealthCheckupResultAndQuestionInfos(
                            c.items
                                .iter()
                                .map(|i| HealthCheckupResultAndQuestionInfo {
                                    item_code: Some(i.code.into()),
                                    item_name: Some(i.name.into()),
                                    data_type: Some(i.data_type.into()),
                                    data_value: Some(i.value.clone()),
                                    unit: Some(i.unit.into()),
                                    ..Default::default()
                                })
                                .collect(),
                        )),
                    })
                    .collect(),
            )),
        }),
    }
}

#[cfg(test)]
mod tests;
