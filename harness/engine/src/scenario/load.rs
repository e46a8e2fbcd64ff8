//! Loading and validating a suite. Every problem is reported with the file, the line and
//! what is wrong — and all problems at once, not just the first.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use onshi_national::http::ServerSettings;
use onshi_protocol::driver::capability;
use onshi_registry::Registry;
use onshi_terminal::TerminalSettings;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::requirements::RequirementId;
use super::timing;
use super::{ApiSetup, Case, CaseDef, CaseId, LoadError, Severity};
use crate::checks;
use crate::spec::line_of;
use crate::steps::{self, NoProfiles, Profiles, Rushes};

/// A case file as written, but for its `[[step]]` tables: each step kind reads its own keys
/// (`crate::steps`) from the spanned document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    id: String,
    title: String,
    requirement: OneOrMany,
    capabilities: Vec<String>,
    severity: Severity,
    summary: String,
    title_ja: Option<String>,
    summary_ja: Option<String>,
    #[serde(default)]
    checks: Vec<String>,
    client_timeout_ms: Option<u64>,
    #[serde(default)]
    terminal: TerminalSettings,
    #[serde(default)]
    national: ServerSettings,
    #[serde(default)]
    api: ApiSetup,
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

/// The cases of a suite, in file order.
#[derive(Debug, Clone)]
pub struct Suite {
    /// Where the suite came from (a directory, or "embedded").
    pub origin: String,
    /// The cases, in file order.
    pub cases: Vec<Case>,
    /// The rush profiles beside the cases (cases' rush steps name them).
    pub profiles: Arc<dyn Profiles>,
}

impl Suite {
    /// The case `id`, if the suite has it.
    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.id() == id)
    }
}

/// The most steps one case may have (real cases have a few dozen).
pub(crate) const MAX_STEPS: usize = 1000;

/// Loads every `*.toml` below `dir`; the profiles under `rush/` through `rushes`.
pub fn load_dir(dir: &Path, registry: &Registry, rushes: &dyn Rushes) -> Result<Suite, Vec<LoadError>> {
    let sources = read_dir_sources(dir)?;
    load_sources(&dir.display().to_string(), &sources, registry, rushes)
}

