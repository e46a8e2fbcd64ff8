//! `onshi run --operator`: the run's adapter is this program's own operator console, which a
//! person answers through a web page. Here: the options, the address rules (loopback unless
//! `--lan`), the token (kept in a file only the console reads, never in the adapter command —
//! that is written into the report), and the hidden `operator-console` subcommand.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::NaiveDate;
use onshi_operator::{ConsoleArgs, Lang};
use onshi_registry::Registry;

/// The options of `onshi run` for a person at the keyboard.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct OperatorArgs {
    /// A person answers through a web console instead of an adapter (see docs/operator.md).
    #[arg(long, conflicts_with = "adapter")]
    pub operator: bool,
    /// Where the console listens (default: a free port on 127.0.0.1).
    #[arg(long, value_name = "ADDR", requires = "operator")]
    pub listen: Option<SocketAddr>,
    /// The language of the reports and the operator console: ja or en (default: the locale,
    /// LANG=ja_JP.UTF-8 giving Japanese; the console is Japanese unless en is asked for).
    #[arg(long, value_name = "ja|en", value_parser = ["ja", "en"])]
    pub lang: Option<String>,
    /// Time a person gets to report each step, added to the deadline a case sets, in seconds.
    #[arg(long, default_value_t = 600, value_name = "SECS", requires = "operator",
          value_parser = clap::value_parser!(u64).range(10..=7200))]
    pub operator_time: u64,
    /// The name of the person answering, recorded in the evidence bundle (`--bundle`).
    #[arg(long, value_name = "NAME", requires = "operator")]
    pub operator_name: Option<String>,
}

/// The hidden subcommand the run starts as its adapter.
#[derive(clap::Args, Debug)]
pub(crate) struct ConsoleCommand {
    #[arg(long)]
    listen: SocketAddr,
    /// A file holding the run's token.
    #[arg(long)]
    token_file: PathBuf,
    #[arg(long, default_value = "ja")]
    lang: String,
    #[arg(long)]
    live_journal: PathBuf,
    #[arg(long)]
    state_dir: PathBuf,
    #[arg(long, value_parser = crate::parse_date)]
    date: NaiveDate,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// What `onshi run` needs to start the console and tell the person where it is.
pub(crate) struct Prepared {
    pub adapter: String,
    pub url: String,
    pub mode: onshi_harness::OperatorMode,
    pub lan: bool,
}

/// Checks the address, picks a port, writes the token and builds the adapter command.
pub(crate) fn prepare(
    args: &OperatorArgs,
    lan: bool,
    report_dir: &Path,
    date: NaiveDate,
    seed: u64,
) -> Result<Prepared, String> {
    let want = args
        .listen
        .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
    if !want.ip().is_loopback() && !lan {
        return Err(format!(
            "--listen {want} is not a loopback address: the console would be reachable from other machines. \
             Add --lan to allow that on purpose (ループバック以外で待ち受けるには --lan が必要です)"
        ));
    }
    // a free port now; the console binds it a moment later
    let addr = std::net::TcpListener::bind(want)
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot listen on {want}: {e}"))?;
    let dir = report_dir.join("operator");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let token = onshi_national::http::new_secret();
    let token_file = dir.join("token");
    write_private(&token_file, &token).map_err(|e| format!("cannot write {}: {e}", token_file.display()))?;
    let _ = std::fs::remove_file(dir.join("identity.json"));
    let live = dir.join("live.jsonl");
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    let adapter = format!(
        "{} operator-console --listen {addr} --token-file {} --lang {} --live-journal {} --state-dir {} --date {} --seed {seed}",
        crate::shell_quote(&exe),
        crate::shell_quote(&token_file),
        args.lang.as_deref().unwrap_or("ja"),
        crate::shell_quote(&live),
        crate::shell_quote(&dir),
        date.format("%Y%m%d"),
    );
    let host = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => "<this-pc's-address>".to_owned(),
        IpAddr::V6(ip) if ip.is_unspecified() => "<this-pc's-address>".to_owned(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    Ok(Prepared {
        adapter,
        url: format!("http://{host}:{}/?token={token}", addr.port()),
        mode: onshi_harness::OperatorMode {
            allowance: std::time::Duration::from_secs(args.operator_time),
            live_journal: live,
        },
        lan: !addr.ip().is_loopback(),
    })
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// `onshi operator-console`: serves the page and answers the harness on stdin/stdout.
pub(crate) fn console_command(c: ConsoleCommand) -> anyhow::Result<()> {
    let token = std::fs::read_to_string(&c.token_file)
        .with_context(|| format!("reading the token from {}", c.token_file.display()))?
        .trim()
        .to_owned();
    let args = ConsoleArgs {
        listen: c.listen,
        token,
        lang: Lang::parse(&c.lang).unwrap_or(Lang::Ja),
        live_journal: c.live_journal,
        state_dir: c.state_dir,
        registry: Some(Arc::new(Registry::embedded(c.date, c.seed))),
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(onshi_operator::run_console(args))?;
    Ok(())
}
