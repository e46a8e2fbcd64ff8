//! What the terminal does with each family's request: read it as its kind, ask the national
//! system, and encode the answer the way this terminal is set to write (encoding, element
//! order, `.xml` / `.pdf` / `.zip`). Every answer that cannot be given becomes that family's
//! own error form — SegmentOfResult 9 with ErrorCode / ErrorMessage, or ResultCode ≠ 1 with
//! MessageContents for 薬剤 / 特定健診 — never a silent omission.

use std::io::Write as _;

use chrono::NaiveDateTime;
use onshi_national::{
    BulkDownload, BulkFamily, BulkUpload, FolderAnswer, FolderCall, MedicalInfoAnswer, MedicalInfoKind,
};
use onshi_protocol::codes::{self, Code};
use onshi_protocol::filename::{Extension, Family};
use onshi_protocol::model::*;
use onshi_protocol::synthetic::ErrorAnswer;
use onshi_protocol::xml::{EncodeError, Limits};
use onshi_protocol::{MessageKind, ReadError, XmlOptions, read_message, write_message};

/// A request, read as its kind.
#[derive(Debug, Clone)]
pub(crate) enum Request {
    Qualification(QualificationRequest),
    Reference(ReferenceRegistrationRequest),
    Upload(BulkUpload),
    Download(BulkFamily, BulkDownloadRequest),
    MedicalInfo(MedicalInfoKind, MedicalInfoRequest),
}

fn bulk_family(family: Family) -> BulkFamily {
    match family {
        Family::OqsMuImm => BulkFamily::ReferenceRegistration,
        Family::OqsMuTic => BulkFamily::MedicalAid,
        Family::OqsMuHvq => BulkFamily::HomeVisit,
        Family::OqsMuOnq => BulkFamily::Online,
        _ => BulkFamily::Confirmation,
    }
}

impl Request {
    /// Reads `bytes` as a request of `kind` (from a name of `family`).
    pub fn read(kind: MessageKind, family: Family, bytes: &[u8], limits: &Limits) -> Result<Request, ReadError> {
        fn r<T: XmlRecord>(bytes: &[u8], limits: &Limits) -> Result<T, ReadError> {
            read_message::<T>(bytes, limits).map(|(m, _)| m)
        }
        Ok(match kind {
            MessageKind::ReferenceRegistrationRequest => Request::Reference(r(bytes, limits)?),
            MessageKind::BulkRegistrationRequest => {
                Request::Upload(BulkUpload::ReferenceRegistration(r(bytes, limits)?))
            }
            MessageKind::BulkConfirmRequest => Request::Upload(BulkUpload::Confirmation(r(bytes, limits)?)),
            MessageKind::MedicalAidPullRequest => Request::Upload(BulkUpload::MedicalAid(r(bytes, limits)?)),
            MessageKind::HomeVisitPullRequest => Request::Upload(BulkUpload::HomeVisit(r(bytes, limits)?)),
            MessageKind::OnlinePullRequest => Request::Upload(BulkUpload::Online(r(bytes, limits)?)),
            MessageKind::BulkDownloadRequest => Request::Download(bulk_family(family), r(bytes, limits)?),
            MessageKind::DrugInfoRequest => Request::MedicalInfo(MedicalInfoKind::Drug, r(bytes, limits)?),
            MessageKind::CheckupInfoRequest => Request::MedicalInfo(MedicalInfoKind::Checkup, r(bytes, limits)?),
            _ => Request::Qualification(r(bytes, limits)?),
        })
    }

    /// The request's 医療機関コード, for the terminal's institution check.
    pub fn institution(&self) -> Option<String> {
        match self {
            Request::Qualification(r) => r.header().medical_institution_code,
            Request::Reference(r) => r.message_header.as_ref()?.medical_institution_code.clone(),
            Request::Upload(u) => match u {
                BulkUpload::ReferenceRegistration(r) => r.message_header.as_ref()?.medical_institution_code.clone(),
                BulkUpload::Confirmation(r) => r.message_header.as_ref()?.medical_institution_code.clone(),
                BulkUpload::MedicalAid(r) | BulkUpload::HomeVisit(r) | BulkUpload::Online(r) => {
                    r.message_header.as_ref()?.medical_institution_code.clone()
                }
            },
            Request::Download(_, r) => r.message_header.as_ref()?.medical_institution_code.clone(),
            Request::MedicalInfo(_, r) => r.message_header.as_ref()?.medical_institution_code.clone(),
        }
    }

