//! What the national mock records: every HTTP exchange (with the exact bytes, the client
//! certificate, timings, the faults applied and the request findings), connections that fail
//! before HTTP, and every change made through the admin API or scenario steps.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::faults::Fault;
use crate::state::PersonChange;

/// Bytes in the journal: base64 of the exact bytes, and their length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Blob", 2)?;
        st.serialize_field("b64", &base64::engine::general_purpose::STANDARD.encode(&self.0))?;
        st.serialize_field("len", &self.0.len())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            b64: String,
        }
        let raw = Raw::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(raw.b64)
            .map(Blob)
            .map_err(serde::de::Error::custom)
    }
}

/// The client certificate presented on a connection, as far as the mock judged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCert {
    /// The certificate's subject.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// `ok`, or why the certificate is not acceptable (unknown issuer, expired, …).
    pub verdict: String,
}

/// A problem the mock found in a request, under a check ID (`API-*`, `MSG-*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFinding {
    /// The check ID (API-* or MSG-*).
    pub check: String,
    /// What was found.
    pub message: String,
}

/// One HTTP request and what the mock answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Connection number (requests on one keep-alive connection share it).
    pub connection: u64,
    /// The client's address.
    pub remote: String,
    /// Whether the request came over TLS.
    pub tls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The client certificate, when one was presented.
    pub client_cert: Option<ClientCert>,
    /// The HTTP method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The HTTP version.
    pub version: String,
    /// The request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The request body, exactly as received.
    pub body: Blob,
    /// The HTTP status sent, or 0 when the connection was cut instead of answering.
    pub status: u16,
    /// The response body, exactly as sent.
    pub response_body: Blob,
    /// The answer was cut after this many body bytes (fault `truncated_body`): the client
    /// received only the start of `response_body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_after_bytes: Option<usize>,
    /// Faults applied, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// What the mock found in the request.
    pub findings: Vec<RequestFinding>,
    /// The `Retry-After` sent, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u32>,
    /// The persona the request was about, when the mock could tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    /// Milliseconds from the request head to the answer being ready (the event's time).
    pub duration_ms: f64,
    /// Latency a fault added after that: the answer left this much later.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One national-mock event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum NationalEvent {
    /// One request and its answer.
    Exchange(Box<Exchange>),
    /// A connection failed before or outside HTTP (TLS handshake, a malformed request line,
    /// HTTP/2, a slow sender cut off, …).
    ConnectionFailed {
        /// The connection's number.
        connection: u64,
        /// The client's address.
        remote: String,
        /// What went wrong.
        error: String,
    },
    /// What a client sent after the Content-Length of its last request: the rest of a body
    /// whose Content-Length was too short. It belongs to the connection's last exchange
    /// (answered 400, `Connection: close`) and is not parsed as another request.
    Leftover {
        /// The connection's number.
        connection: u64,
        /// The client's address.
        remote: String,
        /// Up to 64 KiB of it.
        bytes: Blob,
    },
    /// A fault started applying.
    FaultSet {
        /// The fault.
        fault: Fault,
    },
    /// A fault stopped applying.
    FaultCleared {
        /// Its id.
        id: String,
    },
    /// A persona's state changed.
    PersonChanged {
        /// The change.
        change: PersonChange,
    },
    /// Every issued token was revoked.
    TokensRevoked {
        /// How many.
        count: usize,
    },
    /// The mock was reset (faults, changes, tokens).
    Reset,
    /// A request to the admin API without the right token.
    AdminRefused {
        /// The client's address.
        remote: String,
        /// The path asked for.
        path: String,
    },
}

/// Where the national mock's events go.
pub trait NationalRecorder: Send + Sync {
    /// Records one event.
    fn record(&self, event: NationalEvent);
}

/// Discards events (a mock nobody observes).
#[derive(Debug, Default)]
pub struct NoRecorder;

impl NationalRecorder for NoRecorder {
    fn record(&self, _: NationalEvent) {}
}

/// Keeps events in memory.
#[derive(Debug, Default)]
pub struct MemoryRecorder(pub std::sync::Mutex<Vec<NationalEvent>>);

impl NationalRecorder for MemoryRecorder {
    fn record(&self, event: NationalEvent) {
        self.0.lock().expect("recorder").push(event);
    }
}

impl MemoryRecorder {
    /// The events recorded so far.
    pub fn events(&self) -> Vec<NationalEvent> {
        self.0.lock().expect("recorder").clone()
    }
}
