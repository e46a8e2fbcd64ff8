//! The admin API: HTTP on loopback, guarded by a bearer token printed at start-up. It offers
//! the operations scenario steps perform in process: faults, person changes, token
//! revocation, settings, reset, and reading the journal.
//!
//! ```text
//! GET    /admin/faults                 list faults (and how often each applied)
//! POST   /admin/faults                 set a fault (JSON, see docs/api.md)
//! DELETE /admin/faults[/{id}]          clear one or all
//! POST   /admin/persons                apply a person change (JSON)
//! GET    /admin/persons/{persona}      a persona as it is now
//! POST   /admin/tokens/revoke          revoke every issued token
//! GET    /admin/settings, PUT …        the server's strictness settings
//! POST   /admin/reset                  no faults, no changes, no tokens, default settings
//! GET    /admin/journal?since=N&limit=M   journal events
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::body::{Body, BoxError};
use super::{National, Server, ServerSettings};
use crate::events::NationalEvent;
use crate::faults::Fault;
use crate::state::PersonChange;

/// A fresh admin token: 128 random bits, hex.
pub fn new_token() -> String {
    super::new_secret()
}

/// Where the admin API reads the journal from.
pub trait JournalReader: Send + Sync {
    /// Up to `limit` events with sequence numbers from `since` on.
    fn read(&self, since: u64, limit: usize) -> Vec<Value>;
}

struct Admin {
    national: Arc<National>,
    token: String,
    journal: Option<Arc<dyn JournalReader>>,
}

/// Serves the admin API on `addr`.
pub async fn serve_admin(
    national: Arc<National>,
    addr: SocketAddr,
    token: String,
    journal: Option<Arc<dyn JournalReader>>,
) -> std::io::Result<Server> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let admin = Arc::new(Admin {
        national,
        token,
        journal,
    });
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => {
                    let Ok((tcp, remote)) = accepted else { continue };
                    let admin = admin.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handle(admin.clone(), remote, req));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(std::time::Duration::from_secs(10))
                            .serve_connection(TokioIo::new(tcp), service)
                            .await;
                    });
                }
            }
        }
    });
    Ok(Server { addr, stop, task })
}

fn reply(status: StatusCode, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::full(serde_json::to_vec_pretty(&body).expect("json")))
        .expect("valid response")
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<Body> {
    reply(status, json!({"error": message.to_string()}))
}

async fn handle(
    admin: Arc<Admin>,
    remote: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, BoxError> {
    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .is_some_and(|given| super::same_secret(given, &admin.token));
    let path = req.uri().path().to_owned();
    if !authorized {
        admin.national.record(NationalEvent::AdminRefused {
            remote: remote.to_string(),
            path,
        });
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "the admin API needs `Authorization: Bearer <admin token>` (printed when the server starts)",
        ));
    }
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_owned();
    let body = match Limited::new(req.into_body(), 1024 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(error(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}"))),
    };
    let n = &admin.national;
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    Ok(match (method, parts.as_slice()) {
        (Method::GET, ["admin", "faults"]) => reply(StatusCode::OK, json!(n.faults())),
        (Method::POST, ["admin", "faults"]) => match serde_json::from_slice::<Fault>(&body) {
            Err(e) => error(StatusCode::BAD_REQUEST, format!("not a fault: {e}")),
            Ok(f) => match n.set_fault(f) {
                Ok(()) => reply(StatusCode::CREATED, json!({"ok": true})),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            },
        },
        (Method::DELETE, ["admin", "faults"]) => {
            let ids: Vec<String> = n.faults().into_iter().map(|f| f.fault.id).collect();
            for id in &ids {
                n.clear_fault(id);
            }
            reply(StatusCode::OK, json!({"cleared": ids.len()}))
        }
        (Method::DELETE, ["admin", "faults", id]) => {
            if n.clear_fault(id) {
                reply(StatusCode::OK, json!({"cleared": 1}))
            } else {
                error(StatusCode::NOT_FOUND, format!("no fault {id:?}"))
            }
        }
        (Method::POST, ["admin", "persons"]) => match serde_json::from_slice::<PersonChange>(&body) {
            Err(e) => error(StatusCode::BAD_REQUEST, format!("not a person change: {e}")),
            Ok(c) => match n.apply_change(c) {
                Ok(()) => reply(StatusCode::OK, json!({"ok": true})),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            },
        },
        (Method::GET, ["admin", "persons", id]) => match n.service.persona(id) {
            Some(p) => reply(StatusCode::OK, json!(p)),
            None => error(StatusCode::NOT_FOUND, format!("no persona {id:?}")),
        },
        (Method::POST, ["admin", "tokens", "revoke"]) => reply(StatusCode::OK, json!({"revoked": n.revoke_tokens()})),
        (Method::GET, ["admin", "settings"]) => reply(StatusCode::OK, json!(n.settings())),
        (Method::PUT, ["admin", "settings"]) => match serde_json::from_slice::<ServerSettings>(&body) {
            Ok(s) => match s.check() {
                Ok(()) => {
                    n.set_settings(s);
                    reply(StatusCode::OK, json!({"ok": true}))
                }
                Err(e) => error(StatusCode::BAD_REQUEST, format!("settings refused: {e}")),
            },
            Err(e) => error(StatusCode::BAD_REQUEST, format!("not settings: {e}")),
        },
        (Method::POST, ["admin", "reset"]) => {
            n.reset();
            reply(StatusCode::OK, json!({"ok": true}))
        }
        (Method::GET, ["admin", "journal"]) => match &admin.journal {
            None => error(StatusCode::NOT_FOUND, "this server keeps no journal"),
            Some(j) => {
                let param = |name: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                        .and_then(|v| v.parse::<u64>().ok())
                };
                let since = param("since").unwrap_or(1);
                let limit = param("limit").unwrap_or(1000).min(10_000) as usize;
                reply(StatusCode::OK, json!(j.read(since, limit)))
            }
        },
        (m, _) => error(StatusCode::NOT_FOUND, format!("no admin operation {m} {path}")),
    })
}
