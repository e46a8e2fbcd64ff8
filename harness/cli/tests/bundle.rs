//! Evidence bundles end to end: `onshi run --bundle --sign-key` writes one archive that
//! `onshi verify --key` accepts, and every kind of tampering a reviewer must catch — a flipped
//! journal byte, a changed verdict (with and without a forged manifest), a dropped file,
//! another key, a truncated, hostile or future bundle — is refused, naming what.

mod common;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde_json::Value;

use common::said as onshi;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every entry of a zip archive, in order.
fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// The bundle at `from`, changed by `change`, written to `to`.
fn repack(from: &Path, to: &Path, change: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> PathBuf {
    let mut e = entries(from);
    change(&mut e);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in &e {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    to.to_path_buf()
}

fn file<'a>(e: &'a mut [(String, Vec<u8>)], name: &str) -> &'a mut Vec<u8> {
    &mut e
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name}"))
        .1
}

/// What a forger with no key would do after changing `path`: put its new hash in the manifest.
fn forge_manifest(e: &mut [(String, Vec<u8>)], path: &str) {
    let bytes = file(e, path).clone();
    let manifest = file(e, "manifest.json");
    let mut m: Value = serde_json::from_slice(manifest).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == path {
            f["sha256"] = onshi_evidence::sha256_hex(&bytes).into();
            f["bytes"] = bytes.len().into();
        }
    }
    *manifest = serde_json::to_vec_pretty(&m).unwrap();
}

/// report.json with FILE-QUAL-002's verdict turned to `fail`.
fn changed_verdict(report: &[u8]) -> Vec<u8> {
    let mut r: Value = serde_json::from_slice(report).unwrap();
    let case = r["cases"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == "FILE-QUAL-002")
        .unwrap();
    assert_eq!(case["verdict"], "pass");
    case["verdict"] = "fail".into();
    serde_json::to_vec_pretty(&r).unwrap()
}

