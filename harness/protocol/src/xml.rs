//! XML bytes ⇄ element tree, in UTF-8 or Shift_JIS (CP932).
//!
//! The decoder is the one door every message comes through, so it is strict and bounded:
//! the declared encoding must match the bytes, DTDs and non-predefined entities are refused
//! (no entity expansion), size, depth and element count are capped, and a truncated file is
//! an error naming the element left open. The encoder always writes a declaration that
//! matches its bytes (`standalone="no"`) and refuses characters the target encoding cannot
//! represent instead of replacing them.

use crate::ids;
use std::fmt;

use encoding_rs::SHIFT_JIS;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use thiserror::Error;

/// The two encodings of the folder interface (OQSCD005).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    #[default]
    #[serde(alias = "utf-8", alias = "UTF-8")]
    /// UTF-8.
    Utf8,
    #[serde(alias = "shift-jis", alias = "Shift_JIS", alias = "sjis", alias = "cp932")]
    /// Shift_JIS.
    ShiftJis,
}

impl TextEncoding {
    /// The label written in the XML declaration.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::ShiftJis => "Shift_JIS",
        }
    }

    /// The `CharacterCodeIdentifier` value (OQSCD005) for this encoding.
    pub fn character_code(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "0",
            TextEncoding::ShiftJis => "1",
        }
    }

    /// Maps a declaration label. `Err` carries a reason for labels that are not UTF-8 or
    /// Shift_JIS.
    pub fn from_label(label: &str) -> Result<TextEncoding, String> {
        let l = label.trim().to_ascii_lowercase();
        if l == "cp932" || l == "windows-932" {
            return Ok(TextEncoding::ShiftJis);
        }
        match encoding_rs::Encoding::for_label(l.as_bytes()) {
            Some(e) if e == encoding_rs::UTF_8 => Ok(TextEncoding::Utf8),
            Some(e) if e == SHIFT_JIS => Ok(TextEncoding::ShiftJis),
            Some(e) => Err(format!(
                "encoding {label:?} ({}) is not used by the terminal; use UTF-8 or Shift_JIS",
                e.name()
            )),
            None => Err(format!("{label:?} is not a known encoding name")),
        }
    }

    /// Encodes one string, or names the first character that cannot be represented — that
    /// is, that would not read back as itself.
    pub fn encode_str(self, s: &str) -> Result<Vec<u8>, char> {
        match self {
            TextEncoding::Utf8 => Ok(s.as_bytes().to_vec()),
            TextEncoding::ShiftJis => {
                // The WHATWG encoder writes ¥ as 0x5C, ‾ as 0x7E and − as the bytes of －,
                // which read back as \, ~ and －: a silent change of the value (found by fuzzing).
                let lossy = s
                    .char_indices()
                    .find(|(_, c)| matches!(c, '\u{A5}' | '\u{203E}' | '\u{2212}'));
                let upto = lossy.map_or(s.len(), |(i, _)| i);
                let mut encoder = SHIFT_JIS.new_encoder();
                let cap = encoder
                    .max_buffer_length_from_utf8_without_replacement(upto)
                    .unwrap_or(upto * 2 + 16);
                let mut out = Vec::with_capacity(cap);
                let (result, _read) = encoder.encode_from_utf8_to_vec_without_replacement(&s[..upto], &mut out, true);
                match (result, lossy) {
                    (encoding_rs::EncoderResult::Unmappable(c), _) | (_, Some((_, c))) => Err(c),
                    (encoding_rs::EncoderResult::InputEmpty, None) => Ok(out),
                    (encoding_rs::EncoderResult::OutputFull, None) => unreachable!("buffer sized by encoding_rs"),
                }
            }
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An element. A *leaf* has no children and carries `text` exactly as written (leading
/// spaces of a 6-digit 国保 insurer number are data); a container's whitespace is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The element's name.
    pub name: String,
    /// Its attributes, in order.
    pub attributes: Vec<(String, String)>,
    /// Its text (leaves).
    pub text: String,
    /// Its children, in order.
    pub children: Vec<Element>,
    /// 1-based line in the decoded text; 0 for elements built in memory.
    pub line: u32,
}

impl Element {
    /// An empty element.
    pub fn new(name: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            ..Default::default()
        }
    }

    /// An element holding `text`.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            text: text.into(),
            ..Default::default()
        }
    }

    /// Whether it has no children.
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Its children named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Follows a `/`-separated path of first children.
    pub fn at(&self, path: &str) -> Option<&Element> {
        path.split('/').try_fold(self, |e, name| e.child(name))
    }
}

