//! The shipped personas keep their meaning on whatever day the suite runs.

use chrono::{Duration, NaiveDate};
use onshi_registry::{CardQuery, Lookup, Person, Registry, Validity};
use proptest::prelude::*;

fn query(p: &Person, period: usize, with_branch: bool) -> CardQuery {
    let c = &p.insurance[period].card;
    CardQuery {
        insurer_number: c.insurer_number.interface().to_owned(),
        symbol: c.symbol.clone(),
        number: c.number.clone(),
        branch: if with_branch { c.branch.clone() } else { None },
        birthdate: p.birthdate.format("%Y%m%d").to_string(),
    }
}

fn validity(r: &Registry, id: &str, period: usize, with_branch: bool, on: NaiveDate) -> Option<Validity> {
    let p = r.persona(id).unwrap_or_else(|| panic!("persona {id} missing"));
    match r.lookup(&query(p, period, with_branch), on) {
        Lookup::Found { validity, .. } => Some(validity),
        Lookup::NotFound => None,
        Lookup::Multiple(m) => panic!("{id}: {} matches", m.len()),
    }
}

fn any_day() -> impl Strategy<Value = NaiveDate> {
    (0i64..3650).prop_map(|d| NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Duration::days(d))
}

proptest! {
    #[test]
    fn every_persona_means_what_it_says_on_any_day(today in any_day()) {
        let r = Registry::embedded(today, 0);
        prop_assert_eq!(validity(&r, "valid-kenpo-family", 0, true, today), Some(Validity::Valid));
        prop_assert_eq!(validity(&r, "lost-eligibility", 0, true, today), Some(Validity::Invalid));
        let changed = validity(&r, "changed-insurer", 0, true, today);
        prop_assert_eq!(changed, Some(Validity::InvalidNewQualification { current: 1 }));
        prop_assert_eq!(validity(&r, "changed-insurer", 1, true, today), Some(Validity::Valid));
        for id in ["valid-kenpo-insured", "minimal-record", "kokuho-6digit", "kouki-no-branch", "elderly-70-74", "limit-certificate", "specific-disease",
                   "non-sjis-name", "long-symbol", "processing-error", "expiring-card-notice", "face-consenting"] {
            prop_assert_eq!(validity(&r, id, 0, true, today), Some(Validity::Valid), "{}", id);
        }

        let twins = r.persona("twins-a").unwrap();
        prop_assert!(matches!(r.lookup(&query(twins, 0, false), today), Lookup::Multiple(ref m) if m.len() == 2));
        prop_assert_eq!(validity(&r, "twins-a", 0, true, today), Some(Validity::Valid));

        let kouki = r.persona("kouki-no-branch").unwrap();
        prop_assert_eq!(kouki.insurance[0].card.branch.as_deref(), None);
        prop_assert!(kouki.age_on(today) >= 75);
        let elderly = r.persona("elderly-70-74").unwrap();
        prop_assert!((70..75).contains(&elderly.age_on(today)));
        let e = elderly.insurance[0].elderly.as_ref().unwrap();
        prop_assert!(e.from <= today && e.to.is_none_or(|t| today <= t));
        let limit = r.persona("limit-certificate").unwrap().insurance[0].limit.clone().unwrap();
        prop_assert!(limit.from <= today && limit.to.is_none_or(|t| today <= t));
    }
}

#[test]
fn the_required_characters_are_there() {
    let r = Registry::embedded(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(), 0);
    let name = &r.persona("non-sjis-name").unwrap().name;
    assert!(onshi_protocol::TextEncoding::ShiftJis.encode_str(name).is_err());
    let symbol = r.persona("long-symbol").unwrap().insurance[0]
        .card
        .symbol
        .clone()
        .unwrap();
    assert!(symbol.chars().count() > 12 && symbol.chars().count() <= 20 && !symbol.is_ascii());
    assert_eq!(
        r.persona("kokuho-6digit").unwrap().insurance[0]
            .card
            .insurer_number
            .interface(),
        "  990015"
    );
}
