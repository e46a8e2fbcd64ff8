//! `wait`: the World waits in real time (the client may resend, give up, consume files).

use std::time::Duration;

use serde::Deserialize;

use super::{ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};

pub(crate) struct Wait;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    ms: Option<u64>,
}

/// How long, in ms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub ms: u64,
}

impl StepKind for Wait {
    const NAME: &'static str = "wait";
    const KEYS: &'static [&'static str] = &["ms"];
    type Raw = Raw;
    type Def = Def;
    type Record = ();

    fn parse(raw: Raw, _: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let ms = raw.ms.ok_or_else(|| vec![Problem::missing(Self::NAME, "ms")])?;
        Ok(Def { ms })
    }

    fn validate(def: &Def, _: &ValidateContext<'_>, problems: &mut Vec<String>) {
        if def.ms > 600_000 {
            problems.push("waits longer than 10 minutes are not allowed".into());
        }
    }

    async fn execute(def: &Def, _: &mut StepContext<'_>) -> Result<(), Stop> {
        tokio::time::sleep(Duration::from_millis(def.ms)).await;
        Ok(())
    }
}
