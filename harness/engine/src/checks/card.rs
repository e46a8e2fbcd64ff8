//! Checks of a `verify_card_pin` step: what the client did with the My Number card in the
//! PC/SC reader, judged from the APDUs the card saw (journaled by the vpcd link) and what the
//! client reported. The rules are the ones that protect the patient's card: find the card by
//! the JPKI AID, never retry a wrong PIN on one's own, treat 69 84 as locked, report the
//! card's real counter, read the whole certificate, keep the PIN session until the signature.

use base64::Engine as _;
use onshi_card::vpcd::LinkEvent;
use onshi_protocol::driver::{PinOutcome, VerifyCardPinParams, VerifyCardPinResult};
use onshi_protocol::ids;

use super::verdict::{fail, pass};
use super::{CallAnswer, CheckResult};
use crate::journal::{Entry, Event};
use crate::spec::Expect;

/// What the harness knew about the card when the step ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CardFacts {
    /// A card was in the reader when the call started.
    pub inserted: bool,
    /// The card's 利用者証明用電子証明書 (DER), empty without a card.
    pub certificate: Vec<u8>,
    /// The bytes the client was asked to sign.
    pub challenge: Vec<u8>,
}

/// One APDU as the card answered it.
struct Apdu {
    seq: u64,
    command: Vec<u8>,
    data: Vec<u8>,
    sw: u16,
}

impl Apdu {
    fn is_verify_with_pin(&self) -> bool {
        self.command.get(1) == Some(&0x20) && self.command.len() > 5
    }
    fn is_sign(&self) -> bool {
        self.command.first() == Some(&0x80) && self.command.get(1) == Some(&0x2A)
    }
}

/// The card's side of the step: APDUs, and the power events between them.
enum Seen {
    Apdu(Apdu),
    PowerLoss(u64),
}

fn seen(window: &[Entry]) -> Vec<Seen> {
    let unhex = |s: &str| onshi_card::apdu::unhex(s).unwrap_or_default();
    window
        .iter()
        .filter_map(|e| match &e.event {
            Event::Card {
                link: LinkEvent::Apdu { command, response, .. },
                ..
            } => {
                let mut r = unhex(response);
                let sw = match r.len() {
                    n if n >= 2 => u16::from_be_bytes([r[n - 2], r[n - 1]]),
                    _ => 0,
                };
                r.truncate(r.len().saturating_sub(2));
                Some(Seen::Apdu(Apdu {
                    seq: e.seq,
                    command: unhex(command),
                    data: r,
                    sw,
                }))
            }
            Event::Card {
                link: LinkEvent::PowerOff | LinkEvent::Reset,
                ..
            } => Some(Seen::PowerLoss(e.seq)),
            _ => None,
        })
        .collect()
}

fn apdus(seen: &[Seen]) -> impl Iterator<Item = &Apdu> {
    seen.iter().filter_map(|s| match s {
        Seen::Apdu(a) => Some(a),
        Seen::PowerLoss(_) => None,
    })
}

/// Every check of one `verify_card_pin` step.
pub(crate) fn card_pin_checks(
    expect: &Expect,
    params: &VerifyCardPinParams,
    answer: &CallAnswer<VerifyCardPinResult>,
    facts: &CardFacts,
    window: &[Entry],
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let seen = seen(window);
    let got = match answer {
        CallAnswer::Answered(r) => Some(r),
        CallAnswer::TimedOut { .. } => None,
    };
    outcome(expect, answer, step, out);
    if facts.inserted {
        aid(&seen, got, step, out);
    }
    let verifies: Vec<&Apdu> = apdus(&seen).filter(|a| a.is_verify_with_pin()).collect();
    no_retry(&verifies, step, out);
    if let (Some(r), Some(last)) = (got, verifies.last()) {
        tries(r, last, expect, step, out);
        locked(r, &verifies, step, out);
    }
    let claimed_ok = got.is_some_and(|r| r.outcome == PinOutcome::Ok);
    session(&seen, claimed_ok, step, out);
    if let Some(r) = got.filter(|r| r.outcome == PinOutcome::Ok) {
        certificate(&seen, facts, step, out);
        signature(r, params, facts, step, out);
    }
}

fn outcome(expect: &Expect, answer: &CallAnswer<VerifyCardPinResult>, step: usize, out: &mut Vec<CheckResult>) {
    let Some(want) = expect.pin else { return };
    let id = expect.check.unwrap_or(ids::CARD_OUTCOME);
    match answer {
        CallAnswer::Answered(r) if r.outcome == want => {
            out.push(pass(id, format!("the client reported `{want}`"), step, Vec::new()))
        }
        CallAnswer::Answered(r) => out.push(fail(
            id,
            format!(
                "the client reported `{}` instead of `{want}`{}",
                r.outcome,
                r.message
                    .as_deref()
                    .map(|m| format!(" (its message: {m:?})"))
                    .unwrap_or_default()
            ),
            want.to_string(),
            r.outcome.to_string(),
            step,
            Vec::new(),
        )),
        CallAnswer::TimedOut { after_ms } => out.push(fail(
            id,
            format!("the client did not answer within {after_ms} ms"),
            want.to_string(),
            "no answer".into(),
            step,
            Vec::new(),
        )),
    }
}

