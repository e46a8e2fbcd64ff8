//! Checks of the qualification confirmation itself: a `confirm_qualification` over the folder
//! or the API, an `import_face`, and the case-level checks of the requests the client wrote
//! and the logins and searches it made.

use onshi_protocol::{CheckId, ids};
use std::ffi::OsStr;

use onshi_protocol::Severity;
use onshi_protocol::codes::Code;
use onshi_protocol::driver::{
    Card, ConfirmQualificationParams, ConfirmQualificationResult, ConsentRecord, Consents, ImportFaceResult, Outcome,
    PatientRecord, Via,
};
use onshi_protocol::filename::{Family, FileName};
use onshi_protocol::lint::{lint, lint_file_name};
use onshi_protocol::model::{QualificationRequest, ResultOfQualificationConfirmation};
use onshi_protocol::xml::Limits;
use onshi_protocol::{MessageKind, read_message};
use onshi_terminal::{Folder, FsOp};

use super::answer::Answer;
use super::api_view::{self, ApiExchange};
use super::families;
use super::terminal_view as view;
use super::verdict::{fail, pass, result, skipped};
use super::{CallAnswer, CheckResult, Status};
use crate::journal::Entry;
use crate::spec::{ApiSetup, CertificateChoice, Expect, FromResult};

/// Who answers the client, in the words of check messages.
struct Source {
    who: &'static str,
    result: &'static str,
}

const TERMINAL: Source = Source {
    who: "the terminal",
    result: "the terminal's result",
};
const API: Source = Source {
    who: "the national API",
    result: "the API's result",
};

/// More logins and searches than this for one confirmation is a storm (API-STORM-001).
pub(crate) const STORM_REQUESTS: usize = 10;
/// More logins than this for one confirmation is a storm.
pub(crate) const STORM_LOGINS: usize = 3;
/// Slack for `Retry-After` (clock granularity between the mock and the journal).
const RETRY_SLACK_MS: f64 = 100.0;

/// The case-level checks: MSG-* on every request the client wrote, what the national mock
/// found in its logins and searches, and the file-system and API checks the case declares
/// (`declared`). `imports` are the face files the client imported, each with the last
/// journal event of its import step.
pub(crate) fn case_level(
    declared: &[String],
    api: ApiSetup,
    entries: &[Entry],
    imports: &[(&str, u64)],
    out: &mut Vec<CheckResult>,
) {
    let declared = |id: CheckId| declared.iter().any(|c| *c == id);
    lint_requests(entries, out);
    api_findings(api.client_certificate, entries, out);
    families::name_reuse(entries, declared(ids::FS_NAME_REUSE), out);
    families::consumed(entries, imports, declared(ids::FS_CONSUMED), out);
    families::face_once(entries, imports, declared(ids::FACE_ONCE), out);
}

/// The case-level checks judged after every step's own (they read the whole case).
pub(crate) fn case_level_last(declared: &[String], entries: &[Entry], out: &mut Vec<CheckResult>) {
    if declared.iter().any(|c| *c == ids::FS_REQ_ATOMIC) {
        atomic_check(entries, out);
    }
    if declared.iter().any(|c| *c == ids::API_TOKEN_REUSE) {
        token_reuse_check(&api_view::client_exchanges(entries), out);
    }
}

