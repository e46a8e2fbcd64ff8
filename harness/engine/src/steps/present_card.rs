//! `present_card`: a patient presents their card at the face-auth reader (顔認証付きカード
//! リーダー). A World action: the terminal writes the face file the client will import —
//! after the card-level flow of a virtual My Number card when the step names one.

use onshi_national::ConsentChoices;
use onshi_protocol::codes::{self, Code};
use onshi_terminal::reader::{AuthMethod, Stage, Visit};
use onshi_terminal::{PresentCard as Presented, SlowWrite};
use serde::Deserialize;

use super::{ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::spec::SlowSpec;

pub(crate) struct PresentCard;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    persona: Option<String>,
    my_number_card: Option<String>,
    auth: Option<AuthMethod>,
    remove_at: Option<Stage>,
    consents: Option<ConsentChoices>,
    slow: Option<SlowSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub persona: String,
    /// The virtual My Number card the patient places (a shipped card id or a card file):
    /// the reader model runs the card-level flow first. Absent: the patient is confirmed
    /// directly.
    pub my_number_card: Option<String>,
    /// Face (with each attempt's result), PIN (the entries typed) or visual check.
    pub auth: AuthMethod,
    /// The patient takes the card away at this stage.
    pub remove_at: Option<Stage>,
    pub consents: ConsentChoices,
    pub slow: Option<SlowSpec>,
}

impl StepKind for PresentCard {
    const NAME: &'static str = "present_card";
    const KEYS: &'static [&'static str] = &["persona", "my_number_card", "auth", "remove_at", "consents", "slow"];
    type Raw = Raw;
    type Def = Def;
    type Record = ();

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        // the holder of a shipped card is known; the persona may then be left out
        let holder = raw.my_number_card.as_deref().and_then(|id| {
            onshi_registry::card_holdings(onshi_registry::cards::EMBEDDED_CARDS)
                .ok()?
                .into_iter()
                .find(|c| c.card == id)
                .map(|c| c.persona)
        });
        let persona = match (raw.persona, holder) {
            (Some(p), Some(h)) if p != h => {
                return Err(vec![Problem::at(
                    "persona",
                    format!("persona {p:?} does not hold my_number_card (its holder is {h:?})"),
                )]);
            }
            (Some(persona), _) | (None, Some(persona)) => persona,
            (None, None) => {
                return Err(vec![Problem::missing(
                    Self::NAME,
                    "persona` or a shipped `my_number_card",
                )]);
            }
        };
        Ok(Def {
            persona,
            my_number_card: raw.my_number_card.map(|c| cx.card_path(c)),
            auth: raw.auth.unwrap_or_default(),
            remove_at: raw.remove_at,
            consents: raw.consents.unwrap_or_default(),
            slow: raw.slow,
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        let registry = cx.registry;
        if let Some(card) = &def.my_number_card
            && !card.ends_with(".toml")
            && registry.cards().iter().all(|c| &c.card != card)
        {
            problems.push(format!(
                "my_number_card {card:?} is not a shipped card ({}; see `onshi card list`)",
                registry
                    .cards()
                    .iter()
                    .map(|c| c.card.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if def.my_number_card.is_none() && (def.auth != AuthMethod::default() || def.remove_at.is_some()) {
            problems.push("auth and remove_at need a my_number_card: the reader model runs on the card".into());
        }
        if registry.persona(&def.persona).is_none() {
            problems.push(format!("no persona {:?} in fixtures/personas.toml", def.persona));
        }
        let c = &def.consents;
        let flags = [
            (
                "limit_certificate",
                &c.limit_certificate,
                codes::LimitConsentFlag::TABLE,
            ),
            ("specific_diseases", &c.specific_diseases, codes::ConsentFlag::TABLE),
            (
                "specific_health_checkups",
                &c.specific_health_checkups,
                codes::ConsentFlag::TABLE,
            ),
            ("pharmacists", &c.pharmacists, codes::ConsentFlag::TABLE),
            ("diagnosis", &c.diagnosis, codes::ConsentFlag::TABLE),
            ("operation", &c.operation, codes::ConsentFlag::TABLE),
        ];
        for (name, flag, table) in flags {
            if let Some(f) = flag
                && table.lookup(f).is_none()
            {
                problems.push(format!(
                    "consents.{name} = {f:?} is not in {} ({})",
                    table.id,
                    table.summary()
                ));
            }
        }
        if def.slow.is_some_and(|s| s.chunks == 0) {
            problems.push("slow.chunks must be at least 1".into());
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<(), Stop> {
        let file = cx
            .case_world
            .terminal
            .present_card(Presented {
                persona: def.persona.clone(),
                card: def.my_number_card.clone(),
                visit: Visit {
                    method: def.auth.clone(),
                    remove_at: def.remove_at,
                },
                consents: def.consents.clone(),
                slow: def.slow.map(|s| SlowWrite {
                    chunks: s.chunks,
                    interval_ms: s.interval_ms,
                }),
            })
            .await
            .map_err(cx.error())?;
        cx.case_world.last_face = Some(file);
        Ok(())
    }
}
