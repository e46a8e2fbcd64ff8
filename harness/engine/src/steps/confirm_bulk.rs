//! `confirm_bulk`: 資格確認一括照会 of several cards through the folder — judged by the cards
//! in the request, how the client waits for the bulk result, and the results it reports.

use onshi_protocol::ids;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::driver::{self, ConfirmBulkParams, ConfirmBulkResult};
use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{CallAnswer, CheckResult, families};
use crate::spec::{CardSpec, Expect, FromResult};

pub(crate) struct ConfirmBulk;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    cards: Option<Vec<CardSpec>>,
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub cards: Vec<CardSpec>,
    pub timeout_ms: Option<u64>,
    pub expect: Expect,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    params: ConfirmBulkParams,
    answer: CallAnswer<ConfirmBulkResult>,
}

impl StepKind for ConfirmBulk {
    const NAME: &'static str = "confirm_bulk";
    const KEYS: &'static [&'static str] = &["cards", "timeout_ms", "expect"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let cards = raw.cards.ok_or_else(|| vec![Problem::missing(Self::NAME, "cards")])?;
        Ok(Def {
            cards,
            timeout_ms: cx.timeout(raw.timeout_ms),
            expect: raw.expect.unwrap_or_default(),
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        if def.cards.is_empty() {
            problems.push("cards is empty".into());
        }
        for (j, c) in def.cards.iter().enumerate() {
            if let Err(m) = super::check_card(c, cx.registry) {
                problems.push(format!("cards[{j}]: {m}"));
            }
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let cards = def
            .cards
            .iter()
            .map(|c| cx.world.card(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(cx.error())?;
        let params = ConfirmBulkParams {
            cards,
            date: Some(cx.date()),
            timeout_ms: def.timeout_ms,
        };
        let deadline = def.expect.within_ms.map(Duration::from_millis);
        let answer = cx.call(driver::method::CONFIRM_BULK, &params, deadline).await?;
        Ok(Record { params, answer })
    }

    fn evaluate(def: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        families::bulk(&r.params, &r.answer, &def.expect, cx.window, cx.step, out);
    }

    fn checks(def: &Def) -> Vec<CheckId> {
        let ids: &[CheckId] = match (def.expect.request, def.expect.results) {
            (Some(false), Some(FromResult::Result)) => &[ids::BULK_ORDER, ids::BULK_POLL, ids::BULK_RESULT],
            (Some(false), _) => &[ids::BULK_ORDER, ids::BULK_POLL],
            (_, Some(FromResult::Result)) => &[ids::BULK_CARD, ids::BULK_ORDER, ids::BULK_POLL, ids::BULK_RESULT],
            _ => &[ids::BULK_CARD, ids::BULK_ORDER, ids::BULK_POLL],
        };
        ids.to_vec()
    }
}
