//! Message lint: every rule a message of the folder interface must follow, each with a
//! stable check ID (`MSG-…`) and a catalogue entry.
//!
//! The lint reads the element tree, not the typed model, so it can see what the model
//! forgives: duplicates, unknown elements, elements in the wrong shape, empty required
//! values. It never stops at the first problem — a vendor fixing their writer wants the
//! whole list.

use crate::ids;
use std::collections::BTreeMap;
use std::ffi::OsStr;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::catalogue::{CheckId, CheckInfo, Severity};
use crate::dictionary::{self, Format};
use crate::filename::{FileName, FileNameError};
use crate::message::MessageKind;
use crate::model::{Child, FieldKind};
use crate::xml::{self, Document, Element, Limits, TextEncoding};

/// One problem found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check the finding falls under.
    pub check: CheckId,
    /// Whether it fails the message.
    pub severity: Severity,
    /// Element path, e.g. `XmlMsg/MessageHeader/MedicalInstitutionCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The line in the message, when known.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.severity, self.check)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The lint of one message.
#[derive(Debug, Clone)]
pub struct LintReport {
    /// The kind of message linted.
    pub kind: MessageKind,
    /// Everything found.
    pub findings: Vec<Finding>,
    /// The decoded document, when the bytes could be decoded.
    pub document: Option<Document>,
}

impl LintReport {
    /// The findings that are errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error)
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// Lints message bytes as `kind`.
pub fn lint(kind: MessageKind, bytes: &[u8], limits: &Limits) -> LintReport {
    match xml::decode(bytes, limits) {
        Ok(doc) => LintReport {
            kind,
            findings: lint_document(kind, &doc),
            document: Some(doc),
        },
        Err(e) => LintReport {
            kind,
            findings: vec![Finding {
                check: e.check_id(),
                severity: Severity::Error,
                path: None,
                line: e.line(),
                message: e.to_string(),
            }],
            document: None,
        },
    }
}

/// Lints a file name (as found in a folder).
pub fn lint_file_name(name: &OsStr) -> (Result<FileName, FileNameError>, Vec<Finding>) {
    let parsed = FileName::parse_os(name);
    let mut findings = Vec::new();
    match &parsed {
        Err(e) => findings.push(finding(ids::MSG_NAME_001, Severity::Error, None, None, e.to_string())),
        Ok(FileName::Message(m)) if !m.suffix_is_plain() => findings.push(finding(
            ids::MSG_NAME_002,
            Severity::Warning,
            None,
            None,
            format!(
                "the suffix {:?} uses `-` or `_`; every known client uses only A–Z, a–z and 0–9",
                m.suffix
            ),
        )),
        Ok(FileName::Face(f)) if f.opaque.is_none() => findings.push(finding(
            ids::MSG_NAME_002,
            Severity::Warning,
            None,
            None,
            "the face file name has no middle part (institution code and identifier); strict clients match \
             `OQSsiquc01res_face_<…>_<yyyyMMddHHmmss>.xml` and will ignore it"
                .into(),
        )),
        Ok(_) => {}
    }
    (parsed, findings)
}

fn finding(check: CheckId, severity: Severity, path: Option<String>, line: Option<u32>, message: String) -> Finding {
    Finding {
        check,
        severity,
        path,
        line,
        message,
    }
}

struct Linter {
    kind: MessageKind,
    findings: Vec<Finding>,
}

impl Linter {
    fn push(&mut self, check: CheckId, severity: Severity, el: Option<(&str, &Element)>, message: String) {
        let (path, line) = match el {
            Some((path, e)) => (Some(path.to_owned()), (e.line > 0).then_some(e.line)),
            None => (None, None),
        };
        self.findings.push(finding(check, severity, path, line, message));
    }
}

/// Lints a decoded document as `kind`.
pub fn lint_document(kind: MessageKind, doc: &Document) -> Vec<Finding> {
    let mut l = Linter {
        kind,
        findings: Vec::new(),
    };
    declaration(&mut l, doc);
    let root = &doc.root;
    if root.name != "XmlMsg" {
        l.push(
            ids::MSG_XML_004,
            Severity::Error,
            Some((&root.name, root)),
            format!("the root element is <{}>; every message is an <XmlMsg>", root.name),
        );
        return l.findings;
    }
    for section in ["MessageHeader", "MessageBody"] {
        let n = root.children_named(section).count();
        if n != 1 {
            l.push(
                ids::MSG_XML_004,
                Severity::Error,
                Some(("XmlMsg", root)),
                format!("<XmlMsg> must contain exactly one <{section}>; found {n}"),
            );
        }
    }
    walk(&mut l, root, "XmlMsg", kind.schema());
    required(&mut l, root);
    semantics(&mut l, doc);
    l.findings
}

fn declaration(l: &mut Linter, doc: &Document) {
    match &doc.declaration {
        None => l.push(
            ids::MSG_DECL_001,
            Severity::Warning,
            None,
            "there is no XML declaration; write <?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?> (or Shift_JIS)"
                .into(),
        ),
        Some(d) => {
            if d.version.as_deref() != Some("1.0") {
                l.push(
                    ids::MSG_DECL_001,
                    Severity::Warning,
                    None,
                    format!("the declaration has version {:?}; messages are XML 1.0", d.version),
                );
            }
            match d.encoding.as_deref() {
                None => l.push(
                    ids::MSG_DECL_001,
                    Severity::Warning,
                    None,
                    "the declaration names no encoding (UTF-8 is assumed); name it explicitly".into(),
                ),
                Some(label) if label != doc.encoding.label() => l.push(
                    ids::MSG_DECL_001,
                    Severity::Warning,
                    None,
                    format!(
                        "the declaration spells the encoding {label:?}; the canonical name is {:?}",
                        doc.encoding.label()
                    ),
                ),
                Some(_) => {}
            }
            if d.standalone.as_deref() != Some("no") {
                l.push(
                    ids::MSG_DECL_002,
                    Severity::Warning,
                    None,
                    format!(
                        "the declaration has standalone={:?}; every real message has standalone=\"no\"",
                        d.standalone.as_deref().unwrap_or("(absent)")
                    ),
                );
            }
        }
    }
    if doc.bom {
        l.push(
            ids::MSG_ENC_003,
            Severity::Warning,
            None,
            "the file starts with a UTF-8 byte-order mark; some terminals and clients do not expect one".into(),
        );
    }
    if doc.utf8_under_sjis_declaration {
        l.push(
            ids::MSG_ENC_001,
            Severity::Error,
            None,
            "the declaration says Shift_JIS but the bytes are UTF-8 (the Japanese text would be garbled); \
             declare encoding=\"UTF-8\" or encode as Shift_JIS"
                .into(),
        );
    }
}

fn walk(l: &mut Linter, el: &Element, path: &str, schema: &[Child]) {
    // Duplicates are rare: count names only when there is one.
    let any_duplicate = el
        .children
        .iter()
        .enumerate()
        .any(|(i, c)| el.children[..i].iter().any(|p| p.name == c.name));
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in el.children.iter().filter(|_| any_duplicate) {
        *counts.entry(c.name.as_str()).or_default() += 1;
    }
    for (name, n) in &counts {
        if *n > 1
            && schema
                .iter()
                .any(|s| s.name == *name && !matches!(s.kind, FieldKind::Repeated(_)))
        {
            let first = el.child(name).expect("counted");
            l.push(
                ids::MSG_ELEM_002,
                Severity::Error,
                Some((&format!("{path}/{name}"), first)),
                format!(
                    "{} appears {n} times in <{}>; it may appear once (strict clients reject the file)",
                    dictionary::label(name),
                    el.name
                ),
            );
        }
    }
    for c in &el.children {
        let cpath = format!("{path}/{}", c.name);
        if !c.attributes.is_empty() {
            l.push(
                ids::MSG_ELEM_003,
                Severity::Warning,
                Some((&cpath, c)),
                format!("<{}> has attributes; messages use none", c.name),
            );
        }
        let Some(spec) = schema.iter().find(|s| s.name == c.name) else {
            l.push(
                ids::MSG_ELEM_001,
                Severity::Warning,
                Some((&cpath, c)),
                format!("<{}> is not an element of <{}> in {}", c.name, el.name, l.kind.title()),
            );
            continue;
        };
        match spec.kind {
            FieldKind::Value => {
                if c.is_leaf() {
                    value(l, &cpath, c);
                } else {
                    l.push(
                        ids::MSG_ELEM_003,
                        Severity::Error,
                        Some((&cpath, c)),
                        format!("{} holds a value but contains elements", dictionary::label(&c.name)),
                    );
                }
            }
            FieldKind::Record(children) | FieldKind::Repeated(children) => {
                record_shape(l, &cpath, c);
                walk(l, c, &cpath, children);
            }
            FieldKind::List { item, children } => {
                record_shape(l, &cpath, c);
                for i in &c.children {
                    let ipath = format!("{cpath}/{}", i.name);
                    if i.name == item {
                        record_shape(l, &ipath, i);
                        walk(l, i, &ipath, children);
                    } else {
                        l.push(
                            ids::MSG_ELEM_001,
                            Severity::Warning,
                            Some((&ipath, i)),
                            format!("<{}> may only contain <{item}>; found <{}>", c.name, i.name),
                        );
                    }
                }
            }
        }
    }
}

fn record_shape(l: &mut Linter, path: &str, el: &Element) {
    if el.is_leaf() && !el.text.trim().is_empty() {
        l.push(
            ids::MSG_ELEM_003,
            Severity::Error,
            Some((path, el)),
            format!(
                "{} should contain elements, not the text {:?}",
                dictionary::label(&el.name),
                el.text
            ),
        );
    }
}

fn is_real_date(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) && NaiveDate::parse_from_str(s, "%Y%m%d").is_ok()
}

