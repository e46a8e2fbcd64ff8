//! `onshi-bench-api` — requests/s and latency of the national mock's search endpoint, and in
//! the same run of two references, over keep-alive connections at several concurrencies, plain
//! HTTP and HTTPS:
//!
//! * **onshi** — `onshi serve`, doing its real work per search: parse, type-check and lint the
//!   JSON, check the token, look the card up, build and serialise the result, journal the
//!   exchange (to a file, flushed per event);
//! * **trivial** — a hyper server with the same TLS configuration returning the same bytes
//!   without doing any work (the practical ceiling of this machine);
//! * **wiremock** — WireMock standalone (installed from its npm package) serving the same answer
//!   as a static stub: what a vendor would otherwise mock with.
//!
//! Each server runs in its own process; the load generator is this process, on one thread.
//!
//! ```sh
//! cargo build --release -p onshi-cli -p onshi-benches
//! target/release/onshi-bench-api [--measure-s 5] [--json target/bench-api.json]
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use onshi_benches::load::{self, Stats, Target};
use onshi_benches::{UsageWho, cpu_s};
use onshi_national::http::api::{AUTH_PATH, SEARCH_PATH};
use serde_json::Value;

/// The WireMock version installed with npm (pinned, so runs compare).
const WIREMOCK: &str = "wiremock@3.13.2";

#[derive(Parser)]
#[command(about = "The API load benchmark: onshi's search endpoint vs a trivial server vs WireMock")]
struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// The `onshi` binary (a release build).
    #[arg(long, value_name = "PATH")]
    onshi: Option<PathBuf>,
    /// Concurrencies (keep-alive connections), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Seconds of warm-up before each measurement.
    #[arg(long, default_value_t = 2)]
    warmup_s: u64,
    /// Seconds measured per server, transport and concurrency.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    measure_s: u64,
    /// Leave WireMock out (no Java or npm on this machine).
    #[arg(long)]
    no_wiremock: bool,
    /// Where npm installs WireMock.
    #[arg(long, value_name = "DIR")]
    tools_dir: Option<PathBuf>,
    /// Also write the results as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Instead of comparing servers, compare load generators against `onshi serve`: this
    /// crate's generator and oha (`cargo install oha`), same request, connections and time.
    #[arg(long)]
    vs_oha: bool,
    /// The oha binary.
    #[arg(long, value_name = "PATH", default_value = "oha")]
    oha: PathBuf,
}

#[derive(Subcommand)]
enum Sub {
    /// (internal) The trivial server: prints `plain PORT` and `tls PORT`, serves until killed.
    TrivialServer {
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
    },
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// CPU time used so far (user + system, all threads), in seconds.
    fn cpu_s(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).ok()?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        Some(ticks / 100.0) // USER_HZ is 100 on Linux
    }

    /// Peak resident memory (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Reads the child's stdout until a line containing `until`; returns the lines.
fn read_until(child: &mut Child, until: &str) -> Result<Vec<String>> {
    let out = child.stdout.take().context("no stdout")?;
    let mut lines = Vec::new();
    let mut reader = BufReader::new(out);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("the process ended before printing {until:?}:\n{}", lines.join(""));
        }
        let done = line.contains(until);
        lines.push(line);
        if done {
            // Keep draining so the child never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return Ok(lines);
        }
    }
}

