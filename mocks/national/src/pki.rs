//! The test PKI: a CA, the mock's server certificate, client certificates for the test
//! institutions — and the wrong ones a case needs (a certificate from another CA, an expired
//! one). `onshi pki init` regenerates the files in `fixtures/pki/`; the binary embeds them.
//!
//! Everything is marked TEST and synthetic; the keys protect nothing.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, date_time_ymd,
};
use thiserror::Error;

/// Institutions that get a client certificate (synthetic 医療機関コード).
pub const INSTITUTIONS: &[&str] = &["9900000001", "9900000002"];

/// Host names and addresses in the server certificate. The two real host names let a client
/// with hard-coded hosts reach the mock through a hosts-file entry.
pub const SERVER_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "hweb-api.oqs.onshikaku.org",
    "hweb-mnc.oqs.onshikaku.org",
];

#[derive(Debug, Error)]
/// Why the test PKI cannot be used.
pub enum PkiError {
    #[error("generating a certificate failed: {0}")]
    /// A certificate could not be generated.
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    /// A file could not be read or written.
    Io {
        /// The file.
        path: String,
        #[source]
        /// The error.
        source: std::io::Error,
    },
    #[error("the PKI has no file {0}")]
    /// A file the PKI needs is missing.
    Missing(String),
}

/// The PEM files of the test PKI, by file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pki {
    /// The PKI's files: name and PEM.
    pub files: Vec<(String, String)>,
}

impl Pki {
    /// The PEM of file `name`.
    pub fn get(&self, name: &str) -> Result<&str, PkiError> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .ok_or_else(|| PkiError::Missing(name.to_owned()))
    }

    /// The CA certificate.
    pub fn ca_cert(&self) -> Result<&str, PkiError> {
        self.get("ca.pem")
    }

    /// The client certificate and key of an institution.
    pub fn client(&self, institution: &str) -> Result<(&str, &str), PkiError> {
        Ok((
            self.get(&format!("client-{institution}.pem"))?,
            self.get(&format!("client-{institution}-key.pem"))?,
        ))
    }

    /// Reads every `*.pem` in `dir` (a PKI written by [`Pki::write`] or `onshi pki init`).
    pub fn read(dir: &std::path::Path) -> Result<Pki, PkiError> {
        let io = |path: &std::path::Path, source| PkiError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.ends_with(".pem") {
                use std::io::Read as _;
                // bounded: a certificate is a few KiB, a named pipe or device could be endless
                const MAX_PEM_BYTES: u64 = 1024 * 1024;
                let mut text = String::new();
                std::fs::File::open(&path)
                    .and_then(|f| f.take(MAX_PEM_BYTES + 1).read_to_string(&mut text))
                    .map_err(|e| io(&path, e))?;
                if text.len() as u64 > MAX_PEM_BYTES {
                    let e = std::io::Error::other(format!("more than {MAX_PEM_BYTES} bytes: not a PEM file"));
                    return Err(io(&path, e));
                }
                files.push((name.to_owned(), text));
            }
        }
        files.sort();
        let pki = Pki { files };
        pki.ca_cert()?;
        pki.get("server.pem")?;
        pki.get("server-key.pem")?;
        Ok(pki)
    }

    /// Writes every file into `dir`.
    pub fn write(&self, dir: &std::path::Path) -> Result<(), PkiError> {
        let io = |path: &std::path::Path, source| PkiError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        for (name, text) in &self.files {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(|e| io(&p, e))?;
        }
        Ok(())
    }
}

fn dn(common_name: &str, organization: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::OrganizationName, organization);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn ca_params(name: &str) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name = dn(name, "onshi-harness TEST (synthetic)");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 12, 31);
    Ok(p)
}

fn leaf(
    names: &[&str],
    common_name: &str,
    eku: ExtendedKeyUsagePurpose,
    valid: (i32, i32),
) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    p.distinguished_name = dn(common_name, "onshi-harness TEST institution (synthetic)");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![eku];
    p.not_before = date_time_ymd(valid.0, 1, 1);
    p.not_after = date_time_ymd(valid.1, 1, 1);
    Ok(p)
}

