//! Element order: the spec (logical) order of 別紙3-1, or the order real terminals write.
//!
//! Real output is not in spec order (it looks like hash-map serialisation, see
//! `reference/protocol.md` §3.3), so clients must not rely on order. The observed order
//! starts with the sequences seen in captured files and continues in a fixed pseudo-random
//! order, so it is deterministic and still scrambled.

use crate::model::{Child, FieldKind};
use crate::xml::Element;

/// Which order to write elements in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementOrder {
    /// The logical order of the specification.
    #[default]
    Spec,
    /// The scrambled order of captured terminal output.
    Observed,
}

/// Leading sequences seen in real files, by parent element.
const OBSERVED: &[(&str, &[&str])] = &[
    (
        "MessageHeader",
        &[
            "ProcessExecutionTime",
            "CharacterCodeIdentifier",
            "SegmentOfResult",
            "QualificationConfirmationDate",
            "ReferenceClassification",
            "ArbitraryFileIdentifier",
            "MedicalInstitutionCode",
        ],
    ),
    (
        "MessageBody",
        &["ResultList", "ProcessingResultStatus", "QualificationValidity"],
    ),
    (
        "ResultOfQualificationConfirmation",
        &["Address", "SpecificHealthCheckupsInfoConsTime", "DiagnosisInfoConsFlg"],
    ),
    (
        "ReferenceNumberRegistrationInfo",
        &[
            "InsurerNumber",
            "InsuredIdentificationNumber",
            "ReferenceNumber",
            "InsuredCardSymbol",
            "InsuredBranchNumber",
        ],
    ),
];

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Reorders the children of `el` (recursively) into the observed order.
pub fn to_observed_order(el: &mut Element) {
    let leading = OBSERVED
        .iter()
        .find(|(parent, _)| *parent == el.name)
        .map(|(_, seq)| *seq)
        .unwrap_or(&[]);
    el.children
        .sort_by_key(|c| match leading.iter().position(|n| *n == c.name) {
            Some(i) => (0, i as u64),
            None => (1, fnv1a(&c.name)),
        });
    for c in &mut el.children {
        to_observed_order(c);
    }
}

/// Reorders the children of `el` (recursively) into spec order; unknown elements keep their
/// relative order after the known ones.
pub fn to_spec_order(el: &mut Element, schema: &[Child]) {
    el.children
        .sort_by_key(|c| schema.iter().position(|s| s.name == c.name).unwrap_or(usize::MAX));
    for c in &mut el.children {
        match schema.iter().find(|s| s.name == c.name).map(|s| s.kind) {
            Some(FieldKind::Record(children) | FieldKind::Repeated(children)) => to_spec_order(c, children),
            Some(FieldKind::List { item, children }) => {
                for i in c.children.iter_mut().filter(|i| i.name == item) {
                    to_spec_order(i, children);
                }
            }
            _ => {}
        }
    }
}

/// Applies `order` to a tree described by `schema` (the root's children).
pub fn apply(el: &mut Element, order: ElementOrder, schema: &[Child]) {
    match order {
        ElementOrder::Spec => to_spec_order(el, schema),
        ElementOrder::Observed => to_observed_order(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MessageHeader, XmlRecord};

    fn header() -> Element {
        MessageHeader {
            process_execution_time: Some("20250101090000".into()),
            qualification_confirmation_date: Some("20250101".into()),
            medical_institution_code: Some("9900000001".into()),
            arbitrary_file_identifier: Some("A".into()),
            reference_classification: Some(crate::codes::ReferenceClassification::MyNumberCard),
            segment_of_result: Some(crate::codes::SegmentOfResult::Normal),
            character_code_identifier: Some(crate::codes::CharacterCodeIdentifier::Utf8),
            ..Default::default()
        }
        .to_element()
    }

    fn names(el: &Element) -> Vec<&str> {
        el.children.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn observed_header_order_matches_the_captured_file() {
        let mut el = header();
        to_observed_order(&mut el);
        assert_eq!(
            names(&el),
            [
                "ProcessExecutionTime",
                "CharacterCodeIdentifier",
                "SegmentOfResult",
                "QualificationConfirmationDate",
                "ReferenceClassification",
                "ArbitraryFileIdentifier",
                "MedicalInstitutionCode"
            ]
        );
    }

    #[test]
    fn spec_order_restores_the_logical_order() {
        let spec = header();
        let mut el = spec.clone();
        to_observed_order(&mut el);
        assert_ne!(el, spec);
        to_spec_order(&mut el, MessageHeader::CHILDREN);
        assert_eq!(el, spec);
    }
}
