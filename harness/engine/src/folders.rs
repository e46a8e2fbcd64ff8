//! Where a run writes: the report folder and the terminal's shared folder, made absolute and
//! checked against each other before anything is created. The file-system watcher reports
//! absolute paths and adapters may run in another directory, so a relative path must never
//! get past this point; and one folder inside the other would put the harness's own files
//! where the client (or the terminal's clean-up between cases) sees them.

use std::path::{Component, Path, PathBuf};

use thiserror::Error;

/// The entries the harness itself writes into a report folder; a terminal folder must not
/// take one of these names.
pub(crate) const REPORT_ENTRIES: &[&str] = &[
    "report.json",
    "report.html",
    "junit.xml",
    "journal.jsonl",
    "adapter-stderr.log",
    "pcscd",
    "rush",
];

/// Why the run's folders cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FolderError {
    #[error(
        "cannot make {path} absolute: {reason} (a relative path is taken against the working directory — was it deleted?)"
    )]
    /// A relative folder could not be made absolute.
    NotAbsolute {
        /// The folder as given.
        path: String,
        /// Why it cannot be made absolute.
        reason: String,
    },
    #[error(
        "the terminal folder {path} is not valid UTF-8: the driver protocol announces it to the adapter as JSON text; choose a UTF-8 path with --terminal-dir"
    )]
    /// The terminal folder's path is not UTF-8.
    NotUtf8 {
        /// The folder.
        path: String,
    },
    #[error(
        "the report folder {report} is the terminal folder {terminal} or inside it: the journal and reports would appear in the folder the client watches and be removed between cases; put them elsewhere (--report-dir) or leave --terminal-dir out (default: <report-dir>/terminal)"
    )]
    /// The report folder is the terminal folder or inside it.
    ReportInsideTerminal {
        /// The report folder.
        report: String,
        /// The terminal folder.
        terminal: String,
    },
    #[error(
        "the terminal folder {terminal} would take the place of the report's own {entry} in {report}; choose another --terminal-dir (default: <report-dir>/terminal)"
    )]
    /// The terminal folder would replace one of the report's own files or folders.
    TerminalOnReportEntry {
        /// The terminal folder.
        terminal: String,
        /// The report folder.
        report: String,
        /// The report's own entry it would replace.
        entry: String,
    },
}

/// A path made absolute against the working directory (without touching the file system
/// beyond reading the working directory).
pub fn absolute(path: &Path) -> Result<PathBuf, FolderError> {
    std::path::absolute(path).map_err(|e| FolderError::NotAbsolute {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The report folder and the terminal root of a run, absolute, and checked against each
/// other. `terminal` defaults to `<report>/terminal`.
pub fn run_folders(report: &Path, terminal: Option<&Path>) -> Result<(PathBuf, PathBuf), FolderError> {
    let report = absolute(report)?;
    let terminal = match terminal {
        Some(t) => absolute(t)?,
        None => report.join("terminal"),
    };
    if terminal.to_str().is_none() {
        return Err(FolderError::NotUtf8 {
            path: terminal.display().to_string(),
        });
    }
    let (report_real, terminal_real) = (resolved(&report), resolved(&terminal));
    if report_real.starts_with(&terminal_real) {
        return Err(FolderError::ReportInsideTerminal {
            report: report.display().to_string(),
            terminal: terminal.display().to_string(),
        });
    }
    if let Ok(rest) = terminal_real.strip_prefix(&report_real)
        && let Some(Component::Normal(first)) = rest.components().next()
        && let Some(entry) = REPORT_ENTRIES.iter().find(|e| first == **e)
    {
        return Err(FolderError::TerminalOnReportEntry {
            terminal: terminal.display().to_string(),
            report: report.display().to_string(),
            entry: (*entry).to_owned(),
        });
    }
    Ok((report, terminal))
}

/// `path` with its longest existing ancestor's symbolic links resolved and `.`/`..` of the
/// rest folded — what it will be once created — so that two spellings of one folder compare
/// equal.
fn resolved(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for c in rest.iter().rev() {
                match c {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::Normal(n) => out.push(n),
                    _ => {}
                }
            }
            return out;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_terminal_is_inside_the_report_and_absolute() {
        let d = tempfile::tempdir().unwrap();
        let (r, t) = run_folders(&d.path().join("r"), None).unwrap();
        assert!(r.is_absolute() && t.is_absolute());
        assert_eq!(t, d.path().join("r/terminal"));
    }

    #[test]
    fn relative_paths_become_absolute_against_the_working_directory() {
        let (r, t) = run_folders(Path::new("onshi-report"), Some(Path::new("./x/../term"))).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(r, cwd.join("onshi-report"));
        assert!(t.is_absolute() && t.starts_with(&cwd), "{t:?}");
    }

    #[test]
    fn a_report_inside_the_terminal_folder_is_refused_under_any_spelling() {
        let d = tempfile::tempdir().unwrap();
        let term = d.path().join("term");
        std::fs::create_dir_all(term.join("req")).unwrap();
        for report in [
            term.clone(),
            term.join("req"),
            term.join("req/../res/out"),
            d.path().join("other/../term/x"),
        ] {
            let e = run_folders(&report, Some(&term)).unwrap_err();
            assert!(matches!(e, FolderError::ReportInsideTerminal { .. }), "{report:?}: {e}");
        }
        // through a symbolic link to the terminal folder
        std::os::unix::fs::symlink(&term, d.path().join("link")).unwrap();
        let e = run_folders(&d.path().join("link/reports"), Some(&term)).unwrap_err();
        assert!(e.to_string().contains("inside it"), "{e}");
    }

    #[test]
    fn a_terminal_folder_on_a_report_entry_is_refused_elsewhere_inside_is_fine() {
        let d = tempfile::tempdir().unwrap();
        let report = d.path().join("r");
        let e = run_folders(&report, Some(&report.join("pcscd"))).unwrap_err();
        assert!(e.to_string().contains("pcscd"), "{e}");
        assert!(run_folders(&report, Some(&report.join("shared/OQS"))).is_ok());
        assert!(run_folders(&report, Some(&d.path().join("elsewhere"))).is_ok());
    }

    #[test]
    fn a_terminal_folder_that_is_not_utf8_is_refused_with_the_way_out() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let bad = d.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        let e = run_folders(&d.path().join("r"), Some(&bad)).unwrap_err();
        assert!(e.to_string().contains("--terminal-dir"), "{e}");
        // the report folder may have any name when the terminal folder is elsewhere
        assert!(run_folders(&bad, Some(&d.path().join("t"))).is_ok());
        // … but then the default terminal folder inside it is refused
        assert!(matches!(run_folders(&bad, None), Err(FolderError::NotUtf8 { .. })));
    }
}
