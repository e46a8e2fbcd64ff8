//! The rush report: percentiles per way and stage, SLO verdicts that name the stage that
//! took the time, the time series behind the charts, and the counters that show what went
//! wrong (late or dropped starts, failed calls, wrong answers). Written as `rush.json`; the
//! console summary and the HTML report are views of it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::profile::{Profile, Slo, Stage, Way, human};
use super::stats::{Counts, RushStats};

/// Percentiles of one histogram, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Percentiles {
    /// Visits measured.
    pub count: u64,
    /// The mean, ms.
    pub mean_ms: f64,
    /// The median, ms.
    pub p50_ms: f64,
    /// The 90th percentile, ms.
    pub p90_ms: f64,
    /// The 95th percentile, ms.
    pub p95_ms: f64,
    /// The 99th percentile, ms.
    pub p99_ms: f64,
    /// The 99.9th percentile, ms.
    pub p999_ms: f64,
    /// The longest, ms.
    pub max_ms: f64,
}

impl Percentiles {
    /// The percentiles of histogram `h` (µs), in ms.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |us: u64| us as f64 / 1000.0;
        let q = |x: f64| if h.is_empty() { 0.0 } else { ms(h.value_at_quantile(x)) };
        Percentiles {
            count: h.len(),
            mean_ms: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
        }
    }
}

/// One row of the latency table: a way (or `all`) and a stage (or `total`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRow {
    /// The way (`face`, `pin`, `insurance_card`, `api`) or `all`.
    pub way: String,
    /// The stage or `total`.
    pub stage: String,
    #[serde(flatten)]
    /// Its latency.
    pub latency: Percentiles,
}

/// A client's import time modelled on a real-time report of it (`--client-from`): the
/// `import` stage of `rush.json` (p50, p95; at least 20 imports) fitted as a log-normal, with a
/// line saying where the model came from (`origin` names the file).
pub fn client_model_from(json: &[u8], origin: &str) -> Result<(onshi_national::faults::Delay, String), String> {
    #[derive(serde::Deserialize)]
    struct Head {
        mode: String,
        #[serde(default)]
        profile: String,
        #[serde(default)]
        latency: Vec<Row>,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        way: String,
        stage: String,
        count: u64,
        p50_ms: f64,
        p95_ms: f64,
    }
    let head: Head = serde_json::from_slice(json).map_err(|e| format!("not a rush.json: {e}"))?;
    if head.mode != "real" {
        return Err(format!(
            "a {} run; the client's import time is only measured in real time",
            head.mode
        ));
    }
    let row = head
        .latency
        .iter()
        .find(|x| x.way == "all" && x.stage == "import")
        .ok_or("the run has no import stage (no visit reached the client)")?;
    let (count, p50, p95) = (row.count, row.p50_ms, row.p95_ms);
    if count < 20 {
        return Err(format!(
            "{count} imports measured; at least 20 are needed to fit a model"
        ));
    }
    let delay = super::profile::WorldModel::fit_client_import(p50, p95);
    let fitted = match &delay {
        onshi_national::faults::Delay::LogNormal { median_ms, sigma } => {
            format!("log-normal, median {median_ms} ms, σ {sigma}")
        }
        other => format!("{other:?}"),
    };
    let model = format!(
        "{origin} (profile {}, {count} imports: p50 {p50:.0} ms, p95 {p95:.0} ms) — {fitted}",
        head.profile
    );
    Ok((delay, model))
}

/// The verdict on one SLO.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloVerdict {
    /// The SLO's id.
    pub id: String,
    /// The objective, written out (`p95 of sent → imported ≤ 3 s`).
    pub objective: String,
    /// Whether it held.
    pub pass: bool,
    /// The limit, ms.
    pub limit_ms: f64,
    /// The measured percentile (0 when no visit passed both moments).
    pub measured_ms: f64,
    /// Visits it applies to.
    pub visits: u64,
    /// Of those, the visits over the limit.
    pub over_limit: u64,
    /// The stage that took the most time in the visits over the limit.
    pub culprit: Option<Stage>,
    /// Mean time per stage in the visits over the limit, ms.
    pub over_limit_stage_ms: BTreeMap<Stage, f64>,
    /// The verdict in words, naming the stage that took the time.
    pub explanation: String,
}

