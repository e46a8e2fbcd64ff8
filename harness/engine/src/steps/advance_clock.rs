//! `advance_clock`: the World's clock jumps forward (`90s`, `5m`, `2h`, `1d`) — tokens
//! expire, dates change — without waiting.

use serde::Deserialize;

use super::{ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};

pub(crate) struct AdvanceClock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub by: String,
}

impl StepKind for AdvanceClock {
    const NAME: &'static str = "advance_clock";
    const KEYS: &'static [&'static str] = &["by"];
    type Raw = Raw;
    type Def = Def;
    type Record = ();

    fn parse(raw: Raw, _: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let by = raw.by.ok_or_else(|| vec![Problem::missing(Self::NAME, "by")])?;
        Ok(Def { by })
    }

    fn validate(def: &Def, _: &ValidateContext<'_>, problems: &mut Vec<String>) {
        if let Err(m) = crate::clock::parse_duration(&def.by) {
            problems.push(m);
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<(), Stop> {
        let d = crate::clock::parse_duration(&def.by).map_err(|e| Stop::error(e, None))?;
        cx.world.clock.advance(d);
        Ok(())
    }
}
