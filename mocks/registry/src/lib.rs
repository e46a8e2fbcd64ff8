//! # onshi-registry
//!
//! The synthetic insured population the World answers from: a deterministic generated
//! population ([`population`]) and named personas ([`persona`], `fixtures/personas.toml`)
//! that pin the interesting cases. Each person has a timeline of insurance periods; the
//! date of a query decides which qualification is valid.
//!
//! All data is synthetic: names are made of words like 検証 and 試験, insurer numbers use the
//! non-existent prefecture code 99, institution codes start with 99.

#![warn(missing_docs)]

pub mod cards;
pub mod date;
pub mod history;
pub mod person;
pub mod persona;
pub mod population;
pub mod rng;

use chrono::NaiveDate;
use serde::Serialize;

pub use cards::{CardHolding, card_holdings};
pub use person::{
    CardIdentity, InsurancePeriod, InsurerNumber, MedicalAid, MedicalTicket, Person, PersonId, ProcessingNotice,
    VisitConsent, VisitKind, interface_insurer_number,
};
pub use persona::{PersonaError, parse_personas};
pub use population::Population;

/// The personas shipped with the harness.
pub const EMBEDDED_PERSONAS: &str = include_str!("../../../fixtures/personas.toml");

/// The card data of a query, as the request carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardQuery {
    /// As in the request (8 characters when well-formed).
    pub insurer_number: String,
    /// 記号, when the card has one.
    pub symbol: Option<String>,
    /// 番号.
    pub number: String,
    /// `None` when the request carries no branch number (or an empty one).
    pub branch: Option<String>,
    /// YYYYMMDD as in the request.
    pub birthdate: String,
}

/// What the registry knows about a card on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// No qualification matches the card (QualificationValidity 4 — 該当資格なし).
    NotFound,
    /// The card identifies one qualification.
    Found {
        /// The person.
        person: Box<Person>,
        /// The matched period (the card the patient presented).
        period: usize,
        /// Whether the matched qualification is still valid.
        validity: Validity,
    },
    /// Several persons match (QualificationValidity 5 — 複数該当), e.g. twins on one card
    /// queried without a branch number. Each entry is a person and the matched period.
    Multiple(Vec<(Person, usize)>),
}

/// Validity of a matched qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// QualificationValidity 1 — 有効.
    Valid,
    /// QualificationValidity 2 — 無効: the period ended and nothing replaced it.
    Invalid,
    /// QualificationValidity 3 — 無効（新しい資格あり）: the period ended and the person has
    /// a newer one (the index of which is given).
    /// The card's period ended; the person's current period is `current`.
    InvalidNewQualification {
        /// The index of the person's current period.
        current: usize,
    },
}

/// Why a registry cannot be built.
pub type RegistryError = PersonaError;

/// Personas plus the generated population, with dates resolved for one run.
#[derive(Debug, Clone)]
pub struct Registry {
    personas: Vec<Person>,
    population: Population,
    today: NaiveDate,
}

impl Registry {
    /// Builds a registry from persona TOML; relative dates are resolved against `today`.
    pub fn new(
        personas_toml: &str,
        origin: &str,
        population: Population,
        today: NaiveDate,
    ) -> Result<Registry, RegistryError> {
        Ok(Registry {
            personas: parse_personas(personas_toml, origin, today)?,
            population,
            today,
        })
    }

    /// The embedded personas and the default population.
    pub fn embedded(today: NaiveDate, seed: u64) -> Registry {
        Registry::new(
            EMBEDDED_PERSONAS,
            "fixtures/personas.toml",
            Population {
                seed,
                ..Population::default()
            },
            today,
        )
        .expect("embedded personas are valid")
    }

    /// The date relative persona dates were resolved against.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The fixed personas, in file order.
    pub fn personas(&self) -> &[Person] {
        &self.personas
    }

    /// The persona `id`, if there is one.
    pub fn persona(&self, id: &str) -> Option<&Person> {
        self.personas
            .iter()
            .find(|p| matches!(&p.id, PersonId::Persona(x) if x == id))
    }

    /// A person by id: a persona, or a member of the generated population.
    pub fn person(&self, id: &PersonId) -> Option<Person> {
        match id {
            PersonId::Persona(p) => self.persona(p).cloned(),
            PersonId::Generated(n) => self.population.person(*n),
        }
    }

    /// The generated population.
    pub fn population(&self) -> Population {
        self.population
    }

    /// Looks a card up as of `on`.
    pub fn lookup(&self, q: &CardQuery, on: NaiveDate) -> Lookup {
        self.lookup_with(q, on, &[])
    }

