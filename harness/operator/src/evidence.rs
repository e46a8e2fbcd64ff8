//! Screenshots a person attaches to an answer, kept as evidence beside the report
//! (`<report>/operator/evidence/`). The file is named by the harness — the case, the step and
//! the console's step number — never by the uploaded name, and only images are kept: the
//! type is read from the bytes, not from what the browser claims. An index line records which
//! answer each screenshot backs and its SHA-256.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use onshi_harness::journal::{Entry, Event};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Largest screenshot kept (a full-HD PNG is well under this).
pub const MAX_SCREENSHOT: usize = 10 * 1024 * 1024;

/// Where screenshots are kept, relative to the report folder.
pub const RELATIVE: &str = "operator/evidence";

/// The index of kept screenshots, one JSON object per line.
pub const INDEX: &str = "index.jsonl";

/// An image format the console keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
    /// Windows bitmap (what Print Screen pastes into Paint saves by default).
    Bmp,
}

impl ImageKind {
    /// Recognises an image by its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        match bytes {
            [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some(ImageKind::Png),
            [0xff, 0xd8, 0xff, ..] => Some(ImageKind::Jpeg),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(ImageKind::Webp),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageKind::Gif),
            [b'B', b'M', ..] if bytes.len() >= 26 => Some(ImageKind::Bmp),
            _ => None,
        }
    }

    /// The file extension it is kept under.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
            ImageKind::Webp => "webp",
            ImageKind::Gif => "gif",
            ImageKind::Bmp => "bmp",
        }
    }
}

/// A screenshot attached to an answer, checked to be an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screenshot {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its format.
    pub kind: ImageKind,
}

/// Why an attached file is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScreenshotError {
    /// Not a PNG, JPEG, WebP, GIF or BMP image.
    #[error(
        "the attached file is not an image (PNG, JPEG, WebP, GIF or BMP); attach a screenshot or leave it empty (画像ファイルを添付してください)"
    )]
    NotAnImage,
    /// Larger than [`MAX_SCREENSHOT`].
    #[error("the screenshot is larger than {} MiB (スクリーンショットが大きすぎます)", MAX_SCREENSHOT / 1024 / 1024)]
    TooLarge,
}

impl Screenshot {
    /// Checks an uploaded file; an empty one (no file chosen) is no screenshot.
    pub fn from_upload(bytes: Vec<u8>) -> Result<Option<Screenshot>, ScreenshotError> {
        if bytes.is_empty() {
            return Ok(None);
        }
        if bytes.len() > MAX_SCREENSHOT {
            return Err(ScreenshotError::TooLarge);
        }
        let kind = ImageKind::sniff(&bytes).ok_or(ScreenshotError::NotAnImage)?;
        Ok(Some(Screenshot { bytes, kind }))
    }
}

/// One kept screenshot, as the index records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// The case it was taken in (from the run's live journal), if one had started.
    pub case: Option<String>,
    /// The case's step, 1-based.
    pub step: Option<usize>,
    /// The console's step number (the page's "step n").
    pub console_step: u64,
    /// The file's name in the evidence folder.
    pub file: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// When it was received (RFC 3339, the harness PC's clock).
    pub received: String,
}

/// The case and step the run is in: the last step the live journal records.
pub fn current_step(live_journal: &Path) -> Option<(String, usize)> {
    let file = std::fs::File::open(live_journal).ok()?;
    let mut last = None;
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        if let Ok(Entry {
            event: Event::Step { case, index, .. },
            ..
        }) = serde_json::from_str::<Entry>(&line)
        {
            last = Some((case, index));
        }
    }
    last
}

/// A file name made only of characters safe on every file system, from a case ID the suite
/// chose (case IDs are already this, but a name is never trusted into a path).
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .take(80)
        .collect()
}

/// Keeps `shot` in `dir` for the answer to console step `console_step`, taken during `at`
/// (case and step), and adds it to the index.
pub fn keep(dir: &Path, shot: &Screenshot, console_step: u64, at: Option<(String, usize)>) -> std::io::Result<Kept> {
    std::fs::create_dir_all(dir)?;
    let (case, step) = at.unzip();
    let stem = match (&case, step) {
        (Some(c), Some(s)) => format!("{}-step{s}-answer{console_step}", safe(c)),
        _ => format!("answer{console_step}"),
    };
    let file = format!("{stem}.{}", shot.kind.extension());
    // written whole, then named: a reader never sees half an image
    let part = dir.join(format!(".{file}.part"));
    std::fs::write(&part, &shot.bytes)?;
    std::fs::rename(&part, dir.join(&file))?;
    let kept = Kept {
        case,
        step,
        console_step,
        file,
        sha256: format!("{:x}", Sha256::digest(&shot.bytes)),
        bytes: shot.bytes.len(),
        received: chrono::Local::now().to_rfc3339(),
    };
    let mut line = serde_json::to_vec(&kept).expect("serialisable");
    line.push(b'\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(INDEX))?
        .write_all(&line)?;
    Ok(kept)
}

/// Every screenshot kept in `dir`, in the order received (none when there is no index).
pub fn kept(dir: &Path) -> Vec<Kept> {
    std::fs::read_to_string(dir.join(INDEX))
        .map(|text| text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        .unwrap_or_default()
}

/// Where a report folder's screenshots are.
pub fn folder(report_dir: &Path) -> PathBuf {
    report_dir.join(RELATIVE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];

    #[test]
    fn images_are_recognised_by_their_bytes_not_their_name() {
        assert_eq!(ImageKind::sniff(PNG), Some(ImageKind::Png));
        assert_eq!(ImageKind::sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(ImageKind::sniff(b"GIF89a...."), Some(ImageKind::Gif));
        assert_eq!(ImageKind::sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(ImageKind::sniff(b"BM"), None, "too short to be a bitmap");
        assert_eq!(
            Screenshot::from_upload(b"MZ\x90\0 an .exe".to_vec()),
            Err(ScreenshotError::NotAnImage)
        );
        assert_eq!(Screenshot::from_upload(Vec::new()), Ok(None), "no file chosen");
        let mut big = PNG.to_vec();
        big.resize(MAX_SCREENSHOT + 1, 0);
        assert_eq!(Screenshot::from_upload(big), Err(ScreenshotError::TooLarge));
    }

    #[test]
    fn a_kept_screenshot_is_named_by_the_harness_and_indexed_with_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let shot = Screenshot::from_upload(PNG.to_vec()).unwrap().unwrap();
        let k = keep(dir.path(), &shot, 7, Some(("../../etc/FILE-QUAL-001".into(), 2))).unwrap();
        assert_eq!(k.file, "______etc_FILE-QUAL-001-step2-answer7.png");
        assert_eq!(std::fs::read(dir.path().join(&k.file)).unwrap(), PNG);
        assert_eq!(k.sha256, format!("{:x}", Sha256::digest(PNG)));
        let none = keep(dir.path(), &shot, 8, None).unwrap();
        assert_eq!(none.file, "answer8.png");
        assert_eq!(kept(dir.path()), vec![k, none]);
        assert!(kept(&dir.path().join("missing")).is_empty());
    }

    proptest! {
        #[test]
        fn sniffing_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Screenshot::from_upload(bytes);
        }

        #[test]
        fn a_safe_name_stays_in_its_folder(s in ".{0,120}") {
            let n = safe(&s);
            prop_assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            prop_assert!(n.len() <= 80);
        }
    }
}
