//! The terminal on a real folder with real file-system events.

mod common;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use onshi_national::{ConsentChoices, LocalNational};
use onshi_protocol::codes;
use onshi_protocol::lint::lint;
use onshi_protocol::model::*;
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_protocol::xml::Limits;
use onshi_protocol::{ElementOrder, MessageKind, TextEncoding, XmlOptions, read_message, write_message};
use onshi_registry::Registry;
use onshi_terminal::*;

use common::*;

/// The shared fixture, with the fast pickup these tests use.
async fn start(settings: TerminalSettings) -> Fixture {
    common::start(TerminalSettings {
        pickup_delay_ms: 30,
        settle_ms: 150,
        rescan_ms: 100,
        ..settings
    })
    .await
}

fn request(registry: &Registry, persona: &str) -> QualificationRequest {
    let p = registry.persona(persona).unwrap();
    let c = &p.insurance[0].card;
    QualificationRequest {
        message_header: Some(MessageHeader {
            qualification_confirmation_date: Some("20251121".into()),
            medical_institution_code: Some("9900000001".into()),
            arbitrary_file_identifier: Some(format!("AFI-{persona}")),
            ..Default::default()
        }),
        message_body: Some(QualificationRequestBody {
            qualification_confirm_search_info: Some(QualificationConfirmSearchInfo {
                insurer_number: Some(c.insurer_number.interface().to_owned()),
                insured_card_symbol: c.symbol.clone(),
                insured_identification_number: Some(c.number.clone()),
                insured_branch_number: c.branch.clone(),
                birthdate: Some(p.birthdate.format("%Y%m%d").to_string()),
                limit_application_certificate_related_cons_flg: Some(codes::LimitConsentFlag::Consented),
                arbitrary_identifier: None,
            }),
        }),
    }
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".client-{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(tmp, dir.join(name)).unwrap();
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn fs_events(f: &Fixture, folder: Folder, name: &str) -> Vec<(FsOp, Actor)> {
    f.recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TerminalEvent::Fs {
                folder: fo,
                op,
                name: n,
                actor,
                ..
            } if fo == folder && n == name => Some((op, actor)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn answers_a_request_with_the_same_suffix_and_echoes() {
    let f = start(TerminalSettings::default()).await;
    let folders = f.terminal.folders().clone();
    let bytes = write_message(&request(&f.registry, "valid-kenpo-family"), &XmlOptions::default()).unwrap();
    write_atomically(&folders.req, "OQSsiquc01req_202511210001.xml", &bytes);
    let res = folders.res.join("OQSsiquc01res_202511210001.xml");
    wait_for("the result", || res.exists()).await;
    assert!(!folders.req.join("OQSsiquc01req_202511210001.xml").exists());

    let out = std::fs::read(&res).unwrap();
    let (result, _) = read_message::<QualificationResult>(&out, &Limits::default()).unwrap();
    let h = result.header();
    assert_eq!(h.medical_institution_code.as_deref(), Some("9900000001"));
    assert_eq!(h.arbitrary_file_identifier.as_deref(), Some("AFI-valid-kenpo-family"));
    assert_eq!(
        result.body().qualification_validity,
        Some(codes::QualificationValidity::Valid)
    );
    assert!(
        lint(MessageKind::QualificationResult, &out, &Limits::default())
            .findings
            .is_empty()
    );

    wait_for("the journal", || {
        !fs_events(&f, Folder::Res, "OQSsiquc01res_202511210001.xml").is_empty()
    })
    .await;
    let req = fs_events(&f, Folder::Req, "OQSsiquc01req_202511210001.xml");
    assert!(req.contains(&(FsOp::RenamedTo, Actor::Client)), "{req:?}");
    assert!(req.contains(&(FsOp::Removed, Actor::Terminal)), "{req:?}");
    assert_eq!(
        fs_events(&f, Folder::Res, "OQSsiquc01res_202511210001.xml"),
        [(FsOp::RenamedTo, Actor::Terminal)]
    );
    f.terminal.stop().await;
}

#[tokio::test]
async fn shift_jis_observed_order_results() {
    let f = start(TerminalSettings {
        encoding: TextEncoding::ShiftJis,
        order: ElementOrder::Observed,
        ..Default::default()
    })
    .await;
    let folders = f.terminal.folders().clone();
    let bytes = write_message(&request(&f.registry, "long-symbol"), &XmlOptions::default()).unwrap();
    write_atomically(&folders.req, "OQSsiquc01req_1.xml", &bytes);
    let res = folders.res.join("OQSsiquc01res_1.xml");
    wait_for("the result", || res.exists()).await;
    let out = std::fs::read(&res).unwrap();
    assert!(out.starts_with(b"<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>"));
    let report = lint(MessageKind::QualificationResult, &out, &Limits::default());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let doc = report.document.unwrap();
    assert_eq!(
        doc.root.at("MessageHeader").unwrap().children[1].name,
        "CharacterCodeIdentifier"
    );
    let (result, _) = read_message::<QualificationResult>(&out, &Limits::default()).unwrap();
    assert_eq!(
        result.results()[0].insured_card_symbol.as_deref(),
        Some("検証記号ＡＢＣＤＥＦＧＨ１２３４５６")
    );
    f.terminal.stop().await;
}

#[tokio::test]
async fn unreadable_request_is_moved_to_res_after_its_err_file() {
    let f = start(TerminalSettings::default()).await;
    let folders = f.terminal.folders().clone();
    let bytes = write_message(&request(&f.registry, "valid-kenpo-family"), &XmlOptions::default()).unwrap();
    write_atomically(&folders.req, "OQSsiquc01req_2.xml", &bytes[..bytes.len() / 2]);
    wait_for("the moved request", || folders.res.join("OQSsiquc01req_2.xml").exists()).await;
    let err = std::fs::read_to_string(folders.res.join("OQSsiquc01req_2.err")).unwrap();
    assert!(err.starts_with("SYN-E1001 "), "{err}");
    assert!(err.contains("truncated"), "{err}");
    wait_for("the journal", || {
        fs_events(&f, Folder::Res, "OQSsiquc01req_2.xml").contains(&(FsOp::RenamedTo, Actor::Terminal))
    })
    .await;
    let events = f.recorder.events();
    let pos = |name: &str| {
        events
            .iter()
            .position(|e| matches!(e, TerminalEvent::Fs { folder: Folder::Res, op: FsOp::RenamedTo, name: n, .. } if n == name))
            .unwrap()
    };
    assert!(
        pos("OQSsiquc01req_2.err") < pos("OQSsiquc01req_2.xml"),
        ".err must exist before the request appears"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, TerminalEvent::RequestRejected { check: Some(c), .. } if c == "MSG-XML-001"))
    );
    f.terminal.stop().await;
}

async fn result_of(terminal: &Terminal, name: &str, bytes: &[u8]) -> QualificationResult {
    let folders = terminal.folders().clone();
    write_atomically(&folders.req, &format!("OQSsiquc01req_{name}.xml"), bytes);
    let res = folders.res.join(format!("OQSsiquc01res_{name}.xml"));
    wait_for("the result", || res.exists()).await;
    read_message::<QualificationResult>(&std::fs::read(res).unwrap(), &Limits::default())
        .unwrap()
        .0
}

#[tokio::test]
async fn invalid_requests_and_a_down_upstream_get_segment_of_result_9() {
    let f = start(TerminalSettings::default()).await;
    let mut req = request(&f.registry, "valid-kenpo-family");
    let info = req
        .message_body
        .as_mut()
        .unwrap()
        .qualification_confirm_search_info
        .as_mut()
        .unwrap();
    info.birthdate = None;
    let r = result_of(&f.terminal, "3", &write_message(&req, &XmlOptions::default()).unwrap()).await;
    assert_eq!(r.header().segment_of_result, Some(codes::SegmentOfResult::Abnormal));
    assert_eq!(r.header().error_code.as_deref(), Some("SYN-E2001"));

    let mut other = request(&f.registry, "valid-kenpo-family");
    other.message_header.as_mut().unwrap().medical_institution_code = Some("9900000002".into());
    let r = result_of(
        &f.terminal,
        "4",
        &write_message(&other, &XmlOptions::default()).unwrap(),
    )
    .await;
    assert_eq!(r.header().error_code.as_deref(), Some("SYN-E2003"));
    f.terminal.stop().await;

    let down = start(TerminalSettings {
        upstream: Upstream::Down,
        ..Default::default()
    })
    .await;
    let bytes = write_message(&request(&down.registry, "valid-kenpo-family"), &XmlOptions::default()).unwrap();
    let r = result_of(&down.terminal, "5", &bytes).await;
    assert_eq!(r.header().error_code.as_deref(), Some("SYN-E9001"));
    assert!(r.header().error_message.unwrap().contains("合成"));
    down.terminal.stop().await;
}

#[tokio::test]
async fn a_character_shift_jis_cannot_carry_gives_an_error_answer_not_a_replacement() {
    let f = start(TerminalSettings {
        encoding: TextEncoding::ShiftJis,
        ..Default::default()
    })
    .await;
    let bytes = write_message(&request(&f.registry, "non-sjis-name"), &XmlOptions::default()).unwrap();
    let r = result_of(&f.terminal, "6", &bytes).await;
    assert_eq!(r.header().error_code.as_deref(), Some("SYN-E9002"));
    assert!(r.header().error_message.unwrap().contains("U+20BB7"));
    f.terminal.stop().await;
}

#[tokio::test]
async fn a_silent_terminal_takes_the_request_and_never_answers() {
    let f = start(TerminalSettings {
        answer: false,
        ..Default::default()
    })
    .await;
    let folders = f.terminal.folders().clone();
    let bytes = write_message(&request(&f.registry, "valid-kenpo-family"), &XmlOptions::default()).unwrap();
    write_atomically(&folders.req, "OQSsiquc01req_7.xml", &bytes);
    wait_for("the unanswered event", || {
        f.recorder
            .events()
            .iter()
            .any(|e| matches!(e, TerminalEvent::Unanswered { .. }))
    })
    .await;
    assert!(!folders.req.join("OQSsiquc01req_7.xml").exists());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(folders.list(Folder::Res).unwrap().is_empty());
    f.terminal.stop().await;
}

#[tokio::test]
async fn an_in_place_slow_writer_is_waited_for_and_observed() {
    let f = start(TerminalSettings::default()).await;
    let folders = f.terminal.folders().clone();
    let bytes = write_message(&request(&f.registry, "valid-kenpo-family"), &XmlOptions::default()).unwrap();
    let path = folders.req.join("OQSsiquc01req_8.xml");
    let (a, b) = bytes.split_at(bytes.len() / 2);
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(a).unwrap();
    file.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await; // longer than settle_ms: only the close tells
    file.write_all(b).unwrap();
    drop(file);
    let res = folders.res.join("OQSsiquc01res_8.xml");
    wait_for("the result", || res.exists()).await;
    assert!(!folders.res.join("OQSsiquc01req_8.err").exists());
    let req = fs_events(&f, Folder::Req, "OQSsiquc01req_8.xml");
    assert_eq!(req[0], (FsOp::Created, Actor::Client));
    assert!(
        req.iter().filter(|(op, _)| *op == FsOp::Modified).count() >= 2,
        "{req:?}"
    );
    f.terminal.stop().await;
}

#[tokio::test]
async fn hostile_files_are_reported_and_nothing_is_lost_or_followed() {
    let f = start(TerminalSettings {
        max_request_bytes: 64 * 1024,
        ..Default::default()
    })
    .await;
    let folders = f.terminal.folders().clone();
    let outside = f.dir.path().join("secret.txt");
    std::fs::write(&outside, "outside the folder").unwrap();
    std::os::unix::fs::symlink(&outside, folders.req.join("OQSsiquc01req_link.xml")).unwrap();
    std::fs::create_dir(folders.req.join("OQSsiquc01req_dir.xml")).unwrap();
    std::fs::write(folders.req.join("notes.txt"), "x").unwrap();
    {
        use std::os::unix::ffi::OsStrExt;
        std::fs::write(
            folders.req.join(std::ffi::OsStr::from_bytes(b"OQSsiquc01req_\xff.xml")),
            "x",
        )
        .unwrap();
    }
    write_atomically(&folders.req, "OQSsiquc01req_big.xml", &vec![b' '; 100 * 1024]);
    write_atomically(
        &folders.req,
        "OQSsiquc01req_dtd.xml",
        b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaa\">]><XmlMsg>&a;</XmlMsg>",
    );
    write_atomically(&folders.req, "CIPsiquc01req_9.xml", b"<XmlMsg/>");

    wait_for("all rejections", || {
        [
            "OQSsiquc01req_link.err",
            "OQSsiquc01req_big.err",
            "OQSsiquc01req_dtd.err",
            "CIPsiquc01req_9.err",
        ]
        .iter()
        .all(|n| folders.res.join(n).exists())
    })
    .await;
    wait_for("the ignored reports", || {
        f.recorder
            .events()
            .iter()
            .filter(|e| matches!(e, TerminalEvent::Ignored { .. }))
            .count()
            >= 3
    })
    .await;
    // Several rescans later, still one report each: a directory named like a request is
    // ignored once, a link answered once.
    tokio::time::sleep(Duration::from_millis(4 * 100)).await; // rescan_ms = 100
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "outside the folder");
    assert!(
        std::fs::symlink_metadata(folders.req.join("OQSsiquc01req_link.xml"))
            .unwrap()
            .is_symlink(),
        "the link stays in req/"
    );
    assert!(
        std::fs::symlink_metadata(folders.res.join("OQSsiquc01req_link.xml")).is_err(),
        "no link is ever carried into res/"
    );
    assert!(folders.req.join("OQSsiquc01req_dir.xml").is_dir());
    let events = f.recorder.events();
    let about = |n: &str| {
        events
            .iter()
            .filter(|e| match e {
                TerminalEvent::Ignored { name, .. } | TerminalEvent::RequestRejected { name, .. } => name == n,
                _ => false,
            })
            .count()
    };
    assert_eq!(about("OQSsiquc01req_dir.xml"), 1);
    assert_eq!(about("OQSsiquc01req_link.xml"), 1);
    assert!(folders.req.join("notes.txt").exists());
    let rejected: Vec<_> = f
        .recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TerminalEvent::RequestRejected { name, code, check, .. } => Some((name, code, check)),
            _ => None,
        })
        .collect();
    let check_of = |n: &str| rejected.iter().find(|r| r.0 == n).map(|r| (r.1.clone(), r.2.clone()));
    assert_eq!(
        check_of("OQSsiquc01req_big.xml"),
        Some(("SYN-E1001".into(), Some("MSG-XML-003".into())))
    );
    assert_eq!(
        check_of("OQSsiquc01req_dtd.xml"),
        Some(("SYN-E1001".into(), Some("MSG-XML-002".into())))
    );
    assert_eq!(check_of("CIPsiquc01req_9.xml").map(|c| c.0), Some("SYN-E1002".into()));
    f.terminal.stop().await;
}

