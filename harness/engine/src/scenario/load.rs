//! Loading and validating a suite. Every problem is reported with the file, the line and
//! what is wrong — and all problems at once, not just the first.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use onshi_national::ConsentChoices;
use onshi_protocol::codes::{self, Code};
use onshi_protocol::driver::capability;
use onshi_registry::Registry;
use onshi_terminal::TerminalSettings;
use serde::Deserialize;

use onshi_national::faults::{Fault, FaultBook};
use onshi_national::http::ServerSettings;
use onshi_national::state::PersonChange;
use onshi_protocol::driver::{MedicalInfoFormat, MedicalInfoKind, PullKind, Via};

use super::timing;
use super::{
    Action, ApiSetup, CardSpec, Case, CaseDef, Expect, PeriodSpec, PullSpec, ReferenceSpec, Severity, SlowSpec, StepDef,
};
use crate::checks;
use crate::rush::Profile;

/// A case file as written. Steps are plain tables here (not a tagged enum) so that every
/// key keeps its position for error messages; [`typed_step`] turns them into [`StepDef`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    id: String,
    title: String,
    requirement: OneOrMany,
    capabilities: Vec<String>,
    severity: Severity,
    summary: String,
    #[serde(default)]
    checks: Vec<String>,
    client_timeout_ms: Option<u64>,
    #[serde(default)]
    terminal: TerminalSettings,
    #[serde(default)]
    national: ServerSettings,
    #[serde(default)]
    api: ApiSetup,
    #[serde(default)]
    step: Vec<RawStep>,
}

/// `requirement = "ID"` or `requirement = ["ID", "ID"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(rename = "do")]
    action: Action,
    via: Option<Via>,
    card: Option<CardSpec>,
    consent_limit_certificate: Option<bool>,
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
    persona: Option<String>,
    my_number_card: Option<String>,
    auth: Option<onshi_terminal::reader::AuthMethod>,
    remove_at: Option<onshi_terminal::reader::Stage>,
    consents: Option<ConsentChoices>,
    slow: Option<SlowSpec>,
    ms: Option<u64>,
    by: Option<String>,
    fault: Option<Fault>,
    id: Option<String>,
    change: Option<PersonChange>,
    entries: Option<Vec<ReferenceSpec>>,
    bulk: Option<bool>,
    cards: Option<Vec<CardSpec>>,
    kind: Option<String>,
    month: Option<String>,
    consent_from: Option<String>,
    consent_to: Option<String>,
    examined_from: Option<String>,
    examined_to: Option<String>,
    format: Option<MedicalInfoFormat>,
    period: Option<PeriodSpec>,
    remove_during: Option<super::CardCommand>,
    pin: Option<String>,
    profile: Option<String>,
    duration: Option<String>,
    slo: Option<Vec<toml::Value>>,
}

impl RawStep {
    fn present_keys(&self) -> Vec<&'static str> {
        [
            (self.via.is_some(), "via"),
            (self.card.is_some(), "card"),
            (self.consent_limit_certificate.is_some(), "consent_limit_certificate"),
            (self.timeout_ms.is_some(), "timeout_ms"),
            (self.expect.is_some(), "expect"),
            (self.persona.is_some(), "persona"),
            (self.my_number_card.is_some(), "my_number_card"),
            (self.auth.is_some(), "auth"),
            (self.remove_at.is_some(), "remove_at"),
            (self.consents.is_some(), "consents"),
            (self.slow.is_some(), "slow"),
            (self.ms.is_some(), "ms"),
            (self.by.is_some(), "by"),
            (self.fault.is_some(), "fault"),
            (self.id.is_some(), "id"),
            (self.change.is_some(), "change"),
            (self.entries.is_some(), "entries"),
            (self.bulk.is_some(), "bulk"),
            (self.cards.is_some(), "cards"),
            (self.kind.is_some(), "kind"),
            (self.month.is_some(), "month"),
            (self.consent_from.is_some(), "consent_from"),
            (self.consent_to.is_some(), "consent_to"),
            (self.examined_from.is_some(), "examined_from"),
            (self.profile.is_some(), "profile"),
            (self.duration.is_some(), "duration"),
            (self.slo.is_some(), "slo"),
            (self.examined_to.is_some(), "examined_to"),
            (self.format.is_some(), "format"),
            (self.period.is_some(), "period"),
            (self.remove_during.is_some(), "remove_during"),
            (self.pin.is_some(), "pin"),
        ]
        .into_iter()
        .filter_map(|(present, key)| present.then_some(key))
        .collect()
    }
}

fn allowed_keys(action: Action) -> &'static [&'static str] {
    match action {
        Action::ConfirmQualification => &["via", "card", "consent_limit_certificate", "timeout_ms", "expect"],
        Action::PresentCard => &["persona", "my_number_card", "auth", "remove_at", "consents", "slow"],
        Action::ImportFace => &["timeout_ms", "expect"],
        Action::Wait => &["ms"],
        Action::AdvanceClock => &["by"],
        Action::SetFault => &["fault"],
        Action::ClearFault => &["id"],
        Action::ChangePerson => &["change"],
        Action::RevokeTokens => &[],
        Action::RegisterReferenceNumber => &["entries", "bulk", "timeout_ms", "expect"],
        Action::ConfirmBulk => &["cards", "timeout_ms", "expect"],
        Action::PullBulk => &[
            "kind",
            "month",
            "consent_from",
            "consent_to",
            "examined_from",
            "examined_to",
            "timeout_ms",
            "expect",
        ],
        Action::FetchMedicalInfo => &["kind", "card", "format", "period", "timeout_ms", "expect"],
        Action::InsertCard => &["my_number_card", "remove_during"],
        Action::RemoveCard => &[],
        Action::VerifyCardPin => &["pin", "timeout_ms", "expect"],
        Action::Rush => &["profile", "duration", "slo"],
    }
}

