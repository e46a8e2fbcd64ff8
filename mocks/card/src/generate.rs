//! Deterministic card generation: a short spec (`fixtures/cards/cards.toml`) plus the holder's
//! data from the registry become a full [`CardImage`] — RSA-2048 keys from a seeded generator,
//! X.509 certificates issued by a test JPKI CA whose names follow the real issuer's with the
//! organisation `JPKI-TEST`, a synthetic My Number that fails the check-digit rule, and a grey
//! JPEG 2000 face photo. The same spec, seed and crate versions give byte-identical images.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
    SerialNumber, date_time_ymd,
};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::image::{
    ATR_CONTACT, ATR_CONTACTLESS, CardImage, CardKind, CertImage, CertStatus, FORMAT, Face, Holder, PinImage, Pins,
};

/// `fixtures/cards/cards.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// Seed of every key and number; changing it changes every card.
    pub seed: u64,
    #[serde(rename = "card")]
    /// The cards.
    pub cards: Vec<CardSpec>,
}

/// One card as a person would describe it; everything else is derived.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSpec {
    /// The card's id.
    pub id: String,
    /// The persona holding it.
    pub persona: String,
    /// What it is for, in one line.
    pub summary: String,
    #[serde(default = "my_number_kind")]
    /// The kind of card (My Number card, 住基カード, …).
    pub kind: CardKind,
    /// `contact` (default), `contactless`, or an ATR in hex.
    #[serde(default)]
    pub atr: Option<String>,
    #[serde(default)]
    /// The 利用者証明用 PIN (default: derived).
    pub auth_pin: Option<String>,
    #[serde(default)]
    /// Tries left on it (default: 3).
    pub auth_tries_left: Option<u8>,
    #[serde(default)]
    /// The 署名用 password (default: derived).
    pub sign_password: Option<String>,
    /// No signing certificate (holders under 15).
    #[serde(default)]
    pub no_signing_certificate: bool,
    #[serde(default = "valid")]
    /// The 利用者証明用 certificate's status.
    pub auth_status: CertStatus,
    /// Card expiry YYYYMMDD (default 20351231).
    #[serde(default)]
    pub expires: Option<String>,
    #[serde(default)]
    /// The security code printed on the card (default: derived).
    pub security_code: Option<String>,
}

fn my_number_kind() -> CardKind {
    CardKind::MyNumber
}

fn valid() -> CertStatus {
    CertStatus::Valid
}

#[derive(Debug, thiserror::Error)]
/// Why cards cannot be generated.
pub enum GenerateError {
    /// The spec file is unusable.
    #[error("card spec: {0}")]
    Spec(String),
    /// One card cannot be made.
    #[error("card {card}: {message}")]
    Card {
        /// The card's id.
        card: String,
        /// Why.
        message: String,
    },
}

/// The two test CAs (利用者証明用 and 署名用), derived from the seed.
pub struct TestCa {
    auth: (KeyPair, CertificateParams, String),
    sign: (KeyPair, CertificateParams, String),
}

impl TestCa {
    /// The test CAs of `seed`.
    pub fn new(seed: u64) -> Result<TestCa, GenerateError> {
        let make = |purpose: &str, ou: &str| -> Result<(KeyPair, CertificateParams, String), GenerateError> {
            let key = rsa_key(seed, "ca", purpose);
            let pair = key_pair(&key).map_err(|m| GenerateError::Spec(m.to_string()))?;
            let mut params = CertificateParams::default();
            params.distinguished_name = jpki_dn(ou);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            params.not_before = date_time_ymd(2023, 7, 16);
            params.not_after = date_time_ymd(2033, 7, 15);
            params.serial_number = Some(SerialNumber::from_slice(&derive(seed, "ca", purpose)[..8]));
            let cert = params
                .self_signed(&pair)
                .map_err(|e| GenerateError::Spec(e.to_string()))?;
            Ok((pair, params, cert.pem()))
        };
        Ok(TestCa {
            auth: make("auth", "JPKI for user authentication")?,
            sign: make("sign", "JPKI for digital signature")?,
        })
    }
}

/// C=JP, O=JPKI-TEST, OU=<purpose>, OU=Japan Agency for Local Authority Information Systems.
fn jpki_dn(ou: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::OrganizationName, "JPKI-TEST");
    dn.push(DnType::OrganizationalUnitName, ou);
    // a second OU: rcgen keeps one value per type, so the same OID goes in as a custom type
    dn.push(
        DnType::CustomDnType(vec![2, 5, 4, 11]),
        "Japan Agency for Local Authority Information Systems",
    );
    dn
}

fn derive(seed: u64, card: &str, purpose: &str) -> [u8; 32] {
    Sha256::digest(format!("onshi-card/{seed}/{card}/{purpose}")).into()
}

fn rsa_key(seed: u64, card: &str, purpose: &str) -> RsaPrivateKey {
    let mut rng = ChaCha20Rng::from_seed(derive(seed, card, purpose));
    RsaPrivateKey::new(&mut rng, 2048).expect("RSA-2048 generation from a seeded generator")
}