fn port_after(lines: &[String], label: &str) -> Result<u16> {
    let line = lines
        .iter()
        .find(|l| l.trim_start().starts_with(label))
        .with_context(|| format!("no {label:?} line"))?;
    let url = line.split_whitespace().find(|w| w.contains("://")).context("no URL")?;
    Ok(url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .parse()?)
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Server {
    name: &'static str,
    plain: Target,
    tls: Target,
    process: Proc,
}

/// `onshi serve` with a plain listener; logs in and returns the search targets and the answer.
async fn start_onshi(onshi: &Path, dir: &Path) -> Result<(Server, Bytes, Bytes)> {
    let mut child = Command::new(onshi)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--listen-plain",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--dir",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", onshi.display()))?;
    let lines = read_until(&mut child, "Ctrl-C")?;
    let process = Proc(child);
    let (tls_port, plain_port) = (
        port_after(&lines, "National API (HTTPS)")?,
        port_after(&lines, "National API (HTTP)")?,
    );
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).with_context(|| p.to_owned());
    let ca = read("pki/ca.pem")?;
    let (cert, key) = (
        read("pki/client-9900000001.pem")?,
        read("pki/client-9900000001-key.pem")?,
    );
    let login = Target {
        addr: local(tls_port),
        host: "localhost".into(),
        tls: Some(onshi_national::http::tls::client_config(&ca, Some((&cert, &key)))?),
        path: AUTH_PATH.into(),
        headers: vec![],
        body: Bytes::from(read("credentials-9900000001.json")?),
    };
    let (status, body) = load::once(&login).await?;
    let token = serde_json::from_slice::<Value>(&body)?
        .pointer("/result/idToken")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("login answered {status}: {}", String::from_utf8_lossy(&body)))?;
    let search_body = Bytes::from(read("search-valid-kenpo-insured.json")?);
    let tls = Target {
        tls: Some(load::tls_config(Some(&ca))?),
        path: SEARCH_PATH.into(),
        headers: vec![("authorization".into(), token)],
        body: search_body.clone(),
        ..login
    };
    let plain = Target {
        addr: local(plain_port),
        host: "127.0.0.1".into(),
        tls: None,
        ..tls.clone()
    };
    let (status, answer) = load::once(&tls).await?;
    let v: Value = serde_json::from_slice(&answer)?;
    if status != 200 || v.pointer("/XmlMsg/MessageBody/QualificationValidity") != Some(&Value::from("1")) {
        bail!("the search did not answer QualificationValidity 1: {status} {v}");
    }
    Ok((
        Server {
            name: "onshi",
            plain,
            tls,
            process,
        },
        answer,
        search_body,
    ))
}

async fn start_trivial(answer_file: &Path, body: &Bytes) -> Result<Server> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("trivial-server")
        .arg("--body")
        .arg(answer_file)
        .stdout(Stdio::piped())
        .spawn()?;
    let lines = read_until(&mut child, "tls ")?;
    let port = |p: &str| -> Result<u16> {
        Ok(lines
            .iter()
            .find_map(|l| l.strip_prefix(p))
            .context("no port")?
            .trim()
            .parse()?)
    };
    let ca = onshi_national::pki::embedded().ca_cert()?.to_owned();
    let plain = Target {
        addr: local(port("plain ")?),
        host: "127.0.0.1".into(),
        tls: None,
        path: SEARCH_PATH.into(),
        headers: vec![],
        body: body.clone(),
    };
    let tls = Target {
        addr: local(port("tls ")?),
        host: "localhost".into(),
        tls: Some(load::tls_config(Some(&ca))?),
        ..plain.clone()
    };
    Ok(Server {
        name: "trivial",
        plain,
        tls,
        process: Proc(child),
    })
}

/// Installs WireMock from npm into `tools` (once) and returns its standalone jar.
fn wiremock_jar(tools: &Path) -> Result<PathBuf> {
    let build = tools.join("node_modules/wiremock/build");
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(&build)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "jar"))
    };
    if let Some(jar) = find() {
        return Ok(jar);
    }
    std::fs::create_dir_all(tools)?;
    eprintln!("installing {WIREMOCK} with npm into {}", tools.display());
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(tools)
        .arg(WIREMOCK)
        .status()
        .context("npm is needed to install WireMock (or pass --no-wiremock)")?;
    if !status.success() {
        bail!("npm install {WIREMOCK} failed");
    }
    find().context("the wiremock package holds no jar")
}