/// A typed step, or the misplaced and missing keys (key, message).
fn typed_step(
    raw: RawStep,
    profiles: &HashMap<String, Profile>,
    case_timeout_ms: Option<u64>,
) -> Result<StepDef, Vec<(Option<&'static str>, String)>> {
    let allowed = allowed_keys(raw.action);
    let name = raw.action.name();
    let mut problems: Vec<(Option<&'static str>, String)> = raw
        .present_keys()
        .into_iter()
        .filter(|k| !allowed.contains(k))
        .map(|k| {
            (
                Some(k),
                format!(
                    "`{k}` does not belong to a {name} step (allowed: {})",
                    allowed.join(", ")
                ),
            )
        })
        .collect();
    // steps that ask for a time-out take the case's unless they give their own
    let timeout_ms = if allowed.contains(&"timeout_ms") {
        raw.timeout_ms.or(case_timeout_ms)
    } else {
        raw.timeout_ms
    };
    let mut need = |key: &str| problems.push((None, format!("a {name} step needs `{key}`")));
    let step = match raw.action {
        Action::ConfirmQualification => match raw.card {
            Some(card) => Some(StepDef::ConfirmQualification {
                via: raw.via.unwrap_or(Via::File),
                card,
                consent_limit_certificate: raw.consent_limit_certificate.unwrap_or(false),
                timeout_ms,
                expect: raw.expect.unwrap_or_default(),
            }),
            None => {
                need("card");
                None
            }
        },
        Action::PresentCard => {
            // the holder of a shipped card is known; the persona may then be left out
            let holder = raw.my_number_card.as_deref().and_then(|id| {
                onshi_registry::card_holdings(onshi_registry::cards::EMBEDDED_CARDS)
                    .ok()?
                    .into_iter()
                    .find(|c| c.card == id)
                    .map(|c| c.persona)
            });
            match (raw.persona, holder) {
                (Some(p), Some(h)) if p != h => {
                    problems.push((
                        Some("persona"),
                        format!("persona {p:?} does not hold my_number_card (its holder is {h:?})"),
                    ));
                    None
                }
                (Some(persona), _) | (None, Some(persona)) => Some(StepDef::PresentCard {
                    persona,
                    my_number_card: raw.my_number_card,
                    auth: raw.auth.unwrap_or_default(),
                    remove_at: raw.remove_at,
                    consents: raw.consents.unwrap_or_default(),
                    slow: raw.slow,
                }),
                (None, None) => {
                    need("persona` or a shipped `my_number_card");
                    None
                }
            }
        }
        Action::ImportFace => Some(StepDef::ImportFace {
            timeout_ms: timeout_ms.unwrap_or(10_000),
            expect: raw.expect.unwrap_or_default(),
        }),
        Action::Wait => match raw.ms {
            Some(ms) => Some(StepDef::Wait { ms }),
            None => {
                need("ms");
                None
            }
        },
        Action::AdvanceClock => match raw.by {
            Some(by) => Some(StepDef::AdvanceClock { by }),
            None => {
                need("by");
                None
            }
        },
        Action::SetFault => match raw.fault {
            Some(fault) => Some(StepDef::SetFault { fault }),
            None => {
                need("fault");
                None
            }
        },
        Action::ClearFault => match raw.id {
            Some(id) => Some(StepDef::ClearFault { id }),
            None => {
                need("id");
                None
            }
        },
        Action::ChangePerson => match raw.change {
            Some(change) => Some(StepDef::ChangePerson { change }),
            None => {
                need("change");
                None
            }
        },
        Action::RevokeTokens => Some(StepDef::RevokeTokens),
        Action::RegisterReferenceNumber => match raw.entries {
            Some(entries) => Some(StepDef::RegisterReferenceNumber {
                entries,
                bulk: raw.bulk.unwrap_or(false),
                timeout_ms,
                expect: raw.expect.unwrap_or_default(),
            }),
            None => {
                need("entries");
                None
            }
        },
        Action::ConfirmBulk => match raw.cards {
            Some(cards) => Some(StepDef::ConfirmBulk {
                cards,
                timeout_ms,
                expect: raw.expect.unwrap_or_default(),
            }),
            None => {
                need("cards");
                None
            }
        },
        Action::PullBulk => match raw.kind.as_deref().map(parse_pull_kind) {
            Some(Ok(kind)) => Some(StepDef::PullBulk {
                pull: PullSpec {
                    kind,
                    month: raw.month,
                    consent_from: raw.consent_from,
                    consent_to: raw.consent_to,
                    examined_from: raw.examined_from,
                    examined_to: raw.examined_to,
                },
                timeout_ms,
                expect: raw.expect.unwrap_or_default(),
            }),
            Some(Err(m)) => {
                problems.push((Some("kind"), m));
                None
            }
            None => {
                need("kind");
                None
            }
        },
        Action::FetchMedicalInfo => match (raw.kind.as_deref().map(parse_medical_kind), raw.card) {
            (Some(Ok(kind)), Some(card)) => Some(StepDef::FetchMedicalInfo {
                kind,
                card,
                format: raw.format.unwrap_or(MedicalInfoFormat::Xml),
                period: raw.period,
                timeout_ms,
                expect: raw.expect.unwrap_or_default(),
            }),
            (Some(Err(m)), _) => {
                problems.push((Some("kind"), m));
                None
            }
            (kind, card) => {
                if kind.is_none() {
                    need("kind");
                }
                if card.is_none() {
                    need("card");
                }
                None
            }
        },
        Action::InsertCard => match raw.my_number_card {
            Some(my_number_card) => Some(StepDef::InsertCard {
                my_number_card,
                remove_during: raw.remove_during,
            }),
            None => {
                need("my_number_card");
                None
            }
        },
        Action::RemoveCard => Some(StepDef::RemoveCard),
        Action::VerifyCardPin => match raw.pin {
            Some(pin) => Some(StepDef::VerifyCardPin {
                pin,
                timeout_ms,
                expect: raw.expect.unwrap_or_default(),
            }),
            None => {
                need("pin");
                None
            }
        },
        Action::Rush => match raw.profile.as_deref().map(|id| (id, profiles.get(id))) {
            None => {
                need("profile");
                None
            }
            Some((id, None)) => {
                let mut known: Vec<&str> = profiles.keys().map(String::as_str).collect();
                known.sort_unstable();
                problems.push((
                    Some("profile"),
                    format!(
                        "no rush profile {id:?} in the suite's rush/ folder (known: {})",
                        known.join(", ")
                    ),
                ));
                None
            }
            Some((_, Some(profile))) => rush_step(profile, raw.duration.as_deref(), raw.slo, &mut problems),
        },
    };
    match step {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(problems),
    }
}

/// A `rush` step: the profile, its window (the step's `duration` or the profile's), and the
/// step's SLOs in place of the profile's when it gives any.
fn rush_step(
    profile: &Profile,
    duration: Option<&str>,
    slo: Option<Vec<toml::Value>>,
    problems: &mut Vec<(Option<&'static str>, String)>,
) -> Option<StepDef> {
    let mut profile = profile.clone();
    let window = match duration {
        None => profile.duration,
        Some(d) => match crate::rush::profile::parse_window(d) {
            Ok(d) => d,
            Err(e) => {
                problems.push((Some("duration"), e));
                return None;
            }
        },
    };
    if let Some(values) = slo {
        match crate::rush::profile::parse_slos(values) {
            Ok(slos) => profile.slos = slos,
            Err(e) => {
                problems.extend(e.into_iter().map(|m| (Some("slo"), m)));
                return None;
            }
        }
    }
    if profile.slos.is_empty() {
        problems.push((
            Some("slo"),
            "a rush step needs SLOs (its own `slo` or the profile's)".into(),
        ));
        return None;
    }
    Some(StepDef::Rush {
        profile: Box::new(profile),
        window_us: window.as_micros() as u64,
    })
}

fn parse_pull_kind(s: &str) -> Result<PullKind, String> {
    match s {
        "medical_aid" => Ok(PullKind::MedicalAid),
        "home_visit" => Ok(PullKind::HomeVisit),
        "online" => Ok(PullKind::Online),
        other => Err(format!(
            "kind {other:?} is not a pull (medical_aid, home_visit, online)"
        )),
    }
}

fn parse_medical_kind(s: &str) -> Result<MedicalInfoKind, String> {
    match s {
        "drug" => Ok(MedicalInfoKind::Drug),
        "checkup" => Ok(MedicalInfoKind::Checkup),
        other => Err(format!("kind {other:?} is not medical information (drug, checkup)")),
    }
}

/// A problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The cases of a suite, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// Where the suite came from (a directory, or "embedded").
    pub origin: String,
    pub cases: Vec<Case>,
    /// The rush profiles beside the cases (cases' rush steps name them).
    pub profiles: Arc<HashMap<String, Profile>>,
}

impl Suite {
    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.id() == id)
    }
}

