//! The endpoints: login (client certificate + credentials → tokens), search (bare idToken +
//! JSON `XmlMsg` → JSON result), and the two endpoints the terminal uses. Each request is
//! checked strictly; every problem is a finding with a check ID in the journal and a clear
//! answer. Faults are applied last, after the request has been understood.

use onshi_protocol::CheckId;
use onshi_protocol::ids;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use onshi_protocol::Severity;
use onshi_protocol::synthetic::ErrorKey;
use serde_json::{Value, json};

use super::body::{Body, BoxError, Deliberate};
use super::tls::common_name;
use super::tokens::TokenProblem;
use super::{ConnInfo, CredentialsPolicy, National, Policy, credentials_for, json as api_json};
use crate::events::{Blob, Exchange, NationalEvent, RequestFinding};
use crate::faults::{Endpoint, FaultKind};
use crate::{EligibilityService, FaceConfirmation};

/// The login endpoint.
pub const AUTH_PATH: &str = "/oqs-api-pro/MSA12020/ILI12020SV01/auth";
/// The qualification search endpoint.
pub const SEARCH_PATH: &str = "/oqs-api-pro/MSA01030/ILI01030SV01/search";
/// Harness-internal: the terminal's 資格確認 by card data.
pub const TERMINAL_CARD_PATH: &str = "/onshi-harness/terminal/v1/card";
/// Harness-internal: the terminal's face-reader confirmation.
pub const TERMINAL_FACE_PATH: &str = "/onshi-harness/terminal/v1/face";
/// Harness-internal: every other family of the folder interface (a JSON `FolderCall`).
pub const TERMINAL_FOLDER_PATH: &str = "/onshi-harness/terminal/v1/folder";

const JSON: &str = "application/json;charset=UTF-8";

/// How the answer leaves the server.
enum Shape {
    Whole,
    Truncated(usize),
    Slow(usize, Duration),
    /// Close without answering.
    Cut,
    /// Reset the connection.
    Reset,
}

struct Answer {
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
    retry_after: Option<u32>,
    shape: Shape,
}

impl Answer {
    fn json(status: StatusCode, body: Vec<u8>) -> Self {
        Answer {
            status,
            content_type: JSON,
            body,
            retry_after: None,
            shape: Shape::Whole,
        }
    }
}

/// What is learned about a request while handling it.
#[derive(Default)]
struct Notes {
    findings: Vec<RequestFinding>,
    faults: Vec<String>,
    persona: Option<String>,
    /// The body stopped at its Content-Length in the middle of the JSON: the rest of what the
    /// client sent is still on the connection.
    body_cut: bool,
}

impl Notes {
    fn find(&mut self, check: CheckId, message: impl Into<String>) {
        self.findings.push(RequestFinding {
            check: check.into(),
            message: message.into(),
        });
    }
}

fn api_error(national: &National, status: StatusCode, key: ErrorKey, detail: &str) -> Answer {
    let a = national.service.catalogue().answer(key, detail);
    Answer::json(
        status,
        serde_json::to_vec(&json!({"status": a.code, "msg": a.message})).expect("json"),
    )
}

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"UTF-8\"><title>メンテナンス中</title></head>\n<body><h1>【合成】ただいまメンテナンス中です</h1><p>onshi-harness: a synthetic maintenance page (fault maintenance_page).</p></body></html>\n";

