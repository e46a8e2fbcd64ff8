//! The terminal folder over SMB (`--smb`): a private smbd shares it, a client that reaches the
//! folder only through smbclient is answered and judged exactly as a local one — its atomic
//! writes pass, its in-place writes fail FS-REQ-ATOMIC — also when a person answers at the
//! operator console; a file a client holds open does not stop the terminal; the share refuses
//! a wrong password. Needs root and Debian's samba and smbclient (scripts/test installs them).

mod common;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Whether the private smbd can run here (root, samba, smbclient); when
/// ONSHI_REQUIRE_SYSTEM_TOOLS is set it must.
fn samba() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let tools = [
        "/usr/sbin/smbd",
        "/usr/bin/smbclient",
        "/usr/bin/pdbedit",
        "/usr/bin/smbstatus",
    ]
    .iter()
    .all(|p| Path::new(p).is_file());
    if !(root && tools) {
        assert!(
            std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(),
            "ONSHI_REQUIRE_SYSTEM_TOOLS is set but the SMB share cannot run here (root: {root}, samba and smbclient: {tools})"
        );
        eprintln!("the SMB share is not tested here (needs root, samba and smbclient)");
    }
    root && tools
}

fn smb_adapter(share_json: &Path, in_place: bool) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adapters/smb_client.py");
    format!(
        "python3 '{}' '{}'{}",
        script.display(),
        share_json.display(),
        if in_place { " --in-place" } else { "" }
    )
}

#[test]
fn a_client_on_the_share_is_judged_as_a_local_one() {
    if !samba() {
        return;
    }
    for in_place in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let report_dir = dir.path().join("report");
        let adapter = smb_adapter(&report_dir.join("smb/share.json"), in_place);
        let (code, report, text) = common::run_suite(
            &adapter,
            &report_dir,
            &[
                "--smb",
                "--smb-listen",
                "127.0.0.1:0",
                "--case",
                "FILE-QUAL-001",
                "--case",
                "FILE-ATOMIC-001",
            ],
        );
        let report = report.unwrap_or_else(|| panic!("no report:\n{text}"));
        let verdicts = common::verdicts(&report);
        let of = |id: &str| {
            verdicts
                .iter()
                .find(|v| v.0 == id)
                .unwrap_or_else(|| panic!("{id}: {text}"))
                .clone()
        };
        assert_eq!(
            of("FILE-QUAL-001").1,
            "pass",
            "through the share, in place: {in_place}\n{text}"
        );
        if in_place {
            assert_eq!(code, 1, "{text}");
            assert_eq!(of("FILE-ATOMIC-001").1, "fail");
            assert!(
                of("FILE-ATOMIC-001").2.contains(&"FS-REQ-ATOMIC".to_owned()),
                "{verdicts:?}"
            );
        } else {
            assert_eq!(code, 0, "{text}");
            assert_eq!(of("FILE-ATOMIC-001").1, "pass", "{text}");
        }
        assert!(
            text.contains("smbclient //127.0.0.1/OQS"),
            "the run says how to connect:\n{text}"
        );
    }
}

