//! Terminal faults and conventions on a real folder: each fault does what it says and is
//! journaled; slow and touched results produce the events watchers rely on.

mod common;

use std::time::{Duration, Instant};

use onshi_protocol::codes;
use onshi_protocol::model::*;
use onshi_protocol::xml::Limits;
use onshi_protocol::{XmlOptions, read_message, write_message};
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

fn fault(id: &str, kind: TerminalFaultKind) -> TerminalSettings {
    TerminalSettings {
        faults: vec![TerminalFault {
            id: id.into(),
            kind,
            families: vec![],
            first: None,
        }],
        ..Default::default()
    }
}

fn submit(f: &Fixture, suffix: &str) -> std::path::PathBuf {
    let p = f.registry.persona("valid-kenpo-insured").unwrap();
    let c = &p.insurance[0].card;
    let request = QualificationRequest {
        message_header: Some(MessageHeader {
            qualification_confirmation_date: Some("20251121".into()),
            medical_institution_code: Some("9900000001".into()),
            arbitrary_file_identifier: Some(format!("AFI-{suffix}")),
            ..Default::default()
        }),
        message_body: Some(QualificationRequestBody {
            qualification_confirm_search_info: Some(QualificationConfirmSearchInfo {
                insurer_number: Some(c.insurer_number.interface().to_owned()),
                insured_card_symbol: c.symbol.clone(),
                insured_identification_number: Some(c.number.clone()),
                insured_branch_number: c.branch.clone(),
                birthdate: Some("19780815".into()),
                limit_application_certificate_related_cons_flg: Some(codes::LimitConsentFlag::NotConsented),
                arbitrary_identifier: None,
            }),
        }),
    };
    let folders = f.terminal.folders();
    let name = format!("OQSsiquc01req_{suffix}.xml");
    let tmp = folders.req.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, write_message(&request, &XmlOptions::default()).unwrap()).unwrap();
    std::fs::rename(tmp, folders.req.join(&name)).unwrap();
    folders.res.join(format!("OQSsiquc01res_{suffix}.xml"))
}

async fn until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn afi(bytes: &[u8]) -> Option<String> {
    read_message::<QualificationResult>(bytes, &Limits::default())
        .ok()?
        .0
        .header()
        .arbitrary_file_identifier
}

fn has(f: &Fixture, pred: impl Fn(&TerminalEvent) -> bool) -> bool {
    f.recorder.events().iter().any(pred)
}

