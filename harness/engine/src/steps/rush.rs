//! `rush`: a reception rush in real time against the client — new instances of its adapter
//! in their own World under `<report dir>/rush/<case>` while the case's own adapter waits —
//! judged by the profile's SLOs (`RUSH-SLO`) and by its failed calls and wrong answers
//! (`RUSH-ERRORS`).
//!
//! The rush itself lives in its own crate (`onshi-rush`), which depends on the engine; the
//! engine sees it through [`Rushes`], [`Profiles`] and [`RushPlan`], which the CLI wires up
//! when it loads a suite. Without them a suite's `rush/` profiles are refused with a reason.

use onshi_protocol::ids;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::Registry;
use serde::Deserialize;

use super::{EvalContext, LocalFuture, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::CheckResult;
use crate::journal::Event;
use crate::spec::LoadError;

/// Loads the rush profiles of a suite (the files under its `rush/` folder).
pub trait Rushes: Send + Sync {
    /// The profiles of `files` (`(file name for messages, text)`), or every problem.
    fn load(&self, files: &[(String, &str)], registry: &Registry) -> Result<Arc<dyn Profiles>, Vec<LoadError>>;
}

/// A suite's rush profiles, as its cases' `rush` steps name them.
pub trait Profiles: Send + Sync + fmt::Debug {
    /// The ids of the profiles, sorted.
    fn ids(&self) -> Vec<String>;

    /// The rush a step asks for: profile `id` over `duration` (default: the profile's), with
    /// the step's `slo` tables in place of the profile's SLOs when given. Problems name the
    /// key they concern (`duration`, `slo`).
    fn plan(
        &self,
        id: &str,
        duration: Option<&str>,
        slo: Option<Vec<toml::Value>>,
    ) -> Result<Arc<dyn RushPlan>, Vec<(&'static str, String)>>;
}

/// One planned rush: a profile with its window and SLOs.
pub trait RushPlan: Send + Sync + fmt::Debug {
    /// The profile's id.
    fn profile(&self) -> &str;

    /// The capabilities its patients need, with what needs them (`"face"` → `file.face`).
    fn needs(&self) -> Vec<(&'static str, &'static str)>;

    /// Whether the plan has SLOs (a rush step must judge something).
    fn has_slos(&self) -> bool;

    /// Runs the rush in real time; the report (for the journal) and its checks, each without
    /// step or events (the step adds them).
    fn run<'a>(&'a self, run: RushRun) -> LocalFuture<'a, Result<RushDone, RushFailure>>;
}

/// What a rush step gives the rush to run.
#[derive(Debug, Clone)]
pub struct RushRun {
    /// The adapter command (each reader and reception PC runs its own instance).
    pub adapter: String,
    /// The seed of the rush's World.
    pub seed: u64,
    /// The folder of the rush's own World and logs.
    pub work_dir: PathBuf,
    /// The longest wait for one call.
    pub call_timeout: Duration,
    /// The clinic's institution code.
    pub institution_code: String,
    /// The error codes the World answers with.
    pub catalogue: Arc<ErrorCatalogue>,
    /// The population.
    pub registry: Arc<Registry>,
    /// The reception date.
    pub date: chrono::NaiveDate,
}

/// A finished rush.
#[derive(Debug, Clone)]
pub struct RushDone {
    /// The rush's report, as journaled (`rush` event).
    pub report: serde_json::Value,
    /// RUSH-SLO per objective and RUSH-ERRORS.
    pub checks: Vec<CheckResult>,
}

/// Why a rush could not run.
#[derive(Debug, Clone)]
pub enum RushFailure {
    /// Before anything ran (the profile's outcomes could not be prepared).
    CannotStart(String),
    /// The run broke (its adapters or World).
    Broke(String),
}

/// A `Rushes` for builds without the reception rush: every profile is refused.
pub struct NoRushes;

impl Rushes for NoRushes {
    fn load(&self, files: &[(String, &str)], _: &Registry) -> Result<Arc<dyn Profiles>, Vec<LoadError>> {
        match files.first() {
            None => Ok(Arc::new(NoProfiles)),
            Some((file, _)) => Err(vec![LoadError {
                file: file.clone(),
                line: None,
                message:
                    "this build has no reception rush: rush profiles need the onshi-rush crate (use the onshi binary)"
                        .into(),
            }]),
        }
    }
}

/// No profiles at all.
#[derive(Debug)]
pub struct NoProfiles;

impl Profiles for NoProfiles {
    fn ids(&self) -> Vec<String> {
        Vec::new()
    }

    fn plan(
        &self,
        id: &str,
        _: Option<&str>,
        _: Option<Vec<toml::Value>>,
    ) -> Result<Arc<dyn RushPlan>, Vec<(&'static str, String)>> {
        Err(vec![(
            "profile",
            format!("no rush profile {id:?}: the suite has no rush/ folder"),
        )])
    }
}

pub(crate) struct Rush;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    profile: Option<String>,
    duration: Option<String>,
    slo: Option<Vec<toml::Value>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Def {
    pub plan: Arc<dyn RushPlan>,
}

impl PartialEq for Def {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.plan, &other.plan) || format!("{:?}", self.plan) == format!("{:?}", other.plan)
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    checks: Vec<CheckResult>,
}

