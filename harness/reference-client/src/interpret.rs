//! Turning a result message into what the client shows at reception: the outcome, the
//! message, the stored record. This is where most clinic software goes wrong, so each
//! defect that is about reading results has its switch here.

use onshi_protocol::codes::{Code, ProcessingResultStatus, QualificationValidity, SegmentOfResult};
use onshi_protocol::driver::{
    ConsentRecord, Consents, ElderlyRecord, LimitCertificateRecord, Outcome, PatientRecord, SpecificDiseaseRecord,
};
use onshi_protocol::model::{QualificationResult, ResultOfQualificationConfirmation};
use onshi_protocol::xml::Element;

use crate::defects::Defect;

/// The client's conclusion about one result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conclusion {
    /// What the client concluded.
    pub outcome: Outcome,
    /// The message it shows the receptionist.
    pub message: String,
    /// The record it stores, when there is one.
    pub record: Option<PatientRecord>,
}

impl From<Conclusion> for onshi_protocol::driver::ConfirmQualificationResult {
    fn from(c: Conclusion) -> Self {
        Self {
            outcome: c.outcome,
            message: c.message,
            record: c.record,
            evidence: Vec::new(),
        }
    }
}

impl Conclusion {
    /// An error the client reports with `message`.
    pub fn error(message: impl Into<String>) -> Self {
        Conclusion {
            outcome: Outcome::Error,
            message: message.into(),
            record: None,
        }
    }
}

/// How the client is configured to (mis)behave.
pub trait Defects {
    /// Whether the client has defect `d`.
    fn has(&self, d: Defect) -> bool;
}

impl Defects for [Defect] {
    fn has(&self, d: Defect) -> bool {
        self.contains(&d)
    }
}

/// The message of the `generic-error-message` defect (the terminal's own message is lost).
pub const GENERIC_ERROR: &str = "エラーが発生しました。";