#[tokio::test]
async fn never_answers_and_write_failure_leave_no_result_but_a_journal_entry() {
    for (id, kind) in [
        ("mute", TerminalFaultKind::NeverAnswers),
        ("full", TerminalFaultKind::WriteFailure),
    ] {
        let f = start(fault(id, kind)).await;
        let res = submit(&f, "202511210001");
        until("the fault", 5, || {
            has(
                &f,
                |e| matches!(e, TerminalEvent::FaultApplied { id: i, request: Some(_), .. } if i == id),
            )
        })
        .await;
        until("the request taken", 5, || {
            has(&f, |e| matches!(e, TerminalEvent::RequestTaken { .. }))
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!res.exists(), "{id}");
        assert!(has(&f, |e| match e {
            TerminalEvent::Unanswered { reason, .. } => reason.contains("never_answers"),
            TerminalEvent::Problem { message } => message.contains("write_failure") && message.contains("SYN-T9001"),
            _ => false,
        }));
    }
}

#[tokio::test]
async fn answers_twice_and_late() {
    let f = start(fault("twice", TerminalFaultKind::AnswersTwice { after_ms: 200 })).await;
    let res = submit(&f, "202511210001");
    until("the result", 5, || res.exists()).await;
    until("the second copy", 5, || {
        has(
            &f,
            |e| matches!(e, TerminalEvent::Planted { why, .. } if why.starts_with("answers_twice")),
        )
    })
    .await;
    assert_eq!(afi(&std::fs::read(&res).unwrap()).as_deref(), Some("AFI-202511210001"));

    let f = start(fault("late", TerminalFaultKind::AnswersLate { ms: 600 })).await;
    let started = Instant::now();
    let res = submit(&f, "202511210001");
    until("the late result", 5, || res.exists()).await;
    assert!(started.elapsed() >= Duration::from_millis(600));
}

#[tokio::test]
async fn a_leftover_sits_under_the_name_until_the_answer_replaces_it() {
    let f = start(TerminalSettings {
        result_delay_ms: 400,
        ..fault("collide", TerminalFaultKind::NameCollision)
    })
    .await;
    let res = submit(&f, "202511210001");
    until("the leftover", 5, || res.exists()).await;
    assert_eq!(afi(&std::fs::read(&res).unwrap()).as_deref(), Some("SYN-LEFTOVER"));
    until("the answer", 5, || {
        afi(&std::fs::read(&res).unwrap_or_default()).as_deref() == Some("AFI-202511210001")
    })
    .await;
}

#[tokio::test]
async fn stale_results_are_in_res_from_the_start() {
    let f = start(fault("stale", TerminalFaultKind::StaleResults)).await;
    let res = f.terminal.folders().res.clone();
    for name in [
        "OQSsiquc01res_202511200001.xml",
        "OQSsiquc01res_202511200002.xml",
        "OQSsiquc01res_202511210001.xml",
    ] {
        let bytes = std::fs::read(res.join(name)).unwrap();
        assert_eq!(afi(&bytes).as_deref(), Some("SYN-LEFTOVER"), "{name}");
    }
    assert!(has(
        &f,
        |e| matches!(e, TerminalEvent::FaultApplied { kind, .. } if kind == "stale_results")
    ));
}

#[tokio::test]
async fn slow_results_grow_in_place_and_touched_results_change_after_they_appear() {
    let f = start(TerminalSettings {
        slow_results: Some(SlowResults {
            chunks: 4,
            interval_ms: 100,
        }),
        ..Default::default()
    })
    .await;
    let res = submit(&f, "202511210001");
    until("the result file", 5, || res.exists()).await;
    let early = std::fs::read(&res).unwrap();
    until("the complete result", 5, || {
        has(&f, |e| matches!(e, TerminalEvent::ResultWritten { .. }))
    })
    .await;
    let whole = std::fs::read(&res).unwrap();
    assert!(early.len() < whole.len(), "{} < {}", early.len(), whole.len());
    assert!(has(&f, |e| matches!(
        e,
        TerminalEvent::ResultWriteStarted { chunks: 4, .. }
    )));

    let f = start(TerminalSettings {
        touch_after_write: true,
        ..Default::default()
    })
    .await;
    let res = submit(&f, "202511210001");
    until("the result", 5, || res.exists()).await;
    let name = res.file_name().unwrap().to_string_lossy().into_owned();
    until("a change after the rename", 5, || {
        let ops: Vec<FsOp> = f
            .recorder
            .events()
            .into_iter()
            .filter_map(|e| match e {
                TerminalEvent::Fs {
                    folder: Folder::Res,
                    op,
                    name: n,
                    ..
                } if n == name => Some(op),
                _ => None,
            })
            .collect();
        ops.first() == Some(&FsOp::RenamedTo) && ops.len() > 1
    })
    .await;
}

#[tokio::test]
async fn faults_can_be_limited_to_a_family_and_to_the_first_requests() {
    let f = start(TerminalSettings {
        faults: vec![TerminalFault {
            id: "first-only".into(),
            kind: TerminalFaultKind::NeverAnswers,
            families: vec![onshi_protocol::filename::Family::OqsSiQuc],
            first: Some(1),
        }],
        ..Default::default()
    })
    .await;
    let first = submit(&f, "202511210001");
    until("the first taken", 5, || {
        has(&f, |e| matches!(e, TerminalEvent::RequestTaken { .. }))
    })
    .await;
    let second = submit(&f, "202511210002");
    until("the second answer", 5, || second.exists()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!first.exists());
}

/// A family scope is a family prefix: a typo is an error naming the known ones, not a filter
/// that silently matches nothing; the fault's name in the journal is its scenario name.
#[test]
fn a_fault_scope_names_a_known_family_and_a_fault_its_scenario_name() {
    let parse = |families: &str| {
        serde_json::from_str::<TerminalFault>(&format!(
            r#"{{"id":"x","kind":{{"type":"answers_late","ms":5}},"families":{families}}}"#
        ))
    };
    let f = parse(r#"["OQSmuquc"]"#).unwrap();
    assert_eq!(f.families, [onshi_protocol::filename::Family::OqsMuQuc]);
    assert_eq!(f.kind.name(), "answers_late");
    let e = parse(r#"["OQSsiqcu"]"#).unwrap_err().to_string();
    assert!(e.contains("unknown family \"OQSsiqcu\" (known: OQSsiquc,"), "{e}");
    assert_eq!(TerminalFaultKind::StaleResults.name(), "stale_results");
}

/// `res/` refuses every write for a while (here: the folder is swapped for a file, which
/// refuses root too — as a share that went away would), then accepts them again. No request is
/// lost and each is answered exactly once: the answers and the `.err` wait, the taken requests
/// are back in `req/` meanwhile, and the terminal does not take them a second time.
#[tokio::test]
async fn requests_wait_while_res_refuses_writes_and_are_answered_once_when_it_accepts() {
    let f = start(TerminalSettings::default()).await;
    let folders = f.terminal.folders().clone();
    let away = folders.root.join("res.away");
    std::fs::rename(&folders.res, &away).unwrap();
    std::fs::write(&folders.res, b"not a folder").unwrap();

    let suffixes: Vec<String> = (1..=5).map(|n| format!("2025112100{n:02}")).collect();
    for s in &suffixes {
        submit(&f, s);
    }
    let broken = "OQSsiquc01req_202511210099.xml";
    std::fs::write(folders.req.join(broken), b"not XML at all").unwrap();
    let failures = |f: &Fixture| {
        f.recorder
            .events()
            .iter()
            .filter(|e| matches!(e, TerminalEvent::Problem { message } if message.contains("retrying until res/ accepts it")))
            .count()
    };
    until("a refused write for every request", 10, || failures(&f) == 6).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        failures(&f),
        6,
        "each refused write is journaled once, not once per attempt"
    );
    let mut waiting: Vec<String> = folders
        .list(Folder::Req)
        .unwrap()
        .into_iter()
        .map(|n| n.into_string().unwrap())
        .collect();
    waiting.sort();
    let mut expected: Vec<String> = suffixes.iter().map(|s| format!("OQSsiquc01req_{s}.xml")).collect();
    expected.push(broken.into());
    expected.sort();
    assert_eq!(waiting, expected, "every request is in req/ while res/ refuses");

    std::fs::remove_file(&folders.res).unwrap();
    std::fs::rename(&away, &folders.res).unwrap();
    let results: Vec<_> = suffixes
        .iter()
        .map(|s| folders.res.join(format!("OQSsiquc01res_{s}.xml")))
        .collect();
    until("every answer once res/ accepts writes", 10, || {
        results.iter().all(|r| r.exists()) && folders.res.join(broken).exists()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (s, r) in suffixes.iter().zip(&results) {
        assert_eq!(afi(&std::fs::read(r).unwrap()), Some(format!("AFI-{s}")));
    }
    assert!(folders.res.join("OQSsiquc01req_202511210099.err").exists());
    assert!(
        folders.list(Folder::Req).unwrap().is_empty(),
        "the put-back requests are gone"
    );
    let events = f.recorder.events();
    let count = |pred: &dyn Fn(&TerminalEvent) -> bool| events.iter().filter(|e| pred(e)).count();
    for s in &suffixes {
        let req = format!("OQSsiquc01req_{s}.xml");
        assert_eq!(
            count(&|e| matches!(e, TerminalEvent::RequestTaken { name, .. } if *name == req)),
            1,
            "{req} taken once"
        );
        assert_eq!(
            count(&|e| matches!(e, TerminalEvent::ResultWritten { request, .. } if *request == req)),
            1,
            "{req} answered once"
        );
    }
    assert_eq!(count(&|e| matches!(e, TerminalEvent::RequestRejected { .. })), 1);
    assert_eq!(
        count(&|e| matches!(e, TerminalEvent::WriteRecovered { attempts, .. } if *attempts > 1)),
        6
    );
    // The terminal's own put-back and removal are not the client's doing.
    assert_eq!(
        count(&|e| matches!(
            e,
            TerminalEvent::Fs {
                folder: Folder::Req,
                actor: Actor::Client,
                op: FsOp::Removed,
                ..
            }
        )),
        0
    );
}
