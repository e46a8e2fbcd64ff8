//! The face-auth card reader (顔認証付きカードリーダー) as a model: what it does with the
//! patient's My Number card at APDU level, and what the patient does in front of it.
//!
//! The reader reads the 利用者証明用電子証明書 (no PIN needed) and checks the token and the
//! certificate's validity; then the patient authenticates by face (the photo comes from the
//! 券面AP after 照合番号B, which the reader takes from the card's surface), by the 4-digit PIN
//! (the card's real counter: three wrong entries lock it), or staff check the face visually
//! (目視). Each failure is one a real reader shows on its screen; [`ReaderFailure`] carries
//! the screen message and the synthetic error key the terminal writes into the face file.

use chrono::NaiveDate;
use onshi_card::apdu::hex;
use onshi_card::image::{CardImage, CertStatus};
use onshi_card::{Card, Sw};
use onshi_protocol::synthetic::ErrorKey;
use serde::{Deserialize, Serialize};

/// How the patient authenticates at the reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthMethod {
    /// Face authentication.
    Face {
        /// Each attempt's result (true = the face matched).
        attempts: Vec<bool>,
    },
    /// The PIN path.
    Pin {
        /// The PINs the patient types, in order, until one is accepted.
        entries: Vec<String>,
    },
    /// 目視確認: staff compare the patient with the card.
    Visual,
}

impl Default for AuthMethod {
    fn default() -> Self {
        AuthMethod::Face { attempts: vec![true] }
    }
}

/// Where in the flow the patient takes the card away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// While the reader reads the certificate.
    ReadCertificate,
    /// During face matching or PIN entry.
    Authenticate,
    /// On the consent screens.
    Consent,
}

/// Reader behaviour a clinic can configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReaderSettings {
    /// Face-match attempts before the reader gives up on the face.
    pub face_attempts: usize,
    /// After failed face matching, staff may check visually (目視) instead of refusing.
    pub visual_fallback: bool,
}

impl Default for ReaderSettings {
    fn default() -> Self {
        ReaderSettings {
            face_attempts: 3,
            visual_fallback: true,
        }
    }
}

/// What the reader did, step by step (journaled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ReaderStep {
    /// The reader read the card's 利用者証明用電子証明書.
    CardRead {
        /// The card's token label (`JPKIAPICCTOKEN2` on a My Number card).
        token_label: String,
        /// The certificate's serial number.
        certificate_serial: String,
        /// The certificate's last valid day.
        not_after: String,
    },
    /// The patient entered a PIN.
    PinEntered {
        /// Which try.
        attempt: usize,
        /// The card's status word.
        sw: String,
        /// The tries left the card reported.
        tries_left: Option<u8>,
    },
    /// The card signed the reader's challenge.
    ChallengeSigned {
        /// The signature's length.
        signature_bytes: usize,
    },
    /// The reader read the card's face photo.
    FaceRead {
        /// The photo's length.
        photo_bytes: usize,
    },
    /// The camera compared the patient with the photo.
    FaceMatched {
        /// Which try.
        attempt: usize,
        /// Whether the face matched.
        matched: bool,
    },
    /// Staff compared the patient with the card (目視確認).
    VisualCheck {
        /// Face attempts before.
        after_face_attempts: usize,
    },
    /// The patient answered the consent screens.
    ConsentScreens,
    /// The patient took the card away.
    CardRemoved {
        /// At which stage.
        stage: Stage,
    },
}

/// Why the reader did not confirm the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "failure", rename_all = "snake_case")]
pub enum ReaderFailure {
    /// The card does not answer as a JPKI card (SELECT refused).
    CardUnreadable {
        /// The card's status word.
        sw: String,
    },
    /// Not a My Number card (e.g. a 住基カード: token JPKIAPICCTOKEN).
    NotMyNumberCard {
        /// The card's token label.
        token_label: String,
    },
    /// The 利用者証明用電子証明書 has expired.
    CertificateExpired {
        /// Its last valid day.
        not_after: String,
    },
    /// The certificate is revoked.
    CertificateRevoked,
    /// The PIN is locked (69 84, or 63 C0 on the last try).
    PinLocked,
    /// 顔認証マイナンバーカード: no PIN set; face or visual only.
    PinNotSet,
    /// The patient stopped entering PINs with tries left.
    WrongPin {
        /// The tries the card still had.
        tries_left: u8,
    },
    /// The face did not match, in every attempt.
    FaceNotMatched {
        /// How many attempts.
        attempts: usize,
    },
    /// The patient took the card away before the end.
    CardRemoved {
        /// At which stage.
        stage: Stage,
    },
}

