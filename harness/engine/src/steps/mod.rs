//! Steps: one module per step kind — the `do = "…"` of a case's `[[step]]`. Each kind
//! implements `StepKind`: it reads its own TOML keys, checks them against the registry, runs
//! against the World and the driver, and judges its own checks over the journal. Its
//! definition and what it recorded while running are associated types, so a definition is
//! only ever judged with its own record.
//!
//! Adding a step kind is one new file here and one line in `KINDS`
//! (docs/scenario-format.md, "Adding a step kind").

pub(crate) mod advance_clock;
pub(crate) mod change_person;
pub(crate) mod clear_fault;
pub(crate) mod confirm_bulk;
pub(crate) mod confirm_qualification;
pub(crate) mod fetch_medical_info;
pub(crate) mod import_face;
pub(crate) mod insert_card;
pub(crate) mod present_card;
pub(crate) mod pull_bulk;
pub(crate) mod register_reference_number;
pub(crate) mod remove_card;
pub(crate) mod revoke_tokens;
pub(crate) mod rush;
pub(crate) mod set_fault;
pub(crate) mod verify_card_pin;
pub(crate) mod wait;

use onshi_protocol::ids;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use onshi_protocol::CheckId;
use onshi_registry::Registry;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

pub(crate) use insert_card::wait_for_pcscd;
pub use rush::{NoProfiles, NoRushes, Profiles, RushDone, RushFailure, RushPlan, RushRun, Rushes};

use crate::checks::{self, CallAnswer, CheckResult, StepSpan};
use crate::journal::{Entry, Journal};
use crate::options::RunOptions;
use crate::report::Verdict;
use crate::spec::{ApiSetup, CardSpec, Expect, PeriodChoice};
use crate::world::{CaseWorld, World};

/// Every step kind a case can use, by its `do = "…"` name.
const KINDS: &[&dyn Kind] = &[
    &Of::<confirm_qualification::ConfirmQualification>(PhantomData),
    &Of::<present_card::PresentCard>(PhantomData),
    &Of::<import_face::ImportFace>(PhantomData),
    &Of::<wait::Wait>(PhantomData),
    &Of::<advance_clock::AdvanceClock>(PhantomData),
    &Of::<set_fault::SetFault>(PhantomData),
    &Of::<clear_fault::ClearFault>(PhantomData),
    &Of::<change_person::ChangePerson>(PhantomData),
    &Of::<revoke_tokens::RevokeTokens>(PhantomData),
    &Of::<register_reference_number::RegisterReferenceNumber>(PhantomData),
    &Of::<confirm_bulk::ConfirmBulk>(PhantomData),
    &Of::<pull_bulk::PullBulk>(PhantomData),
    &Of::<fetch_medical_info::FetchMedicalInfo>(PhantomData),
    &Of::<insert_card::InsertCard>(PhantomData),
    &Of::<remove_card::RemoveCard>(PhantomData),
    &Of::<verify_card_pin::VerifyCardPin>(PhantomData),
    &Of::<rush::Rush>(PhantomData),
];

