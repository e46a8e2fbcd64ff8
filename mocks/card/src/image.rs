//! Card images: one TOML file per virtual card under `fixtures/cards/`, format `onshi-card/1`
//! (documented in `docs/cards.md`). An image links the card to a persona and holds everything
//! the chip holds — PINs and their counters, 照合番号 inputs, certificates and keys, the
//! basic-4 data and the face photo — so loading one needs no key generation. Images are made
//! by [`crate::generate`] from the short specs in `fixtures/cards/cards.toml`.

use std::path::Path;

use base64::Engine as _;
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde::{Deserialize, Serialize};

use crate::apdu::unhex;

/// The format of card images this harness reads.
pub const FORMAT: &str = "onshi-card/1";

/// The contact ATR of a 2024 My Number card (card.md §10); the default profile.
pub const ATR_CONTACT: &str = "3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B";
/// An ATR a PC/SC part-3 contactless reader builds for the card.
pub const ATR_CONTACTLESS: &str = "3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F";

/// What kind of card the image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// A My Number card (個人番号カード) with PINs set.
    MyNumber,
    /// 顔認証マイナンバーカード: a My Number card issued without PINs; only face
    /// authentication or a visual check can use it.
    FaceAuthOnly,
    /// 住基カード (before 2016): answers like a JPKI card but its token label is
    /// `JPKIAPICCTOKEN` and it is not a My Number card.
    Juki,
}

impl CardKind {
    /// Its name in `onshi card list`.
    pub fn label(self) -> &'static str {
        match self {
            CardKind::MyNumber => "my_number",
            CardKind::FaceAuthOnly => "face_auth_only",
            CardKind::Juki => "juki",
        }
    }
}

/// Whether the national side accepts a certificate (the card itself cannot tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    /// Valid.
    Valid,
    /// Past its not-after date.
    Expired,
    /// Revoked (失効) by the issuer: still on the chip, refused upstream.
    Revoked,
}

/// One PIN or verification key (暗証番号 / 照合番号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinImage {
    /// `None`: not set (the PIN-less 顔認証マイナンバーカード); VERIFY answers 69 84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Tries left before it locks.
    pub tries_left: u8,
    /// Tries after a successful verification.
    pub max_tries: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// The card's PINs and keys.
pub struct Pins {
    /// 利用者証明用電子証明書の暗証番号 (JPKI EF 0018): 4 digits, 3 tries.
    pub auth: PinImage,
    /// 署名用電子証明書の暗証番号 (JPKI EF 001B): 6–16 of A–Z and 0–9, 5 tries.
    /// Absent when the card has no signing certificate (holders under 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<PinImage>,
    /// 券面事項入力補助用暗証番号 (入力補助AP EF 0011): 4 digits, 3 tries.
    pub text: PinImage,
    /// 住民基本台帳用暗証番号 (住基AP EF 001C): 4 digits, 3 tries.
    pub juki: PinImage,
    /// 照合番号A (the My Number) in the 入力補助AP (EF 0014) and 券面AP (EF 0013).
    pub code_a: PinImage,
    /// 照合番号B in the 入力補助AP (EF 0015) and 券面AP (EF 0012).
    pub code_b: PinImage,
    /// 生年月日 key of the 券面AP (EF 0011): birth date as era YYMMDD.
    pub birth: PinImage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// The holder as printed on the card.
pub struct Holder {
    /// Family and given name separated by U+3000.
    pub name: String,
    /// The address.
    pub address: String,
    /// YYYYMMDD (Gregorian).
    pub birthdate: String,
    /// ISO 5218: 1 male, 2 female, 9 not applicable.
    pub sex: String,
}

/// A certificate on the chip, with its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertImage {
    /// Whether it is valid, expired or revoked.
    pub status: CertStatus,
    /// Serial number, upper-case hex (what the national side keys on).
    pub serial: String,
    /// YYYYMMDD.
    pub not_before: String,
    /// YYYYMMDD.
    pub not_after: String,
    /// The certificate (PEM).
    pub cert_pem: String,
    /// PKCS#8 private key.
    pub key_pem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// The face photo.
pub struct Face {
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// JPEG 2000 (JP2 container), greyscale, base64.
    pub jp2_base64: String,
}

/// A whole card image (`onshi-card/1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardImage {
    /// Always `onshi-card/1`.
    pub format: String,
    /// The card's id.
    pub id: String,
    /// The persona (fixtures/personas.toml) who holds the card.
    pub persona: String,
    /// What the card is for, in one line.
    pub summary: String,
    /// The kind of card.
    pub kind: CardKind,
    /// Answer to reset, hex.
    pub atr: String,
    /// First 32 bytes of JPKI EF 0006 without the space padding.
    pub token_label: String,
    /// 12 digits. Synthetic numbers deliberately fail the check-digit rule, so none can be a
    /// real 個人番号.
    pub my_number: String,
    /// Card expiry (有効期限), YYYYMMDD.
    pub expires: String,
    /// The 4-digit security code printed on the card's front (セキュリティコード).
    pub security_code: String,
    /// 15-digit card serial in the common card AP's record.
    pub card_serial: String,
    /// 5-digit 全国地方公共団体コード of the issuing municipality (synthetic: starts with 99).
    pub municipality: String,
    /// The holder.
    pub holder: Holder,
    /// The PINs.
    pub pins: Pins,
    /// 利用者証明用電子証明書 (JPKI EF 000A) and its key (EF 0017).
    pub auth: CertImage,
    /// 署名用電子証明書 (JPKI EF 0001) and its key (EF 001A); absent for holders under 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<CertImage>,
    /// CA certificates for the two (JPKI EF 000B and 0002).
    pub auth_ca_pem: String,
    /// The 署名用 CA's certificate.
    pub sign_ca_pem: String,
    /// The card's own key (入力補助AP / 券面AP / 共通AP), PKCS#8.
    pub card_key_pem: String,
    /// The face photo.
    pub face: Face,
}

