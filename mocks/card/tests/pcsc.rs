//! The virtual card through real PC/SC: a private pcscd with vsmartcard's vpcd driver, the
//! card inserted over the vpcd link, and the `pcsc` crate (libpcsclite) and `pcsc_scan` as
//! clients. Each test re-runs itself in a child process whose `PCSCLITE_CSOCK_NAME` points at
//! the private pcscd (libpcsclite reads it once per process).
//!
//! Without pcscd/vpcd the tests say so and pass, unless `ONSHI_REQUIRE_SYSTEM_TOOLS=1` (set by
//! `scripts/test`), where a missing PC/SC stack is a failure.

mod common;

use std::ffi::CString;
use std::process::Command;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use onshi_card::apdu::{hex, unhex};
use onshi_card::pcscd::{Pcscd, READER};
use onshi_card::vpcd::{EventSink, LinkEvent, RemoveDuring, SharedCard, Vicc};
use onshi_card::{Card, Sw};
use rsa::pkcs8::DecodePublicKey;

/// Runs `test` inside a private pcscd (see the module docs); returns false when skipped.
fn in_private_pcscd(test: &str) -> Option<String> {
    if let Ok(addr) = std::env::var("ONSHI_TEST_VPCD") {
        return Some(addr);
    }
    if let Some(why) = Pcscd::unavailable() {
        assert!(
            std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(),
            "ONSHI_REQUIRE_SYSTEM_TOOLS is set but {why}"
        );
        eprintln!("skipping {test}: {why}");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let pcscd = Pcscd::start(dir.path()).expect("a private pcscd starts");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("PCSCLITE_CSOCK_NAME", &pcscd.socket)
        .env("ONSHI_TEST_VPCD", pcscd.vpcd_addr())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(&pcscd.log).unwrap_or_default();
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{test} failed inside the private pcscd:\n{text}\n--- pcscd log (last 40 lines) ---\n{}",
        log.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    None
}

fn recorder() -> (EventSink, mpsc::Receiver<LinkEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    (Arc::new(move |e| drop(tx.lock().unwrap().send(e))), rx)
}

fn shared(id: &str) -> SharedCard {
    Arc::new(Mutex::new(card(id)))
}

fn context() -> pcsc::Context {
    pcsc::Context::establish(pcsc::Scope::User).expect("the private pcscd answers")
}

fn reader() -> CString {
    CString::new(READER).unwrap()
}

/// Waits until pcscd reports the reader with (or without) a card.
fn wait_for(ctx: &pcsc::Context, present: bool) {
    let name = reader();
    let mut states = [pcsc::ReaderState::new(name.as_c_str(), pcsc::State::UNAWARE)];
    for _ in 0..50 {
        ctx.get_status_change(Duration::from_millis(200), &mut states).ok();
        let state = states[0].event_state();
        if state.contains(pcsc::State::PRESENT) == present && !state.contains(pcsc::State::UNKNOWN) {
            return;
        }
        states[0].sync_current_state();
    }
    panic!("reader never became {}", if present { "PRESENT" } else { "EMPTY" });
}

fn tx(card: &pcsc::Card, apdu: &str) -> (Vec<u8>, Sw) {
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let r = card.transmit(&unhex(apdu).unwrap(), &mut buf).expect("transmit");
    let (data, sw) = r.split_at(r.len() - 2);
    (data.to_vec(), Sw(u16::from_be_bytes([sw[0], sw[1]])))
}

#[track_caller]
fn ok(card: &pcsc::Card, apdu: &str, want: u16) -> Vec<u8> {
    let (data, sw) = tx(card, apdu);
    assert_eq!(sw, Sw(want), "{apdu} → {} ({})", sw, sw.meaning());
    data
}

#[test]
fn authentication_flow_through_pcscd_and_the_signature_verifies() {
    let Some(addr) = in_private_pcscd("authentication_flow_through_pcscd_and_the_signature_verifies") else {
        return;
    };
    let image = image("valid-kenpo-insured");
    let (sink, events) = recorder();
    let vicc = Vicc::insert(&addr, Arc::new(Mutex::new(Card::new(&image))), sink, None).unwrap();
    let ctx = context();
    let readers = ctx.list_readers_owned().unwrap();
    assert!(readers.iter().any(|r| r.as_bytes() == READER.as_bytes()), "{readers:?}");
    wait_for(&ctx, true);
    let card = ctx
        .connect(&reader(), pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
        .expect("connect");
    let (_, atr) = {
        let status = card.status2_owned().unwrap();
        (status.protocol2(), status.atr().to_vec())
    };
    assert_eq!(atr, image.atr_bytes(), "pcscd reports the card's ATR");
    ok(&card, SELECT_JPKI, 0x9000);
    ok(&card, &select_ef(0x000A), 0x9000);
    // the certificate in chunks: a 4-byte header, then at most 255 bytes per READ BINARY
    let head = ok(&card, "00 B0 00 00 04", 0x9000);
    let total = usize::from(u16::from_be_bytes([head[2], head[3]])) + 4;
    let mut cert = Vec::new();
    while cert.len() < total {
        let n = 255.min(total - cert.len());
        cert.extend(ok(
            &card,
            &format!("00 B0 {:02X} {:02X} {n:02X}", cert.len() >> 8, cert.len() & 0xFF),
            0x9000,
        ));
    }
    ok(&card, &select_ef(0x0018), 0x9000);
    assert_eq!(tx(&card, "00 20 00 80").1, Sw(0x63C3));
    ok(&card, &verify("1234"), 0x9000);
    ok(&card, &select_ef(0x0017), 0x9000);
    let di = digest_info(b"nonce from the terminal");
    let signature = ok(&card, &format!("80 2A 00 80 {:02X} {} 00", di.len(), hex(&di)), 0x9000);
    let (_, x509) = x509_parser::parse_x509_certificate(&cert).unwrap();
    let key = rsa::RsaPublicKey::from_public_key_der(x509.public_key().raw).unwrap();
    use sha2::Digest as _;
    key.verify(
        rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
        &sha2::Sha256::digest(b"nonce from the terminal"),
        &signature,
    )
    .expect("the signature verifies against the certificate read through PC/SC");
    card.disconnect(pcsc::Disposition::LeaveCard)
        .map_err(|(_, e)| e)
        .unwrap();
    vicc.remove();
    let events: Vec<LinkEvent> = events.try_iter().collect();
    assert!(events.contains(&LinkEvent::PowerOn), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, LinkEvent::Apdu { sw, .. } if sw == "9000"))
    );
    assert!(
        matches!(events.last(), Some(LinkEvent::Removed { during_apdu: None })),
        "{events:?}"
    );
}

