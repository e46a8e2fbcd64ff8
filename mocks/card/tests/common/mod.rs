//! Shared by the card tests: loading the shipped card images and talking to a card in hex.
#![allow(dead_code)]

use std::path::PathBuf;

use onshi_card::apdu::{hex, unhex};
use onshi_card::{Card, CardImage, Sw};

pub fn images_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cards/images")
}

pub fn image(id: &str) -> CardImage {
    CardImage::load(&images_dir().join(format!("{id}.toml"))).expect("a shipped card image")
}

pub fn card(id: &str) -> Card {
    Card::new(&image(id))
}

/// Sends a hex APDU, returns (data, SW).
pub fn send(card: &mut Card, apdu: &str) -> (Vec<u8>, Sw) {
    let r = card.transmit(&unhex(apdu).expect("test APDUs are hex"));
    (r.data, r.sw)
}

/// Sends and asserts the SW, returning the data.
#[track_caller]
pub fn expect(card: &mut Card, apdu: &str, sw: u16) -> Vec<u8> {
    let (data, got) = send(card, apdu);
    assert_eq!(
        got,
        Sw(sw),
        "{apdu} answered {got} ({}), expected {sw:04X}",
        got.meaning()
    );
    data
}

pub const SELECT_JPKI: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";
pub const SELECT_TEXT: &str = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08";
pub const SELECT_SURFACE: &str = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 02";
pub const SELECT_COMMON: &str = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 01 00";

pub fn select_ef(fid: u16) -> String {
    format!("00 A4 02 0C 02 {:02X} {:02X}", fid >> 8, fid & 0xFF)
}

pub fn verify(pin: &str) -> String {
    format!("00 20 00 80 {:02X} {}", pin.len(), hex(pin.as_bytes()))
}

/// Reads a whole DER object from the current EF the way reader libraries do: a 4-byte header,
/// then the rest in chunks of at most `chunk` bytes.
pub fn read_der(card: &mut Card, chunk: usize) -> Vec<u8> {
    let head = expect(card, "00 B0 00 00 04", 0x9000);
    assert_eq!(head[0], 0x30, "a DER SEQUENCE");
    let total = match head[1] {
        0x82 => usize::from(u16::from_be_bytes([head[2], head[3]])) + 4,
        0x81 => usize::from(head[2]) + 3,
        n => usize::from(n) + 2,
    };
    let mut out = Vec::new();
    while out.len() < total {
        let n = chunk.min(total - out.len());
        let apdu = format!("00 B0 {:02X} {:02X} {:02X}", out.len() >> 8, out.len() & 0xFF, n & 0xFF);
        out.extend(expect(card, &apdu, 0x9000));
    }
    out
}

/// SHA-256 DigestInfo of `message` (what a client sends to `80 2A 00 80`).
pub fn digest_info(message: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut out = unhex("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20").unwrap();
    out.extend(sha2::Sha256::digest(message));
    out
}
