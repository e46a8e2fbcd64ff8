//! A log file that cannot grow without bound: an adapter's stderr is kept whole up to a head
//! limit, then only its last lines (the tail), with a line in between saying how much was
//! left out. A chatty adapter (hundreds of MB of debug output) leaves a log of at most
//! head + tail + one line, and the lines that explain a crash — the last ones — are kept.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// What the log keeps by default: the first 4 MiB and the last 4 MiB of a run.
pub(crate) const HEAD_BYTES: u64 = 4 * 1024 * 1024;
pub(crate) const TAIL_BYTES: u64 = 4 * 1024 * 1024;

pub(crate) struct CappedLog {
    file: Option<File>,
    head_limit: u64,
    tail_limit: u64,
    /// Bytes written at the start of the file (never rewritten).
    head_len: u64,
    /// Lines after the head, newest last, at most `tail_limit` bytes.
    tail: VecDeque<Vec<u8>>,
    tail_bytes: u64,
    dropped_lines: u64,
    dropped_bytes: u64,
}

impl CappedLog {
    /// Creates (truncates) the log at `path`. A log that cannot be created keeps nothing on
    /// disk; the adapter still runs.
    pub fn create(path: &Path, head_limit: u64, tail_limit: u64) -> CappedLog {
        CappedLog {
            file: File::create(path).ok(),
            head_limit,
            tail_limit,
            head_len: 0,
            tail: VecDeque::new(),
            tail_bytes: 0,
            dropped_lines: 0,
            dropped_bytes: 0,
        }
    }

    /// Adds one line (without its newline).
    pub fn push(&mut self, line: &[u8]) {
        let size = line.len() as u64 + 1;
        if self.tail.is_empty() && self.head_len + size <= self.head_limit {
            if let Some(f) = self.file.as_mut()
                && f.write_all(line).and_then(|()| f.write_all(b"\n")).is_ok()
            {
                self.head_len += size;
            }
            return;
        }
        self.tail.push_back(line.to_vec());
        self.tail_bytes += size;
        while self.tail_bytes > self.tail_limit {
            let Some(old) = self.tail.pop_front() else { break };
            self.tail_bytes -= old.len() as u64 + 1;
            self.dropped_lines += 1;
            self.dropped_bytes += old.len() as u64 + 1;
        }
    }

    /// Writes the tail after the head (replacing an earlier flush), with a note of what was
    /// dropped between them. Called when an adapter process ends and when the run ends.
    pub fn flush(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let Some(f) = self.file.as_mut() else { return };
        let mut out = Vec::with_capacity(self.tail_bytes as usize + 200);
        if self.dropped_lines > 0 {
            out.extend_from_slice(
                format!(
                    "[onshi-harness: {} line(s), {} bytes of stderr left out here — this log keeps the first {} and the last {} bytes of a run]\n",
                    self.dropped_lines, self.dropped_bytes, self.head_limit, self.tail_limit
                )
                .as_bytes(),
            );
        }
        for line in &self.tail {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        let _ = f
            .set_len(self.head_len)
            .and_then(|()| f.seek(SeekFrom::Start(self.head_len)))
            .and_then(|_| f.write_all(&out));
    }
}

impl Drop for CappedLog {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chatty_writer_leaves_the_head_a_note_and_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stderr.log");
        let mut log = CappedLog::create(&path, 100, 50);
        for i in 0..1000 {
            log.push(format!("line {i:04}").as_bytes()); // 10 bytes with the newline
        }
        log.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..10], (0..10).map(|i| format!("line {i:04}")).collect::<Vec<_>>());
        assert_eq!(
            lines[10],
            "[onshi-harness: 985 line(s), 9850 bytes of stderr left out here — this log keeps the first 100 and the last 50 bytes of a run]"
        );
        assert_eq!(
            lines[11..],
            (995..1000).map(|i| format!("line {i:04}")).collect::<Vec<_>>()
        );

        // a restarted adapter goes on in the same log; the next flush rewrites the tail
        log.push(b"after restart");
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("line 0999\nafter restart\n"), "{text}");
        assert!(text.len() < 100 + 50 + 200);
    }

    #[test]
    fn a_quiet_writer_is_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stderr.log");
        let mut log = CappedLog::create(&path, HEAD_BYTES, TAIL_BYTES);
        log.push(b"starting");
        log.push(b"ready");
        log.flush();
        drop(log);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "starting\nready\n");
    }
}
