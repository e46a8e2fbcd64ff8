//! The folder-interface client: writes requests into `req/` safely, recognises its result in
//! `res/` in one of the styles real clients use (by name, by content, by creation event, by
//! stable read), checks the echoed identifiers, reads files only once they are complete, and
//! gives up after a timeout — or, with a defect switched on, does one of these things wrong.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use notify::event::{ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher as _};
use onshi_protocol::driver::{
    ConfirmQualificationParams, ConfirmQualificationResult, ImportFaceParams, ImportFaceResult, Outcome,
    TerminalFolders,
};
use onshi_protocol::filename::{Extension, Family, MessageFileName, Step};
use onshi_protocol::model::XmlRecord;
use onshi_protocol::model::{QualificationRequest, QualificationResult};
use onshi_protocol::xml::{self, Document, Limits};
use onshi_protocol::{TextEncoding, XmlOptions, read_message, write_message};

use crate::defects::Defect;
use crate::interpret::{self, Conclusion, Defects as _};
use crate::timing::Timing;

/// How the client recognises its result in `res/` — the styles of real clients (reference
/// §10.2 and §10.3). Every style must work against the terminal; the tests run the suite in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClientStyle {
    /// The result is the request's name with `req`→`res` (`.xml`, `.zip` or `.pdf`).
    #[default]
    Name,
    /// Names are ignored: the first new file in `res/` whose text contains the request's
    /// `<ArbitraryFileIdentifier>` literal (for downloads: `<ReceptionNumber>`). PDFs, which
    /// carry no identifier, are taken by name.
    Content,
    /// By name, but only files a creation (or rename-into) event announced: the folder is
    /// never scanned, so files that were there before the client started do not exist for it.
    CreatedEvents,
    /// By name, and a file is trusted only after two identical reads 300 ms apart that parse.
    StableRead,
}

/// Settings of the reference client.
#[derive(Debug, Clone)]
pub struct Options {
    /// The deliberate defects to show.
    pub defects: Vec<Defect>,
    /// Default wait for a result when the harness gives none.
    pub timeout_ms: u64,
    /// Ignore the harness's `timeout_ms`: always wait `timeout_ms` (a fixed time-out).
    pub fixed_timeout: bool,
    /// Declare `timeout_ms` in `initialize` as the client's own time-out.
    pub declare_timeout: bool,
    /// Keep one connection for the API searches of a session (HTTP keep-alive).
    pub keep_alive: bool,
    /// How often to look for the result.
    pub poll_ms: u64,
    /// Two reads this far apart must agree before a file is trusted (the `stable-read` style
    /// uses 300 ms).
    pub stable_ms: u64,
    /// Pause before asking again for a bulk result that is 処理中 (real clients: ~10 s).
    pub bulk_poll_ms: u64,
    /// The encoding of the request files written.
    pub request_encoding: TextEncoding,
    /// How the client watches the folder and reads files.
    pub style: ClientStyle,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            defects: Vec::new(),
            timeout_ms: 30_000,
            fixed_timeout: false,
            declare_timeout: false,
            keep_alive: false,
            poll_ms: 25,
            stable_ms: 100,
            bulk_poll_ms: 1_500,
            request_encoding: TextEncoding::Utf8,
            style: ClientStyle::Name,
        }
    }
}

/// A request written to `req/`, and what identifies its result.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub name: MessageFileName,
    pub afi: String,
    /// For downloads (`02req`): the ReceptionNumber the result must echo.
    pub reception: Option<String>,
    /// `res/` names when the request was written (the content style wants new files only).
    before: HashSet<String>,
}

impl Sent {
    /// The literal a content-matching client looks for.
    fn marker(&self) -> String {
        match &self.reception {
            Some(r) => format!("<ReceptionNumber>{r}</ReceptionNumber>"),
            None => format!("<ArbitraryFileIdentifier>{}</ArbitraryFileIdentifier>", self.afi),
        }
    }
}

