//! Rush profiles (`scenarios/rush/*.toml`): who runs which facilities, how patients arrive,
//! how they confirm their eligibility, how long each step takes. A profile is data; this
//! module reads it and refuses anything out of range with an error naming the field.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use chrono::NaiveTime;
use onshi_national::faults::Delay;
use onshi_registry::Registry;
use serde::{Deserialize, Serialize};

use onshi_harness::spec::LoadError;

/// Longest arrival window a profile may ask for.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// More patients per minute than this at one facility is taken for a typo.
pub const MAX_PER_MINUTE: f64 = 1_000.0;
/// More facilities than Japan has (about 230,000) times ten.
pub const MAX_FACILITIES: u64 = 2_500_000;
/// More face-auth readers than this at one facility is taken for a typo.
pub const MAX_READERS: u32 = 64;
/// More reception PCs than this at one facility is taken for a typo.
pub const MAX_RECEPTION_PCS: u32 = 256;

/// The kind of a facility (what the national statistics count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// 病院
    Hospital,
    /// 医科診療所
    Clinic,
    /// 歯科診療所
    Dental,
    /// 薬局
    Pharmacy,
}

/// How a patient's eligibility is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Way {
    /// My Number card at the face-auth reader, face match (顔認証).
    Face,
    /// My Number card at the reader with the 4-digit PIN (暗証番号).
    Pin,
    /// Insurance card handed to the desk; the client asks through the terminal folder
    /// (保険証による資格確認).
    InsuranceCard,
    /// The desk asks through the HTTP API (a cloud client).
    Api,
}

impl Way {
    /// Every way, in index order.
    pub const ALL: [Way; 4] = [Way::Face, Way::Pin, Way::InsuranceCard, Way::Api];

    /// Its index in per-way arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name in profiles and reports.
    pub fn name(self) -> &'static str {
        match self {
            Way::Face => "face",
            Way::Pin => "pin",
            Way::InsuranceCard => "insurance_card",
            Way::Api => "api",
        }
    }

    /// Served at the face-auth reader (else at a reception PC).
    pub fn at_reader(self) -> bool {
        matches!(self, Way::Face | Way::Pin)
    }
}

/// The moments in a patient's visit, in order. Stages are the spans between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// The intended arrival (from the arrival curve; latency counts from here).
    Arrived,
    /// A reader (or, for the desk ways, a reception PC) takes the patient.
    Served,
    /// The reader or the client sends the query on (card placed and screens done, or the
    /// card typed in).
    Sent,
    /// The terminal took the request file (insurance_card only).
    PickedUp,
    /// The national system answered.
    Answered,
    /// The result is in the terminal's folder (not for api).
    Written,
    /// The client has the result (import_face or confirm_qualification returned).
    Imported,
}

impl Mark {
    /// Every moment, in the order a visit passes them.
    pub const ALL: [Mark; 7] = [
        Mark::Arrived,
        Mark::Served,
        Mark::Sent,
        Mark::PickedUp,
        Mark::Answered,
        Mark::Written,
        Mark::Imported,
    ];

    /// Its name in profiles and reports.
    pub fn name(self) -> &'static str {
        match self {
            Mark::Arrived => "arrived",
            Mark::Served => "served",
            Mark::Sent => "sent",
            Mark::PickedUp => "picked_up",
            Mark::Answered => "answered",
            Mark::Written => "written",
            Mark::Imported => "imported",
        }
    }
}

/// A span of a visit, ending at a [`Mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Waiting for a free reader or reception PC (待ち時間).
    Queue,
    /// At the reader: card placement, face match or PIN, consent screens; at the desk:
    /// staff typing the insurance card in.
    Reader,
    /// The request file waiting in `req/` for the terminal.
    Pickup,
    /// The national system's answer.
    National,
    /// The terminal writing the result file.
    Write,
    /// From the result to the client having imported it (waiting for a reception PC included).
    Import,
}

impl Stage {
    /// Every stage, in the order a visit passes them.
    pub const ALL: [Stage; 6] = [
        Stage::Queue,
        Stage::Reader,
        Stage::Pickup,
        Stage::National,
        Stage::Write,
        Stage::Import,
    ];

