//! The face-auth reader model with virtual My Number cards: face, PIN (with the card's real
//! counter, across visits), visual check, and every refusal — each a face result the client
//! can read and a journal event.

mod common;

use common::*;
use onshi_national::ConsentChoices;
use onshi_protocol::codes;
use onshi_protocol::model::*;
use onshi_protocol::read_message;
use onshi_protocol::xml::Limits;
use onshi_terminal::reader::{AuthMethod, ReaderFailure, ReaderSettings, ReaderStep, Stage, Visit};
use onshi_terminal::*;

fn visit(card: &str, method: AuthMethod) -> PresentCard {
    PresentCard {
        persona: String::new(),
        card: Some(card.into()),
        visit: Visit {
            method,
            remove_at: None,
        },
        consents: ConsentChoices::default(),
        slow: None,
    }
}

fn pin(entries: &[&str]) -> AuthMethod {
    AuthMethod::Pin {
        entries: entries.iter().map(|s| s.to_string()).collect(),
    }
}

async fn present(f: &Fixture, mut card: PresentCard) -> QualificationResult {
    let image = onshi_card::image::resolve(card.card.as_deref().unwrap()).unwrap();
    card.persona = image.persona.clone();
    let name = f.terminal.present_card(card).await.unwrap();
    let bytes = std::fs::read(f.terminal.folders().face.join(name)).unwrap();
    read_message::<QualificationResult>(&bytes, &Limits::default())
        .unwrap()
        .0
}

fn steps(f: &Fixture) -> Vec<ReaderStep> {
    f.recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TerminalEvent::Reader { step, .. } => Some(step),
            _ => None,
        })
        .collect()
}

fn refusals(f: &Fixture) -> Vec<(ReaderFailure, String)> {
    f.recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TerminalEvent::ReaderRefused { failure, code, .. } => Some((failure, code)),
            _ => None,
        })
        .collect()
}

fn assert_refused(r: &QualificationResult, code: &str, words: &str) {
    let h = r.message_header.as_ref().unwrap();
    assert_eq!(h.segment_of_result, Some(codes::SegmentOfResult::Abnormal));
    assert_eq!(h.error_code.as_deref(), Some(code));
    assert!(
        h.error_message.as_deref().unwrap_or("").contains(words),
        "{:?}",
        h.error_message
    );
    // no person data for a patient the reader refused: only ProcessingResultStatus 2
    let body = r.message_body.as_ref().expect("the error shape has a body");
    assert_eq!(
        body.processing_result_status,
        Some(codes::ProcessingResultStatus::Error)
    );
    assert!(body.result_list.is_none() && body.qualification_validity.is_none());
    assert!(body.qualification_confirm_search_info.is_none());
}

#[tokio::test]
async fn face_path_reads_the_photo_and_confirms() {
    let f = start(TerminalSettings::default()).await;
    let r = present(&f, visit("valid-kenpo-insured", AuthMethod::default())).await;
    assert_eq!(
        r.message_header.unwrap().segment_of_result,
        Some(codes::SegmentOfResult::Normal)
    );
    assert_eq!(
        r.message_body.unwrap().qualification_validity,
        Some(codes::QualificationValidity::Valid)
    );
    let steps = steps(&f);
    assert!(
        matches!(&steps[0], ReaderStep::CardRead { token_label, not_after, .. }
        if token_label == "JPKIAPICCTOKEN2" && not_after == "20300331"),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, ReaderStep::FaceRead { photo_bytes } if *photo_bytes > 1000)),
        "{steps:?}"
    );
    assert!(steps.contains(&ReaderStep::FaceMatched {
        attempt: 1,
        matched: true
    }));
    assert_eq!(steps.last(), Some(&ReaderStep::ConsentScreens));
}

