//! When the reference client acts — its looks into `res/`, the gap between the two reads
//! that make a file trusted, its time-out — as plain arithmetic on durations since a call
//! started. The client's loops on the wall clock follow these functions, and a rush on
//! virtual time asks the same functions when the client would have had a result, so the
//! simulated reference client waits exactly as the real one does.

use std::time::Duration;

use crate::defects::Defect;
use crate::folder::{ClientStyle, Options};

/// The reference client's timing, from its [`Options`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Looks into `res/` at 0, `poll`, 2·`poll`, … after the request was written.
    pub poll: Duration,
    /// A file is trusted after two identical reads this far apart.
    pub stable_gap: Duration,
    /// The call gives up at the first look at or after this (when the harness gives none).
    pub timeout: Duration,
    /// The `no-timeout` defect: waits for ever, whatever the harness says.
    pub never_gives_up: bool,
    /// Defects that trust the first read of a face file or of a result.
    pub eager_face: bool,
    /// The same for results.
    pub eager_result: bool,
}

/// How a call ended on the timeline of [`Timing`]: when the client had the result, or when it
/// gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The client had the result at this time.
    Imported(Duration),
    /// The client gave up at this time.
    GaveUp(Duration),
}

impl Timing {
    /// The timing of a client with `options`.
    pub fn of(options: &Options) -> Timing {
        let has = |d| options.defects.contains(&d);
        Timing {
            poll: Duration::from_millis(options.poll_ms.max(1)),
            // the stable-read style is the cautious client of reference §10.3
            stable_gap: Duration::from_millis(match options.style {
                ClientStyle::StableRead => options.stable_ms.max(300),
                _ => options.stable_ms,
            }),
            timeout: Duration::from_millis(options.timeout_ms),
            never_gives_up: has(Defect::NoTimeout),
            eager_face: has(Defect::EagerFaceRead),
            eager_result: has(Defect::EagerResultRead),
        }
    }

    /// The call's time-out: the harness's, else the client's own.
    pub fn timeout_or(&self, timeout_ms: Option<u64>) -> Duration {
        if self.never_gives_up {
            return Duration::from_secs(365 * 24 * 3600);
        }
        timeout_ms.map_or(self.timeout, Duration::from_millis)
    }

    /// The first look at or after `since_sent`.
    pub fn look_at_or_after(&self, since_sent: Duration) -> Duration {
        let poll = self.poll.as_nanos();
        let k = since_sent.as_nanos().div_ceil(poll);
        Duration::from_nanos((k * poll).min(u64::MAX as u128) as u64)
    }

    /// The look after the one due at or before `since_sent` — where the wall-clock loop
    /// sleeps to, so that looks stay on the grid however long a look took.
    pub fn next_look(&self, since_sent: Duration) -> Duration {
        self.look_at_or_after(since_sent + Duration::from_nanos(1))
    }

    /// How long a read file takes to be trusted: one gap and a second read, unless eager.
    pub fn trust(&self, eager: bool) -> Duration {
        if eager { Duration::ZERO } else { self.stable_gap }
    }

    /// A face result complete in `face/` when `import_face` is called: imported after the
    /// two reads.
    pub fn face_import(&self) -> Duration {
        self.trust(self.eager_face)
    }

    /// A request written to `req/` at 0 whose result is complete in `res/` at `ready`: the
    /// first look that sees it reads it twice; without one before the time-out, the client
    /// gives up at the first look at or after the time-out.
    pub fn folder_result(&self, ready: Duration, timeout: Duration) -> Taken {
        let seen = self.look_at_or_after(ready);
        let last = self.look_at_or_after(timeout);
        if seen <= last {
            Taken::Imported(seen + self.trust(self.eager_result))
        } else {
            Taken::GaveUp(last)
        }
    }

    /// An API search sent at 0 answered at `answered`: the answer is there at once, unless it
    /// comes after the time-out.
    pub fn api_result(&self, answered: Duration, timeout: Duration) -> Taken {
        if answered <= timeout {
            Taken::Imported(answered)
        } else {
            Taken::GaveUp(timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn looks_stay_on_the_poll_grid() {
        let t = Timing::of(&Options::default());
        assert_eq!(t.poll, ms(25));
        assert_eq!(t.look_at_or_after(ms(0)), ms(0));
        assert_eq!(t.look_at_or_after(ms(1)), ms(25));
        assert_eq!(t.look_at_or_after(ms(25)), ms(25));
        assert_eq!(t.next_look(ms(25)), ms(50));
        // a look that took long does not shift the grid
        assert_eq!(t.next_look(ms(61)), ms(75));
    }

    #[test]
    fn a_result_is_taken_at_the_next_look_and_trusted_after_the_gap() {
        let t = Timing::of(&Options::default());
        assert_eq!(t.folder_result(ms(130), ms(30_000)), Taken::Imported(ms(150 + 100)));
        assert_eq!(t.face_import(), ms(100));
        let eager = Timing::of(&Options {
            defects: vec![Defect::EagerResultRead, Defect::EagerFaceRead],
            ..Options::default()
        });
        assert_eq!(eager.folder_result(ms(130), ms(30_000)), Taken::Imported(ms(150)));
        assert_eq!(eager.face_import(), Duration::ZERO);
        let cautious = Timing::of(&Options {
            style: ClientStyle::StableRead,
            ..Options::default()
        });
        assert_eq!(cautious.face_import(), ms(300));
    }

    #[test]
    fn a_late_result_means_giving_up_at_the_look_after_the_time_out() {
        let t = Timing::of(&Options::default());
        // the last look is at the time-out itself (on the grid) and still sees the result
        assert_eq!(t.folder_result(ms(1_000), ms(1_000)), Taken::Imported(ms(1_100)));
        assert_eq!(t.folder_result(ms(1_001), ms(1_000)), Taken::GaveUp(ms(1_000)));
        assert_eq!(t.folder_result(ms(1_001), ms(1_010)), Taken::Imported(ms(1_125)));
        assert_eq!(t.folder_result(ms(2_000), ms(1_010)), Taken::GaveUp(ms(1_025)));
        assert_eq!(t.api_result(ms(900), ms(1_000)), Taken::Imported(ms(900)));
        assert_eq!(t.api_result(ms(1_001), ms(1_000)), Taken::GaveUp(ms(1_000)));
        assert_eq!(t.timeout_or(None), ms(30_000));
        assert_eq!(t.timeout_or(Some(5)), ms(5));
        let patient = Timing::of(&Options {
            defects: vec![Defect::NoTimeout],
            ..Options::default()
        });
        assert!(patient.timeout_or(Some(5)) > ms(86_400_000));
    }
}