    /// Its index in per-stage arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name in profiles and reports.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Queue => "queue",
            Stage::Reader => "reader",
            Stage::Pickup => "pickup",
            Stage::National => "national",
            Stage::Write => "write",
            Stage::Import => "import",
        }
    }

    /// Its label in charts and tables (`sent → picked up`).
    pub fn label(self) -> &'static str {
        match self {
            Stage::Queue => "queue wait at the reader or desk (待ち時間)",
            Stage::Reader => "at the reader / desk entry (カードリーダー・受付入力)",
            Stage::Pickup => "terminal pickup of the request (資格確認端末の取込)",
            Stage::National => "national answer (オンライン資格確認等システムの応答)",
            Stage::Write => "result written (結果ファイル出力)",
            Stage::Import => "client import (取込)",
        }
    }

    /// The moment that ends the stage.
    pub fn end(self) -> Mark {
        match self {
            Stage::Queue => Mark::Served,
            Stage::Reader => Mark::Sent,
            Stage::Pickup => Mark::PickedUp,
            Stage::National => Mark::Answered,
            Stage::Write => Mark::Written,
            Stage::Import => Mark::Imported,
        }
    }
}

/// A validated profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// The profile's id (its file name).
    pub id: String,
    /// What the profile models, in one line.
    pub title: String,
    /// Why it exists and what it shows.
    pub summary: String,
    /// How long patients keep arriving (the curve's window).
    #[serde(with = "millis")]
    pub duration: Duration,
    /// The World's time at the start of the window (display only).
    pub opens_at: NaiveTime,
    /// The facilities and their arrival curves.
    pub facilities: Vec<FacilityGroup>,
    /// Who the patients are and how they confirm.
    pub mix: Mix,
    /// How long the human steps take.
    pub service: Service,
    /// How long the World's steps take.
    pub world: WorldModel,
    /// The latency objectives.
    pub slos: Vec<Slo>,
    /// The limits of a real-time run.
    pub real: RealLimits,
}

/// `count` facilities of one kind that share a shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilityGroup {
    /// Hospital, clinic, dental clinic or pharmacy.
    pub kind: FacilityKind,
    /// How many such facilities.
    pub count: u64,
    /// Face-auth card readers (顔認証付きカードリーダー), one patient each at a time.
    pub readers: u32,
    /// Reception PCs where staff type insurance cards in and wait for the answer (the desk
    /// ways), one patient each at a time.
    pub reception_pcs: u32,
    /// Their arrival curve.
    pub curve: Curve,
}

/// Patients per minute over time: linear between points, the last value after the last
/// point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// The curve's name.
    pub name: String,
    /// (offset from the start, patients per minute), offsets increasing.
    pub points: Vec<(u64, f64)>,
}

impl Curve {
    /// Patients per minute at `t_ms` after the start.
    pub fn rate_at(&self, t_ms: u64) -> f64 {
        let p = &self.points;
        // the first point after t_ms (points are in increasing time order)
        match p.partition_point(|&(at, _)| at <= t_ms) {
            0 => p.first().map_or(0.0, |x| x.1),
            i if i == p.len() => p[i - 1].1,
            i => {
                let (t0, r0) = p[i - 1];
                let (t1, r1) = p[i];
                r0 + (r1 - r0) * (t_ms - t0) as f64 / (t1 - t0) as f64
            }
        }
    }

    /// The highest rate within `[0, until_ms]`.
    pub fn max_rate(&self, until_ms: u64) -> f64 {
        self.points
            .iter()
            .filter(|(at, _)| *at <= until_ms)
            .map(|x| x.1)
            .chain([self.rate_at(0), self.rate_at(until_ms)])
            .fold(0.0, f64::max)
    }

    /// Expected patients in `[0, until_ms]` (the integral of the rate).
    pub fn expected(&self, until_ms: u64) -> f64 {
        // trapezoids between 0, the points inside the window and its end: the rate is linear
        // between points, so this is exact
        let trapezoid = |(t0, r0): (u64, f64), (t1, r1): (u64, f64)| (r0 + r1) / 2.0 * (t1 - t0) as f64 / 60_000.0;
        let mut total = 0.0;
        let mut last = (0, self.rate_at(0));
        for &knot in self.points.iter().filter(|(at, _)| *at > 0 && *at < until_ms) {
            total += trapezoid(last, knot);
            last = knot;
        }
        total + trapezoid(last, (until_ms, self.rate_at(until_ms)))
    }
}

/// Who the patients are and how they confirm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    /// Share of each way, indexed by [`Way::index`]; sums to 1.
    pub ways: [f64; 4],
    /// Share of patients drawn from the generated population.
    pub population: f64,
    /// The shares of the fixed personas.
    pub personas: Vec<PersonaShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// A share of the patients that is one fixed persona.
pub struct PersonaShare {
    /// The persona.
    pub persona: String,
    /// The My Number card image they present at the reader (none: the reader is not
    /// modelled at card level for them).
    pub card: Option<String>,
    /// Its share of all patients.
    pub share: f64,
}