/// The checks of a `confirm_qualification` step (`n`, 1-based) over its journal `window`.
#[allow(clippy::too_many_arguments)] // the step's definition, its call, its window
pub fn confirm(
    params: &ConfirmQualificationParams,
    answer: &CallAnswer<ConfirmQualificationResult>,
    expect: &Expect,
    via: Via,
    duplicates: bool,
    window: &[Entry],
    n: usize,
    out: &mut Vec<CheckResult>,
) {
    let (terminal, source) = match via {
        Via::File => (view::answer(window), &TERMINAL),
        Via::Api => (api_view::answer(window), &API),
    };
    // What the client sent comes first: it is often the cause of what follows.
    if expect.request != Some(false) {
        let sent = match via {
            Via::File => file_requests(window),
            Via::Api => api_requests(window),
        };
        request_checks(params, sent, n, out);
    }
    if via == Via::Api {
        let xs = api_view::client_exchanges(window);
        retry_check(&xs, n, out);
        storm_check(&xs, n, out);
    }
    outcome_check(expect, answer.by_ref().map(|a| a.outcome), &terminal, source, n, out);
    if let CallAnswer::Answered(a) = answer {
        if shows_message(expect, &terminal) {
            message_check(&a.message, &terminal, source, n, out);
        }
        if expect.record == Some(FromResult::Result) {
            let result = single_result(terminal.as_ref(), source);
            record_checks(a.record.as_ref(), result, source, n, out);
        }
    }
    if duplicates {
        duplicate_check(window, n, out);
    }
}

/// The checks of an `import_face` step (`n`, 1-based) of face file `file`; `entries` are the
/// case's.
pub fn import_face(
    file: &str,
    answer: &CallAnswer<ImportFaceResult>,
    expect: &Expect,
    entries: &[Entry],
    n: usize,
    out: &mut Vec<CheckResult>,
) {
    let face = view::face(entries, file);
    let terminal = face.as_ref().map(|(seq, r)| Answer::Result {
        seq: *seq,
        result: Box::new(r.clone()),
    });
    outcome_check(expect, answer.by_ref().map(|a| a.outcome), &terminal, &TERMINAL, n, out);
    if let CallAnswer::Answered(a) = answer {
        let result = || single_result(terminal.as_ref(), &TERMINAL);
        if shows_message(expect, &terminal) {
            message_check(&a.message, &terminal, &TERMINAL, n, out);
        }
        if expect.record == Some(FromResult::Result) {
            record_checks(a.record.as_ref(), result(), &TERMINAL, n, out);
        }
        if expect.consents == Some(FromResult::Result) {
            consent_check(a.consents.as_ref(), result(), n, out);
        }
        if expect.reference_number == Some(FromResult::Result) {
            refnum_check(a.reference_number.as_deref(), result(), n, out);
        }
    }
}

/// A compared field: name, expected, actual (the client's).
type Field<'a> = (&'a str, Option<String>, Option<String>);

/// MSG-* on every request the client wrote (as the terminal read it).
fn lint_requests(entries: &[Entry], out: &mut Vec<CheckResult>) {
    for t in view::requests(entries) {
        let (parsed, mut findings) = lint_file_name(OsStr::new(t.name));
        let is_qualification = matches!(&parsed, Ok(FileName::Message(m)) if m.family == Family::OqsSiQuc);
        if is_qualification {
            findings.extend(lint(MessageKind::QualificationRequest, t.bytes, &Limits::default()).findings);
        }
        for f in findings {
            let at = match (&f.path, f.line) {
                (Some(p), Some(l)) => format!(" ({p}, line {l})"),
                (Some(p), None) => format!(" ({p})"),
                _ => String::new(),
            };
            out.push(CheckResult {
                actual: Some(f.message.clone()),
                ..result(
                    f.check,
                    match f.severity {
                        Severity::Error => Status::Fail,
                        Severity::Warning => Status::Warning,
                    },
                    format!("req/{}{at}: {}", t.name, f.message),
                    None,
                    vec![t.seq],
                )
            });
        }
    }
}

