//! Adding runs up: what one run (or one partition of the facility set) measured, written so
//! that it can be read back exactly — every histogram in `rush.hlog`, an HdrHistogram interval
//! log with one tagged entry per way × stage, way, SLO span and chart bucket, and the counters
//! beside them in `rush.json`'s `raw` — and the merge of several such runs into the report of
//! the whole (`onshi rush PROFILE --merge DIR…`, docs/scaling.md).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use super::profile::{Stage, Way};
use super::simulate::Partition;
use super::stats::{Bucket, Counts, RushStats};

/// The file name of the histogram log beside `rush.json`.
pub const HLOG: &str = "rush.hlog";

/// Why runs cannot be read back or added up.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{what}: {message}")]
    /// A file could not be read or is not a rush report.
    Unreadable {
        /// The file.
        what: String,
        /// What is wrong.
        message: String,
    },
    #[error("the runs do not belong together: {0}")]
    /// The runs do not belong together (another profile, mode, seed, window or split).
    Mismatch(String),
    #[error("nothing to merge")]
    /// No runs were given.
    Empty,
}

fn unreadable(what: &str, message: impl std::fmt::Display) -> MergeError {
    MergeError::Unreadable {
        what: what.to_owned(),
        message: message.to_string(),
    }
}

/// The counters of one SLO (its span histogram is in `rush.hlog`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawSlo {
    /// Visits over the SLO's limit.
    pub over: u64,
    /// The time each stage took in them, summed (µs), by stage.
    pub over_stage_us: [u64; 6],
}

/// What `rush.json` keeps beside the readable report so that runs add up exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raw {
    /// The arrival window, µs.
    pub window_us: u64,
    /// The width of a chart bucket, µs.
    pub bucket_us: u64,
    /// Each bucket's counters (their latency histograms are in `rush.hlog`).
    pub buckets: Vec<Bucket>,
    /// Each SLO's counters, in the profile's order.
    pub slos: Vec<RawSlo>,
}

impl Raw {
    /// The counters of `stats` over `window_us`.
    pub fn of(stats: &RushStats, window_us: u64) -> Raw {
        Raw {
            window_us,
            bucket_us: stats.bucket_us,
            buckets: stats.buckets.clone(),
            slos: stats
                .slos
                .iter()
                .map(|s| RawSlo {
                    over: s.over,
                    over_stage_us: s.over_stage_us,
                })
                .collect(),
        }
    }
}

fn stage_tag(w: Way, s: Stage) -> String {
    format!("stage.{}.{}", w.name(), s.name())
}

fn total_tag(w: Way) -> String {
    format!("total.{}", w.name())
}

/// Every non-empty histogram of `stats` as an interval log (V2, compressed: readable by the
/// HdrHistogram tools of any language). Whole-run histograms span the window; a bucket's
/// latency spans its bucket.
pub fn write_hlog(stats: &RushStats, window_us: u64, out: &mut impl Write) -> Result<(), MergeError> {
    let mut serializer = V2DeflateSerializer::new();
    let mut builder = IntervalLogWriterBuilder::new();
    builder.add_comment(&format!(
        "onshi-rush/1 histograms in microseconds; tags: total.<way>, stage.<way>.<stage>, slo.<n>, start_lag, bucket.<n> (buckets of {} µs)",
        stats.bucket_us
    ));
    let mut log = builder
        .begin_log_with(out, &mut serializer)
        .map_err(|e| unreadable("rush.hlog", e))?;
    let window = Duration::from_micros(window_us);
    let mut entry = |h: &Histogram<u64>, start: Duration, span: Duration, tag: &str| {
        if h.is_empty() {
            return Ok(());
        }
        log.write_histogram(h, start, span, Tag::new(tag))
            .map_err(|e| unreadable("rush.hlog", e))
    };
    for w in Way::ALL {
        entry(&stats.total[w.index()], Duration::ZERO, window, &total_tag(w))?;
        for s in Stage::ALL {
            entry(
                &stats.stages[w.index()][s.index()],
                Duration::ZERO,
                window,
                &stage_tag(w, s),
            )?;
        }
    }
    for (i, slo) in stats.slos.iter().enumerate() {
        entry(&slo.span, Duration::ZERO, window, &format!("slo.{i}"))?;
    }
    entry(&stats.start_lag, Duration::ZERO, window, "start_lag")?;
    let width = Duration::from_micros(stats.bucket_us);
    for (i, b) in stats.buckets.iter().enumerate() {
        entry(&b.latency, width * i as u32, width, &format!("bucket.{i}"))?;
    }
    Ok(())
}

