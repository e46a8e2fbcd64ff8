//! What a JPKI client needs besides APDUs: the SHA-256 DigestInfo the card signs (card.md
//! §3.4), and checking a card's signature against its certificate.

use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};

/// DER prefix of a SHA-256 DigestInfo (AlgorithmIdentifier sha256 with NULL parameters).
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
];

/// The DigestInfo of SHA-256(`message`): the data of `80 2A 00 80`.
pub fn digest_info_sha256(message: &[u8]) -> Vec<u8> {
    let mut out = SHA256_DIGEST_INFO_PREFIX.to_vec();
    out.extend(Sha256::digest(message));
    out
}

/// Checks an RSASSA-PKCS1-v1_5 / SHA-256 signature over `message` with the certificate's key.
pub fn verify_signature(certificate_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(certificate_der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let key = RsaPublicKey::from_public_key_der(cert.public_key().raw)
        .map_err(|e| format!("the certificate's key is not RSA: {e}"))?;
    key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature)
        .map_err(|_| "the signature does not verify with the certificate's public key".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_is_51_bytes() {
        assert_eq!(digest_info_sha256(b"").len(), 51);
    }
}
