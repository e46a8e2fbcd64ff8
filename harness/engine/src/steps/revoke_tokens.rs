//! `revoke_tokens`: every API token the national mock issued is revoked (a client must log
//! in again, once).

use super::{NoKeys, ParseContext, Problem, StepContext, StepKind, Stop};

pub(crate) struct RevokeTokens;

impl StepKind for RevokeTokens {
    const NAME: &'static str = "revoke_tokens";
    const KEYS: &'static [&'static str] = &[];
    type Raw = NoKeys;
    type Def = ();
    type Record = ();

    fn parse(_: NoKeys, _: &ParseContext<'_>) -> Result<(), Vec<Problem>> {
        Ok(())
    }

    async fn execute(_: &(), cx: &mut StepContext<'_>) -> Result<(), Stop> {
        cx.world.national.revoke_tokens();
        Ok(())
    }
}