fn is_real_datetime(s: &str) -> bool {
    s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) && NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").is_ok()
}

fn is_half_width_kana(c: char) -> bool {
    matches!(c, '\u{FF61}'..='\u{FF9F}' | ' ')
}

fn value(l: &mut Linter, path: &str, el: &Element) {
    let v = el.text.as_str();
    if v.is_empty() {
        return; // presence of required values is checked separately; empty optional values are tolerated
    }
    let Some(info) = dictionary::info(&el.name) else { return };
    let label = dictionary::Label(&el.name);
    let at = Some((path, el));
    match info.format {
        Format::Container => {}
        Format::Text { max } => {
            if let Some(max) = max {
                let n = v.chars().count();
                if n > max {
                    l.push(
                        ids::MSG_LEN_001,
                        Severity::Error,
                        at,
                        format!("{label} is {n} characters long; the limit is {max}: {v:?}"),
                    );
                }
            }
        }
        Format::Digits { len } => {
            if v.len() != len || !v.bytes().all(|b| b.is_ascii_digit()) {
                l.push(
                    ids::MSG_INST_001,
                    Severity::Error,
                    at,
                    format!("{label} must be exactly {len} half-width digits; found {v:?}"),
                );
            }
        }
        Format::InsurerNumber => insurer_number(l, at, &label, v),
        Format::Branch => {
            if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
                l.push(
                    ids::MSG_BRANCH_001,
                    Severity::Error,
                    at,
                    format!("{label} must be 2 half-width digits such as \"00\" or \"01\"; found {v:?}"),
                );
            }
        }
        Format::Date => {
            if !is_real_date(v) {
                l.push(
                    ids::MSG_DATE_001,
                    Severity::Error,
                    at,
                    format!("{label} must be a real calendar date written YYYYMMDD (西暦); found {v:?}"),
                );
            }
        }
        Format::DateTime => {
            if !is_real_datetime(v) {
                l.push(
                    ids::MSG_DATE_002,
                    Severity::Error,
                    at,
                    format!("{label} must be a real date and time written YYYYMMDDHHmmss; found {v:?}"),
                );
            }
        }
        Format::Month => {
            if !is_real_date(&format!("{v}01")) || v.len() != 6 {
                l.push(
                    ids::MSG_DATE_003,
                    Severity::Error,
                    at,
                    format!("{label} must be a month written YYYYMM; found {v:?}"),
                );
            }
        }
        Format::Ratio => {
            if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
                l.push(
                    ids::MSG_FMT_001,
                    Severity::Error,
                    at,
                    format!("{label} is a 3-digit percentage code (010 = 1割, 020 = 2割, 030 = 3割); found {v:?}"),
                );
            }
        }
        Format::Count => {
            if !v.bytes().all(|b| b.is_ascii_digit()) {
                l.push(
                    ids::MSG_FMT_001,
                    Severity::Error,
                    at,
                    format!("{label} must be a whole number in half-width digits; found {v:?}"),
                );
            }
        }
        Format::PostNumber => {
            let ok = v.len() == 8
                && v.bytes()
                    .enumerate()
                    .all(|(i, b)| if i == 3 { b == b'-' } else { b.is_ascii_digit() });
            if !ok {
                l.push(
                    ids::MSG_FMT_001,
                    Severity::Error,
                    at,
                    format!("{label} must be written 123-4567; found {v:?}"),
                );
            }
        }
        Format::HalfWidthKana => {
            if let Some(c) = v.chars().find(|c| !is_half_width_kana(*c)) {
                l.push(
                    ids::MSG_KANA_001,
                    Severity::Warning,
                    at,
                    format!(
                        "{label} should be half-width katakana (半角カナ) with half-width spaces; found {c:?} in {v:?}"
                    ),
                );
            }
        }
        Format::Code(table) => {
            if table.lookup(v).is_none() {
                l.push(
                    ids::MSG_CODE_001,
                    Severity::Error,
                    at,
                    format!(
                        "{label} is {v:?}, which is not in {} {} ({})",
                        table.id,
                        table.name_ja,
                        table.summary()
                    ),
                );
            }
        }
    }
}

