//! # onshi-national
//!
//! The mock of the national オンライン資格確認等システム. This version is the service only:
//! [`EligibilityService`] answers a qualification search and a face-reader confirmation from
//! the registry. The terminal calls it in process; the HTTP server of a later version exposes
//! the same trait unchanged.
//!
//! What the real system returns in each situation is reconstructed (see
//! `reference/protocol.md`); where the reference is silent the choice is marked \[I\] in
//! `docs/world.md` — for example that QualificationValidity 3 carries the *new* qualification.

#![warn(missing_docs)]

pub mod clock;
pub mod events;
mod families;
pub mod faults;
pub mod http;
mod pdf;
pub mod pki;
mod result;
pub mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use onshi_protocol::codes::{self, Code};
use onshi_protocol::model::{
    BulkDownloadRequest, BulkUploadResult, MedicalInfoRequest, MessageHeader, QualificationRequest,
    QualificationResult, QualificationResultBody, ReferenceRegistrationRequest, ReferenceRegistrationResult,
    ResultList,
};
use onshi_protocol::synthetic::{ErrorAnswer, ErrorCatalogue, ErrorKey, ErrorShape};
use onshi_registry::{CardQuery, Lookup, Person, PersonId, Registry, Validity};
use thiserror::Error;

pub use clock::{Clock, SystemClock};
pub use families::{
    BulkDownload, BulkFamily, BulkUpload, FolderAnswer, FolderCall, MedicalInfoAnswer, MedicalInfoKind,
};
use families::{BulkJobs, ViewingConsents};
pub use pdf::text_pdf;
use result::{Disclose, result_for, ymd, ymdhms};
pub use state::{PersonChange, StateError};

/// The consent choices a patient makes on the face-auth reader's screens.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentChoices {
    /// 限度額適用認定証: OQSCD001 (0/1).
    #[serde(default)]
    pub limit_certificate: Option<String>,
    /// 特定疾病療養受療証: OQSCD016.
    #[serde(default)]
    pub specific_diseases: Option<String>,
    /// 特定健診情報: OQSCD016.
    #[serde(default)]
    pub specific_health_checkups: Option<String>,
    /// 薬剤情報: OQSCD016.
    #[serde(default)]
    pub pharmacists: Option<String>,
    /// 診療情報: OQSCD016.
    #[serde(default)]
    pub diagnosis: Option<String>,
    /// 手術情報: OQSCD016.
    #[serde(default)]
    pub operation: Option<String>,
}

impl ConsentChoices {
    /// Everything consented, as most patients answer.
    pub fn all() -> Self {
        let yes = || Some("1".to_owned());
        ConsentChoices {
            limit_certificate: yes(),
            specific_diseases: yes(),
            specific_health_checkups: yes(),
            pharmacists: yes(),
            diagnosis: yes(),
            operation: yes(),
        }
    }
}

/// A confirmation at the face-auth reader: the person is identified by their card.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceConfirmation {
    /// The persona holding the card.
    pub persona: String,
    /// The clinic confirming.
    pub institution_code: String,
    #[serde(default)]
    /// What the patient answered on the consent screens.
    pub consents: ConsentChoices,
}

/// Why a face confirmation cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FaceError {
    #[error("no persona {0:?} in the registry")]
    /// No such persona.
    UnknownPersona(String),
    #[error("persona {0:?} has neither an insurance qualification nor 医療扶助")]
    /// The persona has nothing to confirm.
    NoQualification(String),
}

/// The national qualification service.
pub trait EligibilityService: Send + Sync {
    /// 資格確認 by insurance-card data (OQS-IF-001/002). Never fails: invalid requests are
    /// answered with SegmentOfResult 9 and a (synthetic) error code, as the real system does.
    fn confirm_by_card(&self, request: &QualificationRequest, now: NaiveDateTime) -> QualificationResult;

    /// The lookup behind a face-reader result (ReferenceClassification 1).
    fn confirm_by_face(&self, face: &FaceConfirmation, now: NaiveDateTime) -> Result<QualificationResult, FaceError>;

    /// 照会番号登録（単件） (OQS-IF-003/004).
    fn register_reference(
        &self,
        request: &ReferenceRegistrationRequest,
        now: NaiveDateTime,
    ) -> ReferenceRegistrationResult;

    /// A bulk upload (`01req`): its reception (`01res`).
    fn bulk_upload(&self, upload: &BulkUpload, now: NaiveDateTime) -> BulkUploadResult;

    /// A bulk download (`02req`): the result, or SegmentOfResult 2 while processing.
    fn bulk_download(&self, family: BulkFamily, request: &BulkDownloadRequest, now: NaiveDateTime) -> BulkDownload;