/// The XML declaration as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// `version`.
    pub version: Option<String>,
    /// `encoding`.
    pub encoding: Option<String>,
    /// `standalone`.
    pub standalone: Option<String>,
}

/// A decoded message file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The XML declaration, if the document has one.
    pub declaration: Option<Declaration>,
    /// A UTF-8 byte-order mark preceded the declaration.
    pub bom: bool,
    /// The encoding the bytes were decoded with.
    pub encoding: TextEncoding,
    /// The bytes are valid UTF-8 with non-ASCII text although the declaration says
    /// Shift_JIS — almost certainly a wrong declaration (lint `MSG-ENC-001`).
    pub utf8_under_sjis_declaration: bool,
    /// The root element.
    pub root: Element,
}

/// Bounds that keep hostile files from exhausting the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest document, in bytes.
    pub max_bytes: usize,
    /// The deepest nesting.
    pub max_depth: usize,
    /// The most elements.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // 4 MiB is what careful clients cap result files at; a bulk result of a few
        // thousand people stays well under it.
        Limits {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 32,
            max_elements: 200_000,
        }
    }
}

/// Why bytes are not a readable message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("the file is empty (0 bytes)")]
    /// No bytes.
    Empty,
    #[error("the file is {size} bytes; the limit is {limit} bytes")]
    /// Larger than the limit.
    TooLarge {
        /// The size, in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    #[error("{reason}")]
    /// An encoding the interface does not use.
    UnsupportedEncoding {
        /// Why.
        reason: String,
    },
    #[error("the declaration says {declared} but byte {offset} (0x{byte:02X}) is not valid {declared}{hint}")]
    /// Bytes that are not of the declared encoding.
    EncodingMismatch {
        /// The declared encoding.
        declared: TextEncoding,
        /// The offset of the first bad byte.
        offset: usize,
        /// The byte.
        byte: u8,
        /// A hint for the fix.
        hint: &'static str,
    },
    #[error("a UTF-8 byte-order mark precedes a declaration that says {declared:?}")]
    /// A byte-order mark that contradicts the declaration.
    BomContradictsDeclaration {
        /// What the declaration says.
        declared: String,
    },
    #[error("line {line}: a DTD (<!DOCTYPE …>) is not allowed: messages have no DTD and entity expansion is refused")]
    /// A DOCTYPE (refused: entities could expand without end).
    Dtd {
        /// The line.
        line: u32,
    },
    #[error(
        "line {line}: entity &{name}; is not defined (only &lt; &gt; &amp; &apos; &quot; and character references are allowed)"
    )]
    /// An entity that is not one of XML's five.
    UndefinedEntity {
        /// The line.
        line: u32,
        /// The name.
        name: String,
    },
    #[error("line {line}: {message}")]
    /// Not well-formed.
    Malformed {
        /// The line.
        line: u32,
        /// What is wrong.
        message: String,
    },
    #[error("the file ends inside <{open}> (line {line}): it is truncated or still being written")]
    /// The document ends inside an element.
    Truncated {
        /// The element left open.
        open: String,
        /// The line.
        line: u32,
    },
    #[error("there is no root element")]
    /// No root element.
    NoRoot,
    #[error("line {line}: text {text:?} appears next to child elements inside <{element}>")]
    /// Text beside child elements.
    MixedContent {
        /// The line.
        line: u32,
        /// The element.
        element: String,
        /// The text.
        text: String,
    },
    #[error("line {line}: elements nest deeper than {limit} levels")]
    /// Nested deeper than the limit.
    TooDeep {
        /// The line.
        line: u32,
        /// The limit.
        limit: usize,
    },
    #[error("more than {limit} elements")]
    /// More elements than the limit.
    TooManyElements {
        /// The limit.
        limit: usize,
    },
}