#[tokio::test]
async fn files_present_before_start_are_found_by_the_rescan() {
    let dir = tempfile::tempdir().unwrap();
    let folders = Folders::new(dir.path().join("OQS"));
    folders.create().unwrap();
    let registry = Registry::embedded(today(), 0);
    let bytes = write_message(&request(&registry, "kokuho-6digit"), &XmlOptions::default()).unwrap();
    std::fs::write(folders.req.join("OQSsiquc01req_10.xml"), bytes).unwrap();
    let recorder = Arc::new(MemoryRecorder::default());
    let registry = Arc::new(registry);
    let catalogue = Arc::new(ErrorCatalogue::default());
    let terminal = Terminal::start(TerminalConfig {
        folders: folders.clone(),
        settings: TerminalSettings {
            pickup_delay_ms: 10,
            rescan_ms: 50,
            ..Default::default()
        },
        national: NationalLink::InProcess(Arc::new(LocalNational::new(registry, catalogue.clone()))),
        catalogue,
        clock: Arc::new(FixedClock(today().and_hms_opt(9, 0, 0).unwrap())),
        recorder: recorder.clone(),
        seed: 1,
    })
    .await
    .unwrap();
    let res = folders.res.join("OQSsiquc01res_10.xml");
    wait_for("the result", || res.exists()).await;
    assert!(
        recorder
            .events()
            .iter()
            .any(|e| matches!(e, TerminalEvent::ScanFound { .. }))
    );
    let (r, _) = read_message::<QualificationResult>(&std::fs::read(res).unwrap(), &Limits::default()).unwrap();
    assert_eq!(r.results()[0].insurer_number.as_deref(), Some("  990015"));
    terminal.stop().await;
}

