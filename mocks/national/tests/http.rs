//! The national mock over real TLS on loopback: login and search, every refusal, every fault
//! kind, hostile connections, and the admin API.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use onshi_national::events::{MemoryRecorder, NationalEvent};
use onshi_national::http::api::{AUTH_PATH, SEARCH_PATH};
use onshi_national::http::client::{ClientError, RemoteNational};
use onshi_national::http::{National, Policy, ServerTls, TERMINAL_KEY_HEADER, admin, credentials_for, serve, tls};
use onshi_national::pki;
use onshi_national::{Clock, LocalNational};
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::Registry;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct TestClock(Mutex<NaiveDateTime>);
impl Clock for TestClock {
    fn now(&self) -> NaiveDateTime {
        *self.0.lock().unwrap()
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
}

struct Mock {
    national: Arc<National>,
    clock: Arc<TestClock>,
    recorder: Arc<MemoryRecorder>,
    addr: SocketAddr,
    pki: pki::Pki,
    _server: onshi_national::http::Server,
}

async fn start() -> Mock {
    start_with(ErrorCatalogue::default()).await
}

async fn start_with(catalogue: ErrorCatalogue) -> Mock {
    let registry = Arc::new(Registry::embedded(today(), 0));
    let service = Arc::new(LocalNational::new(registry, Arc::new(catalogue)));
    let clock = Arc::new(TestClock(Mutex::new(today().and_hms_opt(9, 0, 0).unwrap())));
    let recorder = Arc::new(MemoryRecorder::default());
    let national = National::new(service, clock.clone(), recorder.clone(), 7);
    let pki = pki::embedded();
    let server = serve(
        national.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Some(ServerTls::from_pki(&pki).unwrap()),
    )
    .await
    .unwrap();
    Mock {
        national,
        clock,
        recorder,
        addr: server.addr,
        pki,
        _server: server,
    }
}

impl Mock {
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    fn client(&self, cert: Option<&str>) -> RemoteNational {
        let identity = cert.map(|name| {
            (
                self.pki.get(&format!("{name}.pem")).unwrap(),
                self.pki.get(&format!("{name}-key.pem")).unwrap(),
            )
        });
        RemoteNational::with_identity(
            &self.url(),
            Some(self.pki.ca_cert().unwrap()),
            identity,
            Duration::from_secs(5),
        )
        .unwrap()
    }

    async fn login(&self) -> String {
        let (status, body) = self
            .client(Some("client-9900000001"))
            .post(AUTH_PATH, serde_json::to_vec(&credentials_for("9900000001")).unwrap())
            .await
            .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).unwrap();
        v["result"]["idToken"].as_str().unwrap().to_owned()
    }

