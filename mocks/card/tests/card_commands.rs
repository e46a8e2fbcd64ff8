//! The virtual card in process: the user-authentication flow end to end (with the signature
//! checked against the certificate), and every status-word path of card.md §7.

mod common;

use common::*;
use onshi_card::apdu::{hex, unhex};
use onshi_card::chip::{PIN_AUTH, PIN_SIGN};
use onshi_card::{Card, CardOptions, Sw};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};

fn public_key(cert_der: &[u8]) -> RsaPublicKey {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).expect("a DER certificate");
    RsaPublicKey::from_public_key_der(cert.public_key().raw).expect("an RSA key")
}

#[test]
fn user_authentication_flow_signature_verifies_against_the_certificate() {
    let image = image("valid-kenpo-insured");
    let mut card = Card::new(&image);
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0006), 0x9000);
    let token = expect(&mut card, "00 B0 00 00 20", 0x9000);
    assert_eq!(String::from_utf8_lossy(&token).trim_end(), "JPKIAPICCTOKEN2");
    expect(&mut card, &select_ef(0x000A), 0x9000);
    let cert = read_der(&mut card, 255);
    assert_eq!(
        cert,
        onshi_card::image::pem_der(&image.auth.cert_pem, "CERTIFICATE").unwrap()
    );
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, "00 20 00 80", 0x63C3);
    expect(&mut card, &verify("1234"), 0x9000);
    expect(&mut card, &select_ef(0x0017), 0x9000);
    let nonce = b"onshi challenge 0001";
    let di = digest_info(nonce);
    let signature = expect(
        &mut card,
        &format!("80 2A 00 80 {:02X} {} 00", di.len(), hex(&di)),
        0x9000,
    );
    assert_eq!(signature.len(), 256);
    use sha2::Digest as _;
    public_key(&cert)
        .verify(
            Pkcs1v15Sign::new::<sha2::Sha256>(),
            &sha2::Sha256::digest(nonce),
            &signature,
        )
        .expect("the card's signature verifies with the certificate's key");
    // a different chunk size reads the same certificate
    expect(&mut card, &select_ef(0x000A), 0x9000);
    assert_eq!(read_der(&mut card, 100), cert);
}

#[test]
fn short_ef_forms_read_verify_and_sign_like_the_long_ones() {
    let mut card = card("valid-kenpo-insured");
    expect(&mut card, SELECT_JPKI, 0x9000);
    let head = expect(&mut card, "00 B0 8A 00 04", 0x9000); // auth cert by SFI 0A
    assert_eq!(head[0], 0x30);
    expect(&mut card, "00 20 00 98", 0x63C3);
    expect(&mut card, &format!("00 20 00 98 04 {}", hex(b"1234")), 0x9000);
    let di = digest_info(b"x");
    let by_sfi = expect(
        &mut card,
        &format!("80 2A 00 97 {:02X} {} 00", di.len(), hex(&di)),
        0x9000,
    );
    expect(&mut card, &select_ef(0x0017), 0x9000);
    let by_select = expect(
        &mut card,
        &format!("80 2A 00 80 {:02X} {} 00", di.len(), hex(&di)),
        0x9000,
    );
    assert_eq!(by_sfi, by_select, "PKCS#1 v1.5 is deterministic");
}

#[test]
fn wrong_pins_count_down_then_lock_and_success_resets() {
    let mut card = card("valid-kenpo-insured");
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("0000"), 0x63C2);
    expect(&mut card, "00 20 00 80", 0x63C2); // the query does not use a try
    expect(&mut card, &verify("0000"), 0x63C1);
    expect(&mut card, &verify("1234"), 0x9000); // success resets the counter
    expect(&mut card, "00 20 00 80", 0x63C3); // a query after success still answers 63 Cx
    expect(&mut card, &verify("0000"), 0x63C2);
    expect(&mut card, &verify("0000"), 0x63C1);
    expect(&mut card, &verify("0000"), 0x63C0); // the last try
    expect(&mut card, &verify("1234"), 0x6984); // locked, even with the right PIN
    expect(&mut card, "00 20 00 80", 0x63C0);
    card.power_off();
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("1234"), 0x6984); // the counter survives power-off
    assert_eq!(card.pins()[PIN_AUTH].tries_left, 0);
}

