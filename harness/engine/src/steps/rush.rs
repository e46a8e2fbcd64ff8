//! `rush`: a reception rush in real time against the client — new instances of its adapter
//! in their own World under `<report dir>/rush/<case>` while the case's own adapter waits —
//! judged by the profile's SLOs (`RUSH-SLO`) and by its failed calls and wrong answers
//! (`RUSH-ERRORS`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{CheckResult, Status};
use crate::journal::Event;
use crate::rush::report::RushReport;
use crate::rush::{Profile, Way};

pub(crate) struct Rush;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    profile: Option<String>,
    duration: Option<String>,
    slo: Option<Vec<toml::Value>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    /// The profile, with the step's SLOs when it gives any.
    pub profile: Box<Profile>,
    /// The arrival window.
    pub window_us: u64,
}

#[derive(Debug)]
pub(crate) struct Record {
    report: Box<RushReport>,
}

impl StepKind for Rush {
    const NAME: &'static str = "rush";
    const KEYS: &'static [&'static str] = &["profile", "duration", "slo"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    /// The profile, its window (the step's `duration` or the profile's), and the step's SLOs
    /// in place of the profile's when it gives any.
    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let id = raw
            .profile
            .ok_or_else(|| vec![Problem::missing(Self::NAME, "profile")])?;
        let Some(profile) = cx.profiles.get(&id) else {
            let mut known: Vec<&str> = cx.profiles.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(vec![Problem::at(
                "profile",
                format!(
                    "no rush profile {id:?} in the suite's rush/ folder (known: {})",
                    known.join(", ")
                ),
            )]);
        };
        let mut profile = profile.clone();
        let window = match raw.duration.as_deref() {
            None => profile.duration,
            Some(d) => crate::rush::profile::parse_window(d).map_err(|e| vec![Problem::at("duration", e)])?,
        };
        if let Some(values) = raw.slo {
            profile.slos = crate::rush::profile::parse_slos(values)
                .map_err(|e| e.into_iter().map(|m| Problem::at("slo", m)).collect::<Vec<_>>())?;
        }
        if profile.slos.is_empty() {
            return Err(vec![Problem::at(
                "slo",
                "a rush step needs SLOs (its own `slo` or the profile's)",
            )]);
        }
        Ok(Def {
            profile: Box::new(profile),
            window_us: window.as_micros() as u64,
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        use onshi_protocol::driver::capability as cap;
        for (way, needs) in [
            (Way::Face, cap::FILE_FACE),
            (Way::Pin, cap::FILE_FACE),
            (Way::InsuranceCard, cap::FILE_QUALIFICATION),
            (Way::Api, cap::API_QUALIFICATION),
        ] {
            if def.profile.mix.ways[way.index()] > 0.0 && !cx.declares(needs) {
                problems.push(format!(
                    "profile {} sends {} patients, so the case must declare capability {needs}",
                    def.profile.id,
                    way.name()
                ));
            }
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let profile = &*def.profile;
        let started = Instant::now();
        let registry = cx.world.registry.clone();
        let outcomes = crate::rush::Outcomes::prepare(profile, &registry, cx.world.date)
            .map_err(|e| Stop::error(format!("the rush cannot start: {e}"), None))?;
        let options = cx.options;
        let opts = crate::rush::live::LiveOptions {
            adapter: options.adapter.clone(),
            seed: options.seed,
            window_us: def.window_us,
            partition: crate::rush::Partition::WHOLE,
            work_dir: options.report_dir.join("rush").join(cx.case_id),
            call_timeout: options.call_timeout.min(Duration::from_secs(30)),
            drain: Duration::from_secs(60),
            institution_code: options.institution_code.clone(),
            catalogue: cx.world.catalogue.clone(),
        };
        let state = Arc::new(crate::rush::live::LiveState::default());
        let stats = crate::rush::live::run_live(profile, registry, Arc::new(outcomes), &opts, state)
            .await
            .map_err(|e| Stop::error(format!("the rush could not run: {e}"), Some("DRV-EXIT")))?;
        let report = RushReport::new(
            &stats,
            &crate::rush::report::RunInfo {
                profile,
                mode: "real",
                seed: options.seed,
                window_us: def.window_us,
                partition: None,
                facilities: profile.facility_count(),
                elapsed_s: started.elapsed().as_secs_f64(),
            },
        );
        cx.journal.append(Event::Rush {
            case: cx.case_id.to_owned(),
            report: serde_json::to_value(&report).expect("serialisable"),
        });
        Ok(Record {
            report: Box::new(report),
        })
    }

    fn evaluate(_: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        let seq = cx
            .window
            .iter()
            .rev()
            .find(|e| matches!(e.event, Event::Rush { .. }))
            .map(|e| e.seq);
        rush_checks(&r.report, seq, cx.step, out);
    }

    fn checks(_: &Def) -> Vec<String> {
        vec!["RUSH-SLO".into(), "RUSH-ERRORS".into()]
    }
}

/// RUSH-SLO for each objective, RUSH-ERRORS for the calls that failed under load.
fn rush_checks(report: &RushReport, seq: Option<u64>, n: usize, out: &mut Vec<CheckResult>) {
    let events: Vec<u64> = seq.into_iter().collect();
    for v in &report.slos {
        out.push(CheckResult {
            id: "RUSH-SLO".into(),
            status: if v.pass { Status::Pass } else { Status::Fail },
            message: format!("{}: {}", v.id, v.explanation),
            expected: Some(v.objective.clone()),
            actual: Some(format!("{:.0} ms", v.measured_ms)),
            events: events.clone(),
            step: Some(n),
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
        id: "RUSH-ERRORS".into(),
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
        events,
        step: Some(n),
        caused_by: None,
    });
}
