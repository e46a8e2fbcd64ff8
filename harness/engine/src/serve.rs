//! A World for a person at the keyboard (`onshi serve`): the national mock over HTTPS with its
//! admin API, and a terminal folder, on this machine's clock, with the embedded population.
//! Nothing is checked; everything is journaled. This is how a developer reproduces a field
//! bug by hand with a real client.
//!
//! The session writes what a client needs next to the journal: the test PKI, the credentials
//! JSON, an example search body and an example request file, so that the printed instructions
//! can be pasted into a shell as they are.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use onshi_national::LocalNational;
use onshi_national::http::api::{AUTH_PATH, SEARCH_PATH};
use onshi_national::http::client::RemoteNational;
use onshi_national::http::{National, Server, ServerTls, admin};
use onshi_national::pki::Pki;
use onshi_national::{Clock, SystemClock};
use onshi_protocol::driver::Card;
use onshi_protocol::filename::{Extension, Family, MessageFileName, Step};
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_protocol::{XmlOptions, write_message};
use onshi_registry::Registry;
use onshi_terminal::{Folders, NationalLink, Terminal, TerminalConfig, TerminalSettings};
use thiserror::Error;

use crate::journal::LiveJournal;
use crate::spec::CardSpec;

/// The persona the printed example confirms.
pub(crate) const EXAMPLE_PERSONA: &str = "valid-kenpo-insured";