/// Interprets a parsed result. `header_el` is the raw header element (for the
/// `assumes-spec-order` defect, which reads by position).
pub fn conclude(result: &QualificationResult, header_el: Option<&Element>, defects: &[Defect]) -> Conclusion {
    let body = result.body();
    let results = result.results();
    let record = |r: &ResultOfQualificationConfirmation| Some(patient_record(r, defects));

    if defects.has(Defect::AnyResultValid) {
        return Conclusion {
            outcome: Outcome::Valid,
            message: "有効".into(),
            record: results.first().and_then(record),
        };
    }
    let mut header = result.header();
    if defects.has(Defect::AssumesSpecOrder)
        && let Some(h) = header_el
    {
        // Reads header elements until the one that comes last in spec order.
        let seen: Vec<&str> = h
            .children
            .iter()
            .map(|c| c.name.as_str())
            .scan(false, |done, n| {
                if *done {
                    return None;
                }
                *done = n == "CharacterCodeIdentifier";
                Some(n)
            })
            .collect();
        if !seen.contains(&"SegmentOfResult") {
            header.segment_of_result = None;
        }
    }
    let error_text = |specific: String| {
        if defects.has(Defect::GenericErrorMessage) {
            GENERIC_ERROR.to_owned()
        } else {
            specific
        }
    };
    match header.segment_of_result {
        Some(SegmentOfResult::Normal) => {}
        Some(_) if defects.has(Defect::CrashOnErrorAnswer) => {
            // an unhandled exception on the error answer's missing elements: the process dies
            eprintln!("thread 'main' panicked: called `Option::unwrap()` on a `None` value (ResultList)");
            std::process::exit(101);
        }
        Some(other) => {
            return Conclusion::error(error_text(format!(
                "{} {} ({})",
                header.error_code.unwrap_or_default(),
                header.error_message.unwrap_or_default(),
                other
            )));
        }
        None => return Conclusion::error("結果ファイルに SegmentOfResult（処理結果区分）がありません。"),
    }
    match body.processing_result_status {
        Some(ProcessingResultStatus::Normal) => {}
        Some(ProcessingResultStatus::Error) => {
            return Conclusion::error(error_text(format!(
                "{} {}",
                body.processing_result_code.unwrap_or_default(),
                body.processing_result_message.unwrap_or_default()
            )));
        }
        other => {
            return Conclusion::error(format!(
                "ProcessingResultStatus（処理結果状況）が不明です: {}",
                other.map(|s| s.describe()).unwrap_or_else(|| "なし".into())
            ));
        }
    }
    if defects.has(Defect::MissingResultListIsError) && results.is_empty() {
        return Conclusion::error("結果ファイルに ResultList がありません。");
    }
    let supplementary = body
        .processing_result_message
        .as_deref()
        .filter(|_| !defects.has(Defect::IgnoreNotice))
        .map(|m| format!(" {} {m}", body.processing_result_code.as_deref().unwrap_or("")))
        .unwrap_or_default();
    let validity = if defects.has(Defect::IgnoreValidity) {
        Some(QualificationValidity::Valid)
    } else {
        body.qualification_validity.clone()
    };
    let single = |outcome: Outcome, label: &str| match results {
        [one] => {
            if defects.has(Defect::RequiresSymbol) && one.insured_card_symbol.is_none() {
                return Conclusion::error("被保険者証記号が取得できません。");
            }
            if defects.has(Defect::StrictCodeTables)
                && let Some(c) = &one.insured_card_classification
                && c.code().starts_with('A')
            {
                return Conclusion::error(format!(
                    "InsuredCardClassification（被保険者証区分）が不明です: {}",
                    c.code()
                ));
            }
            Conclusion {
                outcome,
                message: format!("{label}{supplementary}"),
                record: record(one),
            }
        }
        _ if defects.has(Defect::IgnoreValidity) => Conclusion {
            outcome,
            message: label.to_owned(),
            record: results.first().and_then(record),
        },
        _ => Conclusion::error(format!(
            "{label} の結果に ResultOfQualificationConfirmation が {} 件あります（1 件のはず）。",
            results.len()
        )),
    };
    match validity {
        Some(QualificationValidity::Valid | QualificationValidity::ValidUnregistered) => single(Outcome::Valid, "有効"),
        Some(QualificationValidity::Invalid) => single(Outcome::Invalid, "無効"),
        Some(QualificationValidity::InvalidNewQualification) if defects.has(Defect::NewQualificationAsValid) => {
            single(Outcome::Valid, "有効")
        }
        Some(QualificationValidity::InvalidNewQualification) => {
            single(Outcome::InvalidNewQualification, "無効（新しい資格あり）")
        }
        Some(QualificationValidity::NoQualification) => Conclusion {
            outcome: Outcome::NotFound,
            message: format!("該当資格なし{supplementary}"),
            record: None,
        },
        Some(QualificationValidity::Multiple) if defects.has(Defect::FirstOfMany) => Conclusion {
            outcome: Outcome::Valid,
            message: "有効".into(),
            record: results.first().and_then(record),
        },
        Some(QualificationValidity::Multiple) => Conclusion {
            outcome: Outcome::Multiple,
            message: format!(
                "複数該当: {} 件の資格が該当しました。枝番を確認してください。",
                results.len()
            ),
            record: None,
        },
        Some(other) => Conclusion::error(format!(
            "QualificationValidity（資格有効性）が不明です: {}",
            other.describe()
        )),
        None => Conclusion::error("結果に QualificationValidity（資格有効性）がありません。"),
    }
}

/// Replaces what Shift_JIS cannot hold with 〓 (the `geta-substitution` defect).
fn through_shift_jis(s: &str) -> String {
    s.chars()
        .map(|c| {
            if onshi_protocol::TextEncoding::ShiftJis
                .encode_str(&c.to_string())
                .is_ok()
            {
                c
            } else {
                '〓'
            }
        })
        .collect()
}

