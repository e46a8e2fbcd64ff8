//! `fetch_medical_info`: 薬剤情報 / 特定健診情報 of a patient who consented — judged by whether
//! the client asked only with consent and whether what it obtained is what the terminal gave.

use onshi_protocol::ids;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::driver::{
    self, FetchMedicalInfoParams, FetchMedicalInfoResult, MedicalInfoFormat, MedicalInfoKind, Period,
};
use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{CallAnswer, CheckResult, families};
use crate::spec::{CardSpec, Expect, FromResult, PeriodSpec, resolve_date};

pub(crate) struct FetchMedicalInfo;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    kind: Option<String>,
    card: Option<CardSpec>,
    format: Option<MedicalInfoFormat>,
    period: Option<PeriodSpec>,
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub kind: MedicalInfoKind,
    pub card: CardSpec,
    pub format: MedicalInfoFormat,
    pub period: Option<PeriodSpec>,
    pub timeout_ms: Option<u64>,
    pub expect: Expect,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    params: FetchMedicalInfoParams,
    answer: CallAnswer<FetchMedicalInfoResult>,
}

fn parse_kind(s: &str) -> Result<MedicalInfoKind, String> {
    match s {
        "drug" => Ok(MedicalInfoKind::Drug),
        "checkup" => Ok(MedicalInfoKind::Checkup),
        other => Err(format!("kind {other:?} is not medical information (drug, checkup)")),
    }
}

impl StepKind for FetchMedicalInfo {
    const NAME: &'static str = "fetch_medical_info";
    const KEYS: &'static [&'static str] = &["kind", "card", "format", "period", "timeout_ms", "expect"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        match (raw.kind.as_deref().map(parse_kind), raw.card) {
            (Some(Ok(kind)), Some(card)) => Ok(Def {
                kind,
                card,
                format: raw.format.unwrap_or(MedicalInfoFormat::Xml),
                period: raw.period,
                timeout_ms: cx.timeout(raw.timeout_ms),
                expect: raw.expect.unwrap_or_default(),
            }),
            (Some(Err(m)), _) => Err(vec![Problem::at("kind", m)]),
            (kind, card) => {
                let mut problems = Vec::new();
                if kind.is_none() {
                    problems.push(Problem::missing(Self::NAME, "kind"));
                }
                if card.is_none() {
                    problems.push(Problem::missing(Self::NAME, "card"));
                }
                Err(problems)
            }
        }
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        if let Err(m) = super::check_card(&def.card, cx.registry) {
            problems.push(m);
        }
        if let Some(p) = &def.period {
            for v in [&p.from, &p.to] {
                if let Err(m) = resolve_date(v, cx.registry.today()) {
                    problems.push(format!("period: {m}"));
                }
            }
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let card = cx.world.card(&def.card).map_err(cx.error())?;
        let today = cx.world.date;
        let month = |s: &str| {
            resolve_date(s, today)
                .map(|d| d.format("%Y%m").to_string())
                .map_err(cx.error())
        };
        let period = match &def.period {
            Some(p) => Some(Period {
                from: month(&p.from)?,
                to: month(&p.to)?,
            }),
            None => None,
        };
        let params = FetchMedicalInfoParams {
            kind: def.kind,
            card,
            format: def.format,
            period,
            timeout_ms: def.timeout_ms,
            now: Some(
                onshi_national::Clock::now(&*cx.world.clock)
                    .format("%Y%m%d%H%M%S")
                    .to_string(),
            ),
        };
        let deadline = def.expect.within_ms.map(Duration::from_millis);
        let answer = cx.call(driver::method::FETCH_MEDICAL_INFO, &params, deadline).await?;
        Ok(Record { params, answer })
    }

    fn evaluate(def: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        families::medical(&r.params, &r.answer, &def.expect, cx.window, cx.step, out);
    }

    fn checks(def: &Def) -> Vec<CheckId> {
        let ids: &[CheckId] = if def.expect.ok.is_some() || def.expect.items == Some(FromResult::Result) {
            &[ids::MED_CONSENT, ids::MED_RESULT]
        } else {
            &[ids::MED_CONSENT]
        };
        ids.to_vec()
    }
}