    /// The call for the national system (qualification requests use their own endpoint).
    pub fn call(&self) -> Option<FolderCall> {
        Some(match self {
            Request::Qualification(_) => return None,
            Request::Reference(r) => FolderCall::RegisterReference { request: r.clone() },
            Request::Upload(u) => FolderCall::BulkUpload { upload: u.clone() },
            Request::Download(f, r) => FolderCall::BulkDownload {
                family: *f,
                request: r.clone(),
            },
            Request::MedicalInfo(k, r) => FolderCall::MedicalInfo {
                kind: *k,
                request: r.clone(),
            },
        })
    }

    /// This family's error answer: SegmentOfResult 9 (or ResultCode 9) with the code.
    pub fn error(&self, now: NaiveDateTime, e: &ErrorAnswer) -> Reply {
        let ts = |t: NaiveDateTime| t.format("%Y%m%d%H%M%S").to_string();
        let header = |mic: Option<String>, afi: Option<String>| MessageHeader {
            process_execution_time: Some(ts(now)),
            medical_institution_code: mic,
            arbitrary_file_identifier: afi,
            segment_of_result: Some(codes::SegmentOfResult::Abnormal),
            error_code: Some(e.code.clone()),
            error_message: Some(e.message.clone()),
            ..Default::default()
        };
        match self {
            Request::Qualification(r) => Reply::Qualification(onshi_national::error_result(r, now, e.clone())),
            Request::Reference(r) => {
                let h = r.message_header.clone().unwrap_or_default();
                Reply::Reference(ReferenceRegistrationResult {
                    message_header: Some(header(h.medical_institution_code, h.arbitrary_file_identifier)),
                    message_body: None,
                })
            }
            Request::Upload(_) => Reply::Upload(BulkUploadResult {
                message_header: Some(header(self.institution(), None)),
                message_body: None,
            }),
            Request::Download(family, r) => {
                let mut h = header(self.institution(), None);
                h.reception_number = r.message_body.as_ref().and_then(|b| b.reception_number.clone());
                Reply::Download(BulkDownload::empty(*family, h))
            }
            Request::MedicalInfo(kind, r) => {
                let rh = r.message_header.clone().unwrap_or_default();
                let contents = Some(format!("{} {}", e.code, e.message));
                match kind {
                    MedicalInfoKind::Drug => Reply::Drug(DrugResult {
                        message_header: Some(DrugResultHeader {
                            process_execution_time: Some(ts(now)),
                            medical_institution_code: rh.medical_institution_code,
                            arbitrary_file_identifier: rh.arbitrary_file_identifier,
                            result_code: Some("9".into()),
                            message_contents: contents,
                            ..Default::default()
                        }),
                        message_body: Some(Default::default()),
                    }),
                    MedicalInfoKind::Checkup => Reply::Checkup(CheckupResult {
                        message_header: Some(CheckupResultHeader {
                            process_execution_time: Some(ts(now)),
                            medical_institution_code: rh.medical_institution_code,
                            arbitrary_file_identifier: rh.arbitrary_file_identifier,
                            result_code: Some("9".into()),
                            message_contents: contents,
                            ..Default::default()
                        }),
                        message_body: Some(Default::default()),
                    }),
                }
            }
        }
    }
}

/// An answer to write into `res/`.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Qualification(QualificationResult),
    Reference(ReferenceRegistrationResult),
    Upload(BulkUploadResult),
    Download(BulkDownload),
    Drug(DrugResult),
    Checkup(CheckupResult),
    Pdf(Vec<u8>),
}

impl From<FolderAnswer> for Reply {
    fn from(a: FolderAnswer) -> Self {
        match a {
            FolderAnswer::RegisterReference(r) => Reply::Reference(r),
            FolderAnswer::BulkUpload(r) => Reply::Upload(r),
            FolderAnswer::BulkDownload(r) => Reply::Download(r),
            FolderAnswer::MedicalInfo(MedicalInfoAnswer::Drug(r)) => Reply::Drug(r),
            FolderAnswer::MedicalInfo(MedicalInfoAnswer::Checkup(r)) => Reply::Checkup(r),
            FolderAnswer::MedicalInfo(MedicalInfoAnswer::Pdf(b)) => Reply::Pdf(b.0),
        }
    }
}

/// What the journal says about a written answer.
pub(crate) struct Summary {
    /// SegmentOfResult, or `ResultCode` for 薬剤 / 特定健診, empty for a PDF.
    pub segment_of_result: String,
    pub error_code: Option<String>,
}

