//! What a rush will cost before it starts: patients, memory and wall time, from the profile
//! alone, and the ceilings above which `onshi rush` refuses to start unless forced. A profile
//! within every per-field limit can still describe days of work (100,000 facilities × 1,000
//! patients a minute × 24 h); this says so up front instead of running silently.
//!
//! The per-patient costs are measured figures (docs/performance.md); they are estimates, not
//! promises, and are rounded up.

use std::time::Duration;

use super::Profile;
use super::simulate::Partition;

/// Virtual time: simulated visits per second per thread (measured: about 1.7 million on the
/// 2-core CI machine; rounded down so the time is not underestimated).
pub const VIRTUAL_VISITS_PER_THREAD_S: f64 = 1_500_000.0;
/// Virtual time: bytes per patient of the facility being simulated, per thread (the
/// patient, its visit record and its waits; one facility at a time per thread).
pub const VIRTUAL_BYTES_PER_PATIENT: f64 = 256.0;
/// Real time: bytes per patient kept until the end (plan entry, visit record, tapped events).
pub const REAL_BYTES_PER_PATIENT: f64 = 1024.0;
/// Real time: bytes per facility (its reader and PC queues, its slot in the plan).
pub const REAL_BYTES_PER_FACILITY: f64 = 256.0;
/// Memory of the harness before any patient: the World, statistics, histograms.
pub const BASE_BYTES: f64 = 64.0 * 1024.0 * 1024.0;

/// Ceilings above which a run is refused unless forced (`--force`).
pub const MAX_VIRTUAL_PATIENTS: f64 = 1_000_000_000.0;
/// The most patients a real-time run may plan without `--force`.
pub const MAX_REAL_PATIENTS: f64 = 2_000_000.0;
/// The most memory (bytes) a run may be expected to need without `--force`.
pub const MAX_MEMORY_BYTES: f64 = 2.0 * 1024.0 * 1024.0 * 1024.0;
/// Real time: the most patients per second the harness is known to drive on 2 cores with the
/// reference client (docs/performance.md); more arrive late and the latencies are the
/// harness's, not the client's.
pub const REAL_PATIENTS_PER_S: f64 = 1_600.0;

/// The cost of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The facilities of the partition.
    pub facilities: u64,
    /// Expected patients over the window (all facilities of the partition).
    pub patients: f64,
    /// Expected patients of the busiest facility (virtual time holds one facility's
    /// patients at a time per thread).
    pub busiest_facility: f64,
    /// The memory the run is expected to need, in bytes.
    pub memory_bytes: f64,
    /// How long the run is expected to take.
    pub wall: Duration,
    /// Real time: the highest arrival rate, patients per second over all facilities.
    pub peak_per_s: f64,
}

/// How a run is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Virtual time on this many threads, on a machine with this many CPUs.
    /// Virtual time.
    Virtual {
        /// Worker threads.
        threads: usize,
        /// The machine's CPUs.
        cpus: usize,
    },
    /// Real time, with this much time after the window for visits under way.
    /// Real time.
    Real {
        /// Time after the window for visits under way.
        drain: Duration,
    },
}

/// The estimate for `profile` over `window_us`, on `partition`.
pub fn estimate(profile: &Profile, window_us: u64, partition: Partition, mode: Mode) -> Estimate {
    let window_ms = window_us / 1000;
    let total = profile.facility_count();
    let facilities = partition.count(total);
    let share = if total == 0 {
        0.0
    } else {
        facilities as f64 / total as f64
    };
    let patients = profile.expected_patients(window_ms) * share;
    let busiest_facility = profile
        .facilities
        .iter()
        .map(|g| g.curve.expected(window_ms))
        .fold(0.0, f64::max);
    let peak_per_s = profile
        .facilities
        .iter()
        .map(|g| g.count as f64 * share * g.curve.max_rate(window_ms) / 60.0)
        .sum();
    let (memory_bytes, wall) = match mode {
        Mode::Virtual { threads, cpus } => {
            let busy = threads.clamp(1, cpus.max(1)) as f64;
            let threads = threads.max(1) as f64;
            let memory = BASE_BYTES + threads * busiest_facility * VIRTUAL_BYTES_PER_PATIENT;
            let secs = patients / (VIRTUAL_VISITS_PER_THREAD_S * busy);
            (memory, Duration::from_secs_f64(secs.min(1e12)))
        }
        Mode::Real { drain } => {
            let memory = BASE_BYTES + facilities as f64 * REAL_BYTES_PER_FACILITY + patients * REAL_BYTES_PER_PATIENT;
            (memory, Duration::from_micros(window_us) + drain)
        }
    };
    Estimate {
        facilities,
        patients,
        busiest_facility,
        memory_bytes,
        wall,
        peak_per_s,
    }
}