/// Every `*.toml` below `dir` as `(path relative to dir, text)`, in file order: the suite
/// exactly as a run reads it (an evidence bundle keeps these).
pub fn read_dir_sources(dir: &Path) -> Result<Vec<(String, String)>, Vec<LoadError>> {
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
    if errors.is_empty() { Ok(sources) } else { Err(errors) }
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

/// Loads cases from `(relative path, text)` pairs; the profiles under `rush/` through
/// `rushes`.
pub fn load_sources(
    origin: &str,
    sources: &[(String, String)],
    registry: &Registry,
    rushes: &dyn Rushes,
) -> Result<Suite, Vec<LoadError>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let file_of = |rel: &str| {
        if origin == "embedded" {
            format!("scenarios/{rel}")
        } else {
            format!("{origin}/{rel}")
        }
    };
    // the rush profiles first: cases' rush steps name them
    let profile_files: Vec<(String, &str)> = sources
        .iter()
        .filter(|(rel, _)| rel.starts_with(RUSH_DIR))
        .map(|(rel, text)| (file_of(rel), text.as_str()))
        .collect();
    let profiles = match rushes.load(&profile_files, registry) {
        Ok(p) => p,
        Err(e) => {
            errors.extend(e);
            Arc::new(NoProfiles)
        }
    };
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
        match load_case(origin, rel, &file, text, &*profiles, registry, None) {
            Ok(case) => {
                if let Some(other) = seen.insert(case.def.id.as_str().to_owned(), file.clone()) {
                    errors.push(LoadError {
                        file: file.clone(),
                        line: DeTable::parse(text)
                            .ok()
                            .and_then(|t| KeyLines::of(text, t.get_ref()).get("id")),
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
            profiles,
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
    profiles: &dyn Profiles,
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
    // one parse keeps the position of every key and value: each problem gets its line
    let toml_error = |e: toml::de::Error| {
        vec![error(
            e.span().map(|s| line_of(text, s.start)),
            e.message().trim().to_owned(),
        )]
    };
    let root = DeTable::parse(text).map_err(toml_error)?;
    let root_span = root.span();
    let mut table = root.into_inner();
    let lines = KeyLines::of(text, &table);
    let step_items: Vec<Spanned<DeValue<'_>>> = match table.remove("step").map(Spanned::into_inner) {
        None => Vec::new(),
        Some(DeValue::Array(items)) => items.into_iter().collect(),
        Some(_) => {
            return Err(vec![error(lines.get("step"), "`step` must be [[step]] tables".into())]);
        }
    };
    if step_items.len() > MAX_STEPS {
        return Err(too_many(step_items.len()));
    }
    let raw =
        CaseFile::deserialize(toml::de::Deserializer::from(Spanned::new(root_span, table))).map_err(toml_error)?;
    let mut errors = Vec::new();
    let mut steps = Vec::with_capacity(step_items.len());
    let mut step_lines = Vec::with_capacity(step_items.len());
    let cx = steps::ParseContext {
        profiles,
        case_timeout_ms: raw.client_timeout_ms,
        case_dir: (origin != "embedded").then(|| Path::new(file).parent()).flatten(),
    };
    for (i, item) in step_items.into_iter().enumerate() {
        let step_line = line_of(text, item.span().start);
        match steps::parse(item, &cx) {
            Ok(s) => {
                steps.push(s);
                step_lines.push(step_line);
            }
            Err(problems) => {
                for p in problems {
                    errors.push(error(
                        Some(p.span.map_or(step_line, |s| line_of(text, s.start))),
                        format!("step {}: {}", i + 1, p.message),
                    ));
                }
            }
        }
    }
    let id = CaseId::parse(&raw.id).unwrap_or_else(|m| {
        // reported here; the case does not load, so the unchecked ID goes no further
        errors.push(error(lines.get("id"), m));
        CaseId(raw.id.clone())
    });
    let mut requirements = Vec::new();
    let written = raw.requirement.into_vec();
    if written.is_empty() {
        errors.push(error(
            lines.get("requirement"),
            "requirement names no requirement".into(),
        ));
    }
    for r in written {
        match RequirementId::parse(&r) {
            Ok(id) => requirements.push(id),
            Err(m) => errors.push(error(lines.get("requirement"), m)),
        }
    }
    let def = CaseDef {
        id,
        title: raw.title,
        requirement: requirements.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
        requirements,
        capabilities: raw.capabilities,
        severity: raw.severity,
        summary: raw.summary,
        title_ja: raw.title_ja,
        summary_ja: raw.summary_ja,
        checks: raw.checks,
        client_timeout_ms: raw.client_timeout_ms,
        follows_client_timeout: follows,
        terminal: raw.terminal,
        national: raw.national,
        api: raw.api,
        steps,
    };
    validate(&def, rel, &lines, &step_lines, file, registry, &mut errors);
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
    pub(crate) fn for_client_timeout(&self, case: &Case, timeout_ms: u64, registry: &Registry) -> Result<Case, String> {
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
            &*self.profiles,
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

/// The lines of the case's top-level keys (`id`, `checks`, …) and of the keys of its
/// `[terminal]` table (`terminal.pickup_delay`), from the parsed document's spans.
struct KeyLines(HashMap<String, usize>);

impl KeyLines {
    fn of(text: &str, table: &DeTable<'_>) -> Self {
        let mut lines = HashMap::new();
        for (key, value) in table.iter() {
            lines.insert(key.get_ref().to_string(), line_of(text, key.span().start));
            if let DeValue::Table(inner) = value.get_ref() {
                for (k, _) in inner.iter() {
                    lines.insert(
                        format!("{}.{}", key.get_ref(), k.get_ref()),
                        line_of(text, k.span().start),
                    );
                }
            }
        }
        KeyLines(lines)
    }

    fn get(&self, key: &str) -> Option<usize> {
        self.0.get(key).copied()
    }
}

fn validate(
    def: &CaseDef,
    rel: &str,
    lines: &KeyLines,
    step_lines: &[usize],
    file: &str,
    registry: &Registry,
    errors: &mut Vec<LoadError>,
) {
    let mut err = |line: Option<usize>, message: String| {
        errors.push(LoadError {
            file: file.to_owned(),
            line,
            message,
        })
    };
    let stem = rel.rsplit('/').next().unwrap_or(rel).trim_end_matches(".toml");
    if CaseId::parse(def.id.as_str()).is_ok() && stem != def.id.as_str() {
        err(
            lines.get("id"),
            format!("the file must be named after its case id: {}.toml", def.id),
        );
    }
    for c in &def.capabilities {
        if !capability::ALL.contains(&c.as_str()) {
            err(
                lines.get("capabilities"),
                format!("unknown capability {c:?} (known: {})", capability::ALL.join(", ")),
            );
        }
    }
    for c in &def.checks {
        if !checks::CASE_CHECKS.iter().any(|k| k == c) {
            err(
                lines.get("checks"),
                format!(
                    "{c:?} is not a case-level check (known: {})",
                    checks::CASE_CHECKS
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    if let Err(m) = def.national.check() {
        err(lines.get("national"), format!("[national] {m}"));
    }
    for (name, delay) in [
        ("pickup_delay", &def.terminal.pickup_delay),
        ("result_delay", &def.terminal.result_delay),
    ] {
        if let Some(Err(m)) = delay.as_ref().map(|d| d.check()) {
            err(
                lines.get(&format!("terminal.{name}")),
                format!("[terminal] {name}: {m}"),
            );
        }
    }
    // (steps that did not parse are reported with their own problems)
    if def.steps.is_empty() && lines.get("step").is_none() {
        err(None, "a case needs at least one [[step]]".into());
    }
    for (i, step) in def.steps.iter().enumerate() {
        let cx = steps::ValidateContext {
            registry,
            capabilities: &def.capabilities,
            earlier: &def.steps[..i],
        };
        for m in step.validate(&cx) {
            err(
                step_lines.get(i).copied(),
                format!("step {} ({}): {m}", i + 1, step.action()),
            );
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
            &crate::steps::NoRushes,
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
                "unknown step kind `do = \"dance\"`",
            ),
            (
                GOOD.replace(
                    "card = { persona = \"valid-kenpo-family\" }",
                    "card = { persona = \"valid-kenpo-family\" }\nms = 5",
                ),
                12,
                "`ms` does not belong to a confirm_qualification step",
            ),
            (
                GOOD.replace("card = { persona = \"valid-kenpo-family\" }", "card = { persona = 7 }"),
                11,
                "invalid type: integer `7`, expected a string",
            ),
            (
                GOOD.replace("id = \"FILE-TEST-001\"", "id = \"file-test\""),
                2,
                "case id \"file-test\" must look like AREA-TOPIC-001",
            ),
            (
                GOOD.replace("FILE-TEST-001", "FILE-TEST-002"),
                2,
                "named after its case id",
            ),
            (
                GOOD.replace("outcome = \"valid\"", "outcome = \"valid\"\ncheck = \"NOPE-1\""),
                14,
                "\"NOPE-1\" is not in the check catalogue",
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
            &crate::steps::NoRushes,
        )
        .unwrap();
        let card = |s: &Suite| {
            s.cases[0].def.steps[0]
                .def::<steps::insert_card::InsertCard>()
                .expect("an insert_card step")
                .my_number_card
                .clone()
        };
        assert_eq!(card(&suite), "/suites/x/card/cards/mine.toml");
        // shipped ids and the embedded suite are left as they are
        let shipped = text.replace("cards/mine.toml", "locked-auth-pin");
        let suite = load_sources(
            "/suites/x",
            &[("card/FILE-TEST-001.toml".into(), shipped)],
            &registry(),
            &crate::steps::NoRushes,
        )
        .unwrap();
        assert_eq!(card(&suite), "locked-auth-pin");
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
        let within = |c: &Case| {
            let d = c.def.steps[0]
                .def::<steps::confirm_qualification::ConfirmQualification>()
                .expect("a confirm_qualification step");
            (d.expect.within_ms, d.timeout_ms)
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
