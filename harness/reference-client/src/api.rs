//! The HTTP API client: login with the institution's client certificate, search with the bare
//! idToken — one new connection per request, or (`--keep-alive`) the searches of a session on
//! one kept connection, opened again when the server has closed it.
//!
//! A careful client: it logs in once and reuses the token, logs in again when the token is
//! refused, retries network errors and 5xx answers a bounded number of times with backoff
//! (never sooner than `Retry-After`), and gives up at its deadline. Requests are written by
//! hand — rather than through an HTTP library — because some defects must get the wire format
//! wrong (a Content-Length counted in characters, a `Bearer` prefix).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use onshi_protocol::driver::{ApiEnvironment, ConfirmQualificationParams, ConfirmQualificationResult, Outcome};
use onshi_protocol::model::QualificationResult;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use serde_json::Value;

use crate::defects::Defect;
use crate::folder::Options;
use crate::interpret::{self, Conclusion, Defects as _};

const AUTH_PATH: &str = "/oqs-api-pro/MSA12020/ILI12020SV01/auth";
const SEARCH_PATH: &str = "/oqs-api-pro/MSA01030/ILI01030SV01/search";
/// Searches per confirmation before giving up on a busy or broken service.
const MAX_ATTEMPTS: u32 = 4;
/// Logins per confirmation (a busy login service is tried again, within API-STORM-001's 3).
const MAX_LOGINS: u32 = 3;

/// An HTTP answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `msg` of a JSON error answer, or "HTTP <status>".
    fn error_text(&self, defects: &[Defect]) -> String {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(v) => match v.get("msg").and_then(Value::as_str) {
                Some(m) => format!("{m} (HTTP {})", self.status),
                None => format!("HTTP {}", self.status),
            },
            Err(e) if defects.has(Defect::RawParseError) => format!("JSON parse error: {e}"),
            // The service's maintenance page (HTML): say so, so staff fall back to the card.
            Err(_) if String::from_utf8_lossy(&self.body).contains("メンテナンス") => format!(
                "オンライン資格確認等システムはメンテナンス中です。保険証等で確認してください（HTTP {}）",
                self.status
            ),
            Err(_) => format!("サービスを利用できません（HTTP {}）", self.status),
        }
    }
}

/// Why an exchange produced no answer.
#[derive(Debug)]
enum NetError {
    Timeout,
    Failed(String),
}

fn tls_config(ca_pem: &str, identity: Option<(&str, &str)>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(c.map_err(|e| format!("the CA certificate: {e}"))?)
            .map_err(|e| format!("the CA certificate: {e}"))?;
    }
    let builder = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("the client certificate: {e}"))?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| format!("the client key: {e}"))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A client of the national system's HTTP API.
pub struct ApiClient {
    /// The kept search connection (keep-alive mode).
    kept: Option<Tls>,
    host: String,
    port: u16,
    login_tls: Arc<ClientConfig>,
    search_tls: Arc<ClientConfig>,
    credentials: Value,
    institution_code: String,
    options: Options,
    token: Option<String>,
}

impl ApiClient {
    /// A client of the API described by `env`, for the clinic `institution_code`.
    pub fn new(env: &ApiEnvironment, institution_code: &str, options: Options) -> Result<Self, String> {
        let rest = env
            .base_url
            .strip_prefix("https://")
            .ok_or_else(|| format!("base_url {:?} must start with https://", env.base_url))?;
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .map(|(h, p)| (h.to_owned(), p.parse().unwrap_or(443)))
            .unwrap_or((rest.to_owned(), 443));
        let identity =
            (!env.client_cert_pem.is_empty()).then_some((env.client_cert_pem.as_str(), env.client_key_pem.as_str()));
        Ok(ApiClient {
            kept: None,
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            login_tls: tls_config(&env.ca_cert_pem, identity)?,
            // The search endpoint gets no client certificate (as the real client does).
            search_tls: tls_config(&env.ca_cert_pem, None)?,
            credentials: env.credentials.clone(),
            institution_code: institution_code.to_owned(),
            options,
            token: None,
        })
    }

    fn has(&self, d: Defect) -> bool {
        self.options.defects.has(d)
    }

    /// Forgets the token and the kept connection (a new case).
    pub fn reset(&mut self) {
        self.token = None;
        self.kept = None;
    }

