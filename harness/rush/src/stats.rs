//! What a rush measures: one HdrHistogram per way and stage (microseconds, counted from the
//! *intended* arrival, so a slow harness or client cannot hide its own delay), the spans of
//! the profile's SLOs, and time series for the charts. Everything merges exactly, so
//! threads, and harness processes on partitions of the facility set, add up to one run.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::profile::{Mark, Slo, Stage, Way};

/// Highest latency recorded: one day, in microseconds (larger values are clamped).
pub const MAX_US: u64 = 86_400_000_000;

/// A new histogram of microseconds with 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid bounds")
}

/// One patient's visit as measured: the moments it passed (µs from the start of the run)
/// and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// How the patient confirmed.
    pub way: Way,
    /// Indexed by `Mark as usize`; `None` for a moment this way does not pass (pickup for
    /// the API) or did not reach (a failed call).
    pub marks: [Option<u64>; 7],
    /// How the visit ended (`valid`, `failed:…`, …).
    pub outcome: String,
    /// The client's answer differed from the World's.
    pub wrong: bool,
}

impl Visit {
    /// The moment `m` of the visit, if it passed it.
    pub fn at(&self, m: Mark) -> Option<u64> {
        self.marks[m as usize]
    }

    /// The duration of a stage, if the visit passed both its ends (a skipped middle moment
    /// makes the next stage start at the moment before it).
    pub fn stage(&self, s: Stage) -> Option<u64> {
        let end_index = s.end() as usize;
        let end = self.marks[end_index]?;
        let start = self.marks[..end_index].iter().rev().find_map(|m| *m)?;
        Some(end.saturating_sub(start))
    }

    /// The time from `from` to `to`, if the visit passed both.
    pub fn span(&self, from: Mark, to: Mark) -> Option<u64> {
        Some(self.at(to)?.saturating_sub(self.at(from)?))
    }
}

/// One SLO's measurements.
#[derive(Debug, Clone)]
pub struct SloTally {
    /// The SLO's span of every visit it applies to.
    pub span: Histogram<u64>,
    /// Visits over the limit, and the time each stage took in them (summed), to name the
    /// stage that took the time.
    pub over: u64,
    /// The time each stage took in them, summed (µs), by stage.
    pub over_stage_us: [u64; 6],
}

/// One time bucket of the charts. Serialised without its latency histogram (that goes to
/// `rush.hlog`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Intended arrivals in this bucket.
    pub arrivals: u64,
    /// Visits that reached the client in this bucket.
    pub completed: u64,
    /// Patient-microseconds spent waiting for a reader / a reception PC (÷ width = mean queue).
    pub waiting_reader_us: u64,
    /// The same for the reception PCs.
    pub waiting_desk_us: u64,
    /// The longest queue at any one facility.
    pub max_queue_reader: u32,
    /// The same for the reception PCs.
    pub max_queue_desk: u32,
    /// End-to-end latency of the visits that arrived in this bucket.
    #[serde(skip, default = "bucket_latency")]
    pub latency: Histogram<u64>,
}

fn bucket_latency() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 2).expect("valid bounds")
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket {
            arrivals: 0,
            completed: 0,
            waiting_reader_us: 0,
            waiting_desk_us: 0,
            max_queue_reader: 0,
            max_queue_desk: 0,
            latency: bucket_latency(),
        }
    }
}

impl Bucket {
    fn add(&mut self, o: &Bucket) {
        self.arrivals += o.arrivals;
        self.completed += o.completed;
        self.waiting_reader_us += o.waiting_reader_us;
        self.waiting_desk_us += o.waiting_desk_us;
        self.max_queue_reader = self.max_queue_reader.max(o.max_queue_reader);
        self.max_queue_desk = self.max_queue_desk.max(o.max_queue_desk);
        self.latency.add(&o.latency).expect("same bounds");
    }
}

/// Which queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// The face-auth readers.
    Reader,
    /// The reception PCs.
    Desk,
}

