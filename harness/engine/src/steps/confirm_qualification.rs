//! `confirm_qualification`: the receptionist confirms a patient's insurance card — a driver
//! call, over the folder interface (default) or the HTTP API — judged by the request the
//! client sent, the outcome it reported, the message it showed and the record it stored.

use onshi_protocol::ids;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::driver::{self, ConfirmQualificationParams, ConfirmQualificationResult, Via};
use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{self, CallAnswer, CheckResult};
use crate::spec::{CardSpec, Expect};

pub(crate) struct ConfirmQualification;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    via: Option<Via>,
    card: Option<CardSpec>,
    consent_limit_certificate: Option<bool>,
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    /// The folder interface (default) or the HTTP API.
    pub via: Via,
    pub card: CardSpec,
    pub consent_limit_certificate: bool,
    /// Passed to the client as `timeout_ms`.
    pub timeout_ms: Option<u64>,
    pub expect: Expect,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    params: ConfirmQualificationParams,
    answer: CallAnswer<ConfirmQualificationResult>,
}

impl StepKind for ConfirmQualification {
    const NAME: &'static str = "confirm_qualification";
    const KEYS: &'static [&'static str] = &["via", "card", "consent_limit_certificate", "timeout_ms", "expect"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let card = raw.card.ok_or_else(|| vec![Problem::missing(Self::NAME, "card")])?;
        Ok(Def {
            via: raw.via.unwrap_or(Via::File),
            card,
            consent_limit_certificate: raw.consent_limit_certificate.unwrap_or(false),
            timeout_ms: cx.timeout(raw.timeout_ms),
            expect: raw.expect.unwrap_or_default(),
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        if let Err(m) = super::check_card(&def.card, cx.registry) {
            problems.push(m);
        }
        if def.expect.consents.is_some() || def.expect.reference_number.is_some() {
            problems.push("consents and reference_number are expectations of import_face".into());
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let card = cx.world.card(&def.card).map_err(cx.error())?;
        let params = ConfirmQualificationParams {
            via: def.via,
            card,
            consent_limit_certificate: def.consent_limit_certificate,
            date: Some(cx.date()),
            timeout_ms: def.timeout_ms,
        };
        let deadline = def.expect.within_ms.map(Duration::from_millis);
        let answer = cx
            .call(driver::method::CONFIRM_QUALIFICATION, &params, deadline)
            .await?;
        Ok(Record { params, answer })
    }

    fn evaluate(def: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        checks::qualification::confirm(
            &r.params,
            &r.answer,
            &def.expect,
            def.via,
            cx.declares(ids::FS_REQ_DUP),
            cx.window,
            cx.step,
            out,
        );
    }

    fn checks(def: &Def) -> Vec<CheckId> {
        checks::checks_of_expect(&def.expect, Some(def.via))
    }

    fn outcome_checks(def: &Def) -> Vec<CheckId> {
        super::outcome_checks_of(&def.expect)
    }
}
