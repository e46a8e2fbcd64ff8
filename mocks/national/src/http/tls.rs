//! TLS for the mock: the server certificate from the test PKI, and client certificates that
//! are *judged*, not refused at the handshake.
//!
//! A client certificate from an unknown CA or an expired one would normally end the handshake
//! with an alert — which tells a vendor little. Here the handshake accepts any certificate
//! (the client must still prove it holds the key), and the login endpoint refuses it with a
//! JSON answer that says why, and the journal records the verdict.

use std::sync::Arc;

use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use thiserror::Error;

use crate::events::ClientCert;
use crate::pki::Pki;

#[derive(Debug, Error)]
/// Why TLS could not be set up.
pub enum TlsError {
    #[error("the test PKI: {0}")]
    /// The test PKI is unusable.
    Pki(#[from] crate::pki::PkiError),
    #[error("{what} is not valid PEM: {source}")]
    /// A PEM is unreadable.
    Pem {
        /// Which one.
        what: &'static str,
        #[source]
        /// The error.
        source: rustls::pki_types::pem::Error,
    },
    #[error("TLS configuration: {0}")]
    /// rustls refused the configuration.
    Rustls(#[from] rustls::Error),
    #[error("client verifier: {0}")]
    /// The client-certificate verifier could not be built.
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// Accepts any client certificate at the handshake; [`judge`] says what it is worth.
#[derive(Debug)]
struct LenientClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for LenientClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The server side: the TLS configuration and the verifier that judges client certificates.
#[derive(Clone)]
pub struct ServerTls {
    /// The rustls configuration.
    pub config: Arc<rustls::ServerConfig>,
    strict: Arc<dyn ClientCertVerifier>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls")
    }
}

fn certs(pem: &str, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem { what, source })
}

fn key(pem: &str, what: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|source| TlsError::Pem { what, source })
}

impl ServerTls {
    /// TLS with `server.pem` / `server-key.pem`, trusting client certificates issued by
    /// `ca.pem`.
    pub fn from_pki(pki: &Pki) -> Result<ServerTls, TlsError> {
        Self::new(pki.get("server.pem")?, pki.get("server-key.pem")?, pki.ca_cert()?)
    }

    /// The server's TLS from its certificate, key and the CA of the client certificates it accepts.
    pub fn new(server_cert_pem: &str, server_key_pem: &str, client_ca_pem: &str) -> Result<ServerTls, TlsError> {
        let provider = Arc::new(ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in certs(client_ca_pem, "the client CA")? {
            roots.add(c)?;
        }
        let strict = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(LenientClientVerifier { inner: strict.clone() }))
            .with_single_cert(
                certs(server_cert_pem, "the server certificate")?,
                key(server_key_pem, "the server key")?,
            )?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            strict,
        })
    }

    /// What a presented client certificate is worth.
    pub fn judge(&self, chain: &[CertificateDer<'_>]) -> Option<ClientCert> {
        let (end_entity, intermediates) = chain.split_first()?;
        let verdict = match self
            .strict
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
        {
            Ok(_) => "ok".to_owned(),
            Err(e) => describe(&e),
        };
        let (subject, issuer) = match x509_parser::parse_x509_certificate(end_entity) {
            Ok((_, c)) => (c.subject().to_string(), c.issuer().to_string()),
            Err(_) => ("(unparseable)".to_owned(), "(unparseable)".to_owned()),
        };
        Some(ClientCert {
            subject,
            issuer,
            verdict,
        })
    }
}

fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => "issued by an unknown CA".into(),
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => "expired".into(),
        rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => "not valid yet".into(),
        rustls::Error::InvalidCertificate(C::Revoked) => "revoked".into(),
        other => other.to_string(),
    }
}

/// The common name (CN) of a subject such as `C=JP, O=…, CN=9900000001`.
pub fn common_name(subject: &str) -> Option<&str> {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .map(str::trim)
}

/// A client configuration trusting `ca_pem`, optionally presenting a client certificate.
pub fn client_config(ca_pem: &str, identity: Option<(&str, &str)>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = Arc::new(ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(ca_pem, "the CA")? {
        roots.add(c)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, k)) => {
            builder.with_client_auth_cert(certs(cert, "the client certificate")?, key(k, "the client key")?)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