/// The series behind the charts, one value per bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The width of a bucket, seconds.
    pub bucket_s: f64,
    /// Bucket start, seconds from the start of the run.
    pub t_s: Vec<f64>,
    /// Intended arrivals per bucket.
    pub arrivals: Vec<u64>,
    /// Visits that reached the client per bucket.
    pub completed: Vec<u64>,
    /// Mean number of patients waiting for a reader / a reception PC, over all facilities.
    pub mean_queue_reader: Vec<f64>,
    /// The same for the reception PCs.
    pub mean_queue_desk: Vec<f64>,
    /// The longest queue at any one facility.
    pub max_queue_reader: Vec<u32>,
    /// The same for the reception PCs.
    pub max_queue_desk: Vec<u32>,
    /// End-to-end latency of the visits that arrived in the bucket, ms.
    pub p50_ms: Vec<f64>,
    /// The same, 95th percentile.
    pub p95_ms: Vec<f64>,
    /// The same, 99th percentile.
    pub p99_ms: Vec<f64>,
}

/// `rush.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RushReport {
    /// Always `onshi-rush/1`.
    pub format: &'static str,
    /// The harness version.
    pub harness: String,
    /// The profile's id.
    pub profile: String,
    /// The profile's title.
    pub title: String,
    /// `virtual` or `real`.
    pub mode: String,
    /// The seed.
    pub seed: u64,
    /// The facilities run.
    pub facilities: u64,
    /// `k/n` when this process ran a partition of the facilities.
    pub partition: Option<String>,
    /// The arrival window, seconds.
    pub window_s: f64,
    /// Patients per minute the curves asked for (arrivals ÷ window) and the rate at which
    /// visits reached the client.
    pub intended_per_min: f64,
    /// The rate at which visits reached the client, per minute.
    pub achieved_per_min: f64,
    /// The counts of visits by way and outcome.
    pub counts: Counts,
    /// Real time: how late after their intended arrival the harness started the visits (the
    /// latency the harness adds; absent on virtual time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_lag: Option<Percentiles>,
    /// Latency per way and stage.
    pub latency: Vec<StageRow>,
    /// The verdict on each SLO.
    pub slos: Vec<SloVerdict>,
    /// The series behind the charts.
    pub series: Series,
    /// Wall-clock time the harness took.
    pub elapsed_s: f64,
    /// The counters behind the series and SLO verdicts, exactly: with `rush.hlog` they let
    /// runs on partitions add up to the whole (`--merge`).
    pub raw: super::merge::Raw,
    /// Virtual time: where the client's import time came from when it was not the profile's
    /// `world.client_import` (`--client-from`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_model: Option<String>,
}

/// What [`RushReport::new`] needs to know about the run besides the statistics.
pub struct RunInfo<'a> {
    /// The profile run.
    pub profile: &'a Profile,
    /// `virtual` or `real`.
    pub mode: &'a str,
    /// The seed.
    pub seed: u64,
    /// The arrival window, µs.
    pub window_us: u64,
    /// `k/n` when this process ran a partition.
    pub partition: Option<String>,
    /// The facilities run.
    pub facilities: u64,
    /// How long the run took, seconds.
    pub elapsed_s: f64,
}

