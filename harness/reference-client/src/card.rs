//! The reference client's PC/SC mode (`verify_card_pin`): the user-authentication flow on the
//! My Number card in the reader, through libpcsclite — find the card by the JPKI AID, read
//! the whole 利用者証明用電子証明書, VERIFY the PIN once, sign the challenge in the same
//! exclusive session. Built with the `pcsc` feature (needs libpcsclite-dev to compile).

use base64::Engine as _;
use onshi_protocol::driver::{PinOutcome, VerifyCardPinParams, VerifyCardPinResult};

use crate::Defect;

/// The contact ATR of one card generation: what a client that matches ATRs looks for.
const KNOWN_ATR: [u8; 19] = [
    0x3B, 0xDA, 0x13, 0xFF, 0x81, 0x31, 0xFB, 0x46, 0x80, 0x12, 0x39, 0x2F, 0x31, 0xC1, 0x73, 0xC6, 0x01, 0xC0, 0x3B,
];

/// How the flow ended early.
enum Stop {
    NoCard(String),
    Error(String),
}

fn result(outcome: PinOutcome, tries_left: Option<u8>, message: &str) -> VerifyCardPinResult {
    VerifyCardPinResult {
        outcome,
        tries_left,
        message: Some(message.into()),
        signature: None,
        certificate: None,
    }
}

/// Runs the flow against the card in `reader`.
pub fn verify_card_pin(reader: &str, p: &VerifyCardPinParams, defects: &[Defect]) -> VerifyCardPinResult {
    let has = |d| defects.contains(&d);
    match flow(reader, p, &has) {
        Ok(r) => r,
        Err(Stop::NoCard(m)) if has(Defect::RemovedAsError) => result(PinOutcome::Error, None, &m),
        Err(Stop::NoCard(m)) => result(PinOutcome::NoCard, None, &m),
        Err(Stop::Error(m)) => result(PinOutcome::Error, None, &m),
    }
}

/// PC/SC errors that mean the card is not (or no longer) there.
fn pcsc_stop(e: pcsc::Error) -> Stop {
    match e {
        pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard | pcsc::Error::NotTransacted | pcsc::Error::ResetCard => {
            Stop::NoCard(format!("カードが読み取れません。カードを置き直してください ({e})"))
        }
        e => Stop::Error(format!("PC/SC error: {e}")),
    }
}

struct Session {
    card: pcsc::Card,
}

impl Session {
    /// Sends one APDU; an answer without a status word means the card went away.
    fn send(&self, apdu: &[u8]) -> Result<(Vec<u8>, u16), Stop> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let r = self.card.transmit(apdu, &mut buf).map_err(pcsc_stop)?;
        if r.len() < 2 {
            return Err(Stop::NoCard(
                "カードが取り外されました。もう一度カードを置いてください".into(),
            ));
        }
        let (data, sw) = r.split_at(r.len() - 2);
        Ok((data.to_vec(), u16::from_be_bytes([sw[0], sw[1]])))
    }

    fn select_ef(&self, fid: u16) -> Result<u16, Stop> {
        let [hi, lo] = fid.to_be_bytes();
        Ok(self.send(&[0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo])?.1)
    }

    fn select_jpki(&self) -> Result<u16, Stop> {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, 0x0A];
        apdu.extend([0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]);
        Ok(self.send(&apdu)?.1)
    }

    /// Reads the DER object in the current EF: 4-byte header, then chunks of at most 255.
    fn read_der(&self, short: bool) -> Result<Vec<u8>, Stop> {
        if short {
            return Ok(self.send(&[0x00, 0xB0, 0x00, 0x00, 0x00])?.0);
        }
        let (head, sw) = self.send(&[0x00, 0xB0, 0x00, 0x00, 0x04])?;
        if sw != 0x9000 || head.len() < 4 || head[0] != 0x30 {
            return Err(Stop::Error(format!(
                "the certificate EF does not start with a DER header ({sw:04X})"
            )));
        }
        let total = match head[1] {
            0x82 => usize::from(u16::from_be_bytes([head[2], head[3]])) + 4,
            0x81 => usize::from(head[2]) + 3,
            n if n < 0x80 => usize::from(n) + 2,
            _ => return Err(Stop::Error("the certificate's DER length is not supported".into())),
        };
        let mut out = Vec::with_capacity(total);
        while out.len() < total {
            let n = (total - out.len()).min(255);
            let [hi, lo] = (out.len() as u16).to_be_bytes();
            let (chunk, sw) = self.send(&[0x00, 0xB0, hi, lo, n as u8])?;
            if sw != 0x9000 || chunk.is_empty() {
                return Err(Stop::Error(format!(
                    "reading the certificate failed at byte {} ({sw:04X})",
                    out.len()
                )));
            }
            out.extend(chunk);
        }
        Ok(out)
    }
}