/// The tagged histograms of an interval log.
fn read_hlog(bytes: &[u8]) -> Result<BTreeMap<String, Histogram<u64>>, MergeError> {
    let mut out = BTreeMap::new();
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|e| unreadable("rush.hlog", format!("not an interval log ({e:?})")))?;
        let LogEntry::Interval(h) = entry else { continue };
        let tag = h.tag().map(|t| t.as_str().to_owned()).unwrap_or_default();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(h.encoded_histogram())
            .map_err(|e| unreadable("rush.hlog", format!("entry {tag:?}: {e}")))?;
        let hist: Histogram<u64> = deserializer
            .deserialize(&mut raw.as_slice())
            .map_err(|e| unreadable("rush.hlog", format!("entry {tag:?}: {e:?}")))?;
        if out.insert(tag.clone(), hist).is_some() {
            return Err(unreadable("rush.hlog", format!("entry {tag:?} appears twice")));
        }
    }
    Ok(out)
}

/// One run read back.
#[derive(Debug, Clone)]
pub struct Part {
    /// The profile's id.
    pub profile: String,
    /// `virtual` or `real`.
    pub mode: String,
    /// The seed.
    pub seed: u64,
    /// The partitions `k` of `of` the run holds: one for a run, several for a partial merge.
    pub partitions: BTreeSet<u64>,
    /// Into how many partitions the facilities were split.
    pub of: u64,
    /// The facilities of the run.
    pub facilities: u64,
    /// How long the run took, in seconds.
    pub elapsed_s: f64,
    /// The arrival window, µs.
    pub window_us: u64,
    /// Its statistics.
    pub stats: RushStats,
}

/// Reads a report's partition label: none (the whole set), `k/n`, or a partial merge's
/// `k,l,…/n`.
fn parse_partitions(label: Option<&str>) -> Result<(BTreeSet<u64>, u64), String> {
    let Some(label) = label else {
        return Ok((BTreeSet::from([0]), 1));
    };
    let (ks, n) = label
        .rsplit_once('/')
        .ok_or_else(|| format!("{label:?} is not a partition label"))?;
    let mut out = BTreeSet::new();
    let mut of = 1;
    for k in ks.split(',') {
        let p: Partition = format!("{k}/{n}").parse()?;
        of = p.of;
        if !out.insert(p.index) {
            return Err(format!("{label:?} names partition {k} twice"));
        }
    }
    Ok((out, of))
}

/// The fields of `rush.json` a merge needs.
#[derive(Deserialize)]
struct Header {
    format: String,
    profile: String,
    mode: String,
    seed: u64,
    facilities: u64,
    partition: Option<String>,
    elapsed_s: f64,
    counts: Counts,
    raw: Option<Raw>,
}

/// Reads one run from its `rush.json` and `rush.hlog`.
pub fn read_part(json: &[u8], hlog: &[u8]) -> Result<Part, MergeError> {
    let h: Header = serde_json::from_slice(json).map_err(|e| unreadable("rush.json", e))?;
    if h.format != "onshi-rush/1" {
        return Err(unreadable(
            "rush.json",
            format!("format {:?}, not onshi-rush/1", h.format),
        ));
    }
    let raw = h
        .raw
        .ok_or_else(|| unreadable("rush.json", "no `raw` section (written by an older onshi)"))?;
    let (partitions, of) = parse_partitions(h.partition.as_deref()).map_err(|e| unreadable("rush.json", e))?;
    let mut hists = read_hlog(hlog)?;
    let mut take = |tag: &str, into: &mut Histogram<u64>| -> Result<(), MergeError> {
        if let Some(h) = hists.remove(tag) {
            into.add(&h)
                .map_err(|e| unreadable("rush.hlog", format!("entry {tag:?}: {e:?}")))?;
        }
        Ok(())
    };
    let mut stats = RushStats::new(raw.bucket_us, raw.slos.len());
    for w in Way::ALL {
        take(&total_tag(w), &mut stats.total[w.index()])?;
        for s in Stage::ALL {
            take(&stage_tag(w, s), &mut stats.stages[w.index()][s.index()])?;
        }
    }
    take("start_lag", &mut stats.start_lag)?;
    for (i, (tally, r)) in stats.slos.iter_mut().zip(&raw.slos).enumerate() {
        take(&format!("slo.{i}"), &mut tally.span)?;
        tally.over = r.over;
        tally.over_stage_us = r.over_stage_us;
    }
    for (i, mut b) in raw.buckets.into_iter().enumerate() {
        take(&format!("bucket.{i}"), &mut b.latency)?;
        stats.buckets.push(b);
    }
    if let Some(tag) = hists.keys().next() {
        return Err(unreadable(
            "rush.hlog",
            format!("entry {tag:?} belongs to nothing in rush.json"),
        ));
    }
    stats.counts = h.counts;
    Ok(Part {
        profile: h.profile,
        mode: h.mode,
        seed: h.seed,
        partitions,
        of,
        facilities: h.facilities,
        elapsed_s: h.elapsed_s,
        window_us: raw.window_us,
        stats,
    })
}