/// One kind of step.
pub(crate) trait StepKind: 'static {
    /// The `do = "…"` name.
    const NAME: &'static str;
    /// The keys a step of this kind may have besides `do`.
    const KEYS: &'static [&'static str];
    /// The step's table as written (`deny_unknown_fields`, every key optional: what is
    /// missing is reported by [`StepKind::parse`] with the others).
    type Raw: DeserializeOwned;
    /// The step as the case defines it.
    type Def: Clone + fmt::Debug + PartialEq + 'static;
    /// What the step did when it ran, for its checks; journaled (`step_done`) so that the
    /// checks can be re-derived from the journal alone.
    type Record: fmt::Debug + Serialize + DeserializeOwned + 'static;

    /// The definition, or every problem of the table.
    fn parse(raw: Self::Raw, cx: &ParseContext<'_>) -> Result<Self::Def, Vec<Problem>>;

    /// Problems of a parsed definition in its case (unknown personas, bad dates, …).
    fn validate(_def: &Self::Def, _cx: &ValidateContext<'_>, _problems: &mut Vec<String>) {}

    /// Runs the step; `Err` ends the case early.
    async fn execute(def: &Self::Def, cx: &mut StepContext<'_>) -> Result<Self::Record, Stop>;

    /// The step's own checks over its journal window.
    fn evaluate(_def: &Self::Def, _record: &Self::Record, _cx: &EvalContext<'_>, _out: &mut Vec<CheckResult>) {}

    /// Every check the step can report (for the catalogue of each case).
    fn checks(_def: &Self::Def) -> Vec<CheckId> {
        Vec::new()
    }

    /// The checks the step reports the client's conclusion under (for root causes).
    fn outcome_checks(_def: &Self::Def) -> Vec<CheckId> {
        Vec::new()
    }
}

/// The table of a step kind that takes no keys.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoKeys {}

/// A problem of a step's table: where it is (for its line) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The step's key it concerns, when a kind's `parse` names one.
    pub key: Option<String>,
    /// Where in the case file (byte offsets), when known.
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl Problem {
    pub fn at(key: &str, message: impl Into<String>) -> Self {
        Problem {
            key: Some(key.to_owned()),
            span: None,
            message: message.into(),
        }
    }

    /// A key the step cannot do without.
    pub fn missing(kind: &str, key: &str) -> Self {
        Problem {
            key: None,
            span: None,
            message: format!("a {kind} step needs `{key}`"),
        }
    }

    fn spanned(span: Range<usize>, message: impl Into<String>) -> Self {
        Problem {
            key: None,
            span: Some(span),
            message: message.into(),
        }
    }
}

/// What parsing a step may need from its case and suite.
pub(crate) struct ParseContext<'a> {
    /// The suite's rush profiles.
    pub profiles: &'a dyn Profiles,
    /// The case's `client_timeout_ms`, the `timeout_ms` of steps that give none.
    pub case_timeout_ms: Option<u64>,
    /// The case file's folder, for card files named relative to it (`None`: embedded suite).
    pub case_dir: Option<&'a Path>,
}

impl ParseContext<'_> {
    /// A step's time-out: its own, or the case's.
    pub fn timeout(&self, own: Option<u64>) -> Option<u64> {
        own.or(self.case_timeout_ms)
    }

    /// A card image named by a relative path in a case file is the file's neighbour, not the
    /// working directory's: the suite may be run from anywhere.
    pub(crate) fn card_path(&self, card: String) -> String {
        let is_path = card.ends_with(".toml") || card.contains('/');
        match self.case_dir {
            Some(dir) if is_path && Path::new(&card).is_relative() => dir.join(&card).display().to_string(),
            _ => card,
        }
    }
}

/// What validating a step may need from its case.
pub(crate) struct ValidateContext<'a> {
    pub registry: &'a Registry,
    /// The capabilities the case declares.
    pub capabilities: &'a [String],
    /// The steps before this one.
    pub earlier: &'a [Step],
}

impl ValidateContext<'_> {
    pub fn declares(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// How a case ended early.
pub(crate) struct Stop {
    pub verdict: Verdict,
    pub reason: String,
    pub check: Option<CheckId>,
    /// The checks of a case that ends early as a failure (the client crashed).
    pub checks: Vec<CheckResult>,
}

impl Stop {
    pub fn error(reason: impl Into<String>, check: Option<CheckId>) -> Self {
        Stop {
            verdict: Verdict::Error,
            reason: reason.into(),
            check,
            checks: Vec::new(),
        }
    }

    pub fn not_applicable(reason: impl Into<String>, check: Option<CheckId>) -> Self {
        Stop {
            verdict: Verdict::NotApplicable,
            ..Stop::error(reason, check)
        }
    }

    /// The client failed the case by crashing: `check` says on what.
    pub fn crashed(check: CheckResult) -> Self {
        Stop {
            verdict: Verdict::Fail,
            reason: String::new(),
            check: None,
            checks: vec![check],
        }
    }
}

/// A future of the run's own thread (steps' calls, a rush).
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Driver calls, as the runner makes them: the adapter is (re)started when needed, a
/// `deadline` (an expectation's `within_ms`) makes silence the client's failure, a crash is
/// the client's failure.
pub(crate) trait Calls {
    fn call<'a>(
        &'a mut self,
        method: &'a str,
        params: Value,
        deadline: Option<Duration>,
    ) -> LocalFuture<'a, Result<CallAnswer<Value>, Stop>>;
}

/// What a running step can reach.
pub(crate) struct StepContext<'a> {
    pub world: &'a World,
    pub case_world: &'a mut CaseWorld,
    pub journal: &'a Arc<Journal>,
    /// The run's private pcscd, when PC/SC cases run.
    pub pcscd: Option<&'a onshi_card::pcscd::Pcscd>,
    pub options: &'a RunOptions,
    pub case_id: &'a str,
    /// 0-based index of the step in its case.
    pub index: usize,
    pub calls: &'a mut dyn Calls,
}

