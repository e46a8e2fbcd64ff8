//! Loading named personas from TOML (`fixtures/personas.toml`). Errors name the file, the
//! line and what is wrong.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use onshi_protocol::codes::{self, Code, CodeTable};
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use crate::date::DateExpr;
use crate::person::{
    CardIdentity, ElderlyCertificate, InsurancePeriod, InsurerNumber, LimitCertificate, MedicalAid, MedicalTicket,
    Person, PersonId, ProcessingNotice, SpecificDisease, VisitConsent, VisitKind,
};

/// Why a persona file cannot be used.
#[derive(Debug, Error)]
pub enum PersonaError {
    #[error("{origin}: {source}")]
    /// The file is not TOML.
    Syntax {
        /// The file.
        origin: String,
        #[source]
        /// The error.
        source: Box<toml::de::Error>,
    },
    #[error("{origin}:{line}: {message}")]
    /// A persona does not hold.
    Invalid {
        /// The file.
        origin: String,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    persona: Vec<PersonaDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonaDef {
    id: Spanned<String>,
    summary: String,
    name: String,
    name_kana: String,
    sex: Spanned<String>,
    birthdate: Spanned<String>,
    address: Option<String>,
    post_number: Option<String>,
    reference_number: Option<String>,
    notice: Option<NoticeDef>,
    #[serde(default)]
    insurance: Vec<InsuranceDef>,
    medical_aid: Option<MedicalAidDef>,
    #[serde(default)]
    visit_consent: Vec<VisitConsentDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MedicalAidDef {
    public_expense_number: Spanned<String>,
    beneficiary_number: Spanned<String>,
    welfare_office: String,
    from: Spanned<String>,
    to: Option<Spanned<String>>,
    #[serde(default)]
    ticket: Vec<TicketDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketDef {
    ticket_type: Spanned<String>,
    /// A date in the month the ticket is for.
    month: Spanned<String>,
    valid_from: Spanned<String>,
    valid_to: Option<Spanned<String>>,
    issue_number: String,
    treatment_type: Spanned<String>,
    self_pay: Option<String>,
    #[serde(default)]
    injury_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitConsentDef {
    kind: VisitKind,
    consented: Spanned<String>,
    examined: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeDef {
    status: Spanned<String>,
    code: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InsuranceDef {
    insurer_number: Spanned<String>,
    insurer_name: String,
    card_classification: Spanned<String>,
    symbol: Option<String>,
    number: String,
    branch: Option<Spanned<String>>,
    relationship: Spanned<String>,
    insured_name: Option<String>,
    from: Spanned<String>,
    to: Option<Spanned<String>>,
    reason_of_loss: Option<Spanned<String>>,
    issued: Option<Spanned<String>>,
    copay_ratio: Option<String>,
    elderly: Option<ElderlyDef>,
    limit: Option<LimitDef>,
    #[serde(default)]
    specific_diseases: Vec<DiseaseDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElderlyDef {
    ratio: String,
    issued: Option<Spanned<String>>,
    from: Spanned<String>,
    to: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitDef {
    classification: Spanned<String>,
    flag: Spanned<String>,
    issued: Option<Spanned<String>>,
    from: Spanned<String>,
    to: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiseaseDef {
    category: Spanned<String>,
    self_pay: Option<String>,
    issued: Option<Spanned<String>>,
    from: Spanned<String>,
    to: Option<Spanned<String>>,
}

struct Ctx<'a> {
    origin: &'a str,
    text: &'a str,
    today: NaiveDate,
}

impl Ctx<'_> {
    fn err<T>(&self, at: &Spanned<String>, message: String) -> Result<T, PersonaError> {
        let line = self.text[..at.span().start.min(self.text.len())].matches('\n').count() + 1;
        Err(PersonaError::Invalid {
            origin: self.origin.to_owned(),
            line,
            message,
        })
    }

    fn date(&self, s: &Spanned<String>) -> Result<NaiveDate, PersonaError> {
        match DateExpr::parse(s.get_ref()) {
            Ok(d) => Ok(d.resolve(self.today)),
            Err(e) => self.err(s, e),
        }
    }

    fn opt_date(&self, s: &Option<Spanned<String>>) -> Result<Option<NaiveDate>, PersonaError> {
        s.as_ref().map(|s| self.date(s)).transpose()
    }

    fn code(&self, s: &Spanned<String>, table: &CodeTable, what: &str) -> Result<String, PersonaError> {
        match table.lookup(s.get_ref()) {
            Some(_) => Ok(s.get_ref().clone()),
            None => self.err(
                s,
                format!("{what} {:?} is not in {} ({})", s.get_ref(), table.id, table.summary()),
            ),
        }
    }
}

/// Parses personas, resolving relative dates against `today` (the run's date).
pub fn parse_personas(text: &str, origin: &str, today: NaiveDate) -> Result<Vec<Person>, PersonaError> {
    let file: File = toml::from_str(text).map_err(|source| PersonaError::Syntax {
        origin: origin.to_owned(),
        source: Box::new(source),
    })?;
    let ctx = Ctx { origin, text, today };
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(file.persona.len());
    for def in &file.persona {
        let id = def.id.get_ref();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return ctx.err(
                &def.id,
                format!("persona id {id:?} must be non-empty ASCII letters, digits and '-'"),
            );
        }
        if !seen.insert(id.clone()) {
            return ctx.err(&def.id, format!("persona id {id:?} is used twice"));
        }
        out.push(persona(&ctx, def)?);
    }
    Ok(out)
}

fn digits(ctx: &Ctx<'_>, s: &Spanned<String>, len: usize, what: &str) -> Result<String, PersonaError> {
    let v = s.get_ref();
    if v.len() != len || !v.bytes().all(|b| b.is_ascii_digit()) {
        return ctx.err(s, format!("{what} {v:?} must be {len} digits"));
    }
    Ok(v.clone())
}

fn medical_aid(ctx: &Ctx<'_>, def: &MedicalAidDef) -> Result<MedicalAid, PersonaError> {
    Ok(MedicalAid {
        public_expense_number: digits(ctx, &def.public_expense_number, 8, "public_expense_number")?,
        beneficiary_number: digits(ctx, &def.beneficiary_number, 7, "beneficiary_number")?,
        welfare_office: def.welfare_office.clone(),
        from: ctx.date(&def.from)?,
        to: ctx.opt_date(&def.to)?,
        tickets: def
            .ticket
            .iter()
            .map(|t| {
                let month = ctx.date(&t.month)?;
                Ok(MedicalTicket {
                    ticket_type: ctx.code(&t.ticket_type, codes::TicketType::TABLE, "ticket_type")?,
                    month: month.with_day(1).expect("the first exists"),
                    valid_from: ctx.date(&t.valid_from)?,
                    valid_to: ctx.opt_date(&t.valid_to)?,
                    issue_number: t.issue_number.clone(),
                    treatment_type: ctx.code(
                        &t.treatment_type,
                        codes::MedicalTreatmentType::TABLE,
                        "treatment_type",
                    )?,
                    self_pay: t.self_pay.clone(),
                    injury_names: t.injury_names.clone(),
                })
            })
            .collect::<Result<_, PersonaError>>()?,
    })
}

fn persona(ctx: &Ctx<'_>, def: &PersonaDef) -> Result<Person, PersonaError> {
    if def.insurance.is_empty() && def.medical_aid.is_none() {
        return ctx.err(
            &def.id,
            format!(
                "persona {:?} has neither a [[persona.insurance]] period nor [persona.medical_aid]",
                def.id.get_ref()
            ),
        );
    }
    let notice = match &def.notice {
        None => None,
        Some(n) => Some(ProcessingNotice {
            status: ctx.code(&n.status, codes::ProcessingResultStatus::TABLE, "notice status")?,
            code: n.code.clone(),
            message: n.message.clone(),
        }),
    };
    let mut insurance = def
        .insurance
        .iter()
        .map(|i| period(ctx, i))
        .collect::<Result<Vec<_>, _>>()?;
    insurance.sort_by_key(|p| p.from);
    Ok(Person {
        id: PersonId::Persona(def.id.get_ref().clone()),
        summary: def.summary.clone(),
        name: def.name.clone(),
        name_kana: def.name_kana.clone(),
        sex: ctx.code(&def.sex, codes::Sex::TABLE, "sex")?,
        birthdate: ctx.date(&def.birthdate)?,
        address: def.address.clone(),
        post_number: def.post_number.clone(),
        insurance,
        reference_number: def.reference_number.clone(),
        notice,
        medical_aid: def.medical_aid.as_ref().map(|m| medical_aid(ctx, m)).transpose()?,
        visit_consents: def
            .visit_consent
            .iter()
            .map(|v| {
                Ok(VisitConsent {
                    kind: v.kind,
                    consented: ctx.date(&v.consented)?,
                    examined: ctx.opt_date(&v.examined)?,
                })
            })
            .collect::<Result<_, PersonaError>>()?,
    })
}

fn period(ctx: &Ctx<'_>, def: &InsuranceDef) -> Result<InsurancePeriod, PersonaError> {
    let printed = def.insurer_number.get_ref().trim();
    if !(printed.len() == 6 || printed.len() == 8) || !printed.bytes().all(|b| b.is_ascii_digit()) {
        return ctx.err(
            &def.insurer_number,
            format!("insurer_number {printed:?} must be 6 (国保) or 8 digits, as printed on the card"),
        );
    }
    let branch = match &def.branch {
        Some(b) if b.get_ref().len() != 2 || !b.get_ref().bytes().all(|c| c.is_ascii_digit()) => {
            return ctx.err(b, format!("branch {:?} must be 2 digits", b.get_ref()));
        }
        b => b.as_ref().map(|b| b.get_ref().clone()),
    };
    let from = ctx.date(&def.from)?;
    let to = ctx.opt_date(&def.to)?;
    if let (Some(to_s), Some(to)) = (&def.to, to)
        && to < from
    {
        return ctx.err(to_s, format!("the period ends ({to}) before it starts ({from})"));
    }
    Ok(InsurancePeriod {
        card: CardIdentity {
            insurer_number: InsurerNumber::from_printed(printed),
            symbol: def.symbol.clone(),
            number: def.number.clone(),
            branch,
        },
        insurer_name: def.insurer_name.clone(),
        card_classification: ctx.code(
            &def.card_classification,
            codes::InsuredCardClassification::TABLE,
            "card_classification",
        )?,
        relationship: ctx.code(
            &def.relationship,
            codes::PersonalFamilyClassification::TABLE,
            "relationship",
        )?,
        insured_name: def.insured_name.clone(),
        from,
        to,
        reason_of_loss: def
            .reason_of_loss
            .as_ref()
            .map(|r| ctx.code(r, codes::ReasonOfLoss::TABLE, "reason_of_loss"))
            .transpose()?,
        issued: ctx.opt_date(&def.issued)?,
        copay_ratio: def.copay_ratio.clone(),
        elderly: match &def.elderly {
            None => None,
            Some(e) => Some(ElderlyCertificate {
                ratio: e.ratio.clone(),
                issued: ctx.opt_date(&e.issued)?,
                from: ctx.date(&e.from)?,
                to: ctx.opt_date(&e.to)?,
            }),
        },
        limit: match &def.limit {
            None => None,
            Some(l) => Some(LimitCertificate {
                classification: ctx.code(
                    &l.classification,
                    codes::LimitCertificateClassification::TABLE,
                    "limit classification",
                )?,
                flag: ctx.code(&l.flag, codes::LimitCertificateFlag::TABLE, "limit flag")?,
                issued: ctx.opt_date(&l.issued)?,
                from: ctx.date(&l.from)?,
                to: ctx.opt_date(&l.to)?,
            }),
        },
        specific_diseases: def
            .specific_diseases
            .iter()
            .map(|d| {
                Ok(SpecificDisease {
                    category: ctx.code(&d.category, codes::SpecificDiseaseCategory::TABLE, "disease category")?,
                    self_pay: d.self_pay.clone(),
                    issued: ctx.opt_date(&d.issued)?,
                    from: ctx.date(&d.from)?,
                    to: ctx.opt_date(&d.to)?,
                })
            })
            .collect::<Result<_, PersonaError>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
    }

    const MINIMAL: &str = r#"
[[persona]]
id = "p1"
summary = "test"
name = "検証　一郎"
name_kana = "ｹﾝｼｮｳ ｲﾁﾛｳ"
sex = "1"
birthdate = "today-40y"

[[persona.insurance]]
insurer_number = "990012"
insurer_name = "テスト市"
card_classification = "01"
number = "1"
relationship = "1"
from = "20200401"
"#;

    #[test]
    fn six_digit_insurer_numbers_are_space_padded() {
        let p = parse_personas(MINIMAL, "t.toml", today()).unwrap();
        assert_eq!(p[0].insurance[0].card.insurer_number.interface(), "  990012");
        assert_eq!(p[0].insurance[0].card.printed_insurer_number(), "990012");
        assert_eq!(p[0].birthdate, NaiveDate::from_ymd_opt(1985, 11, 21).unwrap());
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad = MINIMAL.replace("sex = \"1\"", "sex = \"7\"");
        let e = parse_personas(&bad, "t.toml", today()).unwrap_err().to_string();
        assert!(e.starts_with("t.toml:7:") && e.contains("OQSCD007"), "{e}");
        let bad = MINIMAL.replace("from = \"20200401\"", "from = \"someday\"");
        let e = parse_personas(&bad, "t.toml", today()).unwrap_err().to_string();
        assert!(e.starts_with("t.toml:16:") && e.contains("someday"), "{e}");
        let bad = MINIMAL.replace("name_kana", "kana");
        let e = parse_personas(&bad, "t.toml", today()).unwrap_err().to_string();
        assert!(e.contains("t.toml") && e.contains("kana"), "{e}");
        let twice = format!("{MINIMAL}{}", MINIMAL);
        let e = parse_personas(&twice, "t.toml", today()).unwrap_err().to_string();
        assert!(e.contains("used twice"), "{e}");
    }
}
