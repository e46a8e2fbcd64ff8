//! The shared folder (`req/`, `res/`, `face/`) and the file operations the terminal performs
//! on it: bounded reads that never follow links, and atomic writes (temporary name, then
//! rename) so that no reader ever sees half a result.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::events::Folder;

/// Prefix of the terminal's temporary files; events on such names are the terminal's own.
pub const TEMP_PREFIX: &str = ".onshi-terminal-";

/// The terminal's folder layout under one root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folders {
    /// The terminal folder.
    pub root: PathBuf,
    /// `req/`: requests from the client.
    pub req: PathBuf,
    /// `res/`: results from the terminal.
    pub res: PathBuf,
    /// `face/`: results of the face-auth reader.
    pub face: PathBuf,
}

impl Folders {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Folders {
            req: root.join("req"),
            res: root.join("res"),
            face: root.join("face"),
            root,
        }
    }

    /// The same layout with an absolute root (relative roots are taken against the working
    /// directory now). The watcher reports absolute paths; a relative root would match none
    /// of its events.
    pub fn absolute(&self) -> io::Result<Folders> {
        Ok(Folders::new(std::path::absolute(&self.root)?))
    }

    /// The path of `folder`.
    pub fn path(&self, folder: Folder) -> &Path {
        match folder {
            Folder::Req => &self.req,
            Folder::Res => &self.res,
            Folder::Face => &self.face,
        }
    }

    /// Creates the three folders (and the root) when missing.
    pub fn create(&self) -> io::Result<()> {
        for f in [Folder::Req, Folder::Res, Folder::Face] {
            std::fs::create_dir_all(self.path(f))?;
        }
        Ok(())
    }

    /// Removes every entry of the three folders — a fresh terminal for the next case.
    pub fn clear(&self) -> io::Result<()> {
        for f in [Folder::Req, Folder::Res, Folder::Face] {
            for entry in std::fs::read_dir(self.path(f))? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
        }
        Ok(())
    }

    /// The names in a folder, sorted.
    pub fn list(&self, folder: Folder) -> io::Result<Vec<OsString>> {
        let mut names: Vec<_> = std::fs::read_dir(self.path(folder))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort();
        Ok(names)
    }
}

/// What reading a request file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The file's bytes.
    Bytes(Vec<u8>),
    /// Larger than the limit; nothing beyond the limit was read.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A link, a directory or another non-regular file: never followed or read.
    NotRegular(NotRegular),
}

/// The kinds of entries that are not regular files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRegular {
    /// A symbolic link.
    Symlink,
    /// A directory.
    Directory,
    /// A FIFO, a socket or a device.
    Other,
}

impl NotRegular {
    /// What it is, in words (`a symbolic link`, …).
    pub fn describe(self) -> &'static str {
        match self {
            NotRegular::Symlink => "a symbolic link (the terminal does not follow links)",
            NotRegular::Directory => "a directory",
            NotRegular::Other => "not a regular file",
        }
    }
}

/// Reads at most `limit` bytes of a regular file, refusing links.
pub fn read_bounded(path: &Path, limit: usize) -> io::Result<ReadOutcome> {
    let meta = std::fs::symlink_metadata(path)?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Ok(ReadOutcome::NotRegular(NotRegular::Symlink));
    }
    if ft.is_dir() {
        return Ok(ReadOutcome::NotRegular(NotRegular::Directory));
    }
    if !ft.is_file() {
        return Ok(ReadOutcome::NotRegular(NotRegular::Other));
    }
    let mut buf = Vec::with_capacity(meta.len().min(limit as u64) as usize);
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)?;
    if buf.len() > limit {
        return Ok(ReadOutcome::TooLarge { limit });
    }
    Ok(ReadOutcome::Bytes(buf))
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary name in the terminal's own namespace.
pub fn temp_name() -> String {
    format!(
        "{TEMP_PREFIX}{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes `bytes` to `dir/name` atomically: a temporary file in the same folder, flushed and
/// synced, then renamed. `before_rename` runs just before the rename (to claim its events).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8], before_rename: impl FnOnce()) -> io::Result<()> {
    let tmp = dir.join(temp_name());
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        before_rename();
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_and_do_not_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(
            read_bounded(&f, 10).unwrap(),
            ReadOutcome::Bytes(b"0123456789".to_vec())
        );
        assert_eq!(read_bounded(&f, 9).unwrap(), ReadOutcome::TooLarge { limit: 9 });
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        assert_eq!(
            read_bounded(&link, 100).unwrap(),
            ReadOutcome::NotRegular(NotRegular::Symlink)
        );
        assert_eq!(
            read_bounded(dir.path(), 100).unwrap(),
            ReadOutcome::NotRegular(NotRegular::Directory)
        );
    }

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "x.xml", b"<a/>", || {}).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.xml"]);
    }
}
