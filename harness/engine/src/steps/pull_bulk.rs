//! `pull_bulk`: a 医療扶助 / 訪問診療 / オンライン診療 pull — the client asks the terminal for the
//! people of a month or a consent period and reports what came back.

use onshi_protocol::ids;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::driver::{self, PullBulkParams, PullBulkResult, PullKind};
use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{CallAnswer, CheckResult, families};
use crate::spec::{Expect, FromResult, PullSpec, resolve_date};

pub(crate) struct PullBulk;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    kind: Option<String>,
    month: Option<String>,
    consent_from: Option<String>,
    consent_to: Option<String>,
    examined_from: Option<String>,
    examined_to: Option<String>,
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub pull: PullSpec,
    pub timeout_ms: Option<u64>,
    pub expect: Expect,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    params: PullBulkParams,
    answer: CallAnswer<PullBulkResult>,
}

fn parse_kind(s: &str) -> Result<PullKind, String> {
    match s {
        "medical_aid" => Ok(PullKind::MedicalAid),
        "home_visit" => Ok(PullKind::HomeVisit),
        "online" => Ok(PullKind::Online),
        other => Err(format!(
            "kind {other:?} is not a pull (medical_aid, home_visit, online)"
        )),
    }
}

impl StepKind for PullBulk {
    const NAME: &'static str = "pull_bulk";
    const KEYS: &'static [&'static str] = &[
        "kind",
        "month",
        "consent_from",
        "consent_to",
        "examined_from",
        "examined_to",
        "timeout_ms",
        "expect",
    ];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let kind = match raw.kind.as_deref().map(parse_kind) {
            Some(Ok(kind)) => kind,
            Some(Err(m)) => return Err(vec![Problem::at("kind", m)]),
            None => return Err(vec![Problem::missing(Self::NAME, "kind")]),
        };
        Ok(Def {
            pull: PullSpec {
                kind,
                month: raw.month,
                consent_from: raw.consent_from,
                consent_to: raw.consent_to,
                examined_from: raw.examined_from,
                examined_to: raw.examined_to,
            },
            timeout_ms: cx.timeout(raw.timeout_ms),
            expect: raw.expect.unwrap_or_default(),
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        let pull = &def.pull;
        let dates = [
            ("month", &pull.month),
            ("consent_from", &pull.consent_from),
            ("consent_to", &pull.consent_to),
            ("examined_from", &pull.examined_from),
            ("examined_to", &pull.examined_to),
        ];
        for (name, v) in dates {
            if let Some(v) = v
                && let Err(m) = resolve_date(v, cx.registry.today())
            {
                problems.push(format!("{name}: {m}"));
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
                problems.push(format!("a {:?} pull needs {name}", pull.kind));
            }
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let pull = &def.pull;
        let today = cx.world.date;
        let day = |v: &Option<String>| {
            v.as_deref()
                .map(|s| resolve_date(s, today).map(|d| d.format("%Y%m%d").to_string()))
                .transpose()
        };
        let resolved = (|| -> Result<PullBulkParams, String> {
            Ok(PullBulkParams {
                kind: pull.kind,
                month: day(&pull.month)?.map(|d| d[..6].to_owned()),
                consent_from: day(&pull.consent_from)?,
                consent_to: day(&pull.consent_to)?,
                examined_from: day(&pull.examined_from)?,
                examined_to: day(&pull.examined_to)?,
                timeout_ms: def.timeout_ms,
            })
        })();
        let params = resolved.map_err(cx.error())?;
        let deadline = def.expect.within_ms.map(Duration::from_millis);
        let answer = cx.call(driver::method::PULL_BULK, &params, deadline).await?;
        Ok(Record { params, answer })
    }

    fn evaluate(def: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        families::pull(&r.params, &r.answer, &def.expect, cx.window, cx.step, out);
    }

    fn checks(def: &Def) -> Vec<CheckId> {
        let ids: &[CheckId] = match def.expect.results {
            Some(FromResult::Result) => &[ids::BULK_ORDER, ids::BULK_POLL, ids::PULL_RESULT],
            _ => &[ids::BULK_ORDER, ids::BULK_POLL],
        };
        ids.to_vec()
    }
}
