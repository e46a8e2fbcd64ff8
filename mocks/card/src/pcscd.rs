//! Runs a private pcscd for tests and harness runs: vpcd on free loopback-reachable ports,
//! the daemon's socket in a directory of our own, nothing shared with a pcscd the machine may
//! already run.
//!
//! pcscd 1.9.9 always creates its socket as `/run/pcscd/pcscd.comm`, so the daemon runs in a
//! private mount namespace (`unshare`) where a directory of ours is bind-mounted over
//! `/run/pcscd`. Clients reach it through `PCSCLITE_CSOCK_NAME` (honoured by libpcsclite).
//! As root that needs only `unshare --mount`; otherwise a user namespace (`--map-root-user`).

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The vpcd driver Debian's `vsmartcard-vpcd` installs.
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";

/// What to install when PC/SC is missing (one line for users).
pub const HOW_TO_ENABLE: &str =
    "install pcscd and vsmartcard-vpcd (apt-get install pcscd vsmartcard-vpcd libpcsclite-dev pkgconf) to enable them";

#[derive(Debug, thiserror::Error)]
/// Why the run's own pcscd cannot be used.
pub enum PcscdError {
    #[error("PC/SC is not available: {0}")]
    /// pcscd or vpcd is not installed here.
    Unavailable(String),
    #[error("pcscd did not start: {0}")]
    /// pcscd did not come up.
    Start(String),
}

/// A running private pcscd; stopped (SIGTERM, then kill) when dropped.
pub struct Pcscd {
    child: Child,
    /// Pass as `PCSCLITE_CSOCK_NAME` to PC/SC clients.
    pub socket: PathBuf,
    /// vpcd's port for `Virtual PCD 00 00` (the next one is slot 1).
    pub vpcd_port: u16,
    /// pcscd's own log (`--debug --apdu`), for diagnosis.
    pub log: PathBuf,
}

/// The name pcscd gives vpcd's first slot.
pub const READER: &str = "Virtual PCD 00 00";

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    // the effective uid of this process, without unsafe code
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// The pcscd program: `ONSHI_PCSCD` when set, else `pcscd` on the PATH or in /usr/sbin.
fn pcscd_program() -> Option<PathBuf> {
    match std::env::var_os("ONSHI_PCSCD") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => which("pcscd"),
    }
}

impl Pcscd {
    /// Why PC/SC cannot be used on this machine, if it cannot.
    pub fn unavailable() -> Option<String> {
        if pcscd_program().is_none() {
            return Some("pcscd is not installed".into());
        }
        if !Path::new(VPCD_DRIVER).exists() {
            return Some(format!("vsmartcard's vpcd driver ({VPCD_DRIVER}) is not installed"));
        }
        if which("unshare").is_none() {
            return Some("unshare (util-linux) is not installed".into());
        }
        None
    }

    /// Starts pcscd with only the vpcd reader, its files under `dir`.
    pub fn start(dir: &Path) -> Result<Pcscd, PcscdError> {
        if let Some(why) = Pcscd::unavailable() {
            return Err(PcscdError::Unavailable(why));
        }
        let start = |e: std::io::Error| PcscdError::Start(e.to_string());
        let run = dir.join("run");
        let conf = dir.join("reader.conf.d");
        std::fs::create_dir_all(&run).map_err(start)?;
        std::fs::create_dir_all(&conf).map_err(start)?;
        let port = free_port_pair().ok_or_else(|| PcscdError::Start("no two free consecutive ports".into()))?;
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x{port:04X}\nLIBPATH      {VPCD_DRIVER}\nCHANNELID    0x{port:04X}\n"
            ),
        )
        .map_err(start)?;
        let log = dir.join("pcscd.log");
        let log_file = std::fs::File::create(&log).map_err(start)?;
        let mut unshare = Command::new("unshare");
        if !is_root() {
            unshare.arg("--map-root-user");
        }
        let program = pcscd_program().ok_or_else(|| PcscdError::Unavailable("pcscd is not installed".into()))?;
        let script = "mkdir -p /run/pcscd 2>/dev/null; mount --bind \"$1\" /run/pcscd && exec \"$3\" --foreground --debug --apdu -c \"$2\"";
        unshare
            .args(["--mount", "--propagation", "private", "sh", "-c", script, "sh"])
            .arg(&run)
            .arg(&conf)
            .arg(&program)
            .stdin(Stdio::null())
            // pcscd writes its log to stdout when it runs in the foreground
            .stdout(log_file.try_clone().map_err(start)?)
            .stderr(log_file);
        let child = unshare.spawn().map_err(start)?;
        let mut pcscd = Pcscd {
            child,
            socket: run.join("pcscd.comm"),
            vpcd_port: port,
            log,
        };
        pcscd.wait_ready(Duration::from_secs(10))?;
        tracing::info!(port, socket = %pcscd.socket.display(), "private pcscd started");
        Ok(pcscd)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), PcscdError> {
        let started = Instant::now();
        loop {
            let mut log = String::new();
            let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut log));
            if log.contains("daemon ready") && self.socket.exists() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                return Err(PcscdError::Start(format!("pcscd exited ({status}): {tail}")));
            }
            if started.elapsed() > limit {
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                let socket = if self.socket.exists() { "present" } else { "missing" };
                return Err(PcscdError::Start(format!(
                    "not ready after {limit:?} (socket {socket}); log ends: {tail}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many card insertions and removals pcscd has noticed in `Virtual PCD 00 00`, from
    /// its log. pcscd updates the reader state right after logging them, so a client that
    /// asks afterwards sees the card (or its absence).
    pub fn presence_changes(&self) -> (usize, usize) {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let count = |what: &str| log.matches(&format!("{what} {READER}")).count();
        (count("Card inserted into"), count("Card Removed From"))
    }

    /// `127.0.0.1:<port>` of slot 0.
    pub fn vpcd_addr(&self) -> String {
        format!("127.0.0.1:{}", self.vpcd_port)
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        // SIGTERM lets pcscd remove its socket and pid file; kill if it lingers
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port p with p and p + 1 free on all interfaces (vpcd binds INADDR_ANY for both slots).
fn free_port_pair() -> Option<u16> {
    (0..50).find_map(|_| {
        let a = TcpListener::bind("0.0.0.0:0").ok()?;
        let port = a.local_addr().ok()?.port();
        let next = port.checked_add(1)?;
        TcpListener::bind(("0.0.0.0", next)).ok().map(|_| port)
    })
}
