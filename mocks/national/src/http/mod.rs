//! The national mock over HTTP: the Web API (login with a client certificate, search with a
//! bare idToken), the endpoints the terminal uses, and an admin API — over TLS or plain HTTP,
//! bound to loopback by default.
//!
//! [`National`] is the mock's state — the qualification service, faults, tokens, settings —
//! shared by the HTTP endpoints, the admin API and scenario steps (which call the same methods
//! in process). Every exchange is recorded with its exact bytes.

pub mod admin;
pub mod api;
pub mod body;
pub mod checks;
pub mod client;
mod io;
pub mod json;
pub mod tls;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::LocalNational;
use crate::clock::Clock;
use crate::events::{ClientCert, NationalEvent, NationalRecorder};
use crate::faults::{Fault, FaultBook, FaultError, FaultStatus};
use crate::state::{PersonChange, StateError};
use io::{Conn, Stream};
pub use tls::ServerTls;
use tokens::TokenStore;

/// How strictly the mock treats what clients send, and its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// How long a login's tokens stay valid, in minutes of World time.
    pub token_ttl_minutes: i64,
    /// `strict`: the login body must be the synthetic credentials of the certificate's
    /// institution; `any_json`: any JSON object is accepted.
    pub credentials: CredentialsPolicy,
    /// What to do with a JSON value that is not a string (e.g. `"MedicalInstitutionCode": true`):
    /// `reject` with 400, or `accept` it as its text (the finding is journaled either way).
    pub non_string_values: Policy,
    /// What to do with `Authorization: Bearer <token>` (the real API takes the bare token).
    pub bearer_prefix: Policy,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Time allowed for a request's headers, and for its body, in milliseconds.
    pub read_timeout_ms: u64,
    /// Real time a bulk upload (一括) takes to process: until then its downloads are
    /// answered SegmentOfResult 2 (処理中).
    pub bulk_processing_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
/// How the login body is checked.
pub enum CredentialsPolicy {
    /// The synthetic credentials of the certificate's institution only.
    Strict,
    /// Any JSON object.
    AnyJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
/// Reject or accept.
pub enum Policy {
    /// Refuse with 400.
    Reject,
    /// Accept (the finding is journaled).
    Accept,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            token_ttl_minutes: 60,
            credentials: CredentialsPolicy::Strict,
            non_string_values: Policy::Accept,
            bearer_prefix: Policy::Reject,
            max_body_bytes: 256 * 1024,
            read_timeout_ms: 10_000,
            bulk_processing_ms: 2_000,
        }
    }
}

impl ServerSettings {
    /// Whether every value is in its range; the message names the field, the value and the
    /// range. (`read_timeout_ms = 0` would stop every login; a negative token lifetime would
    /// issue tokens that are already expired.)
    pub fn check(&self) -> Result<(), String> {
        fn range<T: PartialOrd + std::fmt::Display>(
            field: &str,
            v: T,
            min: T,
            max: T,
            unit: &str,
        ) -> Result<(), String> {
            if v < min || v > max {
                Err(format!("{field} = {v} is outside {min}–{max} {unit}"))
            } else {
                Ok(())
            }
        }
        range("token_ttl_minutes", self.token_ttl_minutes, 1, 7 * 24 * 60, "minutes")?;
        range("max_body_bytes", self.max_body_bytes, 1024, 64 * 1024 * 1024, "bytes")?;
        range("read_timeout_ms", self.read_timeout_ms, 100, 600_000, "ms")?;
        range("bulk_processing_ms", self.bulk_processing_ms, 0, 600_000, "ms")
    }
}

/// The synthetic login credentials of an institution (the real format is not public).
pub fn credentials_for(institution: &str) -> serde_json::Value {
    serde_json::json!({
        "institutionCode": institution,
        "userId": format!("SYN-USER-{institution}"),
        "password": "onshi-harness-TEST",
    })
}

/// A fresh secret: 128 random bits, hex (admin tokens, the terminal's key).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 16];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .expect("the system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` is `expected`, in time that does not depend on where they differ (a
/// secret must not be guessable byte by byte from response times).
pub fn same_secret(given: &[u8], expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.ct_eq(expected.as_bytes()).into()
}

