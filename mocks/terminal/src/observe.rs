//! Watching the folders: every file-system event is recorded at the moment the watcher
//! reports it, attributed to the terminal when it claimed the operation beforehand and to
//! the client otherwise, and events in `req/` are forwarded to the terminal's loop.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use crate::events::{Actor, Folder, FsOp, Recorder, TerminalEvent};
use crate::folders::{Folders, TEMP_PREFIX};

/// How long a one-shot claim waits for its event.
const CLAIM_TTL: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Claim {
    path: PathBuf,
    ops: &'static [FsOp],
    until: Instant,
    once: bool,
}

/// Operations the terminal announced before performing them, so that their events are
/// attributed to it and not to the client.
#[derive(Debug, Default)]
pub(crate) struct Ownership {
    claims: Mutex<Vec<Claim>>,
}

impl Ownership {
    /// The next `op` event on `path` is the terminal's.
    pub(crate) fn claim_once(&self, path: PathBuf, op: FsOp) {
        let ops: &'static [FsOp] = match op {
            FsOp::Created => &[FsOp::Created],
            FsOp::Modified => &[FsOp::Modified],
            FsOp::ClosedWrite => &[FsOp::ClosedWrite],
            FsOp::RenamedFrom => &[FsOp::RenamedFrom],
            FsOp::RenamedTo => &[FsOp::RenamedTo],
            FsOp::Removed => &[FsOp::Removed],
            FsOp::Opened => &[FsOp::Opened],
        };
        self.claims.lock().expect("claims").push(Claim {
            path,
            ops,
            until: Instant::now() + CLAIM_TTL,
            once: true,
        });
    }

    /// Every create/modify/close event on `path` until `until` is the terminal's (a slow
    /// write in progress).
    pub(crate) fn claim_writes_until(&self, path: PathBuf, until: Instant) {
        self.claims.lock().expect("claims").push(Claim {
            path,
            ops: &[FsOp::Created, FsOp::Modified, FsOp::ClosedWrite, FsOp::Opened],
            until,
            once: false,
        });
    }

    fn attribute(&self, path: &Path, op: FsOp) -> Actor {
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(TEMP_PREFIX))
        {
            return Actor::Terminal;
        }
        let now = Instant::now();
        let mut claims = self.claims.lock().expect("claims");
        claims.retain(|c| c.until > now);
        match claims.iter().position(|c| c.path == path && c.ops.contains(&op)) {
            Some(i) => {
                if claims[i].once {
                    claims.remove(i);
                }
                Actor::Terminal
            }
            None => Actor::Client,
        }
    }
}

/// An event in `req/`, forwarded to the terminal's loop.
#[derive(Debug, Clone)]
pub(crate) struct ReqEvent {
    pub name: OsString,
    pub op: FsOp,
}

fn op_of(kind: &EventKind) -> Option<FsOp> {
    Some(match kind {
        EventKind::Create(_) => FsOp::Created,
        EventKind::Modify(ModifyKind::Data(_)) => FsOp::Modified,
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => FsOp::RenamedFrom,
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => FsOp::RenamedTo,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => FsOp::ClosedWrite,
        EventKind::Remove(_) => FsOp::Removed,
        EventKind::Access(AccessKind::Open(_)) => FsOp::Opened,
        _ => return None,
    })
}

/// Starts watching the three folders. The watcher lives as long as the returned value.
pub(crate) fn watch(
    folders: &Folders,
    recorder: Arc<dyn Recorder>,
    ownership: Arc<Ownership>,
    tx: UnboundedSender<ReqEvent>,
) -> notify::Result<notify::RecommendedWatcher> {
    let dirs = [
        (Folder::Req, folders.req.clone()),
        (Folder::Res, folders.res.clone()),
        (Folder::Face, folders.face.clone()),
    ];
    let lookup = dirs.clone();
    let rec = recorder.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let event = match res {
            Ok(e) => e,
            Err(e) => {
                rec.record(TerminalEvent::Problem {
                    message: format!("file-system watcher: {e} (the periodic rescan continues)"),
                });
                return;
            }
        };
        let Some(op) = op_of(&event.kind) else { return };
        let cookie = event.attrs.tracker().map(|t| t as u32);
        for path in &event.paths {
            let Some(parent) = path.parent() else { continue };
            let Some((folder, _)) = lookup.iter().find(|(_, d)| d == parent) else {
                continue;
            };
            let Some(name) = path.file_name() else { continue };
            // Opens matter for face files (read twice?); elsewhere they would only be noise.
            let temporary = name.to_str().is_none_or(|n| n.starts_with('.') || n.ends_with(".tmp"));
            if op == FsOp::Opened && (*folder != Folder::Face || temporary) {
                continue;
            }
            rec.record(TerminalEvent::Fs {
                folder: *folder,
                op,
                name: name.to_string_lossy().into_owned(),
                cookie: matches!(op, FsOp::RenamedFrom | FsOp::RenamedTo)
                    .then_some(cookie)
                    .flatten(),
                actor: ownership.attribute(path, op),
            });
            if *folder == Folder::Req {
                let _ = tx.send(ReqEvent {
                    name: name.to_owned(),
                    op,
                });
            }
        }
    })?;
    for (_, dir) in &dirs {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    drop(recorder);
    Ok(watcher)
}