#[test]
fn a_signed_bundle_verifies_and_every_kind_of_tampering_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("vendor.key");
    let (code, said) = onshi(&["keys", "new", "--out", s(&key)]);
    assert_eq!(code, 0, "{said}");
    let public = d.join("vendor.key.pub");
    // a second `keys new` never overwrites the secret
    let (code, said) = onshi(&["keys", "new", "--out", s(&key)]);
    assert_eq!(code, 3, "{said}");
    assert!(said.contains("not overwritten"), "{said}");
    let other = d.join("other.key");
    assert_eq!(onshi(&["keys", "new", "--out", s(&other)]).0, 0);

    // a wrong bundle path or key is refused before anything runs
    let (code, said) = onshi(&["demo", "--bundle", s(d), "--report-dir", s(&d.join("no"))]);
    assert_eq!(code, 3, "{said}");
    assert!(
        said.contains("is a folder") && !d.join("no/report.json").exists(),
        "{said}"
    );
    let (code, said) = onshi(&[
        "rush",
        "clinic-burst",
        "--virtual",
        "--bundle",
        s(&d.join("x.zip")),
        "--sign-key",
        s(&d.join("missing.key")),
    ]);
    assert_eq!(code, 3, "{said}");
    assert!(said.contains("--sign-key") && said.contains("missing.key"), "{said}");
    let (code, said) = onshi(&[
        "run",
        "--adapter",
        "true",
        "--bundle",
        s(&d.join("x.zip")),
        "--sign-key",
        s(&public),
    ]);
    assert_eq!(code, 3, "{said}");
    assert!(said.contains("is not an Ed25519 secret key"), "{said}");

    let bundle = d.join("run.zip");
    let report_dir = d.join("r");
    let (code, _, text) = common::run_suite(
        &common::reference_adapter(None),
        &report_dir,
        &[
            "--case",
            "FILE-QUAL-001",
            "--case",
            "FILE-QUAL-002",
            "--case",
            "API-QUAL-001",
            "--bundle",
            s(&bundle),
            "--sign-key",
            s(&key),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("onshi verify"),
        "the run says how to check its bundle: {text}"
    );

    let (code, said) = onshi(&["verify", s(&bundle), "--key", s(&public)]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("3 cases re-derived identically"), "{said}");
    assert!(said.contains("signature: valid, by the key given"), "{said}");

    // what the bundle holds: enough to judge the run again, and who and what made it
    let b = onshi_evidence::read(&bundle).unwrap();
    for f in [
        "report/report.json",
        "report/junit.xml",
        "report/report.html",
        "report/journal.jsonl",
        "suite/file/FILE-QUAL-001.toml",
        "suite/rush/clinic-morning.toml",
        "catalogue/requirements.toml",
        "world/personas.toml",
        "world/error-codes.toml",
    ] {
        assert!(b.file(f).is_some_and(|b| !b.is_empty()), "{f} missing");
    }
    let m = &b.manifest;
    assert_eq!(m.run.client.as_ref().unwrap()["name"], "onshi-reference-client");
    assert!(m.run.adapter.as_ref().unwrap().contains("reference-client"));
    assert_eq!(m.run.world["seed"], 0);
    assert_eq!(m.run.versions["driver_protocol"], "onshi-driver/1");
    assert_eq!(
        m.harness.binary_sha256,
        onshi_evidence::sha256_hex(&std::fs::read(common::onshi()).unwrap())
    );
    assert_eq!(m.harness.commit.len(), 40, "{:?}", m.harness);
    assert!(m.machine.cpus >= 1);

    let verify = |p: &Path, extra: &[&str]| {
        let mut args = vec!["verify", s(p)];
        args.extend_from_slice(extra);
        onshi(&args)
    };
    let refused = |p: &Path, extra: &[&str], names: &[&str]| {
        let (code, said) = verify(p, extra);
        assert_eq!(code, 1, "{said}");
        for n in names {
            assert!(said.contains(n), "{n:?} not named: {said}");
        }
    };
    let key_arg = ["--key", s(&public)];

    // one byte of the journal flipped
    let p = repack(&bundle, &d.join("flip.zip"), |e| {
        file(e, "report/journal.jsonl")[100] ^= 0x01;
    });
    refused(&p, &key_arg, &["report/journal.jsonl", "SHA-256"]);

    // one verdict changed in report.json
    let p = repack(&bundle, &d.join("verdict.zip"), |e| {
        let r = file(e, "report/report.json");
        *r = changed_verdict(r);
    });
    refused(&p, &key_arg, &["report/report.json", "SHA-256"]);

    // … and the manifest forged to match: the signature no longer holds
    let p = repack(&bundle, &d.join("forged.zip"), |e| {
        let r = file(e, "report/report.json");
        *r = changed_verdict(r);
        forge_manifest(e, "report/report.json");
    });
    refused(&p, &key_arg, &["manifest.sig does not verify"]);

    // … and the signature dropped: the re-derivation names the case, the key asks for one
    let p = repack(&bundle, &d.join("unsigned.zip"), |e| {
        let r = file(e, "report/report.json");
        *r = changed_verdict(r);
        forge_manifest(e, "report/report.json");
        e.retain(|(n, _)| n != "manifest.sig");
    });
    refused(&p, &[], &["FILE-QUAL-002"]);
    refused(&p, &key_arg, &["FILE-QUAL-002", "not signed"]);

    // made by another version: the differences come with the version that re-derives it
    let older = |e: &mut Vec<(String, Vec<u8>)>| {
        let m = file(e, "manifest.json");
        let mut v: Value = serde_json::from_slice(m).unwrap();
        v["harness"]["version"] = "0.0.9".into();
        v["harness"]["commit"] = "0123456789abcdef0123456789abcdef01234567".into();
        *m = serde_json::to_vec_pretty(&v).unwrap();
        e.retain(|(n, _)| n != "manifest.sig");
    };
    let p = repack(&bundle, &d.join("older.zip"), |e| {
        let r = file(e, "report/report.json");
        *r = changed_verdict(r);
        forge_manifest(e, "report/report.json");
        older(e);
    });
    refused(
        &p,
        &[],
        &[
            "FILE-QUAL-002",
            "made by onshi-harness 0.0.9 (commit 0123456789abcdef",
            "re-derive it with the version that made it",
        ],
    );
    // … and a suite this version cannot load
    let p = repack(&bundle, &d.join("older-suite.zip"), |e| {
        file(e, "suite/file/FILE-QUAL-001.toml").extend_from_slice(b"\nfield_of_a_later_version = 1\n");
        forge_manifest(e, "suite/file/FILE-QUAL-001.toml");
        older(e);
    });
    refused(
        &p,
        &[],
        &[
            "cannot re-derive",
            "does not load in this harness",
            "made by onshi-harness 0.0.9",
        ],
    );

    // a file dropped
    let p = repack(&bundle, &d.join("dropped.zip"), |e| {
        e.retain(|(n, _)| n != "suite/file/FILE-QUAL-001.toml");
    });
    refused(&p, &key_arg, &["suite/file/FILE-QUAL-001.toml", "removed"]);

    // signed, but by another key than the reviewer was given
    let (code, said) = verify(&bundle, &["--key", &format!("{}.pub", s(&other))]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("not by the key given"), "{said}");

    // bundles that cannot be read at all: a clear refusal, exit 2
    let bytes = std::fs::read(&bundle).unwrap();
    let truncated = d.join("truncated.zip");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let (code, said) = verify(&truncated, &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("not a readable bundle"), "{said}");

    let p = repack(&bundle, &d.join("escape.zip"), |e| {
        e.push(("../../outside.txt".into(), b"x".to_vec()));
    });
    let (code, said) = verify(&p, &[]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("\"../../outside.txt\", which is not a plain relative path"),
        "{said}"
    );
    assert!(!d.join("outside.txt").exists() && !d.parent().unwrap().join("outside.txt").exists());

    // a reviewer renders the bundle again, in Japanese or English
    let ja = d.join("ja");
    let (code, said) = onshi(&["report", s(&bundle), "--lang", "ja", "--out", s(&ja)]);
    assert_eq!(code, 0, "{said}");
    let page = std::fs::read_to_string(ja.join("report.html")).unwrap();
    for needle in [
        "<html lang=\"ja\"",
        "導入準備の判定",
        "準備完了",
        "資格確認（端末のファイル連携）",
        "@media print",
    ] {
        assert!(page.contains(needle), "{needle:?} not in the Japanese page");
    }
    let en = d.join("en");
    let (code, said) = onshi(&["report", s(&bundle), "--lang", "en", "--out", s(&en)]);
    assert_eq!(code, 0, "{said}");
    let page = std::fs::read_to_string(en.join("report.html")).unwrap();
    assert!(page.contains("Readiness") && page.contains("Ready — every mandatory requirement is met"));
    // the locale decides when --lang is not given
    let out = std::process::Command::new(common::onshi())
        .args(["report", s(&bundle), "--out", s(&d.join("locale"))])
        .env("LANG", "ja_JP.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(d.join("locale/report.html"))
            .unwrap()
            .contains("導入準備の判定")
    );
    let (code, said) = onshi(&["report", s(&bundle), "--lang", "fr", "--out", s(&d.join("fr"))]);
    assert_eq!(code, 3, "{said}");
    assert!(!d.join("fr").exists());
    // a tampered bundle is not rendered
    let flipped = d.join("flip.zip");
    let (code, said) = onshi(&["report", s(&flipped), "--out", s(&d.join("tampered"))]);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("report/journal.jsonl") && !d.join("tampered").exists(),
        "{said}"
    );
    if common::chromium().is_some() {
        let pdf = d.join("readiness.pdf");
        let (code, said) = onshi(&["report", s(&bundle), "--lang", "ja", "--out", s(&ja), "--pdf", s(&pdf)]);
        assert_eq!(code, 0, "{said}");
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    }

    let p = repack(&bundle, &d.join("future.zip"), |e| {
        let m = file(e, "manifest.json");
        let text = String::from_utf8(m.clone()).unwrap();
        *m = text
            .replace("onshi-bundle/1", "onshi-bundle/7")
            .replace("\"version\": \"0.1.0\"", "\"version\": \"9.2.0\"")
            .into_bytes();
    });
    let (code, said) = verify(&p, &[]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("made by onshi-harness 9.2.0") && said.contains("install onshi-harness 9.2.0"),
        "{said}"
    );
}

