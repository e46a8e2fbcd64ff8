//! The rush as a case's `rush` step sees it: the engine's [`Rushes`], [`Profiles`] and
//! [`RushPlan`] implemented over this crate's profiles and real-time engine, and the checks
//! of a finished rush (RUSH-SLO per objective, RUSH-ERRORS). The CLI hands [`Support`] to the
//! suite loader.

use onshi_protocol::ids;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use onshi_harness::checks::{CheckResult, Status};
use onshi_harness::spec::LoadError;
use onshi_harness::steps::{LocalFuture, Profiles, RushDone, RushFailure, RushPlan, RushRun, Rushes};
use onshi_protocol::driver::capability;
use onshi_registry::Registry;

use crate::live::{LiveOptions, LiveState, run_live};
use crate::profile::{Profile, Way, load_profile, parse_slos, parse_window};
use crate::report::{RunInfo, RushReport};
use crate::{Outcomes, Partition};

/// The reception rush for the suite loader.
pub struct Support;

impl Rushes for Support {
    fn load(&self, files: &[(String, &str)], registry: &Registry) -> Result<Arc<dyn Profiles>, Vec<LoadError>> {
        let mut profiles = HashMap::new();
        let mut errors = Vec::new();
        for (file, text) in files {
            match load_profile(text, file, registry) {
                Ok(p) => {
                    profiles.insert(p.id.clone(), p);
                }
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok(Arc::new(SuiteProfiles(profiles)))
        } else {
            Err(errors)
        }
    }
}

/// The profiles of one suite, by id.
#[derive(Debug)]
struct SuiteProfiles(HashMap<String, Profile>);

impl Profiles for SuiteProfiles {
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.0.keys().cloned().collect();
        ids.sort_unstable();
        ids
    }

    fn plan(
        &self,
        id: &str,
        duration: Option<&str>,
        slo: Option<Vec<toml::Value>>,
    ) -> Result<Arc<dyn RushPlan>, Vec<(&'static str, String)>> {
        let Some(profile) = self.0.get(id) else {
            return Err(vec![("profile", format!("no rush profile {id:?}"))]);
        };
        let mut profile = profile.clone();
        let window = match duration {
            None => profile.duration,
            Some(d) => parse_window(d).map_err(|e| vec![("duration", e)])?,
        };
        if let Some(values) = slo {
            profile.slos = parse_slos(values).map_err(|e| e.into_iter().map(|m| ("slo", m)).collect::<Vec<_>>())?;
        }
        Ok(Arc::new(Plan {
            profile,
            window_us: window.as_micros() as u64,
        }))
    }
}

/// A profile with the step's window and SLOs.
#[derive(Debug)]
struct Plan {
    profile: Profile,
    window_us: u64,
}

impl RushPlan for Plan {
    fn profile(&self) -> &str {
        &self.profile.id
    }

    fn needs(&self) -> Vec<(&'static str, &'static str)> {
        [
            (Way::Face, capability::FILE_FACE),
            (Way::Pin, capability::FILE_FACE),
            (Way::InsuranceCard, capability::FILE_QUALIFICATION),
            (Way::Api, capability::API_QUALIFICATION),
        ]
        .into_iter()
        .filter(|(way, _)| self.profile.mix.ways[way.index()] > 0.0)
        .map(|(way, needs)| (way.name(), needs))
        .collect()
    }

    fn has_slos(&self) -> bool {
        !self.profile.slos.is_empty()
    }

    fn run<'a>(&'a self, run: RushRun) -> LocalFuture<'a, Result<RushDone, RushFailure>> {
        Box::pin(async move {
            let profile = &self.profile;
            let started = Instant::now();
            let outcomes = Outcomes::prepare(profile, &run.registry, run.date)
                .map_err(|e| RushFailure::CannotStart(e.to_string()))?;
            let opts = LiveOptions {
                adapter: run.adapter.clone(),
                seed: run.seed,
                window_us: self.window_us,
                partition: Partition::WHOLE,
                work_dir: run.work_dir.clone(),
                call_timeout: run.call_timeout,
                drain: Duration::from_secs(60),
                institution_code: run.institution_code.clone(),
                catalogue: run.catalogue.clone(),
            };
            let state = Arc::new(LiveState::default());
            let stats = run_live(profile, run.registry.clone(), Arc::new(outcomes), &opts, state)
                .await
                .map_err(|e| RushFailure::Broke(e.to_string()))?;
            let report = RushReport::new(
                &stats,
                &RunInfo {
                    profile,
                    mode: "real",
                    seed: run.seed,
                    window_us: self.window_us,
                    partition: None,
                    facilities: profile.facility_count(),
                    elapsed_s: started.elapsed().as_secs_f64(),
                },
            );
            Ok(RushDone {
                report: serde_json::to_value(&report).expect("serialisable"),
                checks: checks(&report),
            })
        })
    }
}

/// RUSH-SLO for each objective, RUSH-ERRORS for the calls that failed under load (without
/// step and events: the step adds them).
pub fn checks(report: &RushReport) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for v in &report.slos {
        out.push(CheckResult {
            id: ids::RUSH_SLO.into(),
            status: if v.pass { Status::Pass } else { Status::Fail },
            message: format!("{}: {}", v.id, v.explanation),
            expected: Some(v.objective.clone()),
            actual: Some(format!("{:.0} ms", v.measured_ms)),
            events: Vec::new(),
            step: None,
            caused_by: None,
        });
    }
    let c = &report.counts;
    let ok = c.failed_calls == 0 && c.dropped == 0 && c.wrong == 0;
    let failures: Vec<String> = c
        .outcomes
        .iter()
        .filter(|(k, _)| k.starts_with("failed:"))
        .map(|(k, v)| match c.first_failures.get(k) {
            Some(first) => format!("{k} ×{v}, the first: {first}"),
            None => format!("{k} ×{v}"),
        })
        .collect();
    out.push(CheckResult {
        id: ids::RUSH_ERRORS.into(),
        status: if ok { Status::Pass } else { Status::Fail },
        message: if ok {
            format!(
                "all {} visits reached the client with the World's answer",
                c.completed.values().sum::<u64>()
            )
        } else {
            format!(
                "under load the client failed {} call(s){}, {} visit(s) were dropped and {} answer(s) differed from the World's",
                c.failed_calls,
                if failures.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", failures.join(", "))
                },
                c.dropped,
                c.wrong
            )
        },
        expected: Some("no failed calls, no dropped visits, no wrong answers".into()),
        actual: Some(format!(
            "failed calls {}, dropped {}, wrong answers {}, adapter restarts {}",
            c.failed_calls, c.dropped, c.wrong, c.adapter_restarts
        )),
        events: Vec::new(),
        step: None,
        caused_by: None,
    });
    out
}