    /// 薬剤情報 / 特定健診情報 (`YZKsiquc01`, `TKKsiquc01`).
    fn medical_info(
        &self,
        kind: MedicalInfoKind,
        request: &MedicalInfoRequest,
        now: NaiveDateTime,
    ) -> MedicalInfoAnswer;
}

/// Changes made to personas during a run.
#[derive(Debug, Clone, Default)]
struct PersonStates {
    changes: Vec<PersonChange>,
    /// The changed personas, as they are now.
    changed: Vec<Person>,
    /// Consents recorded by the national system, by persona.
    consents: HashMap<String, ConsentChoices>,
    /// Information-viewing consents with their expiry, by persona.
    viewing: HashMap<String, ViewingConsents>,
}

/// The service answered from a local registry, with the persona changes of the run.
#[derive(Debug)]
pub struct LocalNational {
    registry: Arc<Registry>,
    catalogue: Arc<ErrorCatalogue>,
    states: RwLock<PersonStates>,
    /// How long an information-viewing consent stays valid (24 h in the captured sample).
    pub consent_validity: Duration,
    bulk: Mutex<BulkJobs>,
    /// Real time a bulk upload takes to process (its downloads answer 処理中 until then).
    bulk_processing: RwLock<std::time::Duration>,
}

impl LocalNational {
    /// The national system over `registry`, answering errors from `catalogue`.
    pub fn new(registry: Arc<Registry>, catalogue: Arc<ErrorCatalogue>) -> Self {
        LocalNational {
            registry,
            catalogue,
            states: RwLock::new(PersonStates::default()),
            consent_validity: Duration::hours(24),
            bulk: Mutex::new(BulkJobs::default()),
            bulk_processing: RwLock::new(std::time::Duration::from_secs(2)),
        }
    }

    /// The population it answers from.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The error codes it answers with.
    pub fn catalogue(&self) -> &ErrorCatalogue {
        &self.catalogue
    }

    /// Applies a persona change; it takes effect from its date on.
    pub fn apply_change(&self, change: PersonChange) -> Result<(), StateError> {
        let id = change.persona().to_owned();
        let mut states = self.states.write().expect("person states");
        let mut person = match states.changed.iter().find(|p| p.id == PersonId::Persona(id.clone())) {
            Some(p) => p.clone(),
            None => self
                .registry
                .persona(&id)
                .cloned()
                .ok_or_else(|| StateError::UnknownPersona(id.clone()))?,
        };
        state::apply(&mut person, &change, self.registry.today())?;
        if let PersonChange::RecordConsents { consents, .. } = &change {
            states.consents.insert(id.clone(), consents.clone());
            drop(states);
            // Recorded at the start of the run's date, valid for the consent period from then.
            let at = self.registry.today().and_hms_opt(0, 0, 0).expect("midnight exists");
            self.record_viewing(&id, consents, at);
            states = self.states.write().expect("person states");
        }
        states.changed.retain(|p| p.id != person.id);
        states.changed.push(person);
        states.changes.push(change);
        Ok(())
    }

    /// Forgets every change and every bulk upload: the registry as shipped.
    pub fn reset_state(&self) {
        *self.states.write().expect("person states") = PersonStates::default();
        *self.bulk.lock().expect("bulk jobs") = BulkJobs::default();
    }

    /// The changes applied so far, in order.
    pub fn changes(&self) -> Vec<PersonChange> {
        self.states.read().expect("person states").changes.clone()
    }

    /// The consents recorded for a persona.
    pub fn recorded_consents(&self, persona: &str) -> Option<ConsentChoices> {
        self.states
            .read()
            .expect("person states")
            .consents
            .get(persona)
            .cloned()
    }

    /// A persona as it is now (with its changes); or a generated person by `#<n>`
    /// ([`PersonId::key`]).
    pub fn persona(&self, id: &str) -> Option<Person> {
        if let PersonId::Generated(n) = PersonId::from_key(id) {
            return self.registry.person(&PersonId::Generated(n));
        }
        let states = self.states.read().expect("person states");
        states
            .changed
            .iter()
            .find(|p| p.id == PersonId::Persona(id.to_owned()))
            .cloned()
            .or_else(|| self.registry.persona(id).cloned())
    }

    fn lookup(&self, q: &CardQuery, on: NaiveDate) -> Lookup {
        let states = self.states.read().expect("person states");
        self.registry.lookup_with(q, on, &states.changed)
    }

