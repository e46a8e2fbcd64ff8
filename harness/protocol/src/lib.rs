//! # onshi-protocol
//!
//! The wire model of the online eligibility confirmation system (オンライン資格確認, "オン資")
//! as the harness sees it:
//!
//! * [`codes`] — code tables OQSCD001–044 with Japanese labels;
//! * [`filename`] — the folder interface's file-name grammar for every known prefix;
//! * [`xml`] — bytes ⇄ element tree in UTF-8 and Shift_JIS, strict and bounded;
//! * [`model`] and [`message`] — typed messages, read in any element order, written in spec
//!   or observed order ([`order`]);
//! * [`lint`] — message lint with stable check IDs (`MSG-…`) and their catalogue;
//! * [`dictionary`] — element names, Japanese names and value formats;
//! * [`synthetic`] — the configurable catalogue of synthetic error codes;
//! * [`driver`] — the `onshi-driver/1` protocol types.
//!
//! Facts come from `reference/protocol.md`; the official specification is not public.

#![warn(missing_docs)]

pub mod catalogue;
pub mod codes;
pub mod dictionary;
pub mod driver;
pub mod filename;
pub mod ids;
pub mod lint;
pub mod message;
pub mod model;
pub mod order;
pub mod synthetic;
pub mod xml;

pub use catalogue::{CheckId, CheckInfo, Severity};
pub use message::{MessageKind, ReadError, XmlOptions, read_message, write_message};
pub use order::ElementOrder;
pub use xml::{Limits, TextEncoding};