pub(crate) async fn handle(
    national: Arc<National>,
    conn: Arc<ConnInfo>,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, BoxError> {
    let started = Instant::now();
    let (parts, incoming) = req.into_parts();
    let mut notes = Notes::default();
    let settings = national.settings();
    let chunked = parts
        .headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("chunked")));
    let body = read_body(incoming, &settings, chunked, &mut notes).await;
    let body_bytes = body.as_ref().map(|b| b.to_vec()).unwrap_or_default();
    let (answer, delay) = match body {
        Err(a) => (a, Duration::ZERO),
        Ok(bytes) => {
            route(
                &national,
                &conn,
                &parts.method,
                parts.uri.path(),
                &parts.headers,
                &bytes,
                &mut notes,
            )
            .await
        }
    };
    let body_cut = notes.body_cut;
    let exchange = Exchange {
        connection: conn.id,
        remote: conn.remote.clone(),
        tls: conn.tls,
        client_cert: conn.client_cert.clone(),
        method: parts.method.to_string(),
        path: parts.uri.to_string(),
        version: format!("{:?}", parts.version),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: Blob(body_bytes),
        status: match answer.shape {
            Shape::Cut | Shape::Reset => 0,
            _ => answer.status.as_u16(),
        },
        response_body: Blob(answer.body.clone()),
        cut_after_bytes: match answer.shape {
            Shape::Truncated(keep) => Some(keep),
            _ => None,
        },
        faults: notes.faults,
        findings: notes.findings,
        retry_after_s: answer.retry_after,
        persona: notes.persona,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        delay_ms: delay.as_millis() as u64,
    };
    // Journaled before a latency fault holds the answer back: a client that gives up (and
    // closes the connection) still leaves its request in the journal, in its own step.
    national.record(NationalEvent::Exchange(Box::new(exchange)));
    if !delay.is_zero() && !national.hold(delay).await {
        national.record(NationalEvent::ConnectionFailed {
            connection: conn.id,
            remote: conn.remote.clone(),
            error: "the answer held back by a latency fault was dropped: the mock was reset".into(),
        });
        return Err("dropped by a reset".into());
    }
    let body = match answer.shape {
        Shape::Cut => {
            return Err(Box::new(Deliberate(
                "closed without an answer on purpose (fault close_without_answer)",
            )));
        }
        Shape::Reset => {
            conn.reset.store(true, Ordering::SeqCst);
            return Err(Box::new(Deliberate(
                "connection reset on purpose (fault connection_reset)",
            )));
        }
        Shape::Whole => Body::full(answer.body),
        Shape::Truncated(keep) => Body::truncated(answer.body, keep),
        Shape::Slow(chunk, interval) => Body::slow(answer.body, chunk, interval),
    };
    let mut response = Response::builder()
        .status(answer.status)
        .header(header::CONTENT_TYPE, answer.content_type);
    if body_cut {
        // the rest of the body is still on the connection: it is read and journaled with this
        // exchange instead of being parsed as the next request
        conn.body_cut.store(true, Ordering::SeqCst);
        response = response.header(header::CONNECTION, "close");
    }
    if let Some(s) = answer.retry_after {
        response = response.header(header::RETRY_AFTER, s.to_string());
    }
    Ok(response.body(body).expect("valid response"))
}

/// Reads the body within the size limit and the read timeout.
async fn read_body(
    incoming: Incoming,
    settings: &super::ServerSettings,
    chunked: bool,
    notes: &mut Notes,
) -> Result<Bytes, Answer> {
    let limit = settings.max_body_bytes;
    let timeout = Duration::from_millis(settings.read_timeout_ms);
    let bad =
        |status, message: String| Answer::json(status, serde_json::to_vec(&json!({"msg": message})).expect("json"));
    match tokio::time::timeout(timeout, Limited::new(incoming, limit).collect()).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            let m = format!("the request body is larger than {limit} bytes");
            notes.find(ids::API_HTTP_002, m.clone());
            Err(bad(StatusCode::PAYLOAD_TOO_LARGE, m))
        }
        Ok(Err(e)) if chunked => {
            let cause = super::client::with_causes(e.as_ref());
            let m = format!(
                "the chunked request body is malformed (each chunk: a hexadecimal size, CRLF, the bytes, CRLF; then a 0-size chunk): {cause}"
            );
            notes.find(ids::API_HTTP_003, m.clone());
            Err(bad(StatusCode::BAD_REQUEST, m))
        }
        Ok(Err(e)) => {
            let m = format!("the request body ended before its Content-Length: {e}");
            notes.find(ids::API_LEN_001, m.clone());
            Err(bad(StatusCode::BAD_REQUEST, m))
        }
        Err(_) if chunked => {
            let m = format!(
                "the chunked request body did not end within {} ms (no final 0-size chunk?)",
                timeout.as_millis()
            );
            notes.find(ids::API_HTTP_003, m.clone());
            Err(bad(StatusCode::REQUEST_TIMEOUT, m))
        }
        Err(_) => {
            let m = format!(
                "the request body did not arrive within {} ms (is it shorter than its Content-Length?)",
                timeout.as_millis()
            );
            notes.find(ids::API_LEN_001, m.clone());
            Err(bad(StatusCode::REQUEST_TIMEOUT, m))
        }
    }
}