    /// The answer to a 資格確認 by card data, and the persona it is about when the card
    /// identifies exactly one (for faults scoped to a persona) — from one look-up.
    pub fn confirm_card(
        &self,
        request: &QualificationRequest,
        now: NaiveDateTime,
    ) -> (QualificationResult, Option<String>) {
        let header = answer_header(request, now);
        let search = request
            .message_body
            .as_ref()
            .and_then(|b| b.qualification_confirm_search_info.clone());
        let checked = match check(request) {
            Ok(c) => c,
            Err((key, detail)) => return (error_result(request, now, self.catalogue.answer(key, &detail)), None),
        };
        let disclose = Disclose {
            limit: checked.consent_limit,
            specific_diseases: false,
        };
        let base = QualificationResultBody {
            qualification_confirm_search_info: search,
            processing_result_status: Some(codes::ProcessingResultStatus::Normal),
            ..Default::default()
        };
        let mut persona = None;
        let body = match self.lookup(&checked.query, checked.date) {
            Lookup::NotFound => QualificationResultBody {
                qualification_validity: Some(codes::QualificationValidity::NoQualification),
                ..base
            },
            Lookup::Multiple(matches) => QualificationResultBody {
                qualification_validity: Some(codes::QualificationValidity::Multiple),
                result_list: Some(ResultList(
                    matches
                        .iter()
                        .map(|(p, i)| result_for(p, &p.insurance[*i], checked.date, now, disclose))
                        .collect(),
                )),
                ..base
            },
            Lookup::Found {
                person,
                period,
                validity,
            } => {
                if let PersonId::Persona(id) = &person.id {
                    persona = Some(id.clone());
                }
                let (code, shown) = match validity {
                    Validity::Valid => (codes::QualificationValidity::Valid, period),
                    Validity::Invalid => (codes::QualificationValidity::Invalid, period),
                    // [I] the answer carries the new qualification so the clinic can update the card.
                    Validity::InvalidNewQualification { current } => {
                        (codes::QualificationValidity::InvalidNewQualification, current)
                    }
                };
                let body = QualificationResultBody {
                    qualification_validity: Some(code),
                    result_list: Some(ResultList(vec![result_for(
                        &person,
                        &person.insurance[shown],
                        checked.date,
                        now,
                        disclose,
                    )])),
                    ..base
                };
                with_notice(body, &person)
            }
        };
        let result = QualificationResult {
            message_header: Some(header),
            message_body: Some(body),
        };
        (result, persona)
    }
}

/// The request, checked as the national system checks it.
struct Checked {
    query: CardQuery,
    date: NaiveDate,
    consent_limit: bool,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

fn check(request: &QualificationRequest) -> Result<Checked, (ErrorKey, String)> {
    let header = request.header();
    let search = request.search_info();
    let missing = |name: &str| (ErrorKey::RequestMissingElement, name.to_owned());
    let invalid = |name: &str, v: &str| (ErrorKey::RequestInvalidValue, format!("{name}={v:?}"));

    let mic = present(&header.medical_institution_code).ok_or_else(|| missing("MedicalInstitutionCode"))?;
    if mic.len() != 10 || !mic.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("MedicalInstitutionCode", mic));
    }
    let date_s =
        present(&header.qualification_confirmation_date).ok_or_else(|| missing("QualificationConfirmationDate"))?;
    let date = parse_date(date_s).ok_or_else(|| invalid("QualificationConfirmationDate", date_s))?;
    let insurer = present(&search.insurer_number).ok_or_else(|| missing("InsurerNumber"))?;
    let digits = insurer.trim_start();
    if insurer.len() != 8 || !(digits.len() == 8 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("InsurerNumber", insurer));
    }
    let number =
        present(&search.insured_identification_number).ok_or_else(|| missing("InsuredIdentificationNumber"))?;
    let birthdate = present(&search.birthdate).ok_or_else(|| missing("Birthdate"))?;
    if parse_date(birthdate).is_none() {
        return Err(invalid("Birthdate", birthdate));
    }
    let branch = present(&search.insured_branch_number);
    if let Some(b) = branch
        && (b.len() != 2 || !b.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(invalid("InsuredBranchNumber", b));
    }
    let consent = search
        .limit_application_certificate_related_cons_flg
        .as_ref()
        .ok_or_else(|| missing("LimitApplicationCertificateRelatedConsFlg"))?;
    if !consent.is_known() {
        return Err(invalid("LimitApplicationCertificateRelatedConsFlg", consent.code()));
    }
    Ok(Checked {
        query: CardQuery {
            insurer_number: insurer.to_owned(),
            symbol: present(&search.insured_card_symbol).map(str::to_owned),
            number: number.to_owned(),
            branch: branch.map(str::to_owned),
            birthdate: birthdate.to_owned(),
        },
        date,
        consent_limit: *consent == codes::LimitConsentFlag::Consented,
    })
}

