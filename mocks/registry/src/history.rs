//! The medical history the national system holds about a person: drugs dispensed (from
//! claims, レセプト) and specific health check-ups (特定健診). It is a pure function of the
//! seed, the person and the period, like the rest of the registry. Every drug is invented
//! and marked 【合成】; check-up items use the public item codes with made-up values.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use crate::person::PersonId;
use crate::rng::Stream;

/// One drug on a dispensing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drug {
    /// The drug's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its ingredient.
    pub ingredient: String,
    /// How much was dispensed.
    pub quantity: String,
    /// The unit of the quantity.
    pub unit: String,
    /// How it is to be taken.
    pub usage: String,
    /// Days (or times) supplied.
    pub times: String,
}

/// Drugs dispensed on one day against one prescription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dispensing {
    /// When it was dispensed.
    pub dispensed: NaiveDate,
    /// When it was prescribed.
    pub prescribed: NaiveDate,
    /// The prescribing institution's code.
    pub clinic_code: String,
    /// Its name.
    pub clinic_name: String,
    /// The pharmacy's code.
    pub pharmacy_code: String,
    /// Its name.
    pub pharmacy_name: String,
    /// The drugs.
    pub drugs: Vec<Drug>,
}

/// One item of a check-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckupItem {
    /// The item's code.
    pub code: &'static str,
    /// Its name.
    pub name: &'static str,
    /// `PQ` (a quantity) or `CD` (a coded answer).
    pub data_type: &'static str,
    /// The value measured or answered.
    pub value: String,
    /// The unit of a quantity.
    pub unit: &'static str,
}

/// One 特定健診.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkup {
    /// The day of the check-up.
    pub date: NaiveDate,
    /// What was measured.
    pub items: Vec<CheckupItem>,
}

const DRUGS: &[(&str, &str, &str, &str)] = &[
    ("SYN-D0001", "【合成】検証錠5mg", "検証酸", "錠"),
    ("SYN-D0002", "【合成】試験カプセル10mg", "試験塩", "カプセル"),
    ("SYN-D0003", "【合成】模擬散1%", "模擬素", "g"),
    ("SYN-D0004", "【合成】見本錠20mg", "見本酸", "錠"),
    ("SYN-D0005", "【合成】例示シロップ", "例示糖", "mL"),
    ("SYN-D0006", "【合成】仮名貼付剤", "仮名剤", "枚"),
];

const USAGES: &[&str] = &["1日1回朝食後", "1日2回朝夕食後", "1日3回毎食後", "疼痛時"];

fn key(person: &PersonId) -> u64 {
    match person {
        PersonId::Generated(n) => *n,
        PersonId::Persona(id) => id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        }),
    }
}

/// Drugs dispensed in the months `from` to `to` (inclusive; any day in each month).
pub fn dispensings(seed: u64, person: &PersonId, from: NaiveDate, to: NaiveDate) -> Vec<Dispensing> {
    let first = |d: NaiveDate| d.with_day(1).expect("the first exists");
    let mut month = first(from);
    let mut out = Vec::new();
    while month <= first(to) {
        let mut r = Stream::new(
            seed,
            key(person) ^ (0xD15E << 20) ^ u64::from(month.year() as u32 * 12 + month.month()),
        );
        // About two months in three have a dispensing.
        if r.below(3) != 0 {
            let day = (r.below(27) + 1) as u32;
            let dispensed = month.with_day(day).expect("days 1–28 exist");
            let clinic = r.below(3);
            let drugs = (0..=r.below(2))
                .map(|_| {
                    let (code, name, ingredient, unit) = *r.pick(DRUGS);
                    Drug {
                        code: code.into(),
                        name: name.into(),
                        ingredient: ingredient.into(),
                        quantity: (r.below(3) + 1).to_string(),
                        unit: unit.into(),
                        usage: (*r.pick(USAGES)).into(),
                        times: ((r.below(4) + 1) * 7).to_string(),
                    }
                })
                .collect();
            out.push(Dispensing {
                dispensed,
                prescribed: dispensed,
                clinic_code: format!("99{:08}", 100 + clinic),
                clinic_name: format!("【合成】検証クリニック{}", clinic + 1),
                pharmacy_code: format!("99{:08}", 900 + clinic),
                pharmacy_name: format!("【合成】試験薬局{}", clinic + 1),
                drugs,
            });
        }
        month = month + Months::new(1);
    }
    out
}

/// 特定健診 of the last three years before `today`, for people aged 40 to 74 then.
pub fn checkups(seed: u64, person: &PersonId, birthdate: NaiveDate, today: NaiveDate) -> Vec<Checkup> {
    (1..=3)
        .rev()
        .filter_map(|years_ago| {
            let year = today.year() - years_ago;
            let mut r = Stream::new(seed, key(person) ^ (0xC4EC << 24) ^ year as u64);
            let date = NaiveDate::from_ymd_opt(year, (r.below(6) + 5) as u32, (r.below(28) + 1) as u32)?;
            let age = date.years_since(birthdate)?;
            if !(40..=74).contains(&age) {
                return None;
            }
            let height = 150.0 + r.below(350) as f64 / 10.0;
            let weight = 45.0 + r.below(450) as f64 / 10.0;
            let bmi = weight / (height / 100.0).powi(2);
            let pq = |code, name, value: String, unit| CheckupItem {
                code,
                name,
                data_type: "PQ",
                value,
                unit,
            };
            Some(Checkup {
                date,
                items: vec![
                    pq("9N001000000000001", "身長", format!("{height:.1}"), "cm"),
                    pq("9N006000000000001", "体重", format!("{weight:.1}"), "kg"),
                    pq("9N011000000000001", "BMI", format!("{bmi:.1}"), "kg/m2"),
                    pq(
                        "9A751000000000001",
                        "収縮期血圧",
                        (105 + r.below(50)).to_string(),
                        "mmHg",
                    ),
                    pq(
                        "9A761000000000001",
                        "拡張期血圧",
                        (65 + r.below(30)).to_string(),
                        "mmHg",
                    ),
                    pq(
                        "3F015000002327101",
                        "HbA1c",
                        format!("{:.1}", 5.0 + r.below(20) as f64 / 10.0),
                        "%",
                    ),
                ],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn history_is_a_pure_function_of_seed_person_and_period() {
        let p = PersonId::Persona("valid-kenpo-insured".into());
        let a = dispensings(1, &p, d(2024, 7, 1), d(2025, 1, 31));
        assert_eq!(a, dispensings(1, &p, d(2024, 7, 15), d(2025, 1, 1)));
        assert_ne!(a, dispensings(2, &p, d(2024, 7, 1), d(2025, 1, 31)));
        assert!(!a.is_empty());
        for x in &a {
            assert!(x.dispensed >= d(2024, 7, 1) && x.dispensed <= d(2025, 1, 31));
            assert!(x.drugs.iter().all(|g| g.name.starts_with("【合成】")));
        }
    }

    #[test]
    fn checkups_only_for_ages_40_to_74() {
        let p = PersonId::Generated(7);
        let today = d(2026, 11, 21);
        assert_eq!(checkups(0, &p, d(1970, 1, 1), today).len(), 3);
        assert!(checkups(0, &p, d(2000, 1, 1), today).is_empty());
        let c = &checkups(0, &p, d(1970, 1, 1), today)[0];
        assert_eq!(c.items[0].name, "身長");
    }
}
