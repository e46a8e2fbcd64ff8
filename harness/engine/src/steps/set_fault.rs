//! `set_fault`: a fault of the national mock starts applying (slow answers, errors, dropped
//! connections — docs/scenario-format.md lists them).

use onshi_national::faults::{Fault, FaultBook};
use serde::Deserialize;

use super::{ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};

pub(crate) struct SetFault;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    fault: Option<Fault>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub fault: Fault,
}

impl StepKind for SetFault {
    const NAME: &'static str = "set_fault";
    const KEYS: &'static [&'static str] = &["fault"];
    type Raw = Raw;
    type Def = Def;
    type Record = ();

    fn parse(raw: Raw, _: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let fault = raw.fault.ok_or_else(|| vec![Problem::missing(Self::NAME, "fault")])?;
        Ok(Def { fault })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        if let Err(e) = FaultBook::new(0).set(def.fault.clone(), cx.registry.today()) {
            problems.push(e.to_string());
        }
        if let Some(p) = &def.fault.scope.persona
            && cx.registry.persona(p).is_none()
        {
            problems.push(format!(
                "the fault is scoped to persona {p:?}, which is not in fixtures/personas.toml"
            ));
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<(), Stop> {
        cx.world.national.set_fault(def.fault.clone()).map_err(cx.error())?;
        Ok(())
    }
}
