//! The JSON form of `XmlMsg` used by the HTTP API: every leaf value is a string, and
//! `ResultList` is an array of wrapper objects. Requests are also turned into an element tree
//! so that the message lint (`MSG-*`) judges them exactly as it judges request files.

use onshi_protocol::MessageKind;
use onshi_protocol::lint::{Finding, lint_document};
use onshi_protocol::model::{QualificationRequest, QualificationResult};
use onshi_protocol::xml::{Declaration, Document, Element, TextEncoding};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON value that is not a string where the API wants a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongType {
    /// Where in the body.
    pub path: String,
    /// The JSON type found.
    pub found: &'static str,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Every leaf that is not a string, with its path.
pub fn wrong_types(v: &Value) -> Vec<WrongType> {
    // One path buffer, grown and cut back on the way: this runs for every request.
    fn walk(v: &Value, path: &mut String, out: &mut Vec<WrongType>) {
        let len = path.len();
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    path.push('/');
                    path.push_str(k);
                    walk(child, path, out);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    use std::fmt::Write as _;
                    let _ = write!(path, "[{i}]");
                    walk(child, path, out);
                    path.truncate(len);
                }
            }
            Value::String(_) => {}
            other => out.push(WrongType {
                path: path.trim_start_matches('/').to_owned(),
                found: kind(other),
            }),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut String::new(), &mut out);
    out
}

/// Turns non-string leaves into strings (`true` → `"true"`, `12` → `"12"`); nulls are dropped.
pub fn coerce_to_strings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, c| !c.is_null());
            m.values_mut().for_each(coerce_to_strings);
        }
        Value::Array(items) => {
            items.retain(|c| !c.is_null());
            items.iter_mut().for_each(coerce_to_strings);
        }
        Value::Bool(b) => *v = Value::String(b.to_string()),
        Value::Number(n) => *v = Value::String(n.to_string()),
        _ => {}
    }
}

#[derive(Deserialize)]
struct RequestEnvelope {
    #[serde(rename = "XmlMsg")]
    xml_msg: QualificationRequest,
}

#[derive(Serialize)]
struct ResultEnvelope<'a> {
    #[serde(rename = "XmlMsg")]
    xml_msg: &'a QualificationResult,
}

/// The typed request, from `{"XmlMsg": {...}}` with string leaves.
pub fn request(v: &Value) -> Result<QualificationRequest, String> {
    if v.get("XmlMsg").is_none() {
        return Err("the body has no top-level \"XmlMsg\" object".into());
    }
    RequestEnvelope::deserialize(v)
        .map(|e| e.xml_msg)
        .map_err(|e| e.to_string())
}

/// The JSON answer: `{"XmlMsg": {...}}`.
pub fn result_bytes(result: &QualificationResult) -> Vec<u8> {
    serde_json::to_vec(&ResultEnvelope { xml_msg: result }).expect("results serialise")
}

/// The typed result from an answer's bytes (`{"XmlMsg": {...}}`).
pub fn parse_result(bytes: &[u8]) -> Result<QualificationResult, String> {
    #[derive(Deserialize)]
    struct Envelope {
        #[serde(rename = "XmlMsg")]
        xml_msg: QualificationResult,
    }
    serde_json::from_slice::<Envelope>(bytes)
        .map(|e| e.xml_msg)
        .map_err(|e| e.to_string())
}

/// The element tree of a JSON value, for the lint.
fn element(name: &str, v: &Value) -> Vec<Element> {
    match v {
        Value::Object(m) => {
            let mut el = Element::new(name);
            for (k, child) in m {
                el.children.extend(element(k, child));
            }
            vec![el]
        }
        Value::Array(items) => items.iter().flat_map(|i| element(name, i)).collect(),
        Value::String(s) => vec![Element::leaf(name, s.clone())],
        Value::Null => vec![],
        other => vec![Element::leaf(name, other.to_string())],
    }
}