#[test]
fn shipped_locked_and_one_try_left_cards() {
    let mut locked = card("locked-auth-pin");
    expect(&mut locked, SELECT_JPKI, 0x9000);
    expect(&mut locked, &select_ef(0x0018), 0x9000);
    expect(&mut locked, "00 20 00 80", 0x63C0);
    expect(&mut locked, &verify("1357"), 0x6984);
    let mut one = card("one-try-left");
    expect(&mut one, SELECT_JPKI, 0x9000);
    expect(&mut one, &select_ef(0x0018), 0x9000);
    expect(&mut one, "00 20 00 80", 0x63C1);
    expect(&mut one, &verify("0000"), 0x63C0);
    expect(&mut one, &verify("9876"), 0x6984);
}

#[test]
fn security_state_lifetime() {
    let mut card = card("valid-kenpo-insured");
    let di = digest_info(b"x");
    let sign = format!("80 2A 00 80 {:02X} {} 00", di.len(), hex(&di));
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0017), 0x9000);
    expect(&mut card, &sign, 0x6982); // no PIN yet
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("1234"), 0x9000);
    // a warm reset keeps the verified state (the default), power-off clears it
    card.reset();
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0017), 0x9000);
    expect(&mut card, &sign, 0x9000);
    card.power_off();
    card.power_on();
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0017), 0x9000);
    expect(&mut card, &sign, 0x6982);
    // the options: reset clears, selecting another AP clears
    let strict = CardOptions {
        keep_verified_on_reset: false,
        clear_verified_on_select: true,
        ..CardOptions::default()
    };
    let mut card = common::card("valid-kenpo-insured").with_options(strict);
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("1234"), 0x9000);
    card.reset();
    assert!(!card.is_verified(PIN_AUTH));
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("1234"), 0x9000);
    expect(&mut card, SELECT_TEXT, 0x9000);
    assert!(!card.is_verified(PIN_AUTH));
    let ok_query = CardOptions {
        query_ok_when_verified: true,
        ..CardOptions::default()
    };
    let mut card = common::card("valid-kenpo-insured").with_options(ok_query);
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("1234"), 0x9000);
    expect(&mut card, "00 20 00 80", 0x9000);
}

#[test]
fn signing_certificate_needs_the_signing_password_and_change_reference_data() {
    let image = image("valid-kenpo-insured");
    let mut card = Card::new(&image);
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x0001), 0x9000);
    expect(&mut card, "00 B0 00 00 04", 0x6982);
    expect(&mut card, &select_ef(0x001B), 0x9000);
    expect(&mut card, "00 20 00 80", 0x63C5);
    expect(&mut card, &verify("TEST2026"), 0x9000);
    expect(&mut card, &select_ef(0x0001), 0x9000);
    let cert = read_der(&mut card, 255);
    assert_eq!(
        cert,
        onshi_card::image::pem_der(&image.sign.as_ref().unwrap().cert_pem, "CERTIFICATE").unwrap()
    );
    // CHANGE REFERENCE DATA: format rules, then the new password works
    expect(&mut card, &select_ef(0x001B), 0x9000);
    expect(&mut card, &format!("00 24 01 80 06 {}", hex(b"abc123")), 0x6A80); // lower case
    expect(&mut card, &format!("00 24 01 80 06 {}", hex(b"ABCDEF")), 0x6A80); // no digit
    expect(&mut card, &format!("00 24 01 80 05 {}", hex(b"ABC12")), 0x6A80); // too short
    expect(&mut card, &format!("00 24 02 80 06 {}", hex(b"ABC123")), 0x6A86);
    expect(&mut card, &format!("00 24 01 80 06 {}", hex(b"ABC123")), 0x9000);
    card.power_off();
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x001B), 0x9000);
    expect(&mut card, &format!("00 24 01 80 06 {}", hex(b"XYZ789")), 0x6982); // not verified
    expect(&mut card, &verify("TEST2026"), 0x63C4);
    expect(&mut card, &verify("ABC123"), 0x9000);
    assert_eq!(card.pins()[PIN_SIGN].tries_left, 5);
    // the 4-digit auth PIN: digits only
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("1234"), 0x9000);
    expect(&mut card, &format!("00 24 01 80 04 {}", hex(b"12a4")), 0x6A80);
    expect(&mut card, &format!("00 24 01 80 04 {}", hex(b"0042")), 0x9000);
}

