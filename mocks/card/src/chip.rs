//! The chip's file system: which applications (AP) and elementary files (EF) the card has,
//! what each EF holds, and which PIN opens it — built from a [`CardImage`] following
//! card.md §3–6 and §13. Data layouts (token info, basic-4, card face) are byte-exact where the
//! public sources give them; fields they leave open are marked `[I]` (inferred) in
//! `docs/cards.md`.

use rsa::RsaPrivateKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

use crate::image::{CardImage, CardKind, PinImage, parse_key, pem_der};

/// The card's applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum App {
    /// GlobalPlatform issuer security domain, current after power-on.
    Isd,
    /// 公的個人認証AP.
    Jpki,
    /// 券面事項入力補助AP.
    Text,
    /// 券面事項確認AP.
    Surface,
    /// 住基AP.
    Juki,
    /// 共通カードAP.
    Common,
}

impl App {
    /// Every application, in AID order of the image.
    pub const ALL: [App; 6] = [App::Isd, App::Jpki, App::Text, App::Surface, App::Juki, App::Common];

    /// The application's AID.
    pub fn aid(self) -> &'static [u8] {
        match self {
            App::Isd => &[0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00],
            App::Jpki => &JPKI_AID,
            App::Text => &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08],
            App::Surface => &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02],
            App::Juki => &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x01],
            App::Common => &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00],
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            App::Isd => "ISD",
            App::Jpki => "JPKI AP (公的個人認証AP)",
            App::Text => "券面事項入力補助AP",
            App::Surface => "券面事項確認AP",
            App::Juki => "住基AP",
            App::Common => "共通カードAP",
        }
    }
}

/// AID of the JPKI AP, by which clients should find the card.
pub const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];

/// Index of a PIN / verification key in [`Chip::pins`].
pub type PinId = usize;
/// 利用者証明用電子証明書の暗証番号 (JPKI).
pub const PIN_AUTH: PinId = 0;
/// 署名用電子証明書の暗証番号 (JPKI).
pub const PIN_SIGN: PinId = 1;
/// 券面事項入力補助用暗証番号.
pub const PIN_TEXT: PinId = 2;
/// 照合番号A in the 入力補助AP.
pub const PIN_TEXT_A: PinId = 3;
/// 照合番号B in the 入力補助AP.
pub const PIN_TEXT_B: PinId = 4;
/// 照合番号A in the 券面AP.
pub const PIN_SURFACE_A: PinId = 5;
/// 照合番号B in the 券面AP.
pub const PIN_SURFACE_B: PinId = 6;
/// The 生年月日 key of the 券面AP.
pub const PIN_BIRTH: PinId = 7;
/// 住民基本台帳用暗証番号.
pub const PIN_JUKI: PinId = 8;

/// What a new value for a PIN must look like (CHANGE REFERENCE DATA / CHANGE KEY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinFormat {
    /// 4 ASCII digits.
    FourDigits,
    /// 6–16 of A–Z and 0–9 with at least one letter and one digit.
    SignPassword,
    /// Derived from the card's data (照合番号, 生年月日); cannot be changed.
    Fixed,
}

impl PinFormat {
    /// Whether `value` has the PIN's format.
    pub fn accepts(self, value: &[u8]) -> bool {
        match self {
            PinFormat::FourDigits => value.len() == 4 && value.iter().all(u8::is_ascii_digit),
            PinFormat::SignPassword => {
                (6..=16).contains(&value.len())
                    && value.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    && value.iter().any(u8::is_ascii_uppercase)
                    && value.iter().any(u8::is_ascii_digit)
            }
            PinFormat::Fixed => false,
        }
    }
}

/// A PIN's definition and its persistent counter (the counter survives power-off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinState {
    /// The application holding it.
    pub app: App,
    /// Its EF.
    pub fid: u16,
    /// Its name, for logs.
    pub label: &'static str,
    /// `None`: not set (顔認証マイナンバーカード).
    pub value: Option<Vec<u8>>,
    /// Tries left before it locks.
    pub tries_left: u8,
    /// Tries after a successful verification.
    pub max_tries: u8,
    /// What a value must look like.
    pub format: PinFormat,
}

impl PinState {
    fn new(app: App, fid: u16, label: &'static str, image: &PinImage, format: PinFormat) -> PinState {
        PinState {
            app,
            fid,
            label,
            value: image.value.as_ref().map(|v| v.as_bytes().to_vec()),
            tries_left: image.tries_left,
            max_tries: image.max_tries,
            format,
        }
    }

