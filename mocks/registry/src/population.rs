//! The generated population: person `n` of seed `s` is a pure function of `(s, n)`, so a
//! "national" registry of 100 M people costs no memory and two processes agree on it.
//!
//! Every generated card number is the person's index in 10 digits, which makes lookup by
//! card O(1): parse the number, generate that person, compare. All names are built from
//! obviously fictitious words (検証, 試験, 模擬 …) and all insurer numbers carry prefecture
//! code 99, which does not exist.

use chrono::{Duration, NaiveDate};

use crate::person::{CardIdentity, InsurancePeriod, InsurerNumber, Person, PersonId};
use crate::rng::Stream;

/// Insurers of the generated population. None is used by a persona, so generated and named
/// people never collide.
pub const GENERATED_INSURERS: &[(&str, &str, &str)] = &[
    // (interface form, name, kind)
    ("06990101", "テスト第一健康保険組合", "kenpo"),
    ("01990016", "全国テスト協会 99支部", "kyokai"),
    ("  990107", "テスト町国民健康保険", "kokuho"),
    ("39990105", "テスト県後期高齢者医療広域連合", "kouki"),
];

const FAMILY: &[(&str, &str)] = &[
    ("検証", "ｹﾝｼｮｳ"),
    ("試験", "ｼｹﾝ"),
    ("模擬", "ﾓｷﾞ"),
    ("仮名", "ｶﾒｲ"),
    ("見本", "ﾐﾎﾝ"),
    ("架空", "ｶｸｳ"),
    ("例示", "ﾚｲｼﾞ"),
    ("試行", "ｼｺｳ"),
];
const GIVEN_MALE: &[(&str, &str)] = &[("一郎", "ｲﾁﾛｳ"), ("二郎", "ｼﾞﾛｳ"), ("三郎", "ｻﾌﾞﾛｳ"), ("太郎", "ﾀﾛｳ")];
const GIVEN_FEMALE: &[(&str, &str)] = &[("花子", "ﾊﾅｺ"), ("桜子", "ｻｸﾗｺ"), ("一子", "ｶｽﾞｺ"), ("葉子", "ﾖｳｺ")];

/// The generated population.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    /// The seed: person `n` of a seed is always the same.
    pub seed: u64,
    /// How many people there are.
    pub size: u64,
}

impl Default for Population {
    fn default() -> Self {
        Population {
            seed: 0,
            size: 100_000_000,
        }
    }
}

impl Population {
    /// The card number of person `n`.
    pub fn card_number(n: u64) -> String {
        format!("{n:010}")
    }

    /// Person `n`, or `None` beyond the population's size.
    pub fn person(&self, n: u64) -> Option<Person> {
        if n >= self.size {
            return None;
        }
        let mut r = Stream::new(self.seed, n);
        let female = r.below(2) == 1;
        let (family, family_kana) = *r.pick(FAMILY);
        let (given, given_kana) = *r.pick(if female { GIVEN_FEMALE } else { GIVEN_MALE });
        let epoch = NaiveDate::from_ymd_opt(1930, 1, 1).expect("valid");
        let birthdate = epoch + Duration::days(r.below(95 * 365) as i64);
        // Ages are relative to a fixed date so that a person never changes between runs.
        let born_before_1950 = birthdate < NaiveDate::from_ymd_opt(1950, 1, 1).expect("valid");
        let (insurer, insurer_name, kind) = if born_before_1950 {
            GENERATED_INSURERS[3]
        } else {
            *r.pick(&GENERATED_INSURERS[..3])
        };
        let kouki = kind == "kouki";
        let card = CardIdentity {
            insurer_number: InsurerNumber::from_printed(insurer),
            symbol: (!kouki).then(|| format!("ｹﾝｼｮｳ{}", r.below(90) + 10)),
            number: Population::card_number(n),
            branch: (!kouki).then(|| "00".to_owned()),
        };
        Some(Person {
            id: PersonId::Generated(n),
            summary: format!("generated person #{n} (seed {})", self.seed),
            name: format!("{family}　{given}"),
            name_kana: format!("{family_kana} {given_kana}"),
            sex: if female { "2" } else { "1" }.to_owned(),
            birthdate,
            address: Some(format!("テスト県検証市模擬町{}-{}", r.below(9) + 1, r.below(30) + 1)),
            // 000- is not an issued postal code range.
            post_number: Some(format!("000-{:04}", r.below(10_000))),
            insurance: vec![InsurancePeriod {
                card,
                insurer_name: insurer_name.to_owned(),
                card_classification: "01".to_owned(),
                relationship: "1".to_owned(),
                insured_name: Some(format!("{family}　{given}")),
                from: NaiveDate::from_ymd_opt(2020, 4, 1).expect("valid"),
                to: None,
                reason_of_loss: None,
                issued: NaiveDate::from_ymd_opt(2020, 4, 1),
                copay_ratio: kouki.then(|| "010".to_owned()),
                elderly: None,
                limit: None,
                specific_diseases: Vec::new(),
            }],
            reference_number: None,
            notice: None,
            medical_aid: None,
            visit_consents: Vec::new(),
        })
    }

    /// The person a generated card number points at, if the number has the generated form.
    pub fn person_for_card_number(&self, number: &str) -> Option<Person> {
        if number.len() != 10 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.person(number.parse().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn beyond_the_size_there_is_nobody() {
        let p = Population { seed: 1, size: 10 };
        assert!(p.person(9).is_some());
        assert!(p.person(10).is_none());
    }

    proptest! {
        #[test]
        fn a_person_is_a_pure_function_of_seed_and_index(seed in any::<u64>(), n in 0u64..100_000_000) {
            let pop = Population { seed, size: 100_000_000 };
            let a = pop.person(n).unwrap();
            prop_assert_eq!(Some(a.clone()), pop.person(n));
            let number = &a.insurance[0].card.number;
            prop_assert_eq!(pop.person_for_card_number(number), Some(a.clone()));
            prop_assert!(a.insurance[0].card.insurer_number.interface().len() == 8);
        }

        #[test]
        fn different_seeds_give_different_people(n in 0u64..1_000_000) {
            let a = Population { seed: 1, size: 1_000_000 }.person(n).unwrap();
            let b = Population { seed: 2, size: 1_000_000 }.person(n).unwrap();
            // Name, birthdate and insurer together collide with negligible probability.
            prop_assert!(a.name != b.name || a.birthdate != b.birthdate || a.insurance != b.insurance);
        }
    }
}