impl RushReport {
    /// The report of `stats`.
    pub fn new(stats: &RushStats, info: &RunInfo) -> RushReport {
        let mut latency = Vec::new();
        let total_all = stats.total_all();
        latency.push(StageRow {
            way: "all".into(),
            stage: "total".into(),
            latency: Percentiles::of(&total_all),
        });
        for s in Stage::ALL {
            let h = stats.stage_all(s);
            if !h.is_empty() {
                latency.push(StageRow {
                    way: "all".into(),
                    stage: s.name().into(),
                    latency: Percentiles::of(&h),
                });
            }
        }
        for w in Way::ALL {
            if stats.total[w.index()].is_empty() {
                continue;
            }
            latency.push(StageRow {
                way: w.name().into(),
                stage: "total".into(),
                latency: Percentiles::of(&stats.total[w.index()]),
            });
            for s in Stage::ALL {
                let h = &stats.stages[w.index()][s.index()];
                if !h.is_empty() {
                    latency.push(StageRow {
                        way: w.name().into(),
                        stage: s.name().into(),
                        latency: Percentiles::of(h),
                    });
                }
            }
        }
        let slos = info
            .profile
            .slos
            .iter()
            .zip(&stats.slos)
            .map(|(slo, tally)| verdict(slo, tally))
            .collect();
        let window_min = info.window_us as f64 / 60e6;
        let last_completion = stats
            .buckets
            .iter()
            .rposition(|b| b.completed > 0)
            .map_or(info.window_us, |i| (i as u64 + 1) * stats.bucket_us);
        RushReport {
            format: "onshi-rush/1",
            harness: format!("onshi-harness {}", env!("CARGO_PKG_VERSION")),
            profile: info.profile.id.clone(),
            title: info.profile.title.clone(),
            mode: info.mode.into(),
            seed: info.seed,
            facilities: info.facilities,
            partition: info.partition.clone(),
            window_s: info.window_us as f64 / 1e6,
            intended_per_min: stats.arrivals() as f64 / window_min.max(f64::MIN_POSITIVE),
            achieved_per_min: stats.completed() as f64 / (last_completion.max(info.window_us) as f64 / 60e6),
            counts: stats.counts.clone(),
            start_lag: (!stats.start_lag.is_empty()).then(|| Percentiles::of(&stats.start_lag)),
            latency,
            slos,
            series: series(stats),
            elapsed_s: info.elapsed_s,
            raw: super::merge::Raw::of(stats, info.window_us),
            client_model: None,
        }
    }

    /// Whether every SLO held.
    pub fn passed(&self) -> bool {
        self.slos.iter().all(|s| s.pass)
    }

    /// The console summary, in `lang` (the SLOs' explanations are the report's own words).
    pub fn summary(&self, lang: onshi_harness::texts::Lang) -> String {
        let mut out = String::new();
        let c = &self.counts;
        let partition = self
            .partition
            .as_ref()
            .map(|p| format!(", {} {p}", lang.t("rush.partition")))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}",
            lang.fill(
                "rush.console.head",
                &[
                    ("profile", &self.profile),
                    ("title", &self.title),
                    ("mode", &self.mode),
                    ("seed", &self.seed),
                    ("facilities", &self.facilities),
                    ("partition", &partition),
                ]
            )
        );
        let arrivals: u64 = c.arrivals.values().sum();
        let completed: u64 = c.completed.values().sum();
        let _ = writeln!(
            out,
            "  {}",
            lang.fill(
                "rush.console.arrived",
                &[
                    ("arrivals", &arrivals),
                    ("window", &human(std::time::Duration::from_secs_f64(self.window_s))),
                    ("intended", &format!("{:.1}", self.intended_per_min)),
                    ("completed", &completed),
                    ("achieved", &format!("{:.1}", self.achieved_per_min)),
                    ("elapsed", &format!("{:.1}", self.elapsed_s)),
                ]
            )
        );
        let _ = writeln!(
            out,
            "  {}",
            lang.fill(
                "rush.console.counts",
                &[
                    ("late", &c.late_starts),
                    ("dropped", &c.dropped),
                    ("failed", &c.failed_calls),
                    ("restarts", &c.adapter_restarts),
                    ("wrong", &c.wrong),
                ]
            )
        );
        if let Some(model) = &self.client_model {
            let _ = writeln!(out, "  {} {model}", lang.t("rush.console.model"));
        }
        if let Some(lag) = &self.start_lag {
            let _ = writeln!(
                out,
                "  {}",
                lang.fill(
                    "rush.console.lag",
                    &[
                        ("p50", &format!("{:.1}", lag.p50_ms)),
                        ("p99", &format!("{:.1}", lag.p99_ms)),
                        ("max", &format!("{:.1}", lag.max_ms)),
                    ]
                )
            );
        }
        let outcomes: Vec<String> = c.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "  {} {}", lang.t("rush.console.outcomes"), outcomes.join(", "));
        for (kind, first) in &c.first_failures {
            let _ = writeln!(
                out,
                "  {}",
                lang.fill("rush.console.first", &[("kind", kind), ("first", first)])
            );
        }
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_header([
            lang.t("rush.col.way"),
            lang.t("rush.col.stage"),
            lang.t("rush.col.visits"),
            "p50",
            "p95",
            "p99",
            "max",
        ]);
        for r in &self.latency {
            let ms = |x: f64| human(std::time::Duration::from_secs_f64(x / 1000.0));
            table.add_row([
                r.way.clone(),
                r.stage.clone(),
                r.latency.count.to_string(),
                ms(r.latency.p50_ms),
                ms(r.latency.p95_ms),
                ms(r.latency.p99_ms),
                ms(r.latency.max_ms),
            ]);
        }
        let _ = writeln!(out, "{table}");
        for s in &self.slos {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                if s.pass {
                    lang.t("rush.console.pass")
                } else {
                    lang.t("rush.console.fail")
                },
                s.id,
                s.explanation
            );
        }
        out
    }
}

