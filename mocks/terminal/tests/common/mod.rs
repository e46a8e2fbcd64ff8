//! The fixture the terminal's integration tests share: a terminal on a temporary folder,
//! answered in process by the national service over the embedded registry, on a fixed clock.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use onshi_national::LocalNational;
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::Registry;
use onshi_terminal::*;

pub struct FixedClock(pub NaiveDateTime);

impl Clock for FixedClock {
    fn now(&self) -> NaiveDateTime {
        self.0
    }
}

/// The reception date of every terminal test (the clock stands at 09:00 on it).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 21).unwrap()
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub terminal: Terminal,
    pub national: Arc<LocalNational>,
    pub registry: Arc<Registry>,
    pub recorder: Arc<MemoryRecorder>,
}

/// Starts a terminal with exactly `settings`.
pub async fn start(settings: TerminalSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let folders = Folders::new(dir.path().join("OQS"));
    start_in(dir, folders, settings).await
}

/// [`start`] on `folders` (which may be relative to the working directory), keeping `dir`.
pub async fn start_in(dir: tempfile::TempDir, folders: Folders, settings: TerminalSettings) -> Fixture {
    let registry = Arc::new(Registry::embedded(today(), 0));
    let catalogue = Arc::new(ErrorCatalogue::default());
    let national = Arc::new(LocalNational::new(registry.clone(), catalogue.clone()));
    let recorder = Arc::new(MemoryRecorder::default());
    let terminal = Terminal::start(TerminalConfig {
        folders,
        settings,
        national: NationalLink::InProcess(national.clone()),
        catalogue,
        clock: Arc::new(FixedClock(today().and_hms_opt(9, 0, 0).unwrap())),
        recorder: recorder.clone(),
        seed: 1,
    })
    .await
    .unwrap();
    Fixture {
        dir,
        terminal,
        national,
        registry,
        recorder,
    }
}