/// The most steps one case may have (real cases have a few dozen).
pub const MAX_STEPS: usize = 1000;

/// Loads every `*.toml` below `dir`.
pub fn load_dir(dir: &Path, registry: &Registry) -> Result<Suite, Vec<LoadError>> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files).map_err(|e| {
        vec![LoadError {
            file: dir.display().to_string(),
            line: None,
            message: format!("cannot read the suite folder: {e}"),
        }]
    })?;
    if files.is_empty() {
        return Err(vec![LoadError {
            file: dir.display().to_string(),
            line: None,
            message: "no scenario files (*.toml) in this folder".into(),
        }]);
    }
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for rel in files {
        let path = dir.join(&rel);
        match crate::input::read_text(&path, "scenario file", crate::input::MAX_TEXT_BYTES) {
            Ok(text) => sources.push((rel, text)),
            Err(e) => errors.push(LoadError {
                file: path.display().to_string(),
                line: None,
                message: e.to_string(),
            }),
        }
    }
    let result = load_sources(&dir.display().to_string(), &sources, registry);
    match (result, errors.is_empty()) {
        (Ok(suite), true) => Ok(suite),
        (Ok(_), false) => Err(errors),
        (Err(mut e), _) => {
            errors.append(&mut e);
            Err(errors)
        }
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        if e.file_type()?.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|x| x == "toml") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// The folder of rush profiles inside a suite (`scenarios/rush/`).
pub const RUSH_DIR: &str = "rush/";

