//! A submitted form turned into the driver result the harness judges. Pure functions over
//! the form's fields: the web side parses the body, these decide what it means.

use std::collections::HashMap;

use onshi_protocol::driver::{ClientInfo, Consents, InitializeResult, Outcome, PatientRecord};
use thiserror::Error;

use crate::fields::{self, FIELDS, Values};
use crate::terminal::TerminalAnswer;
use crate::texts::HAND_CAPABILITIES;

/// A form's fields: a name may repeat (the capability boxes).
pub type Form = HashMap<String, Vec<String>>;

/// Parses an `application/x-www-form-urlencoded` body.
pub fn parse_form(body: &[u8]) -> Form {
    let mut form = Form::new();
    for (k, v) in form_urlencoded::parse(body) {
        form.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    form
}

fn one<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.get(name)
        .and_then(|v| v.first())
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// What is wrong with a submitted form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    /// No outcome was chosen.
    #[error("choose what the software shows (結果を選んでください)")]
    NoOutcome,
    /// The outcome is not one the form offers.
    #[error("`{0}` is not an outcome the form offers")]
    UnknownOutcome(String),
    /// The software's name is missing.
    #[error("give your software's name (ソフトウェア名を入力してください)")]
    NoName,
    /// The time-out is not a number of seconds.
    #[error("the time-out `{0}` is not a number of seconds (タイムアウトは秒数で入力してください)")]
    BadTimeout(String),
    /// No capability was ticked.
    #[error("tick at least one function your software has (機能を一つ以上選んでください)")]
    NoCapability,
    /// The body is not a readable form.
    #[error("the form cannot be read: {0} (フォームを読み取れません)")]
    Malformed(String),
}

/// What a person reported their software shows and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenAnswer {
    /// The outcome the screen shows.
    pub outcome: Outcome,
    /// The message it shows.
    pub message: String,
    /// The record it stored.
    pub record: Option<PatientRecord>,
    /// The consents it stored (face-auth results).
    pub consents: Option<Consents>,
    /// The 照会番号 it stored (face-auth results).
    pub reference_number: Option<String>,
}

/// The person's answer: a ticked "same" takes the terminal's value, a typed value is taken as
/// typed, and nothing means nothing stored.
pub fn screen_answer(form: &Form, terminal: Option<&TerminalAnswer>) -> Result<ScreenAnswer, AnswerError> {
    let outcome = one(form, "outcome").ok_or(AnswerError::NoOutcome)?;
    let outcome: Outcome = serde_json::from_value(serde_json::Value::String(outcome.to_owned()))
        .map_err(|_| AnswerError::UnknownOutcome(outcome.to_owned()))?;
    let message = one(form, "message").unwrap_or_default().to_owned();
    let shown = terminal.map(TerminalAnswer::values).unwrap_or_default();
    let mut values = Values::new();
    for field in FIELDS {
        let same = one(form, &format!("same_{}", field.key)).is_some();
        let value = match (same, shown.get(field.key)) {
            (true, Some(v)) => Some(v.clone()),
            _ => one(form, &format!("v_{}", field.key)).map(str::to_owned),
        };
        if let Some(v) = value {
            values.insert(field.key, v);
        }
    }
    let (record, consents, reference_number) = fields::assemble(&values);
    Ok(ScreenAnswer {
        outcome,
        message,
        record,
        consents,
        reference_number,
    })
}