impl ReaderFailure {
    /// The synthetic error the terminal reports in the face file.
    pub fn error_key(&self) -> ErrorKey {
        match self {
            ReaderFailure::CardUnreadable { .. } => ErrorKey::ReaderCardUnreadable,
            ReaderFailure::NotMyNumberCard { .. } => ErrorKey::ReaderNotMyNumberCard,
            ReaderFailure::CertificateExpired { .. } | ReaderFailure::CertificateRevoked => {
                ErrorKey::ReaderCertificateInvalid
            }
            ReaderFailure::PinLocked => ErrorKey::ReaderPinLocked,
            ReaderFailure::PinNotSet => ErrorKey::ReaderPinNotSet,
            ReaderFailure::WrongPin { .. } => ErrorKey::ReaderPinFailed,
            ReaderFailure::FaceNotMatched { .. } => ErrorKey::ReaderFaceNotMatched,
            ReaderFailure::CardRemoved { .. } => ErrorKey::ReaderCardRemoved,
        }
    }

    /// The `{detail}` of the catalogue message.
    pub fn detail(&self) -> String {
        match self {
            ReaderFailure::CardUnreadable { sw } => format!("SELECT JPKI AP → {sw}"),
            ReaderFailure::NotMyNumberCard { token_label } => format!("トークン {token_label}"),
            ReaderFailure::CertificateExpired { not_after } => format!("有効期限切れ {not_after}"),
            ReaderFailure::CertificateRevoked => "失効".into(),
            ReaderFailure::WrongPin { tries_left } => format!("残り{tries_left}回"),
            ReaderFailure::FaceNotMatched { attempts } => format!("{attempts}回"),
            ReaderFailure::CardRemoved { stage } => match stage {
                Stage::ReadCertificate => "証明書読取中".into(),
                Stage::Authenticate => "本人確認中".into(),
                Stage::Consent => "同意画面".into(),
            },
            ReaderFailure::PinLocked | ReaderFailure::PinNotSet => String::new(),
        }
    }
}

/// A patient's visit at the reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visit {
    /// How the patient authenticates.
    pub method: AuthMethod,
    /// The stage at which the patient takes the card away, if they do.
    pub remove_at: Option<Stage>,
}

/// Runs the reader's flow against the card. The challenge is what the PIN path signs.
pub fn authenticate(
    card: &mut Card,
    image: &CardImage,
    visit: &Visit,
    settings: &ReaderSettings,
    today: NaiveDate,
) -> (Vec<ReaderStep>, Result<(), ReaderFailure>) {
    let mut steps = Vec::new();
    let result = flow(card, image, visit, settings, today, &mut steps);
    // the card leaves the reader (or is power-cycled by it) at the end of every visit
    card.power_off();
    (steps, result)
}

fn flow(
    card: &mut Card,
    image: &CardImage,
    visit: &Visit,
    settings: &ReaderSettings,
    today: NaiveDate,
    steps: &mut Vec<ReaderStep>,
) -> Result<(), ReaderFailure> {
    let removed = |stage: Stage, steps: &mut Vec<ReaderStep>| {
        if visit.remove_at == Some(stage) {
            steps.push(ReaderStep::CardRemoved { stage });
            return Err(ReaderFailure::CardRemoved { stage });
        }
        Ok(())
    };
    removed(Stage::ReadCertificate, steps)?;
    card.power_on();
    let sw = send(card, &select_aid(&onshi_card::JPKI_AID)).1;
    if sw != Sw::OK {
        return Err(ReaderFailure::CardUnreadable { sw: sw.to_string() });
    }
    send(card, &select_ef(0x0006));
    let token = send(card, &[0x00, 0xB0, 0x00, 0x00, 0x20]).0;
    let token_label = String::from_utf8_lossy(&token).trim_end().to_string();
    send(card, &select_ef(0x000A));
    let certificate = read_der(card);
    let (serial, not_after) = certificate_facts(&certificate);
    steps.push(ReaderStep::CardRead {
        token_label: token_label.clone(),
        certificate_serial: serial,
        not_after: not_after.clone(),
    });
    if token_label != "JPKIAPICCTOKEN2" {
        return Err(ReaderFailure::NotMyNumberCard { token_label });
    }
    if NaiveDate::parse_from_str(&not_after, "%Y%m%d").is_ok_and(|d| d < today) {
        return Err(ReaderFailure::CertificateExpired { not_after });
    }
    // revocation is the issuer's knowledge (J-LIS), answered online; the image records it
    if image.auth.status == CertStatus::Revoked {
        return Err(ReaderFailure::CertificateRevoked);
    }
    removed(Stage::Authenticate, steps)?;
    match &visit.method {
        AuthMethod::Visual => steps.push(ReaderStep::VisualCheck { after_face_attempts: 0 }),
        AuthMethod::Pin { entries } => pin_path(card, entries, image, steps)?,
        AuthMethod::Face { attempts } => {
            // 照合番号B from the card's surface (the reader images the front), then the photo
            send(card, &select_aid(onshi_card::App::Surface.aid()));
            send(card, &select_ef(0x0012));
            let code_b = image.code_b();
            let mut verify = vec![0x00, 0x20, 0x00, 0x80, code_b.len() as u8];
            verify.extend(code_b.as_bytes());
            send(card, &verify);
            send(card, &select_ef(0x0002));
            let face = read_all(card);
            steps.push(ReaderStep::FaceRead {
                photo_bytes: face.len(),
            });
            let tried: Vec<bool> = attempts.iter().copied().take(settings.face_attempts.max(1)).collect();
            let mut matched = false;
            for (i, m) in tried.iter().enumerate() {
                steps.push(ReaderStep::FaceMatched {
                    attempt: i + 1,
                    matched: *m,
                });
                if *m {
                    matched = true;
                    break;
                }
            }
            if !matched {
                if !settings.visual_fallback {
                    return Err(ReaderFailure::FaceNotMatched { attempts: tried.len() });
                }
                steps.push(ReaderStep::VisualCheck {
                    after_face_attempts: tried.len(),
                });
            }
        }
    }
    removed(Stage::Consent, steps)?;
    steps.push(ReaderStep::ConsentScreens);
    Ok(())
}

