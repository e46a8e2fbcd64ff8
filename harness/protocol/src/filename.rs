//! File-name grammar of the terminal's folder interface, for every known prefix.
//!
//! ```text
//! request = SYS MODE FUNC STEP "req_" SUFFIX ".xml"        (".err" for the error sibling)
//! result  = SYS MODE FUNC STEP "res_" SUFFIX EXT           same SUFFIX as the request
//! face    = "OQSsiquc01res_face_" OPAQUE "_" yyyyMMddHHmmss ".xml"
//! ```
//!
//! Parsing is strict about structure and lenient about the suffix alphabet: real clients use
//! `[A-Za-z0-9]`; `-` and `_` are accepted but flagged by [`MessageFileName::suffix_is_plain`].
//! Anything that could leave the folder (separators, `..`, control characters) is an error.

use std::ffi::OsStr;
use std::fmt;

use thiserror::Error;

/// Longest suffix (or face middle part) accepted. Real suffixes are 12–20 characters.
pub const MAX_SUFFIX_LEN: usize = 64;
const FACE_PREFIX: &str = "OQSsiquc01res_face_";

/// The system part of a name (also OQSCD029 for `YZK`/`TKK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum System {
    /// `OQS` — オンライン資格確認.
    Oqs,
    /// `YZK` — 薬剤情報 (drug information).
    Yzk,
    /// `TKK` — 特定健診情報 (specific health check-ups).
    Tkk,
    /// `CIP` — 臨床情報 (clinical information, 電子カルテ情報共有).
    Cip,
}

/// A message family: system, single/multiple and function, e.g. `OQSsiquc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `OQSsiquc` 資格確認 (OQS-IF-001/002).
    OqsSiQuc,
    /// `OQSsiimm` 照会番号登録 (OQS-IF-003/004).
    OqsSiImm,
    /// `OQSmuquc` 資格確認一括照会 (OQS-IF-005…008).
    OqsMuQuc,
    /// `OQSmuimm` 照会番号一括登録 (OQS-IF-009…012).
    OqsMuImm,
    /// `OQSmutic` 医療扶助 bulk.
    OqsMuTic,
    /// `OQSmuhvq` 訪問診療 bulk.
    OqsMuHvq,
    /// `OQSmuonq` オンライン診療 bulk.
    OqsMuOnq,
    /// `YZKsiquc` 薬剤情報.
    YzkSiQuc,
    /// `TKKsiquc` 特定健診情報.
    TkkSiQuc,
    /// `CIPsiquc` 臨床情報.
    CipSiQuc,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 10] = [
        Family::OqsSiQuc,
        Family::OqsSiImm,
        Family::OqsMuQuc,
        Family::OqsMuImm,
        Family::OqsMuTic,
        Family::OqsMuHvq,
        Family::OqsMuOnq,
        Family::YzkSiQuc,
        Family::TkkSiQuc,
        Family::CipSiQuc,
    ];

    /// The file-name prefix (`OQSsiquc`, …).
    pub fn prefix(self) -> &'static str {
        match self {
            Family::OqsSiQuc => "OQSsiquc",
            Family::OqsSiImm => "OQSsiimm",
            Family::OqsMuQuc => "OQSmuquc",
            Family::OqsMuImm => "OQSmuimm",
            Family::OqsMuTic => "OQSmutic",
            Family::OqsMuHvq => "OQSmuhvq",
            Family::OqsMuOnq => "OQSmuonq",
            Family::YzkSiQuc => "YZKsiquc",
            Family::TkkSiQuc => "TKKsiquc",
            Family::CipSiQuc => "CIPsiquc",
        }
    }

    /// The system the family belongs to.
    pub fn system(self) -> System {
        match self {
            Family::YzkSiQuc => System::Yzk,
            Family::TkkSiQuc => System::Tkk,
            Family::CipSiQuc => System::Cip,
            _ => System::Oqs,
        }
    }

    /// Bulk (一括) families have an upload step 01 and a download step 02.
    pub fn is_bulk(self) -> bool {
        matches!(
            self,
            Family::OqsMuQuc | Family::OqsMuImm | Family::OqsMuTic | Family::OqsMuHvq | Family::OqsMuOnq
        )
    }

    /// What the family is, for people at a clinic.
    pub fn title(self) -> &'static str {
        match self {
            Family::OqsSiQuc => "資格確認 (eligibility confirmation)",
            Family::OqsSiImm => "照会番号登録 (reference-number registration)",
            Family::OqsMuQuc => "資格確認一括照会 (bulk eligibility confirmation)",
            Family::OqsMuImm => "照会番号一括登録 (bulk reference-number registration)",
            Family::OqsMuTic => "医療扶助 一括取得 (medical-aid bulk)",
            Family::OqsMuHvq => "訪問診療 一括取得 (home-visit bulk)",
            Family::OqsMuOnq => "オンライン診療 一括取得 (online-consultation bulk)",
            Family::YzkSiQuc => "薬剤情報 (drug information)",
            Family::TkkSiQuc => "特定健診情報 (health check-up information)",
            Family::CipSiQuc => "臨床情報 (clinical information)",
        }
    }

    fn allows_step(self, step: Step) -> bool {
        step == Step::First || self.is_bulk()
    }

    fn result_extensions(self, step: Step) -> &'static [Extension] {
        match (self, step) {
            (Family::YzkSiQuc | Family::TkkSiQuc, _) => &[Extension::Xml, Extension::Pdf],
            (f, Step::Second) if f.is_bulk() => &[Extension::Xml, Extension::Zip],
            _ => &[Extension::Xml],
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

impl std::str::FromStr for Family {
    type Err = String;

    /// A family by its prefix (`OQSsiquc`); anything else names the known prefixes.
    fn from_str(s: &str) -> Result<Family, String> {
        Family::ALL.into_iter().find(|f| f.prefix() == s).ok_or_else(|| {
            let known: Vec<&str> = Family::ALL.iter().map(|f| f.prefix()).collect();
            format!("unknown family {s:?} (known: {})", known.join(", "))
        })
    }
}

/// In settings files a family is its prefix, so a typo is an error, not a filter that never
/// matches.
impl serde::Serialize for Family {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.prefix())
    }
}

