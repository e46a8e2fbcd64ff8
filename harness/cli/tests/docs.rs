//! Generated documentation stays in step with its source of truth: the case catalogue with
//! the scenarios and the defect table, the check catalogue with the checks, the JSON Schemas
//! with the Rust types. Regenerate with `ONSHI_UPDATE_DOCS=1 cargo test -p onshi-cli --test docs`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use onshi_harness::docs::{self, Proof};
use onshi_registry::Registry;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check_or_update(rel: &str, generated: &str) -> Option<String> {
    let path = repo().join(rel);
    if std::env::var_os("ONSHI_UPDATE_DOCS").is_some() {
        std::fs::write(&path, generated).unwrap();
        return None;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    (on_disk != generated).then(|| format!("{rel} is out of date"))
}

#[test]
fn generated_docs_are_up_to_date() {
    let registry = Registry::embedded(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(), 0);
    let suite = onshi_harness::load_dir(&repo().join("scenarios"), &registry, &onshi_rush::step::Support)
        .expect("the suite loads");
    let proofs: Vec<Proof> = onshi_reference_client::DEFECTS
        .iter()
        .flat_map(|d| {
            d.catches.iter().map(|c| Proof {
                case: c.case,
                defect: d.name,
                check: c.check,
                behaviour: d.behaviour,
            })
        })
        .collect();
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap() + "\n";
    let stale: Vec<String> = [
        ("docs/cases.md", docs::cases_markdown(&suite, &proofs)),
        ("docs/checks.md", docs::checks_markdown(&suite)),
        ("docs/requirements.md", docs::requirements_markdown(&suite, &proofs)),
        (
            "docs/driver-protocol.schema.json",
            pretty(onshi_protocol::driver::json_schema()),
        ),
        ("docs/report.schema.json", pretty(onshi_harness::report::json_schema())),
    ]
    .iter()
    .filter_map(|(rel, text)| check_or_update(rel, text))
    .collect();
    assert!(
        stale.is_empty(),
        "{}\nRegenerate with: ONSHI_UPDATE_DOCS=1 cargo test -p onshi-cli --test docs",
        stale.join("\n")
    );
}

#[test]
fn every_check_named_in_prose_docs_exists() {
    for doc in [
        "README.md",
        "docs/driver-protocol.md",
        "docs/scenario-format.md",
        "docs/world.md",
    ] {
        let text = std::fs::read_to_string(repo().join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            let prefixes = ["MSG-", "OUT-", "REC-", "REQ-", "FS-", "FACE-", "DRV-", "CLIENT-"];
            if prefixes.iter().any(|p| word.starts_with(p)) && word.len() > 5 && !word.ends_with('-') {
                assert!(
                    onshi_harness::checks::info(word).is_some(),
                    "{doc} mentions {word}, which is not in the check catalogue"
                );
            }
        }
    }
}

/// docs/cards.md lists every shipped card with its holder, and every synthetic reader code.
#[test]
fn the_card_guide_names_every_shipped_card_and_reader_code() {
    let guide = std::fs::read_to_string(repo().join("docs/cards.md")).unwrap();
    let registry = Registry::embedded(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(), 0);
    for c in registry.cards() {
        let row = format!("| `{}` | {} |", c.card, c.persona);
        assert!(guide.contains(&row), "docs/cards.md has no row {row}");
    }
    let catalogue = onshi_protocol::synthetic::ErrorCatalogue::default();
    for key in onshi_protocol::synthetic::ErrorKey::ALL
        .into_iter()
        .filter(|k| k.name().starts_with("reader-"))
    {
        let code = catalogue.answer(key, "").code;
        assert!(
            guide.contains(&format!("`{code}`")),
            "docs/cards.md does not list {code}"
        );
    }
}

/// docs/architecture.md's crate graph is the workspace's: for every member, the workspace
/// crates among its normal dependencies.
#[test]
fn the_architecture_crate_graph_matches_the_manifests() {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let start = doc.find("<!-- crate-graph -->").expect("a crate-graph block");
    let end = doc
        .find("<!-- /crate-graph -->")
        .expect("the end of the crate-graph block");
    let documented: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = doc[start..end]
        .lines()
        .filter_map(|l| l.split_once('→'))
        .map(|(name, deps)| {
            (
                name.trim().to_owned(),
                deps.split_whitespace().map(str::to_owned).collect(),
            )
        })
        .collect();
    let root = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let members: Vec<&str> = root
        .lines()
        .skip_while(|l| !l.starts_with("members"))
        .skip(1)
        .take_while(|l| !l.starts_with(']'))
        .map(|l| l.trim().trim_matches(|c| c == '"' || c == ','))
        .collect();
    let mut actual = std::collections::BTreeMap::new();
    for member in members {
        let manifest = std::fs::read_to_string(repo().join(member).join("Cargo.toml")).unwrap();
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let deps = manifest
            .lines()
            .skip_while(|l| l.trim() != "[dependencies]")
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .filter(|l| l.starts_with("onshi-"))
            .map(|l| l.split(['.', ' ', '=']).next().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<String>>();
        actual.insert(name, deps);
    }
    assert_eq!(documented, actual, "docs/architecture.md's crate graph is out of date");
}

/// docs/scenario-format.md documents every step kind the engine knows, with each of its keys.
#[test]
fn the_scenario_format_documents_every_step_kind_and_key() {
    let doc = std::fs::read_to_string(repo().join("docs/scenario-format.md")).unwrap();
    let steps = &doc[doc.find("## Steps").expect("a Steps section")..];
    let steps = &steps[..steps.find("\n## ").unwrap_or(steps.len())];
    let mut missing = Vec::new();
    for (kind, keys) in onshi_harness::steps::kinds() {
        let Some(at) = steps
            .lines()
            .position(|l| l.starts_with("### ") && l.contains(&format!("`{kind}`")))
        else {
            missing.push(format!("no ### heading for step kind `{kind}`"));
            continue;
        };
        // the kind's section: from its heading to the next one
        let section: Vec<&str> = steps
            .lines()
            .skip(at)
            .enumerate()
            .take_while(|(i, l)| *i == 0 || !l.starts_with("### "))
            .map(|(_, l)| l)
            .collect();
        let section = section.join("\n");
        for key in keys {
            let named = [format!("`{key}"), format!("{key} ="), format!("step.{key}]")];
            if !named.iter().any(|n| section.contains(n.as_str())) {
                missing.push(format!("`{kind}`: key `{key}` is not described"));
            }
        }
    }
    assert!(missing.is_empty(), "docs/scenario-format.md:\n{}", missing.join("\n"));
}

/// Every shipped case tells its title and story in Japanese as well (a suite of one's own may
/// leave them out).
#[test]
fn every_shipped_case_is_written_in_japanese_too() {
    let registry = Registry::embedded(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(), 0);
    let suite = onshi_harness::load_dir(&repo().join("scenarios"), &registry, &onshi_rush::step::Support)
        .expect("the suite loads");
    let japanese = |s: &str| s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c));
    for c in &suite.cases {
        for (field, text) in [("title_ja", &c.def.title_ja), ("summary_ja", &c.def.summary_ja)] {
            let text = text.as_deref().unwrap_or_else(|| panic!("{} has no {field}", c.id()));
            assert!(japanese(text), "{}.{field} is not Japanese: {text}", c.id());
        }
    }
}

