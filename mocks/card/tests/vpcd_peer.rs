//! The vpcd link against a fake vpcd on loopback: the framing, control codes and APDUs, and a
//! peer that misbehaves — garbage, a length of 0, an unknown control byte, closing or stalling
//! mid-frame. Each ends in an answer or a clean disconnect with an event; nothing panics.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onshi_card::vpcd::{EventSink, LinkEvent, RemoveDuring, Vicc};

fn fake_vpcd() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    (l, addr)
}

fn insert(addr: &str, during: Option<RemoveDuring>) -> (Vicc, mpsc::Receiver<LinkEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let sink: EventSink = Arc::new(move |e| drop(tx.lock().unwrap().send(e)));
    let card = Arc::new(Mutex::new(common::card("valid-kenpo-insured")));
    (Vicc::insert(addr, card, sink, during).unwrap(), rx)
}

fn send(peer: &mut TcpStream, payload: &[u8]) {
    let mut frame = (payload.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    peer.write_all(&frame).unwrap();
}

fn recv(peer: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    peer.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    peer.read_exact(&mut body).unwrap();
    body
}

fn events_until_end(rx: &mpsc::Receiver<LinkEvent>) -> Vec<LinkEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.recv_timeout(Duration::from_secs(10)) {
        let end = matches!(e, LinkEvent::Removed { .. } | LinkEvent::Disconnected { .. });
        out.push(e);
        if end {
            break;
        }
    }
    out
}

#[test]
fn framing_control_codes_and_apdus() {
    let (l, addr) = fake_vpcd();
    let (vicc, rx) = insert(&addr, None);
    let (mut peer, _) = l.accept().unwrap();
    send(&mut peer, &[0x04]);
    assert_eq!(
        recv(&mut peer),
        onshi_card::apdu::unhex(onshi_card::image::ATR_CONTACT).unwrap()
    );
    send(&mut peer, &[0x01]);
    send(&mut peer, &onshi_card::apdu::unhex(common::SELECT_JPKI).unwrap());
    assert_eq!(recv(&mut peer), [0x90, 0x00]);
    send(&mut peer, &[0x02]);
    send(&mut peer, &[0x00]);
    send(&mut peer, &[0x07]); // not a control code: no answer, an event
    send(&mut peer, &[0x00, 0xFC]); // two bytes: an APDU too short for a header
    assert_eq!(recv(&mut peer), [0x67, 0x00]);
    assert!(vicc.is_inserted());
    vicc.remove();
    let events = events_until_end(&rx);
    let kinds: Vec<String> = events.iter().map(|e| format!("{e:?}")).collect();
    for want in [
        "Inserted",
        "Atr",
        "PowerOn",
        "Reset",
        "PowerOff",
        "UnknownControl { byte: 7 }",
        "Removed { during_apdu: None }",
    ] {
        assert!(kinds.iter().any(|k| k.contains(want)), "{want} missing from {kinds:?}");
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, LinkEvent::Apdu { sw, .. } if sw == "6700"))
    );
}

#[test]
fn misbehaving_peers_end_the_link_cleanly_with_a_reason() {
    type Misbehaviour = fn(&mut TcpStream);
    let cases: [(&str, Misbehaviour, &str); 4] = [
        ("closes at once", |_| {}, "vpcd closed the connection"),
        (
            "closes inside the length",
            |p| p.write_all(&[0x00]).unwrap(),
            "inside a frame length (1 of 2",
        ),
        (
            "closes mid-frame",
            |p| p.write_all(&[0x00, 0x10, 0x00, 0xA4]).unwrap(),
            "mid-frame (2 of 16",
        ),
        ("sends length 0", |p| p.write_all(&[0x00, 0x00]).unwrap(), "length 0"),
    ];
    for (what, act, reason) in cases {
        let (l, addr) = fake_vpcd();
        let (vicc, rx) = insert(&addr, None);
        let (mut peer, _) = l.accept().unwrap();
        act(&mut peer);
        drop(peer);
        let events = events_until_end(&rx);
        match events.last() {
            Some(LinkEvent::Disconnected { reason: got }) => assert!(got.contains(reason), "{what}: {got}"),
            other => panic!("{what}: ended with {other:?}"),
        }
        assert!(!vicc.is_inserted(), "{what}");
    }
}

#[test]
fn garbage_gets_status_words_and_removal_mid_apdu_answers_nothing() {
    let (l, addr) = fake_vpcd();
    let (_vicc, rx) = insert(&addr, Some(RemoveDuring::Apdu(3)));
    let (mut peer, _) = l.accept().unwrap();
    send(&mut peer, &[0xDE, 0xAD, 0xBE, 0xEF, 0x01]);
    assert_eq!(recv(&mut peer).len(), 2);
    send(&mut peer, &vec![0x5A; 4000]);
    assert_eq!(recv(&mut peer), [0x67, 0x00]);
    send(&mut peer, &onshi_card::apdu::unhex(common::SELECT_JPKI).unwrap());
    let mut rest = Vec::new();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        peer.read_to_end(&mut rest).unwrap_or(0),
        0,
        "the third APDU is never answered: the card is gone"
    );
    let events = events_until_end(&rx);
    assert!(
        matches!(events.last(), Some(LinkEvent::Removed { during_apdu: Some(c) }) if c.starts_with("00 A4 04 0C")),
        "{events:?}"
    );
}

#[test]
fn a_peer_that_stalls_mid_frame_is_dropped() {
    let (l, addr) = fake_vpcd();
    let (_vicc, rx) = insert(&addr, None);
    let (mut peer, _) = l.accept().unwrap();
    peer.write_all(&[0x00, 0x08, 0x00]).unwrap(); // 1 of 8 bytes, then silence
    let events = events_until_end(&rx);
    assert!(
        matches!(events.last(), Some(LinkEvent::Disconnected { reason }) if reason.contains("mid-frame (1 of 8")),
        "{events:?}"
    );
}