/// Counters that are not latencies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Intended arrivals by way.
    pub arrivals: BTreeMap<Way, u64>,
    /// Visits that reached the client, by way.
    pub completed: BTreeMap<Way, u64>,
    /// How visits ended (outcome names of the driver protocol, `refused:<reason>` at the
    /// reader, `failed:<why>` when the adapter failed).
    pub outcomes: BTreeMap<String, u64>,
    /// The client's answer differed from what the World answered.
    pub wrong: u64,
    /// Real time: visits the harness started more than the tolerance after their intended
    /// time (their latency still counts from the intended time).
    pub late_starts: u64,
    /// Real time: visits never started or never finished because the run ended.
    pub dropped: u64,
    /// Real time: adapter calls that failed (error, timeout, crash).
    pub failed_calls: u64,
    /// Real time: adapter restarts after a crash or stall.
    pub adapter_restarts: u64,
    /// Real time: the first message seen for each kind of failure (`failed:<why>` → the
    /// adapter's error, the time-out, the exit with its stderr), so a report says what went
    /// wrong and not only how often.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub first_failures: BTreeMap<String, String>,
}

/// Everything a rush measured.
#[derive(Debug, Clone)]
pub struct RushStats {
    /// `[way][stage]`.
    pub stages: Vec<Vec<Histogram<u64>>>,
    /// End-to-end (arrived → imported) per way.
    pub total: Vec<Histogram<u64>>,
    /// Each SLO's measurements, in the profile's order.
    pub slos: Vec<SloTally>,
    /// Width of a chart bucket, µs.
    pub bucket_us: u64,
    /// The chart buckets, over the window.
    pub buckets: Vec<Bucket>,
    /// The counts of visits by way and outcome.
    pub counts: Counts,
    /// Real time: how long after its intended arrival the harness started each visit — the
    /// latency the harness itself adds (it still counts in every visit's latency).
    pub start_lag: Histogram<u64>,
}

impl RushStats {
    /// Empty statistics with buckets of `bucket_us` for `slos`.
    pub fn new(bucket_us: u64, slos: usize) -> Self {
        RushStats {
            stages: Way::ALL
                .iter()
                .map(|_| Stage::ALL.iter().map(|_| histogram()).collect())
                .collect(),
            total: Way::ALL.iter().map(|_| histogram()).collect(),
            slos: (0..slos)
                .map(|_| SloTally {
                    span: histogram(),
                    over: 0,
                    over_stage_us: [0; 6],
                })
                .collect(),
            bucket_us: bucket_us.max(1),
            buckets: Vec::new(),
            counts: Counts::default(),
            start_lag: histogram(),
        }
    }

    fn bucket(&mut self, t_us: u64) -> &mut Bucket {
        let i = (t_us / self.bucket_us) as usize;
        if self.buckets.len() <= i {
            self.buckets.resize_with(i + 1, Bucket::default);
        }
        &mut self.buckets[i]
    }

    /// Counts an intended arrival.
    pub fn arrival(&mut self, way: Way, t_us: u64) {
        *self.counts.arrivals.entry(way).or_default() += 1;
        self.bucket(t_us).arrivals += 1;
    }

    /// Records a finished (or failed) visit.
    pub fn visit(&mut self, v: &Visit, slos: &[Slo]) {
        let w = v.way.index();
        for s in Stage::ALL {
            if let Some(d) = v.stage(s) {
                self.stages[w][s.index()].saturating_record(d);
            }
        }
        // a handful of distinct outcomes: count in place, allocate only for a new one
        match self.counts.outcomes.get_mut(&v.outcome) {
            Some(n) => *n += 1,
            None => {
                self.counts.outcomes.insert(v.outcome.clone(), 1);
            }
        }
        self.counts.wrong += u64::from(v.wrong);
        let (Some(arrived), Some(imported)) = (v.at(Mark::Arrived), v.at(Mark::Imported)) else {
            return;
        };
        *self.counts.completed.entry(v.way).or_default() += 1;
        let total = imported.saturating_sub(arrived);
        self.total[w].saturating_record(total);
        self.bucket(arrived).latency.saturating_record(total);
        self.bucket(imported).completed += 1;
        for (slo, tally) in slos.iter().zip(&mut self.slos) {
            if !slo.applies_to(v.way) {
                continue;
            }
            let Some(span) = v.span(slo.from, slo.to) else { continue };
            tally.span.saturating_record(span);
            if span > slo.max.as_micros() as u64 {
                tally.over += 1;
                for s in Stage::ALL {
                    if s.end() > slo.from
                        && s.end() <= slo.to
                        && let Some(d) = v.stage(s)
                    {
                        tally.over_stage_us[s.index()] += d;
                    }
                }
            }
        }
    }