/// The fenced blocks of a document tagged `tag`, in order.
fn blocks<'a>(doc: &'a str, tag: &str) -> Vec<&'a str> {
    doc.split(&format!("```{tag}\n"))
        .skip(1)
        .map(|b| &b[..b.find("```").expect("a closed block")])
        .collect()
}

/// docs/ci.md's GitHub Actions and GitLab CI examples parse, and run exactly the steps of the
/// page's `sh` block — which the test of the docs as written runs — so what is shown is what
/// is tested: the same `onshi` commands (GitLab's `|| true` aside), and an install of
/// harness/cli with `cargo install --locked --path`.
#[test]
fn the_ci_examples_run_the_documented_steps() {
    use yaml_rust2::{Yaml, YamlLoader};
    let doc = std::fs::read_to_string(repo().join("docs/ci.md")).unwrap();
    let steps: Vec<String> = blocks(&doc, "sh")
        .iter()
        .flat_map(|b| b.lines())
        .map(|l| l.split("   #").next().unwrap().trim().to_owned())
        .filter(|l| l.starts_with("onshi "))
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    let examples = blocks(&doc, "yaml");
    assert_eq!(examples.len(), 2, "a GitHub Actions and a GitLab CI example");
    for (name, text) in ["GitHub Actions", "GitLab CI"].iter().zip(examples) {
        let yaml = &YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))[0];
        let mut commands: Vec<String> = Vec::new();
        let strings = |v: &Yaml| -> Vec<String> {
            v.as_vec()
                .map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        if let Some(jobs) = yaml["jobs"].as_hash() {
            for job in jobs.values() {
                for step in job["steps"].as_vec().unwrap() {
                    if let Some(run) = step["run"].as_str() {
                        commands.push(run.to_owned());
                    }
                }
            }
        } else {
            let job = &yaml["onshi"];
            commands.extend(strings(&job["before_script"]));
            commands.extend(strings(&job["script"]));
        }
        let mut onshi = Vec::new();
        for c in &commands {
            let c = c.trim().trim_end_matches(" || true");
            if let Some(path) = c.strip_prefix("cargo install --locked --path ") {
                assert!(path == "harness/cli" || path.ends_with("/harness/cli"), "{name}: {c}");
            } else if c.starts_with("onshi ") {
                assert!(
                    steps.iter().any(|s| s == c),
                    "{name} runs `{c}`, which docs/ci.md's steps do not"
                );
                onshi.push(c.to_owned());
            } else {
                assert!(c.starts_with("git clone "), "{name}: unexpected command `{c}`");
            }
        }
        assert_eq!(onshi, steps, "{name} runs every step, in order");
    }
    // the rush matrix example of docs/scaling.md parses too (its Job manifest is run by
    // as_written.rs)
    let scaling = std::fs::read_to_string(repo().join("docs/scaling.md")).unwrap();
    for b in blocks(&scaling, "yaml") {
        YamlLoader::load_from_str(b).expect("docs/scaling.md's YAML parses");
    }
}
