//! The client on virtual time: given when a result is there for it, when the client has
//! imported it — or when it gave up. The World alone uses the profile's
//! `world.client_import` ([`Drawn`]); the bundled reference client plugs in its own timing
//! (its looks into `res/`, its two reads, its time-out), so a virtual rush of it waits exactly
//! as the real one does.

use onshi_national::faults::Delay;
use onshi_registry::rng::Stream;

use super::profile::Way;

/// How a call to the client ended, in µs of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The client had the result (its outcome is the expected one).
    Imported(u64),
    /// The client gave up waiting (its outcome is `error`, as a real client's would be).
    GaveUp(u64),
}

impl Taken {
    /// When the client had the result, or gave up.
    pub fn at(self) -> u64 {
        match self {
            Taken::Imported(t) | Taken::GaveUp(t) => t,
        }
    }
}

/// A client model for the virtual rush (`run_virtual`).
pub trait VirtualClient: std::fmt::Debug + Send + Sync {
    /// A face result complete in `face/` at `written`; the harness calls `import_face` then.
    fn import_face(&self, written: u64, r: &mut Stream) -> Taken;
    /// A `confirm_qualification` sent at `sent` (the request in `req/`, or the search on its
    /// way) whose result is there at `ready` (complete in `res/`, or the API's answer).
    fn confirm(&self, way: Way, sent: u64, ready: u64, r: &mut Stream) -> Taken;
    /// What the report says the client was, or `None` for the profile's own model.
    fn describe(&self) -> Option<String>;
}

/// A time drawn from `d`, in µs.
pub(crate) fn draw(d: &Delay, r: &mut Stream) -> u64 {
    d.sample(r).as_micros() as u64
}

/// Every result imported a time drawn from `import` after it is there; never gives up.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// How long after the result is there the client has imported it.
    pub import: Delay,
    /// Where the distribution came from (`None`: the profile's `world.client_import`).
    pub origin: Option<String>,
}

impl VirtualClient for Drawn {
    fn import_face(&self, written: u64, r: &mut Stream) -> Taken {
        Taken::Imported(written + draw(&self.import, r))
    }

    fn confirm(&self, _: Way, _: u64, ready: u64, r: &mut Stream) -> Taken {
        Taken::Imported(ready + draw(&self.import, r))
    }

    fn describe(&self) -> Option<String> {
        self.origin.clone()
    }
}
