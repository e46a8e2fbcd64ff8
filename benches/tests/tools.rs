//! The benchmark programs behind docs/performance.md, run briefly: each still measures and
//! prints its table, so a figure in the docs can always be made again. (The figures
//! themselves come from full runs; nothing here asserts a speed.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `onshi` binary beside this test (built by `cargo test --workspace`; built here when
/// the benches are tested alone).
fn onshi() -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let exe = dir.join(format!("onshi{}", std::env::consts::EXE_SUFFIX));
    if !exe.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "onshi-cli", "--bin", "onshi"])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .status()
            .unwrap();
        assert!(status.success(), "cannot build onshi");
    }
    exe
}

fn run(exe: &str, args: &[&str]) -> (Output, String) {
    let out = Command::new(exe).args(args).output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// The rows of the markdown table whose header starts with `header`.
fn table_rows<'a>(text: &'a str, header: &str) -> Vec<Vec<&'a str>> {
    text.lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

#[test]
fn the_rush_ceiling_bench_drives_both_adapters_and_tabulates_them() {
    let onshi = onshi();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("rush.json");
    let (out, text) = run(
        env!("CARGO_BIN_EXE_onshi-bench-rush"),
        &[
            "--onshi",
            onshi.to_str().unwrap(),
            "--rates",
            "10",
            "--seconds",
            "2",
            "--adapters",
            "2",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{text}");
    let rows = table_rows(&text, "| adapter |");
    assert_eq!(rows.len(), 2, "{text}");
    for (row, adapter) in rows.iter().zip(["null", "reference"]) {
        assert_eq!(row[0], adapter, "{text}");
        let arrived: u64 = row[2].parse().unwrap();
        assert!(arrived > 0, "{text}");
        assert_eq!(row[3], row[2], "every patient served at 10/s: {text}");
    }
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(saved.as_array().is_some_and(|a| !a.is_empty()), "{saved}");
}

#[test]
fn the_api_bench_measures_onshi_against_the_trivial_server() {
    let onshi = onshi();
    let bench = env!("CARGO_BIN_EXE_onshi-bench-api");
    let common = [
        "--onshi",
        onshi.to_str().unwrap(),
        "--concurrency",
        "1",
        "--warmup-s",
        "0",
        "--measure-s",
        "1",
    ];
    let (out, text) = run(bench, &[&common[..], &["--no-wiremock"]].concat());
    assert!(out.status.success(), "{text}");
    let rows = table_rows(&text, "| transport |");
    let servers: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[2])).collect();
    assert_eq!(
        servers,
        [
            ("http", "onshi"),
            ("http", "trivial"),
            ("https", "onshi"),
            ("https", "trivial")
        ],
        "{text}"
    );
    for r in &rows {
        assert_eq!(r[7], "0", "no errors: {text}");
        assert!(r[3].parse::<f64>().unwrap() > 0.0, "{text}");
    }
    // the comparison with oha: against oha when it is installed, else a clear refusal
    let (out, text) = run(bench, &[&common[..], &["--vs-oha", "--oha", "oha"]].concat());
    let has_oha = Command::new("oha").arg("--version").output().is_ok();
    if has_oha {
        assert!(out.status.success(), "{text}");
        let generators: Vec<String> = table_rows(&text, "| transport |")
            .iter()
            .map(|r| r[2].to_owned())
            .collect();
        assert_eq!(generators, ["onshi", "oha", "onshi", "oha"], "{text}");
    } else {
        assert!(!out.status.success());
        assert!(text.contains("cargo install oha"), "{text}");
    }
}
