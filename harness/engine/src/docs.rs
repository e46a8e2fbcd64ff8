//! Generated documentation: the case catalogue (`docs/cases.md`) and the check catalogue
//! (`docs/checks.md`), from the suite and the check catalogue — the source of truth.

use onshi_protocol::ids;
use std::collections::BTreeMap;

use crate::checks;
use crate::scenario::{Severity, Suite};

/// A deliberate defect that proves a case catches its bug.
#[derive(Debug, Clone, Copy)]
pub struct Proof {
    /// The case that catches the defect.
    pub case: &'static str,
    /// The defect's `--defect` name.
    pub defect: &'static str,
    /// The check the case fails with.
    pub check: onshi_protocol::CheckId,
    /// The wrong behaviour, as a vendor would recognise it.
    pub behaviour: &'static str,
}

const GENERATED: &str = "<!-- Generated from the scenarios and the check catalogue. Do not edit: run \
`ONSHI_UPDATE_DOCS=1 cargo test -p onshi-cli --test docs` to regenerate. -->";

/// The check IDs a case can report, by its steps and expectations.
fn checks_of(case: &crate::scenario::Case) -> Vec<String> {
    let mut ids: Vec<String> = case.def.checks.clone();
    if case.def.follows_client_timeout {
        ids.push(ids::CLIENT_TIMEOUT.into());
    }
    for step in &case.def.steps {
        ids.extend(step.checks().into_iter().map(String::from));
    }
    ids.sort();
    ids.dedup();
    ids
}

/// `docs/requirements.md`: each requirement with the cases that test it and the deliberate
/// defects that prove those cases.
pub fn requirements_markdown(suite: &Suite, proofs: &[Proof]) -> String {
    let all = crate::scenario::requirements::all();
    let mut out = format!(
        "# Requirements\n\n<!-- Generated from requirements/requirements.toml, the scenarios and the defect table. Do not \
         edit: run `ONSHI_UPDATE_DOCS=1 cargo test -p onshi-cli --test docs` to regenerate. -->\n\n\
         What the suite tests: {} requirements, each named by the cases that test it (`requirement = \"…\"` in \
         [the scenario format](scenario-format.md)) and proven by deliberate defects of the reference client that \
         those cases catch. The official specification is not public; statements are written from public sources.\n\n\
         | requirement | what | cases | defects |\n|---|---|---:|---:|\n",
        all.len()
    );
    let cases_of = |id: &str| -> Vec<&crate::scenario::Case> {
        suite
            .cases
            .iter()
            .filter(|c| c.def.requirements.iter().any(|r| r.as_str() == id))
            .collect()
    };
    let defects_of = |cases: &[&crate::scenario::Case]| -> Vec<&Proof> {
        proofs
            .iter()
            .filter(|p| cases.iter().any(|c| c.id() == p.case))
            .collect()
    };
    let anchor = |id: &str| {
        id.to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
    };
    for r in all {
        let cases = cases_of(&r.id);
        let mut defects: Vec<&str> = defects_of(&cases).iter().map(|p| p.defect).collect();
        defects.sort();
        defects.dedup();
        out.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} |\n",
            r.id,
            anchor(&r.id),
            r.title.replace('|', "\\|"),
            cases.len(),
            defects.len()
        ));
    }
    for r in all {
        let cases = cases_of(&r.id);
        out.push_str(&format!(
            "\n## {}\n\n{}\n\n{}\n\nSource: {}.\n\n",
            r.id, r.title, r.title_ja, r.source
        ));
        if cases.is_empty() {
            out.push_str("No case tests it yet.\n");
            continue;
        }
        out.push_str("| case | severity | proven by (defect → check) |\n|---|---|---|\n");
        for c in cases {
            let proven: Vec<String> = proofs
                .iter()
                .filter(|p| p.case == c.id())
                .map(|p| format!("`{}` → {}", p.defect, p.check))
                .collect();
            out.push_str(&format!(
                "| [{id}](cases.md#{a}) {} | {} | {} |\n",
                c.def.title.replace('|', "\\|"),
                severity(c.def.severity),
                proven.join("<br>"),
                id = c.id(),
                a = c.id().to_lowercase(),
            ));
        }
    }
    out
}