/// The header every answer to `request` starts from: echoes of the request's date,
/// institution code and file identifier, the time of processing, ReferenceClassification 2.
pub fn answer_header(request: &QualificationRequest, now: NaiveDateTime) -> MessageHeader {
    let h = request.header();
    MessageHeader {
        process_execution_time: Some(ymdhms(now)),
        qualification_confirmation_date: h.qualification_confirmation_date,
        medical_institution_code: h.medical_institution_code,
        arbitrary_file_identifier: h.arbitrary_file_identifier,
        reference_classification: Some(codes::ReferenceClassification::InsuranceCard),
        segment_of_result: Some(codes::SegmentOfResult::Normal),
        character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
        ..Default::default()
    }
}

/// A request-level failure: SegmentOfResult 9 — 異常終了 with ErrorCode and ErrorMessage, the
/// request's search data echoed when complete, and — in the default shape — ProcessingResultStatus
/// 2 — エラー.
pub fn error_result(request: &QualificationRequest, now: NaiveDateTime, error: ErrorAnswer) -> QualificationResult {
    let echo = request
        .message_body
        .as_ref()
        .and_then(|b| b.qualification_confirm_search_info.clone())
        // strict validators reject an echo without its required elements; it is optional
        .filter(|i| {
            error.shape == ErrorShape::HeaderOnly
                || (i.insurer_number.is_some()
                    && i.insured_identification_number.is_some()
                    && i.birthdate.is_some()
                    && i.limit_application_certificate_related_cons_flg.is_some())
        });
    QualificationResult {
        message_body: Some(QualificationResultBody {
            qualification_confirm_search_info: echo,
            processing_result_status: error_status(error.shape),
            ..Default::default()
        }),
        message_header: Some(MessageHeader {
            segment_of_result: Some(codes::SegmentOfResult::Abnormal),
            error_code: Some(error.code),
            error_message: Some(error.message),
            ..answer_header(request, now)
        }),
    }
}

/// ProcessingResultStatus of a SegmentOfResult 9 answer, by the catalogue's convention.
fn error_status(shape: ErrorShape) -> Option<codes::ProcessingResultStatus> {
    match shape {
        ErrorShape::Status => Some(codes::ProcessingResultStatus::Error),
        ErrorShape::HeaderOnly => None,
    }
}

/// A face result for a patient the face-auth reader did not confirm: SegmentOfResult 9 with
/// the reader's error, no person data.
pub fn face_error_result(institution_code: &str, now: NaiveDateTime, error: ErrorAnswer) -> QualificationResult {
    let body = error_status(error.shape).map(|status| QualificationResultBody {
        processing_result_status: Some(status),
        ..Default::default()
    });
    QualificationResult {
        message_header: Some(MessageHeader {
            process_execution_time: Some(ymdhms(now)),
            qualification_confirmation_date: Some(ymd(now.date())),
            medical_institution_code: Some(institution_code.to_owned()),
            reference_classification: Some(codes::ReferenceClassification::MyNumberCard),
            segment_of_result: Some(codes::SegmentOfResult::Abnormal),
            error_code: Some(error.code),
            error_message: Some(error.message),
            character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
            ..Default::default()
        }),
        message_body: body,
    }
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
        .flatten()
}

fn with_notice(mut body: QualificationResultBody, person: &Person) -> QualificationResultBody {
    if let Some(n) = &person.notice {
        body.processing_result_status = Some(codes::ProcessingResultStatus::from_code(&n.status));
        body.processing_result_code = Some(n.code.clone());
        body.processing_result_message = Some(n.message.clone());
        if n.status == "2" {
            body.qualification_validity = None;
            body.result_list = None;
        }
    }
    body
}

impl EligibilityService for LocalNational {
    fn confirm_by_card(&self, request: &QualificationRequest, now: NaiveDateTime) -> QualificationResult {
        self.confirm_card(request, now).0
    }

    fn register_reference(
        &self,
        request: &ReferenceRegistrationRequest,
        now: NaiveDateTime,
    ) -> ReferenceRegistrationResult {
        self.register_reference_single(request, now)
    }

    fn bulk_upload(&self, upload: &BulkUpload, now: NaiveDateTime) -> BulkUploadResult {
        self.bulk_upload_answer(upload, now)
    }