fn aid(seen: &[Seen], got: Option<&VerifyCardPinResult>, step: usize, out: &mut Vec<CheckResult>) {
    let mut select = vec![0x00, 0xA4, 0x04, 0x0C, onshi_card::JPKI_AID.len() as u8];
    select.extend(onshi_card::JPKI_AID);
    match apdus(seen).find(|a| a.command.starts_with(&select)) {
        Some(a) => out.push(pass(
            ids::CARD_AID,
            "the client selected the JPKI AP by its AID".into(),
            step,
            vec![a.seq],
        )),
        None => out.push(fail(
            ids::CARD_AID,
            format!(
                "a My Number card was in the reader, but the client never selected the JPKI AP (AID D3 92 F0 00 26 01 00 00 00 01){}; \
                 a client that recognises cards by their ATR misses cards read through another reader",
                got.map(|r| format!(" and reported `{}`", r.outcome)).unwrap_or_default()
            ),
            "SELECT 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01".into(),
            format!("{} APDUs, none selecting the JPKI AP", apdus(seen).count()),
            step,
            Vec::new(),
        )),
    }
}

fn no_retry(verifies: &[&Apdu], step: usize, out: &mut Vec<CheckResult>) {
    match verifies {
        [] => {}
        [one] => out.push(pass(ids::CARD_NO_RETRY, "the PIN was presented once".into(), step, vec![one.seq])),
        many => out.push(fail(
            ids::CARD_NO_RETRY,
            format!(
                "the client presented a PIN {} times in one verification (answers {}); each wrong try uses up one of the \
                 patient's three — only the patient may try again",
                many.len(),
                many.iter().map(|a| format!("{:04X}", a.sw)).collect::<Vec<_>>().join(", ")
            ),
            "one VERIFY per verify_card_pin".into(),
            format!("{} VERIFYs", many.len()),
            step,
            many.iter().map(|a| a.seq).collect(),
        )),
    }
}

fn tries(r: &VerifyCardPinResult, last: &Apdu, expect: &Expect, step: usize, out: &mut Vec<CheckResult>) {
    if r.outcome != PinOutcome::WrongPin && expect.tries_left.is_none() {
        return;
    }
    let card = (last.sw & 0xFFF0 == 0x63C0).then_some((last.sw & 0x0F) as u8);
    let want = expect.tries_left.or(card);
    let Some(want) = want else { return };
    if r.tries_left == Some(want) {
        out.push(pass(
            ids::CARD_TRIES,
            format!("the client reported {want} tries left, as the card said"),
            step,
            vec![last.seq],
        ));
    } else {
        out.push(fail(
            ids::CARD_TRIES,
            format!(
                "the card answered {:04X} ({want} tries left) but the client reported {}; staff must tell the patient how many tries remain",
                last.sw,
                r.tries_left.map(|t| t.to_string()).unwrap_or_else(|| "none".into())
            ),
            want.to_string(),
            r.tries_left.map(|t| t.to_string()).unwrap_or_else(|| "absent".into()),
            step,
            vec![last.seq],
        ));
    }
}

fn locked(r: &VerifyCardPinResult, verifies: &[&Apdu], step: usize, out: &mut Vec<CheckResult>) {
    let Some(lock) = verifies.iter().find(|a| a.sw == 0x6984 || a.sw == 0x63C0) else {
        return;
    };
    if r.outcome == PinOutcome::Blocked {
        out.push(pass(
            ids::CARD_LOCKED,
            format!("the card answered {:04X}; the client reported `blocked`", lock.sw),
            step,
            vec![lock.seq],
        ));
    } else {
        out.push(fail(
            ids::CARD_LOCKED,
            format!(
                "the card answered {:04X} — the PIN is locked (暗証番号ロック) — but the client reported `{}`; the patient must \
                 be sent to the municipal office, not asked to try again",
                lock.sw, r.outcome
            ),
            "blocked".into(),
            r.outcome.to_string(),
            step,
            vec![lock.seq],
        ));
    }
}