/// What came back for a request.
#[derive(Debug)]
pub(crate) enum Arrival {
    /// A result file (already removed from `res/`): its name and bytes — XML unzipped.
    Result { name: String, bytes: Vec<u8> },
    /// The `.err` convention: the terminal could not read the request.
    Refused { text: String },
}

/// Names in `res/` announced by creation or rename-into events (the `created-events` style).
struct Announced {
    _watcher: notify::RecommendedWatcher,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
    names: HashSet<String>,
}

impl Announced {
    fn start(res: &Path) -> notify::Result<Self> {
        let (tx, events) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(tx)?;
        watcher.watch(res, RecursiveMode::NonRecursive)?;
        Ok(Announced {
            _watcher: watcher,
            events,
            names: HashSet::new(),
        })
    }

    fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            let Ok(event) = event else { continue };
            let created = matches!(
                event.kind,
                EventKind::Create(_)
                    | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both | RenameMode::Any))
            );
            if created {
                let names = event.paths.iter().filter_map(|p| p.file_name()?.to_str());
                self.names.extend(names.map(str::to_owned));
            }
        }
    }
}

/// A client bound to one terminal folder and institution.
pub struct FolderClient {
    req: PathBuf,
    res: PathBuf,
    face: PathBuf,
    institution_code: String,
    pub(crate) options: Options,
    /// When to look and how long to wait, derived from `options` once.
    pub(crate) timing: Timing,
    counter: u32,
    /// `W<id>` when several PCs share the folder, else empty.
    workstation: String,
    announced: Option<Announced>,
    /// Requests the client gave up on: their late answers are deleted when they turn up.
    abandoned: Vec<MessageFileName>,
    /// Consents seen in imported face files (for 薬剤 / 特定健診 requests).
    pub(crate) consents: crate::families::ConsentBook,
}

impl std::fmt::Debug for FolderClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderClient")
            .field("req", &self.req)
            .field("res", &self.res)
            .field("style", &self.options.style)
            .finish_non_exhaustive()
    }
}

pub(crate) fn today_jst() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(9))
        .format("%Y%m%d")
        .to_string()
}

