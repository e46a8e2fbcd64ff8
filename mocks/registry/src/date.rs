//! Dates in persona files: absolute (`20250401`, `2025-04-01`) or relative to the run's
//! date, so that "insurance changed last month" stays true whatever day the suite runs.
//!
//! ```text
//! expr   = anchor *offset
//! anchor = "today" | "month"            ; month = the first day of today's month
//! offset = ("+" | "-") digits ("d" | "m" | "y")
//! ```
//! Examples: `today-72y` (a 72-year-old's birthday), `month-1m` (first day of last month),
//! `month-1d` (last day of last month), `month-1m+14d` (the 15th of last month).

use chrono::{Datelike, Months, NaiveDate};

/// A date expression as written in a persona file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateExpr {
    /// A fixed date (YYYYMMDD).
    Absolute(NaiveDate),
    /// A date relative to the run's date (`today-10d`) or its month (`month-1m`).
    Relative {
        /// From the first of the month (`month…`) rather than from today.
        month_anchor: bool,
        /// Each offset: an amount and its unit (`d`, `m`, `y`).
        offsets: Vec<(i32, char)>,
    },
}

impl DateExpr {
    /// Reads an expression: `YYYYMMDD`, `today`, `month`, with offsets like `-10d`, `+1m`.
    pub fn parse(s: &str) -> Result<DateExpr, String> {
        let t = s.trim();
        for fmt in ["%Y%m%d", "%Y-%m-%d"] {
            if let Ok(d) = NaiveDate::parse_from_str(t, fmt) {
                return Ok(DateExpr::Absolute(d));
            }
        }
        let (month_anchor, mut rest) = if let Some(r) = t.strip_prefix("today") {
            (false, r)
        } else if let Some(r) = t.strip_prefix("month") {
            (true, r)
        } else {
            return Err(format!(
                "{s:?} is not a date: write YYYYMMDD, or today/month with offsets such as today-72y, month-1m+14d"
            ));
        };
        let mut offsets = Vec::new();
        while !rest.is_empty() {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(format!("{s:?}: expected + or - at {rest:?}")),
            };
            let digits: String = rest[1..].chars().take_while(char::is_ascii_digit).collect();
            let unit = rest[1 + digits.len()..].chars().next();
            let n: i32 = digits
                .parse()
                .map_err(|_| format!("{s:?}: expected a number after the sign at {rest:?}"))?;
            match unit {
                Some(u @ ('d' | 'm' | 'y')) => offsets.push((sign * n, u)),
                _ => return Err(format!("{s:?}: an offset ends in d, m or y (at {rest:?})")),
            }
            rest = &rest[2 + digits.len()..];
        }
        Ok(DateExpr::Relative { month_anchor, offsets })
    }

    /// The date on a run whose date is `today`.
    pub fn resolve(&self, today: NaiveDate) -> NaiveDate {
        match self {
            DateExpr::Absolute(d) => *d,
            DateExpr::Relative { month_anchor, offsets } => {
                let start = if *month_anchor {
                    today.with_day(1).expect("day 1 exists")
                } else {
                    today
                };
                offsets.iter().fold(start, |d, &(n, unit)| match unit {
                    'd' => d + chrono::Duration::days(i64::from(n)),
                    'm' => shift_months(d, n),
                    _ => shift_months(d, n * 12),
                })
            }
        }
    }
}

fn shift_months(d: NaiveDate, n: i32) -> NaiveDate {
    let m = Months::new(n.unsigned_abs());
    let shifted = if n >= 0 {
        d.checked_add_months(m)
    } else {
        d.checked_sub_months(m)
    };
    shifted.unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(s: &str, today: &str) -> String {
        let t = NaiveDate::parse_from_str(today, "%Y%m%d").unwrap();
        DateExpr::parse(s).unwrap().resolve(t).format("%Y%m%d").to_string()
    }

    #[test]
    fn relative_dates() {
        assert_eq!(on("20200401", "20251121"), "20200401");
        assert_eq!(on("2020-04-01", "20251121"), "20200401");
        assert_eq!(on("today", "20251121"), "20251121");
        assert_eq!(on("today-72y", "20251121"), "19531121");
        assert_eq!(on("month-1m", "20251121"), "20251001");
        assert_eq!(on("month-1d", "20251121"), "20251031");
        assert_eq!(on("month-1m+14d", "20250315"), "20250215");
        assert_eq!(on("today+1m", "20250131"), "20250228");
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        for bad in ["yesterday", "today*3", "today-3", "today-xd", "2025-02-30"] {
            let e = DateExpr::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