/// Several runs added up.
#[derive(Debug)]
pub struct Merged {
    /// The statistics added up.
    pub stats: RushStats,
    /// `virtual` or `real`.
    pub mode: String,
    /// The seed of the runs.
    pub seed: u64,
    /// The arrival window, µs.
    pub window_us: u64,
    /// The facilities of all the runs.
    pub facilities: u64,
    /// The longest of the runs' elapsed times (they ran side by side).
    pub elapsed_s: f64,
    /// `None` when the partitions make up the whole facility set; otherwise which ones are
    /// here (`0,2/3`).
    pub partition: Option<String>,
}

/// Adds up runs of one profile, one at a time (a run read is folded in and dropped, so
/// memory does not grow with the number of partitions). The runs must have the same mode,
/// seed and window, and hold distinct partitions of one split (`k/n` with the same `n`; a
/// partial merge's `k,l/n` counts as its partitions, so it can be merged again).
#[derive(Debug)]
pub struct Merger {
    profile: String,
    merged: Option<Merged>,
    of: u64,
    seen: BTreeSet<u64>,
}

impl Merger {
    /// A merger for runs of `profile`.
    pub fn new(profile: &str) -> Merger {
        Merger {
            profile: profile.to_owned(),
            merged: None,
            of: 0,
            seen: BTreeSet::new(),
        }
    }

    /// Folds in one run; refuses one that does not belong with those before.
    pub fn add(&mut self, p: Part) -> Result<(), MergeError> {
        if p.profile != self.profile {
            return Err(MergeError::Mismatch(format!(
                "a run is of profile {:?}, not {:?}",
                p.profile, self.profile
            )));
        }
        let Some(m) = &mut self.merged else {
            self.of = p.of;
            self.seen = p.partitions;
            self.merged = Some(Merged {
                mode: p.mode,
                seed: p.seed,
                window_us: p.window_us,
                facilities: p.facilities,
                elapsed_s: p.elapsed_s,
                partition: None,
                stats: p.stats,
            });
            return Ok(());
        };
        let differs = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            MergeError::Mismatch(format!("one run has {what} {a}, another {b}"))
        };
        if p.mode != m.mode {
            return Err(differs("mode", &m.mode, &p.mode));
        }
        if p.seed != m.seed {
            return Err(differs("seed", &m.seed, &p.seed));
        }
        if p.window_us != m.window_us {
            return Err(differs("a window of µs", &m.window_us, &p.window_us));
        }
        if p.of != self.of {
            return Err(differs("partitions of", &self.of, &p.of));
        }
        if p.stats.bucket_us != m.stats.bucket_us || p.stats.slos.len() != m.stats.slos.len() {
            return Err(MergeError::Mismatch(
                "the runs have different chart buckets or SLOs".into(),
            ));
        }
        if let Some(k) = p.partitions.intersection(&self.seen).next() {
            return Err(MergeError::Mismatch(format!(
                "partition {k}/{} is given twice",
                self.of
            )));
        }
        self.seen.extend(&p.partitions);
        m.stats.merge(&p.stats);
        m.facilities += p.facilities;
        m.elapsed_s = m.elapsed_s.max(p.elapsed_s);
        Ok(())
    }

    /// The sum; `partition` says which partitions it holds unless it is the whole set.
    pub fn finish(self) -> Result<Merged, MergeError> {
        let mut m = self.merged.ok_or(MergeError::Empty)?;
        let of = self.of;
        m.partition = (self.seen.len() as u64 != of).then(|| {
            let ks: Vec<String> = self.seen.iter().map(u64::to_string).collect();
            format!("{}/{of}", ks.join(","))
        });
        Ok(m)
    }
}