/// The header the terminal's own channel to the mock carries its key in.
pub const TERMINAL_KEY_HEADER: &str = "x-onshi-terminal-key";

/// The national mock's state.
pub struct National {
    /// The qualification service behind the API.
    pub service: Arc<LocalNational>,
    faults: Mutex<FaultBook>,
    tokens: Mutex<TokenStore>,
    settings: RwLock<ServerSettings>,
    clock: Arc<dyn Clock>,
    recorder: Arc<dyn NationalRecorder>,
    seed: u64,
    connections: AtomicU64,
    /// Bumped by every reset, so that answers held back by a latency fault end with it
    /// instead of arriving in the next case.
    resets: watch::Sender<u64>,
    /// The terminal's credential for its own endpoints (`/onshi-harness/terminal/v1/…`),
    /// fresh for every mock: without it those endpoints would answer a qualification with no
    /// login at all.
    terminal_key: String,
}

impl National {
    /// The mock over `service`.
    pub fn new(
        service: Arc<LocalNational>,
        clock: Arc<dyn Clock>,
        recorder: Arc<dyn NationalRecorder>,
        seed: u64,
    ) -> Arc<National> {
        Arc::new(National {
            service,
            faults: Mutex::new(FaultBook::new(seed)),
            tokens: Mutex::new(TokenStore::new(seed)),
            settings: RwLock::new(ServerSettings::default()),
            clock,
            recorder,
            seed,
            connections: AtomicU64::new(0),
            resets: watch::Sender::new(0),
            terminal_key: new_secret(),
        })
    }

    /// The key a terminal presents in [`TERMINAL_KEY_HEADER`] to use this mock.
    pub fn terminal_key(&self) -> &str {
        &self.terminal_key
    }

    /// The World's clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    fn record(&self, event: NationalEvent) {
        self.recorder.record(event);
    }

    /// The current settings.
    pub fn settings(&self) -> ServerSettings {
        self.settings.read().expect("settings").clone()
    }

    /// Replaces the settings.
    pub fn set_settings(&self, s: ServerSettings) {
        self.service
            .set_bulk_processing(Duration::from_millis(s.bulk_processing_ms));
        *self.settings.write().expect("settings") = s;
    }

    /// Adds a fault.
    pub fn set_fault(&self, fault: Fault) -> Result<(), FaultError> {
        self.faults
            .lock()
            .expect("faults")
            .set(fault.clone(), self.clock.now().date())?;
        self.record(NationalEvent::FaultSet { fault });
        Ok(())
    }

    /// Removes fault `id`; whether there was one.
    pub fn clear_fault(&self, id: &str) -> bool {
        let found = self.faults.lock().expect("faults").clear(id);
        if found {
            self.record(NationalEvent::FaultCleared { id: id.to_owned() });
        }
        found
    }

    /// The faults and how often each applied.
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.faults.lock().expect("faults").list()
    }

    /// Applies a persona change.
    pub fn apply_change(&self, change: PersonChange) -> Result<(), StateError> {
        self.service.apply_change(change.clone())?;
        self.record(NationalEvent::PersonChanged { change });
        Ok(())
    }

    /// Revokes every issued token; how many.
    pub fn revoke_tokens(&self) -> usize {
        let count = self.tokens.lock().expect("tokens").revoke_all();
        self.record(NationalEvent::TokensRevoked { count });
        count
    }

    /// Back to the start: no faults, no person changes, no tokens, default settings.
    pub fn reset(&self) {
        *self.faults.lock().expect("faults") = FaultBook::new(self.seed);
        // Revoked rather than forgotten: a client still holding one gets "revoked", which
        // tells it to log in again, and a token this mock never issued stays recognisable.
        self.tokens.lock().expect("tokens").revoke_all();
        self.service.reset_state();
        self.set_settings(ServerSettings::default());
        self.record(NationalEvent::Reset);
        self.resets.send_modify(|n| *n += 1);
    }

    /// Waits `delay`; `false` if a reset came first.
    pub(crate) async fn hold(&self, delay: Duration) -> bool {
        let mut resets = self.resets.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = resets.changed() => false,
        }
    }
}