/// Loads cases from `(relative path, text)` pairs.
pub fn load_sources(origin: &str, sources: &[(String, String)], registry: &Registry) -> Result<Suite, Vec<LoadError>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    // the rush profiles first: cases' rush steps name them
    let mut profiles = HashMap::new();
    for (rel, text) in sources.iter().filter(|(rel, _)| rel.starts_with(RUSH_DIR)) {
        let file = if origin == "embedded" {
            format!("scenarios/{rel}")
        } else {
            format!("{origin}/{rel}")
        };
        match crate::rush::load_profile(text, &file, registry) {
            Ok(p) => {
                profiles.insert(p.id.clone(), p);
            }
            Err(e) => errors.extend(e),
        }
    }
    for (rel, text) in sources {
        // rush profiles live beside the cases but are not cases
        if rel.starts_with(RUSH_DIR) {
            continue;
        }
        let file = if origin == "embedded" {
            format!("scenarios/{rel}")
        } else {
            format!("{origin}/{rel}")
        };
        match load_case(origin, rel, &file, text, &profiles, registry, None) {
            Ok(case) => {
                if let Some(other) = seen.insert(case.def.id.clone(), file.clone()) {
                    errors.push(LoadError {
                        file: file.clone(),
                        line: find_line(text, "id"),
                        message: format!("case id {} is also used by {other}", case.def.id),
                    });
                } else {
                    cases.push(case);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(Suite {
            origin: origin.to_owned(),
            cases,
            profiles: Arc::new(profiles),
        })
    } else {
        Err(errors)
    }
}

/// One case from its file. `client_timeout_ms`: the client's declared time-out, which the
/// case's time expressions follow (default: the case's own `client_timeout_ms`).
fn load_case(
    origin: &str,
    rel: &str,
    file: &str,
    source: &str,
    profiles: &HashMap<String, Profile>,
    registry: &Registry,
    client_timeout_ms: Option<u64>,
) -> Result<Case, Vec<LoadError>> {
    let error = |line: Option<usize>, message: String| LoadError {
        file: file.to_owned(),
        line,
        message,
    };
    let follows = timing::uses_timeout(source);
    let substituted;
    let text = if follows {
        let own = case_timeout(source);
        let Some(t) = client_timeout_ms.or(own) else {
            return Err(vec![error(
                None,
                "the case gives times relative to the client's time-out (\"timeout …\") but no `client_timeout_ms` for clients that declare none".into(),
            )]);
        };
        substituted = timing::substitute(source, t).map_err(|e| vec![error(Some(e.line), e.message)])?;
        substituted.text.as_str()
    } else {
        source
    };
    let too_many = |n: usize| {
        vec![error(
            None,
            format!("the case has {n} steps; a case may have at most {MAX_STEPS} (split it into several cases)"),
        )]
    };
    // counted before parsing: a huge case is refused before it is built in memory
    let headers = text.lines().filter(|l| l.trim() == "[[step]]").count();
    if headers > MAX_STEPS {
        return Err(too_many(headers));
    }
    let raw: CaseFile = toml::from_str(text).map_err(|e| {
        vec![error(
            e.span().map(|s| line_of(text, s.start)),
            e.message().trim().to_owned(),
        )]
    })?;
    if raw.step.len() > MAX_STEPS {
        return Err(too_many(raw.step.len()));
    }
    let step_lines = StepLines::new(text);
    let mut errors = Vec::new();
    let mut steps = Vec::with_capacity(raw.step.len());
    for (i, step) in raw.step.into_iter().enumerate() {
        match typed_step(step, profiles, raw.client_timeout_ms) {
            Ok(mut s) => {
                if origin != "embedded" {
                    card_path_from_case(&mut s, file);
                }
                steps.push(s)
            }
            Err(problems) => {
                for (key, message) in problems {
                    errors.push(error(
                        key.and_then(|k| step_lines.key(i, k)).or_else(|| step_lines.step(i)),
                        format!("step {}: {message}", i + 1),
                    ));
                }
            }
        }
    }
    let requirements = raw.requirement.into_vec();
    let def = CaseDef {
        id: raw.id,
        title: raw.title,
        requirement: requirements.join(", "),
        requirements,
        capabilities: raw.capabilities,
        severity: raw.severity,
        summary: raw.summary,
        checks: raw.checks,
        client_timeout_ms: raw.client_timeout_ms,
        follows_client_timeout: follows,
        terminal: raw.terminal,
        national: raw.national,
        api: raw.api,
        steps,
    };
    validate(&def, rel, text, file, registry, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let area = rel.rsplit_once('/').map(|(a, _)| a.to_owned()).unwrap_or_default();
    Ok(Case {
        def,
        source: rel.to_owned(),
        area,
        text: follows.then(|| Arc::from(source)),
    })
}

/// The case's own `client_timeout_ms`, read before its expressions can be evaluated.
fn case_timeout(text: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "client_timeout_ms")
            .then(|| value.split('#').next()?.trim().replace('_', "").parse().ok())
            .flatten()
    })
}

impl Suite {
    /// `case` with its times following a client that declared its own time-out of
    /// `timeout_ms` (unchanged when the case has no time expressions).
    pub fn for_client_timeout(&self, case: &Case, timeout_ms: u64, registry: &Registry) -> Result<Case, String> {
        let Some(text) = &case.text else {
            return Ok(case.clone());
        };
        let file = if self.origin == "embedded" {
            format!("scenarios/{}", case.source)
        } else {
            format!("{}/{}", self.origin, case.source)
        };
        load_case(
            &self.origin,
            &case.source,
            &file,
            text,
            &self.profiles,
            registry,
            Some(timeout_ms),
        )
        .map_err(|e| {
            let problems: Vec<String> = e.iter().map(ToString::to_string).collect();
            format!(
                "with the client's declared time-out of {timeout_ms} ms the case does not hold: {}",
                problems.join("; ")
            )
        })
    }
}