    fn bulk_download(&self, family: BulkFamily, request: &BulkDownloadRequest, now: NaiveDateTime) -> BulkDownload {
        self.bulk_download_answer(family, request, now)
    }

    fn medical_info(
        &self,
        kind: MedicalInfoKind,
        request: &MedicalInfoRequest,
        now: NaiveDateTime,
    ) -> MedicalInfoAnswer {
        self.medical_info_answer(kind, request, self.registry.population().seed, now)
    }

    fn confirm_by_face(&self, face: &FaceConfirmation, now: NaiveDateTime) -> Result<QualificationResult, FaceError> {
        let person = self
            .persona(&face.persona)
            .ok_or_else(|| FaceError::UnknownPersona(face.persona.clone()))?;
        let person = &person;
        let today = now.date();
        let c = &face.consents;
        let flag_is_1 = |f: &Option<String>| f.as_deref() == Some("1");
        let disclose = Disclose {
            limit: flag_is_1(&c.limit_certificate),
            specific_diseases: flag_is_1(&c.specific_diseases),
        };
        self.record_viewing(&face.persona, c, now);
        let (validity, mut r) = match (person.shown_period(today), &person.medical_aid) {
            (Some(i), _) => (
                if person.insurance[i].is_active_on(today) {
                    codes::QualificationValidity::Valid
                } else {
                    codes::QualificationValidity::Invalid
                },
                result_for(person, &person.insurance[i], today, now, disclose),
            ),
            (None, Some(aid)) => (
                if aid.is_active_on(today) {
                    codes::QualificationValidity::Valid
                } else {
                    codes::QualificationValidity::Invalid
                },
                families::aid_result(person, aid, today),
            ),
            (None, None) => return Err(FaceError::NoQualification(face.persona.clone())),
        };
        r.limit_application_certificate_related_cons_flg =
            c.limit_certificate.as_deref().map(codes::LimitConsentFlag::from_code);
        r.specific_diseases_certificate_related_cons_flg =
            c.specific_diseases.as_deref().map(codes::ConsentFlag::from_code);
        r.specific_diseases_certificate_related_cons_time = c.specific_diseases.as_ref().map(|_| ymdhms(now));
        let until = ymdhms(now + self.consent_validity);
        let viewing = |f: &Option<String>| {
            (
                f.as_deref().map(codes::ConsentFlag::from_code),
                f.as_ref().map(|_| ymdhms(now)),
                flag_is_1(f).then(|| until.clone()),
            )
        };
        (
            r.specific_health_checkups_info_cons_flg,
            r.specific_health_checkups_info_cons_time,
            r.specific_health_checkups_info_available_time,
        ) = viewing(&c.specific_health_checkups);
        (
            r.pharmacists_info_cons_flg,
            r.pharmacists_info_cons_time,
            r.pharmacists_info_available_time,
        ) = viewing(&c.pharmacists);
        (
            r.diagnosis_info_cons_flg,
            r.diagnosis_info_cons_time,
            r.diagnosis_info_available_time,
        ) = viewing(&c.diagnosis);
        (
            r.operation_info_cons_flg,
            r.operation_info_cons_time,
            r.operation_info_available_time,
        ) = viewing(&c.operation);
        r.reference_number = person.reference_number.clone();
        if r.reference_number.is_none() {
            // Seen in real face results of patients without a 照会番号; its content is not
            // public, so this one is synthetic.
            let mut rng = onshi_registry::rng::Stream::new(
                self.registry.population().seed,
                face.persona
                    .bytes()
                    .fold(ymdhms(now).len() as u64, |h, b| h.wrapping_mul(131) ^ u64::from(b)),
            );
            r.qualification_confirmation_key = Some(format!("SYNQCK{:016x}", rng.next_u64()));
        }
        let body = QualificationResultBody {
            processing_result_status: Some(codes::ProcessingResultStatus::Normal),
            qualification_validity: Some(validity),
            result_list: Some(ResultList(vec![r])),
            ..Default::default()
        };
        Ok(QualificationResult {
            message_header: Some(MessageHeader {
                process_execution_time: Some(ymdhms(now)),
                qualification_confirmation_date: Some(ymd(today)),
                medical_institution_code: Some(face.institution_code.clone()),
                reference_classification: Some(codes::ReferenceClassification::MyNumberCard),
                segment_of_result: Some(codes::SegmentOfResult::Normal),
                character_code_identifier: Some(codes::CharacterCodeIdentifier::Utf8),
                ..Default::default()
            }),
            message_body: Some(with_notice(body, person)),
        })
    }
}

#[cfg(test)]
mod tests;