impl<'de> serde::Deserialize<'de> for Family {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Family, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `01` (upload / request) or `02` (download, bulk only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// `01`.
    First,
    /// `02`.
    Second,
}

impl Step {
    /// The step's digits.
    pub fn digits(self) -> &'static str {
        match self {
            Step::First => "01",
            Step::Second => "02",
        }
    }
}

/// `req` or `res`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `req`.
    Request,
    /// `res`.
    Result,
}

impl Direction {
    /// The direction's tag.
    pub fn tag(self) -> &'static str {
        match self {
            Direction::Request => "req",
            Direction::Result => "res",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// A file name's extension.
pub enum Extension {
    /// `.xml`.
    Xml,
    /// `.pdf`.
    Pdf,
    /// `.zip`.
    Zip,
    /// The text file the terminal writes next to a request it could not process.
    Err,
}

impl Extension {
    /// The extension, without the dot.
    pub fn as_str(self) -> &'static str {
        match self {
            Extension::Xml => "xml",
            Extension::Pdf => "pdf",
            Extension::Zip => "zip",
            Extension::Err => "err",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "xml" => Extension::Xml,
            "pdf" => Extension::Pdf,
            "zip" => Extension::Zip,
            "err" => Extension::Err,
            _ => return None,
        })
    }
}

/// A request, result or `.err` file name of a message family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageFileName {
    /// The message family.
    pub family: Family,
    /// `01` or `02`.
    pub step: Step,
    /// `req` or `res`.
    pub direction: Direction,
    /// The part after the underscore, chosen by the writer.
    pub suffix: String,
    /// The extension.
    pub extension: Extension,
}

impl MessageFileName {
    /// A request file name.
    pub fn request(family: Family, step: Step, suffix: impl Into<String>) -> Self {
        MessageFileName {
            family,
            step,
            direction: Direction::Request,
            suffix: suffix.into(),
            extension: Extension::Xml,
        }
    }

    /// The result name for this request: `req` → `res`, same suffix.
    pub fn result_name(&self, extension: Extension) -> MessageFileName {
        MessageFileName {
            direction: Direction::Result,
            extension,
            ..self.clone()
        }
    }

    /// The `.err` sibling the terminal writes when it cannot process this request.
    pub fn error_sibling(&self) -> MessageFileName {
        MessageFileName {
            direction: Direction::Request,
            extension: Extension::Err,
            ..self.clone()
        }
    }

    /// True when the suffix uses only `[A-Za-z0-9]`, as every known client does.
    pub fn suffix_is_plain(&self) -> bool {
        self.suffix.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    /// `OQSsiquc01req` — the part before the underscore.
    pub fn stem(&self) -> String {
        format!("{}{}{}", self.family.prefix(), self.step.digits(), self.direction.tag())
    }
}

impl fmt::Display for MessageFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}.{}", self.stem(), self.suffix, self.extension.as_str())
    }
}

