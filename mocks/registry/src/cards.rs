//! Who holds which virtual My Number card: the holder side of `fixtures/cards/cards.toml`
//! (the card side — keys, certificates, chip files — is onshi-card's).

use serde::{Deserialize, Serialize};

/// The card spec shipped with the harness.
pub const EMBEDDED_CARDS: &str = include_str!("../../../fixtures/cards/cards.toml");

/// One card and the persona holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardHolding {
    #[serde(rename = "id")]
    /// The card's id (`onshi card list`).
    pub card: String,
    /// The persona holding it.
    pub persona: String,
    /// What the card is for, in one line.
    pub summary: String,
}

#[derive(Deserialize)]
struct Spec {
    #[serde(rename = "card", default)]
    cards: Vec<CardHolding>,
}

/// The holdings of a card spec file (other fields of each entry are ignored here).
pub fn card_holdings(spec_toml: &str) -> Result<Vec<CardHolding>, String> {
    toml::from_str::<Spec>(spec_toml)
        .map(|s| s.cards)
        .map_err(|e| e.to_string())
}

impl crate::Registry {
    /// The shipped cards, each with the persona who holds it.
    pub fn cards(&self) -> Vec<CardHolding> {
        card_holdings(EMBEDDED_CARDS).expect("the embedded card spec parses")
    }

    /// The shipped cards a persona holds.
    pub fn cards_of(&self, persona: &str) -> Vec<CardHolding> {
        self.cards().into_iter().filter(|c| c.persona == persona).collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_card_holder_is_a_persona() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let registry = crate::Registry::embedded(today, 0);
        let cards = registry.cards();
        assert!(cards.len() >= 10);
        for c in &cards {
            assert!(
                registry.persona(&c.persona).is_some(),
                "card {} names unknown persona {}",
                c.card,
                c.persona
            );
        }
        assert_eq!(registry.cards_of("valid-kenpo-insured")[0].card, "valid-kenpo-insured");
        assert!(registry.cards_of("nobody").is_empty());
    }
}
