//! `clear_fault`: a fault set by an earlier `set_fault` stops applying.

use serde::Deserialize;

use super::{ParseContext, Problem, StepContext, StepKind, Stop};

pub(crate) struct ClearFault;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    /// The fault's `id`.
    pub id: String,
}

impl StepKind for ClearFault {
    const NAME: &'static str = "clear_fault";
    const KEYS: &'static [&'static str] = &["id"];
    type Raw = Raw;
    type Def = Def;
    type Record = ();

    fn parse(raw: Raw, _: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let id = raw.id.ok_or_else(|| vec![Problem::missing(Self::NAME, "id")])?;
        Ok(Def { id })
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<(), Stop> {
        if !cx.world.national.clear_fault(&def.id) {
            return Err(cx.error()(format!("no fault {:?} to clear", def.id)));
        }
        Ok(())
    }
}
