use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

use proptest::prelude::*;

use super::*;

fn manifest() -> Manifest {
    Manifest {
        format: String::new(),
        kind: Kind::Run,
        made_at: "2026-12-06T09:00:00+09:00".into(),
        harness: Harness {
            name: "onshi-harness".into(),
            version: "0.1.0".into(),
            commit: "0123abc".into(),
            binary_sha256: "00".repeat(32),
        },
        machine: Machine {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpus: 2,
            memory_bytes: None,
            kernel: None,
        },
        run: RunFacts {
            command: vec!["demo".into()],
            adapter: Some("onshi reference-client".into()),
            operator: None,
            client: None,
            world: BTreeMap::from([("seed".into(), serde_json::json!(0))]),
            versions: BTreeMap::new(),
        },
        files: Vec::new(),
    }
}

fn files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("report/report.json".into(), br#"{"verdict":"pass"}"#.to_vec()),
        ("report/journal.jsonl".into(), b"{\"seq\":1}\n{\"seq\":2}\n".to_vec()),
        (
            "suite/file/FILE-QUAL-001.toml".into(),
            "id = \"FILE-QUAL-001\"\n".as_bytes().to_vec(),
        ),
    ]
}

/// A bundle written to a temporary folder, and its bytes.
fn made(key: Option<&SigningKey>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.onshi.zip");
    write(&path, manifest(), files(), key).unwrap();
    // nothing but the bundle is left behind
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    std::fs::read(&path).unwrap()
}

/// Every entry of an archive, in order.
fn entries(zipped: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// An archive of these entries, deflated.
fn zipped(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

#[test]
fn a_written_bundle_reads_back_whole_and_checks_clean() {
    let bytes = made(Some(&key()));
    let b = read_bytes(&bytes, Limits::default()).unwrap();
    assert_eq!(b.manifest.format, FORMAT);
    assert_eq!(b.manifest.files.len(), 3);
    assert_eq!(b.file("report/journal.jsonl"), Some(&b"{\"seq\":1}\n{\"seq\":2}\n"[..]));
    let i = check(&b, Some(&key().verifying_key()));
    assert_eq!(i.problems, vec![]);
    assert_eq!(i.signed_by, Some(fingerprint(&key().verifying_key())));
    // unsigned: clean without a key, refused with one
    let b = read_bytes(&made(None), Limits::default()).unwrap();
    assert_eq!(check(&b, None).problems, vec![]);
    assert_eq!(
        check(&b, Some(&key().verifying_key())).problems,
        vec![Problem::Unsigned]
    );
}

#[test]
fn one_flipped_byte_in_a_file_is_named() {
    let mut e = entries(&made(None));
    let journal = e.iter_mut().find(|(n, _)| n == "report/journal.jsonl").unwrap();
    journal.1[3] ^= 1;
    let b = read_bytes(&zipped(&e), Limits::default()).unwrap();
    assert_eq!(
        check(&b, None).problems,
        vec![Problem::Altered {
            path: "report/journal.jsonl".into()
        }]
    );
}

#[test]
fn a_dropped_file_and_an_added_one_are_named() {
    let mut e = entries(&made(None));
    e.retain(|(n, _)| n != "suite/file/FILE-QUAL-001.toml");
    e.push(("report/extra.txt".into(), b"x".to_vec()));
    let b = read_bytes(&zipped(&e), Limits::default()).unwrap();
    assert_eq!(
        check(&b, None).problems,
        vec![
            Problem::Missing {
                path: "suite/file/FILE-QUAL-001.toml".into()
            },
            Problem::Unlisted {
                path: "report/extra.txt".into()
            }
        ]
    );
}

#[test]
fn a_manifest_changed_after_signing_and_another_key_are_refused() {
    let mut e = entries(&made(Some(&key())));
    let m = e.iter_mut().find(|(n, _)| n == MANIFEST).unwrap();
    let text = String::from_utf8(m.1.clone())
        .unwrap()
        .replace("\"cpus\": 2", "\"cpus\": 4");
    assert_ne!(text.as_bytes(), &m.1[..]);
    m.1 = text.into_bytes();
    let b = read_bytes(&zipped(&e), Limits::default()).unwrap();
    assert!(matches!(&check(&b, None).problems[..], [Problem::BadSignature { .. }]));

    let other = SigningKey::from_bytes(&[9; 32]);
    let b = read_bytes(&made(Some(&other)), Limits::default()).unwrap();
    let problems = check(&b, Some(&key().verifying_key())).problems;
    assert_eq!(
        problems,
        vec![Problem::WrongKey {
            signer: fingerprint(&other.verifying_key()),
            expected: fingerprint(&key().verifying_key()),
        }]
    );
    // without a key to trust, the signature is still checked, and the signer named
    assert_eq!(check(&b, None).signed_by, Some(fingerprint(&other.verifying_key())));
}

#[test]
fn truncated_or_foreign_archives_are_refused() {
    let bytes = made(None);
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        let e = read_bytes(&bytes[..cut], Limits::default()).unwrap_err();
        assert!(matches!(e, BundleError::Archive(_)), "{cut}: {e}");
    }
    let e = read_bytes(&zipped(&[("a.txt".into(), b"x".to_vec())]), Limits::default()).unwrap_err();
    assert!(e.to_string().contains("not an onshi evidence bundle"), "{e}");
}

#[test]
fn names_that_leave_the_bundle_are_refused() {
    for name in [
        "../evil.txt",
        "/etc/passwd",
        "a/../../b",
        "C:/x",
        "a\\..\\b",
        "./a",
        "a//b",
    ] {
        let mut e = entries(&made(None));
        e.push((name.into(), b"x".to_vec()));
        let err = read_bytes(&zipped(&e), Limits::default()).unwrap_err();
        assert!(matches!(&err, BundleError::UnsafeName(n) if n == name), "{name}: {err}");
    }
    // nor are they written
    let dir = tempfile::tempdir().unwrap();
    let err = write(
        &dir.path().join("b.zip"),
        manifest(),
        vec![("../x".into(), vec![])],
        None,
    )
    .unwrap_err();
    assert!(matches!(err, BundleError::UnsafeName(_)));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file left"
    );
}