#[tokio::test]
async fn pin_path_uses_the_cards_counter_across_visits() {
    let f = start(TerminalSettings::default()).await;
    // a wrong PIN then the right one: signed, confirmed, counter back to 3
    let r = present(&f, visit("valid-kenpo-insured", pin(&["0000", "1234"]))).await;
    assert_eq!(
        r.message_header.unwrap().segment_of_result,
        Some(codes::SegmentOfResult::Normal)
    );
    let s = steps(&f);
    assert!(
        s.contains(&ReaderStep::PinEntered {
            attempt: 1,
            sw: "63C2".into(),
            tries_left: Some(2)
        }),
        "{s:?}"
    );
    assert!(
        s.contains(&ReaderStep::ChallengeSigned { signature_bytes: 256 }),
        "{s:?}"
    );
    // two wrong and the patient gives up: refused with tries left
    let r = present(&f, visit("valid-kenpo-insured", pin(&["0000", "1111"]))).await;
    assert_refused(&r, "SYN-C1003", "残り1回");
    // next visit: one more wrong PIN locks the card (63 C0 on the last try)
    let r = present(&f, visit("valid-kenpo-insured", pin(&["2222"]))).await;
    assert_refused(&r, "SYN-C1001", "ロック");
    // and the right PIN no longer helps (69 84) — but the face path does not need the PIN
    let r = present(&f, visit("valid-kenpo-insured", pin(&["1234"]))).await;
    assert_refused(&r, "SYN-C1001", "ロック");
    assert!(steps(&f).contains(&ReaderStep::PinEntered {
        attempt: 1,
        sw: "6984".into(),
        tries_left: None
    }));
    let r = present(&f, visit("valid-kenpo-insured", AuthMethod::default())).await;
    assert_eq!(
        r.message_header.unwrap().segment_of_result,
        Some(codes::SegmentOfResult::Normal)
    );
    let held = f.terminal.card("valid-kenpo-insured").unwrap();
    assert_eq!(
        held.card.lock().unwrap().pins()[onshi_card::chip::PIN_AUTH].tries_left,
        0
    );
}

#[tokio::test]
async fn shipped_problem_cards_are_refused_with_the_readers_reasons() {
    let f = start(TerminalSettings::default()).await;
    let cases = [
        ("locked-auth-pin", pin(&["1357"]), "SYN-C1001", "ロック"),
        ("revoked-certificate", AuthMethod::default(), "SYN-C0006", "失効"),
        (
            "expired-certificate",
            AuthMethod::default(),
            "SYN-C0006",
            "有効期限切れ 20240331",
        ),
        ("juki-card", AuthMethod::default(), "SYN-C0002", "JPKIAPICCTOKEN"),
        (
            "face-auth-only",
            pin(&["1234"]),
            "SYN-C1002",
            "顔認証マイナンバーカード",
        ),
    ];
    for (card, method, code, words) in cases {
        let r = present(&f, visit(card, method)).await;
        assert_refused(&r, code, words);
    }
    let kinds: Vec<String> = refusals(&f).iter().map(|(failure, _)| format!("{failure:?}")).collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert!(
        kinds[1].starts_with("CertificateRevoked") && kinds[4].starts_with("PinNotSet"),
        "{kinds:?}"
    );
    // the PIN-less card works by face
    let r = present(&f, visit("face-auth-only", AuthMethod::default())).await;
    assert_eq!(
        r.message_header.unwrap().segment_of_result,
        Some(codes::SegmentOfResult::Normal)
    );
}

#[tokio::test]
async fn face_failures_fall_back_to_a_visual_check_unless_configured_not_to() {
    let f = start(TerminalSettings::default()).await;
    let r = present(
        &f,
        visit(
            "valid-kenpo-insured",
            AuthMethod::Face {
                attempts: vec![false; 5],
            },
        ),
    )
    .await;
    assert_eq!(
        r.message_header.unwrap().segment_of_result,
        Some(codes::SegmentOfResult::Normal)
    );
    let s = steps(&f);
    assert_eq!(
        s.iter().filter(|s| matches!(s, ReaderStep::FaceMatched { .. })).count(),
        3,
        "three attempts"
    );
    assert!(s.contains(&ReaderStep::VisualCheck { after_face_attempts: 3 }));
    let strict = TerminalSettings {
        reader: ReaderSettings {
            face_attempts: 2,
            visual_fallback: false,
        },
        ..TerminalSettings::default()
    };
    let f = start(strict).await;
    let r = present(
        &f,
        visit(
            "valid-kenpo-insured",
            AuthMethod::Face {
                attempts: vec![false, false, true],
            },
        ),
    )
    .await;
    assert_refused(&r, "SYN-C1004", "2回");
    let r = present(&f, visit("valid-kenpo-insured", AuthMethod::Visual)).await;
    assert_eq!(
        r.message_header.unwrap().segment_of_result,
        Some(codes::SegmentOfResult::Normal)
    );
}

#[tokio::test]
async fn a_card_taken_away_mid_flow() {
    let f = start(TerminalSettings::default()).await;
    for (stage, words) in [
        (Stage::ReadCertificate, "証明書読取中"),
        (Stage::Authenticate, "本人確認中"),
        (Stage::Consent, "同意画面"),
    ] {
        let mut v = visit("valid-kenpo-insured", AuthMethod::default());
        v.visit.remove_at = Some(stage);
        let r = present(&f, v).await;
        assert_refused(&r, "SYN-C1005", words);
    }
    assert!(steps(&f).contains(&ReaderStep::CardRemoved { stage: Stage::Consent }));
    assert!(f.terminal.card("no-such-card").is_err());
}