/// `onshi serve --smb` on `dir`: the process and its share.json once the share is up.
fn serve_share(dir: &Path) -> (std::process::Child, Value) {
    let mut serve = Command::new(common::onshi())
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .args(["--smb", "--smb-listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let share_json = dir.join("smb/share.json");
    let start = Instant::now();
    while !share_json.exists() {
        if let Ok(Some(status)) = serve.try_wait() {
            let mut err = String::new();
            serve.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("onshi serve --smb ended ({status}):\n{err}");
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no share.json");
        std::thread::sleep(Duration::from_millis(100));
    }
    let info = serde_json::from_slice(&std::fs::read(&share_json).unwrap()).unwrap();
    (serve, info)
}

fn stop(mut serve: std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(serve.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(serve.wait().unwrap().success());
}

#[test]
fn the_share_refuses_a_wrong_password_and_stops_with_the_session() {
    if !samba() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (serve, info) = serve_share(dir.path());
    let share_json = dir.path().join("smb/share.json");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&share_json).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let port = info["port"].as_u64().unwrap().to_string();
    let smbclient = |password: &str| {
        Command::new("smbclient")
            .args(["//127.0.0.1/OQS", "-p", &port, "-U"])
            .arg(format!("{}%{password}", info["user"].as_str().unwrap()))
            .args(["-c", "ls"])
            .output()
            .unwrap()
    };
    let refused = smbclient("not-the-password");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("NT_STATUS_LOGON_FAILURE"));
    let listed = smbclient(info["password"].as_str().unwrap());
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{text}");
    for folder in ["req", "res", "face"] {
        assert!(text.contains(folder), "{folder} in the share:\n{text}");
    }
    stop(serve);
    assert!(
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
        "smbd stops with the session"
    );
}

/// smbclient on the share, with its arguments.
fn smbclient(info: &Value) -> Command {
    let mut c = Command::new("smbclient");
    c.arg(format!("//127.0.0.1/{}", info["share"].as_str().unwrap()))
        .args(["-p", &info["port"].as_u64().unwrap().to_string(), "-U"])
        .arg(format!(
            "{}%{}",
            info["user"].as_str().unwrap(),
            info["password"].as_str().unwrap()
        ));
    c
}

/// A request sent the way a careful client does: a temporary name, then a rename.
fn send_request(info: &Value, local: &Path, name: &str) {
    let out = smbclient(info)
        .arg("-c")
        .arg(format!(
            "put \"{}\" \"req\\.sending.tmp\"; rename \"req\\.sending.tmp\" \"req\\{name}\"",
            local.display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !text.contains("NT_STATUS_"), "{text}");
}

/// A client that keeps a result open on the share (a program still showing it, a virus
/// scanner) does not stop the terminal: the next answer under the same name — a resend —
/// still replaces it, and the client reads the new one.
#[test]
fn a_file_a_client_holds_open_does_not_stop_the_terminal() {
    use std::io::Write as _;
    use std::os::unix::fs::MetadataExt as _;
    if !samba() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (serve, info) = serve_share(dir.path());
    let request = std::fs::read_dir(dir.path().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "xml"))
        .expect("onshi serve writes an example request");
    let name = request.file_name().unwrap().to_str().unwrap().to_owned();
    let result = dir.path().join("terminal/res").join(name.replace("req_", "res_"));
    let answered = |since: Option<u64>| {
        let start = Instant::now();
        loop {
            if let Ok(m) = std::fs::metadata(&result)
                && Some(m.ino()) != since
            {
                return m.ino();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no answer in {}",
                result.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    send_request(&info, &request, &name);
    let first = answered(None);

    // another client opens the result and keeps it open
    let mut holder = smbclient(&info)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = holder.stdin.take().unwrap();
    let res_name = result.file_name().unwrap().to_str().unwrap();
    writeln!(stdin, "open \"res\\{res_name}\"").unwrap();
    stdin.flush().unwrap();
    // smbd's own view: the file is open on the share (smbclient's output is buffered)
    let start = Instant::now();
    loop {
        let status = Command::new("smbstatus")
            .arg("-s")
            .arg(dir.path().join("smb/smb.conf"))
            .arg("-L")
            .output()
            .unwrap();
        if String::from_utf8_lossy(&status.stdout).contains(res_name) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the result is not held open");
        std::thread::sleep(Duration::from_millis(100));
    }

    // the resend is answered: the held file is replaced, the share serves the new one
    send_request(&info, &request, &name);
    let second = answered(Some(first));
    assert_ne!(first, second);
    let got = dir.path().join("got.xml");
    let out = smbclient(&info)
        .arg("-c")
        .arg(format!("get \"res\\{res_name}\" \"{}\"", got.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(&result).unwrap());
    let journal = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    assert_eq!(
        journal.matches("\"result_written\"").count(),
        2,
        "each request answered once"
    );

    writeln!(stdin, "close 1\nquit").unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    stop(serve);
}

/// The whole setup of a clinic review: a person at the console, their program on the share.
/// The program (the test's smbclient adapter, started by the robot person from what the page
/// says) writes its requests through SMB; the person reports its screen. A careful program
/// passes; one writing in place is caught by FS-REQ-ATOMIC as with an adapter.
#[test]
fn a_person_answers_by_hand_while_their_program_uses_the_share() {
    if !samba() {
        return;
    }
    for in_place in [false, true] {
        let mut run = common::console::start_run_with(
            &["FILE-QUAL-001", "FILE-QUAL-002", "FILE-ATOMIC-001"],
            &["--operator-time", "60", "--smb", "--smb-listen", "127.0.0.1:0"],
        );
        let share = run.report_dir.join("smb/share.json");
        let program = || {
            let mut c = Command::new("sh");
            c.args(["-c", &smb_adapter(&share, in_place)]);
            c
        };
        let session = common::console::by_hand(&mut run, program, &["file.qualification"]);
        let (status, report) = run.finish();
        assert!(session.steps >= 3, "{} steps", session.steps);
        let verdicts = common::verdicts(&report);
        let atomic = verdicts.iter().find(|v| v.0 == "FILE-ATOMIC-001").unwrap();
        for v in &verdicts {
            if in_place && v.0 == "FILE-ATOMIC-001" {
                assert_eq!(v.1, "fail");
                assert!(v.2.contains(&"FS-REQ-ATOMIC".to_owned()), "{verdicts:?}");
            } else {
                assert_eq!(v.1, "pass", "in place: {in_place}: {verdicts:?}");
            }
        }
        assert_eq!(status.success(), !in_place, "{atomic:?}");
        assert_eq!(report["run"]["client"]["name"], "smb-client");
    }
}

#[test]
fn a_lan_share_needs_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, text) = common::run_suite(
        "true",
        dir.path(),
        &["--smb", "--smb-listen", "0.0.0.0:0", "--case", "FILE-QUAL-001"],
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("--lan"), "{text}");
}