/// Adds up `parts` (see [`Merger`]).
pub fn merge(parts: Vec<Part>, profile: &str) -> Result<Merged, MergeError> {
    let mut m = Merger::new(profile);
    for p in parts {
        m.add(p)?;
    }
    m.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Mark;
    use crate::stats::{Queue, Visit};

    /// A run with a few visits of every way, a failed call, queues and an SLO.
    fn run(seed: u64) -> RushStats {
        let mut s = RushStats::new(10_000_000, 1);
        for i in 0..40u64 {
            let way = Way::ALL[((i + seed) % 4) as usize];
            let t = i * 1_500_000 + seed;
            s.arrival(way, t);
            let mut marks = [None; 7];
            for (k, m) in Mark::ALL.iter().enumerate() {
                marks[*m as usize] = Some(t + k as u64 * (200_000 + i * 7_919 + seed));
            }
            let failed = i % 13 == 5;
            if failed {
                marks[Mark::Imported as usize] = None;
            }
            let outcome = if failed { "failed:timeout" } else { "valid" };
            s.visit(
                &Visit {
                    way,
                    marks,
                    outcome: outcome.into(),
                    wrong: i % 17 == 3,
                },
                &[],
            );
            s.waited(Queue::Reader, t, t + 3_000_000);
            s.queue_length(Queue::Desk, t, (i % 4) as u32);
            s.slos[0].span.saturating_record(i * 100_000 + seed);
            s.start_lag.saturating_record(i * 31 + seed);
        }
        s.slos[0].over = 3 + seed;
        s.slos[0].over_stage_us = [1, 2, 3, 4, 5, seed];
        s.counts.failed_calls = 3;
        s.counts
            .first_failures
            .insert("failed:timeout".into(), format!("confirm_qualification: run {seed}"));
        s
    }

    fn json(stats: &RushStats, partition: Option<&str>, facilities: u64) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "format": "onshi-rush/1",
            "profile": "p",
            "mode": "virtual",
            "seed": 1,
            "facilities": facilities,
            "partition": partition,
            "elapsed_s": 0.5,
            "counts": stats.counts,
            "raw": Raw::of(stats, 60_000_000),
        }))
        .unwrap()
    }

    fn hlog(stats: &RushStats) -> Vec<u8> {
        let mut out = Vec::new();
        write_hlog(stats, 60_000_000, &mut out).unwrap();
        out
    }

    fn assert_same(a: &RushStats, b: &RushStats) {
        assert_eq!(a.stages, b.stages);
        assert_eq!(a.total, b.total);
        assert_eq!(a.start_lag, b.start_lag);
        assert_eq!(a.counts, b.counts);
        assert_eq!(a.bucket_us, b.bucket_us);
        assert_eq!(a.buckets.len(), b.buckets.len());
        assert_eq!(a.buckets, b.buckets);
        assert_eq!(a.slos[0].span, b.slos[0].span);
        assert_eq!(
            (a.slos[0].over, a.slos[0].over_stage_us),
            (b.slos[0].over, b.slos[0].over_stage_us)
        );
    }

    #[test]
    fn a_run_reads_back_exactly() {
        let s = run(1);
        let part = read_part(&json(&s, None, 5), &hlog(&s)).unwrap();
        assert_same(&s, &part.stats);
        assert_eq!(
            (part.partitions, part.of, part.facilities, part.window_us),
            (BTreeSet::from([0]), 1, 5, 60_000_000)
        );
        let text = String::from_utf8(hlog(&s)).unwrap();
        assert!(
            text.contains(",stage.face.queue") || text.contains("Tag=stage.face.queue"),
            "{text}"
        );
    }

    #[test]
    fn partitions_merge_into_the_sum_and_say_when_one_is_missing() {
        let parts: Vec<Part> = (0..3)
            .map(|k| {
                let s = run(k);
                read_part(&json(&s, Some(&format!("{k}/3")), 10), &hlog(&s)).unwrap()
            })
            .collect();
        let mut expected = run(0);
        expected.merge(&run(1));
        expected.merge(&run(2));
        let merged = merge(parts.clone(), "p").unwrap();
        assert_same(&expected, &merged.stats);
        assert_eq!((merged.facilities, merged.partition), (30, None));
        let partial = merge(vec![parts[0].clone(), parts[2].clone()], "p").unwrap();
        assert_eq!(partial.partition.as_deref(), Some("0,2/3"));
        // a partial merge is merged again with the partition it lacks
        let again = read_part(
            &json(&partial.stats, partial.partition.as_deref(), partial.facilities),
            &hlog(&partial.stats),
        )
        .unwrap();
        assert_eq!((again.partitions.len(), again.of), (2, 3));
        let whole = merge(vec![again.clone(), parts[1].clone()], "p").unwrap();
        assert_same(&expected, &whole.stats);
        assert_eq!((whole.facilities, whole.partition), (30, None));
        let twice = merge(vec![again, parts[2].clone()], "p").unwrap_err().to_string();
        assert!(twice.contains("2/3 is given twice"), "{twice}");
        // the first message of a failure kind comes from the first run given
        assert_eq!(
            merged.stats.counts.first_failures["failed:timeout"],
            "confirm_qualification: run 0"
        );
    }

    #[test]
    fn runs_that_do_not_belong_together_are_refused() {
        let s = run(0);
        let part = |p: &str| read_part(&json(&s, Some(p), 1), &hlog(&s)).unwrap();
        let twice = merge(vec![part("0/2"), part("0/2")], "p").unwrap_err().to_string();
        assert!(twice.contains("0/2 is given twice"), "{twice}");
        let split = merge(vec![part("0/2"), part("1/3")], "p").unwrap_err().to_string();
        assert!(split.contains("partitions of"), "{split}");
        for bad in ["0,0/2", "0,2/2", "x/2", "0,1"] {
            let e = read_part(&json(&s, Some(bad), 1), &hlog(&s)).unwrap_err().to_string();
            assert!(e.contains("rush.json"), "{bad}: {e}");
        }
        let other = merge(vec![part("0/2")], "q").unwrap_err().to_string();
        assert!(other.contains("not \"q\""), "{other}");
        assert!(matches!(merge(vec![], "p"), Err(MergeError::Empty)));
    }

    #[test]
    fn damaged_files_get_a_clear_error() {
        let s = run(0);
        let (j, h) = (json(&s, None, 1), hlog(&s));
        let err = |j: &[u8], h: &[u8]| read_part(j, h).unwrap_err().to_string();
        assert!(err(&j[..j.len() / 2], &h).starts_with("rush.json:"));
        let mut no_raw: serde_json::Value = serde_json::from_slice(&j).unwrap();
        no_raw.as_object_mut().unwrap().remove("raw");
        assert!(err(&serde_json::to_vec(&no_raw).unwrap(), &h).contains("no `raw` section"));
        assert!(err(&j, b"not a log\n").starts_with("rush.hlog:"));
        // a histogram cut short
        let text = String::from_utf8(h.clone()).unwrap();
        let line = text.lines().find(|l| l.starts_with("Tag=")).unwrap();
        let cut = text.replace(line, &line[..line.len() - 20]);
        assert!(
            err(&j, cut.as_bytes()).starts_with("rush.hlog:"),
            "{}",
            err(&j, cut.as_bytes())
        );
        // an entry rush.json does not know
        let extra = format!("{text}{}\n", line.replacen("Tag=", "Tag=other-", 1));
        assert!(
            err(&j, extra.as_bytes()).contains("belongs to nothing"),
            "{}",
            err(&j, extra.as_bytes())
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_bytes_give_an_answer_not_a_panic(cut in 0usize..4000, flip in 0usize..4000, byte: u8) {
            let s = run(2);
            let (j, mut h) = (json(&s, None, 1), hlog(&s));
            if !h.is_empty() {
                let i = flip % h.len();
                h[i] = byte;
            }
            h.truncate(cut.min(h.len()));
            let _ = read_part(&j, &h);
        }
    }
}