impl StepContext<'_> {
    /// A driver call with typed params and result.
    pub async fn call<P: Serialize, T: DeserializeOwned>(
        &mut self,
        method: &str,
        params: &P,
        deadline: Option<Duration>,
    ) -> Result<CallAnswer<T>, Stop> {
        let params = serde_json::to_value(params).expect("driver params serialise");
        match self.calls.call(method, params, deadline).await? {
            CallAnswer::Answered(v) => serde_json::from_value(v).map(CallAnswer::Answered).map_err(|e| {
                Stop::error(
                    format!("{method}: the adapter's result does not match onshi-driver/1: {e}"),
                    Some(ids::DRV_ANSWER),
                )
            }),
            CallAnswer::TimedOut { after_ms } => Ok(CallAnswer::TimedOut { after_ms }),
        }
    }

    /// Turns a problem of this step into a stop that names the step.
    pub fn error<E: fmt::Display>(&self) -> impl Fn(E) -> Stop + 'static {
        let n = self.index + 1;
        move |e| Stop::error(format!("step {n}: {e}"), None)
    }

    /// The World's reception date, `YYYYMMDD`.
    pub fn date(&self) -> String {
        self.world.date.format("%Y%m%d").to_string()
    }
}

/// What a step's checks see.
pub(crate) struct EvalContext<'a> {
    /// The step's journal entries.
    pub window: &'a [Entry],
    /// The case's journal entries.
    pub entries: &'a [Entry],
    /// The step, 1-based.
    pub step: usize,
    /// The case-level checks the case declares.
    pub declared: &'a [String],
}

impl EvalContext<'_> {
    pub fn declares(&self, check: CheckId) -> bool {
        self.declared.iter().any(|c| *c == check)
    }
}

/// One step of a case, of any kind.
pub struct Step(Box<dyn Defined>);

impl Step {
    /// The `do = "…"` name.
    pub(crate) fn action(&self) -> &'static str {
        self.0.name()
    }

    /// Every check the step can report, by its kind and expectations.
    pub fn checks(&self) -> Vec<CheckId> {
        self.0.checks()
    }

    pub(crate) fn outcome_checks(&self) -> Vec<CheckId> {
        self.0.outcome_checks()
    }

    pub(crate) fn validate(&self, cx: &ValidateContext<'_>) -> Vec<String> {
        let mut problems = Vec::new();
        self.0.validate(cx, &mut problems);
        problems
    }

    pub(crate) async fn execute(&self, cx: &mut StepContext<'_>, first_seq: u64) -> Result<Executed, Stop> {
        let index = cx.index;
        let done = self.0.execute(cx).await?;
        Ok(Executed {
            span: StepSpan {
                index,
                first_seq,
                end_seq: cx.journal.next_seq(),
            },
            done,
        })
    }

    /// The step as it ran, from its journaled record (`step_done`) and its place in the
    /// journal: what re-deriving a case's checks from a journal starts from.
    pub(crate) fn restore(&self, span: StepSpan, record: serde_json::Value) -> Result<Executed, serde_json::Error> {
        Ok(Executed {
            span,
            done: self.0.restore(record)?,
        })
    }

    /// The definition, when the step is of kind `K`.
    #[cfg(test)]
    pub(crate) fn def<K: StepKind>(&self) -> Option<&K::Def> {
        self.0.as_any().downcast_ref::<Def<K>>().map(|d| &d.0)
    }
}

impl Clone for Step {
    fn clone(&self) -> Self {
        Step(self.0.clone_box())
    }
}

impl PartialEq for Step {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_dyn(other.0.as_any())
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.action())?;
        self.0.fmt(f)
    }
}

/// Parses one `[[step]]` table of the spanned case file; the problems carry where they are.
pub(crate) fn parse(item: Spanned<DeValue<'_>>, cx: &ParseContext<'_>) -> Result<Step, Vec<Problem>> {
    let known = || KINDS.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ");
    let span = item.span();
    let DeValue::Table(mut table) = item.into_inner() else {
        return Err(vec![Problem::spanned(span, "a step must be a table ([[step]])")]);
    };
    let (name, do_span) = match table.remove_entry("do") {
        Some((_, value)) => match value.get_ref() {
            DeValue::String(s) => (s.to_string(), value.span()),
            _ => {
                return Err(vec![Problem::spanned(
                    value.span(),
                    format!("`do` must be a step kind's name (known: {})", known()),
                )]);
            }
        },
        None => {
            return Err(vec![Problem {
                key: None,
                span: None,
                message: format!("a step needs `do` (one of: {})", known()),
            }]);
        }
    };
    let Some(kind) = KINDS.iter().find(|k| k.name() == name) else {
        return Err(vec![Problem::spanned(
            do_span,
            format!("unknown step kind `do = {name:?}` (known: {})", known()),
        )]);
    };
    kind.parse(Spanned::new(span, table), cx)
}

