//! The World of a run: the terminal folder, the registry, the national service — and, per
//! case, a fresh terminal with the case's settings and a clock at 09:00 on the run's date.
//! The World only serves and records; it never judges.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use onshi_national::LocalNational;
use onshi_national::http::client::RemoteNational;
use onshi_national::http::{National, Server, ServerSettings, ServerTls};
use onshi_national::pki::Pki;
use onshi_protocol::driver::{Card, TerminalFolders};
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_registry::Registry;
use onshi_terminal::{Folders, NationalLink, Terminal, TerminalConfig, TerminalError, TerminalSettings};
use thiserror::Error;

use crate::clock::SimClock;
use crate::journal::{Journal, NationalRecorder, TerminalRecorder};
use crate::spec::{CardSpec, PeriodChoice};

/// Why the World could not do what a case asked.
#[derive(Debug, Error)]
pub enum WorldError {
    /// The terminal folder could not be prepared.
    #[error("cannot prepare the terminal folder {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The terminal refused (a card it does not know, a folder it cannot watch, …).
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    /// The national mock could not start.
    #[error("the national mock cannot start: {0}")]
    National(String),
    /// The case asked for something the World does not have (a persona, a card).
    #[error("{0}")]
    Scenario(String),
}

/// The parts of the World that live for the whole run: the terminal folder, the registry,
/// the national mock serving HTTPS on loopback (which the terminal and API clients use), and
/// the World's clock.
pub struct World {
    /// The terminal's folders (`req/`, `res/`, `face/`).
    pub folders: Folders,
    /// The population.
    pub registry: Arc<Registry>,
    /// The national system, as the mock serves it.
    pub national: Arc<National>,
    /// The error codes the World answers with.
    pub catalogue: Arc<ErrorCatalogue>,
    /// The run's journal.
    pub journal: Arc<Journal>,
    /// The World's clock (moves only when a case says so).
    pub clock: Arc<SimClock>,
    /// The test PKI (the mock's server certificate, the clinic's client certificates).
    pub pki: Pki,
    /// `https://localhost:<port>` of the national mock.
    pub national_url: String,
    /// The clinic's institution code.
    pub institution_code: String,
    /// The reception date.
    pub date: NaiveDate,
    /// The seed of the synthetic World.
    pub seed: u64,
    server: Server,
    terminal_recorder: Arc<dyn onshi_terminal::Recorder>,
}

/// Where the World's events go.
pub struct Recorders {
    /// The national mock's exchanges.
    pub national: Arc<dyn onshi_national::events::NationalRecorder>,
    /// The terminal's file-system events and decisions.
    pub terminal: Arc<dyn onshi_terminal::Recorder>,
}

impl Recorders {
    /// Everything into the journal.
    pub fn journal(journal: &Arc<Journal>) -> Recorders {
        Recorders {
            national: Arc::new(NationalRecorder(journal.clone())),
            terminal: Arc::new(TerminalRecorder(journal.clone())),
        }
    }
}

/// The parts that are fresh for each case.
pub struct CaseWorld {
    /// The terminal, with the case's settings.
    pub terminal: Terminal,
    /// The face file the last `present_card` produced.
    pub last_face: Option<String>,
    /// The card in the PC/SC reader, if any (removed when the case ends).
    pub in_reader: Option<(String, onshi_card::vpcd::Vicc)>,
}

impl World {
    /// Prepares the folder and starts the national mock, recording into the journal.
    pub async fn start(
        root: PathBuf,
        registry: Arc<Registry>,
        catalogue: Arc<ErrorCatalogue>,
        journal: Arc<Journal>,
        institution_code: String,
        seed: u64,
    ) -> Result<World, WorldError> {
        let recorders = Recorders::journal(&journal);
        World::start_with(root, registry, catalogue, journal, recorders, institution_code, seed).await
    }

    /// [`World::start`] with the events going to `recorders` (the rush keeps only timings).
    pub async fn start_with(
        root: PathBuf,
        registry: Arc<Registry>,
        catalogue: Arc<ErrorCatalogue>,
        journal: Arc<Journal>,
        recorders: Recorders,
        institution_code: String,
        seed: u64,
    ) -> Result<World, WorldError> {
        let folder_error = |source| WorldError::Folder {
            path: root.display().to_string(),
            source,
        };
        let folders = Folders::new(&root).absolute().map_err(folder_error)?;
        folders.create().map_err(folder_error)?;
        let date = registry.today();
        let clock = Arc::new(SimClock::at_opening(date));
        let service = Arc::new(LocalNational::new(registry.clone(), catalogue.clone()));
        let national = National::new(service, clock.clone(), recorders.national, seed);
        let pki = onshi_national::pki::embedded();
        let tls = ServerTls::from_pki(&pki).map_err(|e| WorldError::National(e.to_string()))?;
        let server = onshi_national::http::serve(national.clone(), "127.0.0.1:0".parse().expect("valid"), Some(tls))
            .await
            .map_err(|e| WorldError::National(e.to_string()))?;
        Ok(World {
            national_url: format!("https://localhost:{}", server.addr.port()),
            folders,
            registry,
            national,
            catalogue,
            journal,
            clock,
            pki,
            institution_code,
            date,
            seed,
            server,
            terminal_recorder: recorders.terminal,
        })
    }

