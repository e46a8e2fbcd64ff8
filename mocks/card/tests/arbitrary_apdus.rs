//! Hostile input to the card: frames of every length from 0 to 65,545 bytes and arbitrary
//! command sequences. The card must always answer with a status word it knows, never panic,
//! and never let a counter go up without the right PIN.

mod common;

use common::*;
use onshi_card::Sw;
use onshi_card::chip::PIN_AUTH;
use proptest::prelude::*;

fn known(sw: Sw) -> bool {
    !sw.meaning().contains("unknown status word")
}

#[test]
fn every_frame_length_up_to_65545_bytes_gets_a_status_word() {
    let mut card = card("valid-kenpo-insured");
    card.transmit(&onshi_card::apdu::unhex(SELECT_JPKI).unwrap());
    // three shapes per length: all zero, a READ BINARY header, a VERIFY header with PIN bytes
    let mut zeros = vec![0u8; 65_545];
    let mut read = vec![0u8; 65_545];
    read[..4].copy_from_slice(&[0x00, 0xB0, 0x00, 0x00]);
    let mut verify = vec![0x31u8; 65_545];
    verify[..4].copy_from_slice(&[0x00, 0x20, 0x00, 0x98]);
    for n in 0..=65_545 {
        for frame in [&zeros[..n], &read[..n], &verify[..n]] {
            let r = card.transmit(frame);
            assert!(known(r.sw), "{n} bytes: {}", r.sw);
            assert!(r.data.len() <= 65_536);
        }
    }
    // only two of the VERIFY frames above fit a case (Lc = 0x31 at 54 and 55 bytes): two
    // tries used. An extended VERIFY with a 65,535-byte PIN is simply the third wrong PIN.
    assert_eq!(card.pins()[PIN_AUTH].tries_left, 1);
    zeros[..7].copy_from_slice(&[0x00, 0x20, 0x00, 0x98, 0x00, 0xFF, 0xFF]);
    let r = card.transmit(&zeros[..7 + 65_535]);
    assert_eq!(r.sw, Sw::tries_left(0));
    read[4..7].copy_from_slice(&[0, 0, 0]);
    assert!(known(card.transmit(&read[..7]).sw));
}

fn frame() -> impl Strategy<Value = Vec<u8>> {
    let header = (
        prop::sample::select(vec![0x00u8, 0x80, 0x01, 0x10, 0x0C, 0x40, 0xFF, 0x84]),
        prop::sample::select(vec![
            0xA4u8, 0xB0, 0xB2, 0x20, 0x24, 0x2A, 0x32, 0x84, 0x88, 0xCA, 0xAE, 0x70, 0x00,
        ]),
        any::<u8>(),
        any::<u8>(),
    );
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        (header.clone(), prop::collection::vec(any::<u8>(), 0..270)).prop_map(|((cla, ins, p1, p2), tail)| [
            vec![cla, ins, p1, p2],
            tail
        ]
        .concat()),
        // well-formed case-3 frames with a plausible body
        (header, prop::collection::vec(any::<u8>(), 1..40))
            .prop_map(|((cla, ins, p1, p2), body)| { [vec![cla, ins, p1, p2, body.len() as u8], body].concat() }),
        Just(onshi_card::apdu::unhex(SELECT_JPKI).unwrap()),
        Just(onshi_card::apdu::unhex(&select_ef(0x0018)).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_command_sequences(frames in prop::collection::vec(frame(), 1..40)) {
        let mut card = card("valid-kenpo-insured");
        let mut left = card.pins()[PIN_AUTH].tries_left;
        for f in &frames {
            let r = card.transmit(f);
            prop_assert!(known(r.sw), "{:02X?} → {}", f, r.sw);
            prop_assert_eq!(r.to_bytes().len(), r.data.len() + 2);
            let now = card.pins()[PIN_AUTH].tries_left;
            // a counter only goes back up on a VERIFY with the right PIN ("1234")
            if now > left {
                prop_assert!(f.windows(4).any(|w| w == b"1234"), "counter rose on {:02X?}", f);
            }
            left = now;
        }
    }
}