/// Every step kind's name and keys, for the documentation.
pub fn kinds() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    KINDS.iter().map(|k| (k.name(), k.keys()))
}

/// One executed step: where it sits in the journal and what it did.
pub(crate) struct Executed {
    pub span: StepSpan,
    done: Box<dyn Done>,
}

impl Executed {
    /// What the step recorded, as journaled.
    pub fn record_json(&self) -> serde_json::Value {
        self.done.record()
    }

    /// What the step recorded, when it is of kind `K`.
    pub fn record<K: StepKind>(&self) -> Option<&K::Record> {
        self.done.as_any().downcast_ref::<DoneOf<K>>().map(|d| &d.record)
    }
}

/// Every check of a case: the case-level ones, each executed step's own, and root causes.
pub(crate) fn evaluate(
    steps: &[Step],
    executed: &[Executed],
    declared: &[String],
    api: ApiSetup,
    entries: &[Entry],
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    // each imported face file with the last event of its import step
    let imports: Vec<(&str, u64)> = executed
        .iter()
        .filter_map(|e| {
            e.record::<import_face::ImportFace>()
                .map(|r| (r.file.as_str(), e.span.end_seq.saturating_sub(1)))
        })
        .collect();
    checks::qualification::case_level(declared, api, entries, &imports, &mut out);
    for e in executed {
        let cx = EvalContext {
            window: checks::window(entries, e.span.first_seq, e.span.end_seq),
            entries,
            step: e.span.index + 1,
            declared,
        };
        e.done.evaluate(&cx, &mut out);
    }
    checks::qualification::case_level_last(declared, entries, &mut out);
    let outcome_checks: Vec<CheckId> = steps.iter().flat_map(Step::outcome_checks).collect();
    let spans: Vec<StepSpan> = executed.iter().map(|e| e.span).collect();
    checks::chain(&mut out, &spans, &outcome_checks);
    out
}

/// The outcome checks of a step with these expectations (both the answered and the silent
/// client's).
fn outcome_checks_of(expect: &Expect) -> Vec<CheckId> {
    [
        checks::outcome_check(expect, false),
        checks::outcome_check(expect, true),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A card of a step names a persona (with a card it has) or gives the explicit fields.
fn check_card(card: &CardSpec, registry: &Registry) -> Result<(), String> {
    let explicit = card.insurer_number.is_some()
        || card.number.is_some()
        || card.birthdate.is_some()
        || card.symbol.is_some()
        || card.branch.is_some();
    match &card.persona {
        Some(p) if explicit => Err(format!(
            "card names persona {p:?} and explicit fields; use one or the other"
        )),
        Some(p) => {
            let person = registry
                .persona(p)
                .ok_or_else(|| format!("no persona {p:?} in fixtures/personas.toml"))?;
            if card.period == PeriodChoice::Previous && person.insurance.len() < 2 {
                return Err(format!(
                    "persona {p:?} has only one insurance period; there is no previous card"
                ));
            }
            Ok(())
        }
        None => {
            for (name, v) in [
                ("insurer_number", &card.insurer_number),
                ("number", &card.number),
                ("birthdate", &card.birthdate),
            ] {
                if v.is_none() {
                    return Err(format!(
                        "card needs a persona, or {name} with the other explicit fields"
                    ));
                }
            }
            Ok(())
        }
    }
}

// ---- type erasure: a kind, a definition and an executed step of any kind ----

/// A step kind behind a reference in [`KINDS`].
trait Kind: Sync {
    fn name(&self) -> &'static str;
    fn keys(&self) -> &'static [&'static str];
    fn parse(&self, table: Spanned<DeTable<'_>>, cx: &ParseContext<'_>) -> Result<Step, Vec<Problem>>;
}

struct Of<K>(PhantomData<fn() -> K>);

impl<K: StepKind> Kind for Of<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn keys(&self) -> &'static [&'static str] {
        K::KEYS
    }

    fn parse(&self, table: Spanned<DeTable<'_>>, cx: &ParseContext<'_>) -> Result<Step, Vec<Problem>> {
        let span = table.span();
        let mut table = table.into_inner();
        let mut problems: Vec<Problem> = Vec::new();
        let misplaced: Vec<String> = table
            .iter()
            .map(|(k, _)| k.get_ref().to_string())
            .filter(|k| !K::KEYS.contains(&k.as_str()))
            .collect();
        for k in misplaced {
            let (key, _) = table.remove_entry(k.as_str()).expect("listed above");
            problems.push(Problem::spanned(
                key.span(),
                format!(
                    "`{k}` does not belong to a {} step (allowed: {})",
                    K::NAME,
                    K::KEYS.join(", ")
                ),
            ));
        }
        // where each key is, for the problems a kind's `parse` names by key
        let keys: Vec<(String, Range<usize>)> =
            table.iter().map(|(k, _)| (k.get_ref().to_string(), k.span())).collect();
        let value = Spanned::new(span, DeValue::Table(table));
        let raw = match <K::Raw as serde::Deserialize>::deserialize(ValueDeserializer::from(value)) {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(Problem {
                    key: None,
                    span: e.span(),
                    message: e.message().trim().to_owned(),
                });
                return Err(problems);
            }
        };
        match K::parse(raw, cx) {
            Ok(def) if problems.is_empty() => Ok(Step(Box::new(Def::<K>(def)))),
            Ok(_) => Err(problems),
            Err(more) => {
                problems.extend(more.into_iter().map(|p| Problem {
                    span: p.span.clone().or_else(|| {
                        let key = p.key.as_deref()?;
                        keys.iter().find(|(k, _)| k == key).map(|(_, s)| s.clone())
                    }),
                    ..p
                }));
                Err(problems)
            }
        }
    }
}

