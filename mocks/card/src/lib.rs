//! # onshi-card
//!
//! A virtual My Number card (個人番号カード) that answers APDUs the way the real card does —
//! JPKI AP, 券面事項入力補助AP, 券面事項確認AP, 住基AP and the common card AP's serial
//! record, with PIN counters, lock-out and RSA-2048 signing — built from a card image
//! ([`image`], `fixtures/cards/`). [`vpcd`] plugs it into pcscd through vsmartcard's `vpcd`
//! driver, so any PC/SC program sees it in reader `Virtual PCD 00 00`.
//!
//! Facts and their sources: `reference/card.md`; what the emulator chose where the sources
//! are silent: `docs/cards.md`.

#![warn(missing_docs)]

pub mod apdu;
pub mod card;
pub mod chip;
pub mod generate;
pub mod image;
pub mod imaging;
pub mod jpki;
pub mod pcscd;
pub mod sw;
pub mod vpcd;

pub use card::{Card, CardOptions, Response};
pub use chip::{App, JPKI_AID};
pub use image::{CardImage, ImageError};
pub use sw::Sw;