/// A face-reader result: `OQSsiquc01res_face_<opaque>_<yyyyMMddHHmmss>.xml`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FaceFileName {
    /// The middle part (the real terminal writes the institution code plus 20 hex digits).
    /// `None` for the short form `OQSsiquc01res_face_<timestamp>.xml` some third-party
    /// producers write, which strict clients reject.
    pub opaque: Option<String>,
    /// `yyyyMMddHHmmss`.
    pub timestamp: String,
}

impl FaceFileName {
    /// The date part `yyyyMMdd` of the timestamp.
    pub fn date(&self) -> &str {
        &self.timestamp[..8]
    }
}

impl fmt::Display for FaceFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.opaque {
            Some(o) => write!(f, "{FACE_PREFIX}{o}_{}.xml", self.timestamp),
            None => write!(f, "{FACE_PREFIX}{}.xml", self.timestamp),
        }
    }
}

/// Any file name of the folder interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FileName {
    /// A message file.
    Message(MessageFileName),
    /// A face-auth result.
    Face(FaceFileName),
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileName::Message(m) => m.fmt(f),
            FileName::Face(x) => x.fmt(f),
        }
    }
}

/// Why a name is not a folder-interface file name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FileNameError {
    #[error("the file name is not valid UTF-8 ({lossy:?}); the terminal only uses ASCII names")]
    /// The name is not UTF-8.
    NotUtf8 {
        /// The name, decoded lossily.
        lossy: String,
    },
    #[error("the file name is empty")]
    /// The name is empty.
    Empty,
    #[error("the file name {name:?} contains a path separator or `..`; it would leave the folder")]
    /// The name leaves the folder (`/`, `..`).
    EscapesFolder {
        /// The name.
        name: String,
    },
    #[error("the file name {name:?} contains the control character U+{code:04X}")]
    /// The name holds a control character.
    ControlCharacter {
        /// The name.
        name: String,
        /// The character's code point.
        code: u32,
    },
    #[error("the file name is {len} characters long; the limit is {max}")]
    /// The name is too long.
    TooLong {
        /// Its length.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    #[error(
        "{name:?} does not start with a known prefix (OQSsiquc, OQSsiimm, OQSmuquc, OQSmuimm, OQSmutic, OQSmuhvq, OQSmuonq, YZKsiquc, TKKsiquc, CIPsiquc)"
    )]
    /// No known family prefix.
    UnknownPrefix {
        /// The name.
        name: String,
    },
    #[error("{name:?}: expected step 01 or 02 after {prefix} (02 only for bulk families)")]
    /// The step is not `01` or `02`.
    BadStep {
        /// The name.
        name: String,
        /// The family prefix.
        prefix: &'static str,
    },
    #[error("{name:?}: expected `req_` or `res_` after the step")]
    /// Neither `req` nor `res`.
    BadDirection {
        /// The name.
        name: String,
    },
    #[error("{name:?}: the suffix after `_` is empty")]
    /// Nothing after the underscore.
    EmptySuffix {
        /// The name.
        name: String,
    },
    #[error("{name:?}: the suffix may only contain A–Z, a–z, 0–9, `-` and `_`; found {found:?}")]
    /// A character the suffix may not hold.
    BadSuffixCharacter {
        /// The name.
        name: String,
        /// What was found.
        found: char,
    },
    #[error("{name:?}: the suffix is {len} characters long; the limit is {MAX_SUFFIX_LEN}")]
    /// The suffix is too long.
    SuffixTooLong {
        /// The name.
        name: String,
        /// Its length.
        len: usize,
    },
    #[error("{name:?}: extension .{found} is not allowed here (allowed: {allowed})")]
    /// An extension the family does not use.
    BadExtension {
        /// The name.
        name: String,
        /// The extension found.
        found: String,
        /// The extensions allowed.
        allowed: String,
    },
    #[error("{name:?}: a face file name ends in `_` + 14 digits yyyyMMddHHmmss + `.xml`")]
    /// A face file name without a valid timestamp.
    BadFaceTimestamp {
        /// The name.
        name: String,
    },
}

impl FileName {
    /// Parses a name from a directory listing (which may not be UTF-8).
    pub fn parse_os(name: &OsStr) -> Result<FileName, FileNameError> {
        match name.to_str() {
            Some(s) => FileName::parse(s),
            None => Err(FileNameError::NotUtf8 {
                lossy: name.to_string_lossy().into_owned(),
            }),
        }
    }