/// `docs/cases.md`.
pub fn cases_markdown(suite: &Suite, proofs: &[Proof]) -> String {
    let mut out = format!(
        "# Case catalogue\n\n{GENERATED}\n\n{} cases. Every case is proven by at least one deliberate defect of the \
         reference client: the reference client passes the case, the defect variant fails it with the check named. \
         Message lint (`MSG-*`, see [checks.md](checks.md)) runs on every request in every case, and the API request \
         checks (`API-*`) on every login and search.\n\n\
         | case | title | requirement | severity | capabilities | proven by |\n|---|---|---|---|---|---|\n",
        suite.cases.len()
    );
    for c in &suite.cases {
        let proven: Vec<String> = proofs
            .iter()
            .filter(|p| p.case == c.id())
            .map(|p| format!("`{}` → {}", p.defect, p.check))
            .collect();
        out.push_str(&format!(
            "| [{id}](#{anchor}) | {} | {} | {} | {} | {} |\n",
            c.def.title.replace('|', "\\|"),
            c.def.requirement,
            severity(c.def.severity),
            c.def.capabilities.join(", "),
            proven.join("<br>"),
            id = c.id(),
            anchor = c.id().to_lowercase(),
        ));
    }
    for c in &suite.cases {
        out.push_str(&format!(
            "\n## {}\n\n**{}** — {} · {} · `scenarios/{}`\n\n{}\n\n",
            c.id(),
            c.def.title,
            c.def.requirement,
            severity(c.def.severity),
            c.source,
            c.def.summary.trim()
        ));
        if let (Some(t), Some(s)) = (&c.def.title_ja, &c.def.summary_ja) {
            out.push_str(&format!("> **{t}** — {}\n\n", s.trim()));
        }
        let ids = checks_of(c);
        out.push_str(&format!(
            "Checks: {}\n\n",
            ids.iter()
                .map(|id| format!("[{id}](checks.md#{})", id.to_lowercase()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for p in proofs.iter().filter(|p| p.case == c.id()) {
            out.push_str(&format!(
                "Proven by `--defect {}` ({}) → fails {}.\n\n",
                p.defect, p.behaviour, p.check
            ));
        }
    }
    out
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Mandatory => "mandatory",
        Severity::Recommended => "recommended",
    }
}

/// `docs/checks.md`.
pub fn checks_markdown(suite: &Suite) -> String {
    let mut used: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for c in &suite.cases {
        for id in checks_of(c) {
            used.entry(id).or_default().push(c.id());
        }
    }
    let mut out = format!(
        "# Check catalogue\n\n{GENERATED}\n\nEvery finding the harness reports carries one of these IDs. `MSG-*` \
         checks are the message lint: they run on every request a client writes, in every case, and on any file \
         given to `onshi validate`. The others are behaviour checks named by the cases. `DRV-*` explain why a case \
         ended as an *error* (the adapter broke) rather than a failure.\n\n| id | rule |\n|---|---|\n"
    );
    for c in checks::all() {
        out.push_str(&format!(
            "| [{}](#{}) | {} |\n",
            c.id,
            c.id.as_str().to_lowercase(),
            c.title.replace('|', "\\|")
        ));
    }
    for c in checks::all() {
        out.push_str(&format!(
            "\n## {}\n\n**{}**\n\n- **Rule:** {}\n- **Why it matters at reception:** {}\n- **How to fix:** {}\n",
            c.id, c.title, c.rule, c.why, c.fix
        ));
        if let Some(ja) = checks::japanese::get(c.id.as_str()) {
            out.push_str(&format!(
                "- **日本語：** {} — {} **影響：** {} **対処方法：** {}\n",
                ja.title, ja.rule, ja.why, ja.fix
            ));
        }
        if c.id == onshi_protocol::ids::MSG_REQ_001 {
            out.push_str("- **Required elements** (`MessageKind::required_elements`, the lint's own list):\n");
            for kind in onshi_protocol::MessageKind::ALL {
                let required = kind.required_elements();
                if !required.is_empty() {
                    let list: Vec<String> = required.iter().map(|p| format!("`{p}`")).collect();
                    out.push_str(&format!("  - {}: {}\n", kind.title(), list.join(", ")));
                }
            }
        }
        if let Some(cases) = used.get(c.id.as_str()) {
            out.push_str(&format!(
                "- **Cases:** {}\n",
                cases
                    .iter()
                    .map(|id| format!("[{id}](cases.md#{})", id.to_lowercase()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else if c.id.as_str().starts_with("MSG-") {
            out.push_str("- **Cases:** every case (message lint)\n");
        }
    }
    out
}
