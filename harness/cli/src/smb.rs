//! `--smb` for `onshi run` and `onshi serve`: the terminal folder as a network share through a
//! private smbd (onshi_terminal::smb), with the same address rule as the operator console —
//! loopback unless `--lan`.

use std::net::SocketAddr;
use std::path::Path;

use onshi_terminal::smb::{SmbSettings, SmbShare};

/// The share's options.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct SmbArgs {
    /// Share the terminal folder over SMB through a private Samba server (needs root and
    /// Debian's samba; see docs/operator.md).
    #[arg(long)]
    pub smb: bool,
    /// Where the share listens (Windows clients need port 445; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:445", requires = "smb")]
    pub smb_listen: SocketAddr,
}

impl Default for SmbArgs {
    fn default() -> Self {
        SmbArgs {
            smb: false,
            smb_listen: SocketAddr::from(([127, 0, 0, 1], 445)),
        }
    }
}

/// Starts the share of `folder` (state under `state_dir`) and prints how to connect.
pub(crate) fn start(args: &SmbArgs, folder: &Path, state_dir: &Path, lan: bool) -> Result<Option<SmbShare>, String> {
    if !args.smb {
        return Ok(None);
    }
    if !args.smb_listen.ip().is_loopback() && !lan {
        return Err(format!(
            "--smb-listen {} is not a loopback address: the share would be reachable from other machines. \
             Add --lan to allow that on purpose (ループバック以外で共有するには --lan が必要です)",
            args.smb_listen
        ));
    }
    let share = SmbShare::start(&SmbSettings {
        folder: folder.to_owned(),
        state_dir: state_dir.to_owned(),
        listen: args.smb_listen,
    })
    .map_err(|e| e.to_string())?;
    eprintln!(
        "onshi: the terminal folder {} is shared over SMB (端末フォルダの共有); connection details in {}:\n{}",
        folder.display(),
        state_dir.join("share.json").display(),
        share.info().instructions()
    );
    Ok(Some(share))
}