    /// Looks a card up as of `on`, with `changed` persons standing in for the registry's
    /// persons of the same id (their state changed during the run).
    pub fn lookup_with(&self, q: &CardQuery, on: NaiveDate, changed: &[Person]) -> Lookup {
        // Exactly YYYYMMDD, as the request carries it; anything else matches nobody.
        let birthdate = (q.birthdate.len() == 8 && q.birthdate.bytes().all(|b| b.is_ascii_digit()))
            .then(|| NaiveDate::parse_from_str(&q.birthdate, "%Y%m%d").ok())
            .flatten();
        let Some(birthdate) = birthdate else {
            return Lookup::NotFound;
        };
        let generated = self.population.person_for_card_number(&q.number);
        // Compare by reference; only the matches are cloned (this runs for every request).
        let mut matches: Vec<(&Person, usize)> = Vec::new();
        for person in self.personas.iter().chain(generated.as_ref()) {
            let person = changed.iter().find(|c| c.id == person.id).unwrap_or(person);
            if person.birthdate != birthdate {
                continue;
            }
            // The matching period that had started by `on`, latest first.
            let hit = person
                .insurance
                .iter()
                .enumerate()
                .filter(|(_, p)| card_matches(&p.card, q) && p.from <= on)
                .max_by_key(|(_, p)| p.from)
                .map(|(i, _)| i);
            if let Some(i) = hit {
                matches.push((person, i));
            }
        }
        let mut matches: Vec<(Person, usize)> = matches.into_iter().map(|(p, i)| (p.clone(), i)).collect();
        match matches.len() {
            0 => Lookup::NotFound,
            1 => {
                let (person, period) = matches.pop().expect("one match");
                let validity = if person.insurance[period].is_active_on(on) {
                    Validity::Valid
                } else {
                    match person.active_period(on) {
                        Some(current) => Validity::InvalidNewQualification { current },
                        None => Validity::Invalid,
                    }
                };
                Lookup::Found {
                    person: Box::new(person),
                    period,
                    validity,
                }
            }
            _ => Lookup::Multiple(matches),
        }
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// The national system matches the card exactly; a query without a branch number matches
/// any branch.
/// A card without a birth date — how 照会番号 registrations and 薬剤情報 requests name a
/// person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardKey {
    /// As in the request (8 characters when well-formed).
    pub insurer_number: String,
    /// 記号, when the card has one.
    pub symbol: Option<String>,
    /// 番号.
    pub number: String,
    /// 枝番, when the card has one.
    pub branch: Option<String>,
}

impl Registry {
    /// Everyone holding a card with these data (any period, any date), with `changed`
    /// persons standing in for theirs: the period is the one the card belongs to.
    pub fn find_card(&self, key: &CardKey, changed: &[Person]) -> Vec<(Person, usize)> {
        let q = CardQuery {
            insurer_number: key.insurer_number.clone(),
            symbol: key.symbol.clone(),
            number: key.number.clone(),
            branch: key.branch.clone(),
            birthdate: String::new(),
        };
        let generated = self.population.person_for_card_number(&key.number);
        let mut out = Vec::new();
        for person in self.personas.iter().chain(generated.as_ref()) {
            let person = changed.iter().find(|c| c.id == person.id).unwrap_or(person);
            if let Some(i) = person
                .insurance
                .iter()
                .enumerate()
                .filter(|(_, p)| card_matches(&p.card, &q))
                .max_by_key(|(_, p)| p.from)
                .map(|(i, _)| i)
            {
                out.push((person.clone(), i));
            }
        }
        out
    }
}

fn card_matches(card: &CardIdentity, q: &CardQuery) -> bool {
    card.insurer_number.interface() == q.insurer_number
        && non_empty(&card.symbol) == non_empty(&q.symbol)
        && card.number == q.number
        && match non_empty(&q.branch) {
            None => true,
            Some(b) => card.branch.as_deref() == Some(b),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
    }

    fn query(p: &Person, period: usize) -> CardQuery {
        let c = &p.insurance[period].card;
        CardQuery {
            insurer_number: c.insurer_number.interface().to_owned(),
            symbol: c.symbol.clone(),
            number: c.number.clone(),
            branch: c.branch.clone(),
            birthdate: p.birthdate.format("%Y%m%d").to_string(),
        }
    }

    #[test]
    fn generated_people_are_found_by_their_card() {
        let r = Registry::embedded(today(), 7);
        let p = r.population().person(123_456).unwrap();
        match r.lookup(&query(&p, 0), today()) {
            Lookup::Found { person, validity, .. } => {
                assert_eq!(*person, p);
                assert_eq!(validity, Validity::Valid);
            }
            other => panic!("{other:?}"),
        }
        let mut wrong = query(&p, 0);
        wrong.birthdate = "19000101".into();
        assert_eq!(r.lookup(&wrong, today()), Lookup::NotFound);
    }

    #[test]
    fn zero_padded_kokuho_number_finds_nobody() {
        let r = Registry::embedded(today(), 0);
        let p = r.persona("kokuho-6digit").unwrap().clone();
        let mut q = query(&p, 0);
        assert!(matches!(r.lookup(&q, today()), Lookup::Found { .. }));
        q.insurer_number = q.insurer_number.replace(' ', "0");
        assert_eq!(r.lookup(&q, today()), Lookup::NotFound);
    }
}