#[tokio::test]
async fn face_results_appear_whole_or_slowly() {
    let f = start(TerminalSettings::default()).await;
    let folders = f.terminal.folders().clone();
    let name = f
        .terminal
        .present_card(PresentCard {
            card: None,
            visit: Default::default(),
            persona: "face-consenting".into(),
            consents: ConsentChoices::all(),
            slow: None,
        })
        .await
        .unwrap();
    assert!(
        name.starts_with("OQSsiquc01res_face_9900000001") && name.ends_with("_20251121090000.xml"),
        "{name}"
    );
    let bytes = std::fs::read(folders.face.join(&name)).unwrap();
    let report = lint(MessageKind::FaceResult, &bytes, &Limits::default());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);

    let slow = f
        .terminal
        .present_card(PresentCard {
            card: None,
            visit: Default::default(),
            persona: "face-consenting".into(),
            consents: ConsentChoices::default(),
            slow: Some(SlowWrite {
                chunks: 4,
                interval_ms: 100,
            }),
        })
        .await
        .unwrap();
    assert_ne!(slow, name, "two presentations give two files");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let partial = std::fs::read(folders.face.join(&slow)).unwrap();
    assert!(
        lint(MessageKind::FaceResult, &partial, &Limits::default()).has_errors(),
        "partial file"
    );
    wait_for("the slow face file", || {
        f.recorder
            .events()
            .iter()
            .any(|e| matches!(e, TerminalEvent::FaceWritten { name, .. } if *name == slow))
    })
    .await;
    let whole = std::fs::read(folders.face.join(&slow)).unwrap();
    assert!(!lint(MessageKind::FaceResult, &whole, &Limits::default()).has_errors());
    assert!(
        fs_events(&f, Folder::Face, &slow)
            .iter()
            .all(|(_, actor)| *actor == Actor::Terminal)
    );
    f.terminal.stop().await;
    assert!(matches!(f.recorder.events().last(), Some(TerminalEvent::Inventory { face, .. }) if face.len() == 2));
}