fn pkcs8(key: &RsaPrivateKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF)
        .expect("an RSA key encodes as PKCS#8")
        .to_string()
}

fn key_pair(key: &RsaPrivateKey) -> Result<KeyPair, rcgen::Error> {
    KeyPair::from_pem_and_sign_algo(&pkcs8(key), &rcgen::PKCS_RSA_SHA256)
}

/// `n` decimal digits from a derived stream.
fn digits(seed: u64, card: &str, purpose: &str, n: usize) -> String {
    let mut rng = ChaCha20Rng::from_seed(derive(seed, card, purpose));
    (0..n).map(|_| char::from(b'0' + (rng.next_u32() % 10) as u8)).collect()
}

/// The check digit of a 12-digit 個人番号 over its first 11 digits.
pub fn my_number_check_digit(first11: &str) -> u8 {
    let sum: u32 = first11
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let n = i as u32 + 1;
            let q = if n <= 6 { n + 1 } else { n - 5 };
            u32::from(b - b'0') * q
        })
        .sum();
    match sum % 11 {
        0 | 1 => 0,
        r => (11 - r) as u8,
    }
}

fn ymd(s: &str) -> Result<(i32, u8, u8), String> {
    let p = |r: std::ops::Range<usize>| {
        s.get(r)
            .and_then(|x| x.parse::<u32>().ok())
            .ok_or(format!("{s:?} is not YYYYMMDD"))
    };
    Ok((p(0..4)? as i32, p(4..6)? as u8, p(6..8)? as u8))
}

/// Generates one card image.
pub fn generate(spec: &CardSpec, holder: Holder, seed: u64, ca: &TestCa) -> Result<CardImage, GenerateError> {
    let id = spec.id.as_str();
    let err = |message: String| GenerateError::Card {
        card: id.to_string(),
        message,
    };
    let expires = spec.expires.clone().unwrap_or_else(|| "20351231".into());
    ymd(&expires).map_err(err)?;
    let security_code = spec
        .security_code
        .clone()
        .unwrap_or_else(|| digits(seed, id, "security-code", 4));
    let first11 = format!("9{}", digits(seed, id, "my-number", 10));
    // deliberately the wrong check digit: no synthetic number can be a real 個人番号
    let my_number = format!("{first11}{}", (my_number_check_digit(&first11) + 1) % 10);
    let pin = |value: Option<String>, tries: u8| PinImage {
        value,
        tries_left: tries,
        max_tries: tries,
    };
    let set = spec.kind != CardKind::FaceAuthOnly;
    let auth_pin = spec.auth_pin.clone().unwrap_or_else(|| digits(seed, id, "auth-pin", 4));
    let mut auth = pin(set.then(|| auth_pin.clone()), 3);
    if let Some(left) = spec.auth_tries_left {
        auth.tries_left = left.min(3);
    }
    let sign_password = spec
        .sign_password
        .clone()
        .unwrap_or_else(|| format!("TEST{}", digits(seed, id, "sign", 4)));
    let mut image = CardImage {
        format: FORMAT.into(),
        id: id.into(),
        persona: spec.persona.clone(),
        summary: spec.summary.clone(),
        kind: spec.kind,
        atr: match spec.atr.as_deref() {
            None | Some("contact") if spec.kind == CardKind::Juki => "3B E0 00 FF 81 31 FE 45 14".into(),
            None | Some("contact") => ATR_CONTACT.into(),
            Some("contactless") => ATR_CONTACTLESS.into(),
            Some(hex) => hex.into(),
        },
        token_label: if spec.kind == CardKind::Juki {
            "JPKIAPICCTOKEN"
        } else {
            "JPKIAPICCTOKEN2"
        }
        .into(),
        my_number,
        expires: expires.clone(),
        security_code,
        card_serial: format!("9{}", digits(seed, id, "card-serial", 14)),
        municipality: format!("99{}", digits(seed, id, "municipality", 3)),
        holder,
        pins: Pins {
            auth,
            sign: (!spec.no_signing_certificate).then(|| pin(set.then_some(sign_password), 5)),
            text: pin(set.then(|| auth_pin.clone()), 3),
            juki: pin(set.then(|| auth_pin.clone()), 3),
            code_a: pin(None, 10),
            code_b: pin(None, 10),
            birth: pin(None, 10),
        },
        auth: CertImage {
            status: spec.auth_status,
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            cert_pem: String::new(),
            key_pem: String::new(),
        },
        sign: None,
        auth_ca_pem: ca.auth.2.clone(),
        sign_ca_pem: ca.sign.2.clone(),
        card_key_pem: pkcs8(&rsa_key(seed, id, "card-key")),
        face: Face {
            width: 90,
            height: 120,
            jp2_base64: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                crate::imaging::grey_jp2(90, 120),
            ),
        },
    };
    image.pins.code_a.value = Some(image.my_number.clone());
    image.pins.code_b.value = Some(image.code_b());
    image.pins.birth.value = Some(crate::image::era_yymmdd(&image.holder.birthdate));
    image.auth = certificate(&image, seed, "auth", spec.auth_status, &ca.auth).map_err(err)?;
    if !spec.no_signing_certificate {
        image.sign = Some(certificate(&image, seed, "sign", CertStatus::Valid, &ca.sign).map_err(err)?);
    }
    // round-trip through the parser: a generated image is always loadable
    CardImage::parse(&image.to_toml(), id).map_err(|e| err(e.to_string()))
}

