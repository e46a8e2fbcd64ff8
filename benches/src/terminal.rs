//! The terminal benchmark: request → result round trips through a real folder with zero
//! configured delay, the terminal's pickup latency (file-system events vs the rescan alone),
//! and a 1,000-person bulk file. The client side writes like a good client (temp + rename) and
//! learns of results from inotify, so what is measured is the terminal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use notify::Watcher as _;
use onshi_national::LocalNational;
use onshi_protocol::model::*;
use onshi_protocol::synthetic::ErrorCatalogue;
use onshi_protocol::{XmlOptions, codes, write_message};
use onshi_registry::{PersonId, Registry};
use onshi_terminal::{
    Folders, NationalLink, Recorder, SystemClock, Terminal, TerminalConfig, TerminalEvent, TerminalSettings,
};

/// When the terminal took each request (a recorder that timestamps `RequestTaken`).
#[derive(Default)]
pub struct TakenAt(Mutex<HashMap<String, Instant>>);

impl Recorder for TakenAt {
    fn record(&self, event: TerminalEvent) {
        if let TerminalEvent::RequestTaken { name, .. } = event {
            self.0.lock().expect("lock").insert(name, Instant::now());
        }
    }
}

/// A running terminal on a temporary folder, with its national service and results watcher.
pub struct Bench {
    _dir: tempfile::TempDir,
    pub terminal: Terminal,
    pub national: Arc<LocalNational>,
    pub registry: Arc<Registry>,
    pub taken: Arc<TakenAt>,
    results: Arc<Mutex<HashMap<String, Instant>>>,
    _watcher: notify::RecommendedWatcher,
}

/// How the terminal finds requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// File-system events (inotify), the default.
    Events,
    /// The periodic rescan only, every `rescan_ms`, a request taken once unchanged `settle_ms`.
    Polling { rescan_ms: u64, settle_ms: u64 },
}