#[test]
fn a_rush_bundle_is_judged_again_from_its_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bundle = d.join("rush.zip");
    let (code, said) = onshi(&[
        "rush",
        "clinic-burst",
        "--virtual",
        "--duration",
        "2m",
        "--date",
        "20261207",
        "--report-dir",
        s(&d.join("r")),
        "--bundle",
        s(&bundle),
    ]);
    assert!(code == 0 || code == 1, "{said}");
    let (code, said) = onshi(&["verify", s(&bundle)]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("re-derived identically from rush.hlog"), "{said}");
    assert!(said.contains("signature: none"), "{said}");

    // an SLO verdict turned round, with the manifest forged to match
    let recorded: Value =
        serde_json::from_slice(onshi_evidence::read(&bundle).unwrap().file("report/rush.json").unwrap()).unwrap();
    let id = recorded["slos"][0]["id"].as_str().unwrap().to_owned();
    let p = repack(&bundle, &d.join("slo.zip"), |e| {
        let r = file(e, "report/rush.json");
        let mut v: Value = serde_json::from_slice(r).unwrap();
        let pass = v["slos"][0]["pass"].as_bool().unwrap();
        v["slos"][0]["pass"] = (!pass).into();
        *r = serde_json::to_vec_pretty(&v).unwrap();
        forge_manifest(e, "report/rush.json");
    });
    let (code, said) = onshi(&["verify", s(&p)]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("SLO verdicts differ") && said.contains(&id), "{said}");
}
