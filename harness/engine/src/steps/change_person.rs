//! `change_person`: a persona's state changes in the national system — loses eligibility,
//! changes insurer, gets a new card — between two steps of a case.

use onshi_national::state::PersonChange;
use serde::Deserialize;

use super::{ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};

pub(crate) struct ChangePerson;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    change: Option<PersonChange>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub change: PersonChange,
}

impl StepKind for ChangePerson {
    const NAME: &'static str = "change_person";
    const KEYS: &'static [&'static str] = &["change"];
    type Raw = Raw;
    type Def = Def;
    type Record = ();

    fn parse(raw: Raw, _: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let change = raw.change.ok_or_else(|| vec![Problem::missing(Self::NAME, "change")])?;
        Ok(Def { change })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        let persona = def.change.persona();
        match cx.registry.persona(persona) {
            None => problems.push(format!("no persona {persona:?} in fixtures/personas.toml")),
            Some(p) => {
                if let Err(e) = onshi_national::state::apply(&mut p.clone(), &def.change, cx.registry.today()) {
                    problems.push(e.to_string());
                }
            }
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<(), Stop> {
        cx.world.national.apply_change(def.change.clone()).map_err(cx.error())?;
        Ok(())
    }
}
