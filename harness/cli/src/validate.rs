//! `onshi validate FILE...`: the message lint on files from disk.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use onshi_protocol::lint::{Finding, lint, lint_document, lint_file_name};
use onshi_protocol::xml::{self, Limits};
use onshi_protocol::{MessageKind, Severity};

use crate::{EXIT_FAIL, EXIT_USAGE};

/// Reads at most the lint's size limit (plus one byte, to know it is exceeded).
fn read_bounded(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// Prints one file's findings ("ok" when none); returns its errors and adds its warnings.
fn report(findings: &[Finding], warnings: &mut usize) -> usize {
    for f in findings {
        println!("  {f}");
    }
    if findings.is_empty() {
        println!("  ok");
    }
    *warnings += findings.iter().filter(|f| f.severity == Severity::Warning).count();
    findings.iter().filter(|f| f.severity == Severity::Error).count()
}

pub fn run(files: &[std::path::PathBuf]) -> ExitCode {
    let limits = Limits::default();
    let (mut errors, mut warnings, mut unreadable) = (0, 0, 0);
    for path in files {
        let shown = path.display();
        let meta = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => {
                eprintln!("{shown}: not a regular file");
                unreadable += 1;
                continue;
            }
            Err(e) => {
                eprintln!("{shown}: {e}");
                unreadable += 1;
                continue;
            }
        };
        let bytes = match read_bounded(path, limits.max_bytes) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{shown}: cannot read: {e}");
                unreadable += 1;
                continue;
            }
        };
        let name = path.file_name().unwrap_or_default();
        let (parsed, mut findings) = lint_file_name(name);
        if meta.len() > limits.max_bytes as u64 {
            // Only the first bytes were read: the size is the file's, the content is not judged.
            let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
            let e = xml::DecodeError::TooLarge {
                size,
                limit: limits.max_bytes,
            };
            println!("{shown}: {} bytes — not read beyond the limit", meta.len());
            findings.push(Finding {
                check: e.check_id(),
                severity: Severity::Error,
                path: None,
                line: None,
                message: e.to_string(),
            });
            errors += report(&findings, &mut warnings);
            continue;
        }
        let kind = match parsed.as_ref().map(MessageKind::for_file_name) {
            Ok(Ok(Some(kind))) => Some(kind),
            Ok(Ok(None)) => {
                println!("{shown}: not an XML message (a .err, .pdf or .zip file); only its name was checked");
                None
            }
            Ok(Err(unsupported)) => {
                println!("{shown}: {unsupported}; only well-formedness is checked");
                if let Err(e) = xml::decode(&bytes, &limits) {
                    findings.push(Finding {
                        check: e.check_id(),
                        severity: Severity::Error,
                        path: None,
                        line: e.line(),
                        message: e.to_string(),
                    });
                }
                None
            }
            // Not an interface file name: guess the kind from the content.
            Err(_) => match xml::decode(&bytes, &limits) {
                Ok(doc) => {
                    let kind = MessageKind::sniff(&doc.root);
                    println!(
                        "{shown}: the name says nothing; read as {} by its content",
                        kind.title()
                    );
                    findings.extend(lint_document(kind, &doc));
                    None
                }
                Err(_) => Some(MessageKind::QualificationRequest),
            },
        };
        if let Some(kind) = kind {
            println!("{shown}: {}", kind.title());
            findings.extend(lint(kind, &bytes, &limits).findings);
        }
        errors += report(&findings, &mut warnings);
    }
    println!(
        "\n{} file(s): {errors} error(s), {warnings} warning(s). Check IDs are explained in docs/checks.md.",
        files.len()
    );
    if unreadable > 0 {
        ExitCode::from(EXIT_USAGE)
    } else if errors > 0 {
        ExitCode::from(EXIT_FAIL)
    } else {
        ExitCode::SUCCESS
    }
}
