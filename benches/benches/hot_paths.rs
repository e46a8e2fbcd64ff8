//! Criterion benches of the per-request work: the search endpoint's pipeline without the
//! network (JSON parse, type check, lint, look-up, result, serialise) and the XML read of a
//! result file, the journal line of an exchange, the pipeline stage by stage, and one APDU on
//! the virtual My Number card.
//! `cargo bench -p onshi-benches --bench hot_paths`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use onshi_national::http::json;
use onshi_national::{EligibilityService as _, LocalNational};
use onshi_protocol::driver::Card;
use onshi_protocol::model::QualificationResult;
use onshi_protocol::xml::Limits;
use onshi_protocol::{XmlOptions, read_message, write_message};
use onshi_registry::Registry;
use serde_json::Value;

fn setup() -> (LocalNational, Vec<u8>, chrono::NaiveDateTime) {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("a date");
    let registry = Arc::new(Registry::embedded(date, 0));
    let service = LocalNational::new(registry, Default::default());
    let card = Card {
        insurer_number: "06990012".into(),
        symbol: Some("1001".into()),
        number: "1101".into(),
        branch: Some("00".into()),
        birthdate: "19780815".into(),
    };
    let request = card.qualification_request("20261120", false, "9900000001");
    let body = serde_json::to_vec(&serde_json::json!({ "XmlMsg": request })).expect("json");
    (service, body, date.and_hms_opt(9, 0, 0).expect("a time"))
}

fn search_pipeline(c: &mut Criterion) {
    let (service, body, now) = setup();
    c.bench_function("search pipeline (JSON in → JSON out, no network)", |b| {
        b.iter(|| {
            let mut v: Value = serde_json::from_slice(black_box(&body)).expect("json");
            assert!(json::wrong_types(&v).is_empty());
            json::coerce_to_strings(&mut v);
            let findings = json::lint_request(&v);
            let request = json::request(&v).expect("a request");
            let result = service.confirm_by_card(&request, now);
            black_box((findings, json::result_bytes(&result)))
        })
    });
}

fn read_result_file(c: &mut Criterion) {
    let (service, body, now) = setup();
    let v: Value = serde_json::from_slice(&body).expect("json");
    let result = service.confirm_by_card(&json::request(&v).expect("a request"), now);
    let xml = write_message(&result, &XmlOptions::default()).expect("writes");
    c.bench_function("read a result file (XML decode + typed read)", |b| {
        b.iter(|| black_box(read_message::<QualificationResult>(black_box(&xml), &Limits::default()).expect("reads")))
    });
}

/// What the journal writer does for every exchange: serialise the event as a JSON line.
fn journal_line(c: &mut Criterion) {
    use onshi_national::events::{Blob, Exchange, NationalEvent};
    let (service, body, now) = setup();
    let v: Value = serde_json::from_slice(&body).expect("json");
    let answer = json::result_bytes(&service.confirm_by_card(&json::request(&v).expect("a request"), now));
    let headers = [
        ("host", "localhost"),
        ("content-type", "application/json;charset=UTF-8"),
        ("content-length", "300"),
        ("authorization", "SYN-ID-0123456789abcdef0123456789abcdef"),
    ];
    let event = NationalEvent::Exchange(Box::new(Exchange {
        connection: 1,
        remote: "127.0.0.1:50000".into(),
        tls: true,
        client_cert: None,
        method: "POST".into(),
        path: onshi_national::http::api::SEARCH_PATH.into(),
        version: "HTTP/1.1".into(),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: Blob(body.clone()),
        status: 200,
        response_body: Blob(answer),
        cut_after_bytes: None,
        faults: vec![],
        findings: vec![],
        retry_after_s: None,
        persona: Some("valid-kenpo-insured".into()),
        duration_ms: 0.05,
        delay_ms: 0,
    }));
    c.bench_function("journal line of one search exchange", |b| {
        b.iter(|| black_box(serde_json::to_string(black_box(&event)).expect("serialises")))
    });
}

criterion_group!(benches, search_pipeline, read_result_file, journal_line);
/// The search pipeline stage by stage, to see where its time goes.
fn stages(c: &mut Criterion) {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("works");
    let registry = Registry::embedded(date, 0);
    let q = onshi_registry::CardQuery {
        insurer_number: "06990012".into(),
        symbol: Some("1001".into()),
        number: "1101".into(),
        branch: Some("00".into()),
        birthdate: "19780815".into(),
    };
    c.bench_function("stage: registry look-up", |b| {
        b.iter(|| black_box(registry.lookup(black_box(&q), date)))
    });
    let (service, body, now) = setup();
    let v: Value = serde_json::from_slice(&body).expect("works");
    let req = json::request(&v).expect("works");
    let result = service.confirm_by_card(&req, now);
    c.bench_function("stage: parse the JSON body", |b| {
        b.iter(|| black_box(serde_json::from_slice::<Value>(black_box(&body)).expect("works")))
    });
    c.bench_function("stage: find non-string values", |b| {
        b.iter(|| black_box(json::wrong_types(black_box(&v))))
    });
    c.bench_function("stage: message lint of the JSON request", |b| {
        b.iter(|| black_box(json::lint_request(black_box(&v))))
    });
    c.bench_function("stage: typed request from JSON", |b| {
        b.iter(|| black_box(json::request(black_box(&v)).expect("works")))
    });
    c.bench_function("stage: answer (look-up + result)", |b| {
        b.iter(|| black_box(service.confirm_by_card(black_box(&req), now)))
    });
    c.bench_function("stage: serialise the JSON answer", |b| {
        b.iter(|| black_box(json::result_bytes(black_box(&result))))
    });
}
criterion_group!(stage, stages);

/// The virtual card in process: one APDU through the parser and state machine.
fn card_apdus(c: &mut Criterion) {
    let image = onshi_card::image::resolve("valid-kenpo-insured").expect("a shipped card");
    let mut card = onshi_card::Card::new(&image);
    let apdu = |s: &str| onshi_card::apdu::unhex(s).expect("hex");
    card.transmit(&apdu("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"));
    card.transmit(&apdu("00 A4 02 0C 02 00 0A"));
    let read = apdu("00 B0 00 00 FF");
    c.bench_function("card: READ BINARY 255 bytes (in process)", |b| {
        b.iter(|| black_box(card.transmit(black_box(&read))))
    });
    let select = apdu("00 A4 02 0C 02 00 18");
    c.bench_function("card: SELECT EF (in process)", |b| {
        b.iter(|| black_box(card.transmit(black_box(&select))))
    });
    let query = apdu("00 20 00 80");
    c.bench_function("card: VERIFY retry query (in process)", |b| {
        b.iter(|| black_box(card.transmit(black_box(&query))))
    });
}
criterion_group!(card, card_apdus);
criterion_main!(benches, stage, card);
