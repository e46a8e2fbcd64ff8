//! `rush.html`: the rush report as one self-contained page (no script, no external assets,
//! readable offline) — the counts, the SLO verdicts, latency per stage, and latency, queue
//! length and throughput over time as inline SVG charts. A view of [`RushReport`] only,
//! built with `maud`, which escapes every value it inserts.

use maud::{DOCTYPE, Markup, html};

use super::report::RushReport;
use onshi_harness::report::html::head;
use onshi_harness::report::svg::{BarChart, CHART_CSS, LineChart, Series, num};

const P50: &str = "#2b7bb9";
const P95: &str = "#e0a030";
const P99: &str = "#c0392b";

const PAGE_CSS: &str = "
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
.cards { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.4rem 0.8rem; min-width: 8rem; }
.card b { display: block; font-size: 1.3rem; }
.bad b { color: #b00; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
.pass { color: #17702a; font-weight: 600; } .fail { color: #b00; font-weight: 600; }
";

/// One figure of the summary; `bad` marks it red.
fn card(label: &str, value: &str, bad: bool) -> Markup {
    html! { div.card.bad[bad] { b { (value) } (label) } }
}

/// Seconds from milliseconds, for charts in seconds.
fn s(ms: f64) -> f64 {
    ms / 1000.0
}

/// The latency charts: one bar per stage and percentile.
fn stage_chart(r: &RushReport) -> Markup {
    BarChart {
        title: "Latency per stage, all ways (from the intended arrival)".into(),
        unit: "seconds".into(),
        measures: vec![("p50".into(), P50), ("p95".into(), P95), ("p99".into(), P99)],
        rows: r
            .latency
            .iter()
            .filter(|x| x.way == "all")
            .map(|x| {
                (
                    x.stage.clone(),
                    vec![s(x.latency.p50_ms), s(x.latency.p95_ms), s(x.latency.p99_ms)],
                )
            })
            .collect(),
    }
    .render()
}

/// Latency, queue lengths and throughput per interval of the run.
fn time_charts(r: &RushReport) -> [Markup; 3] {
    let se = &r.series;
    let minutes: Vec<f64> = se.t_s.iter().map(|t| t / 60.0).collect();
    let line = |values: &[f64]| -> Vec<(f64, f64)> { minutes.iter().copied().zip(values.iter().copied()).collect() };
    // latency only where patients arrived (an empty interval has no latency, not zero)
    let latency = |values: &[f64]| -> Vec<(f64, f64)> {
        minutes
            .iter()
            .zip(values)
            .zip(&se.arrivals)
            .filter(|(_, n)| **n > 0)
            .map(|((m, v), _)| (*m, s(*v)))
            .collect()
    };
    let per_min = 60.0 / se.bucket_s.max(f64::MIN_POSITIVE);
    let series = |name: &str, color, points| Series {
        name: name.into(),
        color,
        points,
    };
    let rate = |v: &[u64]| line(&v.iter().map(|x| *x as f64 * per_min).collect::<Vec<_>>());
    let longest: Vec<f64> = se
        .max_queue_reader
        .iter()
        .zip(&se.max_queue_desk)
        .map(|(a, b)| f64::from(*a.max(b)))
        .collect();
    [
        LineChart {
            title: "End-to-end latency of the patients arriving in each interval".into(),
            x_label: "minutes from the start".into(),
            y_label: "latency, seconds".into(),
            series: vec![
                series("p50", P50, latency(&se.p50_ms)),
                series("p95", P95, latency(&se.p95_ms)),
                series("p99", P99, latency(&se.p99_ms)),
            ],
        }
        .render(),
        LineChart {
            title: "Patients waiting (mean over each interval, all facilities)".into(),
            x_label: "minutes from the start".into(),
            y_label: "patients waiting".into(),
            series: vec![
                series("at readers", P50, line(&se.mean_queue_reader)),
                series("at the desk", P95, line(&se.mean_queue_desk)),
                series("longest at one facility", P99, line(&longest)),
            ],
        }
        .render(),
        LineChart {
            title: "Throughput: arrivals and visits reaching the client".into(),
            x_label: "minutes from the start".into(),
            y_label: "patients per minute".into(),
            series: vec![
                series("arrivals", P50, rate(&se.arrivals)),
                series("reached the client", P99, rate(&se.completed)),
            ],
        }
        .render(),
    ]
}

/// `rush.html`: the summary, the SLOs and the charts of report `r` as one self-contained page.
pub fn render(r: &RushReport) -> String {
    let c = &r.counts;
    let arrivals: u64 = c.arrivals.values().sum();
    let completed: u64 = c.completed.values().sum();
    let late_ms = super::live::LATE_START.as_secs_f64() * 1000.0;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("Rush {} — {}", r.profile, r.title), &[PAGE_CSS, CHART_CSS]))
            body {
                h1 { "Reception rush (受付ラッシュ): " (r.title) }
                p.meta {
                    "Profile " code { (r.profile) } " · " (r.mode) " time · seed " (r.seed)
                    " · " (r.facilities) " facilities"
                    @if let Some(p) = &r.partition { " (partition " (p) ")" }
                    " · arrival window " (num(r.window_s / 60.0)) " min · harness time "
                    (num(r.elapsed_s)) " s · " (r.harness)
                }
                div.cards {
                    (card("patients arrived", &arrivals.to_string(), false))
                    (card("reached the client", &completed.to_string(), completed < arrivals))
                    (card("intended / min", &num(r.intended_per_min), false))
                    (card("achieved / min", &num(r.achieved_per_min), false))
                    (card("late starts", &c.late_starts.to_string(), c.late_starts > 0))
                    @if let Some(lag) = &r.start_lag {
                        (card("harness start lag p99 (ms)", &num(lag.p99_ms), lag.p99_ms > late_ms))
                    }
                    (card("dropped", &c.dropped.to_string(), c.dropped > 0))
                    (card("failed calls", &c.failed_calls.to_string(), c.failed_calls > 0))
                    (card("adapter restarts", &c.adapter_restarts.to_string(), c.adapter_restarts > 0))
                    (card("wrong answers", &c.wrong.to_string(), c.wrong > 0))
                }
                @if let Some(model) = &r.client_model {
                    p.text { "Client import modelled on " (model) }
                }
                @if !c.first_failures.is_empty() {
                    h2 { "Failures" }
                    table {
                        tr { th { "kind" } th { "count" } th { "the first message" } }
                        @for (kind, first) in &c.first_failures {
                            tr {
                                td { (kind) }
                                td { (c.outcomes.get(kind).copied().unwrap_or_default()) }
                                td.text { (first) }
                            }
                        }
                    }
                }
                @if !r.slos.is_empty() {
                    h2 { "Service-level objectives" }
                    table {
                        tr { th { "SLO" } th { "objective" } th { "verdict" } th { "measured" } th { "explanation" } }
                        @for v in &r.slos {
                            tr {
                                td { (v.id) }
                                td.text { (v.objective) }
                                td class=(if v.pass { "pass" } else { "fail" }) { (if v.pass { "PASS" } else { "FAIL" }) }
                                td { (num(s(v.measured_ms))) " s" }
                                td.text { (v.explanation) }
                            }
                        }
                    }
                }
                h2 { "Latency per stage" }
                (stage_chart(r))
                table {
                    tr {
                        th { "way" } th { "stage" } th { "visits" } th { "mean s" } th { "p50 s" } th { "p90 s" }
                        th { "p95 s" } th { "p99 s" } th { "p99.9 s" } th { "max s" }
                    }
                    @for x in &r.latency {
                        @let l = &x.latency;
                        tr {
                            td { (x.way) }
                            td.text { (x.stage) }
                            td { (l.count) }
                            @for ms in [l.mean_ms, l.p50_ms, l.p90_ms, l.p95_ms, l.p99_ms, l.p999_ms, l.max_ms] {
                                td { (num(s(ms))) }
                            }
                        }
                    }
                }
                h2 { "Over time" }
                @for chart in time_charts(r) { (chart) }
                h2 { "Outcomes" }
                table {
                    tr { th { "outcome" } th { "visits" } }
                    @for (k, v) in &c.outcomes { tr { td { (k) } td { (v) } } }
                }
                p.meta {
                    "Latency counts from each patient's intended arrival (coordinated-omission safe). Stages: queue (待ち時間), reader or desk entry, terminal pickup, national answer, result written, client import. Format "
                    (r.format) "; the same data is in rush.json. All data is synthetic."
                }
            }
        }
    }
    .into_string()
}
