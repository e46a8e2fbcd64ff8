//! `verify_card_pin`: the client verifies the PIN on the card in the PC/SC reader and signs a
//! challenge — judged from the APDUs the card saw and what the client reported.

use onshi_protocol::ids;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::driver::{self, VerifyCardPinParams, VerifyCardPinResult};
use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{self, CallAnswer, CardFacts, CheckResult};
use crate::spec::Expect;

pub(crate) struct VerifyCardPin;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    pin: Option<String>,
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub pin: String,
    pub timeout_ms: Option<u64>,
    pub expect: Expect,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    params: VerifyCardPinParams,
    answer: CallAnswer<VerifyCardPinResult>,
    facts: CardFacts,
}

impl StepKind for VerifyCardPin {
    const NAME: &'static str = "verify_card_pin";
    const KEYS: &'static [&'static str] = &["pin", "timeout_ms", "expect"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let pin = raw.pin.ok_or_else(|| vec![Problem::missing(Self::NAME, "pin")])?;
        Ok(Def {
            pin,
            timeout_ms: cx.timeout(raw.timeout_ms),
            expect: raw.expect.unwrap_or_default(),
        })
    }

    fn validate(def: &Def, _: &ValidateContext<'_>, problems: &mut Vec<String>) {
        let e = &def.expect;
        if e.outcome.is_some() || e.record.is_some() || e.message.is_some() {
            problems.push(
                "verify_card_pin expects `pin` (the outcome) and `tries_left`, not outcome/record/message".into(),
            );
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let challenge = format!("onshi-harness {} step {}", cx.case_id, cx.index + 1);
        let inserted = cx.case_world.in_reader.as_ref().is_some_and(|(_, v)| v.is_inserted());
        let params = VerifyCardPinParams {
            pin: def.pin.clone(),
            challenge: Some(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                challenge.as_bytes(),
            )),
            timeout_ms: def.timeout_ms,
        };
        let deadline = def.expect.within_ms.map(Duration::from_millis);
        let answer = cx.call(driver::method::VERIFY_CARD_PIN, &params, deadline).await?;
        let cw = &cx.case_world;
        let facts = CardFacts {
            inserted,
            certificate: match cw.in_reader.as_ref().map(|(id, _)| cw.terminal.card(id)) {
                Some(Ok(hand)) => {
                    onshi_card::image::pem_der(&hand.image.auth.cert_pem, "CERTIFICATE").unwrap_or_default()
                }
                _ => Vec::new(),
            },
            challenge: challenge.into_bytes(),
        };
        Ok(Record { params, answer, facts })
    }

    fn evaluate(def: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        checks::card::card_pin_checks(&def.expect, &r.params, &r.answer, &r.facts, cx.window, cx.step, out);
    }

    fn checks(def: &Def) -> Vec<CheckId> {
        let outcome = def.expect.check.unwrap_or(ids::CARD_OUTCOME);
        let others = checks::CARD_CHECKS.iter().copied().filter(|c| *c != outcome);
        std::iter::once(outcome).chain(others).collect()
    }
}
