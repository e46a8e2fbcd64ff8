//! Signing keys: Ed25519, kept as PEM (PKCS#8 for the secret, SPKI for the public key) so
//! that OpenSSL and other tools read them too; named by a SHA-256 fingerprint.

use base64::Engine as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The system's random source failed.
    #[error("no randomness from the system: {0}")]
    Random(String),
    /// Not a key of the expected kind.
    #[error("{what} is not an Ed25519 {kind} in PEM ({detail}); make one with `onshi keys new`")]
    Unreadable {
        /// Where it came from.
        what: String,
        /// "secret key" / "public key".
        kind: &'static str,
        /// The decoder's words.
        detail: String,
    },
    /// Encoding failed (does not happen for valid keys).
    #[error("cannot encode the key: {0}")]
    Encode(String),
}

/// A fresh key from the system's random source, as (secret PEM, public PEM).
pub fn new_key() -> Result<(SigningKey, String, String), KeyError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    let secret = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Encode(e.to_string()))?
        .to_string();
    let public = public_key_pem(&key.verifying_key())?;
    Ok((key, secret, public))
}

/// The public key as SPKI PEM.
pub fn public_key_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyError::Encode(e.to_string()))
}

/// A secret key from PKCS#8 PEM; `what` names it in errors.
pub fn read_secret_key(pem: &str, what: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Unreadable {
        what: what.to_owned(),
        kind: "secret key",
        detail: e.to_string(),
    })
}

/// A public key from SPKI PEM; `what` names it in errors.
pub fn read_public_key(pem: &str, what: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|e| KeyError::Unreadable {
        what: what.to_owned(),
        kind: "public key",
        detail: e.to_string(),
    })
}

/// `SHA256:` and the base64 of the SHA-256 of the key's 32 bytes — short enough to read out
/// over the phone, and the form ssh uses for its keys.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}