trait Defined: fmt::Debug {
    fn name(&self) -> &'static str;
    fn validate(&self, cx: &ValidateContext<'_>, problems: &mut Vec<String>);
    fn execute<'a>(&'a self, cx: &'a mut StepContext<'_>) -> LocalFuture<'a, Result<Box<dyn Done>, Stop>>;
    fn checks(&self) -> Vec<CheckId>;
    fn outcome_checks(&self) -> Vec<CheckId>;
    fn restore(&self, record: serde_json::Value) -> Result<Box<dyn Done>, serde_json::Error>;
    fn clone_box(&self) -> Box<dyn Defined>;
    fn eq_dyn(&self, other: &dyn Any) -> bool;
    fn as_any(&self) -> &dyn Any;
}

struct Def<K: StepKind>(K::Def);

impl<K: StepKind> fmt::Debug for Def<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<K: StepKind> Defined for Def<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn validate(&self, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        K::validate(&self.0, cx, problems);
    }

    fn execute<'a>(&'a self, cx: &'a mut StepContext<'_>) -> LocalFuture<'a, Result<Box<dyn Done>, Stop>> {
        Box::pin(async move {
            let record = K::execute(&self.0, cx).await?;
            Ok(Box::new(DoneOf::<K> {
                def: self.0.clone(),
                record,
            }) as Box<dyn Done>)
        })
    }

    fn checks(&self) -> Vec<CheckId> {
        K::checks(&self.0)
    }

    fn outcome_checks(&self) -> Vec<CheckId> {
        K::outcome_checks(&self.0)
    }

    fn restore(&self, record: serde_json::Value) -> Result<Box<dyn Done>, serde_json::Error> {
        Ok(Box::new(DoneOf::<K> {
            def: self.0.clone(),
            record: serde_json::from_value(record)?,
        }))
    }

    fn clone_box(&self) -> Box<dyn Defined> {
        Box::new(Def::<K>(self.0.clone()))
    }

    fn eq_dyn(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<Def<K>>().is_some_and(|o| o.0 == self.0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

trait Done {
    fn evaluate(&self, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>);
    fn record(&self) -> serde_json::Value;
    fn as_any(&self) -> &dyn Any;
}

struct DoneOf<K: StepKind> {
    def: K::Def,
    record: K::Record,
}

impl<K: StepKind> Done for DoneOf<K> {
    fn evaluate(&self, cx: &EvalContext<'_>, out: &mut Vec<CheckResult>) {
        K::evaluate(&self.def, &self.record, cx, out);
    }

    fn record(&self) -> serde_json::Value {
        serde_json::to_value(&self.record).expect("a step record is serialisable")
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_unique_name() {
        let mut names: Vec<&str> = kinds().map(|(n, _)| n).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
