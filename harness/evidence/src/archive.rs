//! The archive: writing a bundle (atomically: a half-written bundle never carries the final
//! name) and reading one into memory behind limits — sizes, entry count, names that stay
//! inside the bundle — so that a damaged or hostile archive is refused, never unpacked.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::Path;

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::manifest::{FORMAT, FileEntry, Manifest, format_version, sha256_hex};
use crate::{BundleError, MANIFEST, SIGNATURE};

/// How much a bundle may hold when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The archive file itself.
    pub archive_bytes: u64,
    /// One file, unpacked.
    pub file_bytes: u64,
    /// All files together, unpacked.
    pub total_bytes: u64,
    /// Entries in the archive.
    pub entries: usize,
}

impl Default for Limits {
    /// Far above a real run (the demo's bundle is under 2 MiB; a day-long operator session
    /// with screenshots some hundreds), far below what would hurt a reviewer's laptop.
    fn default() -> Self {
        Limits {
            archive_bytes: 1 << 30,
            file_bytes: 512 << 20,
            total_bytes: 1 << 30,
            entries: 100_000,
        }
    }
}

/// A signature as read from `manifest.sig`.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The key it names.
    pub key: VerifyingKey,
    /// The signature over manifest.json's bytes.
    pub signature: Signature,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFile {
    algorithm: String,
    public_key: String,
    signature: String,
}

/// A bundle read into memory: the manifest, the signature if any, and every other file.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The manifest.
    pub manifest: Manifest,
    /// manifest.json exactly as stored (what the signature covers).
    pub manifest_bytes: Vec<u8>,
    /// The signature, when the bundle is signed.
    pub signature: Option<Signed>,
    /// Every file but the manifest and the signature, by path.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Bundle {
    /// A file's bytes.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }
}

