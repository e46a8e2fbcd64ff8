//! Embeds `scenarios/**/*.toml` so that `onshi demo` and `onshi run` work without a checkout,
//! and the source commit, which evidence bundles record (`ONSHI_COMMIT` overrides it where
//! there is no git checkout, e.g. when building from a package).

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

/// The commit of the checkout, if this is one; tells cargo to look again when it moves.
fn commit(repo: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let git_dir = repo.join(git(&["rev-parse", "--git-dir"])?);
    for watched in ["HEAD", "packed-refs", "refs/heads"] {
        let p = git_dir.join(watched);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty())
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    println!("cargo:rerun-if-env-changed=ONSHI_COMMIT");
    let commit = std::env::var("ONSHI_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| commit(&repo))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ONSHI_COMMIT={commit}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    let mut code = String::from(
        "/// Scenario files embedded at build time: (path under scenarios/, contents).\npub const SCENARIOS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let abs = f.canonicalize().expect("readable");
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_suite.rs");
    std::fs::write(out, code).expect("write embedded suite");
}
