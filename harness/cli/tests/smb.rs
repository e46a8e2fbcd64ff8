//! The terminal folder over SMB (`--smb`): a private smbd shares it, a client that reaches the
//! folder only through smbclient is answered and judged exactly as a local one — its atomic
//! writes pass, its in-place writes fail FS-REQ-ATOMIC — and the share refuses a wrong
//! password. Needs root and Debian's samba and smbclient (scripts/test installs them).

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
    let tools = ["/usr/sbin/smbd", "/usr/bin/smbclient", "/usr/bin/pdbedit"]
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

#[test]
fn the_share_refuses_a_wrong_password_and_stops_with_the_session() {
    if !samba() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Command::new(common::onshi())
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .args(["--smb", "--smb-listen", "127.0.0.1:0", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let share_json = dir.path().join("smb/share.json");
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
    let info: Value = serde_json::from_slice(&std::fs::read(&share_json).unwrap()).unwrap();
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
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(serve.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(serve.wait().unwrap().success());
    assert!(
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
        "smbd stops with the session"
    );
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