fn insurer_number(l: &mut Linter, at: Option<(&str, &Element)>, label: &dictionary::Label<'_>, v: &str) {
    let n = v.chars().count();
    let all_digits = v.bytes().all(|b| b.is_ascii_digit());
    let padded_kokuho = v.len() == 8 && v.starts_with("  ") && v[2..].bytes().all(|b| b.is_ascii_digit());
    if n == 8 && all_digits && v.starts_with("00") {
        l.push(
            ids::MSG_INS_002,
            Severity::Error,
            at,
            format!(
                "{label} {v:?} is a 6-digit 国保 number padded with zeros; pad it with two half-width spaces instead: {:?}",
                format!("  {}", &v[2..])
            ),
        );
    } else if !(n == 8 && (all_digits || padded_kokuho)) {
        let hint = if n == 6 && all_digits {
            format!(" — a 6-digit 国保 number is written {:?}", format!("  {v}"))
        } else if v.trim_end().len() < v.len() {
            " — it is left-aligned; 6-digit numbers are right-aligned".to_owned()
        } else {
            String::new()
        };
        l.push(
            ids::MSG_INS_001,
            Severity::Error,
            at,
            format!("{label} must be 8 characters: 8 digits, or two half-width spaces and 6 digits; found {v:?}{hint}"),
        );
    }
}

/// Required paths: `a/b/c` — that element; `List/*/leaf` — in every item of a list;
/// `parent/Item+/leaf` — at least one `Item`, each with `leaf` (records repeated without a
/// wrapper).
fn required(l: &mut Linter, root: &Element) {
    for path in l.kind.required_elements() {
        if let Some((list, leaf)) = path.split_once("/*/") {
            if let Some(list_el) = root.at(list) {
                for (i, item) in list_el.children.iter().enumerate() {
                    require(l, item, &format!("XmlMsg/{list}/{}[{}]", item.name, i + 1), leaf);
                }
            }
        } else if let Some((repeated, leaf)) = path.split_once("+/") {
            let (parent, name) = repeated.rsplit_once('/').expect("a parent path");
            let Some(parent_el) = root.at(parent) else { continue };
            if parent_el.child(name).is_none() {
                require(l, parent_el, &format!("XmlMsg/{parent}"), name);
                continue;
            }
            for (i, item) in parent_el.children_named(name).enumerate() {
                require(l, item, &format!("XmlMsg/{parent}/{name}[{}]", i + 1), leaf);
            }
        } else {
            require(l, root, "XmlMsg", path);
        }
    }
}

/// Reports the shallowest missing part of `path` below `el`, or an empty value.
fn require(l: &mut Linter, el: &Element, base: &str, path: &str) {
    let mut cur = el;
    let mut cur_path = base.to_owned();
    for part in path.split('/') {
        match cur.child(part) {
            Some(next) => {
                cur = next;
                cur_path = format!("{cur_path}/{part}");
            }
            None => {
                let message = format!("{} is required in <{}> but missing", dictionary::label(part), cur.name);
                if !l.findings.iter().any(|f| {
                    f.check == ids::MSG_REQ_001 && f.message == message && f.path.as_deref() == Some(&cur_path)
                }) {
                    l.push(ids::MSG_REQ_001, Severity::Error, Some((&cur_path, cur)), message);
                }
                return;
            }
        }
    }
    if cur.is_leaf() && cur.text.trim().is_empty() {
        l.push(
            ids::MSG_REQ_001,
            Severity::Error,
            Some((&cur_path, cur)),
            format!("{} is required but empty", dictionary::label(&cur.name)),
        );
    }
}

fn text_at<'a>(root: &'a Element, path: &str) -> Option<&'a str> {
    root.at(path).filter(|e| e.is_leaf()).map(|e| e.text.as_str())
}

fn present(root: &Element, path: &str) -> bool {
    text_at(root, path).is_some_and(|t| !t.trim().is_empty())
}