    async fn search(&self, token: &str, body: Value) -> (u16, Value) {
        let (status, bytes) = self
            .client(None)
            .post_with(
                SEARCH_PATH,
                serde_json::to_vec(&body).unwrap(),
                &[("authorization", token)],
            )
            .await
            .unwrap();
        (status.as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn exchanges(&self) -> Vec<onshi_national::events::Exchange> {
        self.recorder
            .events()
            .into_iter()
            .filter_map(|e| match e {
                NationalEvent::Exchange(x) => Some(*x),
                _ => None,
            })
            .collect()
    }

    fn last_findings(&self) -> Vec<String> {
        self.exchanges()
            .last()
            .unwrap()
            .findings
            .iter()
            .map(|f| f.check.clone())
            .collect()
    }
}

fn query(persona_card: (&str, Option<&str>, &str, Option<&str>, &str)) -> Value {
    let (insurer, symbol, number, branch, birthdate) = persona_card;
    let mut info = json!({"InsurerNumber": insurer, "InsuredIdentificationNumber": number, "Birthdate": birthdate,
                          "LimitApplicationCertificateRelatedConsFlg": "1"});
    if let Some(s) = symbol {
        info["InsuredCardSymbol"] = json!(s);
    }
    if let Some(b) = branch {
        info["InsuredBranchNumber"] = json!(b);
    }
    json!({"XmlMsg": {"MessageHeader": {"QualificationConfirmationDate": "20251121", "MedicalInstitutionCode": "9900000001"},
                      "MessageBody": {"QualificationConfirmSearchInfo": info}}})
}

fn insured() -> Value {
    query(("06990012", Some("1001"), "1101", Some("00"), "19780815"))
}

#[tokio::test]
async fn login_then_search_answers_in_the_json_shape_of_the_reference() {
    let m = start().await;
    let token = m.login().await;
    let (status, v) = m.search(&token, insured()).await;
    assert_eq!(status, 200);
    let body = &v["XmlMsg"]["MessageBody"];
    assert_eq!(body["QualificationValidity"], "1");
    assert_eq!(
        body["ResultList"][0]["ResultOfQualificationConfirmation"]["Name"],
        "検証　一郎"
    );
    assert_eq!(v["XmlMsg"]["MessageHeader"]["SegmentOfResult"], "1");
    let x = m.exchanges();
    let login = &x[0];
    let cert = login.client_cert.as_ref().unwrap();
    assert!(
        cert.subject.contains("CN=9900000001") && cert.verdict == "ok",
        "{cert:?}"
    );
    assert!(x[1].findings.is_empty(), "{:?}", x[1].findings);
    assert_eq!(x[1].persona.as_deref(), Some("valid-kenpo-insured"));
    assert_eq!(
        x[1].headers.iter().find(|(k, _)| k == "authorization").unwrap().1,
        token
    );
}

#[tokio::test]
async fn logins_with_the_wrong_certificate_or_credentials_are_refused_clearly() {
    let m = start().await;
    let creds = serde_json::to_vec(&credentials_for("9900000001")).unwrap();
    let cases = [
        (None, creds.clone(), "SYN-A1001", "API-CERT-001"),
        (Some("client-foreign"), creds.clone(), "SYN-A1002", "API-CERT-002"),
        (Some("client-expired"), creds.clone(), "SYN-A1002", "API-CERT-002"),
        (
            Some("client-9900000001"),
            b"{\"userId\":\"x\"}".to_vec(),
            "SYN-A1003",
            "API-CRED-001",
        ),
        (
            Some("client-9900000001"),
            b"not json".to_vec(),
            "SYN-A3001",
            "API-JSON-001",
        ),
    ];
    for (cert, body, code, check) in cases {
        let (status, bytes) = m.client(cert).post(AUTH_PATH, body).await.unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(status, if check == "API-JSON-001" { 400 } else { 401 }, "{cert:?}");
        assert_eq!(v["status"], code, "{cert:?}: {v}");
        assert!(v.get("result").is_none());
        assert_eq!(m.last_findings(), [check]);
    }
    let verdicts: Vec<String> = m
        .exchanges()
        .iter()
        .filter_map(|x| x.client_cert.as_ref().map(|c| c.verdict.clone()))
        .collect();
    assert!(verdicts.contains(&"issued by an unknown CA".to_owned()), "{verdicts:?}");
    assert!(verdicts.contains(&"expired".to_owned()), "{verdicts:?}");
}

#[tokio::test]
async fn tokens_must_be_bare_known_and_fresh() {
    let m = start().await;
    let token = m.login().await;
    let (s, _) = m.search(&format!("Bearer {token}"), insured()).await;
    assert_eq!((s, m.last_findings()), (401, vec!["API-AUTH-002".to_owned()]));
    let (s, _) = m.search("SYN-ID-nope", insured()).await;
    assert_eq!((s, m.last_findings()), (401, vec!["API-AUTH-004".to_owned()]));
    let (s, _) = m.search("", insured()).await;
    assert_eq!((s, m.last_findings()), (401, vec!["API-AUTH-001".to_owned()]));
    let (s, bytes) = m
        .client(None)
        .post(SEARCH_PATH, serde_json::to_vec(&insured()).unwrap())
        .await
        .unwrap();
    assert_eq!(s, 401, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(m.last_findings(), ["API-AUTH-001"]);
    *m.clock.0.lock().unwrap() += chrono::Duration::minutes(61);
    let (s, v) = m.search(&token, insured()).await;
    assert_eq!(s, 401);
    assert!(v["msg"].as_str().unwrap().contains("token expired"), "{v}");
    let fresh = m.login().await;
    assert_eq!(m.search(&fresh, insured()).await.0, 200);
    assert_eq!(m.national.revoke_tokens(), 2);
    assert_eq!(m.search(&fresh, insured()).await.0, 401);
}

#[tokio::test]
async fn non_string_values_are_findings_and_optionally_refused() {
    let m = start().await;
    let token = m.login().await;
    let mut q = insured();
    q["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"] = json!(true);
    let (s, v) = m.search(&token, q.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["XmlMsg"]["MessageHeader"]["SegmentOfResult"], "9",
        "accepted as the text \"true\": invalid"
    );
    assert_eq!(m.last_findings(), ["API-TYPE-001", "MSG-INST-001"]);
    let mut strict = m.national.settings();
    strict.non_string_values = Policy::Reject;
    m.national.set_settings(strict);
    let (s, v) = m.search(&token, q).await;
    assert_eq!(s, 400);
    assert!(v["msg"].as_str().unwrap().contains("MedicalInstitutionCode"), "{v}");
}

async fn raw(m: &Mock, request: &[u8]) -> Vec<u8> {
    let config = tls::client_config(m.pki.ca_cert().unwrap(), None).unwrap();
    let tcp = tokio::net::TcpStream::connect(m.addr).await.unwrap();
    let mut s = tokio_rustls::TlsConnector::from(config)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

/// Bad chunk framing is named as such (API-HTTP-003), not as a short Content-Length.
#[tokio::test]
async fn bad_chunk_framing_is_named_as_chunking() {
    let m = start().await;
    let token = m.login().await;
    let body = serde_json::to_string(&insured()).unwrap();
    for (what, framed) in [
        ("a size that is not hexadecimal", format!("zz\r\n{body}\r\n0\r\n\r\n")),
        (
            "a chunk longer than its size",
            format!("{:x}\r\n{body}XXXX\r\n0\r\n\r\n", body.len()),
        ),
    ] {
        let request = format!(
            "POST {SEARCH_PATH} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {token}\r\nContent-Type: application/json;charset=UTF-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{framed}"
        );
        let answer = String::from_utf8_lossy(&raw(&m, request.as_bytes()).await).into_owned();
        assert!(answer.starts_with("HTTP/1.1 400"), "{what}: {answer}");
        assert!(answer.contains("chunked request body is malformed"), "{what}: {answer}");
        let x = m.exchanges();
        let last = x.last().unwrap();
        assert_eq!(last.findings[0].check, "API-HTTP-003", "{what}");
        assert!(!answer.contains("Content-Length"), "{what}: {answer}");
    }
}

#[tokio::test]
async fn content_length_counted_in_characters_is_named() {
    let m = start().await;
    let token = m.login().await;
    let mut q = insured();
    q["XmlMsg"]["MessageBody"]["QualificationConfirmSearchInfo"]["InsuredCardSymbol"] = json!("検証記号");
    let body = serde_json::to_string(&q).unwrap();
    let request = format!(
        "POST {SEARCH_PATH} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {token}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.chars().count()
    );
    let answer = String::from_utf8_lossy(&raw(&m, request.as_bytes()).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // the answer itself says why, and closes the connection
    assert!(answer.contains("bytes (UTF-8), not characters"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let x = m.exchanges();
    let search = x.iter().find(|x| x.path == SEARCH_PATH).unwrap();
    assert_eq!(search.findings[0].check, "API-LEN-001");
    assert!(search.findings[0].message.contains("bytes (UTF-8), not characters"));
    // what was left on the connection is journaled with it, not as a failed next request
    let events = m.recorder.events();
    let leftover: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            NationalEvent::Leftover { connection, bytes, .. } => Some((*connection, bytes.0.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(leftover.len(), 1, "{events:?}");
    assert_eq!(leftover[0].0, search.connection);
    let sent = body.as_bytes();
    assert_eq!(
        [search.body.0.as_slice(), leftover[0].1.as_slice()].concat(),
        sent,
        "body + leftover = what the client sent"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, NationalEvent::ConnectionFailed { .. })),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_short_content_length_in_ascii_is_named_too_and_keep_alive_goes_on_elsewhere() {
    let m = start().await;
    let token = m.login().await;
    let body = serde_json::to_string(&insured()).unwrap();
    let request = format!(
        "POST {SEARCH_PATH} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len() - 10
    );
    let answer = String::from_utf8_lossy(&raw(&m, request.as_bytes()).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("Content-Length is shorter than the body sent"),
        "{answer}"
    );
    // a new connection searches as ever
    let (status, v) = m.search(&token, insured()).await;
    assert_eq!(status, 200);
    assert_eq!(v["XmlMsg"]["MessageBody"]["QualificationValidity"], "1");
}

#[tokio::test]
async fn hostile_input_is_answered_or_dropped_and_journaled() {
    let m = start().await;
    let token = m.login().await;
    // A JSON nesting bomb and an oversized body.
    let bomb = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (s, _) = m
        .client(None)
        .post_with(SEARCH_PATH, bomb.into_bytes(), &[("authorization", &token)])
        .await
        .unwrap();
    assert_eq!(s, 400);
    assert_eq!(m.last_findings(), ["API-JSON-001"]);
    let (s, _) = m
        .client(None)
        .post_with(SEARCH_PATH, vec![b' '; 1024 * 1024], &[("authorization", &token)])
        .await
        .unwrap();
    assert_eq!(s, 413);
    // Unknown path and method.
    let (s, _) = m.client(None).post("/nope", vec![]).await.unwrap();
    assert_eq!(s, 404);
    // A header flood, HTTP/1.0, garbage instead of TLS, an HTTP/2 preface.
    let flood = format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-A: 1\r\n".repeat(500));
    let answer = raw(&m, flood.as_bytes()).await;
    assert!(answer.is_empty() || String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 431"));
    let old = raw(
        &m,
        format!("POST {SEARCH_PATH} HTTP/1.0\r\nContent-Length: 2\r\n\r\n{{}}").as_bytes(),
    )
    .await;
    assert!(
        String::from_utf8_lossy(&old).starts_with("HTTP/1.0 401"),
        "{}",
        String::from_utf8_lossy(&old)
    );
    let mut tcp = tokio::net::TcpStream::connect(m.addr).await.unwrap();
    tcp.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4])
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    let h2 = raw(&m, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    assert!(String::from_utf8_lossy(&h2).is_empty() || String::from_utf8_lossy(&h2).contains("400"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let failures: Vec<String> = m
        .recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            NationalEvent::ConnectionFailed { error, .. } => Some(error),
            _ => None,
        })
        .collect();
    assert!(
        failures.iter().any(|e| e.contains("TLS handshake failed")),
        "{failures:?}"
    );
    assert!(failures.len() >= 3, "{failures:?}");
}

#[tokio::test]
async fn a_slow_sender_is_cut_off() {
    let m = start().await;
    let mut s = m.national.settings();
    s.read_timeout_ms = 300;
    m.national.set_settings(s);
    let config = tls::client_config(m.pki.ca_cert().unwrap(), None).unwrap();
    let tcp = tokio::net::TcpStream::connect(m.addr).await.unwrap();
    let mut t = tokio_rustls::TlsConnector::from(config)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let started = Instant::now();
    t.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), t.read_to_end(&mut out)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the connection must be closed by the server"
    );
}

fn set(m: &Mock, fault: Value) {
    m.national.set_fault(serde_json::from_value(fault).unwrap()).unwrap();
}

#[tokio::test]
async fn every_fault_kind_reaches_the_client() {
    let m = start().await;
    let token = m.login().await;
    let c = m.client(None);
    let body = serde_json::to_vec(&insured()).unwrap();
    let auth = [("authorization", token.as_str())];

    set(
        &m,
        json!({"id":"503","kind":{"type":"status","code":503,"retry_after_s":7},"when":{"first":1}}),
    );
    let (s, b) = c.post_with(SEARCH_PATH, body.clone(), &auth).await.unwrap();
    assert_eq!(s, 503);
    assert_eq!(serde_json::from_slice::<Value>(&b).unwrap()["status"], "SYN-A9001");
    assert_eq!(
        c.post_with(SEARCH_PATH, body.clone(), &auth).await.unwrap().0,
        200,
        "first: 1"
    );

    set(
        &m,
        json!({"id":"page","kind":{"type":"maintenance_page"},"when":{"first":1}}),
    );
    let (s, b) = c.post_with(SEARCH_PATH, body.clone(), &auth).await.unwrap();
    assert_eq!(s, 503);
    assert!(String::from_utf8_lossy(&b).contains("メンテナンス"));

    set(
        &m,
        json!({"id":"cut","kind":{"type":"close_without_answer"},"when":{"first":1}}),
    );
    assert!(matches!(
        c.post_with(SEARCH_PATH, body.clone(), &auth).await,
        Err(ClientError::Connect { .. })
    ));

    set(
        &m,
        json!({"id":"rst","kind":{"type":"connection_reset"},"when":{"first":1}}),
    );
    let err = c
        .post_with(SEARCH_PATH, body.clone(), &auth)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.to_lowercase().contains("reset") || err.contains("closed"), "{err}");

    set(
        &m,
        json!({"id":"trunc","kind":{"type":"truncated_body","keep_bytes":20},"when":{"first":1}}),
    );
    assert!(
        c.post_with(SEARCH_PATH, body.clone(), &auth).await.is_err(),
        "a truncated body is an error"
    );

    set(
        &m,
        json!({"id":"bad","kind":{"type":"malformed_json"},"when":{"first":1}}),
    );
    let (s, b) = c.post_with(SEARCH_PATH, body.clone(), &auth).await.unwrap();
    assert_eq!(s, 200);
    assert!(serde_json::from_slice::<Value>(&b).is_err());

    set(
        &m,
        json!({"id":"slow","kind":{"type":"slow_body","chunk_bytes":300,"interval_ms":50},"when":{"first":1}}),
    );
    let t = Instant::now();
    let (s, b) = c.post_with(SEARCH_PATH, body.clone(), &auth).await.unwrap();
    assert!(s == 200 && serde_json::from_slice::<Value>(&b).is_ok());
    assert!(t.elapsed() >= Duration::from_millis(100), "{:?}", t.elapsed());

    set(
        &m,
        json!({"id":"lat","kind":{"type":"latency","delay":{"fixed":{"ms":300}}},"when":{"first":1}}),
    );
    let t = Instant::now();
    assert_eq!(c.post_with(SEARCH_PATH, body.clone(), &auth).await.unwrap().0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    set(
        &m,
        json!({"id":"exp","scope":{"persona":"valid-kenpo-insured"},"kind":{"type":"token_expiry"},"when":{"first":1}}),
    );
    assert_eq!(c.post_with(SEARCH_PATH, body.clone(), &auth).await.unwrap().0, 401);

    let applied: Vec<_> = m.exchanges().iter().flat_map(|x| x.faults.clone()).collect();
    for id in ["503", "page", "cut", "rst", "trunc", "bad", "slow", "lat", "exp"] {
        assert!(applied.iter().any(|a| a == id), "{id} not journaled in {applied:?}");
    }
    assert!(m.national.faults().iter().all(|f| f.applied == 1));
    // connections the faults end on purpose are not failed connections (recognised by type)
    tokio::time::sleep(Duration::from_millis(200)).await;
    let failed: Vec<_> = m
        .recorder
        .events()
        .into_iter()
        .filter(|e| matches!(e, NationalEvent::ConnectionFailed { .. }))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[tokio::test]
async fn person_changes_show_in_the_next_answer() {
    let m = start().await;
    let token = m.login().await;
    m.national
        .apply_change(
            serde_json::from_value(json!({"change":"lose_eligibility","persona":"valid-kenpo-insured","at":"today"}))
                .unwrap(),
        )
        .unwrap();
    let (_, v) = m.search(&token, insured()).await;
    assert_eq!(v["XmlMsg"]["MessageBody"]["QualificationValidity"], "2");
    m.national.reset();
    let fresh = m.login().await;
    let (_, v) = m.search(&fresh, insured()).await;
    assert_eq!(v["XmlMsg"]["MessageBody"]["QualificationValidity"], "1");
}

#[tokio::test]
async fn the_terminal_endpoints_answer_card_and_face_confirmations() {
    let m = start().await;
    let remote = RemoteNational::new(&m.url(), Some(m.pki.ca_cert().unwrap()), Duration::from_secs(5))
        .unwrap()
        .with_terminal_key(m.national.terminal_key());
    let request = onshi_national::http::json::request(&insured()).unwrap();
    let r = remote.confirm_by_card(&request).await.unwrap();
    assert_eq!(r.results()[0].name.as_deref(), Some("検証　一郎"));
    let face = onshi_national::FaceConfirmation {
        persona: "face-consenting".into(),
        institution_code: "9900000001".into(),
        consents: Default::default(),
    };
    let r = remote.confirm_by_face(&face).await.unwrap();
    assert_eq!(r.results()[0].reference_number.as_deref(), Some("TESTREF-0001"));
    // Every other family goes through the folder endpoint as a JSON call.
    let upload = onshi_national::FolderCall::BulkUpload {
        upload: onshi_national::BulkUpload::MedicalAid(onshi_protocol::model::BulkPullRequest {
            message_header: Some(onshi_protocol::model::MessageHeader {
                medical_institution_code: Some("9900000001".into()),
                ..Default::default()
            }),
            message_body: Some(onshi_protocol::model::BulkPullRequestBody {
                qualification_confirm_search_info: Some(onshi_protocol::model::BulkPullSearchInfo {
                    medical_treatment_month: Some("202511".into()),
                    ..Default::default()
                }),
            }),
        }),
    };
    let onshi_national::FolderAnswer::BulkUpload(received) = remote.call(&upload).await.unwrap() else {
        panic!("not an upload answer")
    };
    assert!(
        received
            .message_body
            .unwrap()
            .reception_number
            .unwrap()
            .starts_with("SYNR")
    );
    let (status, _) = remote
        .post_with(
            onshi_national::http::api::TERMINAL_FOLDER_PATH,
            b"{\"op\":\"nope\"}".to_vec(),
            &[(TERMINAL_KEY_HEADER, m.national.terminal_key())],
        )
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert_eq!(m.last_findings(), ["API-JSON-001"]);
    set(
        &m,
        json!({"id":"down","scope":{"endpoint":"terminal"},"kind":{"type":"status","code":502}}),
    );
    assert!(matches!(
        remote.confirm_by_card(&request).await,
        Err(ClientError::Status { .. })
    ));
}

/// The terminal's own endpoints answer a whole qualification: without the terminal's key they
/// refuse everyone with 401 — no client certificate, no key, a wrong key, a valid client
/// certificate, a valid idToken — on the TLS listener and the plain one alike.
#[tokio::test]
async fn the_terminal_endpoints_refuse_everyone_without_the_terminal_key() {
    use onshi_national::http::api::{TERMINAL_CARD_PATH, TERMINAL_FACE_PATH, TERMINAL_FOLDER_PATH};
    let m = start().await;
    let plain = serve(m.national.clone(), "127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let plain_url = format!("http://127.0.0.1:{}", plain.addr.port());
    let token = m.login().await;
    let card =
        serde_json::to_vec(&json!({ "XmlMsg": onshi_national::http::json::request(&insured()).unwrap() })).unwrap();
    let face = serde_json::to_vec(&json!({"persona": "face-consenting", "institution_code": "9900000001"})).unwrap();
    let folder = b"{\"op\":\"nope\"}".to_vec();
    let key = m.national.terminal_key().to_owned();
    let mut wrong = key.clone().into_bytes();
    wrong[31] = if wrong[31] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let tls_certified = m.client(Some("client-9900000001"));
    let tls_bare = m.client(None);
    let plain_client = RemoteNational::new(&plain_url, None, Duration::from_secs(5)).unwrap();
    for (path, body) in [
        (TERMINAL_CARD_PATH, &card),
        (TERMINAL_FACE_PATH, &face),
        (TERMINAL_FOLDER_PATH, &folder),
    ] {
        for (who, client) in [
            ("TLS with a client certificate", &tls_certified),
            ("TLS without one", &tls_bare),
            ("plain HTTP", &plain_client),
        ] {
            for headers in [
                vec![],
                vec![("authorization", token.as_str())],
                vec![(TERMINAL_KEY_HEADER, wrong.as_str())],
                vec![(TERMINAL_KEY_HEADER, &key[..16])],
            ] {
                let (status, bytes) = client.post_with(path, body.clone(), &headers).await.unwrap();
                assert_eq!(status, 401, "{path} over {who} with {headers:?}");
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                assert!(v["msg"].as_str().is_some(), "{v}");
                assert_eq!(m.last_findings(), ["API-HTTP-001"]);
                let finding = m.exchanges().last().unwrap().findings[0].message.clone();
                assert!(finding.contains(TERMINAL_KEY_HEADER), "{finding}");
            }
        }
    }
    // With the key, the same call is answered on both listeners.
    for client in [&tls_bare, &plain_client] {
        let (status, _) = client
            .post_with(TERMINAL_CARD_PATH, card.clone(), &[(TERMINAL_KEY_HEADER, key.as_str())])
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    // Every mock has its own key.
    assert_ne!(start().await.national.terminal_key(), key);
}

/// The admin API of `m` on a free loopback port, with `token`.
async fn admin_with_token(m: &Mock, token: &str) -> onshi_national::http::Server {
    admin::serve_admin(m.national.clone(), "127.0.0.1:0".parse().unwrap(), token.into(), None)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_admin_api_needs_its_token() {
    let m = start().await;
    let server = admin_with_token(&m, "sekret").await;
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let c = RemoteNational::new(&base, None, Duration::from_secs(5)).unwrap();
    let fault = serde_json::to_vec(&json!({"id":"x","kind":{"type":"malformed_json"}})).unwrap();
    let (s, _) = c.post("/admin/faults", fault.clone()).await.unwrap();
    assert_eq!(s, 401);
    assert!(
        m.recorder
            .events()
            .iter()
            .any(|e| matches!(e, NationalEvent::AdminRefused { .. }))
    );
    let (s, _) = c
        .post_with("/admin/faults", fault, &[("authorization", "Bearer sekret")])
        .await
        .unwrap();
    assert_eq!(s, 201);
    assert_eq!(m.national.faults().len(), 1);
    let (s, b) = c
        .post_with(
            "/admin/faults",
            b"{\"id\":\"y\",\"kind\":{\"type\":\"status\",\"code\":999}}".to_vec(),
            &[("authorization", "Bearer sekret")],
        )
        .await
        .unwrap();
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&b).contains("999"));
    let change = serde_json::to_vec(
        &json!({"change":"register_reference_number","persona":"valid-kenpo-insured","reference_number":"R-9"}),
    )
    .unwrap();
    assert_eq!(
        c.post_with("/admin/persons", change, &[("authorization", "Bearer sekret")])
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        m.national
            .service
            .persona("valid-kenpo-insured")
            .unwrap()
            .reference_number
            .as_deref(),
        Some("R-9")
    );
    assert_eq!(
        c.post_with("/admin/reset", vec![], &[("authorization", "Bearer sekret")])
            .await
            .unwrap()
            .0,
        200
    );
    assert!(m.national.faults().is_empty());
    server.stop().await;
}

/// A strict validator of the search response, written from what independent clients require
/// of real answers (../shared/reference/protocol.md §10.9), not from this mock's code: the
/// problems it finds, empty when the answer is acceptable.
fn strict_problems(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let strings = |obj: &Value, required: &[&str], optional: &[&str], at: &str, out: &mut Vec<String>| {
        for k in required {
            match obj.get(k) {
                Some(Value::String(_)) => {}
                Some(other) => out.push(format!("{at}.{k} is not a string: {other}")),
                None => out.push(format!("{at}.{k} is missing")),
            }
        }
        for k in optional {
            if let Some(x) = obj.get(k)
                && !x.is_string()
            {
                out.push(format!("{at}.{k} is not a string: {x}"));
            }
        }
    };
    let Some(msg) = v.get("XmlMsg") else {
        return vec!["no XmlMsg".into()];
    };
    let header = &msg["MessageHeader"];
    strings(
        header,
        &[
            "ProcessExecutionTime",
            "QualificationConfirmationDate",
            "MedicalInstitutionCode",
            "ReferenceClassification",
            "SegmentOfResult",
            "CharacterCodeIdentifier",
        ],
        &["ArbitraryFileIdentifier", "ErrorCode", "ErrorMessage"],
        "MessageHeader",
        &mut out,
    );
    let body = &msg["MessageBody"];
    if !body.is_object() {
        out.push("MessageBody is missing".into());
        return out;
    }
    strings(
        body,
        &["ProcessingResultStatus"],
        &[
            "PrescriptionIssueSelect",
            "ProcessingResultCode",
            "ProcessingResultMessage",
            "QualificationValidity",
        ],
        "MessageBody",
        &mut out,
    );
    if let Some(info) = body.get("QualificationConfirmSearchInfo") {
        strings(
            info,
            &[
                "InsurerNumber",
                "InsuredIdentificationNumber",
                "Birthdate",
                "LimitApplicationCertificateRelatedConsFlg",
            ],
            &["InsuredCardSymbol", "InsuredBranchNumber", "ArbitraryIdentifier"],
            "QualificationConfirmSearchInfo",
            &mut out,
        );
    }
    match body.get("ResultList") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                strings(
                    &item["ResultOfQualificationConfirmation"],
                    &["InsuredCardClassification", "Name", "Sex1", "Birthdate", "InsurerName"],
                    &[
                        "InsurerNumber",
                        "InsuredCardSymbol",
                        "InsuredIdentificationNumber",
                        "InsuredBranchNumber",
                        "PersonalFamilyClassification",
                        "InsuredName",
                        "NameKana",
                        "Sex2",
                        "Address",
                        "PostNumber",
                        "InsuredCardValidDate",
                        "InsuredCardExpirationDate",
                        "InsuredPartialContributionRatio",
                        "ReasonOfLoss",
                    ],
                    &format!("ResultList[{i}]"),
                    &mut out,
                );
            }
        }
        Some(other) => out.push(format!("ResultList is not an array: {other}")),
    }
    out
}

#[tokio::test]
async fn every_answer_passes_a_strict_validator_of_real_answers_error_answers_included() {
    let m = start().await;
    let token = m.login().await;
    let registry = Registry::embedded(today(), 0);
    let mut answers = Vec::new();
    // every persona's current card, whatever its QualificationValidity
    for p in registry.personas() {
        let Some(period) = p.insurance.last() else { continue };
        let c = &period.card;
        let birthdate = p.birthdate.format("%Y%m%d").to_string();
        let q = query((
            c.insurer_number.interface(),
            c.symbol.as_deref(),
            &c.number,
            c.branch.as_deref(),
            &birthdate,
        ));
        answers.push((p.id.to_string(), m.search(&token, q).await));
    }
    // and SegmentOfResult 9: a required element missing, another institution's code
    let mut missing = insured();
    missing["XmlMsg"]["MessageBody"]["QualificationConfirmSearchInfo"]
        .as_object_mut()
        .unwrap()
        .remove("Birthdate");
    let mut other = insured();
    other["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"] = json!("99000000x1");
    for (name, q) in [("missing Birthdate", missing), ("bad institution code", other)] {
        let answer = m.search(&token, q).await;
        assert_eq!(
            answer.1["XmlMsg"]["MessageHeader"]["SegmentOfResult"], "9",
            "{name}: {}",
            answer.1
        );
        assert_eq!(
            answer.1["XmlMsg"]["MessageBody"]["ProcessingResultStatus"], "2",
            "{name}"
        );
        answers.push((name.to_owned(), answer));
    }
    assert!(answers.len() > 10);
    for (who, (status, v)) in &answers {
        assert_eq!(*status, 200, "{who}: {v}");
        let problems = strict_problems(v);
        assert!(problems.is_empty(), "{who}: {problems:?}\n{v}");
    }
}

#[tokio::test]
async fn the_header_only_error_shape_is_kept_as_a_convention_and_the_validator_rejects_it() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/synthetic-error-codes.toml"
    ))
    .unwrap()
    .replace(
        "error_answer_shape = \"status\"",
        "error_answer_shape = \"header_only\"",
    );
    let m = start_with(ErrorCatalogue::parse(&text, "header-only").unwrap()).await;
    let token = m.login().await;
    let mut q = insured();
    q["XmlMsg"]["MessageBody"]["QualificationConfirmSearchInfo"]
        .as_object_mut()
        .unwrap()
        .remove("Birthdate");
    let (_, v) = m.search(&token, q).await;
    assert_eq!(v["XmlMsg"]["MessageHeader"]["SegmentOfResult"], "9");
    assert!(
        v["XmlMsg"]["MessageBody"].get("ProcessingResultStatus").is_none(),
        "{v}"
    );
    assert_eq!(
        strict_problems(&v),
        [
            "MessageBody.ProcessingResultStatus is missing",
            "QualificationConfirmSearchInfo.Birthdate is missing"
        ]
    );
}

/// Settings and faults out of range are refused with the field named, not applied (a zero
/// read time-out would stop every login; a negative token lifetime issues expired tokens).
#[tokio::test]
async fn the_admin_api_refuses_values_out_of_range_naming_the_field() {
    let m = start().await;
    let server = admin_with_token(&m, "sekret").await;
    let put = |body: String| async move {
        let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let request = format!(
            "PUT /admin/settings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekret\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tcp.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    };
    for (body, field) in [
        (r#"{"token_ttl_minutes": -5}"#, "token_ttl_minutes = -5"),
        (r#"{"read_timeout_ms": 0}"#, "read_timeout_ms = 0"),
        (r#"{"max_body_bytes": 1}"#, "max_body_bytes = 1"),
    ] {
        let answer = put(body.into()).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{body}: {answer}");
        assert!(answer.contains(field), "{body}: {answer}");
    }
    assert_eq!(m.national.settings(), onshi_national::http::ServerSettings::default());
    let answer = put(r#"{"token_ttl_minutes": 5}"#.into()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(m.national.settings().token_ttl_minutes, 5);

    let c = RemoteNational::new(&format!("http://{}", server.addr), None, Duration::from_secs(5)).unwrap();
    let huge = json!({"id":"slow","kind":{"type":"latency","delay":{"fixed":{"ms": 1u64 << 63}}}});
    let (s, body) = c
        .post_with(
            "/admin/faults",
            serde_json::to_vec(&huge).unwrap(),
            &[("authorization", "Bearer sekret")],
        )
        .await
        .unwrap();
    assert_eq!(s, 400);
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("ms 9223372036854775808 is above the limit of 600000 ms"),
        "{text}"
    );
    assert!(m.national.faults().is_empty());
    server.stop().await;
}