/// Whether `name` is a plain relative path that stays inside the folder it names: `/`
/// separated, no empty, `.` or `..` part, no drive letters or streams (`:`), no backslashes
/// or control characters.
pub(crate) fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && !name.chars().any(|c| c.is_control() || c == '\\' || c == ':')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Writes `files` as a bundle at `path` with a manifest built from `manifest` (its `files`
/// are replaced by the hashes of these), signed with `key` when given. Returns the manifest
/// written.
pub fn write(
    path: &Path,
    mut manifest: Manifest,
    mut files: Vec<(String, Vec<u8>)>,
    key: Option<&SigningKey>,
) -> Result<Manifest, BundleError> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in files.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(BundleError::Duplicate(pair[0].0.clone()));
        }
    }
    for (name, _) in &files {
        if !safe_name(name) || name == MANIFEST || name == SIGNATURE {
            return Err(BundleError::UnsafeName(name.clone()));
        }
    }
    manifest.format = FORMAT.to_owned();
    manifest.files = files
        .iter()
        .map(|(name, bytes)| FileEntry {
            path: name.clone(),
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
        })
        .collect();
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::Manifest(e.to_string()))?;
    let signature = key.map(|k| {
        let sig = k.sign(&manifest_bytes);
        let b64 = base64::engine::general_purpose::STANDARD;
        serde_json::to_vec_pretty(&SignatureFile {
            algorithm: "ed25519".into(),
            public_key: b64.encode(k.verifying_key().as_bytes()),
            signature: b64.encode(sig.to_bytes()),
        })
        .expect("a signature serialises")
    });

    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| BundleError::Io { path: p, source }
    };
    let partial = path.with_file_name(format!(
        ".{}.partial-{}",
        path.file_name().map_or("bundle".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let zipped = (|| -> Result<(), BundleError> {
        let out = std::fs::File::create(&partial).map_err(io(&partial))?;
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(out));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(false);
        let arc = |e: zip::result::ZipError| BundleError::Archive(e.to_string());
        let mut put = |name: &str, bytes: &[u8]| -> Result<(), BundleError> {
            zip.start_file(name, options).map_err(arc)?;
            zip.write_all(bytes).map_err(io(&partial))
        };
        put(MANIFEST, &manifest_bytes)?;
        if let Some(sig) = &signature {
            put(SIGNATURE, sig)?;
        }
        for (name, bytes) in &files {
            put(name, bytes)?;
        }
        let mut inner = zip.finish().map_err(arc)?;
        inner.flush().map_err(io(&partial))?;
        inner
            .into_inner()
            .map_err(|e| BundleError::Io {
                path: partial.display().to_string(),
                source: e.into_error(),
            })?
            .sync_all()
            .map_err(io(&partial))
    })();
    if let Err(e) = zipped.and_then(|()| std::fs::rename(&partial, path).map_err(io(path))) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    Ok(manifest)
}

/// Reads the bundle at `path` with the default [`Limits`].
pub fn read(path: &Path) -> Result<Bundle, BundleError> {
    read_with(path, Limits::default())
}

/// Reads the bundle at `path` within `limits`.
pub fn read_with(path: &Path, limits: Limits) -> Result<Bundle, BundleError> {
    let io = |source| BundleError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > limits.archive_bytes {
        return Err(BundleError::TooLarge {
            what: path.display().to_string(),
            limit: limits.archive_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limits.archive_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    read_bytes(&bytes, limits)
}

/// Reads a bundle from its bytes within `limits`.
pub fn read_bytes(bytes: &[u8], limits: Limits) -> Result<Bundle, BundleError> {
    if bytes.len() as u64 > limits.archive_bytes {
        return Err(BundleError::TooLarge {
            what: "the archive".into(),
            limit: limits.archive_bytes,
        });
    }
    let arc = |e: zip::result::ZipError| BundleError::Archive(e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(arc)?;
    if archive.len() > limits.entries {
        return Err(BundleError::TooLarge {
            what: format!("the archive's list of {} entries", archive.len()),
            limit: limits.entries as u64,
        });
    }
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(arc)?;
        // names that are not UTF-8 are refused rather than guessed at
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(_) => {
                return Err(BundleError::UnsafeName(
                    String::from_utf8_lossy(entry.name_raw()).into_owned(),
                ));
            }
        };
        if entry.is_dir() {
            // a re-zipped bundle may carry folder entries; they hold no bytes
            if safe_name(name.trim_end_matches('/')) {
                continue;
            }
            return Err(BundleError::UnsafeName(name));
        }
        if !safe_name(&name) || entry.is_symlink() {
            return Err(BundleError::UnsafeName(name));
        }
        // the declared size may lie; the read is capped all the same
        let cap = limits.file_bytes.min(limits.total_bytes - total);
        if entry.size() > cap {
            return Err(BundleError::TooLarge { what: name, limit: cap });
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        (&mut entry)
            .take(cap + 1)
            .read_to_end(&mut data)
            .map_err(|e| BundleError::Archive(format!("{name}: {e}")))?;
        if data.len() as u64 > cap {
            return Err(BundleError::TooLarge { what: name, limit: cap });
        }
        total += data.len() as u64;
        if files.insert(name.clone(), data).is_some() {
            return Err(BundleError::Duplicate(name));
        }
    }
    let manifest_bytes = files
        .remove(MANIFEST)
        .ok_or_else(|| BundleError::Manifest("missing — this is not an onshi evidence bundle".into()))?;
    let manifest = parse_manifest(&manifest_bytes)?;
    let signature = files.remove(SIGNATURE).map(|b| parse_signature(&b)).transpose()?;
    Ok(Bundle {
        manifest,
        manifest_bytes,
        signature,
        files,
    })
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, BundleError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| BundleError::Manifest(format!("not JSON: {e}")))?;
    let format = value.get("format").and_then(|f| f.as_str()).unwrap_or_default();
    match format_version(format) {
        Some(1) => {}
        Some(n) if n > 1 => {
            return Err(BundleError::FutureFormat {
                format: format.to_owned(),
                made_by: value
                    .pointer("/harness/version")
                    .and_then(|v| v.as_str())
                    .unwrap_or("a later version")
                    .to_owned(),
                ours: env!("CARGO_PKG_VERSION").to_owned(),
            });
        }
        _ => {
            return Err(BundleError::Manifest(format!(
                "format {format:?} is not one of onshi's ({FORMAT})"
            )));
        }
    }
    serde_json::from_value(value).map_err(|e| BundleError::Manifest(e.to_string()))
}

fn parse_signature(bytes: &[u8]) -> Result<Signed, BundleError> {
    let bad = |m: String| BundleError::Signature(m);
    let file: SignatureFile = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if file.algorithm != "ed25519" {
        return Err(bad(format!("algorithm {:?}; only ed25519 is known", file.algorithm)));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let key: [u8; 32] = b64
        .decode(&file.public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| bad("public_key is not 32 bytes of base64".into()))?;
    let signature: [u8; 64] = b64
        .decode(&file.signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad("signature is not 64 bytes of base64".into()))?;
    Ok(Signed {
        key: VerifyingKey::from_bytes(&key).map_err(|e| bad(format!("public_key: {e}")))?,
        signature: Signature::from_bytes(&signature),
    })
}
