//! The time the World runs on.

use chrono::NaiveDateTime;

/// The World's clock (ProcessExecutionTime, consent times, fault windows, token expiry).
pub trait Clock: Send + Sync {
    /// The current time of the World.
    fn now(&self) -> NaiveDateTime;
}

/// Wall-clock time in Japan (JST, UTC+9).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        (chrono::Utc::now() + chrono::Duration::hours(9)).naive_utc()
    }
}