/// The message lint of a JSON request (its declaration and encoding are the JSON's own: UTF-8).
pub fn lint_request(v: &Value) -> Vec<Finding> {
    let Some(root) = v.get("XmlMsg") else { return Vec::new() };
    let Some(root) = element("XmlMsg", root).pop() else {
        return Vec::new();
    };
    let doc = Document {
        declaration: Some(Declaration {
            version: Some("1.0".into()),
            encoding: Some("UTF-8".into()),
            standalone: Some("no".into()),
        }),
        bom: false,
        encoding: TextEncoding::Utf8,
        utf8_under_sjis_declaration: false,
        root,
    };
    lint_document(MessageKind::QualificationRequest, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Arbitrary JSON, biased towards the request's own element names.
    fn any_json() -> impl Strategy<Value = Value> {
        let names = prop::sample::select(vec![
            "XmlMsg",
            "MessageHeader",
            "MessageBody",
            "QualificationConfirmSearchInfo",
            "MedicalInstitutionCode",
            "InsurerNumber",
            "Birthdate",
            "ResultList",
            "x",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((names.clone(), inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    proptest! {
        /// Whatever a client sends, the request pipeline of the search endpoint answers
        /// without panicking, and coercion leaves no non-string leaf behind.
        #[test]
        fn the_request_pipeline_never_panics(v in any_json()) {
            let mut v = json!({"XmlMsg": v});
            let _ = wrong_types(&v);
            coerce_to_strings(&mut v);
            prop_assert!(wrong_types(&v).is_empty());
            let _ = lint_request(&v);
            let _ = request(&v);
        }

        #[test]
        fn arbitrary_bytes_are_refused_or_read(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) {
                coerce_to_strings(&mut v);
                let _ = lint_request(&v);
                let _ = request(&v);
            }
            let _ = parse_result(&bytes);
        }
    }

    fn body(mic: Value) -> Value {
        json!({"XmlMsg": {
            "MessageHeader": {"QualificationConfirmationDate": "20251121", "MedicalInstitutionCode": mic},
            "MessageBody": {"QualificationConfirmSearchInfo": {
                "InsurerNumber": "06990012", "InsuredIdentificationNumber": "1101", "Birthdate": "19780815",
                "LimitApplicationCertificateRelatedConsFlg": "1"}}}})
    }

    #[test]
    fn a_boolean_institution_code_is_named_and_can_be_coerced() {
        let mut v = body(json!(true));
        assert_eq!(
            wrong_types(&v),
            [WrongType {
                path: "XmlMsg/MessageHeader/MedicalInstitutionCode".into(),
                found: "a boolean"
            }]
        );
        assert!(request(&v).is_err());
        coerce_to_strings(&mut v);
        let r = request(&v).unwrap();
        assert_eq!(r.header().medical_institution_code.as_deref(), Some("true"));
        let ids: Vec<_> = lint_request(&v).iter().map(|f| f.check).collect();
        assert_eq!(ids, ["MSG-INST-001"]);
    }

    #[test]
    fn a_clean_request_lints_clean_and_the_result_uses_wrapper_arrays() {
        let v = body(json!("9900000001"));
        assert!(lint_request(&v).is_empty(), "{:?}", lint_request(&v));
        let result = QualificationResult {
            message_body: Some(onshi_protocol::model::QualificationResultBody {
                result_list: Some(onshi_protocol::model::ResultList(vec![Default::default()])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let out: Value = serde_json::from_slice(&result_bytes(&result)).unwrap();
        assert_eq!(parse_result(&result_bytes(&result)).unwrap(), result);
        assert!(parse_result(b"<html>").is_err());
        assert!(out["XmlMsg"]["MessageBody"]["ResultList"][0]["ResultOfQualificationConfirmation"].is_object());
        assert!(request(&json!({"nope": 1})).unwrap_err().contains("XmlMsg"));
    }
}
