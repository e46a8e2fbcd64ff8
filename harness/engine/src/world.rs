//! The World of a run: the terminal folder, the registry, the national service — and, per
//! case, a fresh terminal with the case's settings and a clock at 09:00 on the run's date.
//! The World only serves and records; it never judges.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use onshi_national::LocalNational;
use onshi_protocol::driver::{Card, TerminalFolders};
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::Registry;
use onshi_terminal::{Folders, Terminal, TerminalConfig, TerminalError, TerminalSettings};
use thiserror::Error;

use crate::clock::SimClock;
use crate::journal::{Journal, TerminalRecorder};
use crate::scenario::{CardSpec, PeriodChoice};

#[derive(Debug, Error)]
pub enum WorldError {
    #[error("cannot prepare the terminal folder {path}: {source}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    #[error("{0}")]
    Scenario(String),
}

/// The parts of the World that live for the whole run.
pub struct World {
    pub folders: Folders,
    pub registry: Arc<Registry>,
    pub national: Arc<LocalNational>,
    pub catalogue: Arc<ErrorCatalogue>,
    pub journal: Arc<Journal>,
    pub institution_code: String,
    pub date: NaiveDate,
    pub seed: u64,
}

/// The parts that are fresh for each case.
pub struct CaseWorld {
    pub terminal: Terminal,
    pub clock: Arc<SimClock>,
    /// The face file the last `present_card` produced.
    pub last_face: Option<String>,
}

impl World {
    pub fn new(
        root: PathBuf,
        registry: Arc<Registry>,
        catalogue: Arc<ErrorCatalogue>,
        journal: Arc<Journal>,
        institution_code: String,
        seed: u64,
    ) -> Result<World, WorldError> {
        let folders = Folders::new(root);
        folders.create().map_err(|source| WorldError::Folder {
            path: folders.root.display().to_string(),
            source,
        })?;
        let national = Arc::new(LocalNational::new(registry.clone(), catalogue.clone()));
        Ok(World {
            date: registry.today(),
            folders,
            registry,
            national,
            catalogue,
            journal,
            institution_code,
            seed,
        })
    }

    /// The folder paths as the driver protocol announces them (absolute).
    pub fn terminal_folders(&self) -> TerminalFolders {
        let abs = |p: &std::path::Path| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_owned())
                .display()
                .to_string()
        };
        TerminalFolders {
            root: abs(&self.folders.root),
            req: abs(&self.folders.req),
            res: abs(&self.folders.res),
            face: abs(&self.folders.face),
        }
    }

    /// Empties the folders and starts a terminal with the case's settings.
    pub async fn start_case(&self, settings: &TerminalSettings) -> Result<CaseWorld, WorldError> {
        self.folders.clear().map_err(|source| WorldError::Folder {
            path: self.folders.root.display().to_string(),
            source,
        })?;
        let clock = Arc::new(SimClock::at_opening(self.date));
        let terminal = Terminal::start(TerminalConfig {
            folders: self.folders.clone(),
            settings: TerminalSettings {
                institution_code: self.institution_code.clone(),
                ..settings.clone()
            },
            national: self.national.clone(),
            catalogue: self.catalogue.clone(),
            clock: clock.clone(),
            recorder: Arc::new(TerminalRecorder(self.journal.clone())),
            seed: self.seed,
        })
        .await?;
        Ok(CaseWorld {
            terminal,
            clock,
            last_face: None,
        })
    }

    /// The card a step hands to the client.
    pub fn card(&self, spec: &CardSpec) -> Result<Card, WorldError> {
        let Some(id) = &spec.persona else {
            return Ok(Card {
                insurer_number: spec.insurer_number.clone().unwrap_or_default(),
                symbol: spec.symbol.clone(),
                number: spec.number.clone().unwrap_or_default(),
                branch: spec.branch.clone(),
                birthdate: spec.birthdate.clone().unwrap_or_default(),
            });
        };
        let person = self
            .registry
            .persona(id)
            .ok_or_else(|| WorldError::Scenario(format!("no persona {id:?}")))?;
        let current = person.active_period(self.date).unwrap_or(person.insurance.len() - 1);
        let index = match spec.period {
            PeriodChoice::Current => current,
            PeriodChoice::Previous => current
                .checked_sub(1)
                .ok_or_else(|| WorldError::Scenario(format!("persona {id:?} has no previous card")))?,
        };
        let c = &person.insurance[index].card;
        Ok(Card {
            insurer_number: c.printed_insurer_number().to_owned(),
            symbol: c.symbol.clone(),
            number: c.number.clone(),
            branch: if spec.omit_branch { None } else { c.branch.clone() },
            birthdate: person.birthdate.format("%Y%m%d").to_string(),
        })
    }
}