    /// Whether the PIN is locked.
    pub fn blocked(&self) -> bool {
        self.value.is_none() || self.tries_left == 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Who may read an EF.
pub enum Access {
    /// Anyone.
    Free,
    /// Readable once any of these PINs is verified.
    AnyOf(Vec<PinId>),
}

/// How a key may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// JPKI keys: `80 2A` after their PIN.
    Jpki,
    /// The 入力補助AP's own key: `80 2A 00 00`, no credential.
    ApDefault,
    /// The 共通カードAP key: INTERNAL AUTHENTICATE, no credential.
    InternalAuth,
}

#[derive(Debug, Clone)]
/// What an EF holds.
pub enum Body {
    /// Data read with READ BINARY.
    Binary {
        /// The bytes.
        data: Vec<u8>,
        /// Who may read them.
        read: Access,
    },
    /// Records read with READ RECORD.
    Records(Vec<Vec<u8>>),
    /// A PIN (VERIFY).
    Pin(PinId),
    /// A private key.
    Key {
        /// The key's index in `Chip::keys`.
        key: usize,
        /// The PIN that must be verified first, if any.
        needs: Option<PinId>,
        /// How it may be used.
        usage: KeyUse,
    },
}

#[derive(Debug, Clone)]
/// One elementary file.
pub struct Ef {
    /// The application holding it.
    pub app: App,
    /// Its file id.
    pub fid: u16,
    /// What it holds.
    pub body: Body,
}

/// Everything on the chip that does not change while the card is used.
#[derive(Debug, Clone)]
pub struct Chip {
    /// The answer to reset.
    pub atr: Vec<u8>,
    /// Every EF.
    pub files: Vec<Ef>,
    /// The private keys.
    pub keys: Vec<RsaPrivateKey>,
    /// Initial PIN states, indexed by [`PinId`].
    pub pins: Vec<PinState>,
}

impl Chip {
    /// The index of EF `fid` of `app`.
    pub fn find(&self, app: App, fid: u16) -> Option<usize> {
        self.files.iter().position(|f| f.app == app && f.fid == fid)
    }

