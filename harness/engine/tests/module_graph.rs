//! No module of the engine (or of the rush, built on it) imports one that imports it back
//! (issue 16): each crate stays a stack of layers, so a new step kind or a new driver is a new module, not a new knot.
//!
//! The graph is read from the source: every `crate::…`, `super::…` and `self::…` path (in
//! `use` declarations, braces expanded, and written inline) is an edge from the file's
//! module to the deepest module the path names. A module using its own ancestors (`super::`
//! from a child, `use super::*` in tests) is how Rust nests modules and is not an edge; a
//! parent re-exporting a child's items is one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path below the crate root, e.g. `["checks", "card"]`.
type Module = Vec<String>;

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without comments (line comments and doc comments; block comments are not used).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // a `//` inside a string literal is rare enough in this crate to ignore
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .flat_map(|s| expand(s).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// Every path the code names that starts with `crate`, `super` or `self`.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    // `use` declarations, braces and all
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let boundary = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric() && rest.as_bytes()[i - 1] != b'_';
        let after = &rest[i + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if boundary {
            out.extend(expand(&after[..end].replace(char::is_whitespace, "")));
        }
        rest = &after[if boundary { end } else { 0 }..];
    }
    // paths written inline
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            let before = code[..at].chars().last();
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                out.push(path.clone());
            }
            from = at + path.len().max(1);
        }
    }
    out
}

/// The deepest module of `modules` that `path`, written in `from`, names.
fn target(path: &str, from: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let (mut base, rest): (Module, &[&str]) = match segments.first()? {
        &"crate" => (Vec::new(), &segments[1..]),
        &"self" => (from.clone(), &segments[1..]),
        &"super" => {
            // a mod.rs is its folder's module, so `super` is always one level up
            let mut base = from.clone();
            let mut rest = &segments[..];
            while rest.first() == Some(&"super") {
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        // `use child::Item` in a module with a child module of that name
        first if modules.contains(&[from.as_slice(), &[(*first).to_owned()]].concat()) => (from.clone(), &segments[..]),
        _ => return None,
    };
    let mut deepest = base.clone();
    for s in rest {
        base.push((*s).to_owned());
        if modules.contains(&base) {
            deepest = base.clone();
        } else {
            break;
        }
    }
    Some(deepest)
}

fn is_ancestor(a: &Module, b: &Module) -> bool {
    a.len() <= b.len() && b[..a.len()] == a[..]
}

/// The circles among the modules of the crate whose sources are in `src`.
fn circles(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(src, f)).collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in &files {
        let from = module_of(src, file);
        let text = std::fs::read_to_string(file).expect("readable");
        for path in paths(&code(&text)) {
            if let Some(to) = target(&path, &from, &modules)
                && !is_ancestor(&to, &from)
            {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    // a module and one it reaches through its imports that reaches it back
    let reach = |start: &Module| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start.clone()];
        while let Some(m) = todo.pop() {
            for n in edges.get(&m).into_iter().flatten() {
                if seen.insert(n.clone()) {
                    todo.push(n.clone());
                }
            }
        }
        seen
    };
    let show = |m: &Module| format!("crate::{}", m.join("::"));
    let mut circles = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            if reach(to).contains(from) {
                circles.push(format!("{} -> {} -> … -> {}", show(from), show(to), show(from)));
            }
        }
    }
    circles
}

#[test]
fn no_module_of_the_engine_or_the_rush_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for src in [root.join("src"), root.join("../rush/src")] {
        let circles = circles(&src);
        assert!(
            circles.is_empty(),
            "modules of {} import each other in a circle:\n{}",
            src.display(),
            circles.join("\n")
        );
    }
}

#[test]
fn the_reader_of_the_graph_sees_imports() {
    // the test above is only as good as this parser: it must see each way of importing
    let code = "use super::{evaluate::{fail, pass}, CheckResult};\nlet x = crate::rush::Profile::new();\nuse crate::journal::Entry;";
    let found = paths(code);
    for p in [
        "super::evaluate::fail",
        "super::CheckResult",
        "crate::rush::Profile::new",
        "crate::journal::Entry",
    ] {
        assert!(found.iter().any(|f| f == p), "{p} not in {found:?}");
    }
    let modules: BTreeSet<Module> = [
        vec!["checks".into()],
        vec!["checks".into(), "evaluate".into()],
        vec!["rush".into()],
    ]
    .into_iter()
    .collect();
    let from = vec!["checks".to_owned(), "card".to_owned()];
    assert_eq!(
        target("super::evaluate::fail", &from, &modules),
        Some(vec!["checks".to_owned(), "evaluate".to_owned()])
    );
    assert_eq!(
        target("crate::rush::Profile", &from, &modules),
        Some(vec!["rush".to_owned()])
    );
    assert_eq!(
        target("evaluate::evaluate", &["checks".to_owned()].to_vec(), &modules),
        Some(vec!["checks".to_owned(), "evaluate".to_owned()])
    );
}
