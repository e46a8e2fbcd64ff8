//! Property tests: for any message the schema allows, write → read is the identity in both
//! encodings and both element orders; and no byte string makes the decoder or lint panic.

use onshi_protocol::lint::lint;
use onshi_protocol::model::*;
use onshi_protocol::xml::{Element, Limits, TextEncoding, decode};
use onshi_protocol::{ElementOrder, MessageKind, XmlOptions, read_message, write_message};
use proptest::prelude::*;

/// Leaf text that both encodings can carry: ASCII, half-width kana, kanji, full-width
/// space, markup characters, CR/LF/TAB, leading and trailing spaces.
fn leaf_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "0",
        "99",
        "  990001",
        "ﾃｽﾄ",
        "ｹﾝｼｮｳ ｲﾁﾛｳ",
        "検証　一郎",
        "東京都",
        "&",
        "<",
        ">",
        "\"",
        "'",
        "\r\n",
        "\t",
        " ",
        "A-1",
        "20250101",
        "〒",
        "Ⅲ",
        "①",
    ]);
    prop::collection::vec(pieces, 0..4).prop_map(|v| v.concat())
}

fn tree(schema: &'static [Child], name: &'static str, depth: u32) -> BoxedStrategy<Element> {
    let children: Vec<BoxedStrategy<Vec<Element>>> = schema
        .iter()
        .map(|c| {
            if let FieldKind::Repeated(ch) = c.kind {
                // A repeated record: zero to three siblings of the same name.
                let item = if depth < 4 {
                    tree(ch, c.name, depth + 1)
                } else {
                    Just(Element::new(c.name)).boxed()
                };
                return prop::collection::vec(item, 0..3).boxed();
            }
            let s: BoxedStrategy<Element> = match c.kind {
                FieldKind::Value => leaf_text().prop_map(move |t| Element::leaf(c.name, t)).boxed(),
                FieldKind::Record(ch) if depth < 4 => tree(ch, c.name, depth + 1),
                FieldKind::List { item, children } if depth < 4 => {
                    prop::collection::vec(tree(children, item, depth + 1), 0..3)
                        .prop_map(move |items| Element {
                            children: items,
                            ..Element::new(c.name)
                        })
                        .boxed()
                }
                _ => Just(Element::new(c.name)).boxed(),
            };
            prop::option::weighted(0.6, s)
                .prop_map(|o| o.into_iter().collect())
                .boxed()
        })
        .collect();
    children
        .prop_map(move |kids| Element {
            children: kids.into_iter().flatten().collect(),
            ..Element::new(name)
        })
        .boxed()
}

fn options() -> impl Strategy<Value = XmlOptions> {
    (
        prop::sample::select(vec![TextEncoding::Utf8, TextEncoding::ShiftJis]),
        prop::sample::select(vec![ElementOrder::Spec, ElementOrder::Observed]),
    )
        .prop_map(|(encoding, order)| XmlOptions { encoding, order })
}

fn round_trip<T: XmlRecord + std::fmt::Debug + PartialEq>(
    tree: &Element,
    opts: &XmlOptions,
) -> Result<(), TestCaseError> {
    let message = T::from_root(tree).expect("generated trees follow the schema");
    let bytes = write_message(&message, opts).expect("all generated text is encodable");
    let (back, doc) = read_message::<T>(&bytes, &Limits::default()).expect("written messages read back");
    prop_assert_eq!(doc.encoding, opts.encoding);
    prop_assert_eq!(back, message);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn result_write_then_read_is_identity(t in tree(QualificationResult::CHILDREN, "XmlMsg", 0), opts in options()) {
        round_trip::<QualificationResult>(&t, &opts)?;
    }

    #[test]
    fn request_write_then_read_is_identity(t in tree(QualificationRequest::CHILDREN, "XmlMsg", 0), opts in options()) {
        round_trip::<QualificationRequest>(&t, &opts)?;
    }

        #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode(&bytes, &Limits::default());
        for kind in MessageKind::ALL {
            let _ = lint(kind, &bytes, &Limits::default());
        }
    }

    #[test]
    fn mangled_messages_never_panic(t in tree(QualificationResult::CHILDREN, "XmlMsg", 0),
                                    cut in any::<prop::sample::Index>(), flip in any::<(prop::sample::Index, u8)>()) {
        let message = QualificationResult::from_root(&t).unwrap();
        let mut bytes = write_message(&message, &XmlOptions::default()).unwrap();
        let i = flip.0.index(bytes.len());
        bytes[i] ^= flip.1;
        bytes.truncate(cut.index(bytes.len() + 1));
        let report = lint(MessageKind::QualificationResult, &bytes, &Limits::default());
        // A damaged file is either still readable or reported with a check ID.
        if report.document.is_none() {
            prop_assert!(report.has_errors());
        }
    }
}

/// Every other family's records: write → read is the identity too, and any tree the schema
/// allows lints without panicking.
macro_rules! family_round_trips {
    ($( $test:ident: $ty:ty => $kind:expr; )*) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
            $(
                #[test]
                fn $test(t in tree(<$ty>::CHILDREN, "XmlMsg", 0), opts in options()) {
                    round_trip::<$ty>(&t, &opts)?;
                    let message = <$ty>::from_root(&t).expect("generated trees follow the schema");
                    let bytes = write_message(&message, &opts).expect("encodable");
                    let _ = lint($kind, &bytes, &Limits::default());
                }
            )*
        }
    };
}

family_round_trips! {
    reference_registration_request: ReferenceRegistrationRequest => MessageKind::ReferenceRegistrationRequest;
    reference_registration_result: ReferenceRegistrationResult => MessageKind::ReferenceRegistrationResult;
    bulk_registration_request: BulkRegistrationRequest => MessageKind::BulkRegistrationRequest;
    bulk_registration_result: BulkRegistrationResult => MessageKind::BulkRegistrationResult;
    bulk_confirm_request: BulkConfirmRequest => MessageKind::BulkConfirmRequest;
    bulk_pull_request: BulkPullRequest => MessageKind::OnlinePullRequest;
    bulk_upload_result: BulkUploadResult => MessageKind::BulkUploadResult;
    bulk_download_request: BulkDownloadRequest => MessageKind::BulkDownloadRequest;
    bulk_confirm_result: BulkConfirmResult => MessageKind::BulkConfirmResult;
    medical_info_request: MedicalInfoRequest => MessageKind::DrugInfoRequest;
    drug_result: DrugResult => MessageKind::DrugInfoResult;
    checkup_result: CheckupResult => MessageKind::CheckupInfoResult;
}
