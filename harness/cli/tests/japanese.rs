//! A reviewer or clinic staff who read Japanese: with `LANG=ja_JP.UTF-8` (or `--lang ja`) the
//! console and report.html speak Japanese — the summary, the failing case's title, the check's
//! title and fix from the Japanese catalogue, the readiness verdict — and `--lang en` wins
//! over the locale.

mod common;

use std::process::Command;

fn run(dir: &std::path::Path, lang_flag: Option<&str>) -> (i32, String) {
    let mut c = Command::new(common::onshi());
    c.args(["run", "--adapter", &common::reference_adapter(Some("any-result-valid"))])
        .args(["--case", "FILE-QUAL-002", "--report-dir"])
        .arg(dir)
        .env("LANG", "ja_JP.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    if let Some(l) = lang_flag {
        c.args(["--lang", l]);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_locale_gives_a_japanese_console_and_report_and_the_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let ja = dir.path().join("ja");
    let (code, said) = run(&ja, None);
    assert_eq!(code, 1, "{said}");
    for needle in [
        "1 ケース：合格 0、不合格 1（うち必須 1）",
        "喪失した資格を有効と表示しない",
        "OUT-INVALID QualificationValidity 2 — 無効 を無効として報告する",
        "対処: ProcessingResultStatus だけでなく、QualificationValidity で分岐してください。",
        "根本原因 — まずこれを直してください",
    ] {
        assert!(said.contains(needle), "{needle:?} not in:\n{said}");
    }
    let page = std::fs::read_to_string(ja.join("report.html")).unwrap();
    assert!(page.contains("<html lang=\"ja\"") && page.contains("要対応：必須 1 件"));

    let en = dir.path().join("en");
    let (code, said) = run(&en, Some("en"));
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("1 cases: 0 passed, 1 failed (1 mandatory)"), "{said}");
    assert!(said.contains("fix: Branch on QualificationValidity"), "{said}");
    let page = std::fs::read_to_string(en.join("report.html")).unwrap();
    assert!(page.contains("Action needed: 1 mandatory requirement(s) not met"));
}

#[test]
fn a_rush_reports_in_japanese_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(common::onshi())
        .args([
            "rush",
            "clinic-burst",
            "--virtual",
            "--duration",
            "1m",
            "--lang",
            "ja",
            "--report-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 1), "{said}");
    assert!(
        said.contains("受付ラッシュ clinic-burst") && said.contains("人の患者さんが到着"),
        "{said}"
    );
    let page = std::fs::read_to_string(dir.path().join("rush.html")).unwrap();
    assert!(page.contains("<html lang=\"ja\"") && page.contains("サービスレベル目標（SLO）"));
}
