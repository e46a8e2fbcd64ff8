//! Reading the national API's side of the story out of journal entries: the client's logins
//! and searches (the terminal's own calls to the mock are left out), what the API answered,
//! and the requests the client sent.

use onshi_national::events::{Exchange, NationalEvent};
use onshi_national::http::api::{AUTH_PATH, SEARCH_PATH};
use onshi_national::http::json;
use onshi_protocol::model::QualificationRequest;
use serde_json::Value;

use super::answer::Answer;
use crate::journal::{Entry, Event};

/// One login or search of the client, with its place in the journal.
pub(crate) struct ApiExchange<'a> {
    pub seq: u64,
    /// Journal time when the mock had its answer ready (before any latency fault).
    pub t_ms: f64,
    pub x: &'a Exchange,
}

impl ApiExchange<'_> {
    fn path(&self) -> &str {
        self.x.path.split('?').next().unwrap_or_default()
    }

    pub(crate) fn is_login(&self) -> bool {
        self.path() == AUTH_PATH
    }

    pub(crate) fn is_search(&self) -> bool {
        self.path() == SEARCH_PATH
    }

    /// Journal time when the request arrived.
    pub(crate) fn started_ms(&self) -> f64 {
        self.t_ms - self.x.duration_ms
    }

    /// Journal time when the answer left (after any latency a fault added).
    pub(crate) fn answered_ms(&self) -> f64 {
        self.t_ms + self.x.delay_ms as f64
    }

    fn endpoint(&self) -> &'static str {
        if self.is_login() { "the login" } else { "the search" }
    }
}

/// The client's logins and searches, in order.
pub(crate) fn client_exchanges(entries: &[Entry]) -> Vec<ApiExchange<'_>> {
    entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::National(NationalEvent::Exchange(x)) => Some(ApiExchange {
                seq: e.seq,
                t_ms: e.t_ms,
                x,
            }),
            _ => None,
        })
        .filter(|a| a.is_login() || a.is_search())
        .collect()
}

/// What the client must report: a result it received in full (however many tries it took);
/// otherwise a refused login (the root cause: nothing can succeed without a token); otherwise
/// the last thing the API did. `entries` is one step's window: an answer a latency
/// fault held back past the window's end never reached the client in time.
pub(crate) fn answer(entries: &[Entry]) -> Option<Answer> {
    let xs = client_exchanges(entries);
    let end = entries.last().map_or(f64::MAX, |e| e.t_ms);
    let delivered = xs.iter().rev().filter(|a| a.is_search()).find_map(|a| {
        if a.x.status != 200 || a.x.cut_after_bytes.is_some() || a.answered_ms() > end {
            return None;
        }
        let result = json::parse_result(&a.x.response_body.0).ok()?;
        Some(Answer::Result {
            seq: a.seq,
            result: Box::new(result),
        })
    });
    let refused_login = xs.iter().rev().find(|a| a.is_login() && a.x.status != 200);
    delivered.or_else(|| {
        refused_login.or(xs.last()).map(|a| Answer::Http {
            seq: a.seq,
            what: if a.answered_ms() > end {
                format!(
                    "{} was held back {} ms by a latency fault ({}) and had not been answered when the client answered",
                    a.endpoint(),
                    a.x.delay_ms,
                    a.x.faults.join(", ")
                )
            } else {
                what(a)
            },
            text: text(a.x),
        })
    })
}

fn is_html(x: &Exchange) -> bool {
    let body = String::from_utf8_lossy(&x.response_body.0);
    body.trim_start().starts_with('<')
}

fn msg(x: &Exchange) -> Option<String> {
    let v: Value = serde_json::from_slice(&x.response_body.0).ok()?;
    v.get("msg").and_then(Value::as_str).map(str::to_owned)
}

/// "the search got HTTP 503 with an HTML page instead of JSON (fault busy)", …
fn what(a: &ApiExchange<'_>) -> String {
    let x = a.x;
    let said = if x.status == 0 {
        "no answer: the connection was closed or reset".to_owned()
    } else if let Some(n) = x.cut_after_bytes {
        format!(
            "HTTP {} cut off after {n} of its {} body bytes",
            x.status,
            x.response_body.0.len()
        )
    } else if is_html(x) {
        format!("HTTP {} with an HTML page instead of JSON", x.status)
    } else if let Some(m) = msg(x) {
        format!("HTTP {}: {m}", x.status)
    } else if serde_json::from_slice::<Value>(&x.response_body.0).is_err() {
        format!("HTTP {} with a body that is not JSON", x.status)
    } else {
        format!("HTTP {} with JSON that is not a result", x.status)
    };
    let faults = if x.faults.is_empty() {
        String::new()
    } else {
        format!(" (fault {})", x.faults.join(", "))
    };
    format!("{} got {said}{faults}", a.endpoint())
}

/// The text the client must show: the `msg` of a JSON answer; for a maintenance page, that
/// the system is under maintenance (メンテナンス).
fn text(x: &Exchange) -> Option<String> {
    if is_html(x) {
        let page = String::from_utf8_lossy(&x.response_body.0);
        return page.contains("メンテナンス").then(|| "メンテナンス".to_owned());
    }
    msg(x)
}

/// The distinct search requests the client sent, as the mock read them (values that are not
/// strings taken as their text, as the mock does by default).
pub(crate) fn search_requests(entries: &[Entry]) -> Vec<(u64, QualificationRequest)> {
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut out = Vec::new();
    for a in client_exchanges(entries).into_iter().filter(ApiExchange::is_search) {
        let body = a.x.body.0.as_slice();
        if seen.contains(&body) {
            continue;
        }
        seen.push(body);
        let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
            continue; // unreadable: API-JSON-001 or API-LEN-001 says why
        };
        json::coerce_to_strings(&mut v);
        if let Ok(r) = json::request(&v) {
            out.push((a.seq, r));
        }
    }
    out
}