    /// Builds the chip from a parsed image (which [`CardImage::parse`] has validated).
    pub fn build(image: &CardImage) -> Chip {
        let key = |pem: &str| parse_key(pem).expect("validated by CardImage::parse");
        let der = |pem: &str| pem_der(pem, "CERTIFICATE").expect("validated by CardImage::parse");
        let mut keys = vec![key(&image.card_key_pem), key(&image.auth.key_pem)];
        let p = &image.pins;
        let none = PinImage {
            value: None,
            tries_left: 0,
            max_tries: 1,
        };
        let pins = vec![
            PinState::new(
                App::Jpki,
                0x0018,
                "利用者証明用暗証番号 (auth PIN)",
                &p.auth,
                PinFormat::FourDigits,
            ),
            PinState::new(
                App::Jpki,
                0x001B,
                "署名用パスワード (signing password)",
                p.sign.as_ref().unwrap_or(&none),
                PinFormat::SignPassword,
            ),
            PinState::new(
                App::Text,
                0x0011,
                "券面事項入力補助用暗証番号",
                &p.text,
                PinFormat::FourDigits,
            ),
            PinState::new(App::Text, 0x0014, "照合番号A (入力補助AP)", &p.code_a, PinFormat::Fixed),
            PinState::new(App::Text, 0x0015, "照合番号B (入力補助AP)", &p.code_b, PinFormat::Fixed),
            PinState::new(App::Surface, 0x0013, "照合番号A (券面AP)", &p.code_a, PinFormat::Fixed),
            PinState::new(App::Surface, 0x0012, "照合番号B (券面AP)", &p.code_b, PinFormat::Fixed),
            PinState::new(App::Surface, 0x0011, "生年月日 (券面AP)", &p.birth, PinFormat::Fixed),
            PinState::new(
                App::Juki,
                0x001C,
                "住民基本台帳用暗証番号",
                &p.juki,
                PinFormat::FourDigits,
            ),
        ];
        let free = |app, fid, data| Ef {
            app,
            fid,
            body: Body::Binary {
                data,
                read: Access::Free,
            },
        };
        let guarded = |app, fid, data, pins: &[PinId]| Ef {
            app,
            fid,
            body: Body::Binary {
                data,
                read: Access::AnyOf(pins.to_vec()),
            },
        };
        let mut files = vec![
            free(App::Jpki, 0x0002, der(&image.sign_ca_pem)),
            free(App::Jpki, 0x0006, token_info(&image.token_label, &image.card_serial)),
            free(
                App::Jpki,
                0x0008,
                vec![if image.sign.is_some() { 0x8F } else { 0x00 }, 0x8F, 0x00],
            ),
            free(App::Jpki, 0x000A, der(&image.auth.cert_pem)),
            free(App::Jpki, 0x000B, der(&image.auth_ca_pem)),
            Ef {
                app: App::Jpki,
                fid: 0x0017,
                body: Body::Key {
                    key: 1,
                    needs: Some(PIN_AUTH),
                    usage: KeyUse::Jpki,
                },
            },
            Ef {
                app: App::Jpki,
                fid: 0x0018,
                body: Body::Pin(PIN_AUTH),
            },
        ];
        if let Some(sign) = &image.sign {
            keys.push(key(&sign.key_pem));
            files.push(guarded(App::Jpki, 0x0001, der(&sign.cert_pem), &[PIN_SIGN]));
            files.push(Ef {
                app: App::Jpki,
                fid: 0x001A,
                body: Body::Key {
                    key: 2,
                    needs: Some(PIN_SIGN),
                    usage: KeyUse::Jpki,
                },
            });
            files.push(Ef {
                app: App::Jpki,
                fid: 0x001B,
                body: Body::Pin(PIN_SIGN),
            });
        }
        let card_key = &keys[0];
        files.extend([
            guarded(
                App::Text,
                0x0001,
                my_number_ef(&image.my_number),
                &[PIN_TEXT, PIN_TEXT_A],
            ),
            guarded(App::Text, 0x0002, basic4(image), &[PIN_TEXT, PIN_TEXT_B]),
            Ef {
                app: App::Text,
                fid: 0x0011,
                body: Body::Pin(PIN_TEXT),
            },
            Ef {
                app: App::Text,
                fid: 0x0014,
                body: Body::Pin(PIN_TEXT_A),
            },
            Ef {
                app: App::Text,
                fid: 0x0015,
                body: Body::Pin(PIN_TEXT_B),
            },
            guarded(
                App::Surface,
                0x0001,
                tlv(&[0xFF, 0x10], &tlv(&[0xDF, 0x11], image.holder.birthdate.as_bytes())),
                &[PIN_BIRTH],
            ),
            guarded(
                App::Surface,
                0x0002,
                card_face(image, card_key),
                &[PIN_SURFACE_A, PIN_SURFACE_B],
            ),
            free(App::Surface, 0x0003, surface_basic_info(&image.municipality)),
            Ef {
                app: App::Surface,
                fid: 0x0011,
                body: Body::Pin(PIN_BIRTH),
            },
            Ef {
                app: App::Surface,
                fid: 0x0012,
                body: Body::Pin(PIN_SURFACE_B),
            },
            Ef {
                app: App::Surface,
                fid: 0x0013,
                body: Body::Pin(PIN_SURFACE_A),
            },
            Ef {
                app: App::Juki,
                fid: 0x001C,
                body: Body::Pin(PIN_JUKI),
            },
            Ef {
                app: App::Common,
                fid: 0x0001,
                body: Body::Records(vec![common_record(
                    &image.card_serial,
                    &image.municipality,
                    &image.expires,
                )]),
            },
            Ef {
                app: App::Common,
                fid: 0x0019,
                body: Body::Key {
                    key: 0,
                    needs: None,
                    usage: KeyUse::InternalAuth,
                },
            },
        ]);
        if image.kind == CardKind::Juki {
            // A 住基カード has no 個人番号 applications.
            files.retain(|f| matches!(f.app, App::Jpki | App::Juki));
        }
        Chip {
            atr: image.atr_bytes(),
            files,
            keys,
            pins,
        }
    }
}

/// A BER TLV with a definite length (short form, `81 xx` or `82 xx xx`).
pub fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    out.extend(ber_length(value.len()));
    out.extend_from_slice(value);
    out
}