#[derive(Debug, thiserror::Error)]
/// Why a card image cannot be used.
pub enum ImageError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a card image (not TOML, or not its shape).
    #[error("{origin}: not a card image: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A card image of another format version.
    #[error("{origin}: format is {found:?}; this harness reads {FORMAT:?}")]
    Format {
        /// The file.
        origin: String,
        /// The format it declares.
        found: String,
    },
    /// A field's value is unusable.
    #[error("{origin}: field `{field}`: {message}")]
    Field {
        /// The file.
        origin: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl CardImage {
    /// Reads and checks the card image at `path`.
    pub fn load(path: &Path) -> Result<CardImage, ImageError> {
        use std::io::Read as _;
        // bounded: a path to /dev/zero must not eat the memory
        const MAX_IMAGE_BYTES: u64 = 4 * 1024 * 1024;
        let read = |source| ImageError::Read {
            path: path.display().to_string(),
            source,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_IMAGE_BYTES + 1).read_to_string(&mut text))
            .map_err(read)?;
        if text.len() as u64 > MAX_IMAGE_BYTES {
            return Err(read(std::io::Error::other(format!(
                "a card image holds at most {MAX_IMAGE_BYTES} bytes; this one is larger"
            ))));
        }
        CardImage::parse(&text, &path.display().to_string())
    }

    /// Parses and checks an image; every field the chip needs is validated here, so building
    /// a [`crate::Card`] from a parsed image cannot fail.
    pub fn parse(text: &str, origin: &str) -> Result<CardImage, ImageError> {
        let image: CardImage = toml::from_str(text).map_err(|e| ImageError::Syntax {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        if image.format != FORMAT {
            return Err(ImageError::Format {
                origin: origin.into(),
                found: image.format,
            });
        }
        let field = |field: &'static str, message: String| ImageError::Field {
            origin: origin.into(),
            field,
            message,
        };
        let atr = unhex(&image.atr).map_err(|m| field("atr", m))?;
        if !(2..=33).contains(&atr.len()) {
            return Err(field("atr", format!("{} bytes; an ATR has 2 to 33", atr.len())));
        }
        digits(&image.my_number, 12).map_err(|m| field("my_number", m))?;
        digits(&image.expires, 8).map_err(|m| field("expires", m))?;
        digits(&image.security_code, 4).map_err(|m| field("security_code", m))?;
        digits(&image.card_serial, 15).map_err(|m| field("card_serial", m))?;
        digits(&image.municipality, 5).map_err(|m| field("municipality", m))?;
        digits(&image.holder.birthdate, 8).map_err(|m| field("holder.birthdate", m))?;
        if image.token_label.len() > 32 {
            return Err(field("token_label", "longer than 32 bytes".into()));
        }
        let pins = &image.pins;
        for (name, pin) in [
            ("pins.auth", Some(&pins.auth)),
            ("pins.sign", pins.sign.as_ref()),
            ("pins.text", Some(&pins.text)),
            ("pins.juki", Some(&pins.juki)),
            ("pins.code_a", Some(&pins.code_a)),
            ("pins.code_b", Some(&pins.code_b)),
            ("pins.birth", Some(&pins.birth)),
        ] {
            let Some(pin) = pin else { continue };
            if pin.max_tries == 0 || pin.max_tries > 15 || pin.tries_left > pin.max_tries {
                return Err(field(
                    "pins",
                    format!(
                        "{name}: tries_left {} / max_tries {} (max 1..=15, left ≤ max)",
                        pin.tries_left, pin.max_tries
                    ),
                ));
            }
        }
        for (name, cert) in [("auth", Some(&image.auth)), ("sign", image.sign.as_ref())] {
            let Some(cert) = cert else { continue };
            pem_der(&cert.cert_pem, "CERTIFICATE").map_err(|m| field("auth/sign cert_pem", format!("{name}: {m}")))?;
            parse_key(&cert.key_pem).map_err(|m| field("auth/sign key_pem", format!("{name}: {m}")))?;
        }
        parse_key(&image.card_key_pem).map_err(|m| field("card_key_pem", m))?;
        pem_der(&image.auth_ca_pem, "CERTIFICATE").map_err(|m| field("auth_ca_pem", m))?;
        pem_der(&image.sign_ca_pem, "CERTIFICATE").map_err(|m| field("sign_ca_pem", m))?;
        image.face_jp2().map_err(|m| field("face.jp2_base64", m))?;
        Ok(image)
    }

    /// The image as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a card image always serialises")
    }

    /// The ATR, as bytes.
    pub fn atr_bytes(&self) -> Vec<u8> {
        unhex(&self.atr).unwrap_or_default()
    }

    /// The face photo (JPEG 2000), decoded from base64.
    pub fn face_jp2(&self) -> Result<Vec<u8>, String> {
        base64::engine::general_purpose::STANDARD
            .decode(self.face.jp2_base64.trim())
            .map_err(|e| e.to_string())
    }

    /// 照合番号B: birth date as era YYMMDD + expiry year + security code (card.md §5.3).
    pub fn code_b(&self) -> String {
        format!(
            "{}{}{}",
            era_yymmdd(&self.holder.birthdate),
            &self.expires[..4],
            self.security_code
        )
    }
}