fn flow(reader: &str, p: &VerifyCardPinParams, has: &dyn Fn(Defect) -> bool) -> Result<VerifyCardPinResult, Stop> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User)
        .map_err(|e| Stop::Error(format!("the PC/SC service (pcscd) is not available: {e}")))?;
    let name = std::ffi::CString::new(reader).map_err(|_| Stop::Error("the reader name has a NUL byte".into()))?;
    let card = ctx
        .connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
        .map_err(pcsc_stop)?;
    let mut s = Session { card };
    if has(Defect::CardByAtr) {
        let atr = s.card.status2_owned().map_err(pcsc_stop)?.atr().to_vec();
        if atr != KNOWN_ATR {
            return Err(Stop::NoCard("マイナンバーカードではありません (unknown ATR)".into()));
        }
    }
    if s.select_jpki()? != 0x9000 {
        return Err(Stop::Error("マイナンバーカードではありません (no JPKI AP)".into()));
    }
    if s.select_ef(0x000A)? != 0x9000 {
        return Err(Stop::Error("the card has no 利用者証明用電子証明書".into()));
    }
    let certificate = s.read_der(has(Defect::ShortCertRead))?;
    s.select_ef(0x0018)?;
    let mut verify = vec![0x00, 0x20, 0x00, 0x80, p.pin.len() as u8];
    verify.extend(p.pin.as_bytes());
    let mut sw = s.send(&verify)?.1;
    if sw & 0xFFF0 == 0x63C0 && sw != 0x63C0 && has(Defect::RetryWrongPin) {
        sw = s.send(&verify)?.1;
    }
    match sw {
        0x9000 => {}
        0x6984 if has(Defect::LockedAsWrongPin) => {
            return Ok(result(
                PinOutcome::WrongPin,
                None,
                "暗証番号が違います。もう一度入力してください",
            ));
        }
        0x6984 | 0x63C0 => {
            return Ok(result(
                PinOutcome::Blocked,
                Some(0),
                "暗証番号がロックされています。市区町村窓口で再設定してください",
            ));
        }
        sw if sw & 0xFFF0 == 0x63C0 => {
            let left = (sw & 0x0F) as u8;
            let tries = (!has(Defect::NoTriesLeft)).then_some(left);
            return Ok(result(
                PinOutcome::WrongPin,
                tries,
                &format!("暗証番号が違います（残り{left}回）"),
            ));
        }
        sw => return Err(Stop::Error(format!("VERIFY answered {sw:04X}"))),
    }
    if has(Defect::ReconnectBeforeSign) {
        s.card
            .reconnect(
                pcsc::ShareMode::Exclusive,
                pcsc::Protocols::ANY,
                pcsc::Disposition::UnpowerCard,
            )
            .map_err(pcsc_stop)?;
        s.select_jpki()?;
    }
    s.select_ef(0x0017)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let challenge = match &p.challenge {
        Some(c) => b64
            .decode(c)
            .map_err(|e| Stop::Error(format!("the challenge is not base64: {e}")))?,
        None => b"onshi reference client".to_vec(),
    };
    let mut di = vec![
        0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    di.extend(sha256(&challenge));
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, di.len() as u8];
    sign.extend(&di);
    sign.push(0x00);
    let (signature, sw) = s.send(&sign)?;
    if sw != 0x9000 {
        return Err(Stop::Error(format!("the card refused to sign ({sw:04X})")));
    }
    let _ = s.card.disconnect(pcsc::Disposition::LeaveCard);
    Ok(VerifyCardPinResult {
        outcome: PinOutcome::Ok,
        tries_left: None,
        message: Some("本人確認できました".into()),
        signature: Some(b64.encode(signature)),
        certificate: Some(b64.encode(certificate)),
    })
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}