#[tokio::test]
async fn shift_jis_requests_are_read_by_their_declaration() {
    let f = start(TerminalSettings::default()).await;
    let bytes = write_message(
        &request(&f.registry, "long-symbol"),
        &XmlOptions {
            encoding: TextEncoding::ShiftJis,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "really Shift_JIS");
    let r = result_of(&f.terminal, "sjis", &bytes).await;
    assert_eq!(
        r.body().qualification_validity,
        Some(codes::QualificationValidity::Valid)
    );
    let echoed = r.body().qualification_confirm_search_info.unwrap().insured_card_symbol;
    assert_eq!(echoed.as_deref(), Some("検証記号ＡＢＣＤＥＦＧＨ１２３４５６"));
    f.terminal.stop().await;
}

#[tokio::test]
async fn over_http_a_national_fault_reaches_the_folder_interface() {
    use onshi_national::http::client::RemoteNational;
    use onshi_national::http::{National, ServerTls, serve};
    let registry = Arc::new(Registry::embedded(today(), 0));
    let catalogue = Arc::new(ErrorCatalogue::default());
    let service = Arc::new(LocalNational::new(registry.clone(), catalogue.clone()));
    let clock = Arc::new(FixedClock(today().and_hms_opt(9, 0, 0).unwrap()));
    let national = National::new(service, clock.clone(), Arc::new(onshi_national::events::NoRecorder), 1);
    let pki = onshi_national::pki::embedded();
    let server = serve(
        national.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Some(ServerTls::from_pki(&pki).unwrap()),
    )
    .await
    .unwrap();
    let url = format!("https://localhost:{}", server.addr.port());
    let link = RemoteNational::new(&url, Some(pki.ca_cert().unwrap()), Duration::from_secs(5))
        .unwrap()
        .with_terminal_key(national.terminal_key());
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(MemoryRecorder::default());
    let terminal = Terminal::start(TerminalConfig {
        folders: Folders::new(dir.path()),
        settings: TerminalSettings {
            pickup_delay_ms: 10,
            ..Default::default()
        },
        national: NationalLink::Http(link),
        catalogue,
        clock,
        recorder: recorder.clone(),
        seed: 1,
    })
    .await
    .unwrap();
    let bytes = write_message(&request(&registry, "valid-kenpo-insured"), &XmlOptions::default()).unwrap();
    let r = result_of(&terminal, "h1", &bytes).await;
    assert_eq!(r.results()[0].name.as_deref(), Some("検証　一郎"));

    national
        .set_fault(
            serde_json::from_str(
                r#"{"id":"down","scope":{"endpoint":"terminal"},"kind":{"type":"status","code":502}}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let r = result_of(&terminal, "h2", &bytes).await;
    assert_eq!(r.header().error_code.as_deref(), Some("SYN-E9001"));
    assert!(
        recorder
            .events()
            .iter()
            .any(|e| matches!(e, TerminalEvent::Problem { message } if message.contains("502")))
    );
    terminal.stop().await;
    server.stop().await;
}
