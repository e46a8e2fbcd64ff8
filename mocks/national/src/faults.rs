//! Faults as data: each has an ID, a scope (all requests, one endpoint, one persona), a kind,
//! and a schedule (a window of World time, or only the first N matching requests). Random
//! delays are drawn from the run's seed, so a run repeats exactly.
//!
//! The [`FaultBook`] only decides; the HTTP server carries the decision out.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use onshi_registry::rng::Stream;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The endpoints a fault can be scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /oqs-api-pro/MSA12020/ILI12020SV01/auth` (login).
    Auth,
    /// `POST /oqs-api-pro/MSA01030/ILI01030SV01/search`.
    Search,
    /// The endpoints the terminal uses for its folder interface.
    Terminal,
}

/// Which requests a fault applies to; empty = all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only requests to this endpoint.
    pub endpoint: Option<Endpoint>,
    /// Only requests about this persona.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
}

/// When a fault applies; empty = always.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// From this World time on: `HH:MM[:SS]` on the run's date, or `YYYYMMDDHHmmss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Until this World time (exclusive), same forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Only the first N matching requests ("fail the first N, then succeed").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u32>,
}

/// A delay distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Delay {
    /// Always the same.
    Fixed {
        /// The delay.
        ms: u64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// The shortest.
        min_ms: u64,
        /// The longest.
        max_ms: u64,
    },
    /// Log-normal with the given median and shape (typical network tails: sigma 0.5–1).
    LogNormal {
        /// The median.
        median_ms: u64,
        /// The shape.
        sigma: f64,
    },
}

/// The longest delay a distribution may name (ten minutes; a draw is clamped to it too).
pub const MAX_DELAY_MS: u64 = 600_000;

impl Delay {
    /// Whether the distribution is usable: times within [`MAX_DELAY_MS`], `min_ms ≤ max_ms`,
    /// `sigma` between 0 and 5. The message names the field.
    pub fn check(&self) -> Result<(), String> {
        let within = |field: &str, ms: u64| {
            if ms > MAX_DELAY_MS {
                Err(format!(
                    "{field} {ms} is above the limit of {MAX_DELAY_MS} ms (ten minutes)"
                ))
            } else {
                Ok(())
            }
        };
        match *self {
            Delay::Fixed { ms } => within("ms", ms),
            Delay::Uniform { min_ms, max_ms } => {
                within("max_ms", max_ms)?;
                if min_ms > max_ms {
                    return Err(format!("min_ms {min_ms} is above max_ms {max_ms}"));
                }
                Ok(())
            }
            Delay::LogNormal { median_ms, sigma } => {
                within("median_ms", median_ms)?;
                if !(0.0..=5.0).contains(&sigma) {
                    return Err(format!("sigma {sigma} must be between 0 and 5"));
                }
                Ok(())
            }
        }
    }

    /// One delay drawn from the distribution (at most ten minutes).
    pub fn sample(&self, r: &mut Stream) -> Duration {
        let unit = |r: &mut Stream| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let ms = match *self {
            Delay::Fixed { ms } => ms as f64,
            Delay::Uniform { min_ms, max_ms } => min_ms as f64 + unit(r) * max_ms.saturating_sub(min_ms) as f64,
            Delay::LogNormal { median_ms, sigma } => {
                // Box–Muller: a standard normal from two uniforms.
                let (u1, u2) = (unit(r).max(f64::MIN_POSITIVE), unit(r));
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                median_ms as f64 * (sigma * z).exp()
            }
        };
        Duration::from_millis(ms.clamp(0.0, 600_000.0) as u64)
    }
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Answer late (adds to other faults).
    Latency {
        /// How much later.
        delay: Delay,
    },
    /// Answer with this HTTP status and a JSON error body (503 with `Retry-After`).
    Status {
        /// The HTTP status.
        code: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The `Retry-After` header, seconds.
        retry_after_s: Option<u32>,
    },
    /// Answer 503 with an HTML maintenance page instead of JSON.
    MaintenancePage,
    /// Reset the connection (TCP RST) instead of answering.
    ConnectionReset,
    /// Close the connection without answering.
    CloseWithoutAnswer,
    /// Announce the full Content-Length, send only `keep_bytes` (default half), then close.
    TruncatedBody {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// How many bytes of the body to send.
        keep_bytes: Option<usize>,
    },
    /// Answer 200 with a body that is not valid JSON.
    MalformedJson,
    /// Send the body in chunks of `chunk_bytes` every `interval_ms`.
    SlowBody {
        /// Bytes per chunk.
        chunk_bytes: usize,
        /// The pause between two chunks.
        interval_ms: u64,
    },
    /// Treat the presented token as expired (a token expiring mid-session).
    TokenExpiry,
}