    /// Stops the national mock.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// The folder paths as the driver protocol announces them (absolute: made so at start).
    pub fn terminal_folders(&self) -> TerminalFolders {
        let abs = |p: &std::path::Path| p.display().to_string();
        TerminalFolders {
            root: abs(&self.folders.root),
            req: abs(&self.folders.req),
            res: abs(&self.folders.res),
            face: abs(&self.folders.face),
        }
    }

    /// Empties the folders, resets the national mock and the clock, and starts a terminal
    /// with the case's settings.
    pub async fn start_case(
        &self,
        terminal: &TerminalSettings,
        national: &ServerSettings,
    ) -> Result<CaseWorld, WorldError> {
        self.folders.clear().map_err(|source| WorldError::Folder {
            path: self.folders.root.display().to_string(),
            source,
        })?;
        self.clock.reset(self.date);
        self.national.reset();
        self.national.set_settings(national.clone());
        let link = RemoteNational::new(
            &self.national_url,
            Some(self.pki.ca_cert().map_err(|e| WorldError::National(e.to_string()))?),
            Duration::from_secs(10),
        )
        .map_err(|e| WorldError::National(e.to_string()))?
        .with_terminal_key(self.national.terminal_key());
        let terminal = Terminal::start(TerminalConfig {
            folders: self.folders.clone(),
            settings: TerminalSettings {
                institution_code: self.institution_code.clone(),
                ..terminal.clone()
            },
            national: NationalLink::Http(link),
            catalogue: self.catalogue.clone(),
            clock: self.clock.clone(),
            recorder: self.terminal_recorder.clone(),
            seed: self.seed,
        })
        .await?;
        Ok(CaseWorld {
            terminal,
            last_face: None,
            in_reader: None,
        })
    }

    /// The HTTP API part of a driver environment for `institution_code`, with the client
    /// certificate `choice` asks for.
    pub fn api_environment(
        &self,
        institution_code: &str,
        choice: crate::spec::CertificateChoice,
    ) -> Result<onshi_protocol::driver::ApiEnvironment, String> {
        use crate::spec::CertificateChoice;
        let pem = |name: &str| self.pki.get(name).map(str::to_owned).map_err(|e| e.to_string());
        let (cert, key) = match choice {
            CertificateChoice::Valid => (
                pem(&format!("client-{institution_code}.pem"))?,
                pem(&format!("client-{institution_code}-key.pem"))?,
            ),
            CertificateChoice::None => (String::new(), String::new()),
            CertificateChoice::Foreign => (pem("client-foreign.pem")?, pem("client-foreign-key.pem")?),
            CertificateChoice::Expired => (pem("client-expired.pem")?, pem("client-expired-key.pem")?),
        };
        Ok(onshi_protocol::driver::ApiEnvironment {
            base_url: self.national_url.clone(),
            ca_cert_pem: pem("ca.pem")?,
            client_cert_pem: cert,
            client_key_pem: key,
            credentials: onshi_national::http::credentials_for(institution_code),
        })
    }

    /// The card a step hands to the client.
    pub fn card(&self, spec: &CardSpec) -> Result<Card, WorldError> {
        card(&self.registry, self.date, spec)
    }
}

/// The card `spec` describes on `date`: typed-in data, or a persona's current or previous card.
pub fn card(registry: &Registry, date: NaiveDate, spec: &CardSpec) -> Result<Card, WorldError> {
    let Some(id) = &spec.persona else {
        return Ok(Card {
            insurer_number: spec.insurer_number.clone().unwrap_or_default(),
            symbol: spec.symbol.clone(),
            number: spec.number.clone().unwrap_or_default(),
            branch: spec.branch.clone(),
            birthdate: spec.birthdate.clone().unwrap_or_default(),
        });
    };
    let person = registry
        .persona(id)
        .ok_or_else(|| WorldError::Scenario(format!("no persona {id:?}")))?;
    let current = person
        .shown_period(date)
        .ok_or_else(|| WorldError::Scenario(format!("persona {id:?} holds no insurance card (医療扶助 only)")))?;
    let index = match spec.period {
        PeriodChoice::Current => current,
        PeriodChoice::Previous => current
            .checked_sub(1)
            .ok_or_else(|| WorldError::Scenario(format!("persona {id:?} has no previous card")))?,
    };
    let mut card = period_card(person, index);
    if spec.omit_branch {
        card.branch = None;
    }
    Ok(card)
}

/// The insurance card a person holds for their period `index`, as typed in at the desk.
pub fn period_card(person: &onshi_registry::Person, index: usize) -> Card {
    let c = &person.insurance[index].card;
    Card {
        insurer_number: c.printed_insurer_number().to_owned(),
        symbol: c.symbol.clone(),
        number: c.number.clone(),
        branch: c.branch.clone(),
        birthdate: person.birthdate.format("%Y%m%d").to_string(),
    }
}
