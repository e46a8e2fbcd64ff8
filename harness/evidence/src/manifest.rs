//! The manifest (`manifest.json`): who made the bundle, on what, from which run, and the
//! SHA-256 of every other file. Signing the manifest signs everything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format written in every manifest; a reader refuses a later number.
pub const FORMAT: &str = "onshi-bundle/1";

/// The number of a format name (`onshi-bundle/1` → 1), if it is one of ours.
pub fn format_version(format: &str) -> Option<u32> {
    format.strip_prefix("onshi-bundle/")?.parse().ok()
}

/// What was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The conformance suite (`onshi run`, `onshi demo`): report.json and its journal.
    Run,
    /// A reception rush (`onshi rush`): rush.json and its histograms.
    Rush,
}

/// The program that made the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Harness {
    /// `onshi-harness`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The source commit it was built from (`unknown` when built outside a git checkout).
    pub commit: String,
    /// The SHA-256 of the `onshi` binary that ran.
    pub binary_sha256: String,
}

/// The machine's basic facts (no names, no addresses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// `linux`, `macos`, `windows`.
    pub os: String,
    /// `x86_64`, `aarch64`.
    pub arch: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Memory, when the system tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// The kernel's release, when the system tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// How the run was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    /// The command line, as typed (arguments after the program).
    pub command: Vec<String>,
    /// The adapter command, for a run against a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// The person who answered, in operator mode (`--operator-name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The client as it described itself in `initialize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<serde_json::Value>,
    /// The World's settings: seed, reception date, time-outs, the error codes used.
    pub world: BTreeMap<String, serde_json::Value>,
    /// The versions of the formats and protocols involved (driver protocol, report, …).
    pub versions: BTreeMap<String, String>,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Its path inside the bundle.
    pub path: String,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
    /// Its length.
    pub bytes: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// What was run.
    pub kind: Kind,
    /// When the bundle was made (RFC 3339).
    pub made_at: String,
    /// The program that made it.
    pub harness: Harness,
    /// The machine it ran on.
    pub machine: Machine,
    /// How the run was made.
    pub run: RunFacts,
    /// Every other file, sorted by path.
    pub files: Vec<FileEntry>,
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}
