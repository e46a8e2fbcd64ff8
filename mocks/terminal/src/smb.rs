//! The terminal folder as a network share, the way a real 資格確認端末 offers it to the clinic's
//! PCs: a private Samba server (`smbd`) with its own configuration, state, port and one
//! generated user, started and stopped by the harness — never the machine's own smbd, whose
//! configuration and users are not touched.
//!
//! Files that arrive through smbd land in the same folders the terminal watches, so it answers
//! them exactly as local ones: a client that writes in place over SMB is seen writing in place.

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

/// The share's name, as the clinic PC types it (`\\HOST\OQS`).
pub const SHARE: &str = "OQS";

/// Where and what to share.
#[derive(Debug, Clone)]
pub struct SmbSettings {
    /// The terminal's folder (holding `req`, `res`, `face`).
    pub folder: PathBuf,
    /// The server's own configuration, state, passwords and log (created; the harness's
    /// report or session folder).
    pub state_dir: PathBuf,
    /// Where smbd listens; port 0 picks a free one (Windows clients need 445).
    pub listen: SocketAddr,
}

/// What a client needs to connect; also written as `share.json` beside the server's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareInfo {
    /// The address smbd listens on.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The share's name.
    pub share: String,
    /// The generated user.
    pub user: String,
    /// Its generated password.
    pub password: String,
}

impl ShareInfo {
    /// What to type on the clinic PC and on a Linux machine.
    pub fn instructions(&self) -> String {
        let host = match self.host.as_str() {
            "0.0.0.0" | "::" => "<this-pc's-address>",
            h => h,
        };
        let mut s = String::new();
        if self.port == 445 {
            s.push_str(&format!(
                "    Windows:   net use O: \\\\{host}\\{} /user:{} {}\n",
                self.share, self.user, self.password
            ));
        } else {
            s.push_str(&format!(
                "    Windows:   needs port 445 (this share is on port {}; start with --smb-listen {host}:445)\n",
                self.port
            ));
        }
        s.push_str(&format!(
            "    smbclient: smbclient //{host}/{} -p {} -U '{}%{}'\n",
            self.share, self.port, self.user, self.password
        ));
        s.push_str("    then point your software at O:\\req, O:\\res and O:\\face (端末フォルダ)\n");
        s
    }
}

/// Why the share cannot run.
#[derive(Debug, Error)]
pub enum SmbError {
    /// A Samba program is missing.
    #[error("{program} is not installed: install Debian's samba package (apt-get install samba)")]
    NotInstalled {
        /// The program.
        program: String,
    },
    /// smbd has to switch users, which only root may do.
    #[error(
        "the private Samba server needs root (smbd switches users): run onshi with sudo, or share the terminal folder yourself"
    )]
    NeedsRoot,
    /// A path smb.conf cannot hold.
    #[error("{0} cannot be shared: smb.conf cannot hold a path with a line break or surrounding spaces")]
    UnsharablePath(String),
    /// File or process trouble.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A Samba tool refused.
    #[error("{what} failed: {output}")]
    Setup {
        /// What was being done.
        what: String,
        /// What the tool printed.
        output: String,
    },
    /// smbd exited or did not listen in time.
    #[error("smbd did not start on {addr}{}", tail(log))]
    DidNotStart {
        /// Where it should have listened.
        addr: SocketAddr,
        /// The end of its log.
        log: String,
    },
}