async fn route(
    national: &Arc<National>,
    conn: &ConnInfo,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    notes: &mut Notes,
) -> (Answer, Duration) {
    let endpoint = match path {
        AUTH_PATH => Endpoint::Auth,
        SEARCH_PATH => Endpoint::Search,
        TERMINAL_CARD_PATH | TERMINAL_FACE_PATH | TERMINAL_FOLDER_PATH => Endpoint::Terminal,
        _ => {
            notes.find(ids::API_HTTP_001, format!("no endpoint {method} {path}"));
            return (
                api_error(national, StatusCode::NOT_FOUND, ErrorKey::ApiNotFound, path),
                Duration::ZERO,
            );
        }
    };
    if method != Method::POST {
        notes.find(ids::API_HTTP_001, format!("{path} takes POST, not {method}"));
        let refused = api_error(
            national,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorKey::ApiNotFound,
            &format!("{method} {path}"),
        );
        return (refused, Duration::ZERO);
    }
    if endpoint == Endpoint::Terminal {
        let given = headers.get(super::TERMINAL_KEY_HEADER).map(|v| v.as_bytes());
        if !given.is_some_and(|g| super::same_secret(g, national.terminal_key())) {
            let m = format!(
                "{path} is the harness's own channel from the terminal to the national mock and needs the terminal's key (header {}); a client confirms qualifications by logging in ({AUTH_PATH}) and searching ({SEARCH_PATH})",
                super::TERMINAL_KEY_HEADER
            );
            notes.find(ids::API_HTTP_001, m);
            let key = if given.is_none() {
                ErrorKey::ApiTokenMissing
            } else {
                ErrorKey::ApiTokenInvalid
            };
            return (
                api_error(national, StatusCode::UNAUTHORIZED, key, "terminal key"),
                Duration::ZERO,
            );
        }
    }
    // Understand the request first: faults scoped to a persona need to know who it is about.
    let prepared = match endpoint {
        Endpoint::Auth => auth(national, conn, body, notes),
        Endpoint::Search => search(national, headers, body, notes),
        Endpoint::Terminal if path == TERMINAL_FACE_PATH => face(national, body, notes),
        Endpoint::Terminal if path == TERMINAL_FOLDER_PATH => folder(national, body, notes),
        Endpoint::Terminal => card(national, body, notes, None),
    };
    let decision =
        national
            .faults
            .lock()
            .expect("faults")
            .decide(endpoint, notes.persona.as_deref(), national.clock.now());
    notes.faults = decision.applied;
    let delay = decision.delay;
    let mut answer = match prepared {
        Prepared::Done(a) => return (a, delay), // refused before the service was asked: faults do not hide why
        Prepared::Answer(a) => a,
    };
    let Some((_, kind)) = decision.action else {
        return (answer, delay);
    };
    match kind {
        FaultKind::Latency { .. } => {}
        FaultKind::Status { code, retry_after_s } => {
            answer = api_error(
                national,
                StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                ErrorKey::ApiServiceUnavailable,
                "",
            );
            answer.retry_after = retry_after_s;
        }
        FaultKind::MaintenancePage => {
            answer = Answer {
                status: StatusCode::SERVICE_UNAVAILABLE,
                content_type: "text/html;charset=UTF-8",
                body: MAINTENANCE_PAGE.as_bytes().to_vec(),
                retry_after: None,
                shape: Shape::Whole,
            };
        }
        FaultKind::ConnectionReset => answer.shape = Shape::Reset,
        FaultKind::CloseWithoutAnswer => answer.shape = Shape::Cut,
        FaultKind::TruncatedBody { keep_bytes } => {
            answer.shape = Shape::Truncated(keep_bytes.unwrap_or(answer.body.len() / 2).min(answer.body.len()));
        }
        FaultKind::MalformedJson => {
            let half = answer.body.len() / 2;
            answer.body.truncate(half);
            answer.body.extend_from_slice(b"<<not json>>");
        }
        FaultKind::SlowBody {
            chunk_bytes,
            interval_ms,
        } => {
            answer.shape = Shape::Slow(chunk_bytes, Duration::from_millis(interval_ms));
        }
        FaultKind::TokenExpiry if endpoint == Endpoint::Search => {
            notes.find(ids::API_AUTH_003, "the token expired (fault token_expiry)");
            answer = api_error(
                national,
                StatusCode::UNAUTHORIZED,
                ErrorKey::ApiTokenInvalid,
                "token expired",
            );
        }
        FaultKind::TokenExpiry => {}
    }
    (answer, delay)
}