/// A card image named by a relative path in a case file is the file's neighbour, not the
/// working directory's: the suite may be run from anywhere.
fn card_path_from_case(step: &mut StepDef, case_file: &str) {
    let card = match step {
        StepDef::PresentCard {
            my_number_card: Some(card),
            ..
        }
        | StepDef::InsertCard {
            my_number_card: card, ..
        } => card,
        _ => return,
    };
    let is_path = card.ends_with(".toml") || card.contains('/');
    let dir = Path::new(case_file).parent();
    if let Some(dir) = dir.filter(|_| is_path && Path::new(card.as_str()).is_relative()) {
        *card = dir.join(card.as_str()).display().to_string();
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of the first `key = …` at the start of a line.
fn find_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(key) && l.trim_start()[key.len()..].trim_start().starts_with('='))
        .map(|i| i + 1)
}

/// Where each `[[step]]` table starts, found in one pass so that placing the errors of many
/// steps stays linear in the file's length.
struct StepLines<'a> {
    lines: Vec<&'a str>,
    /// Index into `lines` of each `[[step]]` header, in order.
    starts: Vec<usize>,
}

impl<'a> StepLines<'a> {
    fn new(text: &'a str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let starts = (0..lines.len()).filter(|&i| lines[i].trim() == "[[step]]").collect();
        StepLines { lines, starts }
    }

    /// The line (1-based) of the `index`-th `[[step]]` table.
    fn step(&self, index: usize) -> Option<usize> {
        self.starts.get(index).map(|i| i + 1)
    }

