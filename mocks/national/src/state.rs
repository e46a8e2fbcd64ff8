//! Per-person state over time: changes that scenario steps and the admin API make to a
//! persona during a run — lose eligibility, change insurer, register a 照会番号, record consents.
//! A change edits the persona's timeline from a date on, so queries about earlier dates still
//! see the old state.

use chrono::{Duration, NaiveDate};
use onshi_registry::date::DateExpr;
use onshi_registry::{CardIdentity, InsurancePeriod, InsurerNumber, Person};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ConsentChoices;

/// A change to one persona.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case", deny_unknown_fields)]
pub enum PersonChange {
    /// The current qualification ends the day before `at`; nothing replaces it
    /// (QualificationValidity 2 from `at` on).
    LoseEligibility {
        /// The persona.
        persona: String,
        /// YYYYMMDD or a relative date (`today`, `month+1m`, …).
        at: String,
        /// OQSCD008 資格喪失事由 (default 99 その他).
        #[serde(default = "default_reason")]
        reason: String,
    },
    /// The person changes insurer at `at`: the current qualification ends the day before and a
    /// new one starts (the old card then gives QualificationValidity 3).
    ChangeInsurer {
        /// The persona.
        persona: String,
        /// The day the new qualification starts (YYYYMMDD or a relative date).
        at: String,
        /// As printed on the new card (6 or 8 digits).
        insurer_number: String,
        /// 保険者名称 of the new insurer.
        insurer_name: String,
        #[serde(default)]
        /// 記号 on the new card.
        symbol: Option<String>,
        /// 番号 on the new card.
        number: String,
        #[serde(default)]
        /// 枝番 on the new card.
        branch: Option<String>,
    },
    /// The institution registers a 照会番号 for the person (face results carry it from now on).
    RegisterReferenceNumber {
        /// The persona.
        persona: String,
        /// The 照会番号.
        reference_number: String,
    },
    /// The person's consents as recorded by the national system (for information viewing).
    RecordConsents {
        /// The persona.
        persona: String,
        /// The consents.
        consents: ConsentChoices,
    },
}

fn default_reason() -> String {
    "99".into()
}

impl PersonChange {
    /// The persona the change is about.
    pub fn persona(&self) -> &str {
        match self {
            PersonChange::LoseEligibility { persona, .. }
            | PersonChange::ChangeInsurer { persona, .. }
            | PersonChange::RegisterReferenceNumber { persona, .. }
            | PersonChange::RecordConsents { persona, .. } => persona,
        }
    }
}

/// Why a change cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    #[error("no persona {0:?} in the registry")]
    /// No such persona.
    UnknownPersona(String),
    #[error("{0}")]
    /// A date that does not parse.
    BadDate(String),
    #[error("persona {persona:?} has no qualification open on {date} to end")]
    /// No open qualification to end.
    NothingToEnd {
        /// The persona.
        persona: String,
        /// The date.
        date: NaiveDate,
    },
    #[error("insurer number {0:?} must be 6 (国保) or 8 digits, as printed on the card")]
    /// Not a printed insurer number.
    BadInsurerNumber(String),
}

fn resolve(at: &str, today: NaiveDate) -> Result<NaiveDate, StateError> {
    DateExpr::parse(at)
        .map(|d| d.resolve(today))
        .map_err(StateError::BadDate)
}

/// Ends the qualification open on the day before `at`.
fn end_current(person: &mut Person, at: NaiveDate, reason: &str) -> Result<usize, StateError> {
    let last_day = at - Duration::days(1);
    let index = person
        .insurance
        .iter()
        .position(|p| p.from <= last_day && p.to.is_none_or(|t| t >= last_day))
        .ok_or_else(|| StateError::NothingToEnd {
            persona: person.id.to_string(),
            date: last_day,
        })?;
    let period = &mut person.insurance[index];
    period.to = Some(last_day);
    period.reason_of_loss = Some(reason.to_owned());
    Ok(index)
}