/// The rules beyond presence and format, by kind.
fn semantics(l: &mut Linter, doc: &Document) {
    let root = &doc.root;
    if matches!(l.kind, MessageKind::QualificationResult | MessageKind::FaceResult) {
        reference_classification(l, root);
    }
    if l.kind.is_result() {
        character_code(l, doc);
        if text_at(root, "MessageHeader/SegmentOfResult") == Some("9") {
            needs(
                l,
                root,
                "MessageHeader",
                &["ErrorCode", "ErrorMessage"],
                "SegmentOfResult 9 — 異常終了",
            );
            return;
        }
    }
    match l.kind {
        MessageKind::QualificationResult | MessageKind::FaceResult => qualification_result(l, root),
        MessageKind::ReferenceRegistrationResult => {
            if text_at(root, "MessageHeader/SegmentOfResult") == Some("1") {
                status_needed(l, root, "MessageBody");
            }
            status_explained(l, root.at("MessageBody"), "XmlMsg/MessageBody");
        }
        MessageKind::BulkUploadResult if !present(root, "MessageBody/ReceptionNumber") => {
            l.push(
                ids::MSG_REQ_001,
                Severity::Error,
                None,
                "ReceptionNumber (受付番号) is required in an accepted upload: the client needs it to ask for the result".into(),
            );
        }
        MessageKind::BulkConfirmResult | MessageKind::BulkRegistrationResult => bulk_result(l, root),
        MessageKind::DrugInfoResult | MessageKind::CheckupInfoResult
            if text_at(root, "MessageHeader/ResultCode").is_some_and(|c| c != "1") =>
        {
            needs(
                l,
                root,
                "MessageHeader",
                &["MessageContents"],
                "a ResultCode other than 1",
            );
        }
        MessageKind::HomeVisitPullRequest | MessageKind::OnlinePullRequest => pull_request(l, root),
        MessageKind::DrugInfoRequest => range(l, root, "MessageBody", "StartDate", "EndDate"),
        _ => {}
    }
}

/// `names` must be present and non-empty under `parent` because of `why`.
fn needs(l: &mut Linter, root: &Element, parent: &str, names: &[&str], why: &str) {
    for name in names {
        if !present(root, &format!("{parent}/{name}")) {
            l.push(
                ids::MSG_RES_001,
                Severity::Error,
                None,
                format!("{why} requires {} in <{parent}>", dictionary::label(name)),
            );
        }
    }
}

fn character_code(l: &mut Linter, doc: &Document) {
    let root = &doc.root;
    if let Some(cci) = text_at(root, "MessageHeader/CharacterCodeIdentifier") {
        let expected = doc.encoding.character_code();
        if matches!(cci, "0" | "1") && cci != expected {
            let e = root.at("MessageHeader/CharacterCodeIdentifier").expect("present");
            l.push(
                ids::MSG_ENC_004,
                Severity::Error,
                Some(("XmlMsg/MessageHeader/CharacterCodeIdentifier", e)),
                format!(
                    "CharacterCodeIdentifier (文字コード識別) is {cci} but the file is {} ({expected})",
                    doc.encoding
                ),
            );
        }
    }
}

/// SegmentOfResult 1 needs a ProcessingResultStatus in `body`.
fn status_needed(l: &mut Linter, root: &Element, body: &str) {
    if text_at(root, &format!("{body}/ProcessingResultStatus")).is_none() {
        l.push(
            ids::MSG_REQ_001,
            Severity::Error,
            None,
            "ProcessingResultStatus (処理結果状況) is required when SegmentOfResult is 1".into(),
        );
    }
}

/// ProcessingResultStatus 2 needs its code and message (in `el`, the body or a unit).
fn status_explained(l: &mut Linter, el: Option<&Element>, path: &str) {
    let Some(el) = el else { return };
    let text = |name: &str| el.child(name).filter(|c| c.is_leaf()).map(|c| c.text.trim());
    if text("ProcessingResultStatus") != Some("2") {
        return;
    }
    for name in ["ProcessingResultCode", "ProcessingResultMessage"] {
        if text(name).is_none_or(str::is_empty) {
            l.push(
                ids::MSG_RES_001,
                Severity::Error,
                Some((path, el)),
                format!(
                    "ProcessingResultStatus 2 — エラー requires {} in <{}>",
                    dictionary::label(name),
                    el.name
                ),
            );
        }
    }
}

fn reference_classification(l: &mut Linter, root: &Element) {
    let expected_class = if l.kind == MessageKind::FaceResult { "1" } else { "2" };
    if let Some(rc) = text_at(root, "MessageHeader/ReferenceClassification")
        && matches!(rc, "1" | "2")
        && rc != expected_class
    {
        let e = root.at("MessageHeader/ReferenceClassification").expect("present");
        l.push(
            ids::MSG_RES_003,
            Severity::Error,
            Some(("XmlMsg/MessageHeader/ReferenceClassification", e)),
            format!(
                "ReferenceClassification (照会区分) is {rc} but a {} carries {expected_class}",
                l.kind.title()
            ),
        );
    }
}

fn qualification_result(l: &mut Linter, root: &Element) {
    if text_at(root, "MessageHeader/SegmentOfResult") == Some("1") {
        status_needed(l, root, "MessageBody");
    }
    if text_at(root, "MessageBody/ProcessingResultStatus") == Some("2") {
        status_explained(l, root.at("MessageBody"), "XmlMsg/MessageBody");
        return;
    }
    let n = root
        .at("MessageBody/ResultList")
        .map(|l| l.children_named("ResultOfQualificationConfirmation").count())
        .unwrap_or(0);
    if let Some(validity) = text_at(root, "MessageBody/QualificationValidity") {
        let ok = match validity {
            "1" | "2" | "3" | "6" => n == 1,
            "4" => n == 0,
            "5" => n >= 2,
            _ => true,
        };
        if !ok {
            l.push(
                ids::MSG_RES_002,
                Severity::Error,
                None,
                format!(
                    "QualificationValidity (資格有効性) is {validity} but ResultList holds {n} result(s) \
                     (1/2/3/6: exactly one, 4: none, 5: two or more)"
                ),
            );
        }
    }
}