fn tail(log: &str) -> String {
    if log.trim().is_empty() {
        String::new()
    } else {
        format!("; the end of its log:\n{log}")
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SmbError {
    let what = what.into();
    move |source| SmbError::Io { what, source }
}

/// A running private smbd.
#[derive(Debug)]
pub struct SmbShare {
    child: Child,
    info: ShareInfo,
    log: PathBuf,
}

/// smb.conf for one share of `folder`, everything else under `state`, listening on `addr`.
/// `user` is the generated name and `unix_user` the account smbd acts as.
pub fn config(folder: &Path, state: &Path, addr: SocketAddr, user: &str, unix_user: &str) -> Result<String, SmbError> {
    for p in [folder, state] {
        let s = p.to_string_lossy();
        if s.contains(['\n', '\r']) || s.trim() != s {
            return Err(SmbError::UnsharablePath(s.into_owned()));
        }
    }
    let d = |name: &str| state.join(name).display().to_string();
    let ip = addr.ip();
    let bind = if ip.is_unspecified() {
        String::new()
    } else {
        format!("  interfaces = {ip}\n  bind interfaces only = yes\n")
    };
    Ok(format!(
        "# written by onshi-harness for this run only
[global]
  server role = standalone server
  workgroup = WORKGROUP
  netbios name = ONSHI-TERMINAL
  disable netbios = yes
{bind}  smb ports = {port}
  private dir = {private}
  lock directory = {lock}
  state directory = {lock}
  cache directory = {lock}
  pid directory = {lock}
  ncalrpc dir = {lock}/ncalrpc
  passdb backend = tdbsam:{private}/passdb.tdb
  username map = {map}
  map to guest = never
  server min protocol = SMB2_10
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  usershare path =
  store dos attributes = no
  ea support = no
  map archive = no
[{SHARE}]
  path = {folder}
  read only = no
  valid users = {unix_user}
  create mask = 0644
  directory mask = 0755
# {user} logs in as {unix_user}
",
        port = addr.port(),
        private = d("private"),
        lock = d("state"),
        map = d("users.map"),
        folder = folder.display(),
    ))
}

fn program(name: &str) -> Result<PathBuf, SmbError> {
    let dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| SmbError::NotInstalled { program: name.into() })
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl SmbShare {
    /// Writes the configuration, adds the generated user, starts smbd and waits until it
    /// listens.
    pub fn start(s: &SmbSettings) -> Result<SmbShare, SmbError> {
        let smbd = program("smbd")?;
        let pdbedit = program("pdbedit")?;
        if !is_root() {
            return Err(SmbError::NeedsRoot);
        }
        let addr = if s.listen.port() == 0 {
            let l = TcpListener::bind(s.listen).map_err(io(format!("finding a free port on {}", s.listen)))?;
            l.local_addr().map_err(io("finding a free port"))?
        } else {
            s.listen
        };
        for sub in ["private", "state/ncalrpc"] {
            std::fs::create_dir_all(s.state_dir.join(sub))
                .map_err(io(format!("creating {}", s.state_dir.join(sub).display())))?;
        }
        std::fs::create_dir_all(&s.folder).map_err(io(format!("creating {}", s.folder.display())))?;
        let secret = onshi_national::http::new_secret();
        let user = format!("oqs{}", &secret[..6]);
        let password = onshi_national::http::new_secret();
        let unix_user = "root";
        let conf = s.state_dir.join("smb.conf");
        std::fs::write(&conf, config(&s.folder, &s.state_dir, addr, &user, unix_user)?)
            .map_err(io(format!("writing {}", conf.display())))?;
        std::fs::write(s.state_dir.join("users.map"), format!("{unix_user} = {user}\n"))
            .map_err(io("writing users.map"))?;
        let mut add = Command::new(&pdbedit)
            .arg("-s")
            .arg(&conf)
            .args(["-a", "-t", "-u", unix_user])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io("starting pdbedit"))?;
        {
            use std::io::Write as _;
            let mut stdin = add.stdin.take().expect("piped");
            stdin
                .write_all(format!("{password}\n{password}\n").as_bytes())
                .map_err(io("giving pdbedit the password"))?;
        }
        let out = add.wait_with_output().map_err(io("running pdbedit"))?;
        if !out.status.success() {
            return Err(SmbError::Setup {
                what: "adding the share's user (pdbedit)".into(),
                output: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let log = s.state_dir.join("smbd.log");
        let log_file = std::fs::File::create(&log).map_err(io(format!("creating {}", log.display())))?;
        let child = Command::new(&smbd)
            .arg("-s")
            .arg(&conf)
            .args(["--foreground", "--no-process-group", "--debug-stdout", "-d", "1"])
            // its own process group: smbd forks helpers and one child per connection, and
            // stopping the share stops them all
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(io("opening the smbd log"))?)
            .stderr(log_file)
            .spawn()
            .map_err(io("starting smbd"))?;
        let info = ShareInfo {
            host: addr.ip().to_string(),
            port: addr.port(),
            share: SHARE.into(),
            user,
            password,
        };
        let mut share = SmbShare { child, info, log };
        share.wait_listening(addr)?;
        let json = serde_json::to_vec_pretty(&share.info).expect("serialisable");
        write_private(&s.state_dir.join("share.json"), &json).map_err(io("writing share.json"))?;
        Ok(share)
    }

    fn wait_listening(&mut self, addr: SocketAddr) -> Result<(), SmbError> {
        let probe = if addr.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        } else {
            addr
        };
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Err(SmbError::DidNotStart {
                    addr,
                    log: self.log_tail(),
                });
            }
            if TcpStream::connect_timeout(&probe, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(15) {
                return Err(SmbError::DidNotStart {
                    addr,
                    log: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(12)..].join("\n")
    }

    /// What a client needs to connect.
    pub fn info(&self) -> &ShareInfo {
        &self.info
    }
}

impl Drop for SmbShare {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        let group = Pid::from_raw(self.child.id() as i32);
        // smbd ends its children on SIGTERM; what is left after a grace period is killed
        let _ = killpg(group, Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_shares_one_folder_on_one_address_only() {
        let c = config(
            Path::new("/srv/t"),
            Path::new("/srv/s"),
            "127.0.0.1:4455".parse().unwrap(),
            "oqs1",
            "root",
        )
        .unwrap();
        assert!(c.contains("interfaces = 127.0.0.1\n  bind interfaces only = yes"));
        assert!(c.contains("smb ports = 4455"));
        assert!(c.contains("[OQS]\n  path = /srv/t\n"));
        assert!(c.contains("passdb backend = tdbsam:/srv/s/private/passdb.tdb"));
        assert!(c.contains("map to guest = never"));
        let any = config(
            Path::new("/t"),
            Path::new("/s"),
            "0.0.0.0:445".parse().unwrap(),
            "u",
            "root",
        )
        .unwrap();
        assert!(!any.contains("bind interfaces only"));
    }

    #[test]
    fn a_path_smb_conf_cannot_hold_is_refused() {
        let bad = config(
            Path::new("/t\n[evil]"),
            Path::new("/s"),
            "127.0.0.1:1".parse().unwrap(),
            "u",
            "root",
        );
        assert!(matches!(bad, Err(SmbError::UnsharablePath(_))));
    }

    #[test]
    fn windows_instructions_only_for_port_445() {
        let mut i = ShareInfo {
            host: "192.0.2.10".into(),
            port: 445,
            share: SHARE.into(),
            user: "oqsabc".into(),
            password: "pw".into(),
        };
        assert!(
            i.instructions()
                .contains(r"net use O: \\192.0.2.10\OQS /user:oqsabc pw")
        );
        i.port = 4455;
        assert!(i.instructions().contains("needs port 445"));
    }
}