#[test]
fn status_words_and_lock_out_through_pcscd() {
    let Some(addr) = in_private_pcscd("status_words_and_lock_out_through_pcscd") else {
        return;
    };
    let (sink, _events) = recorder();
    let shared = shared("valid-kenpo-insured");
    let vicc = Vicc::insert(&addr, shared.clone(), sink.clone(), None).unwrap();
    let ctx = context();
    wait_for(&ctx, true);
    let card = ctx
        .connect(&reader(), pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    for (apdu, sw) in [
        ("00 A4 04 0C 03 01 02 03", 0x6A82),
        ("00 A4 00 00", 0x6A86),
        ("00 B0 00 00 04", 0x6986),
        (SELECT_JPKI, 0x9000),
        ("00 B0 00 00", 0x6700),
        ("00 FC 00 00", 0x6D00),
        ("FF B0 00 00 01", 0x6E00),
        ("01 B0 00 00 01", 0x6881),
        ("00 B0 00 00 01", 0x6986),
        (&select_ef(0x0001), 0x9000),
        ("00 B0 00 00 04", 0x6982),
        (&select_ef(0x0017), 0x9000),
        ("80 2A 00 80 01 00 00", 0x6982),
        ("80 2A 09 80 01 00 00", 0x6A86),
        (&select_ef(0x0008), 0x9000),
        ("00 B0 00 10 01", 0x6B00),
        (&select_ef(0x0018), 0x9000),
        (&verify("0000"), 0x63C2),
        (&verify("0000"), 0x63C1),
        ("00 20 00 80", 0x63C1),
        (&verify("0000"), 0x63C0),
        (&verify("1234"), 0x6984),
        ("00 20 00 80", 0x63C0),
    ] {
        ok(&card, apdu, sw);
    }
    // extended length through pcscd: the whole certificate in one READ BINARY
    ok(&card, &select_ef(0x000A), 0x9000);
    let whole = ok(&card, "00 B0 00 00 00 00 00", 0x9000);
    let der = onshi_card::image::pem_der(&image("valid-kenpo-insured").auth.cert_pem, "CERTIFICATE").unwrap();
    assert_eq!(whole, der, "one extended READ BINARY returns the whole certificate");
    // the counter is on the card: remove, re-insert, still locked
    drop(card);
    vicc.remove();
    wait_for(&ctx, false);
    let _vicc = Vicc::insert(&addr, shared, sink, None).unwrap();
    wait_for(&ctx, true);
    let card = ctx
        .connect(&reader(), pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    ok(&card, SELECT_JPKI, 0x9000);
    ok(&card, &select_ef(0x0018), 0x9000);
    ok(&card, "00 20 00 80", 0x63C0);
}

#[test]
fn power_down_after_disconnect_clears_the_pin_and_reconnect_unpower_too() {
    let Some(addr) = in_private_pcscd("power_down_after_disconnect_clears_the_pin_and_reconnect_unpower_too") else {
        return;
    };
    let (sink, events) = recorder();
    let shared = shared("valid-kenpo-insured");
    let _vicc = Vicc::insert(&addr, shared.clone(), sink, None).unwrap();
    let ctx = context();
    wait_for(&ctx, true);
    let mut card = ctx
        .connect(&reader(), pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
        .unwrap();
    ok(&card, SELECT_JPKI, 0x9000);
    ok(&card, &select_ef(0x0018), 0x9000);
    ok(&card, &verify("1234"), 0x9000);
    card.reconnect(
        pcsc::ShareMode::Exclusive,
        pcsc::Protocols::ANY,
        pcsc::Disposition::UnpowerCard,
    )
    .unwrap();
    assert!(
        !shared.lock().unwrap().is_verified(onshi_card::chip::PIN_AUTH),
        "an unpowered reconnect clears it"
    );
    ok(&card, SELECT_JPKI, 0x9000);
    ok(&card, &select_ef(0x0018), 0x9000);
    ok(&card, &verify("1234"), 0x9000);
    card.disconnect(pcsc::Disposition::LeaveCard)
        .map_err(|(_, e)| e)
        .unwrap();
    // pcscd powers an unheld card down by itself about half a second later
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !shared.lock().unwrap().is_verified(onshi_card::chip::PIN_AUTH),
        "pcscd's idle power-down wiped the PIN state"
    );
    let events: Vec<LinkEvent> = events.try_iter().collect();
    assert!(events.contains(&LinkEvent::PowerOff), "{events:?}");
}

#[test]
fn removing_the_card_during_an_apdu_reaches_the_client_as_removed_card() {
    let Some(addr) = in_private_pcscd("removing_the_card_during_an_apdu_reaches_the_client_as_removed_card") else {
        return;
    };
    let (sink, events) = recorder();
    let _vicc = Vicc::insert(
        &addr,
        shared("valid-kenpo-insured"),
        sink,
        Some(RemoveDuring::Ins(0x2A)),
    )
    .unwrap();
    let ctx = context();
    wait_for(&ctx, true);
    let card = ctx
        .connect(&reader(), pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
        .unwrap();
    ok(&card, SELECT_JPKI, 0x9000);
    ok(&card, &select_ef(0x0018), 0x9000);
    ok(&card, &verify("1234"), 0x9000);
    ok(&card, &select_ef(0x0017), 0x9000);
    let mut buf = [0u8; 300];
    let di = digest_info(b"x");
    let sign = unhex(&format!("80 2A 00 80 {:02X} {} 00", di.len(), hex(&di))).unwrap();
    // pcscd hands the client either an error or an answer without a status word, then
    // reports the removal on the next call
    match card.transmit(&sign, &mut buf) {
        Ok(r) => assert!(r.len() < 2, "no status word can come from a removed card: {r:02X?}"),
        Err(e) => eprintln!("transmit during removal: {e:?}"),
    }
    // once pcscd's poll has seen the empty reader, the handle says so
    wait_for(&ctx, false);
    let err = card.transmit(&sign, &mut buf).expect_err("the card is gone");
    assert!(
        matches!(err, pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard),
        "{err:?}"
    );
    let events: Vec<LinkEvent> = events.try_iter().collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, LinkEvent::Removed { during_apdu: Some(c) } if c.starts_with("80 2A"))),
        "{events:?}"
    );
}

#[test]
fn pcsc_scan_sees_the_card() {
    let Some(addr) = in_private_pcscd("pcsc_scan_sees_the_card") else {
        return;
    };
    let (sink, _events) = recorder();
    let _vicc = Vicc::insert(&addr, shared("valid-kenpo-insured"), sink, None).unwrap();
    wait_for(&context(), true);
    let Ok(out) = Command::new("pcsc_scan").args(["-n", "-t", "2"]).output() else {
        assert!(
            std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(),
            "pcsc_scan (pcsc-tools) is not installed"
        );
        eprintln!("pcsc_scan not installed; skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(READER), "{text}");
    assert!(
        text.contains("Card inserted") || text.contains("Card state: Card inserted"),
        "{text}"
    );
    assert!(
        text.contains("3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B"),
        "{text}"
    );
}