/// Service-time distributions of the human steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Placing the card on the reader and its reading (カード置き).
    #[serde(default = "Service::default_card_placement")]
    pub card_placement: Delay,
    /// Face match (顔認証).
    #[serde(default = "Service::default_face_match")]
    pub face_match: Delay,
    /// Entering the PIN (暗証番号入力).
    #[serde(default = "Service::default_pin_entry")]
    pub pin_entry: Delay,
    /// The consent screens (同意画面).
    #[serde(default = "Service::default_consent_screens")]
    pub consent_screens: Delay,
    /// Staff typing an insurance card into the client (受付入力).
    #[serde(default = "Service::default_desk_entry")]
    pub desk_entry: Delay,
}

impl Service {
    fn default_card_placement() -> Delay {
        Delay::LogNormal {
            median_ms: 4_000,
            sigma: 0.4,
        }
    }
    fn default_face_match() -> Delay {
        Delay::LogNormal {
            median_ms: 5_000,
            sigma: 0.4,
        }
    }
    fn default_pin_entry() -> Delay {
        Delay::LogNormal {
            median_ms: 9_000,
            sigma: 0.5,
        }
    }
    fn default_consent_screens() -> Delay {
        Delay::LogNormal {
            median_ms: 12_000,
            sigma: 0.5,
        }
    }
    fn default_desk_entry() -> Delay {
        Delay::LogNormal {
            median_ms: 25_000,
            sigma: 0.4,
        }
    }
}

impl Default for Service {
    fn default() -> Self {
        Service {
            card_placement: Self::default_card_placement(),
            face_match: Self::default_face_match(),
            pin_entry: Self::default_pin_entry(),
            consent_screens: Self::default_consent_screens(),
            desk_entry: Self::default_desk_entry(),
        }
    }
}

/// The machine steps. In real time the national and terminal values are installed in the
/// mocks (so the same profile runs in either mode) and the client is measured; on virtual
/// time all of them are drawn, `client_import` standing in for the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorldModel {
    /// The national system's answer time.
    #[serde(default = "WorldModel::default_national")]
    pub national: Delay,
    /// How long a request waits in `req/` before the terminal takes it.
    #[serde(default = "WorldModel::default_terminal_pickup")]
    pub terminal_pickup: Delay,
    /// The terminal writing a result.
    #[serde(default = "WorldModel::default_result_write")]
    pub result_write: Delay,
    /// Virtual time only: the client noticing and importing a result.
    #[serde(default = "WorldModel::default_client_import")]
    pub client_import: Delay,
}

impl WorldModel {
    fn default_national() -> Delay {
        Delay::LogNormal {
            median_ms: 400,
            sigma: 0.6,
        }
    }
    fn default_terminal_pickup() -> Delay {
        Delay::Uniform {
            min_ms: 100,
            max_ms: 1_000,
        }
    }
    fn default_result_write() -> Delay {
        Delay::Fixed { ms: 20 }
    }
    fn default_client_import() -> Delay {
        Delay::LogNormal {
            median_ms: 600,
            sigma: 0.5,
        }
    }

    /// A log-normal client import time with a measured median (p50) and 95th percentile, in
    /// ms: median = p50, σ = ln(p95 / p50) / 1.645 (the normal's 95 % point), σ in [0, 3].
    pub fn fit_client_import(p50_ms: f64, p95_ms: f64) -> Delay {
        let median = p50_ms.max(1.0);
        let sigma = ((p95_ms.max(median) / median).ln() / 1.644_854).clamp(0.0, 3.0);
        Delay::LogNormal {
            median_ms: median.round() as u64,
            sigma: (sigma * 1000.0).round() / 1000.0,
        }
    }
}

impl Default for WorldModel {
    fn default() -> Self {
        WorldModel {
            national: Self::default_national(),
            terminal_pickup: Self::default_terminal_pickup(),
            result_write: Self::default_result_write(),
            client_import: Self::default_client_import(),
        }
    }
}

/// A latency objective: the `percentile` of `from → to` stays within `max`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slo {
    /// The SLO's id.
    pub id: String,
    /// Where the span starts.
    pub from: Mark,
    /// Where it ends.
    pub to: Mark,
    /// The percentile judged (95 = p95).
    pub percentile: f64,
    #[serde(with = "millis")]
    /// The limit.
    pub max: Duration,
    /// Only these ways (empty: all ways that pass both marks).
    pub ways: Vec<Way>,
}

impl Slo {
    /// Whether the SLO judges visits of `way`.
    pub fn applies_to(&self, way: Way) -> bool {
        self.ways.is_empty() || self.ways.contains(&way)
    }

