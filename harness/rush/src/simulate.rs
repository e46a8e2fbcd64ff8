//! A rush on virtual time: every facility simulated from the seed alone, so a two-hour
//! morning of a whole country runs in seconds and two runs (or two machines running
//! partitions of the facility set) agree to the microsecond.
//!
//! Per facility: open arrivals from the curve (a non-homogeneous Poisson process drawn by
//! thinning) feed the facility's readers (one patient each at a time, first come first
//! served); a reader stays busy until the result is written, as the real reader shows the
//! result screen. Desk patients queue for the reception PCs, where staff type the insurance
//! card in and wait for the answer; face results are imported by the client as they appear.
//! Machine steps are drawn from the profile's `[world]` distributions; the client is a
//! [`VirtualClient`]: the profile's `world.client_import`, or a model of a real client (the
//! reference client's own timing, or one fitted from a measured run).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use onshi_registry::rng::{Stream, mix};
use onshi_registry::{Lookup, Registry, Validity};

use super::client::{Drawn, Taken, VirtualClient, draw};
use super::profile::{FacilityGroup, Mark, Profile, Way};
use super::stats::{Queue, RushStats, Visit, bucket_width};
use onshi_harness::spec::{CardSpec, PeriodChoice};

/// Which facilities this process simulates: those whose index `i` has `i % of == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// This process's partition, from 0.
    pub index: u64,
    /// Into how many partitions the facilities are split.
    pub of: u64,
}

impl Partition {
    /// All the facilities.
    pub const WHOLE: Partition = Partition { index: 0, of: 1 };

    /// Whether this partition runs `facility`.
    pub fn contains(&self, facility: u64) -> bool {
        facility % self.of == self.index
    }

    /// How many of `total` facilities this partition holds.
    pub fn count(&self, total: u64) -> u64 {
        (total + self.of - 1 - self.index) / self.of
    }

    /// `k/n` for a report, or `None` for the whole set.
    pub fn label(&self) -> Option<String> {
        (*self != Partition::WHOLE).then(|| format!("{}/{}", self.index, self.of))
    }
}

impl std::str::FromStr for Partition {
    type Err = String;

    /// `K/N` with 0 ≤ K < N.
    fn from_str(s: &str) -> Result<Partition, String> {
        let bad = || format!("{s:?} is not a partition K/N with 0 ≤ K < N");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, of): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if of == 0 || index >= of {
            return Err(bad());
        }
        Ok(Partition { index, of })
    }
}

/// Options of a virtual run.
#[derive(Debug, Clone)]
pub struct VirtualOptions {
    /// The seed of the arrivals and of the generated patients.
    pub seed: u64,
    /// The arrival window (the profile's duration unless overridden).
    pub window_us: u64,
    /// Which facilities this process runs.
    pub partition: Partition,
    /// Worker threads (facilities are independent).
    pub threads: usize,
    /// The client (`None`: the profile's `world.client_import`).
    pub client: Option<Arc<dyn VirtualClient>>,
}

/// How a visit ends, worked out once per kind of patient before the run: from the registry
/// for the query, and by running the reader model against the patient's virtual card.
#[derive(Debug, Clone)]
pub struct Outcomes {
    /// `[persona entry][way]`.
    personas: Vec<[String; 4]>,
    /// The PIN of each persona entry's card.
    pins: Vec<Option<String>>,
    /// Generated patients are drawn from this many people.
    population_size: u64,
}

impl Outcomes {
    /// The outcome of every persona on `date`, and the size of the generated population.
    pub fn prepare(profile: &Profile, registry: &Registry, date: NaiveDate) -> Result<Outcomes, String> {
        let mut personas = Vec::new();
        let mut pins = Vec::new();
        for entry in &profile.mix.personas {
            let query = query_outcome(registry, date, &entry.persona);
            let image = match &entry.card {
                Some(card) => Some(onshi_card::image::resolve(card).map_err(|e| e.to_string())?),
                None => None,
            };
            let pin = image.as_ref().and_then(|i| i.pins.auth.value.clone());
            // the reader model against the card, once per way (no card: no card-level flow)
            let at_reader = |method| match &image {
                None => query.clone(),
                Some(image) => {
                    let visit = onshi_terminal::reader::Visit {
                        method,
                        remove_at: None,
                    };
                    let (_, result) = onshi_terminal::reader::authenticate(
                        &mut onshi_card::Card::new(image),
                        image,
                        &visit,
                        &onshi_terminal::reader::ReaderSettings::default(),
                        date,
                    );
                    match result {
                        Ok(()) => query.clone(),
                        Err(f) => format!("refused:{}", f.error_key().name()),
                    }
                }
            };
            personas.push([
                at_reader(onshi_terminal::reader::AuthMethod::Face { attempts: vec![true] }),
                at_reader(onshi_terminal::reader::AuthMethod::Pin {
                    entries: vec![pin.clone().unwrap_or_default()],
                }),
                query.clone(),
                query,
            ]);
            pins.push(pin);
        }
        Ok(Outcomes {
            personas,
            pins,
            population_size: registry.population().size.max(1),
        })
    }

