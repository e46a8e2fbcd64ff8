//! The World's clock: the run's date at 09:00 (reception opens), moved only by scenario
//! steps. Messages therefore carry the same times in every run with the same date, which is
//! what makes runs reproducible; the journal records real elapsed time separately.

use std::sync::Mutex;

use chrono::{Duration, NaiveDate, NaiveDateTime};

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct SimClock {
    now: Mutex<NaiveDateTime>,
}

impl SimClock {
    /// 09:00:00 on `date`.
    pub(crate) fn at_opening(date: NaiveDate) -> Self {
        SimClock {
            now: Mutex::new(date.and_hms_opt(9, 0, 0).expect("09:00 exists")),
        }
    }

    /// Back to 09:00 on `date` (the start of a case).
    pub fn reset(&self, date: NaiveDate) {
        *self.now.lock().expect("clock") = date.and_hms_opt(9, 0, 0).expect("09:00 exists");
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.now.lock().expect("clock") += by;
    }
}

impl onshi_national::Clock for SimClock {
    fn now(&self) -> NaiveDateTime {
        *self.now.lock().expect("clock")
    }
}

/// Parses durations like `90s`, `5m`, `2h`, `1d` (for `advance_clock`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 5m, 2h, 1d"))?;
    match unit {
        "s" => Ok(Duration::seconds(n)),
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        "d" => Ok(Duration::days(n)),
        _ => Err(format!("{s:?}: the unit must be s, m, h or d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onshi_terminal::Clock;

    #[test]
    fn stands_still_until_advanced() {
        let c = SimClock::at_opening(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap());
        assert_eq!(c.now().to_string(), "2025-06-02 09:00:00");
        c.advance(parse_duration("90s").unwrap());
        assert_eq!(c.now().to_string(), "2025-06-02 09:01:30");
        assert!(parse_duration("3w").is_err() && parse_duration("x").is_err());
    }
}
