//! Message kinds and typed read/write: bytes ⇄ [`XmlRecord`] through the XML layer.

use thiserror::Error;

use crate::filename::{Direction, Extension, Family, FileName, Step};
use crate::model::{Child, ModelError, QualificationRequest, QualificationResult, XmlRecord};
use crate::order::{self, ElementOrder};
use crate::xml::{self, DecodeError, Document, EncodeError, Limits, TextEncoding, WriteOptions};

/// The message kinds this version models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// `OQSsiquc01req` — 資格確認要求.
    QualificationRequest,
    /// `OQSsiquc01res` — 資格確認結果.
    QualificationResult,
    /// `OQSsiquc01res_face_*` — face-reader result.
    FaceResult,
}

/// A file name whose family is not modelled yet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{name}: {family} ({title}) messages are not modelled in this version")]
pub struct UnsupportedFamily {
    pub name: String,
    pub family: Family,
    pub title: &'static str,
}

impl MessageKind {
    pub fn title(self) -> &'static str {
        match self {
            MessageKind::QualificationRequest => "OQSsiquc01req 資格確認要求 (eligibility request)",
            MessageKind::QualificationResult => "OQSsiquc01res 資格確認結果 (eligibility result)",
            MessageKind::FaceResult => "OQSsiquc01res_face 顔認証結果 (face-reader result)",
        }
    }

    /// The schema of the root's children.
    pub fn schema(self) -> &'static [Child] {
        match self {
            MessageKind::QualificationRequest => QualificationRequest::CHILDREN,
            MessageKind::QualificationResult | MessageKind::FaceResult => QualificationResult::CHILDREN,
        }
    }

    /// The kind a file name announces. `.err` files and PDFs/zips are not XML messages.
    pub fn for_file_name(name: &FileName) -> Result<Option<MessageKind>, UnsupportedFamily> {
        let m = match name {
            FileName::Face(_) => return Ok(Some(MessageKind::FaceResult)),
            FileName::Message(m) => m,
        };
        if m.extension != Extension::Xml {
            return Ok(None);
        }
        match (m.family, m.step, m.direction) {
            (Family::OqsSiQuc, Step::First, Direction::Request) => Ok(Some(MessageKind::QualificationRequest)),
            (Family::OqsSiQuc, Step::First, Direction::Result) => Ok(Some(MessageKind::QualificationResult)),
            (family, ..) => Err(UnsupportedFamily {
                name: m.to_string(),
                family,
                title: family.title(),
            }),
        }
    }

    /// Guesses the kind from content, for files whose name says nothing.
    pub fn sniff(root: &xml::Element) -> MessageKind {
        let header = root.child("MessageHeader");
        let has = |name| header.and_then(|h| h.child(name)).is_some();
        if !has("ProcessExecutionTime") && !has("SegmentOfResult") {
            return MessageKind::QualificationRequest;
        }
        match header
            .and_then(|h| h.child("ReferenceClassification"))
            .map(|e| e.text.as_str())
        {
            Some("1") => MessageKind::FaceResult,
            _ => MessageKind::QualificationResult,
        }
    }
}

/// Encoding and element order of a written message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XmlOptions {
    pub encoding: TextEncoding,
    pub order: ElementOrder,
}

/// Why bytes could not be read as a typed message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Writes a typed message.
pub fn write_message<T: XmlRecord>(message: &T, options: &XmlOptions) -> Result<Vec<u8>, EncodeError> {
    let mut el = message.to_element();
    order::apply(&mut el, options.order, T::CHILDREN);
    xml::encode(
        &el,
        &WriteOptions {
            encoding: options.encoding,
            indent: true,
        },
    )
}

/// Reads a typed message, tolerant of element order and omitted optional elements.
pub fn read_message<T: XmlRecord>(bytes: &[u8], limits: &Limits) -> Result<(T, Document), ReadError> {
    let doc = xml::decode(bytes, limits)?;
    let message = T::from_root(&doc.root)?;
    Ok((message, doc))
}
