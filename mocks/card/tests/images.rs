//! The shipped card images: regenerating them from `fixtures/cards/cards.toml` gives the same
//! bytes (generation is deterministic and the fixtures are current), every image names a
//! persona, and broken images are refused with the field named.

mod common;

use onshi_card::generate::{EMBEDDED_SPEC, generate_all};
use onshi_card::image::CardImage;

#[test]
fn regenerating_gives_the_shipped_images() {
    let images = generate_all(EMBEDDED_SPEC).expect("the shipped spec generates");
    assert!(images.len() >= 10);
    for image in &images {
        let path = common::images_dir().join(format!("{}.toml", image.id));
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == image.to_toml(),
            "{} is out of date: run `cargo run -p onshi-cli -- card generate`",
            path.display()
        );
    }
    let on_disk = std::fs::read_dir(common::images_dir()).unwrap().count();
    assert_eq!(on_disk, images.len(), "images/ holds exactly the generated cards");
}

#[test]
fn broken_images_name_the_field() {
    let good = common::image("valid-kenpo-insured").to_toml();
    let cases = [
        (
            good.replace("format = \"onshi-card/1\"", "format = \"onshi-card/9\""),
            "onshi-card/9",
        ),
        (good.replace("my_number = \"", "my_number = \"x"), "my_number"),
        (
            good.replace("security_code = \"1234\"", "security_code = \"12\""),
            "security_code",
        ),
        (
            good.replace("tries_left = 3\nmax_tries = 3", "tries_left = 4\nmax_tries = 3"),
            "tries_left 4",
        ),
        (good.replace("atr = \"3B", "atr = \"ZZ"), "atr"),
        (
            good.replace("-----BEGIN PRIVATE KEY-----", "-----BEGIN NOTHING-----"),
            "key_pem",
        ),
        (good.replace("jp2_base64 = \"", "jp2_base64 = \"!"), "jp2_base64"),
        (good.replace("persona = ", "persona_id = "), "unknown field"),
        ("not toml at all [".to_string(), "not a card image"),
    ];
    for (text, needle) in cases {
        let err = CardImage::parse(&text, "broken.toml").expect_err(needle).to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
        assert!(err.starts_with("broken.toml"), "{err:?} names the file");
    }
}

#[test]
fn spec_errors_name_the_card() {
    let missing = "seed = 1\n[[card]]\nid = \"x\"\npersona = \"nobody\"\nsummary = \"s\"\n";
    let err = generate_all(missing).expect_err("unknown persona").to_string();
    assert!(err.contains("card x") && err.contains("nobody"), "{err}");
    let twice = format!("{missing}{}", missing.replace("seed = 1\n", ""));
    let err = generate_all(&twice.replace("nobody", "valid-kenpo-insured"))
        .expect_err("dup")
        .to_string();
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn face_photo_decodes_as_greyscale_jpeg_2000() {
    let Ok(_) = std::process::Command::new("opj_decompress").arg("-h").output() else {
        assert!(
            std::env::var("ONSHI_REQUIRE_SYSTEM_TOOLS").is_err(),
            "opj_decompress (libopenjp2-tools) is missing"
        );
        eprintln!("opj_decompress not installed; skipped");
        return;
    };
    let image = common::image("valid-kenpo-insured");
    let dir = tempfile::tempdir().unwrap();
    let (jp2, pgm) = (dir.path().join("face.jp2"), dir.path().join("face.pgm"));
    std::fs::write(&jp2, image.face_jp2().unwrap()).unwrap();
    let out = std::process::Command::new("opj_decompress")
        .arg("-i")
        .arg(&jp2)
        .arg("-o")
        .arg(&pgm)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // binary PGM: "P5", a comment, "width height", "255", then one byte per pixel
    let bytes = std::fs::read(&pgm).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let mut header = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(header.next(), Some("P5"), "one greyscale component");
    assert_eq!(
        header.next(),
        Some(format!("{} {}", image.face.width, image.face.height).as_str())
    );
    let pixels = &bytes[bytes.len() - (image.face.width * image.face.height) as usize..];
    assert!(pixels.iter().all(|&p| p == 128), "a uniform grey: nobody's face");
}
