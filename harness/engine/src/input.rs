//! Reading the files a user hands the harness (cases, rush profiles, APDU scripts, card specs,
//! error codes, certificates, reports to merge): never more than a limit, so that `/dev/zero`,
//! an endless pipe or a huge file is refused with its size instead of read until memory runs
//! out.

use std::io::Read;
use std::path::Path;

use thiserror::Error;

/// The most a text file the harness is given may hold (the same as a message file).
pub const MAX_TEXT_BYTES: u64 = 4 * 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug, Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than a file of its kind may be.
    #[error("{path} is {} — more than the {} a {what} may hold", size_text(*.size), size_text(*.limit))]
    TooLarge {
        /// The file.
        path: String,
        /// What it was to be (`scenario file`, `rush profile`, …).
        what: &'static str,
        /// Its size, in bytes.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not a regular file, and it gave more than the limit (a device, a pipe).
    #[error("{path} gives more than {} and is not a regular file (a device or a pipe that does not end?); give a {what} as a regular file", size_text(*.limit))]
    Endless {
        /// The file.
        path: String,
        /// What it was to be.
        what: &'static str,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A directory, a FIFO or a socket, refused before opening.
    #[error("{path} is {kind}, not a file; give a {what} as a regular file")]
    NotAFile {
        /// The path.
        path: String,
        /// What it was to be.
        what: &'static str,
        /// What it is (`a directory`, `a FIFO`, …).
        kind: &'static str,
    },
    /// The file is not UTF-8 text.
    #[error("{path} is not UTF-8 text (first bad byte at offset {offset}); save the {what} as UTF-8")]
    NotUtf8 {
        /// The file.
        path: String,
        /// What it was to be.
        what: &'static str,
        /// The offset of the first byte that is not UTF-8.
        offset: usize,
    },
}

/// "4,194,304 bytes (4.0 MiB)".
fn size_text(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n < 1024 * 1024 {
        format!("{grouped} bytes")
    } else {
        format!("{grouped} bytes ({:.1} MiB)", n as f64 / (1024.0 * 1024.0))
    }
}

/// At most `limit` bytes of `path` (a `what`, for the message); more is an error that names
/// the file's size when it has one.
pub fn read_bytes(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, InputError> {
    let shown = path.display().to_string();
    let io = |source| InputError::Io {
        path: shown.clone(),
        source,
    };
    // a named pipe would block the open itself until someone writes to it
    {
        use std::os::unix::fs::FileTypeExt as _;
        let kind = std::fs::metadata(path).map_err(io)?.file_type();
        if kind.is_fifo() || kind.is_socket() || kind.is_dir() {
            return Err(InputError::NotAFile {
                path: shown,
                what,
                kind: if kind.is_dir() {
                    "a folder"
                } else if kind.is_fifo() {
                    "a named pipe"
                } else {
                    "a socket"
                },
            });
        }
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_file() && meta.len() > limit {
        return Err(InputError::TooLarge {
            path: shown,
            what,
            size: meta.len(),
            limit,
        });
    }
    let mut buf = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut buf).map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(if meta.is_file() {
            // it grew while being read
            InputError::TooLarge {
                path: shown,
                what,
                size: buf.len() as u64,
                limit,
            }
        } else {
            InputError::Endless {
                path: shown,
                what,
                limit,
            }
        });
    }
    Ok(buf)
}

/// [`read_bytes`] as UTF-8 text.
pub fn read_text(path: &Path, what: &'static str, limit: u64) -> Result<String, InputError> {
    let bytes = read_bytes(path, what, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        path: path.display().to_string(),
        what,
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success());
    }

    #[test]
    fn endless_and_large_files_are_refused_with_their_size_and_text_must_be_utf8() {
        let e = read_text(Path::new("/dev/zero"), "rush profile", 1024).unwrap_err();
        assert!(matches!(e, InputError::Endless { .. }), "{e}");
        assert!(e.to_string().contains("rush profile"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        std::fs::File::create(&big).unwrap().set_len(5 * 1024 * 1024).unwrap();
        let e = read_text(&big, "case", MAX_TEXT_BYTES).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{} is 5,242,880 bytes (5.0 MiB) — more than the 4,194,304 bytes (4.0 MiB) a case may hold",
                big.display()
            )
        );

        let latin = dir.path().join("latin.toml");
        std::fs::write(&latin, b"id = \"caf\xe9\"").unwrap();
        let e = read_text(&latin, "case", MAX_TEXT_BYTES).unwrap_err();
        assert!(e.to_string().contains("offset 9"), "{e}");

        let fifo = dir.path().join("pipe.toml");
        mkfifo(&fifo);
        let e = read_text(&fifo, "case", MAX_TEXT_BYTES).unwrap_err();
        assert!(e.to_string().contains("is a named pipe, not a file"), "{e}");

        let ok = dir.path().join("ok.toml");
        std::fs::write(&ok, "id = 1").unwrap();
        assert_eq!(read_text(&ok, "case", 6).unwrap(), "id = 1");
        assert!(matches!(
            read_text(&ok, "case", 5),
            Err(InputError::TooLarge { size: 6, .. })
        ));
    }
}