/// A refusal as the final answer: `key`'s synthetic error with `detail`.
fn refused(national: &National, status: StatusCode, key: ErrorKey, detail: &str) -> Prepared {
    Prepared::Done(api_error(national, status, key, detail))
}

enum Prepared {
    /// The request was refused; this is the final answer.
    Done(Answer),
    /// The service's answer, which faults may still change.
    Answer(Answer),
}

fn parse_json(national: &National, body: &[u8], notes: &mut Notes) -> Result<Value, Answer> {
    serde_json::from_slice::<Value>(body).map_err(|e| {
        if e.is_eof() {
            // the client's own words for it: the answer, not only the journal, names the cause
            let why = if body.is_ascii() {
                format!(
                    "the body ends after its Content-Length ({} bytes) in the middle of the JSON: Content-Length is shorter than the body sent",
                    body.len()
                )
            } else {
                format!(
                    "the body ends after its Content-Length ({} bytes) in the middle of the JSON, and it holds non-ASCII text: \
                     Content-Length counts bytes (UTF-8), not characters",
                    body.len()
                )
            };
            notes.find(ids::API_LEN_001, why.clone());
            notes.body_cut = true;
            return api_error(national, StatusCode::BAD_REQUEST, ErrorKey::ApiBadRequest, &why);
        }
        notes.find(ids::API_JSON_001, format!("the body is not valid JSON: {e}"));
        api_error(national, StatusCode::BAD_REQUEST, ErrorKey::ApiBadRequest, &e.to_string())
    })
}

fn auth(national: &National, conn: &ConnInfo, body: &[u8], notes: &mut Notes) -> Prepared {
    let settings = national.settings();
    let institution = match &conn.client_cert {
        None => {
            notes.find(ids::API_CERT_001, "login without a client certificate");
            return refused(national, StatusCode::UNAUTHORIZED, ErrorKey::ApiLoginNoCertificate, "");
        }
        Some(c) if c.verdict != "ok" => {
            notes.find(
                ids::API_CERT_002,
                format!("the client certificate {} is {}", c.subject, c.verdict),
            );
            return refused(
                national,
                StatusCode::UNAUTHORIZED,
                ErrorKey::ApiLoginBadCertificate,
                &c.verdict,
            );
        }
        Some(c) => common_name(&c.subject).unwrap_or_default().to_owned(),
    };
    let creds = match parse_json(national, body, notes) {
        Ok(v) => v,
        Err(a) => return Prepared::Done(a),
    };
    let acceptable = match settings.credentials {
        CredentialsPolicy::AnyJson => creds.is_object(),
        CredentialsPolicy::Strict => creds == credentials_for(&institution),
    };
    if !acceptable {
        notes.find(
            ids::API_CRED_001,
            format!("the credentials are not those of institution {institution} (see docs/api.md)"),
        );
        return refused(
            national,
            StatusCode::UNAUTHORIZED,
            ErrorKey::ApiLoginBadCredentials,
            &institution,
        );
    }
    let tokens = national.tokens.lock().expect("tokens").issue(
        &institution,
        national.clock.now(),
        chrono::Duration::minutes(settings.token_ttl_minutes),
    );
    let body = json!({"status": "0", "msg": "【合成】正常に終了しました。", "result": tokens});
    Prepared::Answer(Answer::json(StatusCode::OK, serde_json::to_vec(&body).expect("json")))
}