#[test]
fn a_zip_bomb_is_refused_at_the_limit_without_unpacking_it() {
    let mut e = entries(&made(None));
    // 64 MiB of zeros deflate to some 64 KiB
    e.push(("report/bomb.bin".into(), vec![0; 64 << 20]));
    let bytes = zipped(&e);
    assert!(bytes.len() < 1 << 20);
    let limits = Limits {
        file_bytes: 16 << 20,
        ..Limits::default()
    };
    let err = read_bytes(&bytes, limits).unwrap_err();
    assert!(
        matches!(&err, BundleError::TooLarge { what, limit } if what == "report/bomb.bin" && *limit == 16 << 20),
        "{err}"
    );
    let limits = Limits {
        total_bytes: 32 << 20,
        ..Limits::default()
    };
    assert!(matches!(read_bytes(&bytes, limits), Err(BundleError::TooLarge { .. })));
    let limits = Limits {
        entries: 3,
        ..Limits::default()
    };
    assert!(matches!(read_bytes(&bytes, limits), Err(BundleError::TooLarge { .. })));
}

#[test]
fn a_bundle_from_a_future_format_says_which_version_made_it() {
    let mut e = entries(&made(None));
    let m = e.iter_mut().find(|(n, _)| n == MANIFEST).unwrap();
    let text = String::from_utf8(m.1.clone())
        .unwrap()
        .replace("onshi-bundle/1", "onshi-bundle/2")
        .replace("\"version\": \"0.1.0\"", "\"version\": \"3.0.0\"");
    m.1 = text.into_bytes();
    let err = read_bytes(&zipped(&e), Limits::default()).unwrap_err();
    assert!(
        matches!(&err, BundleError::FutureFormat { format, made_by, .. } if format == "onshi-bundle/2" && made_by == "3.0.0"),
        "{err}"
    );
    assert!(err.to_string().contains("install onshi-harness 3.0.0"), "{err}");
}

#[test]
fn keys_round_trip_through_pem_and_refuse_other_text() {
    let (k, secret, public) = new_key().unwrap();
    assert!(secret.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(read_secret_key(&secret, "s").unwrap().to_bytes(), k.to_bytes());
    assert_eq!(read_public_key(&public, "p").unwrap(), k.verifying_key());
    let e = read_public_key(&secret, "key.pem").unwrap_err();
    assert!(e.to_string().contains("key.pem is not an Ed25519 public key"), "{e}");
    assert!(read_secret_key("hello", "x").is_err());
    // two fresh keys differ
    assert_ne!(new_key().unwrap().0.to_bytes(), k.to_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_are_read_or_refused_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_bytes(&bytes, Limits::default());
    }

    #[test]
    fn a_damaged_bundle_is_refused_or_its_damage_found(at in 0usize..4096, bit in 0u8..8) {
        static SIGNED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let mut bytes = SIGNED.get_or_init(|| made(Some(&key()))).clone();
        let at = at % bytes.len();
        bytes[at] ^= 1 << bit;
        if let Ok(b) = read_bytes(&bytes, Limits::default()) {
            // a flip the archive did not notice (e.g. in a timestamp) changes no content;
            // one in the content is found by the hashes or the signature
            let i = check(&b, Some(&key().verifying_key()));
            let unchanged = b.files == files().into_iter().collect::<BTreeMap<_, _>>();
            prop_assert!(unchanged || !i.problems.is_empty());
        }
    }
}