    /// Adds the time between `from` and `to` one patient spent waiting in `queue`.
    pub fn waited(&mut self, queue: Queue, from_us: u64, to_us: u64) {
        let mut t = from_us;
        while t < to_us {
            let bucket_end = (t / self.bucket_us + 1) * self.bucket_us;
            let until = bucket_end.min(to_us);
            let b = self.bucket(t);
            match queue {
                Queue::Reader => b.waiting_reader_us += until - t,
                Queue::Desk => b.waiting_desk_us += until - t,
            }
            t = until;
        }
    }

    /// Notes that one facility had `len` patients waiting in `queue` at `t_us`.
    pub fn queue_length(&mut self, queue: Queue, t_us: u64, len: u32) {
        let b = self.bucket(t_us);
        match queue {
            Queue::Reader => b.max_queue_reader = b.max_queue_reader.max(len),
            Queue::Desk => b.max_queue_desk = b.max_queue_desk.max(len),
        }
    }

    /// Adds another run's (or thread's, or partition's) statistics.
    pub fn merge(&mut self, o: &RushStats) {
        assert_eq!(self.bucket_us, o.bucket_us, "merging runs with different buckets");
        for (mine, theirs) in self.stages.iter_mut().zip(&o.stages) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                a.add(b).expect("same bounds");
            }
        }
        for (a, b) in self.total.iter_mut().zip(&o.total) {
            a.add(b).expect("same bounds");
        }
        self.start_lag.add(&o.start_lag).expect("same bounds");
        for (a, b) in self.slos.iter_mut().zip(&o.slos) {
            a.span.add(&b.span).expect("same bounds");
            a.over += b.over;
            for (x, y) in a.over_stage_us.iter_mut().zip(b.over_stage_us) {
                *x += y;
            }
        }
        if self.buckets.len() < o.buckets.len() {
            self.buckets.resize_with(o.buckets.len(), Bucket::default);
        }
        for (a, b) in self.buckets.iter_mut().zip(&o.buckets) {
            a.add(b);
        }
        let c = &mut self.counts;
        for (k, v) in &o.counts.arrivals {
            *c.arrivals.entry(*k).or_default() += v;
        }
        for (k, v) in &o.counts.completed {
            *c.completed.entry(*k).or_default() += v;
        }
        for (k, v) in &o.counts.outcomes {
            *c.outcomes.entry(k.clone()).or_default() += v;
        }
        c.wrong += o.counts.wrong;
        c.late_starts += o.counts.late_starts;
        c.dropped += o.counts.dropped;
        c.failed_calls += o.counts.failed_calls;
        c.adapter_restarts += o.counts.adapter_restarts;
        for (k, v) in &o.counts.first_failures {
            c.first_failures.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }

    /// End-to-end latency over all ways.
    pub fn total_all(&self) -> Histogram<u64> {
        let mut h = histogram();
        for t in &self.total {
            h.add(t).expect("same bounds");
        }
        h
    }

    /// One stage over all ways.
    pub fn stage_all(&self, s: Stage) -> Histogram<u64> {
        let mut h = histogram();
        for w in &self.stages {
            h.add(&w[s.index()]).expect("same bounds");
        }
        h
    }

    /// Patients that arrived.
    pub fn arrivals(&self) -> u64 {
        self.counts.arrivals.values().sum()
    }

    /// Visits that reached the client.
    pub fn completed(&self) -> u64 {
        self.counts.completed.values().sum()
    }
}

