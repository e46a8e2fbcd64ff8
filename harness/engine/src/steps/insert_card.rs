//! `insert_card`: the patient's virtual My Number card goes into the PC/SC reader
//! (`Virtual PCD 00 00`, through the run's own pcscd); with `remove_during` it is snatched
//! away while the card processes that command, before answering.

use std::sync::Arc;
use std::time::{Duration, Instant};

use onshi_card::pcscd::Pcscd;
use onshi_card::vpcd::{EventSink, LinkEvent, RemoveDuring, Vicc};
use serde::Deserialize;

use super::{ParseContext, Problem, StepContext, StepKind, Stop, ValidateContext};
use crate::journal::Event;
use crate::spec::CardCommand;

pub(crate) struct InsertCard;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    my_number_card: Option<String>,
    remove_during: Option<CardCommand>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    /// A shipped card id or a card file.
    pub my_number_card: String,
    pub remove_during: Option<CardCommand>,
}

/// Waits (at most 5 s) until pcscd's count of insertions and removals satisfies `done`.
pub(crate) async fn wait_for_pcscd(pcscd: &Pcscd, done: impl Fn(usize, usize) -> bool) -> bool {
    let since = Instant::now();
    loop {
        let (inserted, removed) = pcscd.presence_changes();
        if done(inserted, removed) {
            return true;
        }
        if since.elapsed() > Duration::from_secs(5) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl StepKind for InsertCard {
    const NAME: &'static str = "insert_card";
    const KEYS: &'static [&'static str] = &["my_number_card", "remove_during"];
    type Raw = Raw;
    type Def = Def;
    type Record = ();

    fn parse(raw: Raw, cx: &ParseContext<'_>) -> Result<Def, Vec<Problem>> {
        let card = raw
            .my_number_card
            .ok_or_else(|| vec![Problem::missing(Self::NAME, "my_number_card")])?;
        Ok(Def {
            my_number_card: cx.card_path(card),
            remove_during: raw.remove_during,
        })
    }

    fn validate(def: &Def, cx: &ValidateContext<'_>, problems: &mut Vec<String>) {
        let card = &def.my_number_card;
        if !card.ends_with(".toml") && cx.registry.cards().iter().all(|c| &c.card != card) {
            problems.push(format!(
                "my_number_card {card:?} is not a shipped card (see `onshi card list`)"
            ));
        }
        if !cx.declares(onshi_protocol::driver::capability::CARD_PCSC) {
            problems.push("a case that puts a card into the PC/SC reader must declare capability card.pcsc".into());
        }
    }

    async fn execute(def: &Def, cx: &mut StepContext<'_>) -> Result<(), Stop> {
        if let Some((_, old)) = cx.case_world.in_reader.take() {
            old.remove();
        }
        let n = cx.index + 1;
        let pcscd = cx
            .pcscd
            .ok_or_else(|| Stop::error(format!("step {n}: no pcscd is running for this run"), None))?;
        // the reader must be seen empty before the card goes in, or pcscd takes it for the
        // card it already had and clients get no insertion
        wait_for_pcscd(pcscd, |inserted, removed| removed >= inserted).await;
        let (before, _) = pcscd.presence_changes();
        let hand = cx.case_world.terminal.card(&def.my_number_card).map_err(cx.error())?;
        let journal = cx.journal.clone();
        let id = def.my_number_card.clone();
        let sink: EventSink = Arc::new(move |link| {
            // pcscd's presence polls (an ATR request every 400 ms) are noise
            if link != LinkEvent::Atr {
                journal.append(Event::Card { card: id.clone(), link });
            }
        });
        let during = def.remove_during.map(|c| RemoveDuring::Ins(c.ins()));
        let vicc = Vicc::insert(pcscd.vpcd_addr().as_str(), hand.card, sink, during).map_err(cx.error())?;
        // the card is on the reader before the patient is asked for the PIN
        if !wait_for_pcscd(pcscd, |inserted, _| inserted > before).await {
            return Err(cx.error()("pcscd did not notice the card within 5 s"));
        }
        cx.case_world.in_reader = Some((def.my_number_card.clone(), vicc));
        Ok(())
    }
}