fn pin_path(
    card: &mut Card,
    entries: &[String],
    image: &CardImage,
    steps: &mut Vec<ReaderStep>,
) -> Result<(), ReaderFailure> {
    let mut tries_left = None;
    for (i, pin) in entries.iter().enumerate() {
        send(card, &select_ef(0x0018));
        let mut verify = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
        verify.extend(pin.as_bytes());
        let sw = send(card, &verify).1;
        steps.push(ReaderStep::PinEntered {
            attempt: i + 1,
            sw: sw.to_string(),
            tries_left: sw.counter(),
        });
        match sw {
            Sw::OK => {
                // sign a challenge with the authentication key, as the PIN path does
                send(card, &select_ef(0x0017));
                let di = onshi_card::jpki::digest_info_sha256(format!("onshi reader challenge {i}").as_bytes());
                let mut sign = vec![0x80, 0x2A, 0x00, 0x80, di.len() as u8];
                sign.extend(&di);
                sign.push(0x00);
                let signature = send(card, &sign).0;
                steps.push(ReaderStep::ChallengeSigned {
                    signature_bytes: signature.len(),
                });
                return Ok(());
            }
            Sw::REFERENCE_DATA_BLOCKED if image.pins.auth.value.is_none() => return Err(ReaderFailure::PinNotSet),
            Sw::REFERENCE_DATA_BLOCKED => return Err(ReaderFailure::PinLocked),
            sw if sw.counter() == Some(0) => return Err(ReaderFailure::PinLocked),
            sw => tries_left = sw.counter(),
        }
    }
    Err(ReaderFailure::WrongPin {
        tries_left: tries_left.unwrap_or(0),
    })
}

fn send(card: &mut Card, apdu: &[u8]) -> (Vec<u8>, Sw) {
    let r = card.transmit(apdu);
    tracing::trace!(command = %hex(apdu), sw = %r.sw, "reader APDU");
    (r.data, r.sw)
}

fn select_aid(aid: &[u8]) -> Vec<u8> {
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, aid.len() as u8];
    apdu.extend(aid);
    apdu
}

fn select_ef(fid: u16) -> Vec<u8> {
    let [hi, lo] = fid.to_be_bytes();
    vec![0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo]
}

/// Reads the current EF to its end in 256-byte READ BINARYs.
fn read_all(card: &mut Card) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let [hi, lo] = (out.len() as u16).to_be_bytes();
        let (data, sw) = send(card, &[0x00, 0xB0, hi & 0x7F, lo, 0x00]);
        out.extend(&data);
        if sw != Sw::OK || data.len() < 256 || out.len() >= 0x7FFF {
            return out;
        }
    }
}

/// Reads the DER object in the current EF (header first, then exactly its length).
fn read_der(card: &mut Card) -> Vec<u8> {
    let all = read_all(card);
    let len = match all.get(1) {
        Some(0x82) if all.len() >= 4 => usize::from(u16::from_be_bytes([all[2], all[3]])) + 4,
        Some(0x81) if all.len() >= 3 => usize::from(all[2]) + 3,
        Some(n) if *n < 0x80 => usize::from(*n) + 2,
        _ => all.len(),
    };
    all[..len.min(all.len())].to_vec()
}

/// (serial in hex, notAfter YYYYMMDD) of a DER certificate; empty strings when unreadable.
fn certificate_facts(der: &[u8]) -> (String, String) {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => (cert.raw_serial().iter().map(|b| format!("{b:02X}")).collect(), {
            let t = cert.validity().not_after.to_datetime();
            format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
        }),
        Err(_) => (String::new(), String::new()),
    }
}
