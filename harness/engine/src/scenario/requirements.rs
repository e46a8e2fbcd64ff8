//! The requirements the suite tests (`requirements/requirements.toml`): every case names
//! requirement IDs from this list, and the loader refuses others, so a requirement is one
//! spelling with one statement in English and Japanese and the source it comes from.

use std::sync::OnceLock;

use serde::Deserialize;

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The ID cases name it by.
    pub id: String,
    /// One line, in English.
    pub title: String,
    /// The same line in Japanese.
    pub title_ja: String,
    /// Where it comes from: a file family, an endpoint, public client behaviour.
    pub source: String,
    /// The area it belongs to ([`Group`]).
    pub group: String,
}

/// An area a reviewer reads readiness by: 資格確認 by file, the face-auth reader, the API, …
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Its ID, which requirements name.
    pub id: String,
    /// Its name, in English.
    pub title: String,
    /// Its name in Japanese.
    pub title_ja: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    group: Vec<Group>,
    requirement: Vec<Requirement>,
}

fn file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    FILE.get_or_init(|| toml::from_str::<File>(TEXT).expect("requirements/requirements.toml is valid (tested)"))
}

/// The catalogue file as built in (an evidence bundle keeps it).
pub const TEXT: &str = include_str!("../../../../requirements/requirements.toml");

/// Every requirement, in the file's order.
pub fn all() -> &'static [Requirement] {
    &file().requirement
}

/// Every area, in the order a reviewer reads them.
pub fn groups() -> &'static [Group] {
    &file().group
}

/// The requirement `id`, if the list has it.
pub fn get(id: &str) -> Option<&'static Requirement> {
    all().iter().find(|r| r.id == id)
}

/// A requirement of the list, by its ID: only [`RequirementId::parse`] makes one, so a case
/// holds no requirement the list does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequirementId(&'static Requirement);

impl RequirementId {
    /// The requirement written `id`, or why there is none.
    pub fn parse(id: &str) -> Result<RequirementId, String> {
        get(id).map(RequirementId).ok_or_else(|| {
            let known: Vec<&str> = all().iter().map(|r| r.id.as_str()).collect();
            format!(
                "unknown requirement {id:?}: cases name requirements of requirements/requirements.toml ({})",
                known.join(", ")
            )
        })
    }

    /// The requirement's ID.
    pub fn as_str(self) -> &'static str {
        &self.0.id
    }

    /// Its entry in the list.
    pub fn requirement(self) -> &'static Requirement {
        self.0
    }
}

impl std::fmt::Display for RequirementId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RequirementId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_parses_with_unique_ids_and_every_field_filled() {
        let all = all();
        assert!(all.len() >= 10);
        let mut ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "duplicate requirement IDs");
        for r in all {
            assert!(
                [&r.title, &r.title_ja, &r.source].iter().all(|s| !s.trim().is_empty()),
                "{r:?}"
            );
            // the Japanese line is Japanese
            assert!(r.title_ja.chars().any(|c| c as u32 >= 0x3000), "{r:?}");
        }
        assert_eq!(
            get("OQS-IF-001/002").unwrap().source.split_whitespace().next(),
            Some("file")
        );
        assert!(get("OQS-IF-999").is_none());
    }

    #[test]
    fn every_requirement_is_in_an_area_and_every_area_has_one() {
        for r in all() {
            assert!(
                groups().iter().any(|g| g.id == r.group),
                "{} names area {:?}",
                r.id,
                r.group
            );
        }
        for g in groups() {
            assert!(
                all().iter().any(|r| r.group == g.id),
                "area {} has no requirement",
                g.id
            );
            assert!(g.title_ja.chars().any(|c| c as u32 >= 0x3000), "{g:?}");
        }
    }
}