/// Why `onshi serve` could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// A file or folder could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A listener could not be opened.
    #[error("the national mock cannot start on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Anything else that stopped the set-up.
    #[error("{0}")]
    Setup(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
    move |source| ServeError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where the national system is.
pub enum NationalChoice {
    /// Start the mock here: the API on `listen` (TLS), the admin API on `admin`, and the API
    /// without TLS on `plain` if given (as behind a TLS-terminating proxy: logins need a
    /// client certificate, so they go to the TLS listener; searches work on both).
    Local {
        /// The API (TLS).
        listen: SocketAddr,
        /// The admin API.
        admin: SocketAddr,
        /// The API without TLS, if wanted.
        plain: Option<SocketAddr>,
    },
    /// Use a mock started elsewhere (`--national URL`); `ca_pem` is the CA it is signed by,
    /// `terminal_key` the key that mock printed for its terminal channel.
    Remote {
        /// The mock's URL.
        url: String,
        /// The CA its server certificate is signed by (PEM), if not the test PKI's.
        ca_pem: Option<String>,
        /// The key of its terminal channel.
        terminal_key: String,
    },
}

/// How to run `onshi serve`.
pub struct ServeOptions {
    /// Where the journal, the terminal folder and the client files go.
    pub dir: PathBuf,
    /// Where the national system is.
    pub national: NationalChoice,
    /// The population.
    pub registry: Arc<Registry>,
    /// The error codes the World answers with.
    pub catalogue: Arc<ErrorCatalogue>,
    /// The clinic's institution code.
    pub institution_code: String,
    /// The seed of the synthetic World.
    pub seed: u64,
    /// The test PKI.
    pub pki: Pki,
}

/// Files written for the client.
pub struct ClientFiles {
    /// The CA certificate to trust the mock with.
    pub ca: PathBuf,
    /// The clinic's client certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// The login credentials (JSON).
    pub credentials: PathBuf,
    /// An example search body.
    pub search: PathBuf,
    /// A search body for every persona (`search-<persona>.json`).
    pub searches: PathBuf,
    /// An example request file for the folder interface.
    pub request: PathBuf,
}

/// A running session.
pub struct Session {
    /// The API's URL.
    pub national_url: String,
    /// The API without TLS, if asked for.
    pub plain_url: Option<String>,
    /// The admin API's URL and token, when the mock runs here.
    pub admin: Option<(String, String)>,
    /// The key of the mock's terminal channel, when the mock runs here (another `onshi serve
    /// --national` needs it).
    pub terminal_key: Option<String>,
    /// The terminal's folders.
    pub folders: Folders,
    /// The journal (JSON Lines), written as events happen.
    pub journal_path: PathBuf,
    /// The files written for the client.
    pub files: ClientFiles,
    /// The reception date.
    pub date: NaiveDate,
    /// The clinic's institution code.
    pub institution_code: String,
    terminal: Terminal,
    servers: Vec<Server>,
    journal: Arc<LiveJournal>,
}

impl Session {
    /// Starts everything and writes the client files.
    pub async fn start(mut o: ServeOptions) -> Result<Session, ServeError> {
        // the printed paths are pasted into other shells: never relative
        o.dir = crate::folders::absolute(&o.dir).map_err(|e| ServeError::Setup(e.to_string()))?;
        std::fs::create_dir_all(&o.dir).map_err(io(&o.dir))?;
        let journal_path = o.dir.join("journal.jsonl");
        let journal = Arc::new(LiveJournal::create(&journal_path).map_err(io(&journal_path))?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let date = o.registry.today();
        let mut servers = Vec::new();
        let mut plain_url = None;
        let (national_url, admin, ca_pem, terminal_key) = match o.national {
            NationalChoice::Local {
                listen,
                admin: admin_addr,
                plain,
            } => {
                let service = Arc::new(LocalNational::new(o.registry.clone(), o.catalogue.clone()));
                let national = National::new(service, clock.clone(), journal.clone(), o.seed);
                let tls = ServerTls::from_pki(&o.pki).map_err(|e| ServeError::Setup(e.to_string()))?;
                let api = onshi_national::http::serve(national.clone(), listen, Some(tls))
                    .await
                    .map_err(|source| ServeError::Listen { addr: listen, source })?;
                if let Some(addr) = plain {
                    let server = onshi_national::http::serve(national.clone(), addr, None)
                        .await
                        .map_err(|source| ServeError::Listen { addr, source })?;
                    plain_url = Some(format!("http://{}", server.addr));
                    servers.push(server);
                }
                let token = admin::new_token();
                let key = national.terminal_key().to_owned();
                let admin_server = admin::serve_admin(national, admin_addr, token.clone(), Some(journal.clone()))
                    .await
                    .map_err(|source| ServeError::Listen {
                        addr: admin_addr,
                        source,
                    })?;
                let url = format!("https://localhost:{}", api.addr.port());
                let admin_url = format!("http://{}", admin_server.addr);
                servers.push(api);
                servers.push(admin_server);
                let ca = o
                    .pki
                    .ca_cert()
                    .map_err(|e| ServeError::Setup(e.to_string()))?
                    .to_owned();
                (url, Some((admin_url, token)), Some(ca), key)
            }
            NationalChoice::Remote {
                url,
                ca_pem,
                terminal_key,
            } => {
                let ca = ca_pem.or_else(|| o.pki.ca_cert().ok().map(str::to_owned));
                (url, None, ca, terminal_key)
            }
        };
        let link = RemoteNational::new(&national_url, ca_pem.as_deref(), Duration::from_secs(10))
            .map_err(|e| ServeError::Setup(format!("the terminal cannot reach {national_url}: {e}")))?
            .with_terminal_key(terminal_key.clone());
        let terminal_key = admin.is_some().then_some(terminal_key);
        let terminal = Terminal::start(TerminalConfig {
            folders: Folders::new(o.dir.join("terminal")),
            settings: TerminalSettings {
                institution_code: o.institution_code.clone(),
                ..Default::default()
            },
            national: NationalLink::Http(link),
            catalogue: o.catalogue.clone(),
            clock,
            recorder: journal.clone(),
            seed: o.seed,
        })
        .await
        .map_err(|e| ServeError::Setup(e.to_string()))?;
        let folders = terminal.folders().clone();
        let files = write_client_files(&o.dir, &o.pki, &o.registry, date, &o.institution_code)?;
        Ok(Session {
            national_url,
            plain_url,
            admin,
            terminal_key,
            folders,
            journal_path,
            files,
            date,
            institution_code: o.institution_code,
            terminal,
            servers,
            journal,
        })
    }

    /// Stops the terminal and the servers, then writes out the journal.
    pub async fn stop(self) {
        self.terminal.stop().await;
        for s in self.servers {
            s.stop().await;
        }
        self.journal.close();
    }

    /// What to print: where everything is and a copy-paste example that logs in, confirms a
    /// persona over the API and through the terminal folder, and sets a fault.
    pub fn instructions(&self) -> String {
        let f = &self.files;
        let q = |p: &Path| shell_quote(&p.display().to_string());
        let url = &self.national_url;
        let req = self.folders.req.join(file_name(&f.request));
        let tmp = self.folders.req.join(format!(".{}.tmp", file_name(&f.request)));
        let result = self.folders.res.join(
            MessageFileName::request(Family::OqsSiQuc, Step::First, request_suffix(self.date))
                .result_name(Extension::Xml)
                .to_string(),
        );
        let mut out = String::new();
        out.push_str(
            "onshi serve — the national mock (オンライン資格確認等システム) and a terminal folder (資格確認端末)\n\n",
        );
        out.push_str(&format!("National API (HTTPS)   {url}\n"));
        out.push_str(&format!("  login  (ログイン)      POST {url}{AUTH_PATH}\n"));
        out.push_str(&format!("  search (資格確認)      POST {url}{SEARCH_PATH}\n"));
        if let Some(plain) = &self.plain_url {
            out.push_str(&format!(
                "National API (HTTP)    {plain} (searches; log in over HTTPS)\n"
            ));
        }
        out.push_str(&format!("  CA certificate        {}\n", f.ca.display()));
        out.push_str(&format!(
            "  client certificate    {} (key {})\n",
            f.cert.display(),
            f.key.display()
        ));
        out.push_str(&format!("  credentials           {}\n", f.credentials.display()));
        out.push_str(&format!(
            "  search bodies         {}/search-<persona>.json (every persona, dates resolved for today)\n",
            f.searches.display()
        ));
        match &self.admin {
            Some((admin_url, token)) => {
                out.push_str(&format!("Admin API              {admin_url}/admin/…\n"));
                out.push_str(&format!("  admin token           {token}\n"));
                if let Some(key) = &self.terminal_key {
                    out.push_str(&format!(
                        "  terminal key          {key} (another `onshi serve --national {url} --national-terminal-key KEY` needs it)\n"
                    ));
                }
            }
            None => out.push_str("Admin API              (on the remote national mock)\n"),
        }
        out.push_str(&format!(
            "Terminal folder        {} (req/ res/ face/)\n",
            self.folders.root.display()
        ));
        out.push_str(&format!("Journal                {}\n", self.journal_path.display()));
        out.push_str(&format!(
            "Institution            {} · reception date {} (this machine's clock)\n",
            self.institution_code, self.date
        ));
        out.push_str(
            "Hosts with hard-coded names: see docs/api.md (hosts-file entry for hweb-api.oqs.onshikaku.org).\n\n",
        );
        out.push_str(&format!(
            "Try it — paste into a shell (persona {EXAMPLE_PERSONA}, expect QualificationValidity 1):\n"
        ));
        let curl = format!("curl -sS --cacert {}", q(&f.ca));
        out.push_str(&format!(
            "  TOKEN=$({curl} --cert {} --key {} -H 'Content-Type: application/json' --data-binary @{} {url}{AUTH_PATH} | grep -o '\"idToken\":\"[^\"]*\"' | cut -d'\"' -f4)\n",
            q(&f.cert),
            q(&f.key),
            q(&f.credentials),
        ));
        out.push_str(&format!(
            "  {curl} -H \"Authorization: $TOKEN\" -H 'Content-Type: application/json' --data-binary @{} {url}{SEARCH_PATH}; echo\n",
            q(&f.search),
        ));
        out.push_str(&format!(
            "  cp {} {} && mv {} {}\n",
            q(&f.request),
            q(&tmp),
            q(&tmp),
            q(&req)
        ));
        out.push_str(&format!("  sleep 2; cat {}; echo\n", q(&result)));
        if let Some((admin_url, token)) = &self.admin {
            out.push_str("\nMake it misbehave (faults: docs/api.md):\n");
            out.push_str(&format!(
                "  curl -sS -H 'Authorization: Bearer {token}' --data '{{\"id\":\"busy\",\"scope\":{{\"endpoint\":\"search\"}},\"kind\":{{\"type\":\"status\",\"code\":503,\"retry_after_s\":5}},\"when\":{{\"first\":2}}}}' {admin_url}/admin/faults\n"
            ));
            out.push_str(&format!(
                "  curl -sS -H 'Authorization: Bearer {token}' '{admin_url}/admin/journal?since=1&limit=20'\n"
            ));
        }
        out.push_str("\nCtrl-C stops the session.\n");
        out
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The suffix of the example request file: the date and a counter no client would use.
fn request_suffix(date: NaiveDate) -> String {
    format!("{}9999", date.format("%Y%m%d"))
}

fn write_client_files(
    dir: &Path,
    pki: &Pki,
    registry: &Registry,
    date: NaiveDate,
    institution: &str,
) -> Result<ClientFiles, ServeError> {
    let pki_dir = dir.join("pki");
    pki.write(&pki_dir).map_err(|e| ServeError::Setup(e.to_string()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, ServeError> {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(io(&p))?;
        Ok(p)
    };
    let credentials = onshi_national::http::credentials_for(institution);
    let credentials = write(
        &format!("credentials-{institution}.json"),
        &serde_json::to_vec_pretty(&credentials).expect("json"),
    )?;
    let spec = CardSpec {
        persona: Some(EXAMPLE_PERSONA.to_owned()),
        ..Default::default()
    };
    let card: Card = crate::world::card(registry, date, &spec).map_err(|e| ServeError::Setup(e.to_string()))?;
    let request = card.qualification_request(&date.format("%Y%m%d").to_string(), false, institution);
    let search = write(
        &format!("search-{EXAMPLE_PERSONA}.json"),
        &serde_json::to_vec_pretty(&serde_json::json!({ "XmlMsg": request })).expect("json"),
    )?;
    let xml = write_message(&request, &XmlOptions::default()).map_err(|e| ServeError::Setup(e.to_string()))?;
    let examples = dir.join("examples");
    std::fs::create_dir_all(&examples).map_err(io(&examples))?;
    // a search body for every persona with a card, its relative dates resolved for today
    let searches = examples.join("searches");
    std::fs::create_dir_all(&searches).map_err(io(&searches))?;
    for persona in registry.personas() {
        let onshi_registry::PersonId::Persona(id) = &persona.id else {
            continue;
        };
        let spec = CardSpec {
            persona: Some(id.clone()),
            ..Default::default()
        };
        let Ok(card) = crate::world::card(registry, date, &spec) else {
            continue;
        };
        let request = card.qualification_request(&date.format("%Y%m%d").to_string(), false, institution);
        let p = searches.join(format!("search-{id}.json"));
        std::fs::write(
            &p,
            serde_json::to_vec_pretty(&serde_json::json!({ "XmlMsg": request })).expect("json"),
        )
        .map_err(io(&p))?;
    }
    let name = MessageFileName::request(Family::OqsSiQuc, Step::First, request_suffix(date)).to_string();
    let request_path = examples.join(name);
    std::fs::write(&request_path, xml).map_err(io(&request_path))?;
    Ok(ClientFiles {
        ca: pki_dir.join("ca.pem"),
        cert: pki_dir.join(format!("client-{institution}.pem")),
        key: pki_dir.join(format!("client-{institution}-key.pem")),
        credentials,
        search,
        searches,
        request: request_path,
    })
}