fn outcome_check(
    expect: &Expect,
    answer: CallAnswer<Outcome>,
    terminal: &Option<Answer>,
    source: &Source,
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let Some(expected) = expect.outcome else { return };
    let Some(id) = super::outcome_check(expect, matches!(answer, CallAnswer::TimedOut { .. })) else {
        return;
    };
    let who = source.who;
    let said = match terminal {
        Some(a @ Answer::Http { .. }) => format!("{who}: {} (event #{})", a.describe(), a.seq()),
        Some(a) => format!("{who} answered {} (event #{})", a.describe(), a.seq()),
        None => format!("{who} gave no answer"),
    };
    let events: Vec<u64> = terminal.iter().map(Answer::seq).collect();
    match answer {
        // Nothing answered this request, yet the client concluded something: it took a file
        // or a response that was not the answer to its request.
        CallAnswer::Answered(got) if terminal.is_none() && got != Outcome::Error => out.push(fail(
            id,
            format!(
                "{said} to this request, yet the client reported `{got}`: it took something that was not \
                 its answer (another request's result, an old file under its result name)"
            ),
            "`error` (or waiting for the real answer)".to_owned(),
            got.to_string(),
            step,
            events,
        )),
        CallAnswer::Answered(got) if got == expected => {
            out.push(pass(id, format!("{said}; the client reported `{got}`"), step, events));
        }
        CallAnswer::Answered(got) => out.push(fail(
            id,
            format!("{said}; the client reported `{got}` instead of `{expected}`"),
            expected.to_string(),
            got.to_string(),
            step,
            events,
        )),
        CallAnswer::TimedOut { after_ms } => out.push(fail(
            id,
            format!("{said}; the client did not answer within {after_ms} ms — it must give up and report `{expected}`"),
            format!("`{expected}` within {after_ms} ms"),
            "no answer".to_owned(),
            step,
            events,
        )),
    }
}

/// Whether OUT-MESSAGE applies: when the case asks for it (`message = "result"`), and by
/// default to every answer the client must report as an error that carries a message — an
/// error shown without its text leaves the receptionist guessing.
fn shows_message(expect: &Expect, terminal: &Option<Answer>) -> bool {
    match expect.message {
        Some(FromResult::Result) => true,
        None => expect.outcome == Some(Outcome::Error) && terminal.as_ref().and_then(Answer::message).is_some(),
    }
}

fn message_check(message: &str, terminal: &Option<Answer>, source: &Source, step: usize, out: &mut Vec<CheckResult>) {
    let Some(expected) = terminal.as_ref().and_then(Answer::message) else {
        let who = source.who;
        let why = match terminal {
            None => {
                format!("{who} gave no answer (no request reached it), so there is no message the client could show")
            }
            Some(_) => {
                format!("the case expects a message but the answer of {who} carries none (a problem of the scenario)")
            }
        };
        out.push(result(ids::OUT_MESSAGE, Status::Fail, why, Some(step), vec![]));
        return;
    };
    let events = terminal.iter().map(Answer::seq).collect();
    if message.contains(&expected) {
        out.push(pass(
            ids::OUT_MESSAGE,
            format!("the client shows {expected:?}"),
            step,
            events,
        ));
    } else {
        out.push(fail(
            ids::OUT_MESSAGE,
            format!(
                "the client's message does not contain the message of {} verbatim",
                source.who
            ),
            format!("a message containing {expected:?}"),
            format!("{message:?}"),
            step,
            events,
        ));
    }
}

fn single_result<'a>(
    terminal: Option<&'a Answer>,
    source: &Source,
) -> Result<(u64, &'a ResultOfQualificationConfirmation), String> {
    let who = source.who;
    match terminal {
        Some(Answer::Result { seq, result }) => match result.results() {
            [one] => Ok((*seq, one)),
            many => Err(format!(
                "the answer of {who} holds {} results; there is no single record to compare with",
                many.len()
            )),
        },
        Some(Answer::Rejected { .. }) => Err(format!("{who} rejected the request; there is no record")),
        Some(a @ Answer::Http { .. }) => Err(format!("{}; there is no record", a.describe())),
        None => Err(format!("{who} gave no answer; there is no record to compare with")),
    }
}

fn same(expected: Option<&str>, actual: Option<&str>) -> bool {
    expected.unwrap_or("") == actual.unwrap_or("")
}

fn show(v: Option<&str>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), |s| format!("{s:?}"))
}

