//! `onshi serve` (the World for manual use, until Ctrl-C) and `onshi pki init`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::NaiveDate;
use onshi_harness::serve::{NationalChoice, ServeOptions, Session};
use onshi_national::pki::{self, Pki};
use onshi_registry::Registry;

use crate::{EXIT_HARNESS, EXIT_USAGE, load_error_codes, parse_date, today_jst};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where the journal, the terminal folder, the PKI and the example files go.
    #[arg(value_parser = crate::absolute_path(), long, default_value = "onshi-serve", value_name = "DIR")]
    dir: PathBuf,
    /// Address of the national API (HTTPS). Port 0 picks a free port.
    #[arg(
        long,
        env = "ONSHI_SERVE_LISTEN",
        default_value = "127.0.0.1:8443",
        value_name = "ADDR"
    )]
    listen: SocketAddr,
    /// Also serve the API without TLS here (searches only: logins need a client certificate).
    #[arg(long, value_name = "ADDR")]
    listen_plain: Option<SocketAddr>,
    /// Address of the admin API (HTTP, bearer token). Port 0 picks a free port.
    #[arg(
        long,
        env = "ONSHI_SERVE_ADMIN_LISTEN",
        default_value = "127.0.0.1:8444",
        value_name = "ADDR"
    )]
    admin_listen: SocketAddr,
    /// Use a national mock running elsewhere (another `onshi serve`) instead of starting one;
    /// only the terminal folder runs here.
    #[arg(long, value_name = "URL")]
    national: Option<String>,
    /// The CA certificate (PEM) the remote national mock is signed by (default: the test CA).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE", requires = "national")]
    national_ca: Option<PathBuf>,
    /// The remote mock's terminal key (its `onshi serve` prints it as "terminal key"): the
    /// terminal's own endpoints refuse every call without it.
    #[arg(long, env = "ONSHI_NATIONAL_TERMINAL_KEY", value_name = "KEY", requires = "national")]
    national_terminal_key: Option<String>,
    /// Certificates from this folder (written by `onshi pki init`) instead of the embedded test PKI.
    #[arg(value_parser = crate::absolute_path(), long, value_name = "DIR")]
    pki: Option<PathBuf>,
    /// The 医療機関コード of the clinic (its client certificate must be in the PKI).
    #[arg(long, default_value = "9900000001", value_name = "CODE")]
    institution_code: String,
    /// The reception date the population is built for, YYYYMMDD (default: today in Japan).
    #[arg(long, value_parser = parse_date, value_name = "YYYYMMDD")]
    date: Option<NaiveDate>,
    /// Seed of the synthetic World.
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed: u64,
    /// Error codes for the World's answers (default: the embedded synthetic codes).
    #[arg(value_parser = crate::absolute_path(), long, value_name = "FILE")]
    error_codes: Option<PathBuf>,
    #[command(flatten)]
    smb: crate::smb::SmbArgs,
    /// Allow --smb-listen on an address other machines can reach.
    #[arg(long)]
    lan: bool,
}

#[derive(clap::Subcommand)]
pub enum PkiCommand {
    /// Generate a fresh test PKI: CA, server certificate (localhost, 127.0.0.1, ::1 and the real
    /// host names), client certificates for the test institutions, an expired and a foreign one.
    Init {
        /// Where to write the PEM files (overwritten).
        #[arg(value_parser = crate::absolute_path(), long, default_value = "fixtures/pki", value_name = "DIR")]
        out: PathBuf,
    },
}

pub fn pki_command(command: PkiCommand) -> ExitCode {
    match command {
        PkiCommand::Init { out } => match pki::generate().and_then(|p| p.write(&out).map(|()| p)) {
            Ok(p) => {
                println!("onshi pki init: wrote a fresh TEST PKI to {}:", out.display());
                for (name, _) in &p.files {
                    println!("  {name}");
                }
                println!("Use it with `onshi serve --pki {}`.", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("onshi pki init: {e}");
                ExitCode::from(EXIT_HARNESS)
            }
        },
    }
}

/// Until Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("onshi serve: cannot listen for SIGTERM ({e}); Ctrl-C still stops");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

pub fn serve_command(args: ServeArgs) -> ExitCode {
    let usage = |m: String| {
        eprintln!("onshi serve: {m}");
        ExitCode::from(EXIT_USAGE)
    };
    let catalogue = match load_error_codes(args.error_codes.as_deref()) {
        Ok((c, _)) => c.unwrap_or_default(),
        Err(e) => return usage(format!("--error-codes: {e}")),
    };
    let pki = match &args.pki {
        None => pki::embedded(),
        Some(dir) => match Pki::read(dir) {
            Ok(p) => p,
            Err(e) => return usage(format!("--pki: {e}")),
        },
    };
    let national = match args.national {
        None => NationalChoice::Local {
            listen: args.listen,
            admin: args.admin_listen,
            plain: args.listen_plain,
        },
        Some(url) => {
            let ca_pem = match &args.national_ca {
                None => None,
                Some(p) => {
                    match onshi_harness::input::read_text(p, "CA certificate", onshi_harness::input::MAX_TEXT_BYTES) {
                        Ok(t) => Some(t),
                        Err(e) => return usage(format!("--national-ca: {e}")),
                    }
                }
            };
            let Some(terminal_key) = args.national_terminal_key else {
                return usage(
                    "--national needs --national-terminal-key KEY (the remote `onshi serve` prints it as \"terminal key\")"
                        .into(),
                );
            };
            NationalChoice::Remote {
                url,
                ca_pem,
                terminal_key,
            }
        }
    };
    let date = args.date.unwrap_or_else(today_jst);
    let smb_dir = args.dir.join("smb");
    let options = ServeOptions {
        dir: args.dir,
        national,
        registry: Arc::new(Registry::embedded(date, args.seed)),
        catalogue,
        institution_code: args.institution_code,
        seed: args.seed,
        pki,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onshi serve: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    runtime.block_on(async {
        let session = match Session::start(options).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("onshi serve: {e}");
                return ExitCode::from(EXIT_HARNESS);
            }
        };
        // kept until the session stops: dropping it stops smbd
        let _share = match crate::smb::start(&args.smb, &session.folders.root, &smb_dir, args.lan) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("onshi serve --smb: {e}");
                session.stop().await;
                return ExitCode::from(EXIT_USAGE);
            }
        };
        print!("{}", session.instructions());
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        wait_for_stop().await;
        eprintln!("onshi serve: stopping");
        session.stop().await;
        ExitCode::SUCCESS
    })
}