/// Signs a new key's certificate: `<name>.pem` and `<name>-key.pem`.
fn issue(
    name: &str,
    params: CertificateParams,
    by: &CertifiedIssuer<'_, KeyPair>,
) -> Result<[(String, String); 2], PkiError> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, by)?;
    Ok([
        (format!("{name}.pem"), cert.pem()),
        (format!("{name}-key.pem"), key.serialize_pem()),
    ])
}

/// Generates a fresh test PKI (new keys every time).
pub fn generate() -> Result<Pki, PkiError> {
    let mut files = Vec::new();
    let ca_key = KeyPair::generate()?;
    let ca_key_pem = ca_key.serialize_pem();
    let ca = CertifiedIssuer::self_signed(ca_params("onshi-harness TEST CA (synthetic)")?, ca_key)?;
    files.push(("ca.pem".to_owned(), ca.pem()));
    files.push(("ca-key.pem".to_owned(), ca_key_pem));

    let server = leaf(
        SERVER_NAMES,
        "onshi-harness national mock (TEST)",
        ExtendedKeyUsagePurpose::ServerAuth,
        (2020, 2046),
    )?;
    files.extend(issue("server", server, &ca)?);
    for inst in INSTITUTIONS {
        let client = leaf(&[], inst, ExtendedKeyUsagePurpose::ClientAuth, (2020, 2046))?;
        files.extend(issue(&format!("client-{inst}"), client, &ca)?);
    }
    // Issued by the right CA but long expired.
    let expired = leaf(&[], INSTITUTIONS[0], ExtendedKeyUsagePurpose::ClientAuth, (2018, 2020))?;
    files.extend(issue("client-expired", expired, &ca)?);
    // A well-formed certificate from a CA the mock does not trust.
    let foreign = CertifiedIssuer::self_signed(ca_params("another CA, not trusted (TEST)")?, KeyPair::generate()?)?;
    files.push(("foreign-ca.pem".to_owned(), foreign.pem()));
    let foreign_client = leaf(&[], INSTITUTIONS[0], ExtendedKeyUsagePurpose::ClientAuth, (2020, 2046))?;
    files.extend(issue("client-foreign", foreign_client, &foreign)?);
    files.sort();
    Ok(Pki { files })
}

macro_rules! embedded_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../fixtures/pki/", $name)))),*]
    };
}

const EMBEDDED: &[(&str, &str)] = embedded_files!(
    "ca.pem",
    "ca-key.pem",
    "server.pem",
    "server-key.pem",
    "client-9900000001.pem",
    "client-9900000001-key.pem",
    "client-9900000002.pem",
    "client-9900000002-key.pem",
    "client-expired.pem",
    "client-expired-key.pem",
    "foreign-ca.pem",
    "client-foreign.pem",
    "client-foreign-key.pem",
);

/// The PKI committed in `fixtures/pki/`, embedded at build time.
pub fn embedded() -> Pki {
    Pki {
        files: EMBEDDED
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_pki_has_every_file_the_embedded_one_has() {
        let fresh = generate().unwrap();
        let names = |p: &Pki| {
            p.files
                .iter()
                .map(|(n, _)| n.clone())
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(names(&fresh), names(&embedded()));
        assert!(fresh.ca_cert().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        let (cert, key) = fresh.client("9900000001").unwrap();
        assert!(cert.contains("CERTIFICATE") && key.contains("PRIVATE KEY"));
    }

    #[test]
    fn a_written_pki_reads_back_and_an_empty_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let pki = generate().unwrap();
        pki.write(dir.path()).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a certificate").unwrap();
        assert_eq!(Pki::read(dir.path()).unwrap(), pki);
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(Pki::read(empty.path()), Err(PkiError::Missing(n)) if n == "ca.pem"));
    }
}
