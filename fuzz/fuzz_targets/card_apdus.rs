//! The virtual My Number card on arbitrary command sequences: the input is split into frames
//! (a length byte, then that many bytes); every frame gets a response ending in a status word,
//! nothing panics, and a PIN counter only rises on a VERIFY carrying the right PIN.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use onshi_card::Card;
use onshi_card::chip::Chip;

/// The chip is built once (keys parsed, card face signed); each input gets a fresh card on it.
fn chip() -> Arc<Chip> {
    static CHIP: OnceLock<Arc<Chip>> = OnceLock::new();
    CHIP.get_or_init(|| {
        let image = onshi_card::image::resolve("valid-kenpo-insured").expect("a shipped card");
        Arc::new(Chip::build(&image))
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let mut card = Card::from_chip(chip(), 1);
    let mut rest = data;
    while let [len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        let before = card.pins()[onshi_card::chip::PIN_AUTH].tries_left;
        let r = card.transmit(frame);
        assert!(!r.sw.meaning().contains("unknown status word"), "{:02X?} → {}", frame, r.sw);
        let after = card.pins()[onshi_card::chip::PIN_AUTH].tries_left;
        assert!(after <= before || frame.windows(4).any(|w| w == b"1234"), "counter rose on {frame:02X?}");
        rest = next;
    }
});