    /// The PIN of persona entry `i`'s card (what the patient types on the PIN way).
    pub fn pin(&self, i: usize) -> Option<&str> {
        self.pins[i].as_deref()
    }

    /// What the World answers for this patient (`refused:<error>` when the reader refuses
    /// the card; generated people are always insured).
    pub fn expected(&self, p: &Patient) -> &str {
        match p.who {
            Who::Population(_) => "valid",
            Who::Persona(i) => &self.personas[i][p.way.index()],
        }
    }
}

/// What the national system answers for the persona's current card.
fn query_outcome(registry: &Registry, date: NaiveDate, persona: &str) -> String {
    let spec = CardSpec {
        persona: Some(persona.to_owned()),
        period: PeriodChoice::Current,
        ..CardSpec::default()
    };
    let Ok(card) = onshi_harness::world::card(registry, date, &spec) else {
        return "not_found".into();
    };
    let query = onshi_registry::CardQuery {
        insurer_number: onshi_registry::interface_insurer_number(&card.insurer_number),
        symbol: card.symbol,
        number: card.number,
        branch: card.branch,
        birthdate: card.birthdate,
    };
    match registry.lookup(&query, date) {
        Lookup::NotFound => "not_found",
        Lookup::Multiple(_) => "multiple",
        Lookup::Found { validity, .. } => match validity {
            Validity::Valid => "valid",
            Validity::Invalid => "invalid",
            Validity::InvalidNewQualification { .. } => "invalid_new_qualification",
        },
    }
    .into()
}

/// Runs the profile on virtual time. `done` counts finished facilities (for a progress
/// display).
pub fn run_virtual(profile: &Profile, outcomes: &Outcomes, opts: &VirtualOptions, done: &AtomicU64) -> RushStats {
    let total = profile.facility_count();
    let next = AtomicU64::new(0);
    const CHUNK: u64 = 512;
    let bucket = bucket_width(opts.window_us);
    let threads = opts.threads.max(1);
    let parts: Vec<RushStats> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut stats = RushStats::new(bucket, profile.slos.len());
                    loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= total {
                            break;
                        }
                        let end = (start + CHUNK).min(total);
                        for n in (start..end).filter(|n| opts.partition.contains(*n)) {
                            simulate_facility(profile, outcomes, n, opts, &mut stats);
                        }
                        done.fetch_add(end - start, Ordering::Relaxed);
                    }
                    stats
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a simulation thread panicked"))
            .collect()
    });
    let mut stats = RushStats::new(bucket, profile.slos.len());
    for p in &parts {
        stats.merge(p);
    }
    stats
}

/// A uniform draw in [0, 1).
fn unit(r: &mut Stream) -> f64 {
    (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Arrival times (µs) of facility `n` within the window: thinning of a Poisson process at
/// the curve's highest rate.
pub fn arrivals(curve: &super::profile::Curve, window_us: u64, r: &mut Stream) -> Vec<u64> {
    let window_ms = window_us / 1000;
    let max_per_us = curve.max_rate(window_ms) / 60_000_000.0;
    let mut out = Vec::new();
    if max_per_us <= 0.0 {
        return out;
    }
    let mut t = 0.0f64;
    loop {
        t += -(1.0 - unit(r)).ln() / max_per_us;
        if t >= window_us as f64 {
            return out;
        }
        let rate = curve.rate_at(t as u64 / 1000) / 60_000_000.0;
        if unit(r) * max_per_us < rate {
            out.push(t as u64);
        }
    }
}

/// Picks an index by shares (which sum to 1).
fn pick(shares: impl Iterator<Item = f64>, r: &mut Stream) -> Option<usize> {
    let x = unit(r);
    let mut acc = 0.0;
    let mut last = None;
    for (i, s) in shares.enumerate() {
        if s > 0.0 {
            last = Some(i);
        }
        acc += s;
        if x < acc && s > 0.0 {
            return Some(i);
        }
    }
    last
}

/// Stream keys: arrivals and patient draws are separate, so changing the mix leaves the
/// arrival times alone.
const ARRIVALS: u64 = 0x4152_5249;
const PATIENTS: u64 = 0x5041_5449;

/// Who a patient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Person `n` of the generated population.
    Population(u64),
    /// The profile's persona entry `i`.
    Persona(usize),
}

/// One patient of a facility: when they arrive (µs), how they confirm, who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    /// When the patient arrives, µs from the start of the run.
    pub arrived: u64,
    /// How the patient confirms.
    pub way: Way,
    /// Who the patient is.
    pub who: Who,
}