    /// The objective in words (`p95 of sent → imported ≤ 3 s`).
    pub fn describe(&self) -> String {
        let ways = if self.ways.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                self.ways.iter().map(|w| w.name()).collect::<Vec<_>>().join(", ")
            )
        };
        format!(
            "p{} {} → {} ≤ {}{ways}",
            self.percentile,
            self.from.name(),
            self.to.name(),
            human(self.max)
        )
    }
}

/// Limits of a real-time run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RealLimits {
    /// At most this many adapter processes (one per reception PC until the cap; then the
    /// facilities share them and waiting for one counts as import time).
    #[serde(default = "RealLimits::default_connections")]
    pub max_connections: u32,
}

impl RealLimits {
    fn default_connections() -> u32 {
        16
    }
}

impl Default for RealLimits {
    fn default() -> Self {
        RealLimits {
            max_connections: Self::default_connections(),
        }
    }
}

/// An arrival window written like `90s`, `10m`, `2h`: longer than zero and at most 24 h (a
/// profile's `duration`, a rush step's, `onshi rush --duration`).
pub fn parse_window(s: &str) -> Result<Duration, String> {
    let d = onshi_harness::clock::parse_duration(s)?;
    let d = d.to_std().map_err(|_| format!("{s:?} is negative"))?;
    if d.is_zero() {
        Err(format!("{s:?} must be longer than zero"))
    } else if d > MAX_DURATION {
        Err(format!("{} is beyond the limit of 24h", human(d)))
    } else {
        Ok(d)
    }
}

/// `90s`, `1.5s` style display of a duration.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 120_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{:.1} min", ms as f64 / 60_000.0)
    }
}

mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

// ---- the file as written ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    id: String,
    title: String,
    #[serde(default)]
    summary: String,
    duration: String,
    #[serde(default)]
    opens_at: Option<String>,
    #[serde(default)]
    facility: Vec<RawFacility>,
    #[serde(default)]
    curve: Vec<RawCurve>,
    mix: RawMix,
    #[serde(default)]
    service: Service,
    #[serde(default)]
    world: WorldModel,
    #[serde(default)]
    slo: Vec<RawSlo>,
    #[serde(default)]
    real: RealLimits,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacility {
    kind: FacilityKind,
    #[serde(default = "one")]
    count: i64,
    readers: i64,
    reception_pcs: i64,
    curve: String,
    /// Multiplies the curve's rates (a busier or quieter facility of the same shape).
    #[serde(default = "unit")]
    scale: f64,
}

