//! The reports' words in Japanese and English, kept as data (`texts/report.toml`) rather than
//! as literals in the code, and the language a reader asked for (`--lang`, or the locale:
//! `LANG=ja_JP.UTF-8` gives Japanese).

use std::collections::HashMap;
use std::sync::OnceLock;

use maud::{Markup, html};

/// A reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Japanese.
    Ja,
    /// English (the default when the locale says nothing).
    #[default]
    En,
}

impl Lang {
    /// `ja` or `en` (also `ja_JP.UTF-8`, `en-US` …); anything else is refused with the codes
    /// there are.
    pub fn parse(code: &str) -> Result<Lang, String> {
        let base = code
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match base.as_str() {
            "ja" => Ok(Lang::Ja),
            "en" => Ok(Lang::En),
            _ => Err(format!(
                "unknown language {code:?}: the reports are written in ja (日本語) and en (English)"
            )),
        }
    }

    /// The language the environment asks for: `LC_ALL`, then `LC_MESSAGES`, then `LANG`, as
    /// POSIX orders them; Japanese for a `ja…` locale, English otherwise.
    pub fn from_env() -> Lang {
        Lang::from_locale(|name| std::env::var(name).ok())
    }

    /// [`Lang::from_env`] with the environment given (for tests).
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|n| var(n).filter(|v| !v.is_empty()))
            .next()
            .and_then(|v| Lang::parse(&v).ok())
            .unwrap_or_default()
    }

    /// `ja` or `en`, as in a page's `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// Of two texts written in place (the operator console's), the one in this language.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// A term in this language with the other language beside it, smaller.
    pub fn both(self, ja: &str, en: &str) -> Markup {
        let (first, other) = match self {
            Lang::Ja => (ja, en),
            Lang::En => (en, ja),
        };
        html! { (first) " " span.other { "(" (other) ")" } }
    }

    /// The text written `key` in this language.
    pub fn t(self, key: &str) -> &'static str {
        match table().get(key) {
            Some(t) => match self {
                Lang::Ja => &t.ja,
                Lang::En => &t.en,
            },
            // a key the data lacks shows as itself; the tests make sure none does
            None => {
                debug_assert!(false, "texts/report.toml has no {key:?}");
                "?"
            }
        }
    }

    /// The text written `key` with each `{name}` replaced by its value.
    pub fn fill(self, key: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut s = self.t(key).to_owned();
        for (name, value) in values {
            s = s.replace(&format!("{{{name}}}"), &value.to_string());
        }
        s
    }
}

/// One text in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// English.
    pub en: String,
    /// Japanese.
    pub ja: String,
}

/// The data file, as built in.
pub const SOURCE: &str = include_str!("../../../texts/report.toml");

/// Every text by its dotted key; an entry lacking a language is an error naming it.
pub fn parse(source: &str) -> Result<HashMap<String, Text>, String> {
    let root: toml::Table = toml::from_str(source).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    flatten("", &root, &mut out)?;
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, Text>) -> Result<(), String> {
    let is_leaf = table.values().any(|v| !v.is_table());
    if is_leaf {
        let get = |lang: &str| {
            table
                .get(lang)
                .and_then(|v| v.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("{prefix} has no {lang} text"))
        };
        if let Some(other) = table.keys().find(|k| *k != "en" && *k != "ja") {
            return Err(format!("{prefix} has {other:?}; a text has en and ja only"));
        }
        out.insert(
            prefix.to_owned(),
            Text {
                en: get("en")?,
                ja: get("ja")?,
            },
        );
        return Ok(());
    }
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        flatten(&key, v.as_table().expect("checked above: only tables here"), out)?;
    }
    Ok(())
}

fn table() -> &'static HashMap<String, Text> {
    static TABLE: OnceLock<HashMap<String, Text>> = OnceLock::new();
    TABLE.get_or_init(|| parse(SOURCE).expect("texts/report.toml is valid (tested)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_both_languages_and_the_japanese_is_japanese() {
        let all = parse(SOURCE).unwrap();
        assert!(all.len() > 30);
        for (key, t) in &all {
            // a few are marks or codes; every sentence has kana or kanji
            if t.en.chars().any(|c| c.is_ascii_alphabetic()) && t.en.len() > 12 {
                assert!(t.ja.chars().any(|c| c as u32 >= 0x3000), "{key}: {:?}", t.ja);
            }
        }
    }

    #[test]
    fn a_text_lacking_a_language_is_named() {
        let e = parse("[a.b]\nen = \"x\"\n").unwrap_err();
        assert_eq!(e, "a.b has no ja text");
        let e = parse("[a]\nen = \"x\"\nja = \"\"\n").unwrap_err();
        assert_eq!(e, "a has no ja text");
        let e = parse("[a]\nen = \"x\"\nja = \"y\"\nfr = \"z\"\n").unwrap_err();
        assert!(e.contains("\"fr\""), "{e}");
    }

    /// Every `.t("…")` and `.fill("…"` in the engine's and the rush's sources names a text the
    /// data has.
    #[test]
    fn every_key_the_code_uses_exists() {
        let all = parse(SOURCE).unwrap();
        // the engine's and the rush's sources (the rush crate uses these texts for rush.html)
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = 0;
        let mut files = vec![root.join("src"), root.join("../rush/src")];
        while let Some(p) = files.pop() {
            if p.is_dir() {
                files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for pat in [".t(\"", ".fill(\""] {
                for (i, _) in text.match_indices(pat) {
                    let rest = &text[i + pat.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    if key == "…" {
                        continue;
                    }
                    used += 1;
                    assert!(all.contains_key(key), "{}: no text {key:?}", p.display());
                }
            }
        }
        assert!(used > 20, "found only {used} uses");
    }

    #[test]
    fn the_language_comes_from_the_flag_or_the_locale() {
        assert_eq!(Lang::parse("ja").unwrap(), Lang::Ja);
        assert_eq!(Lang::parse("ja_JP.UTF-8").unwrap(), Lang::Ja);
        assert_eq!(Lang::parse("EN-us").unwrap(), Lang::En);
        assert!(Lang::parse("fr").unwrap_err().contains("ja (日本語) and en"));
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(Lang::from_locale(env(&[("LANG", "ja_JP.UTF-8")])), Lang::Ja);
        assert_eq!(
            Lang::from_locale(env(&[("LANG", "ja_JP.UTF-8"), ("LC_ALL", "C")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_locale(env(&[("LC_MESSAGES", "ja_JP"), ("LANG", "en_US")])),
            Lang::Ja
        );
        assert_eq!(Lang::from_locale(env(&[])), Lang::En);
        assert_eq!(Lang::Ja.fill("readiness.action", &[("n", &3)]), "要対応：必須 3 件");
    }
}