async fn start_wiremock(tools: &Path, answer: &Bytes, body: &Bytes) -> Result<Server> {
    let jar = wiremock_jar(tools)?;
    let (http, https) = (free_port()?, free_port()?);
    let child = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--port", &http.to_string(), "--https-port", &https.to_string()])
        // Its best case: no request journal, no request logging.
        .args(["--disable-banner", "--no-request-journal", "--disable-request-logging"])
        .stdout(Stdio::null())
        .spawn()
        .context("java is needed to run WireMock (or pass --no-wiremock)")?;
    let process = Proc(child);
    let mapping = serde_json::json!({
        "request": {"method": "POST", "url": SEARCH_PATH},
        "response": {"status": 200, "body": String::from_utf8_lossy(answer),
                     "headers": {"Content-Type": "application/json;charset=UTF-8"}}
    });
    let admin = Target {
        addr: local(http),
        host: "127.0.0.1".into(),
        tls: None,
        path: "/__admin/mappings".into(),
        headers: vec![],
        body: Bytes::from(serde_json::to_vec(&mapping)?),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match load::once(&admin).await {
            Ok((201, _)) => break,
            Ok((s, b)) => bail!("WireMock refused the stub: {s} {}", String::from_utf8_lossy(&b)),
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => bail!("WireMock did not start within 60 s: {e}"),
        }
    }
    let plain = Target {
        path: SEARCH_PATH.into(),
        body: body.clone(),
        ..admin
    };
    let tls = Target {
        addr: local(https),
        host: "localhost".into(),
        // WireMock's built-in self-signed certificate.
        tls: Some(load::tls_config(None)?),
        ..plain.clone()
    };
    let (status, got) = load::once(&plain).await?;
    if status != 200 || got != *answer {
        bail!("WireMock does not answer the stub: {status}");
    }
    Ok(Server {
        name: "wiremock",
        plain,
        tls,
        process,
    })
}

#[derive(serde::Serialize)]
struct Row {
    transport: &'static str,
    server: &'static str,
    #[serde(flatten)]
    stats: Stats,
    /// Server CPU time per request over warm-up and measurement, in µs.
    cpu_us_per_request: Option<f64>,
}

fn trivial_server(body: &Path) -> Result<()> {
    let body = Bytes::from(std::fs::read(body)?);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let tls = onshi_national::http::ServerTls::from_pki(&onshi_national::pki::embedded())?;
        let (plain, plain_addr) = onshi_benches::fixed::bind(local(0)).await?;
        let (secure, tls_addr) = onshi_benches::fixed::bind(local(0)).await?;
        println!("plain {}", plain_addr.port());
        println!("tls {}", tls_addr.port());
        tokio::spawn(onshi_benches::fixed::serve(plain, None, body.clone()));
        onshi_benches::fixed::serve(secure, Some(tls.config), body).await;
        anyhow::Ok(())
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(Sub::TrivialServer { body }) = &args.command {
        return trivial_server(body);
    }
    let onshi = args
        .onshi
        .clone()
        .unwrap_or_else(|| workspace().join("target/release/onshi"));
    let tools = args
        .tools_dir
        .clone()
        .unwrap_or_else(|| workspace().join("target/bench-tools"));
    // The load generator runs on this one thread; the servers have the machine's cores.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let (onshi_server, answer, body) = start_onshi(&onshi, &dir.path().join("serve")).await?;
        if args.vs_oha {
            let body_file = dir.path().join("search.json");
            std::fs::write(&body_file, &body)?;
            return compare_generators(&args, &onshi_server, &body_file).await;
        }
        let answer_file = dir.path().join("answer.json");
        std::fs::write(&answer_file, &answer)?;
        let mut servers = vec![onshi_server, start_trivial(&answer_file, &body).await?];
        if !args.no_wiremock {
            servers.push(start_wiremock(&tools, &answer, &body).await?);
        }
        eprintln!(
            "the answer is {} bytes; {} s warm-up + {} s per measurement",
            answer.len(),
            args.warmup_s,
            args.measure_s
        );
        let mut rows = Vec::new();
        for transport in ["http", "https"] {
            for &c in &args.concurrency {
                for s in &servers {
                                        let target = if transport == "http" { &s.plain } else { &s.tls };
                    let measure = Duration::from_secs(args.measure_s);
                    let cpu_before = s.process.cpu_s();
                    let stats = load::run(target, c, Duration::from_secs(args.warmup_s), measure).await;
                    let cpu_us_per_request = match (cpu_before, s.process.cpu_s()) {
                        // Over the measured window only: the CPU of the whole run, scaled by the
                        // window's share of it, per measured request.
                        (Some(a), Some(b)) if stats.requests > 0 => {
                            let share = args.measure_s as f64 / (args.measure_s + args.warmup_s) as f64;
                            Some((b - a) * share * 1e6 / stats.requests as f64)
                        }
                        _ => None,
                    };
                    eprintln!(
                        "{transport:5} {:8} c={c:<3} {:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  max {:>7} µs  errors {}  cpu {:.1} µs/req",
                        s.name,
                        stats.rps,
                        stats.p50_us,
                        stats.p99_us,
                        stats.max_us,
                        stats.errors,
                        cpu_us_per_request.unwrap_or(f64::NAN)
                    );
                    rows.push(Row {
                        transport,
                        server: s.name,
                        stats,
                        cpu_us_per_request,
                    });
                }
            }
        }
        print!("{}", markdown(&rows, &servers));
        if let Some(path) = &args.json {
            std::fs::write(path, serde_json::to_vec_pretty(&rows)?)?;
        }
        anyhow::Ok(())
    })
}