impl DecodeError {
    /// The lint check this error is reported under.
    pub fn check_id(&self) -> crate::CheckId {
        match self {
            DecodeError::TooLarge { .. } | DecodeError::TooDeep { .. } | DecodeError::TooManyElements { .. } => {
                ids::MSG_XML_003
            }
            DecodeError::UnsupportedEncoding { .. } => ids::MSG_ENC_002,
            DecodeError::EncodingMismatch { .. } | DecodeError::BomContradictsDeclaration { .. } => ids::MSG_ENC_001,
            DecodeError::Dtd { .. } | DecodeError::UndefinedEntity { .. } => ids::MSG_XML_002,
            DecodeError::Empty
            | DecodeError::Malformed { .. }
            | DecodeError::Truncated { .. }
            | DecodeError::NoRoot
            | DecodeError::MixedContent { .. } => ids::MSG_XML_001,
        }
    }

    /// The line of the problem, when known.
    pub fn line(&self) -> Option<u32> {
        match self {
            DecodeError::Dtd { line }
            | DecodeError::UndefinedEntity { line, .. }
            | DecodeError::Malformed { line, .. }
            | DecodeError::Truncated { line, .. }
            | DecodeError::MixedContent { line, .. }
            | DecodeError::TooDeep { line, .. } => Some(*line),
            _ => None,
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the pseudo-attributes of `<?xml … ?>` at the start of `bytes` (ASCII in both
/// encodings). Returns the declaration and its length in bytes.
fn sniff_declaration(bytes: &[u8]) -> Option<(Declaration, usize)> {
    if !bytes.starts_with(b"<?xml") || !bytes.get(5).is_some_and(|b| b.is_ascii_whitespace() || *b == b'?') {
        return None;
    }
    let window = &bytes[..bytes.len().min(512)];
    let end = window.windows(2).position(|w| w == b"?>")?;
    let inner = std::str::from_utf8(&window[5..end]).ok()?;
    let attr = |name: &str| -> Option<String> {
        let mut rest = inner;
        while let Some(pos) = rest.find(name) {
            let before_ok = pos == 0 || rest.as_bytes()[pos - 1].is_ascii_whitespace();
            let after = rest[pos + name.len()..].trim_start();
            if before_ok && let Some(after) = after.strip_prefix('=') {
                let after = after.trim_start();
                let quote = after.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let value = &after[1..];
                    return value.find(quote).map(|e| value[..e].to_owned());
                }
            }
            rest = &rest[pos + name.len()..];
        }
        None
    };
    Some((
        Declaration {
            version: attr("version"),
            encoding: attr("encoding"),
            standalone: attr("standalone"),
        },
        end + 2,
    ))
}

fn first_malformed_sjis(bytes: &[u8]) -> Option<usize> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3);
    let mut pos = 0;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(&bytes[pos..], &mut out, true);
        pos += read;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return None,
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                return Some(pos - after as usize - bad as usize);
            }
            encoding_rs::DecoderResult::OutputFull => out.reserve(bytes.len()),
        }
    }
}

fn decode_text(bytes: &[u8], encoding: TextEncoding) -> Result<String, DecodeError> {
    match encoding {
        TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => {
                let offset = e.valid_up_to();
                let hint = if first_malformed_sjis(bytes).is_none() {
                    " — the bytes look like Shift_JIS: declare encoding=\"Shift_JIS\" or write UTF-8"
                } else {
                    ""
                };
                Err(DecodeError::EncodingMismatch {
                    declared: encoding,
                    offset,
                    byte: bytes[offset],
                    hint,
                })
            }
        },
        TextEncoding::ShiftJis => match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(s) => Ok(s.into_owned()),
            None => {
                let offset = first_malformed_sjis(bytes).unwrap_or(0);
                let hint = if std::str::from_utf8(bytes).is_ok() {
                    " — the bytes look like UTF-8: declare encoding=\"UTF-8\" or write Shift_JIS"
                } else {
                    ""
                };
                Err(DecodeError::EncodingMismatch {
                    declared: encoding,
                    offset,
                    byte: bytes.get(offset).copied().unwrap_or(0),
                    hint,
                })
            }
        },
    }
}