/// A bulk 02res: no units while 処理中; when done, each unit explained and the counts right.
fn bulk_result(l: &mut Linter, root: &Element) {
    let unit = if l.kind == MessageKind::BulkConfirmResult {
        "BulkConfirmUnit"
    } else {
        "BulkRegistrationUnit"
    };
    let units: Vec<&Element> = root
        .at("MessageBody")
        .map(|b| b.children_named(unit).collect())
        .unwrap_or_default();
    match text_at(root, "MessageHeader/SegmentOfResult") {
        Some("2") if !units.is_empty() => l.push(
            ids::MSG_BULK_001,
            Severity::Error,
            None,
            format!(
                "SegmentOfResult 2 — 処理中 (still processing) but the body already holds {} <{unit}>",
                units.len()
            ),
        ),
        Some("1") => {
            for (i, u) in units.iter().enumerate() {
                status_explained(l, Some(u), &format!("XmlMsg/MessageBody/{unit}[{}]", i + 1));
            }
            if l.kind != MessageKind::BulkConfirmResult {
                return;
            }
            let count =
                |name: &str| text_at(root, &format!("MessageHeader/{name}")).and_then(|t| t.parse::<usize>().ok());
            let errors = units
                .iter()
                .filter(|u| u.child("ProcessingResultStatus").is_some_and(|s| s.text.trim() == "2"))
                .count();
            let expected = [
                ("NumberOfProcessingResult", units.len()),
                ("NumberOfNormalProcessing", units.len() - errors),
                ("NumberOfError", errors),
            ];
            for (name, n) in expected {
                match count(name) {
                    Some(c) if c == n => {}
                    Some(c) => l.push(
                        ids::MSG_BULK_001,
                        Severity::Error,
                        None,
                        format!("{} is {c} but the body holds {n}", dictionary::label(name)),
                    ),
                    None => l.push(
                        ids::MSG_BULK_001,
                        Severity::Error,
                        None,
                        format!("{} is missing from a finished bulk result", dictionary::label(name)),
                    ),
                }
            }
        }
        _ => {}
    }
}

/// 訪問診療 / オンライン診療 pulls: the consultation kind matches the family, and a date
/// range is given, in order.
fn pull_request(l: &mut Linter, root: &Element) {
    let info = "MessageBody/QualificationConfirmSearchInfo";
    let expected = if l.kind == MessageKind::HomeVisitPullRequest {
        "2"
    } else {
        "3"
    };
    if let Some(flag) = text_at(root, &format!("{info}/MedicalTreatmentFlag"))
        && flag != expected
    {
        l.push(
            ids::MSG_PULL_001,
            Severity::Error,
            None,
            format!(
                "MedicalTreatmentFlag (診療区分) is {flag:?}; a {} carries {expected}",
                l.kind.title()
            ),
        );
    }
    let consent = present(root, &format!("{info}/ConsentDateFrom")) || present(root, &format!("{info}/ConsentDateTo"));
    let exam =
        present(root, &format!("{info}/ExaminationDateFrom")) || present(root, &format!("{info}/ExaminationDateTo"));
    if l.kind == MessageKind::OnlinePullRequest && !consent && !exam {
        l.push(
            ids::MSG_PULL_001,
            Severity::Error,
            None,
            "an オンライン診療 pull needs ConsentDateFrom/ConsentDateTo or ExaminationDateFrom/ExaminationDateTo"
                .into(),
        );
    }
    range(l, root, info, "ConsentDateFrom", "ConsentDateTo");
    range(l, root, info, "ExaminationDateFrom", "ExaminationDateTo");
}

/// `from` is not after `to` (dates or months, compared as written digits).
fn range(l: &mut Linter, root: &Element, parent: &str, from: &str, to: &str) {
    let (Some(a), Some(b)) = (
        text_at(root, &format!("{parent}/{from}")),
        text_at(root, &format!("{parent}/{to}")),
    ) else {
        return;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) && a.len() == b.len() && a > b {
        l.push(
            ids::MSG_PULL_001,
            Severity::Error,
            None,
            format!("{} {a} is after {} {b}", dictionary::label(from), dictionary::label(to)),
        );
    }
}

/// Characters of `s` that `encoding` cannot represent — for messages before writing.
pub fn unencodable_chars(s: &str, encoding: TextEncoding) -> Vec<char> {
    s.chars()
        .filter(|c| encoding.encode_str(&c.to_string()).is_err())
        .collect()
}