    /// Reads a file name of the folder interface.
    pub fn parse(name: &str) -> Result<FileName, FileNameError> {
        check_safe(name)?;
        if let Some(rest) = name.strip_prefix(FACE_PREFIX) {
            return parse_face(name, rest).map(FileName::Face);
        }
        parse_message(name).map(FileName::Message)
    }
}

fn check_safe(name: &str) -> Result<(), FileNameError> {
    if name.is_empty() {
        return Err(FileNameError::Empty);
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(FileNameError::ControlCharacter {
            name: name.escape_debug().to_string(),
            code: c as u32,
        });
    }
    if name.contains(['/', '\\']) || name == "." || name.contains("..") {
        return Err(FileNameError::EscapesFolder { name: name.into() });
    }
    let len = name.chars().count();
    let max = 4 + 9 + 1 + MAX_SUFFIX_LEN + 1 + 4 + 15;
    if len > max {
        return Err(FileNameError::TooLong { len, max });
    }
    Ok(())
}

fn check_suffix(name: &str, suffix: &str) -> Result<(), FileNameError> {
    if suffix.is_empty() {
        return Err(FileNameError::EmptySuffix { name: name.into() });
    }
    if let Some(found) = suffix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(FileNameError::BadSuffixCharacter {
            name: name.into(),
            found,
        });
    }
    let len = suffix.chars().count();
    if len > MAX_SUFFIX_LEN {
        return Err(FileNameError::SuffixTooLong { name: name.into(), len });
    }
    Ok(())
}

