//! `rush.html`: the rush report as one self-contained page (no script, no external assets,
//! readable offline) — the counts, the SLO verdicts, latency per stage, and latency, queue
//! length and throughput over time as inline SVG charts. A view of [`RushReport`] only,
//! built with `maud`, which escapes every value it inserts.

use maud::{DOCTYPE, Markup, html};

use super::report::RushReport;
use onshi_harness::report::html::head;
use onshi_harness::report::svg::{BarChart, CHART_CSS, LineChart, Series, num};
use onshi_harness::texts::Lang;

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
fn stage_chart(r: &RushReport, lang: Lang) -> Markup {
    BarChart {
        title: lang.t("rush.chart.stages").into(),
        unit: lang.t("rush.chart.seconds").into(),
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
fn time_charts(r: &RushReport, lang: Lang) -> [Markup; 3] {
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
            title: lang.t("rush.chart.latency").into(),
            x_label: lang.t("rush.chart.minutes").into(),
            y_label: lang.t("rush.chart.latency_s").into(),
            series: vec![
                series("p50", P50, latency(&se.p50_ms)),
                series("p95", P95, latency(&se.p95_ms)),
                series("p99", P99, latency(&se.p99_ms)),
            ],
        }
        .render(),
        LineChart {
            title: lang.t("rush.chart.waiting").into(),
            x_label: lang.t("rush.chart.minutes").into(),
            y_label: lang.t("rush.chart.waiting_y").into(),
            series: vec![
                series(lang.t("rush.chart.at_readers"), P50, line(&se.mean_queue_reader)),
                series(lang.t("rush.chart.at_desk"), P95, line(&se.mean_queue_desk)),
                series(lang.t("rush.chart.longest"), P99, line(&longest)),
            ],
        }
        .render(),
        LineChart {
            title: lang.t("rush.chart.throughput").into(),
            x_label: lang.t("rush.chart.minutes").into(),
            y_label: lang.t("rush.chart.per_minute").into(),
            series: vec![
                series(lang.t("rush.chart.arrivals"), P50, rate(&se.arrivals)),
                series(lang.t("rush.card.reached"), P99, rate(&se.completed)),
            ],
        }
        .render(),
    ]
}

/// `rush.html`: the summary, the SLOs and the charts of report `r` as one self-contained page,
/// in `lang` (the SLOs' explanations are the report's own words, in English).
pub fn render(r: &RushReport, lang: Lang) -> String {
    let c = &r.counts;
    let arrivals: u64 = c.arrivals.values().sum();
    let completed: u64 = c.completed.values().sum();
    let late_ms = super::live::LATE_START.as_secs_f64() * 1000.0;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(&format!("Rush {} — {}", r.profile, r.title), &[PAGE_CSS, CHART_CSS]))
            body {
                h1 { (lang.t("rush.title")) ": " (r.title) }
                p.meta {
                    (lang.t("rush.profile")) " " code { (r.profile) } " · " (r.mode) " · "
                    (lang.t("html.seed")) " " (r.seed)
                    " · " (lang.fill("rush.facilities", &[("n", &r.facilities)]))
                    @if let Some(p) = &r.partition { " (" (lang.t("rush.partition")) " " (p) ")" }
                    " · " (lang.fill("rush.window", &[("min", &num(r.window_s / 60.0))]))
                    " · " (lang.fill("rush.harness_time", &[("s", &num(r.elapsed_s))])) " · " (r.harness)
                }
                div.cards {
                    (card(lang.t("rush.card.arrived"), &arrivals.to_string(), false))
                    (card(lang.t("rush.card.reached"), &completed.to_string(), completed < arrivals))
                    (card(lang.t("rush.card.intended"), &num(r.intended_per_min), false))
                    (card(lang.t("rush.card.achieved"), &num(r.achieved_per_min), false))
                    (card(lang.t("rush.card.late"), &c.late_starts.to_string(), c.late_starts > 0))
                    @if let Some(lag) = &r.start_lag {
                        (card(lang.t("rush.card.lag"), &num(lag.p99_ms), lag.p99_ms > late_ms))
                    }
                    (card(lang.t("rush.card.dropped"), &c.dropped.to_string(), c.dropped > 0))
                    (card(lang.t("rush.card.failed"), &c.failed_calls.to_string(), c.failed_calls > 0))
                    (card(lang.t("rush.card.restarts"), &c.adapter_restarts.to_string(), c.adapter_restarts > 0))
                    (card(lang.t("rush.card.wrong"), &c.wrong.to_string(), c.wrong > 0))
                }
                @if let Some(model) = &r.client_model {
                    p.text { (lang.t("rush.model")) " " (model) }
                }
                @if !c.first_failures.is_empty() {
                    h2 { (lang.t("rush.failures")) }
                    table {
                        tr { th { (lang.t("rush.col.kind")) } th { (lang.t("rush.col.count")) } th { (lang.t("rush.col.first")) } }
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
                    h2 { (lang.t("rush.slos")) }
                    table {
                        tr {
                            th { "SLO" } th { (lang.t("rush.col.objective")) } th { (lang.t("report.col.verdict")) }
                            th { (lang.t("rush.col.measured")) } th { (lang.t("rush.col.explanation")) }
                        }
                        @for v in &r.slos {
                            tr {
                                td { (v.id) }
                                td.text { (v.objective) }
                                td class=(if v.pass { "pass" } else { "fail" }) {
                                    (lang.t(if v.pass { "console.pass" } else { "console.fail" }))
                                }
                                td { (num(s(v.measured_ms))) " s" }
                                td.text { (v.explanation) }
                            }
                        }
                    }
                }
                h2 { (lang.t("rush.latency")) }
                (stage_chart(r, lang))
                table {
                    tr {
                        th { (lang.t("rush.col.way")) } th { (lang.t("rush.col.stage")) } th { (lang.t("rush.col.visits")) }
                        th { (lang.t("rush.col.mean")) } th { "p50 s" } th { "p90 s" }
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
                h2 { (lang.t("rush.over_time")) }
                @for chart in time_charts(r, lang) { (chart) }
                h2 { (lang.t("rush.outcomes")) }
                table {
                    tr { th { (lang.t("rush.col.outcome")) } th { (lang.t("rush.col.visits")) } }
                    @for (k, v) in &c.outcomes { tr { td { (k) } td { (v) } } }
                }
                p.meta {
                    (lang.fill("rush.footer", &[("format", &r.format)]))
                }
            }
        }
    }
    .into_string()
}
