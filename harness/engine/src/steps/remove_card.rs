//! `remove_card`: the card leaves the PC/SC reader.

use super::{NoKeys, ParseContext, Problem, StepContext, StepKind, Stop, wait_for_pcscd};

pub(crate) struct RemoveCard;

impl StepKind for RemoveCard {
    const NAME: &'static str = "remove_card";
    const KEYS: &'static [&'static str] = &[];
    type Raw = NoKeys;
    type Def = ();
    type Record = ();

    fn parse(_: NoKeys, _: &ParseContext<'_>) -> Result<(), Vec<Problem>> {
        Ok(())
    }

    async fn execute(_: &(), cx: &mut StepContext<'_>) -> Result<(), Stop> {
        if let Some((_, vicc)) = cx.case_world.in_reader.take() {
            vicc.remove();
            // pcscd notices on its next presence poll (every 400 ms)
            if let Some(pcscd) = cx.pcscd {
                wait_for_pcscd(pcscd, |inserted, removed| removed >= inserted).await;
            }
        }
        Ok(())
    }
}