/// Byte ranges of JPKI EF 000A the client read (following its SELECTs).
fn certificate_coverage(seen: &[Seen]) -> (Vec<(usize, usize)>, Vec<u64>) {
    let mut in_jpki = false;
    let mut current: Option<u16> = None;
    let mut ranges = Vec::new();
    let mut seqs = Vec::new();
    for a in apdus(seen) {
        let c = &a.command;
        match (c.get(1), c.get(2)) {
            (Some(0xA4), Some(0x04)) if a.sw == 0x9000 => {
                in_jpki = c.get(5..5 + onshi_card::JPKI_AID.len()) == Some(&onshi_card::JPKI_AID[..]);
                current = None;
            }
            (Some(0xA4), Some(0x02)) if a.sw == 0x9000 && c.len() >= 7 => {
                current = Some(u16::from_be_bytes([c[5], c[6]]));
            }
            (Some(0xB0), Some(p1)) if a.sw == 0x9000 && c.len() >= 4 => {
                let (ef, offset) = if p1 & 0x80 != 0 {
                    current = Some(u16::from(p1 & 0x1F));
                    (current, usize::from(c[3]))
                } else {
                    (current, usize::from(u16::from_be_bytes([c[2], c[3]])))
                };
                if in_jpki && ef == Some(0x000A) {
                    ranges.push((offset, offset + a.data.len()));
                    seqs.push(a.seq);
                }
            }
            _ => {}
        }
    }
    (ranges, seqs)
}

fn certificate(seen: &[Seen], facts: &CardFacts, step: usize, out: &mut Vec<CheckResult>) {
    let total = facts.certificate.len();
    if total == 0 {
        return;
    }
    let (mut ranges, seqs) = certificate_coverage(seen);
    ranges.sort_unstable();
    let mut covered = 0;
    for (from, to) in ranges {
        if from <= covered {
            covered = covered.max(to);
        }
    }
    if covered >= total {
        out.push(pass(
            ids::CARD_CERT,
            format!("the client read the whole certificate ({total} bytes)"),
            step,
            seqs,
        ));
    } else {
        out.push(fail(
            ids::CARD_CERT,
            format!(
                "the 利用者証明用電子証明書 is {total} bytes; the client read bytes 0..{covered} and stopped. Read the DER \
                 header, then READ BINARY at increasing offsets until the whole object is in"
            ),
            format!("{total} bytes"),
            format!("{covered} bytes"),
            step,
            seqs,
        ));
    }
}

/// After a successful VERIFY the signature must come in the same power session (judged
/// whatever the client reported: losing the PIN state is the bug either way).
fn session(seen: &[Seen], claimed_ok: bool, step: usize, out: &mut Vec<CheckResult>) {
    let Some(verified) = seen
        .iter()
        .position(|s| matches!(s, Seen::Apdu(a) if a.is_verify_with_pin() && a.sw == 0x9000))
    else {
        return;
    };
    let after = &seen[verified + 1..];
    let sign = after.iter().position(|s| matches!(s, Seen::Apdu(a) if a.is_sign()));
    let lost = after[..sign.unwrap_or(after.len())].iter().find_map(|s| match s {
        Seen::PowerLoss(seq) => Some(*seq),
        Seen::Apdu(_) => None,
    });
    let problem = match (sign.map(|i| &after[i]), lost) {
        (Some(Seen::Apdu(a)), None) if a.sw == 0x9000 => {
            return out.push(pass(
                ids::CARD_SESSION,
                "VERIFY and the signature ran in one card session".into(),
                step,
                vec![a.seq],
            ));
        }
        (_, Some(seq)) => (
            format!(
                "the card was powered off or reset (event #{seq}) between the VERIFY and the signature: the verified PIN was lost"
            ),
            vec![seq],
        ),
        (Some(Seen::Apdu(a)), None) => (
            format!("the signature answered {:04X} after a successful VERIFY", a.sw),
            vec![a.seq],
        ),
        _ if claimed_ok => (
            "the client reported `ok` but never asked the card to sign after the VERIFY".into(),
            Vec::new(),
        ),
        // the client stopped after VERIFY (a card taken away): nothing to judge
        _ => return,
    };
    out.push(fail(
        ids::CARD_SESSION,
        format!(
            "{}; keep one exclusive connection from VERIFY to the signature",
            problem.0
        ),
        "VERIFY then 80 2A in one session".into(),
        "session lost".into(),
        step,
        problem.1,
    ));
}

fn signature(
    r: &VerifyCardPinResult,
    params: &VerifyCardPinParams,
    facts: &CardFacts,
    step: usize,
    out: &mut Vec<CheckResult>,
) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let challenge = params
        .challenge
        .as_deref()
        .and_then(|c| b64.decode(c).ok())
        .unwrap_or_else(|| facts.challenge.clone());
    let verdict = match r.signature.as_deref().map(|s| b64.decode(s)) {
        None => Err("the client reported `ok` without the signature".to_owned()),
        Some(Err(e)) => Err(format!("the signature is not base64: {e}")),
        Some(Ok(sig)) => onshi_card::jpki::verify_signature(&facts.certificate, &challenge, &sig),
    };
    match verdict {
        Ok(()) => out.push(pass(
            ids::CARD_SIGN,
            "the signature verifies with the card's certificate".into(),
            step,
            Vec::new(),
        )),
        Err(why) => out.push(fail(
            ids::CARD_SIGN,
            format!("{why}; sign the SHA-256 DigestInfo of the challenge with the authentication key (80 2A 00 80)"),
            "a signature that verifies".into(),
            why,
            step,
            Vec::new(),
        )),
    }
}
