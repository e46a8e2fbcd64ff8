//! Evidence bundles (`onshi run --bundle`): one zip archive holding everything needed to judge
//! a run again — its reports, journal, the suite exactly as run, the World's settings — with a
//! manifest of every file's SHA-256 and, optionally, an Ed25519 signature over the manifest.
//!
//! This crate knows archives, hashes and keys, not runs: the CLI chooses the files, the engine
//! re-derives the verdicts. Reading is defensive — a bundle comes from someone else — and
//! happens in memory: nothing in an archive is ever written to disk by this crate.

mod archive;
mod keys;
mod manifest;

pub use archive::{Bundle, Limits, read, read_bytes, read_with, write};
pub use keys::{KeyError, fingerprint, new_key, public_key_pem, read_public_key, read_secret_key};
pub use manifest::{FORMAT, FileEntry, Harness, Kind, Machine, Manifest, RunFacts, format_version, sha256_hex};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// The manifest's name inside the archive.
pub const MANIFEST: &str = "manifest.json";
/// The signature's name inside the archive (absent when the bundle is not signed).
pub const SIGNATURE: &str = "manifest.sig";

/// Why a bundle could not be written or read at all.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not a zip archive, or a damaged or truncated one.
    #[error("not a readable bundle (a damaged or truncated zip archive?): {0}")]
    Archive(String),
    /// An entry's name could escape the folder it would be unpacked into, or is otherwise not
    /// a plain relative path.
    #[error("the archive holds an entry named {0:?}, which is not a plain relative path inside the bundle; refused")]
    UnsafeName(String),
    /// The same name twice.
    #[error("the archive holds {0:?} twice; refused")]
    Duplicate(String),
    /// Something is larger than a bundle may be.
    #[error("{what} is larger than {limit} bytes, the most a bundle may hold; refused (a zip bomb?)")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// No manifest, or one that cannot be read.
    #[error("the bundle's manifest.json: {0}")]
    Manifest(String),
    /// Made by a newer harness, in a format this one does not know.
    #[error(
        "the bundle is in format {format}, made by onshi-harness {made_by}; this onshi-harness {ours} reads {FORMAT} — install onshi-harness {made_by} or later to verify it"
    )]
    FutureFormat {
        /// The bundle's format.
        format: String,
        /// The version that made it.
        made_by: String,
        /// This harness's version.
        ours: String,
    },
    /// The signature file cannot be read.
    #[error("the bundle's manifest.sig: {0}")]
    Signature(String),
}

/// One way a bundle's contents disagree with its manifest or signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A file's bytes are not the bytes the manifest hashed.
    Altered {
        /// The file.
        path: String,
    },
    /// The manifest lists a file the archive does not hold.
    Missing {
        /// The file.
        path: String,
    },
    /// The archive holds a file the manifest does not list.
    Unlisted {
        /// The file.
        path: String,
    },
    /// A key was given to check against, and the bundle is not signed.
    Unsigned,
    /// The signature does not verify over the manifest: the manifest was changed after
    /// signing (or the signature was).
    BadSignature {
        /// The key the signature names.
        signer: String,
    },
    /// Signed, but not with the key given to check against.
    WrongKey {
        /// The key that signed it.
        signer: String,
        /// The key the reviewer trusts.
        expected: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Altered { path } => write!(
                f,
                "{path}: its SHA-256 is not the one in the manifest — the file was changed after the run (ファイルが改変されています)"
            ),
            Problem::Missing { path } => write!(
                f,
                "{path}: listed in the manifest but not in the bundle — a file was removed (ファイルが削除されています)"
            ),
            Problem::Unlisted { path } => write!(
                f,
                "{path}: in the bundle but not in the manifest — a file was added (マニフェストにないファイルがあります)"
            ),
            Problem::Unsigned => write!(
                f,
                "the bundle is not signed, but a key to check it against was given (署名がありません)"
            ),
            Problem::BadSignature { signer } => write!(
                f,
                "manifest.sig does not verify over manifest.json (key {signer}) — the manifest was changed after signing (署名が一致しません)"
            ),
            Problem::WrongKey { signer, expected } => write!(
                f,
                "signed by key {signer}, not by the key given ({expected}) (指定された鍵による署名ではありません)"
            ),
        }
    }
}

/// What checking a bundle's integrity found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrity {
    /// Every disagreement; none means every file is as the manifest says.
    pub problems: Vec<Problem>,
    /// The fingerprint of the key that signed it, when signed and the signature verifies.
    pub signed_by: Option<String>,
    /// How many files the manifest lists.
    pub files: usize,
}

/// Checks every file against the manifest, and the signature: over the manifest with the key
/// it names, and when `trusted` is given, that it is that key.
pub fn check(bundle: &Bundle, trusted: Option<&VerifyingKey>) -> Integrity {
    let mut problems = Vec::new();
    for entry in &bundle.manifest.files {
        match bundle.files.get(&entry.path) {
            None => problems.push(Problem::Missing {
                path: entry.path.clone(),
            }),
            Some(bytes) => {
                if bytes.len() as u64 != entry.bytes || manifest::sha256_hex(bytes) != entry.sha256 {
                    problems.push(Problem::Altered {
                        path: entry.path.clone(),
                    });
                }
            }
        }
    }
    for path in bundle.files.keys() {
        if !bundle.manifest.files.iter().any(|e| &e.path == path) {
            problems.push(Problem::Unlisted { path: path.clone() });
        }
    }
    let mut signed_by = None;
    match (&bundle.signature, trusted) {
        (None, Some(_)) => problems.push(Problem::Unsigned),
        (None, None) => {}
        (Some(sig), trusted) => {
            let signer = fingerprint(&sig.key);
            if sig.key.verify_strict(&bundle.manifest_bytes, &sig.signature).is_err() {
                problems.push(Problem::BadSignature { signer });
            } else if let Some(t) = trusted.filter(|t| **t != sig.key) {
                problems.push(Problem::WrongKey {
                    signer,
                    expected: fingerprint(t),
                });
            } else {
                signed_by = Some(signer);
            }
        }
    }
    Integrity {
        problems,
        signed_by,
        files: bundle.manifest.files.len(),
    }
}

#[cfg(test)]
mod tests;