#[test]
fn input_support_and_surface_aps() {
    let image = image("valid-kenpo-insured");
    let mut card = Card::new(&image);
    expect(&mut card, SELECT_TEXT, 0x9000);
    expect(&mut card, &select_ef(0x0001), 0x9000);
    expect(&mut card, "00 B0 00 00 11", 0x6982);
    expect(&mut card, &select_ef(0x0011), 0x9000);
    expect(&mut card, &verify("1234"), 0x9000);
    expect(&mut card, &select_ef(0x0001), 0x9000);
    let number = expect(&mut card, "00 B0 00 00 11", 0x9000);
    assert_eq!(&number[..3], &[0xFF, 0x10, 0x0C]);
    assert_eq!(&number[3..15], image.my_number.as_bytes());
    assert_eq!(&number[15..], &[0xFF, 0xFF]);
    // basic-4: the offset table points at DF22..DF25
    expect(&mut card, &select_ef(0x0002), 0x9000);
    let basic4 = expect(&mut card, "00 B0 00 00 00", 0x9000);
    assert_eq!(&basic4[..2], &[0xFF, 0x20]);
    let table = basic4.windows(3).position(|w| w == [0xDF, 0x21, 0x08]).unwrap() + 3;
    for (i, tag) in [0x22u8, 0x23, 0x24, 0x25].into_iter().enumerate() {
        let at = usize::from(u16::from_be_bytes([basic4[table + 2 * i], basic4[table + 2 * i + 1]]));
        assert_eq!(&basic4[at..at + 2], &[0xDF, tag]);
    }
    let name_at = usize::from(u16::from_be_bytes([basic4[table], basic4[table + 1]]));
    let name_len = usize::from(basic4[name_at + 2]);
    assert_eq!(
        std::str::from_utf8(&basic4[name_at + 3..name_at + 3 + name_len]).unwrap(),
        image.holder.name
    );
    // 照合番号B opens basic-4 but not the My Number; 照合番号A opens the My Number
    card.power_off();
    expect(&mut card, SELECT_TEXT, 0x9000);
    expect(&mut card, &select_ef(0x0015), 0x9000);
    expect(&mut card, &verify(&image.code_b()), 0x9000);
    expect(&mut card, &select_ef(0x0002), 0x9000);
    expect(&mut card, "00 B0 00 00 04", 0x9000);
    expect(&mut card, &select_ef(0x0001), 0x9000);
    expect(&mut card, "00 B0 00 00 04", 0x6982);
    expect(&mut card, &select_ef(0x0014), 0x9000);
    expect(&mut card, &verify(&image.my_number), 0x9000);
    expect(&mut card, &select_ef(0x0001), 0x9000);
    expect(&mut card, "00 B0 00 00 04", 0x9000);
    // the AP's own key signs without a credential
    let di = digest_info(b"genuine?");
    expect(
        &mut card,
        &format!("80 2A 00 00 {:02X} {} 00", di.len(), hex(&di)),
        0x9000,
    );
    // 券面AP: 照合番号B opens the card face with the JPEG 2000 face photo in DF27
    expect(&mut card, SELECT_SURFACE, 0x9000);
    expect(&mut card, &select_ef(0x0002), 0x9000);
    expect(&mut card, "00 B0 00 00 04", 0x6982);
    expect(&mut card, &select_ef(0x0012), 0x9000);
    expect(&mut card, &verify(&image.code_b()), 0x9000);
    expect(&mut card, &select_ef(0x0002), 0x9000);
    let head = expect(&mut card, "00 B0 00 00 05", 0x9000);
    assert_eq!(&head[..3], &[0xFF, 0x20, 0x82]);
    let total = usize::from(u16::from_be_bytes([head[3], head[4]])) + 5;
    let mut face = Vec::new();
    while face.len() < total {
        let off = face.len();
        face.extend(expect(
            &mut card,
            &format!("00 B0 {:02X} {:02X} 00", off >> 8, off & 0xFF),
            0x9000,
        ));
    }
    let jp2 = image.face_jp2().unwrap();
    assert!(face.windows(jp2.len()).any(|w| w == jp2), "DF27 carries the face photo");
    expect(
        &mut card,
        &format!("00 B0 {:02X} {:02X} 01", total >> 8, total & 0xFF),
        0x6B00,
    );
    // 生年月日 key in era form opens the age record only
    expect(&mut card, &select_ef(0x0011), 0x9000);
    expect(
        &mut card,
        &verify(&onshi_card::image::era_yymmdd(&image.holder.birthdate)),
        0x9000,
    );
    expect(&mut card, &select_ef(0x0001), 0x9000);
    expect(&mut card, "00 B0 00 00 00", 0x9000);
}