fn parse_message(name: &str) -> Result<MessageFileName, FileNameError> {
    let family = Family::ALL
        .into_iter()
        .find(|f| name.starts_with(f.prefix()))
        .ok_or_else(|| FileNameError::UnknownPrefix { name: name.into() })?;
    let rest = &name[family.prefix().len()..];
    let step = match rest.get(..2) {
        Some("01") => Step::First,
        Some("02") => Step::Second,
        _ => {
            return Err(FileNameError::BadStep {
                name: name.into(),
                prefix: family.prefix(),
            });
        }
    };
    if !family.allows_step(step) {
        return Err(FileNameError::BadStep {
            name: name.into(),
            prefix: family.prefix(),
        });
    }
    let rest = &rest[2..];
    let direction = match rest.get(..4) {
        Some("req_") => Direction::Request,
        Some("res_") => Direction::Result,
        _ => return Err(FileNameError::BadDirection { name: name.into() }),
    };
    let rest = &rest[4..];
    let (suffix, ext) = rest.rsplit_once('.').unwrap_or((rest, ""));
    check_suffix(name, suffix)?;
    let allowed: &[Extension] = match direction {
        Direction::Request => &[Extension::Xml, Extension::Err],
        Direction::Result => family.result_extensions(step),
    };
    let extension =
        Extension::parse(ext)
            .filter(|e| allowed.contains(e))
            .ok_or_else(|| FileNameError::BadExtension {
                name: name.into(),
                found: ext.into(),
                allowed: allowed
                    .iter()
                    .map(|e| format!(".{}", e.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
    Ok(MessageFileName {
        family,
        step,
        direction,
        suffix: suffix.into(),
        extension,
    })
}

fn parse_face(name: &str, rest: &str) -> Result<FaceFileName, FileNameError> {
    let bad_ts = || FileNameError::BadFaceTimestamp { name: name.into() };
    let stem = rest.strip_suffix(".xml").ok_or_else(|| FileNameError::BadExtension {
        name: name.into(),
        found: rest.rsplit_once('.').map(|(_, e)| e).unwrap_or("").into(),
        allowed: ".xml".into(),
    })?;
    let (opaque, timestamp) = match stem.rsplit_once('_') {
        Some((o, t)) => (Some(o), t),
        None => (None, stem),
    };
    if timestamp.len() != 14 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_ts());
    }
    if let Some(o) = opaque {
        check_suffix(name, o)?;
    }
    Ok(FaceFileName {
        opaque: opaque.map(str::to_owned),
        timestamp: timestamp.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn msg(name: &str) -> MessageFileName {
        match FileName::parse(name).unwrap() {
            FileName::Message(m) => m,
            other => panic!("not a message name: {other:?}"),
        }
    }

    #[test]
    fn every_family_request_and_result_parses() {
        for family in Family::ALL {
            let req = format!("{}01req_202501010001.xml", family.prefix());
            let m = msg(&req);
            assert_eq!(m.family, family);
            assert_eq!(m.direction, Direction::Request);
            assert_eq!(m.result_name(Extension::Xml).to_string(), req.replace("req_", "res_"));
            if family.is_bulk() {
                assert_eq!(
                    msg(&format!("{}02res_X1.zip", family.prefix())).extension,
                    Extension::Zip
                );
            } else {
                assert!(FileName::parse(&format!("{}02req_X1.xml", family.prefix())).is_err());
            }
        }
    }

    #[test]
    fn pdf_only_for_drug_and_checkup_results() {
        assert_eq!(msg("YZKsiquc01res_022501010900P001.pdf").extension, Extension::Pdf);
        assert_eq!(msg("TKKsiquc01res_1.pdf").extension, Extension::Pdf);
        let err = FileName::parse("OQSsiquc01res_1.pdf").unwrap_err();
        assert!(matches!(err, FileNameError::BadExtension { .. }), "{err}");
    }

    #[test]
    fn error_sibling_keeps_req() {
        let m = msg("OQSsiquc01req_202501010001.xml");
        assert_eq!(m.error_sibling().to_string(), "OQSsiquc01req_202501010001.err");
        assert_eq!(msg("OQSsiquc01req_202501010001.err").extension, Extension::Err);
    }

    #[test]
    fn face_names_with_and_without_opaque_part() {
        let n = "OQSsiquc01res_face_99000000010123456789abcdef0123_20250101093000.xml";
        let FileName::Face(f) = FileName::parse(n).unwrap() else {
            panic!()
        };
        assert_eq!(f.opaque.as_deref(), Some("99000000010123456789abcdef0123"));
        assert_eq!(f.date(), "20250101");
        assert_eq!(f.to_string(), n);
        let FileName::Face(short) = FileName::parse("OQSsiquc01res_face_20250101093000.xml").unwrap() else {
            panic!()
        };
        assert_eq!(short.opaque, None);
        assert!(matches!(
            FileName::parse("OQSsiquc01res_face_abc_2025.xml"),
            Err(FileNameError::BadFaceTimestamp { .. })
        ));
    }

    #[test]
    fn hostile_names_are_refused_with_specific_errors() {
        type Expect = fn(&FileNameError) -> bool;
        let cases: &[(&str, Expect)] = &[
            ("", |e| matches!(e, FileNameError::Empty)),
            ("OQSsiquc01req_../../etc.xml", |e| {
                matches!(e, FileNameError::EscapesFolder { .. })
            }),
            ("OQSsiquc01req_a/b.xml", |e| {
                matches!(e, FileNameError::EscapesFolder { .. })
            }),
            ("OQSsiquc01req_a\u{7}.xml", |e| {
                matches!(e, FileNameError::ControlCharacter { .. })
            }),
            ("OQSsiquc01req_ab c.xml", |e| {
                matches!(e, FileNameError::BadSuffixCharacter { found: ' ', .. })
            }),
            ("OQSsiquc01req_.xml", |e| matches!(e, FileNameError::EmptySuffix { .. })),
            ("OQSsiquc03req_1.xml", |e| matches!(e, FileNameError::BadStep { .. })),
            ("OQSsiquc01rex_1.xml", |e| {
                matches!(e, FileNameError::BadDirection { .. })
            }),
            ("OQSsiquc01req_1.txt", |e| {
                matches!(e, FileNameError::BadExtension { .. })
            }),
            ("notes.txt", |e| matches!(e, FileNameError::UnknownPrefix { .. })),
        ];
        for (name, ok) in cases {
            let err = FileName::parse(name).expect_err(name);
            assert!(ok(&err), "{name:?} gave {err:?}");
        }
        let long = format!("OQSsiquc01req_{}.xml", "1".repeat(1000));
        assert!(matches!(FileName::parse(&long), Err(FileNameError::TooLong { .. })));
    }

    #[test]
    fn non_utf8_names_are_reported_not_panicked_on() {
        use std::os::unix::ffi::OsStrExt;
        let raw = OsStr::from_bytes(b"OQSsiquc01req_\xff.xml");
        assert!(matches!(FileName::parse_os(raw), Err(FileNameError::NotUtf8 { .. })));
    }

    fn family() -> impl Strategy<Value = Family> {
        proptest::sample::select(Family::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(f in family(), second in any::<bool>(), res in any::<bool>(),
                                         suffix in "[A-Za-z0-9][A-Za-z0-9_-]{0,40}") {
            let step = if second && f.is_bulk() { Step::Second } else { Step::First };
            let req = MessageFileName::request(f, step, suffix);
            let name = if res { req.result_name(Extension::Xml) } else { req };
            let parsed = FileName::parse(&name.to_string()).unwrap();
            prop_assert_eq!(parsed, FileName::Message(name));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = FileName::parse(&s);
        }
    }
}