/// A chart bucket width for a run of `window_us`: a round width giving at most ~120 buckets.
pub fn bucket_width(window_us: u64) -> u64 {
    const S: u64 = 1_000_000;
    [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
        .into_iter()
        .map(|x| x * S)
        .find(|w| window_us / w <= 120)
        .unwrap_or(3600 * S)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn visit(way: Way, marks: [Option<u64>; 7]) -> Visit {
        Visit {
            way,
            marks,
            outcome: "valid".into(),
            wrong: false,
        }
    }

    #[test]
    fn a_skipped_moment_joins_the_stages_around_it() {
        // the API passes no pickup and no write
        let v = visit(
            Way::Api,
            [Some(0), Some(10), Some(30), None, Some(100), None, Some(160)],
        );
        assert_eq!(v.stage(Stage::Queue), Some(10));
        assert_eq!(v.stage(Stage::Reader), Some(20));
        assert_eq!(v.stage(Stage::Pickup), None);
        assert_eq!(v.stage(Stage::National), Some(70));
        assert_eq!(v.stage(Stage::Write), None);
        assert_eq!(v.stage(Stage::Import), Some(60));
        assert_eq!(v.span(Mark::Arrived, Mark::Imported), Some(160));
    }

    #[test]
    fn slo_overruns_are_attributed_to_the_stages_inside_the_span() {
        let slo = Slo {
            id: "S".into(),
            from: Mark::Served,
            to: Mark::Imported,
            percentile: 95.0,
            max: Duration::from_micros(100),
            ways: vec![],
        };
        let mut s = RushStats::new(1_000_000, 1);
        // queue 1000 (outside the span), national 150 → over the limit
        s.visit(
            &visit(
                Way::Face,
                [
                    Some(0),
                    Some(1000),
                    Some(1010),
                    None,
                    Some(1160),
                    Some(1170),
                    Some(1180),
                ],
            ),
            std::slice::from_ref(&slo),
        );
        // within the limit
        s.visit(
            &visit(
                Way::Face,
                [Some(0), Some(0), Some(10), None, Some(20), Some(30), Some(40)],
            ),
            std::slice::from_ref(&slo),
        );
        let t = &s.slos[0];
        assert_eq!((t.span.len(), t.over), (2, 1));
        assert_eq!(t.over_stage_us[Stage::Queue.index()], 0);
        assert_eq!(t.over_stage_us[Stage::National.index()], 150);
        assert_eq!(t.over_stage_us[Stage::Reader.index()], 10);
    }

    #[test]
    fn waiting_time_is_spread_over_the_buckets_it_covers() {
        let mut s = RushStats::new(100, 0);
        s.waited(Queue::Reader, 50, 320);
        let w: Vec<u64> = s.buckets.iter().map(|b| b.waiting_reader_us).collect();
        assert_eq!(w, vec![50, 100, 100, 20]);
    }

    #[test]
    fn merging_partitions_equals_one_run() {
        let slos = [];
        let vs: Vec<Visit> = (0..200u64)
            .map(|i| {
                visit(
                    Way::ALL[(i % 4) as usize],
                    [Some(i * 7), Some(i * 9), None, None, None, None, Some(i * 31 + 5)],
                )
            })
            .collect();
        let mut one = RushStats::new(500, 0);
        let (mut a, mut b) = (RushStats::new(500, 0), RushStats::new(500, 0));
        for (i, v) in vs.iter().enumerate() {
            one.arrival(v.way, v.marks[0].unwrap());
            one.visit(v, &slos);
            let part = if i % 3 == 0 { &mut a } else { &mut b };
            part.arrival(v.way, v.marks[0].unwrap());
            part.visit(v, &slos);
        }
        a.merge(&b);
        assert_eq!(a.total_all(), one.total_all());
        assert_eq!(a.counts, one.counts);
        assert_eq!(
            a.buckets.iter().map(|b| (b.arrivals, b.completed)).collect::<Vec<_>>(),
            one.buckets
                .iter()
                .map(|b| (b.arrivals, b.completed))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn bucket_widths_are_round_and_few() {
        assert_eq!(bucket_width(60 * 1_000_000), 1_000_000);
        assert_eq!(bucket_width(3600 * 1_000_000), 30_000_000);
        assert_eq!(bucket_width(2 * 3600 * 1_000_000), 60_000_000);
    }
}