impl Bench {
    pub async fn start(discovery: Discovery) -> anyhow::Result<Bench> {
        let dir = tempfile::tempdir()?;
        let today = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
        let registry = Arc::new(Registry::embedded(today, 0));
        let catalogue = Arc::new(ErrorCatalogue::default());
        let national = Arc::new(LocalNational::new(registry.clone(), catalogue.clone()));
        national.set_bulk_processing(Duration::ZERO);
        let mut settings = TerminalSettings {
            pickup_delay_ms: 0,
            result_delay_ms: 0,
            ..Default::default()
        };
        if let Discovery::Polling { rescan_ms, settle_ms } = discovery {
            settings.req_events = false;
            settings.rescan_ms = rescan_ms;
            settings.settle_ms = settle_ms;
        }
        let taken = Arc::new(TakenAt::default());
        let terminal = Terminal::start(TerminalConfig {
            folders: Folders::new(dir.path().join("OQS")),
            settings,
            national: NationalLink::InProcess(national.clone()),
            catalogue,
            clock: Arc::new(SystemClock),
            recorder: taken.clone(),
            seed: 1,
        })
        .await?;
        let results: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let seen = results.clone();
        let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
            if let Ok(e) = e {
                let now = Instant::now();
                let mut seen = seen.lock().expect("lock");
                for p in e.paths {
                    if let Some(n) = p.file_name().and_then(|n| n.to_str())
                        && n.contains("res_")
                        && !n.starts_with('.')
                    {
                        seen.entry(n.to_owned()).or_insert(now);
                    }
                }
            }
        })?;
        watcher.watch(&terminal.folders().res, notify::RecursiveMode::NonRecursive)?;
        Ok(Bench {
            _dir: dir,
            terminal,
            national,
            registry,
            taken,
            results,
            _watcher: watcher,
        })
    }

    fn req(&self) -> PathBuf {
        self.terminal.folders().req.clone()
    }

    fn res(&self) -> PathBuf {
        self.terminal.folders().res.clone()
    }

    /// Writes `name` into `req/` by temp + rename; returns the moment it appeared.
    pub fn submit(&self, name: &str, bytes: &[u8]) -> anyhow::Result<Instant> {
        let tmp = self.req().join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, self.req().join(name))?;
        Ok(Instant::now())
    }

    /// Waits for `res/<name>`; returns when its creation was seen, and removes it.
    pub async fn await_result(&self, name: &str, timeout: Duration) -> anyhow::Result<Instant> {
        let start = Instant::now();
        loop {
            if let Some(at) = self.results.lock().expect("lock").remove(name) {
                let path = self.res().join(name);
                // The rename is atomic: once announced, the file is whole.
                if path.exists() {
                    std::fs::remove_file(&path)?;
                    return Ok(at);
                }
            }
            if start.elapsed() > timeout {
                bail!("no {name} within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// One 資格確認 round trip; returns (round trip, pickup latency).
    pub async fn round_trip(&self, n: u64, request: &[u8]) -> anyhow::Result<(Duration, Duration)> {
        let suffix = format!("B{n:011}");
        let name = format!("OQSsiquc01req_{suffix}.xml");
        let written = self.submit(&name, request)?;
        let done = self
            .await_result(&format!("OQSsiquc01res_{suffix}.xml"), Duration::from_secs(10))
            .await?;
        let taken = self
            .taken
            .0
            .lock()
            .expect("lock")
            .remove(&name)
            .context("the terminal did not journal the pickup")?;
        Ok((done - written, taken.saturating_duration_since(written)))
    }

    /// A 資格確認要求 for the n-th generated person.
    pub fn request(&self, n: u64) -> anyhow::Result<Vec<u8>> {
        let info = self.search_info(n)?;
        Ok(write_message(
            &QualificationRequest {
                message_header: Some(header()),
                message_body: Some(QualificationRequestBody {
                    qualification_confirm_search_info: Some(info),
                }),
            },
            &XmlOptions::default(),
        )?)
    }

    fn search_info(&self, n: u64) -> anyhow::Result<QualificationConfirmSearchInfo> {
        let p = self
            .registry
            .person(&PersonId::Generated(n))
            .context("generated person")?;
        let c = &p.insurance.last().context("an insurance period")?.card;
        Ok(QualificationConfirmSearchInfo {
            insurer_number: Some(c.insurer_number.interface().to_owned()),
            insured_card_symbol: c.symbol.clone(),
            insured_identification_number: Some(c.number.clone()),
            insured_branch_number: c.branch.clone(),
            birthdate: Some(p.birthdate.format("%Y%m%d").to_string()),
            limit_application_certificate_related_cons_flg: Some(codes::LimitConsentFlag::NotConsented),
            arbitrary_identifier: Some(format!("P{n}")),
        })
    }

    /// A 資格確認一括照会 of `people` generated persons: (upload round trip, download round
    /// trip, result bytes).
    pub async fn bulk(&self, people: u64) -> anyhow::Result<(Duration, Duration, usize)> {
        let infos = (0..people)
            .map(|n| self.search_info(n))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let upload = write_message(
            &BulkConfirmRequest {
                message_header: Some(header()),
                message_body: Some(BulkConfirmRequestBody {
                    qualification_confirm_search_info: Some(Repeated(infos)),
                }),
            },
            &XmlOptions::default(),
        )?;
        let written = self.submit("OQSmuquc01req_BULK00000001.xml", &upload)?;
        let res = self.res().join("OQSmuquc01res_BULK00000001.xml");
        wait_for_file(&res).await?;
        let received = std::fs::read(&res)?;
        let uploaded = written.elapsed();
        let (r, _) = onshi_protocol::read_message::<BulkUploadResult>(&received, &Default::default())?;
        let reception = r
            .message_body
            .and_then(|b| b.reception_number)
            .context("a ReceptionNumber")?;
        let download = write_message(
            &BulkDownloadRequest {
                message_header: Some(header()),
                message_body: Some(BulkDownloadRequestBody {
                    reception_number: Some(reception),
                }),
            },
            &XmlOptions::default(),
        )?;
        let written = self.submit("OQSmuquc02req_BULK00000002.xml", &download)?;
        let res = self.res().join("OQSmuquc02res_BULK00000002.xml");
        wait_for_file(&res).await?;
        let downloaded = written.elapsed();
        Ok((uploaded, downloaded, std::fs::read(&res)?.len()))
    }
}

fn header() -> MessageHeader {
    MessageHeader {
        qualification_confirmation_date: Some(
            (chrono::Utc::now() + chrono::Duration::hours(9))
                .format("%Y%m%d")
                .to_string(),
        ),
        medical_institution_code: Some("9900000001".into()),
        arbitrary_file_identifier: Some("BENCH".into()),
        ..Default::default()
    }
}

async fn wait_for_file(path: &Path) -> anyhow::Result<()> {
    let start = Instant::now();
    while !path.exists() {
        if start.elapsed() > Duration::from_secs(60) {
            bail!("no {} within a minute", path.display());
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    Ok(())
}

/// Latencies in microseconds.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// `p50 / p99 / max` in milliseconds.
pub fn summary(h: &Histogram<u64>) -> String {
    let ms = |us: u64| us as f64 / 1000.0;
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}