/// A fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Its id (for `clear_fault`, and in the journal).
    pub id: String,
    #[serde(default)]
    /// Which requests it applies to.
    pub scope: Scope,
    /// What goes wrong.
    pub kind: FaultKind,
    #[serde(default)]
    /// When it applies.
    pub when: When,
}

/// Why a fault is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FaultError {
    #[error("fault id must be non-empty ASCII letters, digits, '-' or '_' (got {0:?})")]
    /// The id is not usable.
    BadId(String),
    #[error("fault {id}: {message}")]
    /// The fault is not usable.
    Invalid {
        /// The fault's id.
        id: String,
        /// What is wrong.
        message: String,
    },
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// Total added latency.
    pub delay: Duration,
    /// The fault that changes the answer, if any (its id and kind).
    pub action: Option<(String, FaultKind)>,
    /// Every fault applied (latency ones included), by id.
    pub applied: Vec<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    fault: Fault,
    from: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
    applied: u32,
}

/// A fault as listed: the definition and how often it has applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FaultStatus {
    /// The fault.
    pub fault: Fault,
    /// How many times it applied so far.
    pub applied: u32,
}

/// The active faults of a national mock.
#[derive(Debug, Clone, Default)]
pub struct FaultBook {
    entries: Vec<Entry>,
    seed: u64,
    draws: u64,
}

fn parse_time(s: &str, today: NaiveDate) -> Result<NaiveDateTime, String> {
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S") {
        return Ok(t);
    }
    for fmt in ["%H:%M:%S", "%H:%M"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, fmt) {
            return Ok(today.and_time(t));
        }
    }
    Err(format!("{s:?} is not a time: write HH:MM, HH:MM:SS or YYYYMMDDHHmmss"))
}

impl FaultBook {
    /// An empty book; `seed` draws the delays.
    pub fn new(seed: u64) -> Self {
        FaultBook {
            seed,
            ..Default::default()
        }
    }