impl Reply {
    /// The common MessageHeader of every answer but 薬剤 / 特定健診 (their own header types)
    /// and PDFs.
    fn header_mut(&mut self) -> Option<&mut MessageHeader> {
        let h = match self {
            Reply::Qualification(r) => &mut r.message_header,
            Reply::Reference(r) => &mut r.message_header,
            Reply::Upload(r) => &mut r.message_header,
            Reply::Download(BulkDownload::Registration(r)) => &mut r.message_header,
            Reply::Download(BulkDownload::Confirmation(r)) => &mut r.message_header,
            Reply::Drug(_) | Reply::Checkup(_) | Reply::Pdf(_) => return None,
        };
        Some(h.get_or_insert_with(Default::default))
    }

    /// Sets CharacterCodeIdentifier to the terminal's output encoding.
    pub fn set_character_code(&mut self, cci: codes::CharacterCodeIdentifier) {
        let c = Some(cci);
        if let Some(h) = self.header_mut() {
            h.character_code_identifier = c;
            return;
        }
        match self {
            Reply::Drug(r) => {
                r.message_header
                    .get_or_insert_with(Default::default)
                    .character_code_identifier = c
            }
            Reply::Checkup(r) => {
                r.message_header
                    .get_or_insert_with(Default::default)
                    .character_code_identifier = c
            }
            _ => {}
        }
    }

    pub fn encode(&self, options: &XmlOptions) -> Result<Vec<u8>, EncodeError> {
        match self {
            Reply::Qualification(r) => write_message(r, options),
            Reply::Reference(r) => write_message(r, options),
            Reply::Upload(r) => write_message(r, options),
            Reply::Download(BulkDownload::Registration(r)) => write_message(r, options),
            Reply::Download(BulkDownload::Confirmation(r)) => write_message(r, options),
            Reply::Drug(r) => write_message(r, options),
            Reply::Checkup(r) => write_message(r, options),
            Reply::Pdf(b) => Ok(b.clone()),
        }
    }

    pub fn summary(&self) -> Summary {
        let from = |h: Option<&MessageHeader>| Summary {
            segment_of_result: h
                .and_then(|h| h.segment_of_result.as_ref())
                .map(|s| s.code().to_owned())
                .unwrap_or_default(),
            error_code: h.and_then(|h| h.error_code.clone()),
        };
        let medical = |code: Option<&String>, contents: Option<&String>| Summary {
            segment_of_result: code.cloned().unwrap_or_default(),
            error_code: contents
                .filter(|_| code.is_none_or(|c| c != "1"))
                .and_then(|c| c.split_whitespace().next().map(str::to_owned)),
        };
        match self {
            Reply::Qualification(r) => from(r.message_header.as_ref()),
            Reply::Reference(r) => from(r.message_header.as_ref()),
            Reply::Upload(r) => from(r.message_header.as_ref()),
            Reply::Download(BulkDownload::Registration(r)) => from(r.message_header.as_ref()),
            Reply::Download(BulkDownload::Confirmation(r)) => from(r.message_header.as_ref()),
            Reply::Drug(r) => {
                let h = r.message_header.as_ref();
                medical(
                    h.and_then(|h| h.result_code.as_ref()),
                    h.and_then(|h| h.message_contents.as_ref()),
                )
            }
            Reply::Checkup(r) => {
                let h = r.message_header.as_ref();
                medical(
                    h.and_then(|h| h.result_code.as_ref()),
                    h.and_then(|h| h.message_contents.as_ref()),
                )
            }
            Reply::Pdf(_) => Summary {
                segment_of_result: String::new(),
                error_code: None,
            },
        }
    }

    /// Whether this answer is a finished bulk result (the ones that may be delivered zipped).
    pub fn is_finished_bulk(&self) -> bool {
        matches!(self, Reply::Download(BulkDownload::Confirmation(r))
            if r.message_header.as_ref().and_then(|h| h.segment_of_result.as_ref()) == Some(&codes::SegmentOfResult::Normal))
    }

    pub fn extension(&self) -> Extension {
        match self {
            Reply::Pdf(_) => Extension::Pdf,
            _ => Extension::Xml,
        }
    }
}

/// A `.zip` holding one file: how bulk results may be delivered.
pub(crate) fn zip_one(name: &str, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file(name, options).map_err(std::io::Error::other)?;
    z.write_all(bytes)?;
    z.finish().map_err(std::io::Error::other)?;
    Ok(out.into_inner())
}