impl StepKind for Rush {
    const NAME: &'static str = "rush";
    const KEYS: &'static [&'static str] = &["profile", "duration", "slo"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let id = raw
            .profile
            .ok_or_else(|| vec![Problem::missing(Self::NAME, "profile")])?;
        if !cx.profiles.ids().contains(&id) {
            return Err(vec![Problem::at(
                "profile",
                format!(
                    "no rush profile {id:?} in the suite's rush/ folder (known: {})",
                    cx.profiles.ids().join(", ")
                ),
            )]);
        }
        let plan = cx
            .profiles
            .plan(&id, raw.duration.as_deref(), raw.slo)
            .map_err(|e| e.into_iter().map(|(k, m)| Problem::at(k, m)).collect::<Vec<_>>())?;
        if !plan.has_slos() {
            return Err(vec![Problem::at(
                "slo",
                "a rush step needs SLOs (its own `slo` or the profile's)",
            )]);
        }
        Ok(Def { plan })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        for (way, needs) in def.plan.needs() {
            if !cx.declares(needs) {
                problems.push(format!(
                    "profile {} sends {way} patients, so the case must declare capability {needs}",
                    def.plan.profile()
                ));
            }
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let options = cx.options;
        if options.operator.is_some() {
            return Err(Stop::not_applicable(
                "a reception rush cannot be done by hand: it drives several reception PCs at machine speed \
                 (受付ラッシュは手作業では実施できません)",
                None,
            ));
        }
        let run = RushRun {
            adapter: options.adapter.clone(),
            seed: options.seed,
            work_dir: options.report_dir.join("rush").join(cx.case_id),
            call_timeout: options.call_timeout.min(Duration::from_secs(30)),
            institution_code: options.institution_code.clone(),
            catalogue: cx.world.catalogue.clone(),
            registry: cx.world.registry.clone(),
            date: cx.world.date,
        };
        let done = def.plan.run(run).await.map_err(|e| match e {
            RushFailure::CannotStart(e) => Stop::error(format!("the rush cannot start: {e}"), None),
            RushFailure::Broke(e) => Stop::error(format!("the rush could not run: {e}"), Some(ids::DRV_EXIT)),
        })?;
        cx.journal.append(Event::Rush {
            case: cx.case_id.to_owned(),
            report: done.report,
        });
        Ok(Record { checks: done.checks })
    }

    fn evaluate(_: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        let seq = cx
            .window
            .iter()
            .rev()
            .find(|e| matches!(e.event, Event::Rush { .. }))
            .map(|e| e.seq);
        out.extend(r.checks.iter().map(|c| CheckResult {
            events: seq.into_iter().collect(),
            step: Some(cx.step),
            ..c.clone()
        }));
    }

    fn checks(_: &Def) -> Vec<CheckId> {
        vec![ids::RUSH_SLO, ids::RUSH_ERRORS]
    }
}