fn one() -> i64 {
    1
}
fn unit() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCurve {
    name: String,
    points: Vec<RawPoint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    at: String,
    per_minute: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMix {
    ways: HashMap<Way, f64>,
    #[serde(default)]
    population: f64,
    #[serde(default)]
    persona: Vec<RawPersona>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPersona {
    id: String,
    #[serde(default)]
    card: Option<String>,
    share: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    id: String,
    from: Mark,
    to: Mark,
    percentile: f64,
    max: String,
    #[serde(default)]
    ways: Vec<Way>,
}

/// The most problems of one profile that are reported (each one is placed in the file with
/// a scan of the text; the rest are counted).
pub const MAX_PROBLEMS: usize = 20;

/// The most points one arrival curve may have.
pub const MAX_CURVE_POINTS: usize = 10_000;

/// Collects problems as `field: message`: the first [`MAX_PROBLEMS`], and how many more.
#[derive(Default)]
struct Problems(Vec<(String, String)>, usize);

impl Problems {
    fn add(&mut self, field: impl fmt::Display, message: impl Into<String>) {
        if self.0.len() < MAX_PROBLEMS {
            self.0.push((field.to_string(), message.into()));
        } else {
            self.1 += 1;
        }
    }

    fn duration(&mut self, field: &str, text: &str) -> Option<Duration> {
        match onshi_harness::clock::parse_duration(text) {
            Ok(d) if d < chrono::Duration::zero() => {
                self.add(field, format!("{text:?} is negative"));
                None
            }
            Ok(d) => d.to_std().ok(),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    fn share(&mut self, field: &str, x: f64) {
        if !(0.0..=1.0).contains(&x) {
            self.add(field, format!("{x} is not a share between 0 and 1"));
        }
    }
}

/// Reads and checks a profile. `origin` names it in errors (a path, or `scenarios/rush/…`).
pub fn load_profile(text: &str, origin: &str, registry: &Registry) -> Result<Profile, Vec<LoadError>> {
    let raw: ProfileFile = toml::from_str(text).map_err(|e| {
        vec![LoadError {
            file: origin.to_owned(),
            line: e.span().map(|s| onshi_harness::spec::line_of(text, s.start)),
            message: e.message().trim().to_owned(),
        }]
    })?;
    let mut p = Problems::default();
    let profile = check(raw, registry, &mut p);
    if p.0.is_empty()
        && let Some(profile) = profile
    {
        return Ok(profile);
    }
    let more = p.1;
    let mut errors: Vec<LoadError> =
        p.0.into_iter()
            .map(|(field, message)| LoadError {
                file: origin.to_owned(),
                line: onshi_harness::spec::toml_line(text, &field),
                message: format!("{field}: {message}"),
            })
            .collect();
    if more > 0 {
        errors.push(LoadError {
            file: origin.to_owned(),
            line: None,
            message: format!("… and {more} more problem(s): only the first {MAX_PROBLEMS} are shown"),
        });
    }
    Err(errors)
}

fn check(raw: ProfileFile, registry: &Registry, p: &mut Problems) -> Option<Profile> {
    if raw.id.trim().is_empty()
        || !raw
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        p.add("id", format!("{:?} must be letters, digits, - or _", raw.id));
    }
    let duration = parse_window(&raw.duration).map_err(|e| p.add("duration", e)).ok();
    let opens_at = match raw.opens_at.as_deref() {
        None => NaiveTime::from_hms_opt(8, 30, 0).expect("valid"),
        Some(t) => NaiveTime::parse_from_str(t, "%H:%M").unwrap_or_else(|_| {
            p.add("opens_at", format!("{t:?} is not a time written HH:MM"));
            NaiveTime::MIN
        }),
    };

    let mut curves: HashMap<String, Curve> = HashMap::new();
    for (i, c) in raw.curve.into_iter().enumerate() {
        let field = format!("curve[{i}]");
        if curves.contains_key(&c.name) {
            p.add(format!("{field}.name"), format!("{:?} is defined twice", c.name));
        }
        if c.points.is_empty() {
            p.add(format!("{field}.points"), "needs at least one point");
        }
        if c.points.len() > MAX_CURVE_POINTS {
            p.add(
                format!("{field}.points"),
                format!(
                    "has {} points; a curve may have at most {MAX_CURVE_POINTS} (rates are interpolated between points)",
                    c.points.len()
                ),
            );
            continue;
        }
        let mut points = Vec::with_capacity(c.points.len());
        for (j, pt) in c.points.iter().enumerate() {
            let f = format!("{field}.points[{j}]");
            let at = p.duration(&format!("{f}.at"), &pt.at);
            if !pt.per_minute.is_finite() || pt.per_minute < 0.0 {
                p.add(
                    format!("{f}.per_minute"),
                    format!("{} is not a rate (patients per minute ≥ 0)", pt.per_minute),
                );
            } else if pt.per_minute > MAX_PER_MINUTE {
                p.add(
                    format!("{f}.per_minute"),
                    format!(
                        "{} patients per minute at one facility is absurd (limit {MAX_PER_MINUTE})",
                        pt.per_minute
                    ),
                );
            }
            if let Some(at) = at {
                let at = at.as_millis() as u64;
                if points.last().is_some_and(|&(prev, _)| prev >= at) {
                    p.add(format!("{f}.at"), "points must be in increasing time order");
                }
                points.push((at, pt.per_minute));
            }
        }
        curves.insert(c.name.clone(), Curve { name: c.name, points });
    }

    if raw.facility.is_empty() {
        p.add("facility", "a profile needs at least one [[facility]]");
    }
    let share = |w: Way| raw.mix.ways.get(&w).copied().unwrap_or(0.0);
    let reader_share = share(Way::Face) + share(Way::Pin);
    let desk_share = share(Way::InsuranceCard) + share(Way::Api);
    let mut facilities = Vec::new();
    let mut total: u64 = 0;
    for (i, f) in raw.facility.into_iter().enumerate() {
        let field = format!("facility[{i}]");
        if f.count < 1 {
            p.add(
                format!("{field}.count"),
                format!("{} facilities: must be at least 1", f.count),
            );
        }
        total = total.saturating_add(f.count.max(0) as u64);
        if f.readers < 0 || f.readers > i64::from(MAX_READERS) {
            p.add(
                format!("{field}.readers"),
                format!("{} is not between 0 and {MAX_READERS}", f.readers),
            );
        } else if f.readers == 0 && reader_share > 0.0 {
            p.add(
                format!("{field}.readers"),
                format!(
                    "0 readers, but {:.0} % of patients use the face-auth reader (mix.ways face + pin)",
                    reader_share * 100.0
                ),
            );
        }
        if f.reception_pcs < 0 || f.reception_pcs > i64::from(MAX_RECEPTION_PCS) {
            p.add(
                format!("{field}.reception_pcs"),
                format!("{} is not between 0 and {MAX_RECEPTION_PCS}", f.reception_pcs),
            );
        } else if f.reception_pcs == 0 && desk_share > 0.0 {
            p.add(
                format!("{field}.reception_pcs"),
                format!(
                    "0 reception PCs, but {:.0} % of patients are served at the desk (mix.ways insurance_card + api)",
                    desk_share * 100.0
                ),
            );
        }
        if !f.scale.is_finite() || f.scale <= 0.0 {
            p.add(
                format!("{field}.scale"),
                format!("{} must be a positive factor", f.scale),
            );
        }
        let curve = match curves.get(&f.curve) {
            None => {
                p.add(format!("{field}.curve"), format!("no [[curve]] named {:?}", f.curve));
                None
            }
            Some(c) => {
                let mut c = c.clone();
                for pt in &mut c.points {
                    pt.1 *= f.scale;
                }
                if c.points.iter().any(|pt| pt.1 > MAX_PER_MINUTE) {
                    p.add(
                        format!("{field}.scale"),
                        format!("makes the curve exceed {MAX_PER_MINUTE} patients per minute at one facility"),
                    );
                }
                Some(c)
            }
        };
        if let Some(curve) = curve {
            facilities.push(FacilityGroup {
                kind: f.kind,
                count: f.count.max(0) as u64,
                readers: f.readers.clamp(0, i64::from(MAX_READERS)) as u32,
                reception_pcs: f.reception_pcs.clamp(0, i64::from(MAX_RECEPTION_PCS)) as u32,
                curve,
            });
        }
    }
    if total > MAX_FACILITIES {
        p.add(
            "facility",
            format!("{total} facilities in all is beyond the limit of {MAX_FACILITIES}"),
        );
    }

    let mut ways = [0.0; 4];
    for (w, x) in &raw.mix.ways {
        p.share(&format!("mix.ways.{}", w.name()), *x);
        ways[w.index()] = *x;
    }
    let sum: f64 = ways.iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        p.add("mix.ways", format!("the shares add up to {sum}, not 1"));
    }
    p.share("mix.population", raw.mix.population);
    let mut personas = Vec::new();
    for (i, r) in raw.mix.persona.into_iter().enumerate() {
        let field = format!("mix.persona[{i}]");
        p.share(&format!("{field}.share"), r.share);
        if registry.persona(&r.id).is_none() {
            p.add(
                format!("{field}.id"),
                format!("no persona {:?} in the registry (fixtures/personas.toml)", r.id),
            );
        }
        if let Some(card) = &r.card
            && let Err(e) = onshi_card::image::resolve(card)
        {
            p.add(format!("{field}.card"), e.to_string());
        }
        personas.push(PersonaShare {
            persona: r.id,
            card: r.card,
            share: r.share,
        });
    }
    let who: f64 = raw.mix.population + personas.iter().map(|x| x.share).sum::<f64>();
    if (who - 1.0).abs() > 1e-6 {
        p.add("mix", format!("population + persona shares add up to {who}, not 1"));
    }

    for (name, d) in [
        ("service.card_placement", &raw.service.card_placement),
        ("service.face_match", &raw.service.face_match),
        ("service.pin_entry", &raw.service.pin_entry),
        ("service.consent_screens", &raw.service.consent_screens),
        ("service.desk_entry", &raw.service.desk_entry),
        ("world.national", &raw.world.national),
        ("world.terminal_pickup", &raw.world.terminal_pickup),
        ("world.result_write", &raw.world.result_write),
        ("world.client_import", &raw.world.client_import),
    ] {
        check_delay(p, name, d);
    }

    let slos = check_slos(raw.slo, p);
    if raw.real.max_connections == 0 || raw.real.max_connections > 1024 {
        p.add(
            "real.max_connections",
            format!("{} is not between 1 and 1024", raw.real.max_connections),
        );
    }

    Some(Profile {
        id: raw.id,
        title: raw.title,
        summary: raw.summary,
        duration: duration?,
        opens_at,
        facilities,
        mix: Mix {
            ways,
            population: raw.mix.population,
            personas,
        },
        service: raw.service,
        world: raw.world,
        slos,
        real: raw.real,
    })
}

fn check_slos(raw: Vec<RawSlo>, p: &mut Problems) -> Vec<Slo> {
    let mut slos = Vec::new();
    let mut ids = HashMap::new();
    for (i, s) in raw.into_iter().enumerate() {
        let field = format!("slo[{i}]");
        if ids.insert(s.id.clone(), i).is_some() {
            p.add(format!("{field}.id"), format!("{:?} is used twice", s.id));
        }
        if s.from >= s.to {
            p.add(
                format!("{field}.to"),
                format!("{} does not come after {}", s.to.name(), s.from.name()),
            );
        }
        if !(s.percentile > 0.0 && s.percentile <= 100.0) {
            p.add(
                format!("{field}.percentile"),
                format!("{} is not in (0, 100]", s.percentile),
            );
        }
        if let Some(max) = p.duration(&format!("{field}.max"), &s.max) {
            slos.push(Slo {
                id: s.id,
                from: s.from,
                to: s.to,
                percentile: s.percentile,
                max,
                ways: s.ways,
            });
        }
    }
    slos
}

/// SLOs written outside a profile (a case's `rush` step), in the form of a profile's
/// `[[slo]]`; each problem as `slo[i].field: message`.
pub fn parse_slos(values: Vec<toml::Value>) -> Result<Vec<Slo>, Vec<String>> {
    let mut p = Problems::default();
    let mut raw = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        match RawSlo::deserialize(v) {
            Ok(r) => raw.push(r),
            Err(e) => p.add(format!("slo[{i}]"), e.to_string()),
        }
    }
    let slos = check_slos(raw, &mut p);
    if p.0.is_empty() {
        Ok(slos)
    } else {
        Err(p.0.into_iter().map(|(f, m)| format!("{f}: {m}")).collect())
    }
}

fn check_delay(p: &mut Problems, field: &str, d: &Delay) {
    match (d.check(), d) {
        (Err(m), _) => p.add(field, m),
        // a rush draws millions of times: tails wider than sigma 3 are not a reception desk
        (Ok(()), Delay::LogNormal { sigma, .. }) if *sigma > 3.0 => {
            p.add(field, format!("sigma {sigma} is not between 0 and 3"))
        }
        _ => {}
    }
}

impl Profile {
    /// Facilities in all.
    pub fn facility_count(&self) -> u64 {
        self.facilities.iter().map(|f| f.count).sum()
    }

    /// The group and the index within it of global facility `n`.
    pub fn facility(&self, mut n: u64) -> Option<(&FacilityGroup, u64)> {
        for g in &self.facilities {
            if n < g.count {
                return Some((g, n));
            }
            n -= g.count;
        }
        None
    }

    /// Expected patients over `window_ms` across all facilities.
    pub fn expected_patients(&self, window_ms: u64) -> f64 {
        self.facilities
            .iter()
            .map(|g| g.count as f64 * g.curve.expected(window_ms))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn a_client_model_is_fitted_from_its_median_and_95th_percentile() {
        use onshi_national::faults::Delay;
        assert_eq!(
            WorldModel::fit_client_import(200.0, 400.0),
            Delay::LogNormal {
                median_ms: 200,
                sigma: 0.421
            }
        );
        // below a millisecond, or a p95 under the p50 (too few samples): the floor
        assert_eq!(
            WorldModel::fit_client_import(0.3, 0.2),
            Delay::LogNormal {
                median_ms: 1,
                sigma: 0.0
            }
        );
    }

    fn registry() -> Registry {
        Registry::embedded(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(), 0)
    }

    const GOOD: &str = r#"
id = "t"
title = "t"
duration = "1h"
[[facility]]
kind = "clinic"
readers = 1
reception_pcs = 1
curve = "c"
[[curve]]
name = "c"
points = [{ at = "0m", per_minute = 1.0 }, { at = "30m", per_minute = 2.0 }]
[mix]
ways = { face = 0.5, insurance_card = 0.5 }
population = 0.9
persona = [{ id = "lost-eligibility", card = "lost-eligibility", share = 0.1 }]
[[slo]]
id = "S"
from = "served"
to = "imported"
percentile = 95
max = "30s"
"#;

    /// Loads GOOD with `from` replaced by `to` and returns the error messages.
    fn errors(from: &str, to: &str) -> Vec<String> {
        assert!(GOOD.contains(from), "{from}");
        match load_profile(&GOOD.replacen(from, to, 1), "p.toml", &registry()) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn assert_names(from: &str, to: &str, field: &str) {
        let e = errors(from, to);
        assert!(
            e.iter().any(|m| m.contains(&format!(" {field}: "))),
            "{field} not named in {e:?}"
        );
    }

    #[test]
    fn a_good_profile_loads() {
        let p = load_profile(GOOD, "p.toml", &registry()).unwrap();
        assert_eq!(p.duration, Duration::from_secs(3600));
        assert_eq!(p.facility_count(), 1);
        // 30 min ramping 1 → 2, then 30 min at 2: 45 + 60
        assert!((p.expected_patients(3_600_000) - 105.0).abs() < 1e-9);
        assert_eq!(p.slos[0].from, Mark::Served);
    }

    #[test]
    fn bad_values_name_their_field() {
        assert_names("per_minute = 1.0", "per_minute = -1.0", "curve[0].points[0].per_minute");
        assert_names(
            "per_minute = 2.0",
            "per_minute = 5000.0",
            "curve[0].points[1].per_minute",
        );
        assert_names("readers = 1", "readers = 0", "facility[0].readers");
        assert_names("reception_pcs = 1", "reception_pcs = 0", "facility[0].reception_pcs");
        assert_names(r#"id = "lost-eligibility""#, r#"id = "nobody""#, "mix.persona[0].id");
        assert_names(
            r#"card = "lost-eligibility""#,
            r#"card = "no-such-card""#,
            "mix.persona[0].card",
        );
        assert_names(r#"duration = "1h""#, r#"duration = "25h""#, "duration");
        assert_names(r#"duration = "1h""#, r#"duration = "0s""#, "duration");
        assert_names(r#"duration = "1h""#, r#"duration = "soon""#, "duration");
        assert_names("face = 0.5", "face = 0.7", "mix.ways");
        assert_names("population = 0.9", "population = 0.5", "mix");
        assert_names(r#"curve = "c""#, r#"curve = "d""#, "facility[0].curve");
        assert_names(r#"at = "30m""#, r#"at = "0m""#, "curve[0].points[1].at");
        assert_names("percentile = 95", "percentile = 120", "slo[0].percentile");
        assert_names(r#"to = "imported""#, r#"to = "arrived""#, "slo[0].to");
        assert_names("readers = 1", "readers = 1\ncount = 0", "facility[0].count");
        assert_names("readers = 1", "readers = 1\nscale = -2.0", "facility[0].scale");
        assert_names("readers = 1", "readers = 1\ncount = 3000000", "facility");
    }

    #[test]
    fn errors_point_at_the_line() {
        let e = load_profile(&GOOD.replacen("readers = 1", "readers = 0", 1), "p.toml", &registry()).unwrap_err();
        assert_eq!(
            e[0].line,
            Some(GOOD.lines().position(|l| l.starts_with("readers")).unwrap() + 1)
        );
    }

    #[test]
    fn type_errors_and_unknown_fields_are_load_errors() {
        let e = errors("readers = 1", "readers = \"one\"");
        assert!(e[0].starts_with("p.toml:"), "{e:?}");
        let e = errors("readers = 1", "readers = 1\nwheelchairs = 2");
        assert!(e[0].contains("wheelchairs"), "{e:?}");
        let e = errors("face = 0.5", "telepathy = 0.5");
        assert!(e[0].contains("telepathy"), "{e:?}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = GOOD
            .replacen("readers = 1", "readers = 0", 1)
            .replacen("percentile = 95", "percentile = 0", 1);
        let e = load_profile(&text, "p.toml", &registry()).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn the_shipped_profiles_load() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/rush");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let p = load_profile(&text, &path.display().to_string(), &registry()).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(
                Some(p.id.as_str()),
                path.file_stem().and_then(|s| s.to_str()),
                "id = file name"
            );
            n += 1;
        }
        assert!(n >= 4);
    }

    #[test]
    fn the_national_peak_has_the_national_facility_counts() {
        let text = include_str!("../../../scenarios/rush/national-peak.toml");
        let p = load_profile(text, "national-peak", &registry()).unwrap();
        assert_eq!(p.facility_count(), 229_963);
        let of = |k| {
            p.facilities
                .iter()
                .filter(|f| f.kind == k)
                .map(|f| f.count)
                .sum::<u64>()
        };
        assert_eq!((of(FacilityKind::Hospital), of(FacilityKind::Clinic)), (8_187, 89_816));
        assert_eq!(p.duration, Duration::from_secs(3600));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// The expected count is the integral of the rate: a sum over a 100 ms grid (exact,
        /// since the rate is linear between points on that grid) agrees.
        #[test]
        fn expected_patients_are_the_integral_of_the_rate(
            steps in proptest::collection::vec((1u64..600, 0.0f64..50.0), 1..12),
            until in 0u64..800,
        ) {
            let mut at = 0;
            let points: Vec<(u64, f64)> = steps
                .iter()
                .enumerate()
                .map(|(i, &(gap, rate))| {
                    if i > 0 {
                        at += gap * 100;
                    }
                    (at, rate)
                })
                .collect();
            let curve = Curve { name: "c".into(), points };
            let until_ms = until * 100;
            let grid: f64 = (0..until)
                .map(|k| (curve.rate_at(k * 100) + curve.rate_at(k * 100 + 100)) / 2.0 * 100.0 / 60_000.0)
                .sum();
            let e = curve.expected(until_ms);
            proptest::prop_assert!((e - grid).abs() <= 1e-9 * grid.max(1.0), "{e} vs {grid}");
        }
    }
}
