//! The folder-interface client: writes requests into `req/` safely, finds its result in
//! `res/` by name and checks the echoed identifiers, reads face files only once they are
//! complete, and gives up after a timeout — or, with a defect switched on, does one of these
//! things wrong.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use onshi_protocol::driver::{
    ConfirmQualificationParams, ConfirmQualificationResult, ImportFaceParams, ImportFaceResult, Outcome,
    TerminalFolders,
};
use onshi_protocol::filename::{Extension, Family, MessageFileName, Step};
use onshi_protocol::model::{QualificationRequest, QualificationResult};
use onshi_protocol::xml::{self, Document, Limits};
use onshi_protocol::{TextEncoding, XmlOptions, read_message, write_message};

use crate::defects::Defect;
use crate::interpret::{self, Conclusion, Defects as _};

/// Settings of the reference client.
#[derive(Debug, Clone)]
pub struct Options {
    pub defects: Vec<Defect>,
    /// Default wait for a result when the harness gives none.
    pub timeout_ms: u64,
    /// How often to look for the result.
    pub poll_ms: u64,
    /// Two reads this far apart must agree before a file is trusted.
    pub stable_ms: u64,
    pub request_encoding: TextEncoding,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            defects: Vec::new(),
            timeout_ms: 30_000,
            poll_ms: 25,
            stable_ms: 100,
            request_encoding: TextEncoding::Utf8,
        }
    }
}

/// A client bound to one terminal folder and institution.
#[derive(Debug)]
pub struct FolderClient {
    req: PathBuf,
    res: PathBuf,
    face: PathBuf,
    institution_code: String,
    options: Options,
    counter: u32,
}

fn today_jst() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(9))
        .format("%Y%m%d")
        .to_string()
}

impl FolderClient {
    pub fn new(folders: &TerminalFolders, institution_code: &str, options: Options) -> Self {
        FolderClient {
            req: folders.req.clone().into(),
            res: folders.res.clone().into(),
            face: folders.face.clone().into(),
            institution_code: institution_code.to_owned(),
            options,
            counter: 0,
        }
    }

    fn has(&self, d: Defect) -> bool {
        self.options.defects.has(d)
    }

    fn deadline(&self, timeout_ms: Option<u64>) -> Instant {
        if self.has(Defect::NoTimeout) {
            Instant::now() + Duration::from_secs(365 * 24 * 3600)
        } else {
            Instant::now() + Duration::from_millis(timeout_ms.unwrap_or(self.options.timeout_ms))
        }
    }

    /// A request name not in use: `yyyyMMdd` + a 4-digit counter, skipping names whose
    /// request or result still exists.
    fn next_name(&mut self, date: &str) -> MessageFileName {
        loop {
            self.counter += 1;
            let name = MessageFileName::request(Family::OqsSiQuc, Step::First, format!("{date}{:04}", self.counter));
            let result = name.result_name(Extension::Xml).to_string();
            if !self.req.join(name.to_string()).exists() && !self.res.join(result).exists() {
                return name;
            }
        }
    }

    fn encode(&self, request: &QualificationRequest) -> Result<Vec<u8>, String> {
        let sjis_lie = self.has(Defect::SjisUnderUtf8Declaration);
        let encoding = if sjis_lie {
            TextEncoding::ShiftJis
        } else {
            self.options.request_encoding
        };
        let bytes = write_message(
            request,
            &XmlOptions {
                encoding,
                ..Default::default()
            },
        )
        .map_err(|e| format!("要求ファイルを作成できません: {e}"))?;
        if sjis_lie {
            // Keep the Shift_JIS bytes, swap in a declaration that claims UTF-8.
            let end = bytes
                .windows(2)
                .position(|w| w == b"?>")
                .expect("written with a declaration")
                + 2;
            let mut out = br#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#.to_vec();
            out.extend_from_slice(&bytes[end..]);
            return Ok(out);
        }
        Ok(bytes)
    }