/// Incrementally maps byte offsets of the decoded text to line numbers.
struct LineCounter<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
}

impl LineCounter<'_> {
    fn line_at(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len());
        if offset > self.pos {
            self.line += self.text.as_bytes()[self.pos..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u32;
            self.pos = offset;
        }
        self.line
    }
}

/// Decodes message bytes into a [`Document`].
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Document, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(DecodeError::UnsupportedEncoding {
            reason: "the file starts with a UTF-16 byte-order mark; the terminal uses UTF-8 or Shift_JIS".into(),
        });
    }
    let bom = bytes.starts_with(UTF8_BOM);
    let body = if bom { &bytes[UTF8_BOM.len()..] } else { bytes };
    let declaration = sniff_declaration(body).map(|(d, _)| d);
    let encoding = match declaration.as_ref().and_then(|d| d.encoding.as_deref()) {
        None => TextEncoding::Utf8,
        Some(label) => {
            let enc = TextEncoding::from_label(label).map_err(|reason| DecodeError::UnsupportedEncoding { reason })?;
            if bom && enc != TextEncoding::Utf8 {
                return Err(DecodeError::BomContradictsDeclaration {
                    declared: label.to_owned(),
                });
            }
            enc
        }
    };
    let text = decode_text(body, encoding)?;
    let utf8_under_sjis_declaration =
        encoding == TextEncoding::ShiftJis && !body.is_ascii() && std::str::from_utf8(body).is_ok();
    let root = parse_tree(&text, limits)?;
    Ok(Document {
        declaration,
        bom,
        encoding,
        utf8_under_sjis_declaration,
        root,
    })
}

fn resolve_entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code).filter(|c| is_xml_char(*c))?
        }
    })
}

/// XML 1.0 (5th edition) `NameStartChar`.
fn is_name_start(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 `Name`: what element and attribute names may be.
pub fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start)
        && chars.all(|c| {
            is_name_start(c)
                || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
        })
}