    /// Adds a fault (replacing one with the same id). `today` resolves `HH:MM` times.
    pub fn set(&mut self, fault: Fault, today: NaiveDate) -> Result<(), FaultError> {
        if fault.id.is_empty()
            || !fault
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(FaultError::BadId(fault.id));
        }
        let invalid = |message: String| FaultError::Invalid {
            id: fault.id.clone(),
            message,
        };
        match &fault.kind {
            FaultKind::Status { code, .. } if !(100..=599).contains(code) => {
                return Err(invalid(format!("HTTP status {code} is not in 100–599")));
            }
            FaultKind::SlowBody { chunk_bytes: 0, .. } => return Err(invalid("chunk_bytes must be at least 1".into())),
            FaultKind::Latency { delay } => delay.check().map_err(|m| invalid(format!("delay: {m}")))?,
            _ => {}
        }
        let from = fault
            .when
            .from
            .as_deref()
            .map(|s| parse_time(s, today))
            .transpose()
            .map_err(invalid)?;
        let until = fault
            .when
            .until
            .as_deref()
            .map(|s| parse_time(s, today))
            .transpose()
            .map_err(invalid)?;
        if let (Some(f), Some(u)) = (from, until)
            && f >= u
        {
            return Err(invalid("`from` must be before `until`".into()));
        }
        self.entries.retain(|e| e.fault.id != fault.id);
        self.entries.push(Entry {
            fault,
            from,
            until,
            applied: 0,
        });
        Ok(())
    }

    /// Removes fault `id`; whether there was one.
    pub fn clear(&mut self, id: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.fault.id != id);
        before != self.entries.len()
    }

    /// Removes every fault.
    pub fn clear_all(&mut self) {
        self.entries.clear();
    }

    /// Every fault, with how often it applied.
    pub fn list(&self) -> Vec<FaultStatus> {
        self.entries
            .iter()
            .map(|e| FaultStatus {
                fault: e.fault.clone(),
                applied: e.applied,
            })
            .collect()
    }

    fn draw(&mut self, delay: &Delay, id: &str) -> Duration {
        self.draws += 1;
        let key = id
            .bytes()
            .fold(self.draws, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        delay.sample(&mut Stream::new(self.seed, key))
    }

    /// Decides the faults for one request and counts them as applied.
    pub fn decide(&mut self, endpoint: Endpoint, persona: Option<&str>, now: NaiveDateTime) -> Decision {
        let mut decision = Decision::default();
        let mut chosen: Vec<usize> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let s = &e.fault.scope;
            let in_scope =
                s.endpoint.is_none_or(|ep| ep == endpoint) && s.persona.as_deref().is_none_or(|p| Some(p) == persona);
            let in_time = e.from.is_none_or(|f| now >= f) && e.until.is_none_or(|u| now < u);
            let has_budget = e.fault.when.first.is_none_or(|n| e.applied < n);
            if in_scope && in_time && has_budget {
                chosen.push(i);
            }
        }
        for i in chosen {
            let kind = self.entries[i].fault.kind.clone();
            let id = self.entries[i].fault.id.clone();
            if let FaultKind::Latency { delay } = &kind {
                decision.delay += self.draw(delay, &id);
            } else if decision.action.is_none() {
                decision.action = Some((id.clone(), kind.clone()));
            } else {
                continue; // only the first answer-changing fault applies
            }
            self.entries[i].applied += 1;
            decision.applied.push(id);
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
    }

    fn at(h: u32, m: u32) -> NaiveDateTime {
        today().and_hms_opt(h, m, 0).unwrap()
    }

    fn fault(json: &str) -> Fault {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn fail_the_first_n_then_succeed() {
        let mut b = FaultBook::new(0);
        b.set(
            fault(r#"{"id":"f1","kind":{"type":"status","code":503,"retry_after_s":2},"when":{"first":2}}"#),
            today(),
        )
        .unwrap();
        for _ in 0..2 {
            let d = b.decide(Endpoint::Search, None, at(9, 0));
            assert_eq!(
                d.action,
                Some((
                    "f1".into(),
                    FaultKind::Status {
                        code: 503,
                        retry_after_s: Some(2)
                    }
                ))
            );
        }
        assert_eq!(b.decide(Endpoint::Search, None, at(9, 0)), Decision::default());
        assert_eq!(b.list()[0].applied, 2);
    }

    #[test]
    fn scope_and_window() {
        let mut b = FaultBook::new(0);
        b.set(
            fault(
                r#"{"id":"maint","scope":{"endpoint":"search","persona":"p1"},"kind":{"type":"maintenance_page"},"when":{"from":"09:30","until":"10:00"}}"#,
            ),
            today(),
        )
        .unwrap();
        assert!(b.decide(Endpoint::Search, Some("p1"), at(9, 29)).action.is_none());
        assert!(b.decide(Endpoint::Search, Some("p1"), at(9, 30)).action.is_some());
        assert!(b.decide(Endpoint::Search, Some("p2"), at(9, 45)).action.is_none());
        assert!(b.decide(Endpoint::Auth, Some("p1"), at(9, 45)).action.is_none());
        assert!(b.decide(Endpoint::Search, Some("p1"), at(10, 0)).action.is_none());
    }

    #[test]
    fn latency_adds_up_and_is_reproducible() {
        let make = || {
            let mut b = FaultBook::new(42);
            b.set(
                fault(r#"{"id":"a","kind":{"type":"latency","delay":{"fixed":{"ms":100}}}}"#),
                today(),
            )
            .unwrap();
            b.set(
                fault(r#"{"id":"b","kind":{"type":"latency","delay":{"log_normal":{"median_ms":50,"sigma":0.8}}}}"#),
                today(),
            )
            .unwrap();
            b
        };
        let (mut x, mut y) = (make(), make());
        let dx: Vec<_> = (0..20)
            .map(|_| x.decide(Endpoint::Search, None, at(9, 0)).delay)
            .collect();
        let dy: Vec<_> = (0..20)
            .map(|_| y.decide(Endpoint::Search, None, at(9, 0)).delay)
            .collect();
        assert_eq!(dx, dy, "the same seed gives the same delays");
        assert!(dx.iter().all(|d| *d >= Duration::from_millis(100)));
        assert!(
            dx.iter().collect::<std::collections::HashSet<_>>().len() > 10,
            "log-normal varies"
        );
    }

    #[test]
    fn invalid_faults_are_refused_with_a_reason() {
        let mut b = FaultBook::new(0);
        let bad = [
            (r#"{"id":"x y","kind":{"type":"connection_reset"}}"#, "fault id"),
            (r#"{"id":"s","kind":{"type":"status","code":999}}"#, "999"),
            (
                r#"{"id":"u","kind":{"type":"latency","delay":{"uniform":{"min_ms":5,"max_ms":1}}}}"#,
                "min_ms",
            ),
            (
                r#"{"id":"w","kind":{"type":"malformed_json"},"when":{"from":"10:00","until":"09:00"}}"#,
                "before",
            ),
            (
                r#"{"id":"t","kind":{"type":"malformed_json"},"when":{"from":"soon"}}"#,
                "not a time",
            ),
        ];
        for (json, needle) in bad {
            let e = b.set(fault(json), today()).unwrap_err().to_string();
            assert!(e.contains(needle), "{json}: {e}");
        }
        assert!(serde_json::from_str::<Fault>(r#"{"id":"z","kind":{"type":"explode"}}"#).is_err());
    }
}
