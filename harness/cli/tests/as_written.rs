//! The README and the docs, as written. Every shell block (```sh) in `README.md` and
//! `docs/*.md` is split into its commands, and each command is run **exactly as written, from
//! the repository's root, with default arguments**, in document order (the README's first
//! command builds `target/release/onshi`, which the rest use; `target/release` is put on
//! `PATH` for the documents that say plain `onshi`). Each command's promised outcome is
//! checked. A command in the docs that this file does not know fails the test, and so does an
//! entry here whose command left the docs; a fenced block that holds commands without being
//! tagged `sh` (or `text`, for a synopsis) fails too.
//!
//! Long runs are shortened only through the environment, never by editing the command:
//! `ONSHI_RUSH_MAX_WINDOW` caps a real-time rush's arrival window and `ONSHI_SERVE_LISTEN` /
//! `ONSHI_SERVE_ADMIN_LISTEN` put `onshi serve` on free ports.
//!
//! It builds the release binaries, so plain `cargo test` leaves it out; `scripts/test` (CI)
//! runs it: `cargo test -p onshi-cli --test as_written -- --ignored`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a documented command did.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    repo: PathBuf,
}

impl Ran {
    fn all(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
    fn exits(&self, code: i32) {
        assert_eq!(self.code, Some(code), "{}", self.all());
    }
    fn prints(&self, needle: &str) {
        assert!(self.stdout.contains(needle), "{needle:?} not printed:\n{}", self.all());
    }
    fn wrote(&self, rel: &str) {
        assert!(self.repo.join(rel).exists(), "{rel} was not written:\n{}", self.all());
    }
    /// The lines of the README's text block that follows `after` (an expected output).
    fn readme_output_after(&self, after: &str) -> Vec<String> {
        let readme = std::fs::read_to_string(self.repo.join("README.md")).unwrap();
        let rest = &readme[readme.find(after).unwrap_or_else(|| panic!("README has no {after:?}"))..];
        let block = &rest[rest.find("```text\n").expect("an output block") + 8..];
        block[..block.find("```").unwrap()]
            .lines()
            .filter(|l| !l.trim().is_empty() && *l != "...")
            .map(str::to_owned)
            .collect()
    }
}

enum How {
    /// Run with `sh -c` from the repository's root; the check gets what happened.
    Run(fn(&Ran)),
    /// Like `Run`, with extra environment (the shortening variables).
    RunWith(&'static [(&'static str, &'static str)], fn(&Ran)),
    /// Runs until Ctrl-C: started, `ready` awaited on stdout, then SIGINT; must stop with 0.
    UntilInterrupted { ready: &'static str },
    /// Not run here, for the reason given; an `onshi` command's options must still exist.
    NotRun(&'static str),
}

use How::*;

const RUSH_30S: &[(&str, &str)] = &[("ONSHI_RUSH_MAX_WINDOW", "30s")];

/// Every command the docs tell a user to run: (document, command as written, how).
/// Operator mode waits for a person; tests/operator.rs answers its page as one.
const BY_HAND: &str = "waits for a person at the browser; tests/operator.rs drives the same run through its page";

const DOCUMENTED: &[(&str, &str, How)] = &[
    (
        "README.md",
        "cargo run --release -p onshi-cli -- demo   # the bundled reference client through the whole suite",
        Run(|r| {
            r.exits(0);
            let shown = r.readme_output_after("**1. Run the demo.**");
            // the summary line, and the PC/SC line up to its reason (which depends on the machine)
            let summary = shown.iter().find(|l| l.contains(" cases: ")).expect("a summary line");
            r.prints(&format!("\n{summary}\n"));
            let pcsc = shown.iter().find(|l| l.contains("PC/SC card case(s)")).unwrap();
            r.prints(&pcsc[..pcsc.find('(').unwrap()]);
            for f in ["report.html", "report.json", "junit.xml", "journal.jsonl"] {
                r.wrote(&format!("onshi-report/{f}"));
            }
        }),
    ),
    (
        "README.md",
        "scripts/test                               # installs what the tests need, then runs them all",
        NotRun("it runs this test; CI runs it through .ci/run (checked below)"),
    ),
    (
        "README.md",
        r#"target/release/onshi run --adapter "target/release/onshi reference-client --defect newqual-as-valid""#,
        Run(|r| {
            r.exits(1);
            for line in r.readme_output_after("**3. Break the client") {
                // event numbers depend on timing; the rest is as shown
                if !line.contains("event") {
                    r.prints(&line);
                }
            }
        }),
    ),
    (
        "README.md",
        "target/release/onshi reference-client --list-defects",
        Run(|r| {
            r.exits(0);
            let readme = std::fs::read_to_string(r.repo.join("README.md")).unwrap();
            let listed = r
                .stdout
                .lines()
                .filter(|l| !l.starts_with(' ') && !l.is_empty())
                .count();
            assert!(
                readme.contains(&format!("lists all {listed} defects")),
                "README's count is not {listed}"
            );
            for name in [
                "zero-pad-insurer",
                "in-place-write",
                "eager-face-read",
                "retry-storm",
                "card-by-atr",
            ] {
                r.prints(&format!("\n{name} "));
            }
        }),
    ),
    (
        "README.md",
        "target/release/onshi validate fixtures/messages/OQSsiquc01req_202511210001.xml",
        Run(|r| {
            r.exits(1);
            for line in r.readme_output_after("**4. Lint a message file.**") {
                r.prints(&line);
            }
        }),
    ),
    (
        "README.md",
        "target/release/onshi serve",
        UntilInterrupted { ready: "Ctrl-C stops" },
    ),
    (
        "README.md",
        "target/release/onshi card list",
        Run(|r| {
            r.exits(0);
            r.prints("locked-auth-pin");
            r.prints("11 cards");
        }),
    ),
    (
        "README.md",
        "target/release/onshi card run fixtures/cards/scripts/user-authentication.apdu",
        Run(|r| r.exits(0)),
    ),
    (
        "README.md",
        "target/release/onshi rush clinic-morning --virtual",
        Run(rush_passes),
    ),
    (
        "README.md",
        "target/release/onshi rush clinic-morning --virtual --client reference",
        Run(|r| {
            rush_passes(r);
            r.prints("reference");
        }),
    ),
    (
        "README.md",
        "target/release/onshi rush national-peak --virtual",
        Run(rush_passes),
    ),
    (
        "README.md",
        "target/release/onshi cases",
        Run(|r| {
            r.exits(0);
            r.prints("FILE-QUAL-003  [mandatory]");
            // as many as the README says the demo runs
            let readme = std::fs::read_to_string(r.repo.join("README.md")).unwrap();
            let n = readme
                .split("ends with a table of ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .expect("the README says how many cases");
            r.prints(&format!("{n} cases (embedded)"));
        }),
    ),
    (
        "README.md",
        r#"target/release/onshi run --adapter "python3 examples/python-adapter/adapter.py""#,
        Run(|r| {
            r.exits(0);
            r.prints(" 0 failed (0 mandatory)");
        }),
    ),
    (
        "README.md",
        r#"target/release/onshi verify onshi-report    # "N cases re-derived identically …""#,
        Run(|r| {
            r.exits(0);
            r.prints("cases re-derived identically");
        }),
    ),
    (
        "docs/api.md",
        "target/release/onshi serve            # national API on https://localhost:8443, admin API on 127.0.0.1:8444",
        UntilInterrupted { ready: "Ctrl-C stops" },
    ),
    (
        "docs/api.md",
        "echo '127.0.0.1 hweb-api.oqs.onshikaku.org hweb-mnc.oqs.onshikaku.org' | sudo tee -a /etc/hosts",
        NotRun("changes the machine's hosts file: a test machine only"),
    ),
    (
        "docs/api.md",
        "sudo onshi serve --listen 127.0.0.1:443          # or keep 8443 and forward 443 → 8443",
        NotRun("needs root for port 443"),
    ),
    (
        "README.md",
        "target/release/onshi run --operator            # prints http://127.0.0.1:PORT/?token=…",
        NotRun(BY_HAND),
    ),
    (
        "docs/operator.md",
        "target/release/onshi run --operator --report-dir 受付試験",
        NotRun(BY_HAND),
    ),
    (
        "docs/operator.md",
        "target/release/onshi run --operator --report-dir reception-test",
        NotRun(BY_HAND),
    ),
    (
        "docs/operator.md",
        "sudo target/release/onshi run --operator --smb --smb-listen 192.0.2.10:445 --lan --listen 192.0.2.10:8080",
        NotRun("a person at a browser on a LAN address; tests/operator.rs and tests/smb.rs run the same on loopback"),
    ),
    (
        "docs/performance.md",
        "cargo build --release -p onshi-cli -p onshi-benches",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        "target/release/onshi-bench-api --json target/bench-api.json",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        "cargo build --release -p onshi-cli -p onshi-benches && cargo install oha",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        "target/release/onshi-bench-api --vs-oha --json target/bench-gen.json",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        "cargo build --release -p onshi-benches",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        "target/release/onshi-bench-terminal            # --requests 2000 --concurrency 16 --seconds 10 --bulk 1000",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        r#"/usr/bin/time -f "%e s wall, %U s user, %M KB max RSS" target/release/onshi rush national-peak --virtual --report-dir /tmp/np"#,
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        r#"/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" target/release/onshi rush cloud-ehr-1000 --duration 1m --report-dir /tmp/cloud-live"#,
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        "target/release/onshi-bench-rush --rates 200,400,800,1600,3200,6400,12800 --seconds 20 --json target/bench-rush.json",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        "for k in 0 1 2 3; do target/release/onshi rush national-peak --virtual --partition $k/4 --report-dir p$k; done",
        NotRun(BENCH),
    ),
    (
        "docs/performance.md",
        r#"/usr/bin/time -f "%e s wall, %U s user, %M KB max RSS" target/release/onshi rush national-peak --merge p0 p1 p2 p3 --report-dir merged"#,
        NotRun(BENCH),
    ),
    (
        "docs/rush.md",
        "onshi rush --list                                  # the shipped profiles",
        Run(|r| {
            r.exits(0);
            r.prints("clinic-morning");
            r.prints("national-peak");
        }),
    ),
    (
        "docs/rush.md",
        "onshi rush clinic-morning --virtual                # 4 hours of one clinic on virtual time (0.1 s)",
        Run(rush_passes),
    ),
    (
        "docs/rush.md",
        "onshi rush clinic-morning --virtual --client reference   # … with the reference client's own waits",
        Run(rush_passes),
    ),
    (
        "docs/rush.md",
        "onshi rush national-peak --virtual                 # all 229,963 facilities for an hour (about 1 s)",
        Run(|r| {
            rush_passes(r);
            r.prints("229963 facilities");
        }),
    ),
    (
        "docs/rush.md",
        "onshi rush hospital-opening --duration 5m          # real time against the bundled reference client",
        RunWith(RUSH_30S, rush_live_measures),
    ),
    (
        "docs/rush.md",
        r#"onshi rush hospital-opening --duration 5m --adapter "python3 examples/python-adapter/adapter.py""#,
        RunWith(RUSH_30S, rush_live_measures),
    ),
    (
        "docs/rush.md",
        r#"onshi rush clinic-burst --duration 20s --adapter "python3 examples/python-adapter/adapter.py" --report-dir measured"#,
        Run(|r| {
            r.exits(0);
            r.wrote("measured/rush.json");
        }),
    ),
    (
        "docs/rush.md",
        "onshi rush national-peak --virtual --client-from measured/rush.json",
        Run(|r| {
            rush_passes(r);
            r.prints("log-normal");
        }),
    ),
    (
        "README.md",
        "target/release/onshi demo --bundle onshi-report/demo.zip",
        Run(|r| {
            r.exits(0);
            r.prints("bundle: ");
            r.wrote("onshi-report/demo.zip");
        }),
    ),
    (
        "README.md",
        "target/release/onshi verify onshi-report/demo.zip                  # hashes, signature, \"N cases re-derived identically\"",
        Run(|r| {
            r.exits(0);
            r.prints("re-derived identically");
            r.prints("signature: none");
            r.prints("verified");
        }),
    ),
    (
        "README.md",
        "target/release/onshi report onshi-report/demo.zip --lang ja        # onshi-review/report.html in Japanese",
        Run(|r| {
            r.exits(0);
            r.wrote("onshi-review/report.html");
            let page = std::fs::read_to_string(r.repo.join("onshi-review/report.html")).unwrap();
            assert!(
                page.contains("導入準備の判定") && page.contains("準備完了"),
                "the readiness page is not there"
            );
        }),
    ),
    (
        "docs/ci.md",
        "cargo install --locked --path harness/cli   # puts onshi in ~/.cargo/bin",
        NotRun(
            "it would install into the user's ~/.cargo/bin; the_installed_onshi_works_from_an_empty_folder runs it with --root in a temporary folder",
        ),
    ),
    (
        "docs/ci.md",
        r#"onshi run --adapter "python3 examples/python-adapter/adapter.py" --report-dir ci-report --bundle ci-report/onshi-run.zip --junit ci-report/junit.xml"#,
        Run(|r| {
            r.exits(0);
            r.prints("check it with `onshi verify");
            for f in [
                "ci-report/onshi-run.zip",
                "ci-report/junit.xml",
                "ci-report/report.html",
            ] {
                r.wrote(f);
            }
        }),
    ),
    (
        "docs/ci.md",
        "onshi verify ci-report/onshi-run.zip",
        Run(|r| {
            r.exits(0);
            r.prints("re-derived identically");
            r.prints("verified");
        }),
    ),
    (
        "docs/ci.md",
        "mkdir -p ci-baseline && cp ci-report/onshi-run.zip ci-baseline/baseline.zip   # on a release only: the new baseline",
        Run(|r| {
            r.exits(0);
            r.wrote("ci-baseline/baseline.zip");
        }),
    ),
    (
        "docs/ci.md",
        "onshi diff ci-baseline/baseline.zip ci-report/onshi-run.zip --junit ci-report/diff.xml",
        Run(|r| {
            r.exits(0);
            r.prints("0 regression(s)");
            r.wrote("ci-report/diff.xml");
        }),
    ),
    (
        "docs/scaling.md",
        "onshi rush national-peak --virtual --seed 7 --partition 0/2 --report-dir part-0   # on machine a",
        Run(|r| {
            r.exits(0);
            r.wrote("part-0/rush.hlog");
        }),
    ),
    (
        "docs/scaling.md",
        "onshi rush national-peak --virtual --seed 7 --partition 1/2 --report-dir part-1   # on machine b",
        Run(|r| {
            r.exits(0);
            r.wrote("part-1/rush.hlog");
        }),
    ),
    (
        "docs/scaling.md",
        "onshi rush national-peak --merge part-0 part-1 --report-dir merged   # anywhere, with both folders copied over",
        Run(|r| {
            rush_passes(r);
            r.prints("229963 facilities");
            r.wrote("merged/rush.json");
        }),
    ),
];

const BENCH: &str = "a benchmark recipe (minutes of load; WireMock and oha are fetched from package \
                     registries); benches/tests/tools.rs runs every bench program briefly";

fn rush_passes(r: &Ran) {
    r.exits(0);
    r.prints("PASS ");
    r.wrote("onshi-rush/rush.json");
}

/// A shortened real-time run still measures visits (whether the SLOs hold in 30 s is not the
/// point: exit 0 or 1, never an error).
fn rush_live_measures(r: &Ran) {
    assert!(matches!(r.code, Some(0 | 1)), "{}", r.all());
    assert!(r.stderr.contains("shortened from 5.0 min to 30.0 s"), "{}", r.all());
    r.prints("reached the client");
    assert!(
        !r.stdout.contains(" 0 reached the client"),
        "nothing measured:\n{}",
        r.all()
    );
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The documents whose shell blocks a user is told to run: the README, then docs/ by name.
fn documents(repo: &Path) -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(repo.join("docs"))
        .unwrap()
        .map(|e| format!("docs/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".md"))
        .collect();
    docs.sort();
    docs.insert(0, "README.md".into());
    docs
}

/// The words that start a command line (to find command blocks not tagged `sh`).
const COMMAND_STARTS: &[&str] = &["onshi ", "target/", "cargo ", "scripts/", "sudo ", "python3 "];

/// (line, command) of every command in the document's ```sh blocks — continuation lines
/// joined, blank and comment lines left out — and the lines of untagged blocks that hold
/// commands.
fn commands(text: &str) -> (Vec<(usize, String)>, Vec<usize>) {
    let mut out = Vec::new();
    let mut untagged = Vec::new();
    let mut fence: Option<(usize, String)> = None;
    let mut pending = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(tag) = line.strip_prefix("```") {
            fence = match fence {
                None => Some((i + 1, tag.trim().to_owned())),
                Some(_) => None,
            };
            continue;
        }
        let Some((start, tag)) = &fence else { continue };
        match tag.as_str() {
            "sh" | "bash" | "shell" => {
                if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
                    continue;
                }
                match line.strip_suffix('\\') {
                    Some(part) => pending.push_str(&format!("{} ", part.trim())),
                    None => {
                        pending.push_str(line);
                        out.push((i + 1, std::mem::take(&mut pending)));
                    }
                }
            }
            "" if COMMAND_STARTS.iter().any(|c| line.starts_with(c)) && !untagged.contains(start) => {
                untagged.push(*start)
            }
            _ => {}
        }
    }
    (out, untagged)
}

/// Runs `command` with `sh -c` in `repo`, killing it after `limit`.
fn run(repo: &Path, command: &str, env: &[(&str, &str)], limit: Duration) -> Ran {
    let mut child = shell(repo, command, env).spawn().expect("sh runs");
    let since = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if since.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                .status();
            panic!("`{command}` did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        repo: repo.to_owned(),
    }
}

fn shell(repo: &Path, command: &str, env: &[(&str, &str)]) -> Command {
    use std::os::unix::process::CommandExt as _;
    let path = format!(
        "{}:{}",
        repo.join("target/release").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("sh");
    c.args(["-c", command])
        .current_dir(repo)
        .env("PATH", path)
        .env("ONSHI_SERVE_LISTEN", "127.0.0.1:0")
        .env("ONSHI_SERVE_ADMIN_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    c
}

/// Starts a command that runs until Ctrl-C, waits for `ready`, interrupts it.
fn run_until_interrupted(repo: &Path, command: &str, ready: &str) {
    let mut child = shell(repo, command, &[]).spawn().expect("sh runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let since = Instant::now();
    while !seen.iter().any(|l: &String| l.contains(ready)) {
        match rx.recv_timeout(Duration::from_secs(60).saturating_sub(since.elapsed())) {
            Ok(l) => seen.push(l),
            Err(_) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "`{command}` never printed {ready:?}:\n{}\n{}",
                    seen.join("\n"),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    // Ctrl-C reaches the whole foreground group
    assert!(
        Command::new("kill")
            .args(["-s", "INT", "--", &format!("-{}", child.id())])
            .status()
            .unwrap()
            .success()
    );
    // the shell may die of the signal itself; what matters is that onshi stops cleanly and
    // nothing of the group is left
    let since = Instant::now();
    while Command::new("kill")
        .args(["-s", "0", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
    {
        let _ = child.try_wait();
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "`{command}` did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopping") && !stderr.contains("panicked"),
        "`{command}` did not stop cleanly on Ctrl-C ({}):\n{stderr}",
        out.status
    );
    assert!(repo.join("onshi-serve/journal.jsonl").is_file());
}

/// The options (`--name`) of an `onshi` command line, and its subcommand path.
fn check_onshi_options(repo: &Path, command: &str) {
    let words: Vec<&str> = command.split('#').next().unwrap().split_whitespace().collect();
    let Some(at) = words.iter().position(|w| *w == "onshi" || w.ends_with("/onshi")) else {
        return;
    };
    let sub: Vec<&str> = words[at + 1..]
        .iter()
        .take_while(|w| !w.starts_with('-'))
        .copied()
        .collect();
    let help = run(
        repo,
        &format!("target/release/onshi {} --help", sub.join(" ")),
        &[],
        Duration::from_secs(30),
    );
    help.exits(0);
    for option in words.iter().filter(|w| w.starts_with("--")) {
        let name = option.split('=').next().unwrap();
        assert!(
            help.stdout.contains(&format!("{name} ")) || help.stdout.contains(&format!("{name}\n")),
            "`{command}` uses {name}, which `onshi {}` does not have",
            sub.join(" ")
        );
    }
}

#[test]
#[ignore = "builds the release binaries and runs every documented command (minutes); scripts/test runs it"]
fn every_documented_command_runs_as_written() {
    let repo = repo();
    let before: BTreeSet<_> = std::fs::read_dir(&repo)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for doc in documents(&repo) {
        let text = std::fs::read_to_string(repo.join(&doc)).unwrap();
        let (found, untagged) = commands(&text);
        for line in untagged {
            problems.push(format!(
                "{doc}:{line}: a block of commands without a tag: write ```sh to have it run (or ```text for a synopsis)"
            ));
        }
        for (line, command) in found {
            let Some((_, _, how)) = DOCUMENTED.iter().find(|(d, c, _)| *d == doc && *c == command) else {
                problems.push(format!(
                    "{doc}:{line}: `{command}` is not run by this test; add it to DOCUMENTED in {}",
                    file!()
                ));
                continue;
            };
            seen.push((doc.clone(), command.clone()));
            eprintln!("as written: {doc}:{line}: {command}");
            let since = Instant::now();
            match how {
                Run(check) => check(&run(&repo, &command, &[], Duration::from_secs(1800))),
                RunWith(env, check) => check(&run(&repo, &command, env, Duration::from_secs(600))),
                UntilInterrupted { ready } => run_until_interrupted(&repo, &command, ready),
                NotRun(why) => {
                    eprintln!("  not run: {why}");
                    check_onshi_options(&repo, &command);
                }
            }
            eprintln!("  ok in {:.1} s", since.elapsed().as_secs_f64());
        }
    }
    for (doc, command, _) in DOCUMENTED {
        if !seen.iter().any(|(d, c)| d == doc && c == command) {
            problems.push(format!("{doc} no longer has `{command}`: remove it from DOCUMENTED"));
        }
    }
    // scripts/test, which runs this test, is what CI runs
    let ci = std::fs::read_to_string(repo.join(".ci/run")).unwrap();
    assert!(ci.contains("scripts/test"), ".ci/run does not run scripts/test");
    // what the commands wrote into the repository is removed (onshi-report/ and the like)
    for entry in std::fs::read_dir(&repo).unwrap().map(|e| e.unwrap()) {
        if !before.contains(&entry.file_name()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn commands_are_found_in_blocks_with_continuations_and_untagged_blocks_are_flagged() {
    let text = "intro\n```sh\n# a comment\nonshi a \\\n  --b c\n\nonshi d   # note\n```\n```\nonshi e\n```\n```text\nonshi f\n```\n";
    let (found, untagged) = commands(text);
    assert_eq!(
        found,
        vec![(5, "onshi a --b c".to_owned()), (7, "onshi d   # note".to_owned())]
    );
    assert_eq!(untagged, vec![9]);
}

/// `onshi` as `cargo install --locked --path harness/cli` (docs/ci.md) installs it, into a
/// temporary root instead of ~/.cargo: from an empty folder, with nothing of the checkout
/// around, it has the suite, the personas, the PKI and the reference client built in.
#[test]
#[ignore = "builds the release binary; scripts/test runs it"]
fn the_installed_onshi_works_from_an_empty_folder() {
    let repo = repo();
    let root = tempfile::tempdir().unwrap();
    let out = Command::new("cargo")
        .args(["install", "--locked", "--path", "harness/cli", "--root"])
        .arg(root.path())
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bin = root.path().join("bin");
    let empty = tempfile::tempdir().unwrap();
    let onshi = |args: &[&str]| {
        let out = Command::new(bin.join("onshi"))
            .args(args)
            .current_dir(empty.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = onshi(&["cases"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("cases (embedded)"), "{text}");
    let (code, text) = onshi(&["reference-client", "--list-defects"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("any-result-valid"), "{text}");
    let (code, text) = onshi(&[
        "run",
        "--adapter",
        "onshi reference-client",
        "--case",
        "FILE-QUAL-001",
        "--case",
        "API-QUAL-001",
        "--bundle",
        "b.zip",
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(empty.path().join("onshi-report/report.html").exists());
    let (code, text) = onshi(&["verify", "b.zip"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("2 cases re-derived identically"), "{text}");
}

/// `scripts/package`'s tarball, unpacked anywhere, runs its demo from an empty folder and
/// carries the docs and the examples.
#[test]
#[ignore = "builds the release binary and runs the demo (a minute); scripts/test runs it"]
fn a_packaged_onshi_runs_its_demo_from_an_empty_folder() {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new("scripts/package")
        .arg(tmp.path().join("pkg"))
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tarball = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(tarball.ends_with("-linux.tar.gz"), "{tarball}");
    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let status = Command::new("tar")
        .args(["-xzf", &tarball, "-C"])
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    let top = std::fs::read_dir(&unpacked).unwrap().next().unwrap().unwrap().path();
    for f in [
        "bin/onshi",
        "README.md",
        "INSTALL.txt",
        "docs/evidence.md",
        "docs/ci.md",
        "examples/python-adapter/adapter.py",
    ] {
        assert!(top.join(f).exists(), "the package lacks {f}");
    }
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let onshi = |args: &[&str]| {
        Command::new(top.join("bin/onshi"))
            .args(args)
            .current_dir(&empty)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
    };
    let out = onshi(&["demo", "--bundle", "demo.zip"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" cases: "), "{text}");
    assert!(empty.join("onshi-report/report.html").exists());
    let out = onshi(&["verify", "demo.zip"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// The Kubernetes Indexed Job of docs/scaling.md: it parses; `completions` and `parallelism`
/// are the `N` of `--partition job/N`; the index comes from the pod's annotation; and each
/// pod's command, run with the index that pod gets, and then the merge Job's command, do what
/// the page says — the whole national peak, merged, in a bundle that verifies.
#[test]
#[ignore = "runs the release binary on the national peak (seconds); scripts/test runs it"]
fn the_kubernetes_manifest_runs_as_written() {
    use yaml_rust2::{Yaml, YamlLoader};
    let repo = repo();
    let doc = std::fs::read_to_string(repo.join("docs/scaling.md")).unwrap();
    let block = doc
        .split("```yaml\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .find(|b| b.contains("kind: Job"))
        .expect("a Job manifest in docs/scaling.md");
    let docs = YamlLoader::load_from_str(block).expect("the manifest is YAML");
    assert_eq!(docs.len(), 2, "the indexed Job and the merge Job");
    let args = |job: &Yaml| -> Vec<String> {
        assert_eq!(job["kind"].as_str(), Some("Job"));
        assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        c["args"]
            .as_vec()
            .expect("args")
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    };
    let indexed = &docs[0];
    let spec = &indexed["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_i64().unwrap();
    assert_eq!(spec["parallelism"].as_i64(), Some(n));
    let env = &spec["template"]["spec"]["containers"][0]["env"][0];
    assert_eq!(env["name"].as_str(), Some("JOB_COMPLETION_INDEX"));
    assert_eq!(
        env["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
        Some("metadata.annotations['batch.kubernetes.io/job-completion-index']")
    );
    let pod = args(indexed);
    assert!(
        pod.windows(2)
            .any(|w| w[0] == "--partition" && w[1] == format!("job/{n}")),
        "{pod:?}"
    );
    let reports = tempfile::tempdir().unwrap();
    let volume = |a: &str, k: Option<i64>| {
        let a = a.replace("/reports", &reports.path().display().to_string());
        match k {
            // Kubernetes expands $(VAR) in args from the container's env
            Some(k) => a.replace("$(JOB_COMPLETION_INDEX)", &k.to_string()),
            None => a,
        }
    };
    let onshi = repo.join("target/release/onshi");
    let run = |args: &[String], k: Option<i64>| {
        assert_eq!(args[0], "onshi");
        let mut c = Command::new(&onshi);
        c.args(args[1..].iter().map(|a| volume(a, k)));
        if let Some(k) = k {
            c.env("JOB_COMPLETION_INDEX", k.to_string());
        }
        let out = c.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?} (index {k:?}):\n{text}");
        text
    };
    for k in 0..n {
        run(&pod, Some(k));
        assert!(reports.path().join(format!("part-{k}/rush.hlog")).exists());
    }
    let merged = run(&args(&docs[1]), None);
    assert!(merged.contains("229963 facilities"), "{merged}");
    let out = Command::new(&onshi)
        .arg("verify")
        .arg(reports.path().join("merged/rush.zip"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // a pod without its index, or with one past N, is refused with the reason
    let out = Command::new(&onshi)
        .args(pod[1..].iter().map(|a| volume(a, Some(0))))
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JOB_COMPLETION_INDEX"));
}