fn markdown(rows: &[Row], servers: &[Server]) -> String {
    let mut out = String::from(
        "| transport | concurrency | server | requests/s | p50 | p99 | max | errors | server CPU per request | onshi vs trivial | onshi vs WireMock |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let rps = |t: &str, c: usize, name: &str| {
        rows.iter()
            .find(|r| r.transport == t && r.stats.concurrency == c && r.server == name)
            .map(|r| r.stats.rps)
    };
    for r in rows {
        let s = &r.stats;
        let ratio = |other: &str| match (r.server, rps(r.transport, s.concurrency, other)) {
            ("onshi", Some(o)) if o > 0.0 => format!("{:.0} %", 100.0 * s.rps / o),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{} {} | {} |\n",
            cells(r.transport, r.server, s, r.cpu_us_per_request),
            ratio("trivial"),
            ratio("wiremock"),
        ));
    }
    out.push_str("\nPeak resident memory of each server process (VmHWM): ");
    let mem: Vec<String> = servers
        .iter()
        .map(|s| match s.process.peak_rss_mib() {
            Some(m) => format!("{} {m:.0} MiB", s.name),
            None => format!("{} n/a", s.name),
        })
        .collect();
    out.push_str(&mem.join(", "));
    out.push('\n');
    out
}

/// One measurement of a load generator.
#[derive(serde::Serialize)]
struct GeneratorRow {
    transport: &'static str,
    generator: &'static str,
    #[serde(flatten)]
    stats: Stats,
    /// The generator's own CPU time per request (user + system), in µs.
    cpu_us_per_request: Option<f64>,
}

/// This crate's generator and oha against the same `onshi serve`, line by line.
async fn compare_generators(args: &Args, server: &Server, body_file: &Path) -> Result<()> {
    let mut rows = Vec::new();
    for transport in ["http", "https"] {
        let target = if transport == "http" {
            &server.plain
        } else {
            &server.tls
        };
        for &c in &args.concurrency {
            let before = cpu_s(UsageWho::RUSAGE_SELF);
            let stats = load::run(
                target,
                c,
                Duration::from_secs(args.warmup_s),
                Duration::from_secs(args.measure_s),
            )
            .await;
            let cpu = (cpu_s(UsageWho::RUSAGE_SELF) - before) * args.measure_s as f64
                / (args.measure_s + args.warmup_s) as f64;
            rows.push(GeneratorRow {
                transport,
                generator: "onshi",
                cpu_us_per_request: (stats.requests > 0).then(|| cpu * 1e6 / stats.requests as f64),
                stats,
            });
            if args.warmup_s > 0 {
                oha(args, target, body_file, c, args.warmup_s)?;
            }
            let before = cpu_s(UsageWho::RUSAGE_CHILDREN);
            let stats = oha(args, target, body_file, c, args.measure_s)?;
            let cpu = cpu_s(UsageWho::RUSAGE_CHILDREN) - before;
            rows.push(GeneratorRow {
                transport,
                generator: "oha",
                cpu_us_per_request: (stats.requests > 0).then(|| cpu * 1e6 / stats.requests as f64),
                stats,
            });
            for r in &rows[rows.len() - 2..] {
                eprintln!(
                    "{transport:5} {:6} c={c:<3} {:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  max {:>7} µs  errors {}",
                    r.generator, r.stats.rps, r.stats.p50_us, r.stats.p99_us, r.stats.max_us, r.stats.errors
                );
            }
        }
    }
    print!("{}", generator_markdown(&rows));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&rows)?)?;
    }
    Ok(())
}