fn certificate(
    image: &CardImage,
    seed: u64,
    purpose: &str,
    status: CertStatus,
    ca: &(KeyPair, CertificateParams, String),
) -> Result<CertImage, String> {
    let key = rsa_key(seed, &image.id, purpose);
    let pair = key_pair(&key).map_err(|e| e.to_string())?;
    let serial = derive(seed, &image.id, &format!("{purpose}-serial"))[..8].to_vec();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    let holder = &image.holder;
    if purpose == "auth" {
        // the user-authentication certificate names nobody: just an identifier (card.md §3.2)
        dn.push(
            DnType::CommonName,
            format!("TEST{}", digits(seed, &image.id, "auth-cn", 16)),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    } else {
        dn.push(
            DnType::CommonName,
            format!("TEST{}", digits(seed, &image.id, "sign-cn", 16)),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        // the signing certificate carries the basic-4 as otherName entries (1.2.392.200149.8.5.5.x)
        let other = |n: u64, value: &str| {
            SanType::OtherName((
                vec![1, 2, 392, 200149, 8, 5, 5, n],
                rcgen::OtherNameValue::Utf8String(value.into()),
            ))
        };
        params.subject_alt_names = vec![
            other(1, &holder.name),
            other(3, &holder.sex),
            other(4, &holder.birthdate),
            other(5, &holder.address),
        ];
    }
    params.distinguished_name = dn;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let (from, to) = match status {
        CertStatus::Expired => ((2019, 4, 1), (2024, 3, 31)),
        CertStatus::Valid | CertStatus::Revoked => ((2025, 4, 1), (2030, 3, 31)),
    };
    params.not_before = date_time_ymd(from.0, from.1, from.2);
    params.not_after = date_time_ymd(to.0, to.1, to.2);
    let issuer = Issuer::from_params(&ca.1, &ca.0);
    let cert = params.signed_by(&pair, &issuer).map_err(|e| e.to_string())?;
    let date = |(y, m, d): (i32, u8, u8)| format!("{y:04}{m:02}{d:02}");
    Ok(CertImage {
        status,
        serial: serial.iter().map(|b| format!("{b:02X}")).collect(),
        not_before: date(from),
        not_after: date(to),
        cert_pem: cert.pem(),
        key_pem: pkcs8(&key),
    })
}

/// The date persona dates are resolved against when cards are generated, so that the images
/// do not change with the day they are made.
pub const GENERATION_DATE: (i32, u32, u32) = (2026, 4, 1);

/// Generates every card of a spec file, taking each holder's basic-4 from the registry.
pub fn generate_all(spec_toml: &str) -> Result<Vec<CardImage>, GenerateError> {
    let spec: SpecFile = toml::from_str(spec_toml).map_err(|e| GenerateError::Spec(e.to_string()))?;
    let (y, m, d) = GENERATION_DATE;
    let today = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
    let registry = onshi_registry::Registry::embedded(today, 0);
    let ca = TestCa::new(spec.seed)?;
    let mut seen = std::collections::BTreeSet::new();
    spec.cards
        .iter()
        .map(|card| {
            if !seen.insert(card.id.as_str()) {
                return Err(GenerateError::Spec(format!("card id {:?} appears twice", card.id)));
            }
            if !card
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(GenerateError::Spec(format!(
                    "card id {:?}: use a-z, 0-9 and '-'",
                    card.id
                )));
            }
            let person = registry.persona(&card.persona).ok_or_else(|| GenerateError::Card {
                card: card.id.clone(),
                message: format!("persona {:?} is not in fixtures/personas.toml", card.persona),
            })?;
            let holder = Holder {
                name: person.name.clone(),
                address: person.address.clone().unwrap_or_else(|| "テスト県検証市".into()),
                birthdate: person.birthdate.format("%Y%m%d").to_string(),
                sex: person.sex.clone(),
            };
            generate(card, holder, spec.seed, &ca)
        })
        .collect()
}

/// The card spec shipped with the harness.
pub const EMBEDDED_SPEC: &str = include_str!("../../../fixtures/cards/cards.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_worked_by_hand() {
        // weights 2..7 then 2..6 from the right: 212 mod 11 = 3, so 11 - 3 = 8 (worked by hand)
        assert_eq!(my_number_check_digit("12345678901"), 8);
    }
}