fn verdict(slo: &Slo, tally: &super::stats::SloTally) -> SloVerdict {
    let limit_ms = slo.max.as_secs_f64() * 1000.0;
    let objective = slo.describe();
    let visits = tally.span.len();
    if visits == 0 {
        return SloVerdict {
            id: slo.id.clone(),
            objective: objective.clone(),
            pass: false,
            limit_ms,
            measured_ms: 0.0,
            visits,
            over_limit: 0,
            culprit: None,
            over_limit_stage_ms: BTreeMap::new(),
            explanation: format!(
                "{objective}: no visit passed both {} and {} — nothing was measured (check the SLO's moments and ways against the patient mix)",
                slo.from.name(),
                slo.to.name()
            ),
        };
    }
    let measured_ms = tally.span.value_at_quantile(slo.percentile / 100.0) as f64 / 1000.0;
    let pass = measured_ms <= limit_ms;
    let over_limit_stage_ms: BTreeMap<Stage, f64> = Stage::ALL
        .into_iter()
        .filter(|s| tally.over_stage_us[s.index()] > 0)
        .map(|s| {
            (
                s,
                tally.over_stage_us[s.index()] as f64 / tally.over.max(1) as f64 / 1000.0,
            )
        })
        .collect();
    let culprit = over_limit_stage_ms
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(s, _)| *s);
    let ms = |x: f64| human(std::time::Duration::from_secs_f64(x / 1000.0));
    let mut explanation = format!(
        "p{} {} → {} is {} (limit {}); {} of {} visits over the limit",
        slo.percentile,
        slo.from.name(),
        slo.to.name(),
        ms(measured_ms),
        ms(limit_ms),
        tally.over,
        visits
    );
    if let Some(c) = culprit.filter(|_| tally.over > 0) {
        let sum: f64 = over_limit_stage_ms.values().sum();
        let parts: Vec<String> = over_limit_stage_ms
            .iter()
            .map(|(s, v)| format!("{} {} ({:.0} %)", s.name(), ms(*v), v / sum * 100.0))
            .collect();
        let _ = write!(
            explanation,
            ". In those visits the time went to {}: the slowest stage is {} — {}",
            parts.join(", "),
            c.name(),
            c.label()
        );
    }
    SloVerdict {
        id: slo.id.clone(),
        objective,
        pass,
        limit_ms,
        measured_ms,
        visits,
        over_limit: tally.over,
        culprit: culprit.filter(|_| tally.over > 0),
        over_limit_stage_ms,
        explanation,
    }
}

fn series(stats: &RushStats) -> Series {
    let width_s = stats.bucket_us as f64 / 1e6;
    let b = &stats.buckets;
    let q = |h: &Histogram<u64>, x: f64| {
        if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(x) as f64 / 1000.0
        }
    };
    Series {
        bucket_s: width_s,
        t_s: (0..b.len()).map(|i| i as f64 * width_s).collect(),
        arrivals: b.iter().map(|x| x.arrivals).collect(),
        completed: b.iter().map(|x| x.completed).collect(),
        mean_queue_reader: b
            .iter()
            .map(|x| x.waiting_reader_us as f64 / stats.bucket_us as f64)
            .collect(),
        mean_queue_desk: b
            .iter()
            .map(|x| x.waiting_desk_us as f64 / stats.bucket_us as f64)
            .collect(),
        max_queue_reader: b.iter().map(|x| x.max_queue_reader).collect(),
        max_queue_desk: b.iter().map(|x| x.max_queue_desk).collect(),
        p50_ms: b.iter().map(|x| q(&x.latency, 0.5)).collect(),
        p95_ms: b.iter().map(|x| q(&x.latency, 0.95)).collect(),
        p99_ms: b.iter().map(|x| q(&x.latency, 0.99)).collect(),
    }
}