/// Compares field lists and reports one check.
fn compare(
    id: CheckId,
    what: &str,
    against: &str,
    fields: &[Field<'_>],
    seq: u64,
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let wrong: Vec<_> = fields
        .iter()
        .filter(|(_, e, a)| !same(e.as_deref(), a.as_deref()))
        .collect();
    if wrong.is_empty() {
        out.push(pass(id, format!("{what} match {against}"), step, vec![seq]));
    } else {
        let list = |f: fn(&Field<'_>) -> String| wrong.iter().map(|w| f(w)).collect::<Vec<_>>().join("; ");
        out.push(fail(
            id,
            format!(
                "{what} differ from {against}: {}",
                wrong.iter().map(|w| w.0).collect::<Vec<_>>().join(", ")
            ),
            list(|(n, e, _)| format!("{n}={}", show(e.as_deref()))),
            list(|(n, _, a)| format!("{n}={}", show(a.as_deref()))),
            step,
            vec![seq],
        ));
    }
}

fn record_checks(
    record: Option<&PatientRecord>,
    result: Result<(u64, &ResultOfQualificationConfirmation), String>,
    source: &Source,
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let ids = super::RECORD_CHECKS;
    let (seq, r) = match result {
        Ok(x) => x,
        Err(reason) => {
            for &id in ids {
                out.push(skipped(id, &reason, step));
            }
            return;
        }
    };
    let Some(rec) = record else {
        for &id in ids {
            out.push(fail(
                id,
                "the client reported no record".into(),
                "the record of the terminal's result".into(),
                "no record".into(),
                step,
                vec![seq],
            ));
        }
        return;
    };
    let s = |v: &Option<String>| v.clone();
    compare(
        ids::REC_INSURER,
        "the insurer number",
        source.result,
        &[("insurer_number", s(&r.insurer_number), s(&rec.insurer_number))],
        seq,
        step,
        out,
    );
    compare(
        ids::REC_CARD,
        "the card data",
        source.result,
        &[
            ("symbol", s(&r.insured_card_symbol), s(&rec.symbol)),
            ("number", s(&r.insured_identification_number), s(&rec.number)),
            ("branch", s(&r.insured_branch_number), s(&rec.branch)),
            ("insurer_name", s(&r.insurer_name), s(&rec.insurer_name)),
        ],
        seq,
        step,
        out,
    );
    compare(
        ids::REC_NAME,
        "the name and kana",
        source.result,
        &[
            ("name", s(&r.name), s(&rec.name)),
            ("name_kana", s(&r.name_kana), s(&rec.name_kana)),
        ],
        seq,
        step,
        out,
    );
    compare(
        ids::REC_PERSON,
        "the birth date and sex",
        source.result,
        &[
            ("birthdate", s(&r.birthdate), s(&rec.birthdate)),
            ("sex", r.sex1.as_ref().map(|x| x.code().to_owned()), s(&rec.sex)),
        ],
        seq,
        step,
        out,
    );
    let elderly = r.elderly_recipient_certificate_info.as_ref();
    let limit = r.limit_application_certificate_related_info.as_ref();
    let diseases = |list: Vec<(String, Option<String>)>| {
        (!list.is_empty()).then(|| {
            list.iter()
                .map(|(c, p)| format!("{c}:{}", p.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    compare(
        ids::REC_BENEFIT,
        "the benefit information",
        source.result,
        &[
            (
                "copay_ratio",
                s(&r.insured_partial_contribution_ratio),
                s(&rec.copay_ratio),
            ),
            (
                "elderly.ratio",
                elderly.and_then(|e| e.contribution_ratio.clone()),
                rec.elderly.as_ref().map(|e| e.ratio.clone()),
            ),
            (
                "elderly.valid_start",
                elderly.and_then(|e| e.valid_start_date.clone()),
                rec.elderly.as_ref().and_then(|e| e.valid_start.clone()),
            ),
            (
                "elderly.valid_end",
                elderly.and_then(|e| e.valid_end_date.clone()),
                rec.elderly.as_ref().and_then(|e| e.valid_end.clone()),
            ),
            (
                "limit_certificate.classification",
                limit.and_then(|l| l.classification.as_ref().map(|c| c.code().to_owned())),
                rec.limit_certificate.as_ref().map(|l| l.classification.clone()),
            ),
            (
                "limit_certificate.flag",
                limit.and_then(|l| l.classification_flag.as_ref().map(|c| c.code().to_owned())),
                rec.limit_certificate.as_ref().map(|l| l.flag.clone()),
            ),
            (
                "specific_diseases",
                diseases(
                    r.specific_diseases_certificate_list
                        .as_ref()
                        .map(|l| {
                            l.0.iter()
                                .map(|d| {
                                    (
                                        d.disease_category
                                            .as_ref()
                                            .map(|c| c.code().to_owned())
                                            .unwrap_or_default(),
                                        d.self_pay.clone(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                diseases(
                    rec.specific_diseases
                        .iter()
                        .flatten()
                        .map(|d| (d.category.clone(), d.self_pay.clone()))
                        .collect(),
                ),
            ),
        ],
        seq,
        step,
        out,
    );
}

fn consent_check(
    consents: Option<&Consents>,
    result: Result<(u64, &ResultOfQualificationConfirmation), String>,
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let (seq, r) = match result {
        Ok(x) => x,
        Err(reason) => return out.push(skipped(ids::FACE_CONSENT, &reason, step)),
    };
    let c = consents.cloned().unwrap_or_default();
    let code = |f: Option<&str>| f.map(str::to_owned);
    type Kind<'a> = (
        &'a str,
        Option<String>,
        Option<String>,
        Option<String>,
        &'a Option<ConsentRecord>,
    );
    let kinds: [Kind<'_>; 6] = [
        (
            "limit_certificate",
            code(
                r.limit_application_certificate_related_cons_flg
                    .as_ref()
                    .map(|f| f.code()),
            ),
            r.limit_application_certificate_related_cons_time.clone(),
            None,
            &c.limit_certificate,
        ),
        (
            "specific_diseases",
            code(
                r.specific_diseases_certificate_related_cons_flg
                    .as_ref()
                    .map(|f| f.code()),
            ),
            r.specific_diseases_certificate_related_cons_time.clone(),
            None,
            &c.specific_diseases,
        ),
        (
            "specific_health_checkups",
            code(r.specific_health_checkups_info_cons_flg.as_ref().map(|f| f.code())),
            r.specific_health_checkups_info_cons_time.clone(),
            r.specific_health_checkups_info_available_time.clone(),
            &c.specific_health_checkups,
        ),
        (
            "pharmacists",
            code(r.pharmacists_info_cons_flg.as_ref().map(|f| f.code())),
            r.pharmacists_info_cons_time.clone(),
            r.pharmacists_info_available_time.clone(),
            &c.pharmacists,
        ),
        (
            "diagnosis",
            code(r.diagnosis_info_cons_flg.as_ref().map(|f| f.code())),
            r.diagnosis_info_cons_time.clone(),
            r.diagnosis_info_available_time.clone(),
            &c.diagnosis,
        ),
        (
            "operation",
            code(r.operation_info_cons_flg.as_ref().map(|f| f.code())),
            r.operation_info_cons_time.clone(),
            r.operation_info_available_time.clone(),
            &c.operation,
        ),
    ];
    let mut fields = Vec::new();
    for (kind, f, t, a, got) in kinds {
        fields.push((format!("{kind}.flag"), f, got.as_ref().map(|g| g.flag.clone())));
        fields.push((format!("{kind}.time"), t, got.as_ref().and_then(|g| g.time.clone())));
        fields.push((
            format!("{kind}.available_time"),
            a,
            got.as_ref().and_then(|g| g.available_time.clone()),
        ));
    }
    let borrowed: Vec<Field<'_>> = fields
        .iter()
        .map(|(n, e, a)| (n.as_str(), e.clone(), a.clone()))
        .collect();
    compare(
        ids::FACE_CONSENT,
        "the consents",
        TERMINAL.result,
        &borrowed,
        seq,
        step,
        out,
    );
}

fn refnum_check(
    reference_number: Option<&str>,
    result: Result<(u64, &ResultOfQualificationConfirmation), String>,
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    match result {
        Ok((seq, r)) => compare(
            ids::FACE_REFNUM,
            "the 照会番号",
            TERMINAL.result,
            &[(
                "reference_number",
                r.reference_number.clone(),
                reference_number.map(str::to_owned),
            )],
            seq,
            step,
            out,
        ),
        Err(reason) => out.push(skipped(ids::FACE_REFNUM, &reason, step)),
    }
}

/// The card as the request must carry it.
fn expected_request(card: &Card) -> [(&'static str, Option<String>); 5] {
    [
        (
            "InsurerNumber",
            Some(onshi_protocol::model::interface_insurer_number(&card.insurer_number)),
        ),
        ("InsuredCardSymbol", card.symbol.clone()),
        ("InsuredIdentificationNumber", Some(card.number.clone())),
        ("InsuredBranchNumber", card.branch.clone()),
        ("Birthdate", Some(card.birthdate.clone())),
    ]
}

/// The requests a client sent for one confirmation.
struct Sent {
    /// Whether anything was sent at all (readable or not).
    any: bool,
    /// The readable ones: journal event, how to name it, the request.
    readable: Vec<(u64, String, QualificationRequest)>,
    /// What was expected, for the failure when nothing was sent.
    expected: &'static str,
    /// The failure when nothing was sent.
    nothing: &'static str,
}

fn file_requests(window: &[Entry]) -> Sent {
    let taken = view::requests(window);
    Sent {
        any: !taken.is_empty(),
        readable: taken
            .iter()
            .filter_map(|t| {
                // Unreadable: the message lint reports why.
                let (req, _) = read_message::<QualificationRequest>(t.bytes, &Limits::default()).ok()?;
                Some((t.seq, format!("req/{}", t.name), req))
            })
            .collect(),
        expected: "a request in req/",
        nothing: "no request file reached the terminal while the client worked on this confirmation",
    }
}

fn api_requests(window: &[Entry]) -> Sent {
    let any = api_view::client_exchanges(window).iter().any(ApiExchange::is_search);
    Sent {
        any,
        readable: api_view::search_requests(window)
            .into_iter()
            .map(|(seq, r)| (seq, format!("the search request (event #{seq})"), r))
            .collect(),
        expected: "a search request to the API",
        nothing: "the client sent no search to the API while it worked on this confirmation",
    }
}

fn request_checks(params: &ConfirmQualificationParams, sent: Sent, step: usize, out: &mut Vec<CheckResult>) {
    if !sent.any {
        for &id in super::REQUEST_CHECKS {
            out.push(fail(
                id,
                sent.nothing.into(),
                sent.expected.into(),
                "none".into(),
                step,
                vec![],
            ));
        }
        return;
    }
    for (seq, name, req) in sent.readable {
        let info = req.search_info();
        let header = req.header();
        let actual = [
            info.insurer_number.clone(),
            info.insured_card_symbol.clone(),
            info.insured_identification_number.clone(),
            info.insured_branch_number.clone(),
            info.birthdate.clone(),
        ];
        let fields: Vec<Field<'_>> = expected_request(&params.card)
            .into_iter()
            .zip(actual)
            .map(|((n, e), a)| (n, e, a))
            .collect();
        compare(
            ids::REQ_CARD,
            &format!("the card fields of {name}"),
            "the card given to the client",
            &fields,
            seq,
            step,
            out,
        );
        let flag = info
            .limit_application_certificate_related_cons_flg
            .as_ref()
            .map(|f| f.code().to_owned());
        let consent = if params.consent_limit_certificate { "1" } else { "0" };
        compare(
            ids::REQ_CONSENT,
            &format!("the 限度額 consent flag of {name}"),
            "the patient's consent given to the client",
            &[(
                "LimitApplicationCertificateRelatedConsFlg",
                Some(consent.to_owned()),
                flag,
            )],
            seq,
            step,
            out,
        );
        if let Some(date) = &params.date {
            compare(
                ids::REQ_DATE,
                &format!("the confirmation date of {name}"),
                "the date given to the client",
                &[(
                    "QualificationConfirmationDate",
                    Some(date.clone()),
                    header.qualification_confirmation_date,
                )],
                seq,
                step,
                out,
            );
        }
    }
}

fn duplicate_check(window: &[Entry], step: usize, out: &mut Vec<CheckResult>) {
    let appeared = view::client_requests_appearing(window);
    let events = appeared.iter().map(|(s, _)| *s).collect();
    if appeared.len() <= 1 {
        out.push(pass(
            ids::FS_REQ_DUP,
            format!("{} request file for this confirmation", appeared.len()),
            step,
            events,
        ));
    } else {
        out.push(fail(
            ids::FS_REQ_DUP,
            format!(
                "the client wrote {} request files for one confirmation: {}",
                appeared.len(),
                appeared.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
            ),
            "1 request file".into(),
            format!("{} request files", appeared.len()),
            step,
            events,
        ));
    }
}

fn atomic_check(entries: &[Entry], out: &mut Vec<CheckResult>) {
    let mut names: Vec<&str> = view::requests(entries).iter().map(|t| t.name).collect();
    names.dedup();
    for name in names {
        let fs = view::client_fs(entries, Folder::Req, name);
        let events: Vec<u64> = fs.iter().map(|(s, _)| *s).collect();
        match fs.first() {
            Some((_, FsOp::Created)) => {
                let writes = fs.iter().filter(|(_, op)| *op == FsOp::Modified).count();
                let span = entries
                    .iter()
                    .filter(|e| events.contains(&e.seq))
                    .map(|e| e.t_ms)
                    .fold((f64::MAX, f64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
                out.push(CheckResult {
                    expected: Some("the file appears by a rename from a temporary name".into()),
                    actual: Some(format!(
                        "created in place as req/{name} and written in {writes} writes over {:.0} ms",
                        (span.1 - span.0).max(0.0)
                    )),
                    ..result(
                        ids::FS_REQ_ATOMIC,
                        Status::Fail,
                        format!("req/{name} was created under its final name and written afterwards"),
                        None,
                        events,
                    )
                });
            }
            Some(_) => out.push(result(
                ids::FS_REQ_ATOMIC,
                Status::Pass,
                format!("req/{name} appeared complete, by a rename"),
                None,
                events,
            )),
            None => {}
        }
    }
}

/// What the mock found wrong in the client's logins and searches (`API-*`, `MSG-*`). Token
/// expiry is part of a token's life, and a bad certificate is not the client's doing when the
/// case gave it one.
fn api_findings(certificate: CertificateChoice, entries: &[Entry], out: &mut Vec<CheckResult>) {
    use onshi_national::http::checks::{CERTIFICATE, LIFECYCLE};
    let certificate_given = certificate != CertificateChoice::Valid;
    for a in api_view::client_exchanges(entries) {
        for f in &a.x.findings {
            // the mock reports declared IDs only
            let Some(id) = CheckId::parse(&f.check) else { continue };
            if LIFECYCLE.contains(&id) || (certificate_given && CERTIFICATE.contains(&id)) {
                continue;
            }
            let endpoint = if a.is_login() { "login" } else { "search" };
            out.push(CheckResult {
                actual: Some(f.message.clone()),
                ..result(
                    id,
                    Status::Fail,
                    format!("{endpoint} (event #{}): {}", a.seq, f.message),
                    None,
                    vec![a.seq],
                )
            });
        }
    }
}

/// API-RETRY-001: after an answer with `Retry-After`, the next request waits that long.
fn retry_check(xs: &[ApiExchange<'_>], step: usize, out: &mut Vec<CheckResult>) {
    for (i, a) in xs.iter().enumerate() {
        let Some(after_s) = a.x.retry_after_s else { continue };
        let wait_ms = f64::from(after_s) * 1000.0;
        match xs.get(i + 1) {
            None => out.push(pass(
                ids::API_RETRY_001,
                format!("after Retry-After: {after_s} the client sent no further request"),
                step,
                vec![a.seq],
            )),
            Some(next) => {
                let gap = next.started_ms() - a.answered_ms();
                if gap + RETRY_SLACK_MS >= wait_ms {
                    out.push(pass(
                        ids::API_RETRY_001,
                        format!("after Retry-After: {after_s} the client waited {gap:.0} ms"),
                        step,
                        vec![a.seq, next.seq],
                    ));
                } else {
                    out.push(fail(
                        ids::API_RETRY_001,
                        format!(
                            "the API answered with Retry-After: {after_s} (event #{}) and the client asked again after {gap:.0} ms (event #{})",
                            a.seq, next.seq
                        ),
                        format!("the next request no sooner than {wait_ms:.0} ms later"),
                        format!("{gap:.0} ms later"),
                        step,
                        vec![a.seq, next.seq],
                    ));
                }
            }
        }
    }
}

/// API-STORM-001: a bounded number of logins and searches per confirmation.
/// API-TOKEN-REUSE over a whole case: successful logins ≤ 1 + searches refused with 401.
fn token_reuse_check(xs: &[ApiExchange<'_>], out: &mut Vec<CheckResult>) {
    let logins: Vec<&ApiExchange<'_>> = xs.iter().filter(|a| a.is_login() && a.x.status == 200).collect();
    let searches = xs.iter().filter(|a| a.is_search()).count();
    let refused = xs.iter().filter(|a| a.is_search() && a.x.status == 401).count();
    let allowed = 1 + refused;
    if logins.len() <= allowed {
        out.push(result(
            ids::API_TOKEN_REUSE,
            Status::Pass,
            format!(
                "{} login(s) for {searches} search(es), {refused} of them refused with 401",
                logins.len()
            ),
            None,
            logins.iter().map(|a| a.seq).collect(),
        ));
    } else {
        out.push(CheckResult {
            expected: Some(format!("at most {allowed} login(s): one, and one after each 401")),
            actual: Some(format!("{} logins", logins.len())),
            ..result(
                ids::API_TOKEN_REUSE,
                Status::Fail,
                format!(
                    "the client logged in {} times for {searches} searches ({refused} refused with 401): it did not keep its token for the next patient (logins at events {})",
                    logins.len(),
                    logins.iter().map(|a| format!("#{}", a.seq)).collect::<Vec<_>>().join(", ")
                ),
                None,
                logins.iter().skip(allowed).map(|a| a.seq).collect(),
            )
        });
    }
}

fn storm_check(xs: &[ApiExchange<'_>], step: usize, out: &mut Vec<CheckResult>) {
    let logins = xs.iter().filter(|a| a.is_login()).count();
    let total = xs.len();
    let events: Vec<u64> = xs.iter().map(|a| a.seq).take(STORM_REQUESTS + 1).collect();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let counted = format!(
        "{} ({}, {})",
        plural(total, "request", "requests"),
        plural(logins, "login", "logins"),
        plural(total - logins, "search", "searches")
    );
    if total <= STORM_REQUESTS && logins <= STORM_LOGINS {
        out.push(pass(
            ids::API_STORM_001,
            format!("{counted} for this confirmation"),
            step,
            events,
        ));
    } else {
        out.push(fail(
            ids::API_STORM_001,
            format!("the client sent {counted} for one confirmation"),
            format!("at most {STORM_REQUESTS} requests, of which at most {STORM_LOGINS} logins"),
            counted,
            step,
            events,
        ));
    }
}