    /// One request on a new connection.
    fn exchange(
        &self,
        tls: &Arc<ClientConfig>,
        path: &str,
        body: &[u8],
        authorization: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<Reply, NetError> {
        let mut stream = self.connect(tls, deadline)?;
        self.send(&mut stream, path, body, authorization, false, deadline)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                // A peer that closes without close_notify: judge what arrived.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(io_error(e)),
            }
        }
        parse_reply(&buf)
    }

    /// A search on the kept connection (keep-alive mode). A connection the server closed
    /// meanwhile is opened again once: a search changes nothing, so sending it again is safe.
    fn search_kept(&mut self, body: &[u8], authorization: &str, deadline: Option<Instant>) -> Result<Reply, NetError> {
        let reused = self.kept.is_some();
        let mut stream = match self.kept.take() {
            Some(s) => s,
            None => self.connect(&self.search_tls.clone(), deadline)?,
        };
        let first = self.round_trip(&mut stream, body, authorization, deadline);
        match first {
            Ok((reply, reusable)) => {
                if reusable {
                    self.kept = Some(stream);
                }
                Ok(reply)
            }
            Err(e) if self.has(Defect::KeepaliveNoReconnect) => {
                // the dead connection is kept, and every later search on it fails too
                self.kept = Some(stream);
                Err(e)
            }
            Err(NetError::Timeout) => Err(NetError::Timeout),
            Err(_) if reused => {
                let mut fresh = self.connect(&self.search_tls.clone(), deadline)?;
                let (reply, reusable) = self.round_trip(&mut fresh, body, authorization, deadline)?;
                if reusable {
                    self.kept = Some(fresh);
                }
                Ok(reply)
            }
            Err(e) => Err(e),
        }
    }

    /// One request and its answer on a kept connection; whether the connection may be used
    /// again (the answer was complete and the server did not say `Connection: close`).
    fn round_trip(
        &self,
        stream: &mut Tls,
        body: &[u8],
        authorization: &str,
        deadline: Option<Instant>,
    ) -> Result<(Reply, bool), NetError> {
        stream
            .sock
            .set_read_timeout(remaining(deadline)?)
            .map_err(|e| NetError::Failed(e.to_string()))?;
        self.send(stream, SEARCH_PATH, body, Some(authorization), true, deadline)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            // the answer ends at its Content-Length, not at the end of the connection
            if let Some((head_len, Some(length))) = head_and_length(&buf)
                && buf.len() >= head_len + length
            {
                buf.truncate(head_len + length);
                let reply = parse_reply(&buf)?;
                let close = reply
                    .header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                return Ok((reply, !close));
            }
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(io_error(e)),
            }
        }
        // closed before the answer was complete (or it had no Content-Length)
        parse_reply(&buf).map(|r| (r, false))
    }

    /// A new TLS connection within the deadline.
    fn connect(&self, tls: &Arc<ClientConfig>, deadline: Option<Instant>) -> Result<Tls, NetError> {
        let failed = |e: &dyn std::fmt::Display| NetError::Failed(e.to_string());
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| failed(&e))?
            .next()
            .ok_or_else(|| NetError::Failed(format!("{} does not resolve", self.host)))?;
        let tcp = match remaining(deadline)? {
            Some(r) => TcpStream::connect_timeout(&addr, r),
            None => TcpStream::connect(addr),
        }
        .map_err(|e| failed(&e))?;
        // small request, answer awaited at once: Nagle would hold the last segment back for
        // the server's delayed ACK (~40 ms per search)
        tcp.set_nodelay(true).map_err(|e| failed(&e))?;
        tcp.set_read_timeout(remaining(deadline)?).map_err(|e| failed(&e))?;
        tcp.set_write_timeout(remaining(deadline)?).map_err(|e| failed(&e))?;
        let name = ServerName::try_from(self.host.clone()).map_err(|e| failed(&e))?;
        let conn = ClientConnection::new(tls.clone(), name).map_err(|e| failed(&e))?;
        Ok(StreamOwned::new(conn, tcp))
    }

    /// Writes one request: head and body in one write, so they leave in one TLS record.
    fn send(
        &self,
        stream: &mut Tls,
        path: &str,
        body: &[u8],
        authorization: Option<&str>,
        keep_alive: bool,
        deadline: Option<Instant>,
    ) -> Result<(), NetError> {
        stream
            .sock
            .set_write_timeout(remaining(deadline)?)
            .map_err(|e| NetError::Failed(e.to_string()))?;
        let length = if self.has(Defect::ContentLengthChars) {
            String::from_utf8_lossy(body).chars().count()
        } else {
            body.len()
        };
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json;charset=UTF-8\r\nAccept: application/json\r\nContent-Length: {length}\r\nConnection: {}\r\n",
            self.host,
            if keep_alive { "keep-alive" } else { "close" }
        );
        if let Some(a) = authorization {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        stream.write_all(&request).map_err(io_error)?;
        stream.flush().map_err(io_error)
    }

    fn login(&self, deadline: Option<Instant>) -> Result<String, Result<Reply, NetError>> {
        let body = serde_json::to_vec(&self.credentials).expect("json");
        let reply = self
            .exchange(&self.login_tls, AUTH_PATH, &body, None, deadline)
            .map_err(Err)?;
        if self.has(Defect::CrashOnBadLogin) && serde_json::from_slice::<Value>(&reply.body).is_err() {
            // an unhandled exception in JSON.parse of the login answer: the process dies
            eprintln!("Uncaught SyntaxError: Unexpected token in JSON at position 0 (login answer)");
            std::process::exit(1);
        }
        let token = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v.pointer("/result/idToken").and_then(Value::as_str).map(str::to_owned));
        match (reply.status, token) {
            (200, Some(t)) => Ok(t),
            _ => Err(Ok(reply)),
        }
    }

    fn search_body(&self, p: &ConfirmQualificationParams, date: &str) -> Vec<u8> {
        let request = crate::request::qualification_request(
            &p.card,
            date,
            p.consent_limit_certificate,
            &self.institution_code,
            None,
            &self.options.defects,
        );
        let mut v = serde_json::json!({ "XmlMsg": request });
        if self.has(Defect::InstitutionCodeBoolean) {
            v["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"] = Value::Bool(true);
        }
        serde_json::to_vec(&v).expect("json")
    }

    /// `confirm_qualification` over the HTTP API.
    pub fn confirm(&mut self, p: &ConfirmQualificationParams) -> ConfirmQualificationResult {
        self.confirm_inner(p).into()
    }

    fn confirm_inner(&mut self, p: &ConfirmQualificationParams) -> Conclusion {
        let timeout = p.timeout_ms.unwrap_or(self.options.timeout_ms);
        let deadline = (!self.has(Defect::ApiNoTimeout)).then(|| Instant::now() + Duration::from_millis(timeout));
        let timed_out = || {
            Conclusion::error(format!(
                "タイムアウト: {timeout} ms 以内に応答がありませんでした (no answer within {timeout} ms)"
            ))
        };
        let date = p.date.clone().unwrap_or_else(|| {
            (chrono::Utc::now() + chrono::Duration::hours(9))
                .format("%Y%m%d")
                .to_string()
        });
        let body = self.search_body(p, &date);
        let storm = self.has(Defect::RetryStorm);
        let (mut attempts, mut logins, mut relogged) = (0u32, 0u32, false);
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return timed_out();
            }
            if self.token.is_none() || self.has(Defect::LoginEverySearch) {
                logins += 1;
                match self.login(deadline) {
                    Ok(t) => self.token = Some(t),
                    // the login service is busy or under maintenance: wait as asked, try again
                    Err(Ok(busy)) if busy.status >= 500 && logins < MAX_LOGINS && !self.has(Defect::NoLoginRetry) => {
                        let after = busy
                            .header("retry-after")
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .map(Duration::from_secs)
                            .unwrap_or_default();
                        let wait = Duration::from_millis(200 * (1 << logins.min(4))).max(after);
                        if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                            return Conclusion::error(format!(
                                "ログインできません: {}",
                                busy.error_text(&self.options.defects)
                            ));
                        }
                        sleep(wait);
                        continue;
                    }
                    Err(Ok(refused)) if self.has(Defect::LoginStorm) && logins < 100 => {
                        let _ = refused;
                        continue;
                    }
                    Err(Ok(_)) if self.has(Defect::IgnoreLoginFailure) => self.token = Some(String::new()),
                    Err(Ok(refused)) => {
                        return Conclusion::error(format!(
                            "ログインできません: {}",
                            refused.error_text(&self.options.defects)
                        ));
                    }
                    Err(Err(NetError::Timeout)) => return timed_out(),
                    Err(Err(NetError::Failed(e))) if logins < 3 && !self.has(Defect::NoRetry) => {
                        tracing::debug!("login failed, trying again: {e}");
                        sleep(Duration::from_millis(200));
                        continue;
                    }
                    Err(Err(NetError::Failed(e))) => return Conclusion::error(format!("ログインできません: {e}")),
                }
            }
            let token = self.token.clone().unwrap_or_default();
            let auth = if self.has(Defect::BearerPrefix) {
                format!("Bearer {token}")
            } else {
                token
            };
            attempts += 1;
            let retry_wait = |reply: Option<&Reply>| -> Duration {
                let backoff = Duration::from_millis(200 * (1 << attempts.min(4)));
                let after = reply
                    .and_then(|r| r.header("retry-after"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or_default();
                backoff.max(after)
            };
            let reply = if self.options.keep_alive || self.has(Defect::KeepaliveNoReconnect) {
                self.search_kept(&body, &auth, deadline)
            } else {
                self.exchange(&self.search_tls, SEARCH_PATH, &body, Some(&auth), deadline)
            };
            match reply {
                Ok(reply) if reply.status == 200 && self.has(Defect::TrustHttp200) => {
                    return Conclusion {
                        outcome: Outcome::Valid,
                        message: "有効".into(),
                        record: None,
                    };
                }
                Ok(reply) if reply.status == 200 => return self.conclude(&reply.body),
                Ok(reply) if reply.status == 401 && !relogged && !self.has(Defect::NeverRelogin) => {
                    // The token expired or was revoked: log in once more.
                    self.token = None;
                    relogged = true;
                }
                Ok(reply) if reply.status >= 500 && (storm || attempts < MAX_ATTEMPTS) => {
                    let wait = if storm {
                        Duration::ZERO
                    } else {
                        retry_wait(Some(&reply))
                    };
                    if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                        return Conclusion::error(reply.error_text(&self.options.defects));
                    }
                    sleep(wait);
                }
                Ok(reply) => return Conclusion::error(reply.error_text(&self.options.defects)),
                Err(NetError::Timeout) => return timed_out(),
                Err(NetError::Failed(e)) if !self.has(Defect::NoRetry) && (storm || attempts < MAX_ATTEMPTS) => {
                    tracing::debug!("search failed, trying again: {e}");
                    sleep(if storm { Duration::ZERO } else { retry_wait(None) });
                }
                Err(NetError::Failed(e)) => return Conclusion::error(format!("資格確認に失敗しました: {e}")),
            }
        }
    }

    fn conclude(&self, body: &[u8]) -> Conclusion {
        let mut v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return Conclusion::error(format!("応答を読み取れません（JSON ではありません）: {e}")),
        };
        if self.has(Defect::ResultListAsObject)
            && let Some(list) = v.pointer_mut("/XmlMsg/MessageBody/ResultList")
            && list.is_array()
        {
            // Looks for ResultList.ResultOfQualificationConfirmation and finds nothing.
            *list = Value::Array(Vec::new());
        }
        let Some(msg) = v.get("XmlMsg") else {
            return Conclusion::error("応答に XmlMsg がありません。");
        };
        match serde_json::from_value::<QualificationResult>(msg.clone()) {
            Ok(result) => interpret::conclude(&result, None, &self.options.defects),
            Err(e) => Conclusion::error(format!("応答の形式が正しくありません: {e}")),
        }
    }
}