#[test]
fn common_ap_serial_record_and_internal_authenticate() {
    let image = image("valid-kenpo-insured");
    let mut card = Card::new(&image);
    expect(&mut card, SELECT_COMMON, 0x9000);
    expect(&mut card, &select_ef(0x0001), 0x9000);
    let record = expect(&mut card, "00 B2 01 04 00", 0x9000);
    assert_eq!(&record[..2], &[0x01, 0x1C]);
    assert_eq!(&record[2..17], image.card_serial.as_bytes());
    assert_eq!(expect(&mut card, "00 B2 01 0C 00", 0x9000), record); // by SFI 1
    expect(&mut card, "00 B2 02 04 00", 0x6A83);
    expect(&mut card, "00 B2 01 05 00", 0x6A86);
    let sig = expect(&mut card, "00 88 00 99 08 01 02 03 04 05 06 07 08 00", 0x9000);
    assert_eq!(sig.len(), 256);
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, "00 88 00 97 08 01 02 03 04 05 06 07 08 00", 0x6982);
}

#[test]
fn every_error_status_word() {
    let mut card = card("valid-kenpo-insured");
    // before any AP: select MF refused, unknown AID, EF without DF
    expect(&mut card, "00 A4 00 00", 0x6A86);
    expect(&mut card, "00 A4 04 0C 03 01 02 03", 0x6A82);
    expect(&mut card, &select_ef(0x000A), 0x6A82);
    expect(&mut card, "00 B0 00 00 04", 0x6986);
    // MF-level GET DATA of the contact ATR
    let atr = expect(&mut card, "00 CA 5F 51 00", 0x9000);
    assert_eq!(atr, card.atr()[1..]);
    expect(&mut card, "00 CA 00 42 00", 0x6A88);
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, "00 A4 00 00", 0x9000); // a no-op with an AP current
    expect(&mut card, &select_ef(0x3F00), 0x6A82);
    expect(&mut card, &select_ef(0x0099), 0x6A82);
    expect(&mut card, "00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01", 0x6A86); // FCI not offered
    expect(&mut card, "00 A4 08 0C 02 00 0A", 0x6A86);
    expect(&mut card, "00 A4 02 0C 01 0A", 0x6700);
    // reading a PIN or key EF, past the end, without Le
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, "00 B0 00 00 01", 0x6981);
    expect(&mut card, &select_ef(0x0008), 0x9000);
    assert_eq!(expect(&mut card, "00 B0 00 00 00", 0x9000), [0x8F, 0x8F, 0x00]);
    expect(&mut card, "00 B0 00 03 01", 0x6B00);
    expect(&mut card, "00 B0 00 00", 0x6700);
    expect(&mut card, "00 B0 00 00 01 00 01", 0x6700); // a data field
    expect(&mut card, "00 B0 A0 00 01", 0x6A86); // SFI form with bits 6-7 set
    expect(&mut card, "00 B0 9F 00 01", 0x6A82); // no EF with that short id
    // VERIFY references
    expect(&mut card, &select_ef(0x000A), 0x9000);
    expect(&mut card, "00 20 00 80", 0x6A88); // the current EF is not a PIN
    expect(&mut card, "00 20 00 00", 0x6A86);
    expect(&mut card, "00 20 01 80", 0x6A86);
    expect(&mut card, "00 20 00 85", 0x6A88);
    // signing: P1 schemes, lengths, references
    expect(&mut card, &select_ef(0x0018), 0x9000);
    expect(&mut card, &verify("1234"), 0x9000);
    expect(&mut card, &select_ef(0x0017), 0x9000);
    expect(&mut card, "80 2A 00 80 00", 0x6700); // case 2: no data
    expect(&mut card, "80 2A 07 80 01 00 00", 0x6A86);
    expect(&mut card, "80 2A 02 80 01 00 00", 0x6700); // P1 02 wants a 32-byte hash
    expect(&mut card, &format!("80 2A 00 80 F6 {} 00", hex(&[0x11; 246])), 0x6700); // > k - 11
    expect(&mut card, &format!("80 2A 02 80 20 {} 00", hex(&[0x11; 32])), 0x9000);
    expect(&mut card, &format!("80 2A 03 80 03 {} 00", hex(b"abc")), 0x9000);
    expect(&mut card, &format!("80 2A 01 80 03 {} 00", hex(b"abc")), 0x9000);
    expect(&mut card, "80 2A 00 80 01 00 80", 0x6700); // Le shorter than the signature
    expect(&mut card, "80 2A 00 00 01 00 00", 0x6A86); // default key only in the 入力補助AP
    expect(&mut card, &select_ef(0x000A), 0x9000);
    expect(&mut card, "80 2A 00 80 01 00 00", 0x6A88); // not a key EF
    // classes, channels, chaining, secure messaging, instructions
    expect(&mut card, "01 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", 0x6881);
    expect(&mut card, "40 B0 00 00 01", 0x6881);
    expect(&mut card, "00 70 00 00 01", 0x6881);
    expect(&mut card, "10 20 00 80 02 31 32", 0x6884);
    expect(&mut card, "0C B0 00 00 01", 0x6882);
    expect(&mut card, "FF B0 00 00 01", 0x6E00);
    expect(&mut card, "80 B0 00 00 01", 0x6E00); // ISO command in the proprietary class
    expect(&mut card, "00 2A 00 80 01 00 00", 0x6E00);
    expect(&mut card, "00 FC 00 00", 0x6D00);
    expect(&mut card, "80 FC 00 00", 0x6D00);
    // lengths
    expect(&mut card, "00", 0x6700);
    expect(&mut card, "00 A4 04 0C 0B D3", 0x6700);
    // GET CHALLENGE
    assert_eq!(expect(&mut card, "00 84 00 00 08", 0x9000).len(), 8);
    expect(&mut card, "00 84 01 00 08", 0x6A86);
    expect(&mut card, "00 84 00 00", 0x6700);
    // SET SESSION KEY outside the 入力補助AP
    expect(&mut card, "80 AE 00 00 01 00", 0x6982);
    expect(&mut card, SELECT_SURFACE, 0x9000);
    expect(&mut card, "80 AE 00 00 01 00", 0x66F1);
}