/// The patients of facility `n`, the same in either mode, and the facility's stream for
/// the draws that follow.
pub fn patients<'p>(
    profile: &'p Profile,
    outcomes: &Outcomes,
    n: u64,
    seed: u64,
    window_us: u64,
) -> Option<(&'p FacilityGroup, Vec<Patient>, Stream)> {
    let (group, _) = profile.facility(n)?;
    let times = arrivals(&group.curve, window_us, &mut Stream::new(seed, mix(n) ^ ARRIVALS));
    let mut r = Stream::new(seed, mix(n) ^ PATIENTS);
    let m = &profile.mix;
    let patients = times
        .into_iter()
        .map(|arrived| {
            let way = Way::ALL[pick(m.ways.iter().copied(), &mut r).unwrap_or(0)];
            let who = match pick(
                std::iter::once(m.population).chain(m.personas.iter().map(|p| p.share)),
                &mut r,
            ) {
                Some(i) if i > 0 => Who::Persona(i - 1),
                _ => Who::Population(r.below(outcomes.population_size)),
            };
            Patient { arrived, way, who }
        })
        .collect();
    Some((group, patients, r))
}

fn simulate_facility(profile: &Profile, outcomes: &Outcomes, n: u64, opts: &VirtualOptions, stats: &mut RushStats) {
    let Some((group, patients, mut r)) = patients(profile, outcomes, n, opts.seed, opts.window_us) else {
        return;
    };
    for p in &patients {
        stats.arrival(p.way, p.arrived);
    }
    let outcome = |p: &Patient| outcomes.expected(p).to_owned();
    let (svc, world) = (&profile.service, &profile.world);
    let drawn;
    let client: &dyn VirtualClient = match &opts.client {
        Some(c) => c.as_ref(),
        None => {
            drawn = Drawn {
                import: world.client_import.clone(),
                origin: None,
            };
            &drawn
        }
    };

    // the readers
    let mut free: BinaryHeap<Reverse<u64>> = (0..group.readers).map(|_| Reverse(0)).collect();
    let mut visits: Vec<Visit> = Vec::with_capacity(patients.len());
    let mut reader_waits = Vec::new();
    for p in patients.iter().filter(|p| p.way.at_reader()) {
        let Some(Reverse(earliest)) = free.pop() else { break };
        let served = p.arrived.max(earliest);
        let auth = if p.way == Way::Face {
            &svc.face_match
        } else {
            &svc.pin_entry
        };
        let sent = served + draw(&svc.card_placement, &mut r) + draw(auth, &mut r) + draw(&svc.consent_screens, &mut r);
        let outcome = outcome(p);
        let answered = (!outcome.starts_with("refused:")).then(|| sent + draw(&world.national, &mut r));
        let written = answered.unwrap_or(sent) + draw(&world.result_write, &mut r);
        free.push(Reverse(written));
        reader_waits.push((p.arrived, served));
        let mut marks = [None; 7];
        marks[Mark::Arrived as usize] = Some(p.arrived);
        marks[Mark::Served as usize] = Some(served);
        marks[Mark::Sent as usize] = Some(sent);
        marks[Mark::Answered as usize] = answered;
        marks[Mark::Written as usize] = Some(written);
        visits.push(Visit {
            way: p.way,
            marks,
            outcome,
            wrong: false,
        });
    }
    queue_stats(stats, Queue::Reader, &reader_waits);

    // the client imports each face result as it appears (a watcher, not the staff)
    for v in &mut visits {
        let written = v.at(Mark::Written).unwrap_or(0);
        let taken = client.import_face(written, &mut r);
        take(v, taken);
    }

    // the reception PCs: staff type insurance cards in and wait for the answer
    let mut free: BinaryHeap<Reverse<u64>> = (0..group.reception_pcs).map(|_| Reverse(0)).collect();
    let mut desk_waits = Vec::new();
    for p in patients.iter().filter(|p| !p.way.at_reader()) {
        let Some(Reverse(earliest)) = free.pop() else { break };
        let start = p.arrived.max(earliest);
        desk_waits.push((p.arrived, start));
        let sent = start + draw(&svc.desk_entry, &mut r);
        let picked_up = (p.way == Way::InsuranceCard).then(|| sent + draw(&world.terminal_pickup, &mut r));
        let answered = picked_up.unwrap_or(sent) + draw(&world.national, &mut r);
        let written = picked_up.map(|_| answered + draw(&world.result_write, &mut r));
        let taken = client.confirm(p.way, sent, written.unwrap_or(answered), &mut r);
        let mut v = Visit {
            way: p.way,
            marks: [
                Some(p.arrived),
                Some(start),
                Some(sent),
                picked_up,
                Some(answered),
                written,
                None,
            ],
            outcome: outcome(p),
            wrong: false,
        };
        take(&mut v, taken);
        // the staff wait until the client shows the answer (or its error)
        free.push(Reverse(taken.at()));
        visits.push(v);
    }
    queue_stats(stats, Queue::Desk, &desk_waits);
    for v in &visits {
        stats.visit(v, &profile.slos);
    }
}

