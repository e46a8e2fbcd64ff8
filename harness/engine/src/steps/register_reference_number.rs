//! `register_reference_number`: the clinic registers 照会番号 — single requests, or one bulk
//! upload — judged by the cards sent and the per-person results the client reports.

use onshi_protocol::ids;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::driver::{self, ReferenceEntry, RegisterReferenceNumberParams, RegisterReferenceNumberResult};
use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{CallAnswer, CheckResult, families};
use crate::spec::{Expect, FromResult, ReferenceSpec};

pub(crate) struct RegisterReferenceNumber;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    entries: Option<Vec<ReferenceSpec>>,
    bulk: Option<bool>,
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub entries: Vec<ReferenceSpec>,
    pub bulk: bool,
    pub timeout_ms: Option<u64>,
    pub expect: Expect,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    params: RegisterReferenceNumberParams,
    answer: CallAnswer<RegisterReferenceNumberResult>,
}

impl StepKind for RegisterReferenceNumber {
    const NAME: &'static str = "register_reference_number";
    const KEYS: &'static [&'static str] = &["entries", "bulk", "timeout_ms", "expect"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let entries = raw
            .entries
            .ok_or_else(|| vec![Problem::missing(Self::NAME, "entries")])?;
        Ok(Def {
            entries,
            bulk: raw.bulk.unwrap_or(false),
            timeout_ms: cx.timeout(raw.timeout_ms),
            expect: raw.expect.unwrap_or_default(),
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        if def.entries.is_empty() {
            problems.push("entries is empty".into());
        }
        for (j, e) in def.entries.iter().enumerate() {
            if let Err(m) = super::check_card(&e.card, cx.registry) {
                problems.push(format!("entries[{j}]: {m}"));
            }
            if e.reference_number.is_empty() || e.reference_number.chars().count() > 50 {
                problems.push(format!("entries[{j}]: reference_number must be 1 to 50 characters"));
            }
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let entries = def
            .entries
            .iter()
            .map(|e| {
                Ok(ReferenceEntry {
                    reference_number: e.reference_number.clone(),
                    card: cx.world.card(&e.card)?,
                })
            })
            .collect::<Result<Vec<_>, crate::world::WorldError>>()
            .map_err(cx.error())?;
        let params = RegisterReferenceNumberParams {
            entries,
            bulk: def.bulk,
            timeout_ms: def.timeout_ms,
        };
        let deadline = def.expect.within_ms.map(Duration::from_millis);
        let answer = cx
            .call(driver::method::REGISTER_REFERENCE_NUMBER, &params, deadline)
            .await?;
        Ok(Record { params, answer })
    }

    fn evaluate(def: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        families::register(&r.params, &r.answer, &def.expect, cx.window, cx.step, out);
    }

    fn checks(def: &Def) -> Vec<CheckId> {
        let mut ids = Vec::new();
        if def.expect.request != Some(false) {
            ids.push(ids::REG_CARD);
        }
        if def.bulk {
            ids.extend([ids::BULK_ORDER, ids::BULK_POLL]);
        }
        if def.expect.results == Some(FromResult::Result) {
            ids.push(ids::REG_RESULT);
        }
        ids
    }
}
