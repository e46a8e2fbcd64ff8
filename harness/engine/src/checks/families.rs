//! Checks of the families beyond 資格確認: 照会番号登録, the bulk flows, the pulls and
//! 薬剤 / 特定健診 — each compares what the client reported with what the terminal answered
//! in this run (from the journal), and how the client used the folder to get there.

use onshi_protocol::CheckId;
use onshi_protocol::ids;
use std::collections::{BTreeMap, HashMap};

use onshi_protocol::codes;
use onshi_protocol::driver::{
    Card, ConfirmBulkParams, ConfirmBulkResult, FetchMedicalInfoParams, FetchMedicalInfoResult, MedicalInfoFormat,
    MedicalInfoKind, Outcome, PullBulkParams, PullBulkResult, PullKind, RegisterReferenceNumberParams,
    RegisterReferenceNumberResult,
};
use onshi_protocol::model::*;
use onshi_terminal::{Actor, Folder, FsOp, TerminalEvent};
use serde_json::Value;

use super::terminal_view::{self as view, Written};
use super::verdict::{fail, pass, result};
use super::{CallAnswer, CheckResult, Status};
use crate::journal::{Entry, Event};
use crate::spec::{Expect, FromResult};

/// Polls for a bulk result closer together than this are too fast (real clients: 10 s).
pub(crate) const MIN_BULK_POLL_MS: f64 = 1000.0;
/// The synthetic code of a 薬剤 / 特定健診 request refused for lack of consent.
const NO_CONSENT_CODE: &str = "SYN-M1001";

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

/// The outcome a client must report for a QualificationValidity (status 2: error).
fn outcome_of(
    status: Option<&codes::ProcessingResultStatus>,
    validity: Option<&codes::QualificationValidity>,
) -> Outcome {
    if status == Some(&codes::ProcessingResultStatus::Error) {
        return Outcome::Error;
    }
    match validity {
        Some(codes::QualificationValidity::Valid | codes::QualificationValidity::ValidUnregistered) => Outcome::Valid,
        Some(codes::QualificationValidity::Invalid) => Outcome::Invalid,
        Some(codes::QualificationValidity::InvalidNewQualification) => Outcome::InvalidNewQualification,
        Some(codes::QualificationValidity::NoQualification) => Outcome::NotFound,
        Some(codes::QualificationValidity::Multiple) => Outcome::Multiple,
        _ => Outcome::Error,
    }
}

/// One row of a comparison that went wrong: who, expected, actual.
type Mismatch = (String, String, String);