/// DER bytes of the first PEM block with the given label.
pub fn pem_der(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or_else(|| format!("no {begin} block"))? + begin.len();
    let stop = pem[start..].find(&end).ok_or_else(|| format!("no {end} line"))? + start;
    let b64: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("{label}: {e}"))
}

/// A PKCS#8 private key from PEM.
pub fn parse_key(pem: &str) -> Result<RsaPrivateKey, String> {
    RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| format!("not a PKCS#8 RSA key: {e}"))
}

fn digits(value: &str, n: usize) -> Result<(), String> {
    if value.len() == n && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("{value:?} is not {n} digits"))
    }
}

/// Birth date YYYYMMDD as the Japanese-era YYMMDD printed on the card (令和, 平成, 昭和, 大正).
pub fn era_yymmdd(birthdate: &str) -> String {
    let ymd: u32 = birthdate.parse().unwrap_or(0);
    let year = ymd / 10_000;
    let era_start = match ymd {
        d if d >= 20190501 => 2018,
        d if d >= 19890108 => 1988,
        d if d >= 19261225 => 1925,
        d if d >= 19120730 => 1911,
        _ => 1867,
    };
    format!("{:02}{}", year - era_start, &birthdate[4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn era_years_and_code_b() {
        // card.md §5.3's worked example: 1985-06-01 = 昭和60
        assert_eq!(era_yymmdd("19850601"), "600601");
        assert_eq!(era_yymmdd("19890107"), "640107");
        assert_eq!(era_yymmdd("19890108"), "010108");
        assert_eq!(era_yymmdd("20190501"), "010501");
        assert_eq!(era_yymmdd("20190430"), "310430");
    }
}

mod shipped {
    include!(concat!(env!("OUT_DIR"), "/shipped_cards.rs"));
}

/// The ids of the cards shipped in `fixtures/cards/images/`.
pub fn shipped_ids() -> impl Iterator<Item = &'static str> {
    shipped::SHIPPED.iter().map(|(id, _)| *id)
}

/// A shipped card by id, or a card image file by path.
pub fn resolve(card: &str) -> Result<CardImage, ImageError> {
    match shipped::SHIPPED.iter().find(|(id, _)| *id == card) {
        Some((id, text)) => CardImage::parse(text, &format!("fixtures/cards/images/{id}.toml")),
        None if card.ends_with(".toml") || card.contains('/') => CardImage::load(Path::new(card)),
        None => Err(ImageError::Field {
            origin: card.into(),
            field: "card",
            message: format!(
                "no shipped card with this id (there are: {}) and not a path to an image file",
                shipped_ids().collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}