/// A running listener.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Stops accepting and closes open connections.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves the Web API and the terminal endpoints on `addr` (port 0: a free port).
pub async fn serve(national: Arc<National>, addr: SocketAddr, tls: Option<ServerTls>) -> std::io::Result<Server> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, national, tls, stopped));
    Ok(Server { addr, stop, task })
}

/// What a handler knows about the connection.
pub(crate) struct ConnInfo {
    pub id: u64,
    pub remote: String,
    pub tls: bool,
    pub client_cert: Option<ClientCert>,
    pub reset: Arc<AtomicBool>,
    /// The last request's body stopped at a Content-Length that was too short; the connection
    /// closes after the answer and what is left on it is journaled.
    pub body_cut: AtomicBool,
}

async fn accept_loop(
    listener: TcpListener,
    national: Arc<National>,
    tls: Option<ServerTls>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((tcp, remote)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                connections.spawn(connection(national.clone(), tls.clone(), tcp, remote, stopped.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn connection(
    national: Arc<National>,
    tls: Option<ServerTls>,
    tcp: TcpStream,
    remote: SocketAddr,
    mut stopped: watch::Receiver<bool>,
) {
    let id = national.connections.fetch_add(1, Ordering::Relaxed) + 1;
    let settings = national.settings();
    let read_timeout = Duration::from_millis(settings.read_timeout_ms);
    let failed = |error: String| {
        national.record(NationalEvent::ConnectionFailed {
            connection: id,
            remote: remote.to_string(),
            error,
        })
    };
    let (stream, client_cert) = match &tls {
        None => (Stream::Plain(tcp), None),
        Some(t) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(t.config.clone());
            match tokio::time::timeout(read_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => {
                    let cert = s.get_ref().1.peer_certificates().and_then(|c| t.judge(c));
                    (Stream::Tls(Box::new(s)), cert)
                }
                Ok(Err(e)) => return failed(format!("TLS handshake failed: {e}")),
                Err(_) => {
                    return failed(format!(
                        "TLS handshake not finished within {} ms",
                        read_timeout.as_millis()
                    ));
                }
            }
        }
    };
    let reset = Arc::new(AtomicBool::new(false));
    let info = Arc::new(ConnInfo {
        id,
        remote: remote.to_string(),
        tls: tls.is_some(),
        client_cert,
        reset: reset.clone(),
        body_cut: AtomicBool::new(false),
    });
    let n = national.clone();
    let conn_info = info.clone();
    // boxed so that the connection can be taken apart when it ends (Leftover)
    let service = service_fn(move |req| Box::pin(api::handle(n.clone(), info.clone(), req)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout)
        .max_headers(100)
        .max_buf_size(64 * 1024)
        .keep_alive(true);
    let mut conn = builder.serve_connection(TokioIo::new(Conn { stream, reset }), service);
    let result = tokio::select! {
        result = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => result,
        _ = stopped.changed() => {
            std::pin::Pin::new(&mut conn).graceful_shutdown();
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)),
            )
            .await;
            return;
        }
    };
    if let Err(e) = result {
        if !body::is_deliberate(&e) {
            failed(format!(
                "HTTP: {e}{}",
                e.source().map(|s| format!(": {s}")).unwrap_or_default()
            ));
        }
        return;
    }
    let parts = conn.into_parts();
    let mut io = parts.io.into_inner();
    if conn_info.body_cut.load(Ordering::SeqCst) {
        let bytes = leftover(parts.read_buf.to_vec(), &mut io).await;
        if !bytes.is_empty() {
            national.record(NationalEvent::Leftover {
                connection: id,
                remote: remote.to_string(),
                bytes: crate::events::Blob(bytes),
            });
        }
    }
    use tokio::io::AsyncWriteExt as _;
    let _ = tokio::time::timeout(Duration::from_secs(2), io.shutdown()).await;
}

/// What is left on a connection after a body cut short by its Content-Length: what hyper had
/// read already, and what arrives within a short while, at most 64 KiB.
async fn leftover(mut bytes: Vec<u8>, io: &mut Conn) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    const LIMIT: usize = 64 * 1024;
    let mut buf = [0u8; 4096];
    while bytes.len() < LIMIT {
        match tokio::time::timeout(Duration::from_millis(200), io.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => bytes.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    bytes.truncate(LIMIT);
    bytes
}

use std::error::Error as _;