/// Marks the client's import; a client that gave up answers `error`, which is wrong unless
/// the patient was to be refused, and the World's moments after it are not the visit's (as
/// a live run judges and marks it).
fn take(v: &mut Visit, taken: Taken) {
    let at = taken.at();
    v.marks[Mark::Imported as usize] = Some(at);
    if let Taken::GaveUp(_) = taken {
        v.wrong = !v.outcome.starts_with("refused:");
        v.outcome = "error".into();
        for m in &mut v.marks[Mark::Sent as usize + 1..Mark::Imported as usize] {
            *m = m.filter(|t| *t <= at);
        }
    }
}

/// Waiting time per bucket and the longest queue, from (arrived, served) pairs.
pub(crate) fn queue_stats(stats: &mut RushStats, queue: Queue, waits: &[(u64, u64)]) {
    let mut events: Vec<(u64, i8)> = Vec::with_capacity(waits.len() * 2);
    for &(a, s) in waits {
        if s > a {
            stats.waited(queue, a, s);
            events.push((a, 1));
            events.push((s, -1));
        }
    }
    // at equal times the patient leaving the queue goes first
    events.sort_unstable();
    let mut len: i64 = 0;
    for (t, d) in events {
        len += i64::from(d);
        if d > 0 {
            stats.queue_length(queue, t, len as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Curve, load_profile};

    fn registry() -> Registry {
        Registry::embedded(NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(), 0)
    }

    #[test]
    fn a_partition_counts_its_facilities() {
        for of in 1..6u64 {
            for index in 0..of {
                let p = Partition { index, of };
                for total in 0..20u64 {
                    assert_eq!(p.count(total), (0..total).filter(|n| p.contains(*n)).count() as u64);
                }
            }
        }
        assert_eq!(Partition::WHOLE.label(), None);
        assert_eq!(Partition { index: 1, of: 3 }.label().as_deref(), Some("1/3"));
    }

    #[test]
    fn arrivals_follow_the_curve() {
        // 2 per minute for 10 minutes, then 10 per minute for 10 minutes
        let curve = Curve {
            name: "step".into(),
            points: vec![(0, 2.0), (600_000, 2.0), (600_001, 10.0)],
        };
        let mut counts = (0u64, 0u64);
        for seed in 0..200 {
            for t in arrivals(&curve, 1_200_000_000, &mut Stream::new(seed, 1)) {
                if t < 600_000_000 {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
            }
        }
        // expected 20 and 100 per run; over 200 runs within 3 %
        let (a, b) = (counts.0 as f64 / 200.0, counts.1 as f64 / 200.0);
        assert!((a - 20.0).abs() < 0.6, "first half {a}");
        assert!((b - 100.0).abs() < 3.0, "second half {b}");
        assert!((curve.expected(1_200_000) - 120.0).abs() < 0.01);
    }

    fn profile(extra: &str) -> Profile {
        let text = format!(
            r#"
id = "t"
title = "t"
duration = "2h"
[[facility]]
kind = "clinic"
readers = 1
reception_pcs = 1
curve = "flat"
[[curve]]
name = "flat"
points = [{{ at = "0m", per_minute = 0.5 }}]
{extra}
"#
        );
        load_profile(&text, "test", &registry()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn opts(window_us: u64) -> VirtualOptions {
        VirtualOptions {
            seed: 7,
            window_us,
            partition: Partition::WHOLE,
            threads: 2,
            client: None,
        }
    }

    #[test]
    fn a_single_reader_queue_matches_queueing_theory() {
        // M/D/1: arrivals 0.5/min, every reader visit exactly 60 s → ρ = 0.5,
        // mean wait = ρ·S / (2(1−ρ)) = 30 s (Pollaczek–Khinchine)
        let p = profile(
            r#"
[mix]
ways = { face = 1.0 }
population = 1.0
[service]
card_placement = { fixed = { ms = 10000 } }
face_match = { fixed = { ms = 10000 } }
consent_screens = { fixed = { ms = 39000 } }
[world]
national = { fixed = { ms = 900 } }
result_write = { fixed = { ms = 100 } }
"#,
        );
        let mut waits = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        let mut n = 0;
        for seed in 0..40 {
            let o = VirtualOptions {
                seed,
                ..opts(40 * 3600 * 1_000_000)
            };
            let s = run_virtual(
                &p,
                &Outcomes::prepare(&p, &registry(), registry().today()).unwrap(),
                &o,
                &AtomicU64::new(0),
            );
            waits.add(&s.stages[Way::Face.index()][0]).unwrap();
            n += s.completed();
        }
        let mean = waits.mean() / 1e6;
        assert!(n > 40_000, "{n} visits");
        assert!((mean - 30.0).abs() < 2.0, "mean wait {mean} s, theory 30 s");
    }

    #[test]
    fn same_seed_same_run_and_partitions_add_up() {
        let mut p = profile(
            r#"
[mix]
ways = { face = 0.5, pin = 0.1, insurance_card = 0.3, api = 0.1 }
population = 0.9
persona = [{ id = "lost-eligibility", share = 0.05 }, { id = "kokuho-6digit", card = "locked-auth-pin", share = 0.05 }]
[[slo]]
id = "S1"
from = "served"
to = "imported"
percentile = 95
max = "60s"
"#,
        );
        p.facilities[0].count = 37;
        let outcomes = Outcomes::prepare(&p, &registry(), registry().today()).unwrap();
        let whole = run_virtual(&p, &outcomes, &opts(3_600_000_000), &AtomicU64::new(0));
        let again = run_virtual(&p, &outcomes, &opts(3_600_000_000), &AtomicU64::new(0));
        assert_eq!(whole.total_all(), again.total_all());
        assert_eq!(whole.counts, again.counts);
        let mut merged = run_virtual(
            &p,
            &outcomes,
            &VirtualOptions {
                partition: Partition { index: 0, of: 3 },
                ..opts(3_600_000_000)
            },
            &AtomicU64::new(0),
        );
        for index in 1..3 {
            let part = run_virtual(
                &p,
                &outcomes,
                &VirtualOptions {
                    partition: Partition { index, of: 3 },
                    ..opts(3_600_000_000)
                },
                &AtomicU64::new(0),
            );
            merged.merge(&part);
        }
        assert_eq!(merged.total_all(), whole.total_all());
        assert_eq!(merged.counts, whole.counts);
        assert_eq!(merged.slos[0].span, whole.slos[0].span);
        // the locked card is refused at the reader for the PIN way, never for the desk
        assert!(
            whole.counts.outcomes.keys().any(|k| k.starts_with("refused:")),
            "{:?}",
            whole.counts.outcomes
        );
        assert!(
            whole.counts.outcomes.contains_key("invalid"),
            "{:?}",
            whole.counts.outcomes
        );
        // about 37 × 30 arrivals
        assert!((900..1_350).contains(&whole.arrivals()), "{}", whole.arrivals());
        assert_eq!(whole.arrivals(), whole.completed());
    }
}