/// Characters XML 1.0 allows in content.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn parse_tree(text: &str, limits: &Limits) -> Result<Element, DecodeError> {
    let mut reader = Reader::from_str(text);
    let mut lines = LineCounter { text, pos: 0, line: 1 };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;

    let open = |stack: &mut Vec<Element>,
                root: &Option<Element>,
                start: &quick_xml::events::BytesStart<'_>,
                line: u32,
                count: &mut usize|
     -> Result<Element, DecodeError> {
        if root.is_some() && stack.is_empty() {
            return Err(DecodeError::Malformed {
                line,
                message: "a second root element follows the first".into(),
            });
        }
        *count += 1;
        if *count > limits.max_elements {
            return Err(DecodeError::TooManyElements {
                limit: limits.max_elements,
            });
        }
        if stack.len() >= limits.max_depth {
            return Err(DecodeError::TooDeep {
                line,
                limit: limits.max_depth,
            });
        }
        let name = start.name().as_ref().to_owned();
        if !is_xml_name(&name) {
            return Err(DecodeError::Malformed {
                line,
                message: format!(
                    "{:?} is not a valid element name",
                    name.chars().take(40).collect::<String>()
                ),
            });
        }
        let mut el = Element::new(name);
        el.line = line;
        for attr in start.attributes() {
            let attr = attr.map_err(|e| DecodeError::Malformed {
                line,
                message: format!("bad attribute in <{}>: {e}", el.name),
            })?;
            let value =
                attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| DecodeError::Malformed {
                        line,
                        message: format!("bad attribute value in <{}>: {e}", el.name),
                    })?;
            let key = attr.key.as_ref().to_owned();
            if !is_xml_name(&key) || value.chars().any(|c| !is_xml_char(c)) {
                return Err(DecodeError::Malformed {
                    line,
                    message: format!(
                        "attribute {:?} of <{}> is not well-formed",
                        key.chars().take(40).collect::<String>(),
                        el.name
                    ),
                });
            }
            el.attributes.push((key, value.into_owned()));
        }
        Ok(el)
    };

    let close = |stack: &mut Vec<Element>, root: &mut Option<Element>, mut el: Element| -> Result<(), DecodeError> {
        if let Some(c) = el.text.chars().find(|c| !is_xml_char(*c)) {
            return Err(DecodeError::Malformed {
                line: el.line,
                message: format!(
                    "<{}> contains U+{:04X}, which XML 1.0 does not allow",
                    el.name, c as u32
                ),
            });
        }
        if !el.children.is_empty() {
            if !el.text.trim().is_empty() {
                return Err(DecodeError::MixedContent {
                    line: el.line,
                    element: el.name.clone(),
                    text: el.text.trim().chars().take(40).collect(),
                });
            }
            el.text.clear();
        }
        match stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None => *root = Some(el),
        }
        Ok(())
    };

    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let line = lines.line_at(reader.error_position() as usize);
                return Err(if ended_inside_markup(&e) {
                    DecodeError::Truncated {
                        open: stack
                            .last()
                            .map_or_else(|| "(the first tag)".to_owned(), |el| el.name.clone()),
                        line: stack.last().map_or(line, |el| el.line),
                    }
                } else {
                    DecodeError::Malformed {
                        line,
                        message: e.to_string(),
                    }
                });
            }
        };
        let line = lines.line_at(before + leading_ws(&text[before..]));
        match event {
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => return Err(DecodeError::Dtd { line }),
            Event::Start(start) => {
                let el = open(&mut stack, &root, &start, line, &mut count)?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = open(&mut stack, &root, &start, line, &mut count)?;
                close(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| DecodeError::Malformed {
                    line,
                    message: "closing tag without an opening tag".into(),
                })?;
                close(&mut stack, &mut root, el)?;
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => {
                        return Err(DecodeError::Malformed {
                            line,
                            message: format!(
                                "text {:?} outside the root element",
                                content.trim().chars().take(40).collect::<String>()
                            ),
                        });
                    }
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some(el) => el.text.push_str(&c.xml10_content()),
                None => {
                    return Err(DecodeError::Malformed {
                        line,
                        message: "CDATA outside the root element".into(),
                    });
                }
            },
            Event::GeneralRef(r) => {
                let c = resolve_entity(&r).ok_or_else(|| DecodeError::UndefinedEntity {
                    line,
                    name: r.to_string(),
                })?;
                match stack.last_mut() {
                    Some(el) => el.text.push(c),
                    None => {
                        return Err(DecodeError::Malformed {
                            line,
                            message: "character reference outside the root element".into(),
                        });
                    }
                }
            }
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(DecodeError::Truncated {
            open: open.name.clone(),
            line: open.line,
        });
    }
    root.ok_or(DecodeError::NoRoot)
}

/// quick-xml reports input that ends inside a tag, comment, reference … as "not closed".
fn ended_inside_markup(e: &quick_xml::Error) -> bool {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match e {
        quick_xml::Error::Syntax(s) => !matches!(s, SyntaxError::InvalidBangMarkup),
        quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => true,
        _ => false,
    }
}

fn leading_ws(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// How to write a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// The text encoding to write.
    pub encoding: TextEncoding,
    /// Pretty-print with two-space indentation (readers must not care).
    pub indent: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            encoding: TextEncoding::Utf8,
            indent: true,
        }
    }
}

/// Why a tree cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error(
        "{path}: {ch:?} (U+{code:04X}) cannot be written in {encoding}; it is not replaced — choose UTF-8 or change the value",
        code = *ch as u32
    )]
    /// A character the encoding cannot hold.
    Unencodable {
        /// The element's path.
        path: String,
        /// The character.
        ch: char,
        /// The encoding.
        encoding: TextEncoding,
    },
    #[error("{path}: U+{code:04X} is not allowed in XML 1.0", code = *ch as u32)]
    /// A character XML cannot hold.
    InvalidCharacter {
        /// The element's path.
        path: String,
        /// The character.
        ch: char,
    },
    #[error("{path}: {name:?} is not a valid XML name")]
    /// A name that is not an XML name.
    InvalidName {
        /// The element's path.
        path: String,
        /// The name.
        name: String,
    },
}