/// The time left until `deadline` (none: no deadline); `Timeout` when it has passed.
fn remaining(deadline: Option<Instant>) -> Result<Option<Duration>, NetError> {
    match deadline {
        Some(d) => d
            .checked_duration_since(Instant::now())
            .filter(|r| !r.is_zero())
            .ok_or(NetError::Timeout)
            .map(Some),
        None => Ok(None),
    }
}

fn io_error(e: std::io::Error) -> NetError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => NetError::Timeout,
        _ => NetError::Failed(e.to_string()),
    }
}

/// Once the head of an answer is complete: its length, and its Content-Length if any.
fn head_and_length(buf: &[u8]) -> Option<(usize, Option<usize>)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => Some((
            n,
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok()),
        )),
        _ => None,
    }
}

fn parse_reply(buf: &[u8]) -> Result<Reply, NetError> {
    if buf.is_empty() {
        return Err(NetError::Failed("the connection closed without an answer".into()));
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(NetError::Failed("the answer ended inside its headers".into())),
        Err(e) => return Err(NetError::Failed(format!("not an HTTP answer: {e}"))),
    };
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
        .collect();
    let body = buf[head_len..].to_vec();
    let declared = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    if let Some(n) = declared
        && body.len() < n
    {
        return Err(NetError::Failed(format!(
            "the answer was cut short: {} of {n} bytes",
            body.len()
        )));
    }
    Ok(Reply {
        status: response.code.unwrap_or(0),
        headers,
        body,
    })
}