fn report(
    id: CheckId,
    what: &str,
    mismatches: Vec<Mismatch>,
    ok_message: String,
    step: usize,
    events: Vec<u64>,
) -> CheckResult {
    if mismatches.is_empty() {
        return pass(id, ok_message, step, events);
    }
    let list = |f: fn(&Mismatch) -> &String| {
        mismatches
            .iter()
            .map(|m| format!("{}: {}", m.0, f(m)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    fail(
        id,
        format!(
            "{what} differ for {}",
            mismatches.iter().map(|m| m.0.as_str()).collect::<Vec<_>>().join(", ")
        ),
        list(|m| &m.1),
        list(|m| &m.2),
        step,
        events,
    )
}

// ---------------------------------------------------------------- 照会番号登録

/// The registrations the terminal answered: reference number → (ok, message, event).
fn registrations(window: &[Entry]) -> HashMap<String, (bool, Option<String>, u64)> {
    let mut out = HashMap::new();
    for w in view::written(window, "OQSsiimm01res_") {
        let Some(r) = view::read::<ReferenceRegistrationResult>(w.bytes) else {
            continue;
        };
        let header = r.message_header.unwrap_or_default();
        let Some(body) = r.message_body else { continue };
        let Some(reference) = body.reference_number_registration_info.and_then(|i| i.reference_number) else {
            continue;
        };
        let ok = header.segment_of_result == Some(codes::SegmentOfResult::Normal)
            && body.processing_result_status == Some(codes::ProcessingResultStatus::Normal);
        let message = body.processing_result_message.or(header.error_message);
        out.insert(reference, (ok, message, w.seq));
    }
    for w in view::written(window, "OQSmuimm02res_") {
        let Some(r) = view::read::<BulkRegistrationResult>(w.bytes) else {
            continue;
        };
        for u in r
            .message_body
            .and_then(|b| b.bulk_registration_unit)
            .map(|u| u.0)
            .unwrap_or_default()
        {
            let Some(reference) = u.reference_number_registration_info.and_then(|i| i.reference_number) else {
                continue;
            };
            let ok = u.processing_result_status == Some(codes::ProcessingResultStatus::Normal);
            out.insert(reference, (ok, u.processing_result_message, w.seq));
        }
    }
    out
}

pub(crate) fn register(
    params: &RegisterReferenceNumberParams,
    answer: &CallAnswer<RegisterReferenceNumberResult>,
    expect: &Expect,
    window: &[Entry],
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    if expect.request != Some(false) {
        registration_requests(params, window, step, out);
    }
    if params.bulk {
        bulk_use(window, "OQSmuimm", step, out);
    }
    if expect.results != Some(FromResult::Result) {
        return;
    }
    let CallAnswer::Answered(a) = answer else {
        out.push(timed_out(ids::REG_RESULT, answer, step));
        return;
    };
    let terminal = registrations(window);
    if params.bulk && finished_bulk(window, "OQSmuimm02res_").is_none() {
        out.push(fail(
            ids::REG_RESULT,
            "the terminal delivered no finished bulk registration result: the client stopped asking while it \
             was 処理中, or never asked (see BULK-ORDER)"
                .into(),
            "each registration as a finished OQSmuimm02res answers it".into(),
            format!("{} result(s) reported without one", a.results.len()),
            step,
            vec![],
        ));
        return;
    }
    let mut mismatches = Vec::new();
    let mut events = Vec::new();
    for e in &params.entries {
        let r = &e.reference_number;
        let client = a.results.iter().find(|x| &x.reference_number == r);
        match (terminal.get(r), client) {
            (None, Some(c)) if c.ok => mismatches.push((
                r.clone(),
                "no registration answered by the terminal".into(),
                "reported as registered".into(),
            )),
            (None, _) => {}
            (Some((ok, message, seq)), c) => {
                events.push(*seq);
                let Some(c) = c else {
                    mismatches.push((r.clone(), format!("ok={ok}"), "not reported".into()));
                    continue;
                };
                if c.ok != *ok {
                    mismatches.push((r.clone(), format!("ok={ok}"), format!("ok={}", c.ok)));
                } else if let Some(m) = message.as_deref().filter(|_| !ok)
                    && !c.message.contains(m)
                {
                    mismatches.push((
                        r.clone(),
                        format!("a message containing {m:?}"),
                        format!("{:?}", c.message),
                    ));
                }
            }
        }
    }
    out.push(report(
        ids::REG_RESULT,
        "the registration results",
        mismatches,
        format!(
            "{} registration result(s) as the terminal answered",
            params.entries.len()
        ),
        step,
        events,
    ));
}

fn registration_requests(
    params: &RegisterReferenceNumberParams,
    window: &[Entry],
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let mut sent: Vec<(u64, ReferenceNumberRegistrationInfo)> = Vec::new();
    for t in view::requests(window) {
        if t.name.starts_with("OQSsiimm01req_") {
            if let Some(r) = view::read::<ReferenceRegistrationRequest>(t.bytes)
                && let Some(i) = r.message_body.and_then(|b| b.reference_number_registration_info)
            {
                sent.push((t.seq, i));
            }
        } else if t.name.starts_with("OQSmuimm01req_")
            && let Some(r) = view::read::<BulkRegistrationRequest>(t.bytes)
        {
            for i in r
                .message_body
                .and_then(|b| b.reference_number_registration_info)
                .map(|r| r.0)
                .unwrap_or_default()
            {
                sent.push((t.seq, i));
            }
        }
    }
    let mut mismatches = Vec::new();
    let mut events = Vec::new();
    for e in &params.entries {
        let Some((seq, info)) = sent
            .iter()
            .find(|(_, i)| i.reference_number.as_deref() == Some(&e.reference_number))
        else {
            mismatches.push((
                e.reference_number.clone(),
                "a registration request".into(),
                "none".into(),
            ));
            continue;
        };
        events.push(*seq);
        let fields = card_fields(&e.card);
        let actual = [
            info.insurer_number.clone(),
            non_empty(&info.insured_card_symbol).map(str::to_owned),
            info.insured_identification_number.clone(),
            non_empty(&info.insured_branch_number).map(str::to_owned),
        ];
        for ((name, expected), actual) in fields.iter().zip(actual) {
            if expected.as_deref() != actual.as_deref() {
                mismatches.push((
                    format!("{} {name}", e.reference_number),
                    show(expected.as_deref()),
                    show(actual.as_deref()),
                ));
            }
        }
    }
    out.push(report(
        ids::REG_CARD,
        "the registration requests' card fields",
        mismatches,
        format!("{} registration(s) carry the cards as given", params.entries.len()),
        step,
        events,
    ));
}

fn card_fields(card: &Card) -> [(&'static str, Option<String>); 4] {
    [
        ("InsurerNumber", Some(interface_insurer_number(&card.insurer_number))),
        ("InsuredCardSymbol", card.symbol.clone().filter(|s| !s.is_empty())),
        ("InsuredIdentificationNumber", Some(card.number.clone())),
        ("InsuredBranchNumber", card.branch.clone()),
    ]
}

fn show(v: Option<&str>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), |s| format!("{s:?}"))
}

fn timed_out<T>(id: CheckId, answer: &CallAnswer<T>, step: usize) -> CheckResult {
    let after = match answer {
        CallAnswer::TimedOut { after_ms } => *after_ms,
        CallAnswer::Answered(_) => 0,
    };
    fail(
        id,
        format!("the client did not answer within {after} ms"),
        "an answer".into(),
        "no answer".into(),
        step,
        vec![],
    )
}

// ---------------------------------------------------------------- bulk flows

/// The last finished (SegmentOfResult 1) bulk result of `prefix` in the window.
fn finished_bulk<'a>(window: &'a [Entry], prefix: &str) -> Option<(Written<'a>, BulkConfirmResult)> {
    view::written(window, prefix).into_iter().rev().find_map(|w| {
        let xml = view::xml_of(w.name, w.bytes)?;
        let r = view::read::<BulkConfirmResult>(&xml)?;
        (r.message_header.as_ref()?.segment_of_result == Some(codes::SegmentOfResult::Normal)).then_some((w, r))
    })
}

fn units(r: &BulkConfirmResult) -> Vec<BulkConfirmUnit> {
    r.message_body
        .as_ref()
        .and_then(|b| b.bulk_confirm_unit.clone())
        .map(|u| u.0)
        .unwrap_or_default()
}

pub fn bulk(
    params: &ConfirmBulkParams,
    answer: &CallAnswer<ConfirmBulkResult>,
    expect: &Expect,
    window: &[Entry],
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    if expect.request != Some(false) {
        bulk_requests(params, window, step, out);
    }
    bulk_use(window, "OQSmuquc", step, out);
    if expect.results != Some(FromResult::Result) {
        return;
    }
    let CallAnswer::Answered(a) = answer else {
        out.push(timed_out(ids::BULK_RESULT, answer, step));
        return;
    };
    let Some((w, result)) = finished_bulk(window, "OQSmuquc02res_") else {
        out.push(fail(
            ids::BULK_RESULT,
            "the terminal delivered no finished bulk result: the client stopped asking while it was 処理中, or \
             never asked (see BULK-ORDER)"
                .into(),
            "the outcome of every card from a finished result".into(),
            format!("{} result(s) reported without one", a.results.len()),
            step,
            vec![],
        ));
        return;
    };
    let units = units(&result);
    let key = |insurer: &str, number: &str, birthdate: &str| {
        (insurer.trim().to_owned(), number.to_owned(), birthdate.to_owned())
    };
    let by_card: HashMap<_, &BulkConfirmUnit> = units
        .iter()
        .filter_map(|u| {
            let i = u.qualification_confirm_search_info.as_ref()?;
            Some((
                key(
                    i.insurer_number.as_deref()?,
                    i.insured_identification_number.as_deref()?,
                    i.birthdate.as_deref()?,
                ),
                u,
            ))
        })
        .collect();
    let mut mismatches = Vec::new();
    for card in &params.cards {
        let who = format!("{}/{}", card.insurer_number, card.number);
        let Some(unit) = by_card.get(&key(&card.insurer_number, &card.number, &card.birthdate)) else {
            mismatches.push((who, "a unit in the terminal's result".into(), "none".into()));
            continue;
        };
        let expected = outcome_of(
            unit.processing_result_status.as_ref(),
            unit.qualification_validity.as_ref(),
        );
        let client = a.results.iter().find(|r| {
            r.card.insurer_number.trim() == card.insurer_number.trim()
                && r.card.number == card.number
                && r.card.birthdate == card.birthdate
        });
        let Some(client) = client else {
            mismatches.push((who, format!("`{expected}`"), "not reported".into()));
            continue;
        };
        if client.outcome != expected {
            mismatches.push((who.clone(), format!("`{expected}`"), format!("`{}`", client.outcome)));
        }
        let expected_name = unit
            .result_of_qualification_confirmation
            .as_ref()
            .filter(|r| r.0.len() == 1)
            .and_then(|r| r.0[0].name.clone());
        if let Some(name) = expected_name {
            let got = client.record.as_ref().and_then(|r| r.name.clone());
            if got.as_deref() != Some(name.as_str()) {
                mismatches.push((format!("{who} name"), format!("{name:?}"), show(got.as_deref())));
            }
        }
    }
    out.push(report(
        ids::BULK_RESULT,
        "the bulk results",
        mismatches,
        format!("{} result(s) as the terminal's {} answered", params.cards.len(), w.name),
        step,
        vec![w.seq],
    ));
}

fn bulk_requests(params: &ConfirmBulkParams, window: &[Entry], step: usize, out: &mut Vec<CheckResult>) {
    let sent: Vec<(u64, QualificationConfirmSearchInfo)> = view::requests(window)
        .into_iter()
        .filter(|t| t.name.starts_with("OQSmuquc01req_"))
        .filter_map(|t| Some((t.seq, view::read::<BulkConfirmRequest>(t.bytes)?)))
        .flat_map(|(seq, r)| {
            r.message_body
                .and_then(|b| b.qualification_confirm_search_info)
                .map(|i| i.0)
                .unwrap_or_default()
                .into_iter()
                .map(move |i| (seq, i))
        })
        .collect();
    let mut mismatches = Vec::new();
    let mut events = Vec::new();
    for card in &params.cards {
        let who = format!("{}/{}", card.insurer_number, card.number);
        let found = sent.iter().find(|(_, i)| {
            i.insured_identification_number.as_deref() == Some(card.number.as_str())
                && i.birthdate.as_deref() == Some(card.birthdate.as_str())
        });
        let Some((seq, info)) = found else {
            mismatches.push((
                who,
                "a QualificationConfirmSearchInfo in an upload".into(),
                "none".into(),
            ));
            continue;
        };
        events.push(*seq);
        let actual = [
            info.insurer_number.clone(),
            non_empty(&info.insured_card_symbol).map(str::to_owned),
            info.insured_identification_number.clone(),
            non_empty(&info.insured_branch_number).map(str::to_owned),
        ];
        for ((name, expected), actual) in card_fields(card).iter().zip(actual) {
            if expected.as_deref() != actual.as_deref() {
                mismatches.push((
                    format!("{who} {name}"),
                    show(expected.as_deref()),
                    show(actual.as_deref()),
                ));
            }
        }
    }
    events.dedup();
    out.push(report(
        ids::BULK_CARD,
        "the uploaded cards",
        mismatches,
        format!("{} card(s) uploaded as given", params.cards.len()),
        step,
        events,
    ));
}

/// BULK-ORDER and BULK-POLL for the bulk flow of `family` (a prefix like `OQSmuquc`).
fn bulk_use(window: &[Entry], family: &str, step: usize, out: &mut Vec<CheckResult>) {
    let receptions: Vec<(u64, String)> = view::written(window, &format!("{family}01res_"))
        .into_iter()
        .filter_map(|w| {
            let r = view::read::<BulkUploadResult>(w.bytes)?;
            Some((w.seq, r.message_body?.reception_number?))
        })
        .collect();
    let downloads: Vec<(u64, Option<String>)> = view::requests(window)
        .into_iter()
        .filter(|t| t.name.starts_with(&format!("{family}02req_")))
        .map(|t| {
            let reception = view::read::<BulkDownloadRequest>(t.bytes).and_then(|r| r.message_body?.reception_number);
            (t.seq, reception)
        })
        .collect();
    if downloads.is_empty() {
        return;
    }
    let early: Vec<String> = downloads
        .iter()
        .filter(|(seq, reception)| {
            !receptions
                .iter()
                .any(|(at, r)| at < seq && Some(r.as_str()) == reception.as_deref())
        })
        .map(|(seq, r)| format!("#{seq} ({})", r.as_deref().unwrap_or("no ReceptionNumber")))
        .collect();
    let events: Vec<u64> = downloads
        .iter()
        .map(|(s, _)| *s)
        .chain(receptions.iter().map(|(s, _)| *s))
        .collect();
    if early.is_empty() {
        out.push(pass(
            ids::BULK_ORDER,
            format!(
                "{} download request(s), each for a ReceptionNumber the terminal had given",
                downloads.len()
            ),
            step,
            events.clone(),
        ));
    } else {
        out.push(fail(
            ids::BULK_ORDER,
            format!(
                "download requests (02req) without a ReceptionNumber from an earlier upload result: {}",
                early.join(", ")
            ),
            "each 02req after the 01res whose ReceptionNumber it carries".into(),
            format!(
                "{} request(s) too early or with an unknown ReceptionNumber",
                early.len()
            ),
            step,
            events.clone(),
        ));
    }
    // Polls for the same reception: how soon after a 処理中 answer the next one came.
    let processing: Vec<(f64, String)> = view::written(window, &format!("{family}02res_"))
        .into_iter()
        .filter_map(|w| {
            let xml = view::xml_of(w.name, w.bytes)?;
            let r = view::read::<BulkConfirmResult>(&xml);
            let h = match r {
                Some(r) => r.message_header?,
                None => view::read::<BulkRegistrationResult>(&xml)?.message_header?,
            };
            (h.segment_of_result == Some(codes::SegmentOfResult::Processing))
                .then(|| (w.t_ms, h.reception_number.unwrap_or_default()))
        })
        .collect();
    let mut too_fast = Vec::new();
    for (seq, reception) in &downloads {
        let t = view::time_of(window, *seq);
        let Some(reception) = reception else { continue };
        // The 処理中 answer just before this request, for the same reception.
        if let Some((answered, _)) = processing
            .iter()
            .filter(|(at, r)| *at < t && r == reception)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            && t - answered < MIN_BULK_POLL_MS
        {
            too_fast.push(format!("#{seq} {:.0} ms after 処理中", t - answered));
        }
    }
    if processing.is_empty() {
        return;
    }
    if too_fast.is_empty() {
        out.push(pass(
            ids::BULK_POLL,
            format!("after each 処理中 the client waited at least {MIN_BULK_POLL_MS:.0} ms"),
            step,
            events,
        ));
    } else {
        out.push(fail(
            ids::BULK_POLL,
            format!("the client asked again too soon after 処理中: {}", too_fast.join(", ")),
            format!("at least {MIN_BULK_POLL_MS:.0} ms between a 処理中 answer and the next 02req"),
            format!("{} poll(s) sooner", too_fast.len()),
            step,
            events,
        ));
    }
}

// ---------------------------------------------------------------- pulls

pub fn pull(
    params: &PullBulkParams,
    answer: &CallAnswer<PullBulkResult>,
    expect: &Expect,
    window: &[Entry],
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let family = match params.kind {
        PullKind::MedicalAid => "OQSmutic",
        PullKind::HomeVisit => "OQSmuhvq",
        PullKind::Online => "OQSmuonq",
    };
    bulk_use(window, family, step, out);
    if expect.results != Some(FromResult::Result) {
        return;
    }
    let CallAnswer::Answered(a) = answer else {
        out.push(timed_out(ids::PULL_RESULT, answer, step));
        return;
    };
    let Some((w, result)) = finished_bulk(window, &format!("{family}02res_")) else {
        out.push(fail(
            ids::PULL_RESULT,
            "the terminal delivered no finished result for the pull (see BULK-ORDER)".into(),
            "the patients of a finished pull".into(),
            format!("{} patient(s) reported", a.patients.len()),
            step,
            vec![],
        ));
        return;
    };
    let mut expected: BTreeMap<(String, String), (Outcome, Option<String>)> = BTreeMap::new();
    for u in units(&result) {
        let outcome = outcome_of(u.processing_result_status.as_ref(), u.qualification_validity.as_ref());
        for r in u.result_of_qualification_confirmation.map(|r| r.0).unwrap_or_default() {
            expected.insert(
                (
                    r.name.clone().unwrap_or_default(),
                    r.birthdate.clone().unwrap_or_default(),
                ),
                (outcome, r.public_expense_number.clone()),
            );
        }
    }
    let mut mismatches = Vec::new();
    for ((name, birthdate), (outcome, expense)) in &expected {
        let who = format!("{name} {birthdate}");
        match a.patients.iter().find(|p| &p.name == name && &p.birthdate == birthdate) {
            None => mismatches.push((who, format!("`{outcome}`"), "missing".into())),
            Some(p) => {
                if p.outcome != *outcome {
                    mismatches.push((who.clone(), format!("`{outcome}`"), format!("`{}`", p.outcome)));
                }
                if expense.is_some() && p.public_expense_number != *expense {
                    mismatches.push((
                        format!("{who} 公費負担者番号"),
                        show(expense.as_deref()),
                        show(p.public_expense_number.as_deref()),
                    ));
                }
            }
        }
    }
    for p in &a.patients {
        if !expected.contains_key(&(p.name.clone(), p.birthdate.clone())) {
            mismatches.push((
                format!("{} {}", p.name, p.birthdate),
                "not in the result".into(),
                "reported".into(),
            ));
        }
    }
    out.push(report(
        ids::PULL_RESULT,
        "the pulled patients",
        mismatches,
        format!("{} patient(s) as the terminal's {} listed", expected.len(), w.name),
        step,
        vec![w.seq],
    ));
}

// ---------------------------------------------------------------- 薬剤 / 特定健診

/// One drug or check-up item as (date, code, quantity or value).
type Item = (String, String, String);

/// Whether the result says 正常 and every item it carries.
fn items_of(kind: MedicalInfoKind, xml: &[u8]) -> Option<(bool, Vec<Item>)> {
    match kind {
        MedicalInfoKind::Drug => {
            let r = view::read::<DrugResult>(xml)?;
            let ok = r.message_header.as_ref()?.result_code.as_deref() == Some("1");
            let mut items = Vec::new();
            for m in r
                .message_body
                .and_then(|b| b.me_tr_month_inf)
                .map(|m| m.0)
                .unwrap_or_default()
            {
                for d in m.di_date_infs.map(|d| d.0).unwrap_or_default() {
                    for g in d.drug_infs.map(|g| g.0).unwrap_or_default() {
                        items.push((
                            d.di_date.clone().unwrap_or_default(),
                            g.drug_c.unwrap_or_default(),
                            g.qua1.unwrap_or_default(),
                        ));
                    }
                }
            }
            Some((ok, items))
        }
        MedicalInfoKind::Checkup => {
            let r = view::read::<CheckupResult>(xml)?;
            let ok = r.message_header.as_ref()?.result_code.as_deref() == Some("1");
            let mut items = Vec::new();
            for c in r
                .message_body
                .and_then(|b| b.specific_health_checkup_info)
                .map(|c| c.0)
                .unwrap_or_default()
            {
                for i in c
                    .health_checkup_result_and_question_infos
                    .map(|i| i.0)
                    .unwrap_or_default()
                {
                    items.push((
                        c.effective_time.clone().unwrap_or_default(),
                        i.item_code.unwrap_or_default(),
                        i.data_value.unwrap_or_default(),
                    ));
                }
            }
            Some((ok, items))
        }
    }
}

fn client_items(kind: MedicalInfoKind, items: &[Value]) -> Vec<Item> {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    items
        .iter()
        .map(|v| {
            let value = match kind {
                MedicalInfoKind::Drug => field(v, "quantity"),
                MedicalInfoKind::Checkup => field(v, "value"),
            };
            (field(v, "date"), field(v, "code"), value)
        })
        .collect()
}

pub fn medical(
    params: &FetchMedicalInfoParams,
    answer: &CallAnswer<FetchMedicalInfoResult>,
    expect: &Expect,
    window: &[Entry],
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let prefix = match params.kind {
        MedicalInfoKind::Drug => "YZKsiquc01res_",
        MedicalInfoKind::Checkup => "TKKsiquc01res_",
    };
    let answers = view::written(window, prefix);
    let refused: Vec<u64> = window
        .iter()
        .filter_map(|e| match &e.event {
            Event::Terminal(TerminalEvent::ResultWritten { name, error_code, .. })
                if name.starts_with(prefix) && error_code.as_deref() == Some(NO_CONSENT_CODE) =>
            {
                Some(e.seq)
            }
            _ => None,
        })
        .collect();
    if refused.is_empty() {
        out.push(pass(
            ids::MED_CONSENT,
            if answers.is_empty() {
                "the client sent no request (it knew there was no valid consent, or did not ask)".into()
            } else {
                "every request was for a patient with a valid consent".into()
            },
            step,
            answers.iter().map(|w| w.seq).collect(),
        ));
    } else {
        out.push(fail(
            ids::MED_CONSENT,
            format!(
                "the client asked for {} for a patient without a valid consent ({NO_CONSENT_CODE})",
                match params.kind {
                    MedicalInfoKind::Drug => "薬剤情報",
                    MedicalInfoKind::Checkup => "特定健診情報",
                }
            ),
            "no request while the patient's consent is missing or expired".into(),
            format!("{} refused request(s)", refused.len()),
            step,
            refused,
        ));
    }
    if expect.ok.is_none() && expect.items != Some(FromResult::Result) {
        return;
    }
    let CallAnswer::Answered(a) = answer else {
        out.push(timed_out(ids::MED_RESULT, answer, step));
        return;
    };
    let last = answers.last();
    let mut mismatches: Vec<Mismatch> = Vec::new();
    if let Some(ok) = expect.ok
        && a.ok != ok
    {
        mismatches.push(("ok".into(), ok.to_string(), a.ok.to_string()));
    }
    if expect.items == Some(FromResult::Result) {
        match (last, params.format) {
            (None, _) => {
                if a.ok {
                    mismatches.push((
                        "the answer".into(),
                        "a result from the terminal".into(),
                        "ok without one".into(),
                    ));
                }
            }
            (Some(w), MedicalInfoFormat::Pdf) if w.name.ends_with(".pdf") => {
                let got = a.document_bytes.unwrap_or(0);
                if got != w.bytes.len() as u64 || !a.ok {
                    mismatches.push((
                        "document".into(),
                        format!("{} bytes, ok", w.bytes.len()),
                        format!("{got} bytes, ok={}", a.ok),
                    ));
                }
            }
            (Some(w), _) => match items_of(params.kind, w.bytes) {
                None => mismatches.push((
                    "the answer".into(),
                    format!("a readable {}", w.name),
                    "unreadable".into(),
                )),
                Some((ok, items)) => {
                    if a.ok != ok {
                        mismatches.push(("ok".into(), ok.to_string(), a.ok.to_string()));
                    }
                    if ok {
                        let mut expected = items;
                        let mut got = client_items(params.kind, a.items.as_deref().unwrap_or(&[]));
                        expected.sort();
                        got.sort();
                        if expected != got {
                            mismatches.push((
                                "items".into(),
                                format!("{} item(s) (date, code, value)", expected.len()),
                                format!(
                                    "{} item(s), {} not in the result",
                                    got.len(),
                                    got.iter().filter(|g| !expected.contains(g)).count()
                                ),
                            ));
                        }
                    }
                }
            },
        }
    }
    out.push(report(
        ids::MED_RESULT,
        "the medical information",
        mismatches,
        match last {
            Some(w) => format!("as the terminal's {} says", w.name),
            None => "no request, as expected".into(),
        },
        step,
        last.map(|w| vec![w.seq]).unwrap_or_default(),
    ));
}

// ---------------------------------------------------------------- folder use

/// FS-NAME-REUSE: a request whose result name is already in `res/` (an older answer).
/// Always reported when it fails; a pass only when the case declares the check.
pub(super) fn name_reuse(entries: &[Entry], declared: bool, out: &mut Vec<CheckResult>) {
    let before = out.len();
    let mut requests = 0usize;
    let mut present: HashMap<String, u64> = HashMap::new();
    for e in entries {
        let Event::Terminal(t) = &e.event else { continue };
        match t {
            TerminalEvent::ResultWritten { name, .. } | TerminalEvent::Planted { name, .. } => {
                present.insert(name.clone(), e.seq);
            }
            TerminalEvent::Fs {
                folder: Folder::Res,
                op: FsOp::Removed | FsOp::RenamedFrom,
                name,
                ..
            } => {
                present.remove(name);
            }
            TerminalEvent::Fs {
                folder: Folder::Req,
                op: FsOp::Created | FsOp::RenamedTo,
                name,
                actor: Actor::Client,
                ..
            } if name.contains("req_") && !name.starts_with('.') => {
                requests += 1;
                let stem = name.replacen("req_", "res_", 1);
                let stem = stem.rsplit_once('.').map_or(stem.as_str(), |(s, _)| s);
                if let Some((existing, at)) = ["xml", "zip", "pdf"]
                    .iter()
                    .map(|x| format!("{stem}.{x}"))
                    .find_map(|n| present.get(&n).map(|at| (n, *at)))
                {
                    out.push(CheckResult {
                        expected: Some(format!(
                            "a request name whose result is not in res/ (res/{existing} is)"
                        )),
                        actual: Some(format!("req/{name}")),
                        ..result(
                            ids::FS_NAME_REUSE,
                            Status::Fail,
                            format!(
                                "the client wrote req/{name} while res/{existing} (event #{at}) was still there: \
                                 it may read that old answer as this request's"
                            ),
                            None,
                            vec![at, e.seq],
                        )
                    });
                }
            }
            _ => {}
        }
    }
    if declared && out.len() == before {
        out.push(result(
            ids::FS_NAME_REUSE,
            Status::Pass,
            format!("none of the client's {requests} request name(s) had a result waiting in res/"),
            None,
            vec![],
        ));
    }
}

/// FS-CONSUMED: the answers to the client's requests and the face files it imported are gone
/// from the folders when the case ends (deleted or moved). Leftovers are a warning in every
/// case, and a failure where the case declares the check.
pub(super) fn consumed(entries: &[Entry], imports: &[(&str, u64)], declared: bool, out: &mut Vec<CheckResult>) {
    let Some((at, res, face)) = entries.iter().rev().find_map(|e| match &e.event {
        Event::Terminal(TerminalEvent::Inventory { res, face, .. }) => Some((e.seq, res, face)),
        _ => None,
    }) else {
        return;
    };
    // Answers still unread, by name: written, and neither removed since nor replaced by a
    // file the terminal planted (a duplicate or a leftover is not the client's to clean up).
    let mut answers = 0;
    let mut unread: BTreeMap<&str, u64> = BTreeMap::new();
    for e in entries {
        match &e.event {
            Event::Terminal(TerminalEvent::ResultWritten { name, .. }) => {
                answers += 1;
                unread.insert(name, e.seq);
            }
            Event::Terminal(TerminalEvent::Planted { name, .. })
            | Event::Terminal(TerminalEvent::Fs {
                folder: Folder::Res,
                op: FsOp::Removed | FsOp::RenamedFrom,
                name,
                ..
            }) => {
                unread.remove(name.as_str());
            }
            _ => {}
        }
    }
    let mut left: Vec<String> = Vec::new();
    let mut events = vec![at];
    for (name, seq) in unread {
        if res.iter().any(|r| r == name) {
            left.push(format!("res/{name}"));
            events.push(seq);
        }
    }
    for (f, _) in imports {
        if face.iter().any(|x| x == f) {
            left.push(format!("face/{f}"));
        }
    }
    let status = match (left.is_empty(), declared) {
        (true, true) => Status::Pass,
        (true, false) => return,
        (false, true) => Status::Fail,
        (false, false) => Status::Warning,
    };
    let message = if left.is_empty() {
        format!(
            "all {} answer(s) and imported face file(s) were consumed",
            answers + imports.len()
        )
    } else {
        format!(
            "left behind when the case ended: {} — the client must delete or move what it has read",
            left.join(", ")
        )
    };
    out.push(CheckResult {
        expected: (!left.is_empty()).then(|| "every answer and imported face file consumed".to_owned()),
        actual: (!left.is_empty()).then(|| format!("{} file(s) left", left.len())),
        ..result(ids::FS_CONSUMED, status, message, None, events)
    });
}

/// Opens of a face file this soon after its import step count as part of the import (the
/// watcher's events can trail the client's answer).
const FACE_GRACE_MS: f64 = 1000.0;

/// FACE-ONCE: a face file the client imported is not opened again afterwards — a client that
/// re-processes face files registers the patient twice. Always reported when it fails; a pass
/// only where the case declares the check. `imports`: (file, the import step's last event).
pub(super) fn face_once(entries: &[Entry], imports: &[(&str, u64)], declared: bool, out: &mut Vec<CheckResult>) {
    let mut again: Vec<(String, u64)> = Vec::new();
    for (file, end) in imports {
        let done = view::time_of(entries, *end);
        let reopened = entries.iter().find(|e| {
            e.seq > *end
                && e.t_ms > done + FACE_GRACE_MS
                && matches!(&e.event, Event::Terminal(TerminalEvent::Fs {
                    folder: Folder::Face,
                    op: FsOp::Opened,
                    name,
                    actor: Actor::Client,
                    ..
                }) if name == file)
        });
        if let Some(e) = reopened {
            again.push((file.to_string(), e.seq));
        }
    }
    if again.is_empty() {
        if declared {
            out.push(result(
                ids::FACE_ONCE,
                Status::Pass,
                format!("none of the {} imported face file(s) was opened again", imports.len()),
                None,
                vec![],
            ));
        }
        return;
    }
    let names: Vec<String> = again
        .iter()
        .map(|(f, seq)| format!("face/{f} (event #{seq})"))
        .collect();
    out.push(CheckResult {
        expected: Some("each face file read for one import only".into()),
        actual: Some(format!("{} face file(s) read again after their import", again.len())),
        ..result(
            ids::FACE_ONCE,
            Status::Fail,
            format!(
                "the client opened face files again after importing them: {} — it processes them twice",
                names.join(", ")
            ),
            None,
            again.iter().map(|(_, s)| *s).collect(),
        )
    });
}