/// Runs oha for `seconds` with the target's request and reads its JSON summary.
fn oha(args: &Args, t: &Target, body_file: &Path, c: usize, seconds: u64) -> Result<Stats> {
    let url = match t.tls {
        // the mock's certificate names localhost; oha is told not to check it, and gets the
        // address itself so that it never tries ::1, where the mock does not listen
        Some(_) => format!("https://{}{}", t.addr, t.path),
        None => format!("http://{}{}", t.addr, t.path),
    };
    let mut cmd = Command::new(&args.oha);
    cmd.args(["--no-tui", "--output-format", "json", "-m", "POST"])
        .args(["-z", &format!("{seconds}s"), "-c", &c.to_string()])
        .args(["-H", "Content-Type: application/json;charset=UTF-8"])
        .arg("-D")
        .arg(body_file);
    for (k, v) in &t.headers {
        cmd.args(["-H", &format!("{k}: {v}")]);
    }
    if t.tls.is_some() {
        cmd.arg("--insecure");
    }
    let out = cmd
        .arg(&url)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {} (cargo install oha)", args.oha.display()))?;
    if !out.status.success() {
        bail!("oha failed: {}", out.status);
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("oha's JSON")?;
    let f = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_f64)
            .with_context(|| format!("oha's JSON has no {p}"))
    };
    let us = |s: f64| (s * 1e6).round() as u64;
    let count = |p: &str, ok: &dyn Fn(&str) -> bool| -> u64 {
        v.pointer(p).and_then(Value::as_object).map_or(0, |m| {
            m.iter().filter(|(k, _)| ok(k)).filter_map(|(_, n)| n.as_u64()).sum()
        })
    };
    let ok = count("/statusCodeDistribution", &|k| k == "200");
    // requests cut off by the end of the run are not errors (this generator does not count them either)
    let errors =
        count("/statusCodeDistribution", &|k| k != "200") + count("/errorDistribution", &|k| !k.contains("deadline"));
    Ok(Stats {
        concurrency: c,
        requests: ok,
        errors,
        rps: ok as f64 / seconds as f64,
        p50_us: us(f("/latencyPercentiles/p50")?),
        p99_us: us(f("/latencyPercentiles/p99")?),
        max_us: us(f("/summary/slowest")?),
    })
}

fn generator_markdown(rows: &[GeneratorRow]) -> String {
    let mut out = String::from(
        "| transport | connections | generator | requests/s | p50 | p99 | max | errors | generator CPU per request | onshi vs oha (requests/s) | onshi vs oha (p99) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let s = &r.stats;
        let oha = rows
            .iter()
            .find(|o| o.generator == "oha" && o.transport == r.transport && o.stats.concurrency == s.concurrency);
        let (rps, p99) = match (r.generator, oha) {
            ("onshi", Some(o)) if o.stats.rps > 0.0 && o.stats.p99_us > 0 => (
                format!("{:.0} %", 100.0 * s.rps / o.stats.rps),
                format!("{:.0} %", 100.0 * s.p99_us as f64 / o.stats.p99_us as f64),
            ),
            _ => (String::new(), String::new()),
        };
        out.push_str(&format!(
            "{} {rps} | {p99} |\n",
            cells(r.transport, r.generator, s, r.cpu_us_per_request)
        ));
    }
    out
}

/// The cells a table row starts with: transport, connections, name, requests/s, p50, p99,
/// max, errors and CPU per request (each followed by `|`).
fn cells(transport: &str, name: &str, s: &Stats, cpu_us_per_request: Option<f64>) -> String {
    let ms = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
    format!(
        "| {transport} | {} | {name} | {:.0} | {} | {} | {} | {} | {} |",
        s.concurrency,
        s.rps,
        ms(s.p50_us),
        ms(s.p99_us),
        ms(s.max_us),
        s.errors,
        cpu_us_per_request.map(|c| format!("{c:.0} µs")).unwrap_or_default(),
    )
}
