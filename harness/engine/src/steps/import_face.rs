//! `import_face`: the client imports the face file the last `present_card` produced — a
//! driver call judged like a confirmation, plus the consents and 照会番号 it stored.

use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_protocol::driver::{self, ImportFaceParams, ImportFaceResult};
use serde::Deserialize;

use super::{EvalContext, ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::checks::{self, CallAnswer, CheckResult};
use crate::spec::Expect;

pub(crate) struct ImportFace;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    timeout_ms: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub timeout_ms: u64,
    pub expect: Expect,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    /// The face file imported.
    pub file: String,
    answer: CallAnswer<ImportFaceResult>,
}

impl StepKind for ImportFace {
    const NAME: &'static str = "import_face";
    const KEYS: &'static [&'static str] = &["timeout_ms", "expect"];
    type Raw = Raw;
    type Def = Def;
    type Record = Record;

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        Ok(Def {
            timeout_ms: cx.timeout(raw.timeout_ms).unwrap_or(10_000),
            expect: raw.expect.unwrap_or_default(),
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        let presented = cx
            .earlier
            .iter()
            .any(|s| s.action() == <super::present_card::PresentCard as StepKind>::NAME);
        if !presented {
            problems.push("there is no earlier present_card step whose face file could be imported".into());
        }
        if def.expect.request.is_some() {
            problems.push("expect.request belongs to confirm_qualification (a face import sends no request)".into());
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<Record, Stop> {
        let file = cx
            .case_world
            .last_face
            .clone()
            .expect("the loader checks a card was presented");
        let params = ImportFaceParams {
            file: file.clone(),
            timeout_ms: def.timeout_ms,
        };
        let deadline = def.expect.within_ms.map(Duration::from_millis);
        let answer = cx.call(driver::method::IMPORT_FACE, &params, deadline).await?;
        Ok(Record { file, answer })
    }

    fn evaluate(def: &Def, r: &Record, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        checks::qualification::import_face(&r.file, &r.answer, &def.expect, cx.entries, cx.step, out);
    }

    fn checks(def: &Def) -> Vec<CheckId> {
        checks::checks_of_expect(&def.expect, None)
    }

    fn outcome_checks(def: &Def) -> Vec<CheckId> {
        super::outcome_checks_of(&def.expect)
    }
}