fn search(national: &National, headers: &HeaderMap, body: &[u8], notes: &mut Notes) -> Prepared {
    let settings = national.settings();
    let Some(raw) = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        notes.find(ids::API_AUTH_001, "search without an Authorization header");
        return refused(national, StatusCode::UNAUTHORIZED, ErrorKey::ApiTokenMissing, "");
    };
    let token = match raw.strip_prefix("Bearer ") {
        Some(t) => {
            notes.find(
                ids::API_AUTH_002,
                "Authorization is \"Bearer <token>\"; the API takes the bare idToken",
            );
            if settings.bearer_prefix == Policy::Reject {
                return refused(
                    national,
                    StatusCode::UNAUTHORIZED,
                    ErrorKey::ApiTokenInvalid,
                    "Bearer 形式は使用できません",
                );
            }
            t.trim()
        }
        None => raw.trim(),
    };
    if token.is_empty() {
        notes.find(ids::API_AUTH_001, "search with an empty Authorization header");
        return refused(national, StatusCode::UNAUTHORIZED, ErrorKey::ApiTokenMissing, "");
    }
    if let Err(problem) = national
        .tokens
        .lock()
        .expect("tokens")
        .check(token, national.clock.now())
    {
        let check = match problem {
            TokenProblem::Unknown => ids::API_AUTH_004,
            TokenProblem::Expired | TokenProblem::Revoked => ids::API_AUTH_003,
        };
        notes.find(check, format!("the token is refused: {}", problem.describe()));
        return refused(
            national,
            StatusCode::UNAUTHORIZED,
            ErrorKey::ApiTokenInvalid,
            problem.describe(),
        );
    }
    card(national, body, notes, Some(settings.non_string_values))
}

/// A 資格確認 by card data from a JSON `XmlMsg` (search, and the terminal's endpoint).
fn card(national: &National, body: &[u8], notes: &mut Notes, non_strings: Option<Policy>) -> Prepared {
    let mut value = match parse_json(national, body, notes) {
        Ok(v) => v,
        Err(a) => return Prepared::Done(a),
    };
    let wrong = api_json::wrong_types(&value);
    for w in &wrong {
        notes.find(
            ids::API_TYPE_001,
            format!("{} is {}; every value is a JSON string", w.path, w.found),
        );
    }
    if !wrong.is_empty() {
        if non_strings == Some(Policy::Reject) {
            let detail = format!("{} は文字列で指定してください", wrong[0].path);
            return refused(national, StatusCode::BAD_REQUEST, ErrorKey::ApiBadRequest, &detail);
        }
        api_json::coerce_to_strings(&mut value);
    }
    for f in api_json::lint_request(&value) {
        if f.severity == Severity::Error {
            notes.find(f.check, f.message);
        }
    }
    let request = match api_json::request(&value) {
        Ok(r) => r,
        Err(e) => {
            notes.find(ids::API_JSON_001, format!("the body is not an XmlMsg request: {e}"));
            return refused(national, StatusCode::BAD_REQUEST, ErrorKey::ApiBadRequest, &e);
        }
    };
    let (result, persona) = national.service.confirm_card(&request, national.clock.now());
    notes.persona = persona;
    Prepared::Answer(Answer::json(StatusCode::OK, api_json::result_bytes(&result)))
}

fn folder(national: &National, body: &[u8], notes: &mut Notes) -> Prepared {
    match serde_json::from_slice::<crate::FolderCall>(body) {
        Ok(call) => {
            let answer = call.answer(national.service.as_ref(), national.clock.now());
            Prepared::Answer(Answer::json(StatusCode::OK, serde_json::to_vec(&answer).expect("json")))
        }
        Err(e) => {
            notes.find(ids::API_JSON_001, format!("not a folder call: {e}"));
            refused(
                national,
                StatusCode::BAD_REQUEST,
                ErrorKey::ApiBadRequest,
                &e.to_string(),
            )
        }
    }
}

fn face(national: &National, body: &[u8], notes: &mut Notes) -> Prepared {
    let face: FaceConfirmation = match serde_json::from_slice(body) {
        Ok(f) => f,
        Err(e) => {
            notes.find(ids::API_JSON_001, format!("not a face confirmation: {e}"));
            return refused(
                national,
                StatusCode::BAD_REQUEST,
                ErrorKey::ApiBadRequest,
                &e.to_string(),
            );
        }
    };
    notes.persona = Some(face.persona.clone());
    match national.service.confirm_by_face(&face, national.clock.now()) {
        Ok(r) => Prepared::Answer(Answer::json(StatusCode::OK, api_json::result_bytes(&r))),
        Err(e) => refused(national, StatusCode::NOT_FOUND, ErrorKey::ApiNotFound, &e.to_string()),
    }
}