/// Applies `change` to `person` (whose dates were resolved against `today`).
pub fn apply(person: &mut Person, change: &PersonChange, today: NaiveDate) -> Result<(), StateError> {
    match change {
        PersonChange::LoseEligibility { at, reason, .. } => {
            end_current(person, resolve(at, today)?, reason)?;
        }
        PersonChange::ChangeInsurer {
            at,
            insurer_number,
            insurer_name,
            symbol,
            number,
            branch,
            ..
        } => {
            let printed = insurer_number.trim();
            if !(printed.len() == 6 || printed.len() == 8) || !printed.bytes().all(|b| b.is_ascii_digit()) {
                return Err(StateError::BadInsurerNumber(insurer_number.clone()));
            }
            let at = resolve(at, today)?;
            let old = end_current(person, at, "03")?;
            let previous = person.insurance[old].clone();
            person.insurance.push(InsurancePeriod {
                card: CardIdentity {
                    insurer_number: InsurerNumber::from_printed(printed),
                    symbol: symbol.clone(),
                    number: number.clone(),
                    branch: branch.clone(),
                },
                insurer_name: insurer_name.clone(),
                from: at,
                to: None,
                reason_of_loss: None,
                issued: Some(at),
                elderly: None,
                limit: None,
                specific_diseases: Vec::new(),
                ..previous
            });
            person.insurance.sort_by_key(|p| p.from);
        }
        PersonChange::RegisterReferenceNumber { reference_number, .. } => {
            person.reference_number = Some(reference_number.clone());
        }
        PersonChange::RecordConsents { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use onshi_registry::{CardQuery, Lookup, Registry, Validity};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
    }

    fn query(p: &Person, i: usize) -> CardQuery {
        let c = &p.insurance[i].card;
        CardQuery {
            insurer_number: c.insurer_number.interface().to_owned(),
            symbol: c.symbol.clone(),
            number: c.number.clone(),
            branch: c.branch.clone(),
            birthdate: p.birthdate.format("%Y%m%d").to_string(),
        }
    }

    fn validity(r: &Registry, changed: &Person, i: usize, on: NaiveDate) -> Option<Validity> {
        match r.lookup_with(&query(changed, i), on, std::slice::from_ref(changed)) {
            Lookup::Found { validity, .. } => Some(validity),
            _ => None,
        }
    }

    #[test]
    fn losing_eligibility_takes_effect_at_its_date() {
        let r = Registry::embedded(today(), 0);
        let mut p = r.persona("valid-kenpo-insured").unwrap().clone();
        let change = PersonChange::LoseEligibility {
            persona: "valid-kenpo-insured".into(),
            at: "today+1d".into(),
            reason: "99".into(),
        };
        apply(&mut p, &change, today()).unwrap();
        assert_eq!(validity(&r, &p, 0, today()), Some(Validity::Valid));
        assert_eq!(
            validity(&r, &p, 0, today() + Duration::days(1)),
            Some(Validity::Invalid)
        );
        // Applying it again changes nothing; ending it later than it already ended is an error.
        apply(&mut p, &change, today()).unwrap();
        let later = PersonChange::LoseEligibility {
            persona: "valid-kenpo-insured".into(),
            at: "today+10d".into(),
            reason: "99".into(),
        };
        assert!(matches!(
            apply(&mut p, &later, today()),
            Err(StateError::NothingToEnd { .. })
        ));
    }

    #[test]
    fn changing_insurer_makes_the_old_card_validity_3() {
        let r = Registry::embedded(today(), 0);
        let mut p = r.persona("valid-kenpo-insured").unwrap().clone();
        apply(
            &mut p,
            &PersonChange::ChangeInsurer {
                persona: "valid-kenpo-insured".into(),
                at: "today".into(),
                insurer_number: "990015".into(),
                insurer_name: "テスト市国民健康保険".into(),
                symbol: Some("41".into()),
                number: "7777".into(),
                branch: Some("00".into()),
            },
            today(),
        )
        .unwrap();
        assert_eq!(
            validity(&r, &p, 0, today()),
            Some(Validity::InvalidNewQualification { current: 1 })
        );
        assert_eq!(p.insurance[1].card.insurer_number.interface(), "  990015");
        assert_eq!(validity(&r, &p, 1, today()), Some(Validity::Valid));
        assert_eq!(validity(&r, &p, 0, today() - Duration::days(1)), Some(Validity::Valid));
    }

    #[test]
    fn bad_changes_say_why() {
        let r = Registry::embedded(today(), 0);
        let mut p = r.persona("valid-kenpo-insured").unwrap().clone();
        let bad_date = PersonChange::LoseEligibility {
            persona: "x".into(),
            at: "someday".into(),
            reason: "99".into(),
        };
        assert!(matches!(apply(&mut p, &bad_date, today()), Err(StateError::BadDate(_))));
        let json = r#"{"change":"register_reference_number","persona":"p","reference_number":"R-1"}"#;
        let c: PersonChange = serde_json::from_str(json).unwrap();
        assert_eq!(c.persona(), "p");
    }
}