impl FolderClient {
    /// A client of the terminal folder `folders`, for the clinic `institution_code`.
    pub fn new(folders: &TerminalFolders, institution_code: &str, options: Options) -> Self {
        let res: PathBuf = folders.res.clone().into();
        let announced = match options.style {
            ClientStyle::CreatedEvents => match Announced::start(&res) {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::warn!("cannot watch {}: {e}; no result will be seen", res.display());
                    None
                }
            },
            _ => None,
        };
        FolderClient {
            req: folders.req.clone().into(),
            res,
            face: folders.face.clone().into(),
            institution_code: institution_code.to_owned(),
            timing: Timing::of(&options),
            options,
            counter: 0,
            workstation: String::new(),
            announced,
            abandoned: Vec::new(),
            consents: Default::default(),
        }
    }

    /// Several PCs share the terminal folder: put this PC's id into every request name
    /// (`yyyyMMdd` + `W<id>` + counter) so that no two PCs pick the same name.
    pub fn set_workstation(&mut self, id: Option<&str>) {
        self.workstation = id
            .map(|id| {
                format!(
                    "W{}",
                    id.chars()
                        .filter(char::is_ascii_alphanumeric)
                        .take(6)
                        .collect::<String>()
                )
            })
            .unwrap_or_default();
    }

    /// The harness's `reset` (a new case, emptied folders): nothing is pending any more. With
    /// `reuse-result-name` the request counter starts again at 0001, like a counter that is not
    /// persisted across restarts.
    pub fn reset(&mut self) {
        self.abandoned.clear();
        if self.has(Defect::ReuseResultName) {
            self.counter = 0;
        }
    }

    pub(crate) fn has(&self, d: Defect) -> bool {
        self.options.defects.has(d)
    }

    pub(crate) fn institution_code(&self) -> &str {
        &self.institution_code
    }

    pub(crate) fn deadline(&self, timeout_ms: Option<u64>) -> Instant {
        Instant::now() + self.timing.timeout_or(timeout_ms)
    }

    /// Sleeps until the next look of a call that started at `start` (see [`Timing`]).
    pub(crate) fn pause(&self, start: Instant) {
        let next = start + self.timing.next_look(start.elapsed());
        sleep(next.saturating_duration_since(Instant::now()));
    }

    /// A request name not in use: `yyyyMMdd` + a 4-digit counter, skipping names whose
    /// request or result still exists (unless the `reuse-result-name` defect is on).
    fn next_name(&mut self, family: Family, step: Step, date: &str) -> MessageFileName {
        loop {
            self.counter += 1;
            let name = MessageFileName::request(family, step, format!("{date}{}{:04}", self.workstation, self.counter));
            if self.has(Defect::ReuseResultName) {
                return name;
            }
            let taken = [Extension::Xml, Extension::Zip, Extension::Pdf]
                .iter()
                .any(|x| self.res.join(name.result_name(*x).to_string()).exists());
            if !taken && !self.req.join(name.to_string()).exists() {
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

    /// Writes a request of `family`/`step` built for its ArbitraryFileIdentifier.
    pub(crate) fn send<T: XmlRecord>(
        &mut self,
        family: Family,
        step: Step,
        date: &str,
        reception: Option<String>,
        build: impl FnOnce(&str) -> T,
    ) -> Result<Sent, String> {
        let name = self.next_name(family, step, date);
        let afi = format!("REF{}", name.suffix);
        let message = build(&afi);
        let bytes = write_message(
            &message,
            &XmlOptions {
                encoding: self.options.request_encoding,
                ..Default::default()
            },
        )
        .map_err(|e| format!("要求ファイルを作成できません: {e}"))?;
        self.write_sent(name, afi, reception, &bytes)
    }

    fn write_sent(
        &mut self,
        name: MessageFileName,
        afi: String,
        reception: Option<String>,
        bytes: &[u8],
    ) -> Result<Sent, String> {
        let before = if self.options.style == ClientStyle::Content || self.has(Defect::AnyNewFile) {
            list(&self.res).into_iter().collect()
        } else {
            HashSet::new()
        };
        self.write_request(&name, bytes)
            .map_err(|e| format!("req/{name} を書き込めません: {e}"))?;
        Ok(Sent {
            name,
            afi,
            reception,
            before,
        })
    }

    /// Waits for the result of `sent` until `deadline` (`None`: timed out; the request is
    /// then removed from `req/` if the terminal has not taken it).
    pub(crate) fn wait(&mut self, sent: &Sent, deadline: Instant) -> Option<Arrival> {
        let start = Instant::now();
        loop {
            if let Some(a) = self.look(std::slice::from_ref(sent), deadline) {
                return Some(a.1);
            }
            if Instant::now() >= deadline {
                self.give_up(sent);
                return None;
            }
            self.pause(start);
        }
    }

    /// Removes the request if the terminal has not taken it, and remembers it so that a late
    /// answer is discarded rather than left in `res/`.
    fn give_up(&mut self, sent: &Sent) {
        let _ = std::fs::remove_file(self.req.join(sent.name.to_string()));
        self.abandoned.push(sent.name.clone());
    }

    /// Deletes late answers to abandoned requests (never read: they answer nobody now).
    fn discard_late_answers(&mut self) {
        let res = self.res.clone();
        self.abandoned.retain(|name| {
            let late = [Extension::Xml, Extension::Zip, Extension::Pdf]
                .iter()
                .map(|x| res.join(name.result_name(*x).to_string()))
                .find(|p| p.exists());
            match late {
                Some(path) => {
                    tracing::info!("discarding the late answer {}", path.display());
                    let _ = std::fs::remove_file(path);
                    false
                }
                None => true,
            }
        });
    }

    /// One look into `res/` for the result of any of `sent`; returns which one arrived.
    fn look(&mut self, sent: &[Sent], deadline: Instant) -> Option<(usize, Arrival)> {
        if let Some(a) = self.announced.as_mut() {
            a.drain();
        }
        // A client that takes any new file never cleans up after requests it gave up on.
        if !self.abandoned.is_empty() && !self.has(Defect::KeepResults) && !self.has(Defect::AnyNewFile) {
            self.discard_late_answers();
        }
        for (i, s) in sent.iter().enumerate() {
            // The `.err` convention is recognised by name in every style.
            let err = s.name.error_sibling().to_string();
            if self.visible(&err) {
                let text = read_err_text(&self.res.join(&err));
                let _ = std::fs::remove_file(self.res.join(&err));
                let _ = std::fs::remove_file(self.res.join(s.name.to_string()));
                return Some((i, Arrival::Refused { text }));
            }
            if self.has(Defect::AnyNewFile) {
                let prefix = format!("{}_", s.name.result_name(Extension::Xml).stem());
                let fresh: Vec<String> = list(&self.res)
                    .into_iter()
                    .filter(|n| n.starts_with(&prefix) && !s.before.contains(n))
                    .collect();
                for name in fresh {
                    if let Some(a) = self.take(s, &name, deadline) {
                        return Some((i, a));
                    }
                }
            }
            let by_name: &[Extension] = match (self.options.style, self.has(Defect::IgnoreZip)) {
                (ClientStyle::Content, _) => &[Extension::Pdf],
                (_, true) => &[Extension::Xml, Extension::Pdf],
                (_, false) => &[Extension::Xml, Extension::Zip, Extension::Pdf],
            };
            for x in by_name {
                let name = s.name.result_name(*x).to_string();
                if self.visible(&name)
                    && let Some(a) = self.take(s, &name, deadline)
                {
                    return Some((i, a));
                }
            }
            if self.options.style == ClientStyle::Content {
                for name in list(&self.res) {
                    let zipped = name.ends_with(".zip");
                    if s.before.contains(&name)
                        || name.ends_with(".pdf")
                        || name.ends_with(".err")
                        || (zipped && self.has(Defect::IgnoreZip))
                    {
                        continue;
                    }
                    let Ok(bytes) = std::fs::read(self.res.join(&name)) else {
                        continue;
                    };
                    let text = if zipped {
                        unzip(&bytes).unwrap_or_default()
                    } else {
                        bytes
                    };
                    if contains(&text, s.marker().as_bytes())
                        && let Some(a) = self.take(s, &name, deadline)
                    {
                        return Some((i, a));
                    }
                }
            }
        }
        None
    }

    /// Whether the client can see `res/<name>` in its style.
    fn visible(&self, name: &str) -> bool {
        match &self.announced {
            Some(a) => a.names.contains(name) && self.res.join(name).exists(),
            None if self.options.style == ClientStyle::CreatedEvents => false,
            None => self.res.join(name).exists(),
        }
    }

    /// Reads `res/<name>` once complete; if it is this request's answer (echo check), consumes
    /// it. Someone else's file (an old answer under the same name) is left alone.
    fn take(&mut self, sent: &Sent, name: &str, deadline: Instant) -> Option<Arrival> {
        let path = self.res.join(name);
        let extension = if name.ends_with(".zip") {
            Extension::Zip
        } else if name.ends_with(".pdf") {
            Extension::Pdf
        } else {
            Extension::Xml
        };
        let bytes = match self.stable_read(&path, deadline, self.has(Defect::EagerResultRead), extension) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!("{e}");
                return None;
            }
        };
        let bytes = match extension {
            Extension::Zip => match unzip(&bytes) {
                Ok(x) => x,
                Err(e) => {
                    let _ = std::fs::remove_file(&path);
                    return Some(Arrival::Refused {
                        text: format!("{name} を展開できません: {e}"),
                    });
                }
            },
            _ => bytes,
        };
        if extension != Extension::Pdf && !self.echoes(sent, &bytes) {
            tracing::info!("res/{name} answers another request; waiting for ours");
            return None;
        }
        if !self.has(Defect::KeepResults) {
            let _ = std::fs::remove_file(&path);
        }
        if let Some(a) = self.announced.as_mut() {
            a.names.remove(name);
        }
        Some(Arrival::Result {
            name: name.to_owned(),
            bytes,
        })
    }

    /// The header echoes this request: MedicalInstitutionCode, and ArbitraryFileIdentifier
    /// (downloads: ReceptionNumber). Unreadable bytes count as ours — reading them fails later
    /// with a specific error.
    fn echoes(&self, sent: &Sent, bytes: &[u8]) -> bool {
        if self.has(Defect::NoEchoCheck) || self.has(Defect::AnyResultValid) || self.has(Defect::AnyNewFile) {
            return true;
        }
        let Ok(doc) = self.decode(bytes) else { return true };
        let Some(h) = doc.root.child("MessageHeader") else {
            return true;
        };
        let text = |n: &str| h.child(n).map(|e| e.text.as_str());
        let institution = text("MedicalInstitutionCode") == Some(self.institution_code.as_str());
        let own = match &sent.reception {
            Some(r) => text("ReceptionNumber") == Some(r.as_str()),
            None => text("ArbitraryFileIdentifier") == Some(sent.afi.as_str()),
        };
        institution && own
    }

    /// The bytes as this client reads them: with `utf8-only-reader`, decoded as UTF-8 whatever
    /// the declaration says (and the declaration rewritten to match the garbled text).
    pub(crate) fn as_read<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.has(Defect::Utf8OnlyReader) {
            let text = String::from_utf8_lossy(bytes).replacen("encoding=\"Shift_JIS\"", "encoding=\"UTF-8\"", 1);
            return Cow::Owned(text.into_bytes());
        }
        Cow::Borrowed(bytes)
    }

    pub(crate) fn decode(&self, bytes: &[u8]) -> Result<Document, String> {
        xml::decode(&self.as_read(bytes), &Limits::default()).map_err(|e| e.to_string())
    }

    /// `confirm_qualification` over the folder interface.
    pub fn confirm(&mut self, p: &ConfirmQualificationParams) -> ConfirmQualificationResult {
        self.confirm_inner(p).into()
    }

    fn confirm_inner(&mut self, p: &ConfirmQualificationParams) -> Conclusion {
        let date = p.date.clone().unwrap_or_else(today_jst);
        let mut sent: Vec<Sent> = Vec::new();
        match self.send_request(p, &date) {
            Ok(s) => sent.push(s),
            Err(e) => return Conclusion::error(e),
        }
        // the timeline of `Timing::folder_result` starts once the request is in req/
        let start = Instant::now();
        let deadline = self.deadline(p.timeout_ms);
        let mut last_send = start;
        loop {
            match self.look(&sent, deadline) {
                Some((_, Arrival::Refused { text })) => {
                    return Conclusion::error(format!("端末が要求を処理できませんでした: {}", text.trim()));
                }
                Some((_, Arrival::Result { bytes, .. })) => return self.conclude_result(&bytes),
                None => {}
            }
            if Instant::now() >= deadline {
                for s in &sent {
                    self.give_up(s);
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
            self.pause(start);
        }
    }

    /// Writes one 資格確認要求.
    fn send_request(&mut self, p: &ConfirmQualificationParams, date: &str) -> Result<Sent, String> {
        let name = self.next_name(Family::OqsSiQuc, Step::First, date);
        let afi = format!("REF{}", name.suffix);
        let bytes = self.encode(&crate::request::qualification_request(
            &p.card,
            date,
            p.consent_limit_certificate,
            &self.institution_code,
            Some(&afi),
            &self.options.defects,
        ))?;
        self.write_sent(name, afi, None, &bytes)
    }

    fn parse(&self, bytes: &[u8]) -> Result<(QualificationResult, Document), String> {
        read_message(&self.as_read(bytes), &Limits::default()).map_err(|e| e.to_string())
    }

    fn conclude_result(&self, bytes: &[u8]) -> Conclusion {
        match self.parse(bytes) {
            Ok((result, doc)) => interpret::conclude(&result, doc.root.child("MessageHeader"), &self.options.defects),
            Err(e) => Conclusion::error(format!("結果ファイルを読み取れません: {e}")),
        }
    }

    /// Reads a file once two reads [`Timing::stable_gap`] apart agree and the bytes are complete for
    /// their kind (well-formed XML, a readable zip, a PDF with its `%%EOF`).
    fn stable_read(&self, path: &Path, deadline: Instant, eager: bool, kind: Extension) -> Result<Vec<u8>, String> {
        let complete = |b: &[u8]| match kind {
            Extension::Zip => unzip(b).is_ok(),
            Extension::Pdf => b.trim_ascii_end().ends_with(b"%%EOF"),
            _ => self.decode(b).is_ok(),
        };
        let start = Instant::now();
        let mut last_err = String::from("the file did not appear");
        loop {
            match std::fs::read(path) {
                Ok(first) if eager => return Ok(first),
                Ok(first) => {
                    sleep(self.timing.stable_gap);
                    match std::fs::read(path) {
                        Ok(second) if second == first && complete(&second) => return Ok(second),
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
            self.pause(start);
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
            evidence: Vec::new(),
        };
        if p.file.contains(['/', '\\']) || p.file.contains("..") {
            return error(format!("ファイル名が不正です: {:?}", p.file));
        }
        if self.has(Defect::ReimportFaces) {
            // Processes every face file in the folder again, as a client that never deletes
            // them and rescans the folder does.
            for other in list(&self.face).into_iter().filter(|n| *n != p.file) {
                let _ = std::fs::read(self.face.join(other));
            }
        }
        if self.has(Defect::SlowFaceImport) {
            sleep(Duration::from_secs(4));
        }
        let path = self.face.join(&p.file);
        let deadline = self.deadline(Some(p.timeout_ms));
        let bytes = match self.stable_read(&path, deadline, self.has(Defect::EagerFaceRead), Extension::Xml) {
            Ok(b) => b,
            Err(e) => return error(e),
        };
        let (result, doc) = match self.parse(&bytes) {
            Ok(r) => r,
            Err(e) => return error(format!("顔認証結果ファイルを読み取れません: {e}")),
        };
        let c = interpret::conclude(&result, doc.root.child("MessageHeader"), &self.options.defects);
        let first = result.results().first();
        if let (Some(r), Some(record)) = (first, c.record.as_ref()) {
            self.consents.remember(record, interpret::consents(r));
        }
        if !self.has(Defect::KeepResults) && !self.has(Defect::ReimportFaces) {
            let _ = std::fs::remove_file(&path);
        }
        ImportFaceResult {
            outcome: c.outcome,
            message: c.message,
            record: c.record,
            consents: first.map(interpret::consents),
            reference_number: first
                .and_then(|r| r.reference_number.clone())
                .filter(|_| !self.has(Defect::IgnoreReferenceNumber)),
            evidence: Vec::new(),
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

/// The names in a folder, except temporary and hidden files.
fn list(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".tmp"))
        .collect();
    names.sort();
    names
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The one XML file in a result `.zip` (bounded: a result is never larger than 64 MiB).
pub(crate) fn unzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let file = archive.by_index(0).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    file.take(64 << 20).read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}