/// The catalogue of `MSG-*` checks.
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: ids::MSG_XML_001,
        title: "The file is well-formed XML",
        rule: "A message is one complete, well-formed XML document: not empty, not truncated, tags balanced, no text outside the root or next to child elements.",
        why: "A terminal or client that cannot parse the file cannot answer it: the patient at the reception desk waits while the request is rejected (`.err`) or silently ignored.",
        fix: "Write the whole document before the file becomes visible (write to a temporary name, then rename), and generate XML with a real XML writer rather than string concatenation.",
    },
    CheckInfo {
        id: ids::MSG_XML_002,
        title: "No DTD and no entities",
        rule: "Messages contain no <!DOCTYPE> and no entity references other than &lt; &gt; &amp; &apos; &quot; and numeric character references.",
        why: "DTDs allow entity-expansion attacks (\"billion laughs\") and external entities; hardened parsers refuse them, so such a file is not processed.",
        fix: "Do not emit a DOCTYPE; escape text with the five predefined entities only.",
    },
    CheckInfo {
        id: ids::MSG_XML_003,
        title: "The file is within size limits",
        rule: "A message is at most 4 MiB, nests at most 32 levels and has at most 200,000 elements.",
        why: "Oversized files are refused by careful readers (a common cap is 4 MiB); a result that is never read leaves the receptionist without an answer.",
        fix: "Split large bulk requests into several files.",
    },
    CheckInfo {
        id: ids::MSG_XML_004,
        title: "The root is <XmlMsg> with one <MessageHeader> and one <MessageBody>",
        rule: "Every message has the root element XmlMsg containing exactly one MessageHeader and exactly one MessageBody.",
        why: "Readers look up the header and body by these names; a second header makes strict clients reject the file.",
        fix: "Build the document from the message layout: XmlMsg → MessageHeader, MessageBody.",
    },
    CheckInfo {
        id: ids::MSG_DECL_001,
        title: "An XML declaration names the encoding",
        rule: "The file starts with <?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?> (or encoding=\"Shift_JIS\"), spelled canonically.",
        why: "Readers decide how to decode the bytes from the declaration; without it UTF-8 is assumed and Shift_JIS text turns into garbage.",
        fix: "Always write the declaration, with the encoding you actually write.",
    },
    CheckInfo {
        id: ids::MSG_DECL_002,
        title: "The declaration says standalone=\"no\"",
        rule: "Every real message carries standalone=\"no\" in its declaration.",
        why: "It is what the terminal writes and what templates in the field use; differing declarations are a sign of a hand-made writer that may differ elsewhere too.",
        fix: "Write standalone=\"no\".",
    },
    CheckInfo {
        id: ids::MSG_ENC_001,
        title: "The declared encoding matches the bytes",
        rule: "The bytes are valid in the encoding the declaration names (UTF-8 or Shift_JIS), and a UTF-8 byte-order mark only precedes a UTF-8 declaration.",
        why: "A Shift_JIS file declared as UTF-8 (or the reverse) cannot be decoded: the request is rejected, or names and 記号 arrive garbled and the patient is not found.",
        fix: "Encode the text with the same encoding you declare; when converting to Shift_JIS, also change the declaration.",
    },
    CheckInfo {
        id: ids::MSG_ENC_002,
        title: "The encoding is UTF-8 or Shift_JIS",
        rule: "Messages are encoded in UTF-8 or Shift_JIS (CP932); other encodings (EUC-JP, UTF-16, …) are not used by the interface.",
        why: "The terminal only reads and writes these two encodings (文字コード識別 0 and 1).",
        fix: "Write UTF-8, or Shift_JIS if your system requires it.",
    },
    CheckInfo {
        id: ids::MSG_ENC_003,
        title: "No byte-order mark",
        rule: "Files start directly with the XML declaration, without a UTF-8 byte-order mark.",
        why: "Some readers compare the first bytes with \"<?xml\" or read the BOM as text; the terminal's own files carry none.",
        fix: "Use a UTF-8 encoder that writes no BOM (e.g. `new UTF8Encoding(false)` in .NET).",
    },
    CheckInfo {
        id: ids::MSG_ENC_004,
        title: "CharacterCodeIdentifier matches the encoding",
        rule: "In results, CharacterCodeIdentifier (文字コード識別, OQSCD005) is 0 for UTF-8 and 1 for Shift_JIS, matching the bytes.",
        why: "Clients that pick the decoder from this element garble every name when it disagrees with the bytes.",
        fix: "Set CharacterCodeIdentifier from the encoding actually used to write the file.",
    },
    CheckInfo {
        id: ids::MSG_REQ_001,
        title: "Required elements are present and not empty",
        rule: "Each message kind has required elements (listed below, per kind); they must be present with a value.",
        why: "Without them the national system cannot identify the patient; the answer is an error (SegmentOfResult 9) instead of the eligibility the receptionist needs.",
        fix: "Fill every required element; take the consent flag from the patient's answer and the date from today's reception.",
    },
    CheckInfo {
        id: ids::MSG_ELEM_001,
        title: "Only known elements",
        rule: "Every element is one the message layout defines at that place.",
        why: "Unknown elements are usually typos of required ones (then the real element is missing) or leftovers of another message family.",
        fix: "Compare the element names with the layout, character by character (e.g. InsuredCardSymbol vs InsuranceCardSymbol).",
    },
    CheckInfo {
        id: ids::MSG_ELEM_002,
        title: "No duplicated elements",
        rule: "An element that holds one value or one record appears at most once in its parent.",
        why: "Strict clients treat any duplicated element as an invalid file; lenient ones silently take the first or the last — the two disagree about the patient.",
        fix: "Emit each element once; only list items (e.g. ResultOfQualificationConfirmation) repeat.",
    },
    CheckInfo {
        id: ids::MSG_ELEM_003,
        title: "Elements have the right shape",
        rule: "Value elements contain text only; record elements contain elements only; no element has attributes.",
        why: "A value element with children (or a record with text) cannot be read into the patient record.",
        fix: "Follow the layout's nesting; do not add attributes.",
    },
    CheckInfo {
        id: ids::MSG_INST_001,
        title: "MedicalInstitutionCode is 10 digits",
        rule: "MedicalInstitutionCode (医療機関コード) is exactly 10 half-width digits.",
        why: "The terminal and the national system identify the clinic by it; a wrong code is refused or answered for another institution.",
        fix: "Store the code as a 10-character string (keep leading zeros; never a number).",
    },
    CheckInfo {
        id: ids::MSG_INS_001,
        title: "InsurerNumber is 8 characters",
        rule: "InsurerNumber (保険者番号) is 8 characters: 8 digits, or a 6-digit 国保 number right-aligned with two half-width spaces (\"  990001\").",
        why: "The national system matches the insurer number exactly; any other form finds nobody and the patient is reported as 該当資格なし.",
        fix: "Format as 8 characters: keep 8-digit numbers, prefix 6-digit numbers with two half-width spaces.",
    },
    CheckInfo {
        id: ids::MSG_INS_002,
        title: "6-digit 国保 insurer numbers are space-padded, not zero-padded",
        rule: "A 6-digit 国民健康保険 insurer number is padded to 8 characters with two half-width spaces, never with zeros (\"00990001\" is wrong, \"  990001\" is right).",
        why: "No insurer number starts with 00; the zero-padded number matches nobody, so every 国保 patient comes back as 該当資格なし (not found).",
        fix: "Pad with spaces (`format!(\"{:>8}\", n)` / `n.PadLeft(8)`), and never store insurer numbers as integers.",
    },
    CheckInfo {
        id: ids::MSG_DATE_001,
        title: "Dates are real dates written YYYYMMDD",
        rule: "Date elements (Birthdate, QualificationConfirmationDate, *Date) are 8 digits YYYYMMDD in the Western calendar (西暦) and name a real day.",
        why: "A 和暦 or separated date (R070401, 2025-04-01) or an impossible day is rejected, and the receptionist gets an error instead of an answer.",
        fix: "Format dates as yyyyMMdd from a real date value; convert 和暦 before writing.",
    },
    CheckInfo {
        id: ids::MSG_DATE_002,
        title: "Date-times are written YYYYMMDDHHmmss",
        rule: "Date-time elements (ProcessExecutionTime, *ConsTime, *AvailableTime) are 14 digits naming a real moment.",
        why: "Consent expiry is compared with these values; an unreadable time makes drug and check-up information unavailable.",
        fix: "Format as yyyyMMddHHmmss (24-hour clock).",
    },
    CheckInfo {
        id: ids::MSG_DATE_003,
        title: "Months are written YYYYMM",
        rule: "Month elements (MedicalTreatmentMonth, drug StartDate/EndDate) are 6 digits YYYYMM naming a real month.",
        why: "An unreadable month makes the retrieval fail.",
        fix: "Format as yyyyMM.",
    },
    CheckInfo {
        id: ids::MSG_BRANCH_001,
        title: "InsuredBranchNumber is 2 digits",
        rule: "InsuredBranchNumber (被保険者証枝番) is 2 half-width digits (\"00\", \"01\"); it is omitted (or empty) for cards without one, such as 後期高齢者.",
        why: "A 1-digit or full-width branch number matches nobody; the patient is reported as not found.",
        fix: "Zero-pad to two digits (\"1\" → \"01\"); leave the element out when the card has no branch number.",
    },
    CheckInfo {
        id: ids::MSG_CODE_001,
        title: "Coded values are in their code table",
        rule: "Elements typed by a code table (OQSCD001–017: flags, classifications, statuses) carry one of the table's values.",
        why: "An unknown code cannot be interpreted; clients that throw on unknown codes stop processing the patient.",
        fix: "Use the values of the table named in the finding (e.g. LimitApplicationCertificateRelatedConsFlg is 0 or 1).",
    },
    CheckInfo {
        id: ids::MSG_LEN_001,
        title: "Values are within their length limits",
        rule: "InsuredCardSymbol and InsuredIdentificationNumber are at most 20 characters; ReferenceNumber at most 50; ReceptionNumber at most 100.",
        why: "Over-long values are refused or cut off, and a cut-off 記号 matches nobody.",
        fix: "Validate lengths at data entry; do not append extra text to these fields.",
    },
    CheckInfo {
        id: ids::MSG_FMT_001,
        title: "Numbers, ratios and post numbers are well-formed",
        rule: "Contribution ratios are 3-digit codes (010, 020, 030), counts are whole numbers, post numbers are written 123-4567.",
        why: "Clients compute the patient's co-payment (負担割合) from the ratio; a malformed value gives a wrong bill.",
        fix: "Write the values in the documented formats.",
    },
    CheckInfo {
        id: ids::MSG_KANA_001,
        title: "Kana names are half-width katakana",
        rule: "NameKana and NameOfOtherKana are half-width katakana (半角カナ) with half-width spaces.",
        why: "Reception systems search and sort patients by kana; full-width or hiragana kana do not match the stored name.",
        fix: "Convert kana to half-width katakana before writing.",
    },
    CheckInfo {
        id: ids::MSG_RES_001,
        title: "Error results carry their code and message",
        rule: "SegmentOfResult 9 (異常終了) comes with ErrorCode and ErrorMessage; ProcessingResultStatus 2 (エラー) comes with ProcessingResultCode and ProcessingResultMessage.",
        why: "The message is what the receptionist must see to know what to do next.",
        fix: "(Terminal output rule; a client never writes results.)",
    },
    CheckInfo {
        id: ids::MSG_RES_002,
        title: "ResultList agrees with QualificationValidity",
        rule: "QualificationValidity 1, 2, 3 and 6 come with exactly one result, 4 (該当資格なし) with none, 5 (複数該当) with two or more.",
        why: "Clients that take ResultList[0] without checking the validity register the wrong person.",
        fix: "(Terminal output rule; a client never writes results.)",
    },
    CheckInfo {
        id: ids::MSG_RES_003,
        title: "ReferenceClassification matches the kind of result",
        rule: "ReferenceClassification (照会区分) is 1 (マイナンバーカード) in face-reader results and 2 (被保険者証情報) in results of insurance-card queries.",
        why: "Clients decide from it whether the patient was identified by card and face or only by typed-in card data.",
        fix: "(Terminal output rule; a client never writes results.)",
    },
    CheckInfo {
        id: ids::MSG_BULK_001,
        title: "A bulk result is consistent: nothing while 処理中, the counts match the units",
        rule: "A bulk 02res with SegmentOfResult 2 (処理中) holds no units; a finished 資格確認一括照会結果 states NumberOfProcessingResult, NumberOfNormalProcessing and NumberOfError, and they match its BulkConfirmUnit elements.",
        why: "Clients show \"{n}件(正常{n}件 異常{n}件)\" from the header and loop over the units; counts that disagree make staff think patients were skipped.",
        fix: "Write the units only when the result is ready, and compute the counts from them.",
    },
    CheckInfo {
        id: ids::MSG_PULL_001,
        title: "A pull or drug request asks for a sensible range",
        rule: "訪問診療 pulls carry MedicalTreatmentFlag 2 and オンライン診療 pulls 3; an オンライン診療 pull gives a consent or an examination date range; every From/Start is not after its To/End.",
        why: "A range the wrong way round returns nobody, and a wrong 診療区分 asks for the wrong patients — the clinic's home-visit list comes back empty.",
        fix: "Set the flag from the kind of pull and validate the dates before writing the request.",
    },
    CheckInfo {
        id: ids::MSG_NAME_001,
        title: "The file name follows the interface's grammar",
        rule: "Names are <prefix><01|02><req|res>_<suffix>.<ext> with a known prefix (OQSsiquc, …), a suffix of letters and digits, and an allowed extension; face files are OQSsiquc01res_face_<…>_<yyyyMMddHHmmss>.xml.",
        why: "The terminal only picks up files whose names it recognises; anything else stays in req/ and the patient is never confirmed.",
        fix: "Build names as prefix + \"01req_\" + a unique suffix of letters and digits (e.g. yyyyMMdd + a 4-digit counter) + \".xml\".",
    },
    CheckInfo {
        id: ids::MSG_NAME_002,
        title: "File names use only the plain alphabet",
        rule: "Suffixes use only A–Z, a–z and 0–9; face-file names carry the middle part before the timestamp.",
        why: "Clients validate names with strict patterns; a `-`, `_` or a missing middle part makes them ignore the file.",
        fix: "Use letters and digits only.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ids(report: &LintReport) -> Vec<&'static str> {
        report.findings.iter().map(|f| f.check.as_str()).collect()
    }

    const GOOD_REQUEST: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<XmlMsg>
  <MessageHeader>
    <QualificationConfirmationDate>20250101</QualificationConfirmationDate>
    <MedicalInstitutionCode>9900000001</MedicalInstitutionCode>
    <ArbitraryFileIdentifier>TEST-0001</ArbitraryFileIdentifier>
  </MessageHeader>
  <MessageBody>
    <QualificationConfirmSearchInfo>
      <InsurerNumber>  990001</InsurerNumber>
      <InsuredCardSymbol>ﾃｽﾄ</InsuredCardSymbol>
      <InsuredIdentificationNumber>000001</InsuredIdentificationNumber>
      <InsuredBranchNumber>00</InsuredBranchNumber>
      <Birthdate>19700101</Birthdate>
      <LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>
    </QualificationConfirmSearchInfo>
  </MessageBody>