impl Estimate {
    /// Why the run should not start without `--force`, if it should not: each ceiling it
    /// passes, with the figure.
    pub fn over_ceilings(&self, mode: Mode) -> Vec<String> {
        let mut over = Vec::new();
        let patients_cap = match mode {
            Mode::Virtual { .. } => MAX_VIRTUAL_PATIENTS,
            Mode::Real { .. } => MAX_REAL_PATIENTS,
        };
        if self.patients > patients_cap {
            over.push(format!(
                "about {} patients — the ceiling is {} {}",
                count(self.patients),
                count(patients_cap),
                match mode {
                    Mode::Virtual { .. } => "on virtual time",
                    Mode::Real { .. } => "in real time",
                }
            ));
        }
        if self.memory_bytes > MAX_MEMORY_BYTES {
            over.push(format!(
                "about {} of memory — the ceiling is {}",
                bytes(self.memory_bytes),
                bytes(MAX_MEMORY_BYTES)
            ));
        }
        over
    }

    /// One line for the console: what the run will cost.
    pub fn line(&self, mode: Mode) -> String {
        let how = match mode {
            Mode::Virtual { threads, .. } => format!("{} on {threads} thread(s)", human_duration(self.wall)),
            Mode::Real { .. } => format!("{} at most (window + drain)", human_duration(self.wall)),
        };
        format!(
            "about {} patients at {} facilities; {how}; about {} of memory",
            count(self.patients),
            count(self.facilities as f64),
            bytes(self.memory_bytes)
        )
    }
}

/// "1,584,812"
pub fn count(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "812 MiB", "3.4 GiB"
pub fn bytes(x: f64) -> String {
    let mib = x / (1024.0 * 1024.0);
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

/// "about 40 s", "about 12 min", "about 3.5 h", "about 17 days"
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        "under a second".into()
    } else if s < 120.0 {
        format!("about {s:.0} s")
    } else if s < 7200.0 {
        format!("about {:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("about {:.1} h", s / 3600.0)
    } else {
        format!("about {:.0} days", s / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onshi_registry::Registry;

    /// The shipped clinic morning with `facilities` clinics on a flat curve, for 24 hours.
    fn profile(facilities: u64, per_minute: f64) -> Profile {
        let shipped = include_str!("../../../scenarios/rush/clinic-morning.toml");
        let curve_start = shipped.find("points = [").unwrap();
        let curve_end = curve_start + shipped[curve_start..].find("]\n").unwrap() + 2;
        let text = format!(
            "{}points = [{{ at = \"0m\", per_minute = {per_minute} }}]\n{}",
            &shipped[..curve_start],
            &shipped[curve_end..]
        )
        .replace("duration = \"4h\"", "duration = \"24h\"")
        .replace("[[facility]]\n", &format!("[[facility]]\ncount = {facilities}\n"));
        let date = chrono::NaiveDate::from_ymd_opt(2025, 11, 21).unwrap();
        super::super::load_profile(&text, "t", &Registry::embedded(date, 0)).unwrap()
    }

    #[test]
    fn a_profile_within_every_field_limit_can_still_be_too_big_and_says_how_big() {
        let p = profile(100_000, 1000.0);
        let day = 24 * 3600 * 1_000_000;
        let mode = Mode::Virtual { threads: 2, cpus: 2 };
        let e = estimate(&p, day, Partition::WHOLE, mode);
        assert_eq!(e.patients, 100_000.0 * 1000.0 * 1440.0);
        assert_eq!(e.busiest_facility, 1_440_000.0);
        // 144 billion visits at 3 million a second: more than half a day
        assert!(e.wall > Duration::from_secs(40_000), "{:?}", e.wall);
        let over = e.over_ceilings(mode);
        assert_eq!(over.len(), 1, "{over:?}");
        assert!(over[0].contains("144,000,000,000 patients"), "{over:?}");

        // the same on a tenth of the facilities of one partition: 1/10 of the patients
        let part: Partition = "0/10".parse().unwrap();
        assert_eq!(estimate(&p, day, part, mode).patients, e.patients / 10.0);

        // real time keeps every visit: a small run fits, a big one passes the memory ceiling
        let real = Mode::Real {
            drain: Duration::from_secs(120),
        };
        let small = estimate(&profile(1, 10.0), 3600 * 1_000_000, Partition::WHOLE, real);
        assert!(small.over_ceilings(real).is_empty(), "{small:?}");
        assert_eq!(small.wall, Duration::from_secs(3720));
        let big = estimate(&profile(1000, 60.0), day, Partition::WHOLE, real);
        assert_eq!(big.over_ceilings(real).len(), 2, "{:?}", big.over_ceilings(real));
        assert_eq!(big.peak_per_s, 1000.0);
    }
}