/// Writes `root` with a declaration that matches the bytes.
pub fn encode(root: &Element, options: &WriteOptions) -> Result<Vec<u8>, EncodeError> {
    let mut out = String::with_capacity(1024);
    out.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"{}\" standalone=\"no\"?>\n",
        options.encoding.label()
    ));
    let mut path = Vec::new();
    write_element(root, options, 0, &mut path, &mut out)?;
    // Every leaf was checked; the whole text is therefore encodable.
    options
        .encoding
        .encode_str(&out)
        .map_err(|ch| EncodeError::Unencodable {
            path: root.name.clone(),
            ch,
            encoding: options.encoding,
        })
}

fn write_element<'a>(
    el: &'a Element,
    options: &WriteOptions,
    depth: usize,
    path: &mut Vec<&'a str>,
    out: &mut String,
) -> Result<(), EncodeError> {
    path.push(&el.name);
    if let Some(bad) = std::iter::once(&el.name)
        .chain(el.attributes.iter().map(|(k, _)| k))
        .find(|n| !is_xml_name(n))
    {
        return Err(EncodeError::InvalidName {
            path: path.join("/"),
            name: bad.clone(),
        });
    }
    if options.indent {
        out.extend(std::iter::repeat_n("  ", depth));
    }
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attributes {
        out.push_str(&format!(" {k}=\"{}\"", escape(v, true)));
    }
    out.push('>');
    if el.children.is_empty() {
        if let Some(ch) = el.text.chars().find(|c| !is_xml_char(*c)) {
            return Err(EncodeError::InvalidCharacter {
                path: path.join("/"),
                ch,
            });
        }
        if let Err(ch) = options.encoding.encode_str(&el.text) {
            return Err(EncodeError::Unencodable {
                path: path.join("/"),
                ch,
                encoding: options.encoding,
            });
        }
        out.push_str(&escape(&el.text, false));
    } else {
        if options.indent {
            out.push('\n');
        }
        for child in &el.children {
            write_element(child, options, depth + 1, path, out)?;
        }
        if options.indent {
            out.extend(std::iter::repeat_n("  ", depth));
        }
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
    if options.indent {
        out.push('\n');
    }
    path.pop();
    Ok(())
}

/// Escapes markup characters; `\r` becomes a character reference so that it survives the
/// reader's end-of-line normalisation, and in attributes so do `\n` and `\t`, which
/// attribute-value normalisation would otherwise turn into spaces (found by fuzzing).
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_ok(bytes: &[u8]) -> Document {
        decode(bytes, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn decode_err(bytes: &[u8]) -> DecodeError {
        decode(bytes, &Limits::default()).expect_err("should fail")
    }

    const SAMPLE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<XmlMsg>\n  <MessageHeader>\n    <InsurerNumber>  990001</InsurerNumber>\n  </MessageHeader>\n</XmlMsg>\n";

    #[test]
    fn leaf_text_keeps_leading_spaces_and_containers_drop_whitespace() {
        let doc = decode_ok(SAMPLE.as_bytes());
        assert_eq!(doc.encoding, TextEncoding::Utf8);
        let decl = doc.declaration.unwrap();
        assert_eq!(decl.standalone.as_deref(), Some("no"));
        let ins = doc.root.at("MessageHeader/InsurerNumber").unwrap();
        assert_eq!(ins.text, "  990001");
        assert_eq!(ins.line, 4);
        assert_eq!(doc.root.text, "");
    }

    #[test]
    fn shift_jis_round_trip_and_declaration_matches_bytes() {
        let mut root = Element::new("XmlMsg");
        root.children.push(Element::leaf("Name", "検証　花子 ｹﾝｼｮｳ"));
        let opts = WriteOptions {
            encoding: TextEncoding::ShiftJis,
            indent: true,
        };
        let bytes = encode(&root, &opts).unwrap();
        assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>"));
        assert!(std::str::from_utf8(&bytes).is_err(), "must really be Shift_JIS bytes");
        let doc = decode_ok(&bytes);
        assert_eq!(doc.encoding, TextEncoding::ShiftJis);
        assert_eq!(doc.root.child("Name").unwrap().text, "検証　花子 ｹﾝｼｮｳ");
    }

    #[test]
    fn shift_jis_writes_only_what_reads_back_as_the_same_character() {
        // the WHATWG encoder writes ¥ as 0x5C and ‾ as 0x7E, which read back as \ and ~
        let sjis = TextEncoding::ShiftJis;
        assert_eq!(sjis.encode_str("a¥"), Err('¥'));
        assert_eq!(sjis.encode_str("‾"), Err('‾'));
        assert_eq!(sjis.encode_str("1\u{2212}2"), Err('\u{2212}'));
        // the first character that cannot be written is named, wherever it is
        assert_eq!(sjis.encode_str("𠮷¥"), Err('𠮷'));
        assert_eq!(sjis.encode_str("¥𠮷"), Err('¥'));
        let fine = "\\~－検証ｱ";
        assert_eq!(
            SHIFT_JIS.decode_without_bom_handling(&sjis.encode_str(fine).unwrap()).0,
            fine
        );
        let doc = decode_ok(b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>&#165;</a>");
        let opts = WriteOptions {
            encoding: doc.encoding,
            indent: false,
        };
        assert!(matches!(
            encode(&doc.root, &opts),
            Err(EncodeError::Unencodable { ch: '¥', .. })
        ));
    }

    #[test]
    fn unencodable_character_is_an_error_naming_the_element() {
        let mut root = Element::new("XmlMsg");
        root.children.push(Element::leaf("Name", "𠮷野　検証"));
        let err = encode(
            &root,
            &WriteOptions {
                encoding: TextEncoding::ShiftJis,
                indent: false,
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            EncodeError::Unencodable {
                path: "XmlMsg/Name".into(),
                ch: '𠮷',
                encoding: TextEncoding::ShiftJis
            }
        );
        assert!(err.to_string().contains("U+20BB7"), "{err}");
    }

    #[test]
    fn sjis_bytes_under_utf8_declaration_are_named() {
        let body = SHIFT_JIS.encode("<XmlMsg><Name>検証</Name></XmlMsg>").0;
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>".to_vec();
        bytes.extend_from_slice(&body);
        let err = decode_err(&bytes);
        assert_eq!(err.check_id(), "MSG-ENC-001");
        assert!(err.to_string().contains("look like Shift_JIS"), "{err}");
    }

    #[test]
    fn utf8_under_sjis_declaration_is_flagged() {
        let text = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>検証</a>";
        match decode(text.as_bytes(), &Limits::default()) {
            Ok(doc) => assert!(doc.utf8_under_sjis_declaration),
            Err(e) => assert_eq!(e.check_id(), "MSG-ENC-001"),
        }
    }

    #[test]
    fn newlines_and_tabs_in_attributes_survive_a_write_and_read() {
        // the fuzzer's find: &#10; and &#9; in an attribute came back as spaces
        let input = b"<Bo S=\"xx<&#10;xxxx&#9;xx\"/>";
        let doc = decode(&input[..], &Limits::default()).unwrap();
        let bytes = encode(
            &doc.root,
            &WriteOptions {
                encoding: doc.encoding,
                indent: false,
            },
        )
        .unwrap();
        let again = decode(&bytes, &Limits::default()).unwrap();
        assert_eq!(again.root.attributes, doc.root.attributes);
        assert_eq!(doc.root.attributes[0].1, "xx<\nxxxx\txx");
    }

    #[test]
    fn bad_inputs_get_specific_errors() {
        assert_eq!(decode_err(b""), DecodeError::Empty);
        assert!(matches!(
            decode_err(b"<?xml version=\"1.0\"?><XmlMsg><A>1</A>"),
            DecodeError::Truncated { ref open, .. } if open == "XmlMsg"
        ));
        assert!(matches!(
            decode_err(b"<?xml version=\"1.0\"?><XmlMsg><A>1</A><B>"),
            DecodeError::Truncated { ref open, .. } if open == "B"
        ));
        let dtd = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><x>&b;</x>";
        assert!(matches!(decode_err(dtd), DecodeError::Dtd { .. }));
        assert!(matches!(
            decode_err(b"<x>&ext;</x>"),
            DecodeError::UndefinedEntity { .. }
        ));
        assert!(matches!(
            decode_err(b"<x><y>1</y>junk</x>"),
            DecodeError::MixedContent { .. }
        ));
        assert!(matches!(decode_err(b"<x></y>"), DecodeError::Malformed { .. }));
        assert!(matches!(decode_err(b"<x/><y/>"), DecodeError::Malformed { .. }));
        assert!(matches!(decode_err(b"   "), DecodeError::NoRoot));
        assert!(matches!(
            decode_err(b"<?xml version=\"1.0\" encoding=\"EUC-JP\"?><x/>"),
            DecodeError::UnsupportedEncoding { .. }
        ));
        assert!(matches!(
            decode_err(b"\xFF\xFE<\0x\0/\0>\0"),
            DecodeError::UnsupportedEncoding { .. }
        ));
        let small = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            decode(b"<x>0123456789</x>", &small),
            Err(DecodeError::TooLarge { .. })
        ));
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(matches!(decode_err(deep.as_bytes()), DecodeError::TooDeep { .. }));
    }

    #[test]
    fn bom_is_accepted_and_recorded() {
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(SAMPLE.as_bytes());
        assert!(decode_ok(&bytes).bom);
        let mut bad = UTF8_BOM.to_vec();
        bad.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><x/>");
        assert!(matches!(
            decode_err(&bad),
            DecodeError::BomContradictsDeclaration { .. }
        ));
    }

    #[test]
    fn single_quoted_declaration_and_cp932_label() {
        let doc = decode_ok(b"<?xml version='1.0' encoding='cp932' standalone='no'?><x>a</x>");
        assert_eq!(doc.encoding, TextEncoding::ShiftJis);
        assert_eq!(doc.declaration.unwrap().standalone.as_deref(), Some("no"));
    }

    #[test]
    fn entities_and_carriage_returns_survive_a_round_trip() {
        let mut root = Element::new("x");
        root.children.push(Element::leaf("t", "a<b>&c\r\nd\te \"q\""));
        let bytes = encode(&root, &WriteOptions::default()).unwrap();
        let back = decode_ok(&bytes);
        assert_eq!(back.root.child("t").unwrap().text, "a<b>&c\r\nd\te \"q\"");
    }

    #[test]
    fn names_and_characters_outside_xml_are_refused() {
        assert!(is_xml_name("InsurerNumber") && is_xml_name("検証") && is_xml_name("a-b.c_1"));
        assert!(!is_xml_name("") && !is_xml_name("1a") && !is_xml_name("a/b") && !is_xml_name("a\u{1}"));
        // Found by fuzzing: quick-xml itself accepts this element name.
        let crash = b"<\\\\\\]\\\x01\x00\x00e0?//>\r";
        assert!(matches!(decode_err(crash), DecodeError::Malformed { .. }));
        assert!(matches!(decode_err(b"<a>\x01</a>"), DecodeError::Malformed { .. }));
        assert!(matches!(decode_err(b"<a b\x01='1'/>"), DecodeError::Malformed { .. }));
        let bad = Element::new("a/b");
        assert!(matches!(
            encode(&bad, &WriteOptions::default()),
            Err(EncodeError::InvalidName { .. })
        ));
    }

    #[test]
    fn control_characters_cannot_be_written() {
        let mut root = Element::new("x");
        root.children.push(Element::leaf("t", "a\u{1}b"));
        assert!(matches!(
            encode(&root, &WriteOptions::default()),
            Err(EncodeError::InvalidCharacter { .. })
        ));
    }
}
