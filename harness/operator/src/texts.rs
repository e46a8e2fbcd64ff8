//! The console's words. Japanese first (clinic staff read it), English beside the domain
//! terms; `--lang en` puts English first with the Japanese term beside it.

use onshi_protocol::driver::Outcome;

/// The language the page is shown in: the reports' language, with the console's `pick`
/// and `both`. The console defaults to Japanese (`onshi run --operator` passes `ja` unless
/// asked otherwise).
pub use onshi_harness::texts::Lang;

/// Every outcome a clinic's screen can show, in the order the form offers them.
pub const OUTCOMES: [Outcome; 6] = [
    Outcome::Valid,
    Outcome::Invalid,
    Outcome::InvalidNewQualification,
    Outcome::NotFound,
    Outcome::Multiple,
    Outcome::Error,
];

/// An outcome as a clinic's screen says it, and in English.
pub fn outcome_words(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Valid => ("有効", "valid"),
        Outcome::Invalid => ("無効", "invalid"),
        Outcome::InvalidNewQualification => ("無効（新しい資格あり）", "invalid, a newer qualification exists"),
        Outcome::NotFound => ("該当資格なし", "no matching qualification"),
        Outcome::Multiple => ("複数該当", "several matches"),
        Outcome::Error => ("エラー", "error — no usable answer"),
    }
}

/// The capabilities a person can exercise by hand, with what they mean at the clinic.
pub const HAND_CAPABILITIES: [(&str, &str, &str); 3] = [
    (
        "file.qualification",
        "資格確認（保険証の入力、端末フォルダ経由）",
        "qualification by card number, through the terminal folder",
    ),
    (
        "file.face",
        "顔認証付きカードリーダーの結果の取込み",
        "importing the face-auth reader's results",
    ),
    (
        "api.qualification",
        "資格確認（オンライン資格確認のAPI）",
        "qualification through the national system's API",
    ),
];

/// A date `YYYYMMDD` the way a clinic writes it (1988年4月12日); anything else as given.
pub fn japanese_date(yyyymmdd: &str) -> String {
    let ok = yyyymmdd.len() == 8 && yyyymmdd.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return yyyymmdd.to_owned();
    }
    let n = |r: std::ops::Range<usize>| yyyymmdd[r].parse::<u32>().unwrap_or(0);
    format!("{}年{}月{}日", n(0..4), n(4..6), n(6..8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_at_the_clinic() {
        assert_eq!(japanese_date("19880412"), "1988年4月12日");
        assert_eq!(japanese_date("1988-04-12"), "1988-04-12");
    }

    #[test]
    fn the_page_language_comes_first() {
        assert_eq!(
            Lang::Ja.both("有効", "valid").into_string(),
            "有効 <span class=\"other\">(valid)</span>"
        );
        assert_eq!(
            Lang::En.both("有効", "valid").into_string(),
            "valid <span class=\"other\">(有効)</span>"
        );
        assert!(Lang::parse("fr").is_err());
    }
}
