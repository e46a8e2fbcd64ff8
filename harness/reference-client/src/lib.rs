//! # onshi-reference-client
//!
//! A correct client of the terminal's folder interface that speaks `onshi-driver/1` over
//! stdin/stdout — the harness's own yardstick, and an example adapter for vendors.
//!
//! It writes requests to a temporary name and renames them, finds results by name and checks
//! the echoed `MedicalInstitutionCode` and `ArbitraryFileIdentifier`, reads both encodings,
//! trusts a file only after two identical reads that parse, honours the `.err` convention,
//! and times out. Its [`defects`] switch on one wrong behaviour each; the mutation-matrix test
//! proves that a case catches every one of them with the intended check ID.

#![warn(missing_docs)]

pub mod api;
#[cfg(feature = "pcsc")]
mod card;
pub mod defects;
pub mod families;
pub mod folder;
pub mod interpret;
pub mod request;
mod rpc;
pub mod timing;

pub use defects::{Catch, DEFECTS, Defect, DefectInfo, LOAD_DEPENDENT};
pub use folder::{ClientStyle, FolderClient, Options};
pub use rpc::Adapter;

/// Serves the driver protocol on this process's stdin/stdout.
pub fn serve_stdio(options: Options) -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    Adapter::new(options).serve(stdin.lock(), stdout.lock())
}

/// Command-line arguments of the reference client (shared by its binary and `onshi`).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Switch on a deliberate defect (repeatable); `--list-defects` shows them.
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<Defect>,
    /// Print the defects with the case and check that catch each, then exit.
    #[arg(long)]
    pub list_defects: bool,
    /// Wait this long for a result unless the harness says otherwise.
    #[arg(long, default_value_t = 30_000, value_name = "MS")]
    pub timeout_ms: u64,
    /// Keep a fixed time-out of MS for every answer, ignoring the `timeout_ms` the harness asks
    /// for, as many real clients do; it is declared in `initialize` (`client.timeout_ms`).
    #[arg(long, value_name = "MS", conflicts_with = "timeout_ms")]
    pub fixed_timeout_ms: Option<u64>,
    /// With --fixed-timeout-ms: do not declare it (a client whose adapter says nothing of its
    /// time-out; the time-out cases then assume it follows `timeout_ms`).
    #[arg(long, requires = "fixed_timeout_ms")]
    pub undeclared: bool,
    /// Encoding of request files.
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding, value_name = "utf-8|shift_jis")]
    pub request_encoding: onshi_protocol::TextEncoding,
    /// How results are recognised in res/: by name, by content (ArbitraryFileIdentifier),
    /// by creation events only, or by name after two identical reads 300 ms apart.
    #[arg(long, value_enum, default_value_t = ClientStyle::Name)]
    pub style: ClientStyle,
    /// Send the API searches of a session on one kept connection (HTTP keep-alive), opening a
    /// new one when the server has closed it, instead of one connection per request.
    #[arg(long)]
    pub keep_alive: bool,
}

fn parse_encoding(s: &str) -> Result<onshi_protocol::TextEncoding, String> {
    onshi_protocol::TextEncoding::from_label(s)
}

impl Args {
    /// The client's settings from its command line.
    pub fn options(&self) -> Options {
        Options {
            defects: self.defects.clone(),
            timeout_ms: self.fixed_timeout_ms.unwrap_or(self.timeout_ms),
            fixed_timeout: self.fixed_timeout_ms.is_some(),
            declare_timeout: self.fixed_timeout_ms.is_some() && !self.undeclared,
            keep_alive: self.keep_alive,
            request_encoding: self.request_encoding,
            style: self.style,
            ..Options::default()
        }
    }
}

/// The defect table as text, for `--list-defects`.
pub fn defects_table() -> String {
    let mut out = String::new();
    for d in DEFECTS {
        let caught: Vec<String> = d.catches.iter().map(|c| format!("{} → {}", c.case, c.check)).collect();
        out.push_str(&format!(
            "{:<28} {}
    {}
",
            d.name,
            caught.join(", "),
            d.behaviour
        ));
    }
    out
}

/// Runs the reference client with parsed arguments: logs to stderr, protocol on stdout.
pub fn main_with(args: Args) -> anyhow::Result<()> {
    if args.list_defects {
        print!("{}", defects_table());
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ONSHI_LOG").unwrap_or_else(|_| "warn".into()))
        .try_init()
        .ok();
    serve_stdio(args.options())?;
    Ok(())
}