fn ber_length(n: usize) -> Vec<u8> {
    match n {
        0..=0x7F => vec![n as u8],
        0x80..=0xFF => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

/// A 2-byte-tagged container whose first child is an offset table (tag `DF 21`) giving, for
/// each later child, its offset from the start of the file — the layout of basic-4 and of
/// the card face.
fn with_offset_table(outer: [u8; 2], children: &[Vec<u8>]) -> Vec<u8> {
    let table_len = 3 + 2 * children.len();
    let body_len = table_len + children.iter().map(Vec::len).sum::<usize>();
    let header_len = 2 + ber_length(body_len).len();
    let mut offsets = Vec::with_capacity(2 * children.len());
    let mut at = header_len + table_len;
    for child in children {
        offsets.extend((at as u16).to_be_bytes());
        at += child.len();
    }
    let mut body = tlv(&[0xDF, 0x21], &offsets);
    children.iter().for_each(|c| body.extend(c));
    tlv(&outer, &body)
}

/// JPKI EF 0006: a 160-byte PKCS#11 CK_TOKEN_INFO with 32-bit big-endian integers.
fn token_info(label: &str, serial: &str) -> Vec<u8> {
    let padded = |s: &str, n: usize| {
        let mut v: Vec<u8> = s.bytes().take(n).collect();
        v.resize(n, b' ');
        v
    };
    let mut out = padded(label, 32);
    out.extend(padded("onshi-harness TEST", 32));
    out.extend(padded("VIRTUAL", 16));
    out.extend(padded(&serial[serial.len().saturating_sub(16)..], 16));
    // flags, max/current sessions, max/current rw sessions, max/min PIN length, memory
    for v in [0x40Du32, 0, 0, 0, 0, 16, 6, u32::MAX, u32::MAX, u32::MAX, u32::MAX] {
        out.extend(v.to_be_bytes());
    }
    out.extend(b"0301");
    out.extend(padded("", 16));
    out
}

/// 入力補助AP EF 0001: `FF 10 0C` + 12 digits + `FF FF` filler (17 bytes).
fn my_number_ef(number: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0x10, 0x0C];
    out.extend(number.as_bytes());
    out.extend([0xFF, 0xFF]);
    out
}

/// 入力補助AP EF 0002 (基本4情報).
fn basic4(image: &CardImage) -> Vec<u8> {
    let h = &image.holder;
    with_offset_table(
        [0xFF, 0x20],
        &[
            tlv(&[0xDF, 0x22], h.name.as_bytes()),
            tlv(&[0xDF, 0x23], h.address.as_bytes()),
            tlv(&[0xDF, 0x24], h.birthdate.as_bytes()),
            tlv(&[0xDF, 0x25], h.sex.as_bytes()),
        ],
    )
}

/// 券面AP EF 0002: birth date, sex, card public key, name and address images, face photo,
/// signature, expiry, security-code image. The signature is made with the card's own key over
/// SHA-256 of DF22..DF27 (synthetic; the real issuer signature scheme is not public).
fn card_face(image: &CardImage, card_key: &RsaPrivateKey) -> Vec<u8> {
    let mut modulus = card_key.n().to_bytes_be();
    modulus.splice(0..0, std::iter::repeat_n(0, 256usize.saturating_sub(modulus.len())));
    let mut public = vec![0x90, 0x03, 0x01, 0x00, 0x01];
    public.extend(tlv(&[0x91], &modulus));
    let signed = [
        tlv(&[0xDF, 0x22], image.holder.birthdate.as_bytes()),
        tlv(&[0xDF, 0x23], image.holder.sex.as_bytes()),
        tlv(&[0xDF, 0x24], &public),
        tlv(&[0xDF, 0x25], &crate::imaging::blank_png(256, 48)),
        tlv(&[0xDF, 0x26], &crate::imaging::blank_png(512, 64)),
        tlv(&[0xDF, 0x27], &image.face_jp2().expect("validated by CardImage::parse")),
    ];
    let digest = Sha256::digest(signed.concat());
    let signature = card_key
        .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
        .expect("a 2048-bit key signs a SHA-256 digest");
    let mut children = signed.to_vec();
    children.push(tlv(&[0xDF, 0x28], &signature));
    children.push(tlv(&[0xDF, 0x29], image.expires.as_bytes()));
    children.push(tlv(&[0xDF, 0x2A], &crate::imaging::blank_png(96, 32)));
    with_offset_table([0xFF, 0x20], &children)
}

fn surface_basic_info(municipality: &str) -> Vec<u8> {
    let mut body = tlv(&[0xDF, 0x31], &[0x01, 0x03, 0x0E, 0x01]);
    body.extend(tlv(&[0xDF, 0x33], &[0x01]));
    body.extend(tlv(&[0xDF, 0x34], municipality.as_bytes()));
    tlv(&[0xFF, 0x30], &body)
}

/// 共通カードAP EF 0001 record 1: simple-TLV `01 1C` + serial (15) + municipality (5) + expiry.
fn common_record(serial: &str, municipality: &str, expires: &str) -> Vec<u8> {
    tlv(&[0x01], format!("{serial}{municipality}{expires}").as_bytes())
}