#[test]
fn extended_length_apdus_are_understood() {
    let mut card = card("valid-kenpo-insured");
    expect(&mut card, SELECT_JPKI, 0x9000);
    expect(&mut card, &select_ef(0x000A), 0x9000);
    let whole = expect(&mut card, "00 B0 00 00 00 00 00", 0x9000); // extended Le 65,536
    assert_eq!(whole, read_der(&mut card, 255));
    expect(&mut card, "00 A4 02 0C 00 00 02 00 18", 0x9000); // extended Lc
    let pin = unhex("00 20 00 80 00 00 04")
        .unwrap()
        .into_iter()
        .chain(*b"1234")
        .collect::<Vec<u8>>();
    assert_eq!(card.transmit(&pin).sw, Sw::OK);
}

#[test]
fn cards_without_pins_or_signing_certificate_and_the_juki_card() {
    let mut face = card("face-auth-only");
    expect(&mut face, SELECT_JPKI, 0x9000);
    expect(&mut face, &select_ef(0x000A), 0x9000);
    expect(&mut face, "00 B0 00 00 04", 0x9000); // the auth certificate reads without a PIN
    expect(&mut face, &select_ef(0x0018), 0x9000);
    expect(&mut face, "00 20 00 80", 0x63C0);
    expect(&mut face, &verify("1234"), 0x6984);
    let mut child = card("child-no-signing");
    expect(&mut child, SELECT_JPKI, 0x9000);
    expect(&mut child, &select_ef(0x0008), 0x9000);
    assert_eq!(expect(&mut child, "00 B0 00 00 03", 0x9000)[0], 0x00);
    expect(&mut child, &select_ef(0x0001), 0x6A82);
    let mut juki = card("juki-card");
    expect(&mut juki, SELECT_JPKI, 0x9000);
    expect(&mut juki, &select_ef(0x0006), 0x9000);
    let token = expect(&mut juki, "00 B0 00 00 20", 0x9000);
    assert_eq!(String::from_utf8_lossy(&token).trim_end(), "JPKIAPICCTOKEN");
    expect(&mut juki, SELECT_TEXT, 0x6A82);
    assert_eq!(juki.atr(), unhex("3B E0 00 FF 81 31 FE 45 14").unwrap());
}