    fn write_request(&self, name: &MessageFileName, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.req.join(name.to_string());
        if self.has(Defect::InPlaceWrite) {
            let mut f = std::fs::File::create(&path)?;
            let (a, b) = bytes.split_at(bytes.len() / 2);
            f.write_all(a)?;
            f.flush()?;
            sleep(Duration::from_millis(300));
            f.write_all(b)?;
            return f.sync_all();
        }
        let tmp = self.req.join(format!(".onshi-ref-{}.tmp", name.suffix));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)
    }

    /// `confirm_qualification` over the folder interface.
    pub fn confirm(&mut self, p: &ConfirmQualificationParams) -> ConfirmQualificationResult {
        self.confirm_inner(p).into()
    }

    fn confirm_inner(&mut self, p: &ConfirmQualificationParams) -> Conclusion {
        let date = p.date.clone().unwrap_or_else(today_jst);
        let deadline = self.deadline(p.timeout_ms);
        let mut sent: Vec<(MessageFileName, String)> = Vec::new();
        match self.send_request(p, &date) {
            Ok(s) => sent.push(s),
            Err(e) => return Conclusion::error(e),
        }
        let mut last_send = Instant::now();
        loop {
            for (name, afi) in &sent {
                let err = self.res.join(name.error_sibling().to_string());
                if err.exists() {
                    let text = read_err_text(&err);
                    let _ = std::fs::remove_file(&err);
                    let _ = std::fs::remove_file(self.res.join(name.to_string()));
                    return Conclusion::error(format!("端末が要求を処理できませんでした: {}", text.trim()));
                }
                let res = self.res.join(name.result_name(Extension::Xml).to_string());
                if res.exists() {
                    let conclusion = match self.stable_read(&res, deadline, false) {
                        Ok(bytes) => self.conclude_result(&bytes, afi),
                        Err(e) => Conclusion::error(e),
                    };
                    let _ = std::fs::remove_file(&res);
                    return conclusion;
                }
            }
            if Instant::now() >= deadline {
                for (name, _) in &sent {
                    let _ = std::fs::remove_file(self.req.join(name.to_string()));
                }
                let waited = p.timeout_ms.unwrap_or(self.options.timeout_ms);
                return Conclusion::error(format!(
                    "タイムアウト: {waited} ms 以内に資格確認の結果が返りませんでした (no result within {waited} ms)"
                ));
            }
            if self.has(Defect::ResendStorm) && last_send.elapsed() >= Duration::from_secs(1) {
                if let Ok(s) = self.send_request(p, &date) {
                    sent.push(s);
                }
                last_send = Instant::now();
            }
            sleep(Duration::from_millis(self.options.poll_ms));
        }
    }

    /// Writes one request; returns its name and ArbitraryFileIdentifier.
    fn send_request(
        &mut self,
        p: &ConfirmQualificationParams,
        date: &str,
    ) -> Result<(MessageFileName, String), String> {
        let name = self.next_name(date);
        let afi = format!("REF{}", name.suffix);
        let bytes = self.encode(&crate::request::qualification_request(
            &p.card,
            date,
            p.consent_limit_certificate,
            &self.institution_code,
            Some(&afi),
            &self.options.defects,
        ))?;
        self.write_request(&name, &bytes)
            .map_err(|e| format!("req/{name} を書き込めません: {e}"))?;
        Ok((name, afi))
    }

    fn parse(&self, bytes: &[u8]) -> Result<(QualificationResult, Document), String> {
        let limits = Limits::default();
        if self.has(Defect::Utf8OnlyReader) {
            let text = String::from_utf8_lossy(bytes).replacen("encoding=\"Shift_JIS\"", "encoding=\"UTF-8\"", 1);
            return read_message(text.as_bytes(), &limits).map_err(|e| e.to_string());
        }
        read_message(bytes, &limits).map_err(|e| e.to_string())
    }

    fn conclude_result(&self, bytes: &[u8], afi: &str) -> Conclusion {
        let (result, doc) = match self.parse(bytes) {
            Ok(r) => r,
            Err(e) => return Conclusion::error(format!("結果ファイルを読み取れません: {e}")),
        };
        let h = result.header();
        if !self.has(Defect::AnyResultValid)
            && (h.medical_institution_code.as_deref() != Some(self.institution_code.as_str())
                || h.arbitrary_file_identifier.as_deref() != Some(afi))
        {
            return Conclusion::error(format!(
                "結果ファイルがこの要求のものではありません (MedicalInstitutionCode {:?}, ArbitraryFileIdentifier {:?})",
                h.medical_institution_code, h.arbitrary_file_identifier
            ));
        }
        interpret::conclude(&result, doc.root.child("MessageHeader"), &self.options.defects)
    }

    /// Reads a file once two reads `stable_ms` apart agree and the bytes are well-formed.
    fn stable_read(&self, path: &Path, deadline: Instant, eager: bool) -> Result<Vec<u8>, String> {
        let well_formed = |b: &[u8]| {
            if self.has(Defect::Utf8OnlyReader) {
                xml::decode(String::from_utf8_lossy(b).as_bytes(), &Limits::default()).is_ok()
            } else {
                xml::decode(b, &Limits::default()).is_ok()
            }
        };
        let mut last_err = String::from("the file did not appear");
        loop {
            match std::fs::read(path) {
                Ok(first) if eager => return Ok(first),
                Ok(first) => {
                    sleep(Duration::from_millis(self.options.stable_ms));
                    match std::fs::read(path) {
                        Ok(second) if second == first && well_formed(&second) => return Ok(second),
                        Ok(_) => last_err = "the file was still changing or incomplete".into(),
                        Err(e) => last_err = e.to_string(),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => last_err = e.to_string(),
            }
            if Instant::now() >= deadline {
                return Err(format!("{} を読み取れません: {last_err}", path.display()));
            }
            sleep(Duration::from_millis(self.options.poll_ms));
        }
    }

    /// `import_face`: reads a face result once it is complete.
    pub fn import_face(&mut self, p: &ImportFaceParams) -> ImportFaceResult {
        let error = |message: String| ImportFaceResult {
            outcome: Outcome::Error,
            message,
            record: None,
            consents: None,
            reference_number: None,
        };
        if p.file.contains(['/', '\\']) || p.file.contains("..") {
            return error(format!("ファイル名が不正です: {:?}", p.file));
        }
        let path = self.face.join(&p.file);
        let deadline = self.deadline(Some(p.timeout_ms));
        let bytes = match self.stable_read(&path, deadline, self.has(Defect::EagerFaceRead)) {
            Ok(b) => b,
            Err(e) => return error(e),
        };
        let (result, doc) = match self.parse(&bytes) {
            Ok(r) => r,
            Err(e) => return error(format!("顔認証結果ファイルを読み取れません: {e}")),
        };
        let c = interpret::conclude(&result, doc.root.child("MessageHeader"), &self.options.defects);
        let first = result.results().first();
        let _ = std::fs::remove_file(&path);
        ImportFaceResult {
            outcome: c.outcome,
            message: c.message,
            record: c.record,
            consents: first.map(interpret::consents),
            reference_number: first
                .and_then(|r| r.reference_number.clone())
                .filter(|_| !self.has(Defect::IgnoreReferenceNumber)),
        }
    }
}

/// `.err` files are short text in the terminal's encoding (UTF-8 or Shift_JIS).
fn read_err_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    match std::str::from_utf8(&bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned(),
    }
}