/// The `initialize` result from the identity form: the software's name and version, its own
/// fixed time-out if it has one, and the functions the person will exercise by hand.
pub fn identity(form: &Form) -> Result<InitializeResult, AnswerError> {
    let name = one(form, "name").ok_or(AnswerError::NoName)?.to_owned();
    let version = one(form, "version").unwrap_or("unknown").to_owned();
    let timeout_ms = match one(form, "timeout_s") {
        None => None,
        Some(s) => {
            let secs: f64 = s.parse().map_err(|_| AnswerError::BadTimeout(s.to_owned()))?;
            if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
                return Err(AnswerError::BadTimeout(s.to_owned()));
            }
            Some((secs * 1000.0).round() as u64)
        }
    };
    let capabilities: Vec<String> = form
        .get("cap")
        .into_iter()
        .flatten()
        .filter(|c| HAND_CAPABILITIES.iter().any(|(k, _, _)| k == c))
        .cloned()
        .collect();
    if capabilities.is_empty() {
        return Err(AnswerError::NoCapability);
    }
    Ok(InitializeResult {
        client: ClientInfo {
            name,
            version,
            timeout_ms,
        },
        capabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminal() -> TerminalAnswer {
        TerminalAnswer {
            source: crate::terminal::Source::File("OQSsiquc01res_1.xml".into()),
            outcome: Outcome::Valid,
            message: "有効".into(),
            record: Some(PatientRecord {
                insurer_number: Some("06990012".into()),
                name: Some("検証　花子".into()),
                ..Default::default()
            }),
            consents: Some(Consents {
                pharmacists: Some(onshi_protocol::driver::ConsentRecord {
                    flag: "1".into(),
                    time: None,
                    available_time: None,
                }),
                ..Default::default()
            }),
            reference_number: Some("0123456789".into()),
        }
    }

    #[test]
    fn ticked_fields_take_the_terminals_value_and_typed_ones_what_was_typed() {
        let form = parse_form("outcome=valid&message=%E6%9C%89%E5%8A%B9&same_insurer_number=on&v_name=%E6%A4%9C%E8%A8%BC+%E8%8A%B1%E5%AD%90".as_bytes());
        let a = screen_answer(&form, Some(&terminal())).unwrap();
        assert_eq!((a.outcome, a.message.as_str()), (Outcome::Valid, "有効"));
        assert_eq!((a.consents, a.reference_number), (None, None), "not ticked, not typed");
        let r = a.record.unwrap();
        assert_eq!(r.insurer_number.as_deref(), Some("06990012"));
        assert_eq!(r.name.as_deref(), Some("検証 花子"), "typed, not the terminal's");
        assert_eq!(r.symbol, None);
    }

    #[test]
    fn nothing_stored_is_no_record() {
        let form = parse_form(b"outcome=not_found");
        let a = screen_answer(&form, None).unwrap();
        assert_eq!((a.outcome, a.record, a.consents), (Outcome::NotFound, None, None));
        // a tick with no terminal value stores nothing
        let form = parse_form(b"outcome=error&same_name=on");
        assert_eq!(screen_answer(&form, None).unwrap().record, None);
        // the face values come back ticked
        let form = parse_form(b"outcome=valid&same_consents.pharmacists.flag=on&same_reference_number=on");
        let a = screen_answer(&form, Some(&terminal())).unwrap();
        assert_eq!(a.consents.unwrap().pharmacists.unwrap().flag, "1");
        assert_eq!(a.reference_number.as_deref(), Some("0123456789"));
    }

    #[test]
    fn a_form_without_a_known_outcome_is_refused() {
        assert_eq!(
            screen_answer(&parse_form(b"message=x"), None),
            Err(AnswerError::NoOutcome)
        );
        assert_eq!(
            screen_answer(&parse_form(b"outcome=maybe"), None),
            Err(AnswerError::UnknownOutcome("maybe".into()))
        );
    }

    #[test]
    fn the_identity_form_declares_only_what_can_be_done_by_hand() {
        let id = identity(&parse_form(
            b"name=Receipt&version=4.2&timeout_s=5&cap=file.qualification&cap=card.pcsc",
        ))
        .unwrap();
        assert_eq!(id.client.timeout_ms, Some(5000));
        assert_eq!(id.capabilities, vec!["file.qualification"]);
        assert_eq!(
            identity(&parse_form(b"name=R&cap=card.pcsc")),
            Err(AnswerError::NoCapability)
        );
        assert_eq!(
            identity(&parse_form(b"name=R&timeout_s=-1&cap=file.face")),
            Err(AnswerError::BadTimeout("-1".into()))
        );
        assert_eq!(identity(&parse_form(b"cap=file.face")), Err(AnswerError::NoName));
    }
}