    /// The line of `key = …` inside the `index`-th `[[step]]` (before the next `[[step]]`).
    fn key(&self, index: usize, key: &str) -> Option<usize> {
        let start = *self.starts.get(index)?;
        let end = self.starts.get(index + 1).copied().unwrap_or(self.lines.len());
        (start..end)
            .find(|&i| {
                let t = self.lines[i].trim_start();
                t.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
    }
}

fn validate(def: &CaseDef, rel: &str, text: &str, file: &str, registry: &Registry, errors: &mut Vec<LoadError>) {
    let mut err = |line: Option<usize>, message: String| {
        errors.push(LoadError {
            file: file.to_owned(),
            line,
            message,
        })
    };
    let id_ok = !def.id.is_empty()
        && def.id.split('-').count() >= 2
        && def
            .id
            .split('-')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    if !id_ok {
        err(
            find_line(text, "id"),
            format!("case id {:?} must look like AREA-TOPIC-001 (A–Z, 0–9, '-')", def.id),
        );
    }
    let stem = rel.rsplit('/').next().unwrap_or(rel).trim_end_matches(".toml");
    if id_ok && stem != def.id {
        err(
            find_line(text, "id"),
            format!("the file must be named after its case id: {}.toml", def.id),
        );
    }
    for c in &def.capabilities {
        if !capability::ALL.contains(&c.as_str()) {
            err(
                find_line(text, "capabilities"),
                format!("unknown capability {c:?} (known: {})", capability::ALL.join(", ")),
            );
        }
    }
    for c in &def.checks {
        if !checks::CASE_CHECKS.contains(&c.as_str()) {
            err(
                find_line(text, "checks"),
                format!(
                    "{c:?} is not a case-level check (known: {})",
                    checks::CASE_CHECKS.join(", ")
                ),
            );
        }
    }
    if def.requirements.is_empty() {
        err(
            find_line(text, "requirement"),
            "requirement names no requirement".into(),
        );
    }
    for r in &def.requirements {
        if super::requirements::get(r).is_none() {
            let known: Vec<&str> = super::requirements::all().iter().map(|r| r.id.as_str()).collect();
            err(
                find_line(text, "requirement"),
                format!(
                    "unknown requirement {r:?}: cases name requirements of requirements/requirements.toml ({})",
                    known.join(", ")
                ),
            );
        }
    }
    if let Err(m) = def.national.check() {
        let header = text.lines().position(|l| l.trim() == "[national]").map(|i| i + 1);
        err(header, format!("[national] {m}"));
    }
    for (name, delay) in [
        ("pickup_delay", &def.terminal.pickup_delay),
        ("result_delay", &def.terminal.result_delay),
    ] {
        if let Some(Err(m)) = delay.as_ref().map(|d| d.check()) {
            err(find_line(text, name), format!("[terminal] {name}: {m}"));
        }
    }
    if def.steps.is_empty() {
        err(None, "a case needs at least one [[step]]".into());
    }
    let mut presented = false;
    let step_lines = StepLines::new(text);
    for (i, step) in def.steps.iter().enumerate() {
        let line = step_lines.step(i);
        let mut step_err = |m: String| err(line, format!("step {} ({}): {m}", i + 1, step.action()));
        match step {
            StepDef::ConfirmQualification { card, expect, .. } => {
                if let Err(m) = check_card(card, registry) {
                    step_err(m);
                }
                if let Some(check) = &expect.check
                    && checks::info(check).is_none()
                {
                    step_err(format!(
                        "expect.check {check:?} is not in the check catalogue (docs/checks.md)"
                    ));
                }
                if expect.consents.is_some() || expect.reference_number.is_some() {
                    step_err("consents and reference_number are expectations of import_face".into());
                }
            }
            StepDef::PresentCard {
                persona,
                my_number_card,
                auth,
                remove_at,
                consents,
                slow,
            } => {
                presented = true;
                if let Some(card) = my_number_card
                    && !card.ends_with(".toml")
                    && registry.cards().iter().all(|c| &c.card != card)
                {
                    step_err(format!(
                        "my_number_card {card:?} is not a shipped card ({}; see `onshi card list`)",
                        registry
                            .cards()
                            .iter()
                            .map(|c| c.card.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if my_number_card.is_none()
                    && (*auth != onshi_terminal::reader::AuthMethod::default() || remove_at.is_some())
                {
                    step_err("auth and remove_at need a my_number_card: the reader model runs on the card".into());
                }
                if registry.persona(persona).is_none() {
                    step_err(format!("no persona {persona:?} in fixtures/personas.toml"));
                }
                let flags = [
                    (
                        "limit_certificate",
                        &consents.limit_certificate,
                        codes::LimitConsentFlag::TABLE,
                    ),
                    (
                        "specific_diseases",
                        &consents.specific_diseases,
                        codes::ConsentFlag::TABLE,
                    ),
                    (
                        "specific_health_checkups",
                        &consents.specific_health_checkups,
                        codes::ConsentFlag::TABLE,
                    ),
                    ("pharmacists", &consents.pharmacists, codes::ConsentFlag::TABLE),
                    ("diagnosis", &consents.diagnosis, codes::ConsentFlag::TABLE),
                    ("operation", &consents.operation, codes::ConsentFlag::TABLE),
                ];
                for (name, flag, table) in flags {
                    if let Some(f) = flag
                        && table.lookup(f).is_none()
                    {
                        step_err(format!(
                            "consents.{name} = {f:?} is not in {} ({})",
                            table.id,
                            table.summary()
                        ));
                    }
                }
                if slow.is_some_and(|s| s.chunks == 0) {
                    step_err("slow.chunks must be at least 1".into());
                }
            }
            StepDef::ImportFace { expect, .. } => {
                if !presented {
                    step_err("there is no earlier present_card step whose face file could be imported".into());
                }
                if let Some(check) = &expect.check
                    && checks::info(check).is_none()
                {
                    step_err(format!(
                        "expect.check {check:?} is not in the check catalogue (docs/checks.md)"
                    ));
                }
                if expect.request.is_some() {
                    step_err("expect.request belongs to confirm_qualification (a face import sends no request)".into());
                }
            }
            StepDef::Wait { ms } => {
                if *ms > 600_000 {
                    step_err("waits longer than 10 minutes are not allowed".into());
                }
            }
            StepDef::AdvanceClock { by } => {
                if let Err(m) = crate::clock::parse_duration(by) {
                    step_err(m);
                }
            }
            StepDef::SetFault { fault } => {
                if let Err(e) = FaultBook::new(0).set(fault.clone(), registry.today()) {
                    step_err(e.to_string());
                }
                if let Some(p) = &fault.scope.persona
                    && registry.persona(p).is_none()
                {
                    step_err(format!(
                        "the fault is scoped to persona {p:?}, which is not in fixtures/personas.toml"
                    ));
                }
            }
            StepDef::ClearFault { .. } | StepDef::RevokeTokens => {}
            StepDef::RegisterReferenceNumber { entries, expect, .. } => {
                if entries.is_empty() {
                    step_err("entries is empty".into());
                }
                for (j, e) in entries.iter().enumerate() {
                    if let Err(m) = check_card(&e.card, registry) {
                        step_err(format!("entries[{j}]: {m}"));
                    }
                    if e.reference_number.is_empty() || e.reference_number.chars().count() > 50 {
                        step_err(format!("entries[{j}]: reference_number must be 1 to 50 characters"));
                    }
                }
                expect_check(expect, &mut step_err);
            }
            StepDef::ConfirmBulk { cards, expect, .. } => {
                if cards.is_empty() {
                    step_err("cards is empty".into());
                }
                for (j, c) in cards.iter().enumerate() {
                    if let Err(m) = check_card(c, registry) {
                        step_err(format!("cards[{j}]: {m}"));
                    }
                }
                expect_check(expect, &mut step_err);
            }
            StepDef::PullBulk { pull, expect, .. } => {
                let dates = [
                    ("month", &pull.month),
                    ("consent_from", &pull.consent_from),
                    ("consent_to", &pull.consent_to),
                    ("examined_from", &pull.examined_from),
                    ("examined_to", &pull.examined_to),
                ];
                for (name, v) in dates {
                    if let Some(v) = v
                        && let Err(m) = super::resolve_date(v, registry.today())
                    {
                        step_err(format!("{name}: {m}"));
                    }
                }
                let needs: &[(&str, bool)] = match pull.kind {
                    PullKind::MedicalAid => &[("month", pull.month.is_some())],
                    PullKind::HomeVisit => &[
                        ("consent_from", pull.consent_from.is_some()),
                        ("consent_to", pull.consent_to.is_some()),
                    ],
                    PullKind::Online => &[(
                        "consent_from/consent_to or examined_from/examined_to",
                        pull.consent_from.is_some() || pull.examined_from.is_some(),
                    )],
                };
                for (name, given) in needs {
                    if !given {
                        step_err(format!("a {:?} pull needs {name}", pull.kind));
                    }
                }
                expect_check(expect, &mut step_err);
            }
            StepDef::FetchMedicalInfo {
                card, period, expect, ..
            } => {
                if let Err(m) = check_card(card, registry) {
                    step_err(m);
                }
                if let Some(p) = period {
                    for v in [&p.from, &p.to] {
                        if let Err(m) = super::resolve_date(v, registry.today()) {
                            step_err(format!("period: {m}"));
                        }
                    }
                }
                expect_check(expect, &mut step_err);
            }
            StepDef::InsertCard { my_number_card, .. } => {
                if !my_number_card.ends_with(".toml") && registry.cards().iter().all(|c| &c.card != my_number_card) {
                    step_err(format!(
                        "my_number_card {my_number_card:?} is not a shipped card (see `onshi card list`)"
                    ));
                }
                if !def
                    .capabilities
                    .iter()
                    .any(|c| c == onshi_protocol::driver::capability::CARD_PCSC)
                {
                    step_err("a case that puts a card into the PC/SC reader must declare capability card.pcsc".into());
                }
            }
            StepDef::RemoveCard => {}
            StepDef::Rush { profile, .. } => {
                use crate::rush::Way;
                use onshi_protocol::driver::capability as cap;
                for (way, needs) in [
                    (Way::Face, cap::FILE_FACE),
                    (Way::Pin, cap::FILE_FACE),
                    (Way::InsuranceCard, cap::FILE_QUALIFICATION),
                    (Way::Api, cap::API_QUALIFICATION),
                ] {
                    if profile.mix.ways[way.index()] > 0.0 && !def.capabilities.iter().any(|c| c == needs) {
                        step_err(format!(
                            "profile {} sends {} patients, so the case must declare capability {needs}",
                            profile.id,
                            way.name()
                        ));
                    }
                }
            }
            StepDef::VerifyCardPin { expect, .. } => {
                if expect.outcome.is_some() || expect.record.is_some() || expect.message.is_some() {
                    step_err(
                        "verify_card_pin expects `pin` (the outcome) and `tries_left`, not outcome/record/message"
                            .into(),
                    );
                }
                expect_check(expect, &mut step_err);
            }
            StepDef::ChangePerson { change } => match registry.persona(change.persona()) {
                None => step_err(format!("no persona {:?} in fixtures/personas.toml", change.persona())),
                Some(p) => {
                    if let Err(e) = onshi_national::state::apply(&mut p.clone(), change, registry.today()) {
                        step_err(e.to_string());
                    }
                }
            },
        }
    }
}

fn expect_check(expect: &Expect, step_err: &mut impl FnMut(String)) {
    if let Some(check) = &expect.check
        && checks::info(check).is_none()
    {
        step_err(format!(
            "expect.check {check:?} is not in the check catalogue (docs/checks.md)"
        ));
    }
}

fn check_card(card: &CardSpec, registry: &Registry) -> Result<(), String> {
    let explicit = card.insurer_number.is_some()
        || card.number.is_some()
        || card.birthdate.is_some()
        || card.symbol.is_some()
        || card.branch.is_some();
    match &card.persona {
        Some(p) if explicit => Err(format!(
            "card names persona {p:?} and explicit fields; use one or the other"
        )),
        Some(p) => {
            let person = registry
                .persona(p)
                .ok_or_else(|| format!("no persona {p:?} in fixtures/personas.toml"))?;
            if card.period == super::PeriodChoice::Previous && person.insurance.len() < 2 {
                return Err(format!(
                    "persona {p:?} has only one insurance period; there is no previous card"
                ));
            }
            Ok(())
        }
        None => {
            for (name, v) in [
                ("insurer_number", &card.insurer_number),
                ("number", &card.number),
                ("birthdate", &card.birthdate),
            ] {
                if v.is_none() {
                    return Err(format!(
                        "card needs a persona, or {name} with the other explicit fields"
                    ));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn registry() -> Registry {
        Registry::embedded(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(), 0)
    }

    const GOOD: &str = r#"
id = "FILE-TEST-001"
title = "t"
requirement = "OQS-IF-001/002"
capabilities = ["file.qualification"]
severity = "mandatory"
summary = "s"

[[step]]
do = "confirm_qualification"
card = { persona = "valid-kenpo-family" }
[step.expect]
outcome = "valid"
"#;

    fn load(text: &str) -> Result<Suite, Vec<LoadError>> {
        load_sources(
            "scenarios",
            &[("file/FILE-TEST-001.toml".into(), text.into())],
            &registry(),
        )
    }

    #[test]
    fn requirements_are_ids_of_the_list_one_or_several() {
        let two = GOOD.replace(
            r#"requirement = "OQS-IF-001/002""#,
            r#"requirement = ["OQS-IF-001/002", "OQS-IF-FACE"]"#,
        );
        let s = load(&two).unwrap();
        assert_eq!(s.cases[0].def.requirements, ["OQS-IF-001/002", "OQS-IF-FACE"]);
        assert_eq!(s.cases[0].def.requirement, "OQS-IF-001/002, OQS-IF-FACE");
        let typo = GOOD.replace(r#""OQS-IF-001/002""#, r#""OQS-IF-001/02""#);
        let e = load(&typo).unwrap_err();
        assert_eq!(e[0].line, Some(4));
        assert!(
            e[0].message.starts_with("unknown requirement \"OQS-IF-001/02\""),
            "{e:?}"
        );
        let none = GOOD.replace(r#""OQS-IF-001/002""#, "[]");
        assert!(load(&none).unwrap_err()[0].message.contains("names no requirement"));
    }

    #[test]
    fn a_good_case_loads() {
        let s = load(GOOD).unwrap();
        assert_eq!(s.cases[0].area, "file");
        assert_eq!(s.cases[0].id(), "FILE-TEST-001");
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let cases = [
            (
                GOOD.replace("outcome = \"valid\"", "outcom = \"valid\""),
                13,
                "unknown field `outcom`",
            ),
            (
                GOOD.replace("outcome = \"valid\"", "outcome = \"ok\""),
                13,
                "unknown variant `ok`",
            ),
            (GOOD.replace("valid-kenpo-family", "nobody"), 9, "no persona \"nobody\""),
            (
                GOOD.replace("\"file.qualification\"", "\"file.magic\""),
                5,
                "unknown capability",
            ),
            (
                GOOD.replace("do = \"confirm_qualification\"", "do = \"dance\""),
                10,
                "unknown variant `dance`",
            ),
            (
                GOOD.replace("FILE-TEST-001", "FILE-TEST-002"),
                2,
                "named after its case id",
            ),
            (
                GOOD.replace("outcome = \"valid\"", "outcome = \"valid\"\ncheck = \"NOPE-1\""),
                9,
                "check catalogue",
            ),
        ];
        for (text, line, needle) in cases {
            let errs = load(&text).unwrap_err();
            let shown = errs.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            assert!(shown.contains(needle), "{needle:?} not in:\n{shown}");
            assert!(
                shown.contains(&format!("scenarios/file/FILE-TEST-001.toml:{line}:")),
                "line {line} not in:\n{shown}"
            );
        }
    }

    #[test]
    fn import_face_needs_a_presented_card() {
        let text = GOOD.replace(
            "do = \"confirm_qualification\"\ncard = { persona = \"valid-kenpo-family\" }",
            "do = \"import_face\"",
        );
        let errs = load(&text).unwrap_err();
        assert!(errs[0].message.contains("no earlier present_card"), "{errs:?}");
    }

    #[test]
    fn a_card_image_path_is_the_case_files_neighbour() {
        let text = GOOD.replace(
            "do = \"confirm_qualification\"\ncard = { persona = \"valid-kenpo-family\" }\n[step.expect]\noutcome = \"valid\"",
            "do = \"insert_card\"\nmy_number_card = \"cards/mine.toml\"",
        )
        .replace("[\"file.qualification\"]", "[\"card.pcsc\"]");
        let suite = load_sources(
            "/suites/x",
            &[("card/FILE-TEST-001.toml".into(), text.clone())],
            &registry(),
        )
        .unwrap();
        match &suite.cases[0].def.steps[0] {
            StepDef::InsertCard { my_number_card, .. } => assert_eq!(my_number_card, "/suites/x/card/cards/mine.toml"),
            other => panic!("{other:?}"),
        }
        // shipped ids and the embedded suite are left as they are
        let shipped = text.replace("cards/mine.toml", "locked-auth-pin");
        let suite = load_sources("/suites/x", &[("card/FILE-TEST-001.toml".into(), shipped)], &registry()).unwrap();
        assert!(
            matches!(&suite.cases[0].def.steps[0], StepDef::InsertCard { my_number_card, .. } if my_number_card == "locked-auth-pin")
        );
    }

    #[test]
    fn times_follow_the_client_timeout_declared_or_the_cases_own() {
        let text = GOOD
            .replace(
                "summary = \"s\"",
                "summary = \"s\"\nclient_timeout_ms = 2000\n[terminal]\nresult_delay_ms = \"min(2500, timeout / 2)\"",
            )
            .replace(
                "outcome = \"valid\"",
                "outcome = \"valid\"\nwithin_ms = \"timeout + 6000\"",
            );
        let suite = load(&text).unwrap();
        let case = &suite.cases[0];
        assert!(case.def.follows_client_timeout);
        assert_eq!(case.def.terminal.result_delay_ms, 1000);
        let within = |c: &Case| match &c.def.steps[0] {
            StepDef::ConfirmQualification { expect, timeout_ms, .. } => (expect.within_ms, *timeout_ms),
            other => panic!("{other:?}"),
        };
        // the step asks for the case's time-out
        assert_eq!(within(case), (Some(8000), Some(2000)));
        let declared = suite.for_client_timeout(case, 30_000, &registry()).unwrap();
        assert_eq!(declared.def.terminal.result_delay_ms, 2500);
        assert_eq!(within(&declared), (Some(36_000), Some(2000)));
        assert!(suite.for_client_timeout(case, 100, &registry()).is_ok());
        // a time that would be negative is the declared time-out's problem, said plainly
        let negative = text.replace("min(2500, timeout / 2)", "timeout - 500");
        let suite = load(&negative).unwrap();
        let e = suite.for_client_timeout(&suite.cases[0], 300, &registry()).unwrap_err();
        assert!(e.contains("300 ms") && e.contains("negative"), "{e}");
        // without the case's own value there is nothing to resolve against
        let errs = load(&text.replace("client_timeout_ms = 2000\n", "")).unwrap_err();
        assert!(errs[0].message.contains("client_timeout_ms"), "{errs:?}");
        // plain cases are untouched
        assert!(!load(GOOD).unwrap().cases[0].def.follows_client_timeout);
    }
}