/// What the client stores from one result.
pub fn patient_record(r: &ResultOfQualificationConfirmation, defects: &[Defect]) -> PatientRecord {
    let mut name = if defects.has(Defect::HouseholderName) {
        r.insured_name.clone().or(r.name.clone())
    } else {
        r.name.clone()
    };
    if defects.has(Defect::GetaSubstitution) {
        name = name.map(|n| through_shift_jis(&n));
    }
    let insurer_number = if defects.has(Defect::TrimInsurer) {
        r.insurer_number.as_ref().map(|i| i.trim().to_owned())
    } else {
        r.insurer_number.clone()
    };
    PatientRecord {
        insurer_number,
        symbol: r.insured_card_symbol.clone(),
        number: r.insured_identification_number.clone(),
        branch: r.insured_branch_number.clone(),
        name,
        name_kana: r.name_kana.clone(),
        birthdate: r.birthdate.clone(),
        sex: r.sex1.as_ref().map(|s| s.code().to_owned()),
        insurer_name: r.insurer_name.clone(),
        copay_ratio: r.insured_partial_contribution_ratio.clone(),
        elderly: r
            .elderly_recipient_certificate_info
            .as_ref()
            .filter(|_| !defects.has(Defect::IgnoreElderly))
            .map(|e| ElderlyRecord {
                ratio: e.contribution_ratio.clone().unwrap_or_default(),
                valid_start: e.valid_start_date.clone(),
                valid_end: e.valid_end_date.clone(),
            }),
        limit_certificate: r
            .limit_application_certificate_related_info
            .as_ref()
            .map(|l| LimitCertificateRecord {
                classification: l
                    .classification
                    .as_ref()
                    .map(|c| c.code().to_owned())
                    .unwrap_or_default(),
                flag: l
                    .classification_flag
                    .as_ref()
                    .map(|c| c.code().to_owned())
                    .unwrap_or_default(),
            }),
        specific_diseases: r.specific_diseases_certificate_list.as_ref().map(|l| {
            l.0.iter()
                .map(|d| SpecificDiseaseRecord {
                    category: d
                        .disease_category
                        .as_ref()
                        .map(|c| c.code().to_owned())
                        .unwrap_or_default(),
                    self_pay: d.self_pay.clone(),
                })
                .collect()
        }),
    }
}

/// The consents of a face result.
pub fn consents(r: &ResultOfQualificationConfirmation) -> Consents {
    fn one(flag: Option<&str>, time: &Option<String>, available: &Option<String>) -> Option<ConsentRecord> {
        flag.map(|f| ConsentRecord {
            flag: f.to_owned(),
            time: time.clone(),
            available_time: available.clone(),
        })
    }
    Consents {
        limit_certificate: one(
            r.limit_application_certificate_related_cons_flg
                .as_ref()
                .map(|f| f.code()),
            &r.limit_application_certificate_related_cons_time,
            &None,
        ),
        specific_diseases: one(
            r.specific_diseases_certificate_related_cons_flg
                .as_ref()
                .map(|f| f.code()),
            &r.specific_diseases_certificate_related_cons_time,
            &None,
        ),
        specific_health_checkups: one(
            r.specific_health_checkups_info_cons_flg.as_ref().map(|f| f.code()),
            &r.specific_health_checkups_info_cons_time,
            &r.specific_health_checkups_info_available_time,
        ),
        pharmacists: one(
            r.pharmacists_info_cons_flg.as_ref().map(|f| f.code()),
            &r.pharmacists_info_cons_time,
            &r.pharmacists_info_available_time,
        ),
        diagnosis: one(
            r.diagnosis_info_cons_flg.as_ref().map(|f| f.code()),
            &r.diagnosis_info_cons_time,
            &r.diagnosis_info_available_time,
        ),
        operation: one(
            r.operation_info_cons_flg.as_ref().map(|f| f.code()),
            &r.operation_info_cons_time,
            &r.operation_info_available_time,
        ),
    }
}