</XmlMsg>
"#;

    fn lint_request(text: &str) -> LintReport {
        lint(MessageKind::QualificationRequest, text.as_bytes(), &Limits::default())
    }

    #[test]
    fn the_reference_sample_request_is_clean() {
        let r = lint_request(GOOD_REQUEST);
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
    }

    #[test]
    fn each_value_rule_fires_on_its_mistake() {
        let cases = [
            ("9900000001</Medical", "990000001</Medical", "MSG-INST-001"),
            ("  990001", "00990001", "MSG-INS-002"),
            ("  990001", "990001", "MSG-INS-001"),
            ("  990001", "990001  ", "MSG-INS-001"),
            ("<Birthdate>19700101", "<Birthdate>19700231", "MSG-DATE-001"),
            ("<Birthdate>19700101", "<Birthdate>1970-01-01", "MSG-DATE-001"),
            ("<InsuredBranchNumber>00", "<InsuredBranchNumber>0", "MSG-BRANCH-001"),
            ("ConsFlg>1<", "ConsFlg>Y<", "MSG-CODE-001"),
            (
                "<InsuredCardSymbol>ﾃｽﾄ",
                "<InsuredCardSymbol>あいうえおかきくけこさしすせそたちつてとな",
                "MSG-LEN-001",
            ),
            (
                "<ArbitraryFileIdentifier>",
                "<Unknown>x</Unknown><ArbitraryFileIdentifier>",
                "MSG-ELEM-001",
            ),
            ("<Birthdate>19700101</Birthdate>", "", "MSG-REQ-001"),
            (
                "<Birthdate>19700101</Birthdate>",
                "<Birthdate></Birthdate>",
                "MSG-REQ-001",
            ),
            (
                "<Birthdate>19700101</Birthdate>",
                "<Birthdate>19700101</Birthdate><Birthdate>19700101</Birthdate>",
                "MSG-ELEM-002",
            ),
            (
                "<MedicalInstitutionCode>",
                "<MedicalInstitutionCode a=\"1\">",
                "MSG-ELEM-003",
            ),
            ("standalone=\"no\"", "", "MSG-DECL-002"),
        ];
        for (from, to, check) in cases {
            assert!(GOOD_REQUEST.contains(from), "{from}");
            let r = lint_request(&GOOD_REQUEST.replacen(from, to, 1));
            assert!(
                check_ids(&r).contains(&check),
                "{from:?} → {to:?} should give {check}, got {:#?}",
                r.findings
            );
        }
    }

    #[test]
    fn missing_container_is_reported_once_not_per_leaf() {
        let text = GOOD_REQUEST
            .split("<QualificationConfirmSearchInfo>")
            .next()
            .unwrap()
            .to_owned()
            + "</MessageBody></XmlMsg>";
        let r = lint_request(&text);
        let req: Vec<_> = r.findings.iter().filter(|f| f.check == "MSG-REQ-001").collect();
        assert_eq!(req.len(), 1, "{req:#?}");
        assert!(req[0].message.contains("QualificationConfirmSearchInfo"));
    }

    #[test]
    fn decode_errors_become_findings_with_their_check() {
        let r = lint_request(&GOOD_REQUEST[..200]);
        assert_eq!(check_ids(&r), ["MSG-XML-001"]);
        assert!(r.findings[0].message.contains("truncated"));
        let r = lint(MessageKind::QualificationRequest, b"", &Limits::default());
        assert_eq!(check_ids(&r), ["MSG-XML-001"]);
    }

    #[test]
    fn result_semantics_are_checked() {
        let result = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<XmlMsg><MessageHeader><ProcessExecutionTime>20250101090000</ProcessExecutionTime>
<QualificationConfirmationDate>20250101</QualificationConfirmationDate><MedicalInstitutionCode>9900000001</MedicalInstitutionCode>
<ReferenceClassification>1</ReferenceClassification><SegmentOfResult>9</SegmentOfResult><CharacterCodeIdentifier>1</CharacterCodeIdentifier>
</MessageHeader><MessageBody/></XmlMsg>"#;
        let r = lint(MessageKind::QualificationResult, result.as_bytes(), &Limits::default());
        let ids = check_ids(&r);
        for id in ["MSG-ENC-004", "MSG-RES-003", "MSG-RES-001"] {
            assert!(ids.contains(&id), "{id} missing from {:#?}", r.findings);
        }
    }

    #[test]
    fn every_reported_check_has_a_catalogue_entry() {
        // the lint reports only declared IDs (the type sees to that); each MSG-* one has
        // exactly one entry here
        let ids: Vec<_> = CHECKS.iter().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate check id");
        for id in crate::ids::ALL.iter().filter(|id| id.as_str().starts_with("MSG-")) {
            assert!(ids.contains(id), "{id} is declared but not in the lint's catalogue");
        }
        assert!(ids.iter().all(|id| id.as_str().starts_with("MSG-")));
    }

    #[test]
    fn file_names_are_linted() {
        let (ok, f) = lint_file_name(OsStr::new("OQSsiquc01req_202501010001.xml"));
        assert!(ok.is_ok() && f.is_empty());
        let (_, f) = lint_file_name(OsStr::new("OQSsiquc01req_2025-01.xml"));
        assert_eq!(f[0].check, "MSG-NAME-002");
        let (bad, f) = lint_file_name(OsStr::new("OQSsiquc01req_../x.xml"));
        assert!(bad.is_err());
        assert_eq!(f[0].check, "MSG-NAME-001");
    }
}
