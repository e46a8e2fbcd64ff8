//! `rush.html`: the rush report as one self-contained page (no script, no external assets,
//! readable offline) — the counts, the SLO verdicts, latency per stage, and latency, queue
//! length and throughput over time as inline SVG charts. A view of [`RushReport`] only.

use std::fmt::Write as _;

use super::report::RushReport;
use onshi_harness::report::svg::{BarChart, CHART_CSS, LineChart, Series, escape, num};

/// Nothing may load from outside the page: a report that tried would show it as a blocked
/// load in the browser's console.
pub const CSP: &str =
    r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"#;

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

fn card(out: &mut String, label: &str, value: &str, bad: bool) {
    let _ = write!(
        out,
        r#"<div class="card{}"><b>{}</b>{}</div>"#,
        if bad { " bad" } else { "" },
        escape(value),
        escape(label)
    );
}

/// Seconds from milliseconds, for charts in seconds.
fn s(ms: f64) -> f64 {
    ms / 1000.0
}

/// `rush.html`: the summary, the SLOs and the charts of report `r` as one self-contained page.
pub fn render(r: &RushReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{CSP}<title>Rush {} — {}</title><style>{PAGE_CSS}{CHART_CSS}</style></head><body>"#,
        escape(&r.profile),
        escape(&r.title)
    );
    let _ = write!(
        h,
        r#"<h1>Reception rush (受付ラッシュ): {}</h1><p class="meta">Profile <code>{}</code> · {} time · seed {} · {} facilities{} · arrival window {} min · harness time {} s · {}</p>"#,
        escape(&r.title),
        escape(&r.profile),
        escape(&r.mode),
        r.seed,
        r.facilities,
        r.partition
            .as_ref()
            .map(|p| format!(" (partition {})", escape(p)))
            .unwrap_or_default(),
        num(r.window_s / 60.0),
        num(r.elapsed_s),
        escape(&r.harness)
    );

    let c = &r.counts;
    let arrivals: u64 = c.arrivals.values().sum();
    let completed: u64 = c.completed.values().sum();
    h.push_str(r#"<div class="cards">"#);
    card(&mut h, "patients arrived", &arrivals.to_string(), false);
    card(
        &mut h,
        "reached the client",
        &completed.to_string(),
        completed < arrivals,
    );
    card(&mut h, "intended / min", &num(r.intended_per_min), false);
    card(&mut h, "achieved / min", &num(r.achieved_per_min), false);
    card(&mut h, "late starts", &c.late_starts.to_string(), c.late_starts > 0);
    if let Some(lag) = &r.start_lag {
        let late_ms = super::live::LATE_START.as_secs_f64() * 1000.0;
        card(
            &mut h,
            "harness start lag p99 (ms)",
            &num(lag.p99_ms),
            lag.p99_ms > late_ms,
        );
    }
    card(&mut h, "dropped", &c.dropped.to_string(), c.dropped > 0);
    card(&mut h, "failed calls", &c.failed_calls.to_string(), c.failed_calls > 0);
    card(
        &mut h,
        "adapter restarts",
        &c.adapter_restarts.to_string(),
        c.adapter_restarts > 0,
    );
    card(&mut h, "wrong answers", &c.wrong.to_string(), c.wrong > 0);
    h.push_str("</div>");
    if let Some(model) = &r.client_model {
        let _ = write!(h, r#"<p class="text">Client import modelled on {}</p>"#, escape(model));
    }
    if !c.first_failures.is_empty() {
        h.push_str("<h2>Failures</h2><table><tr><th>kind</th><th>count</th><th>the first message</th></tr>");
        for (kind, first) in &c.first_failures {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td>{}</td><td class="text">{}</td></tr>"#,
                escape(kind),
                c.outcomes.get(kind).copied().unwrap_or_default(),
                escape(first)
            );
        }
        h.push_str("</table>");
    }

    if !r.slos.is_empty() {
        h.push_str("<h2>Service-level objectives</h2><table><tr><th>SLO</th><th>objective</th><th>verdict</th><th>measured</th><th>explanation</th></tr>");
        for v in &r.slos {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="text">{}</td><td class="{cls}">{}</td><td>{} s</td><td class="text">{}</td></tr>"#,
                escape(&v.id),
                escape(&v.objective),
                if v.pass { "PASS" } else { "FAIL" },
                num(s(v.measured_ms)),
                escape(&v.explanation),
                cls = if v.pass { "pass" } else { "fail" }
            );
        }
        h.push_str("</table>");
    }

    h.push_str("<h2>Latency per stage</h2>");
    let all: Vec<_> = r.latency.iter().filter(|x| x.way == "all").collect();
    h.push_str(
        &BarChart {
            title: "Latency per stage, all ways (from the intended arrival)".into(),
            unit: "seconds".into(),
            measures: vec![("p50".into(), P50), ("p95".into(), P95), ("p99".into(), P99)],
            rows: all
                .iter()
                .map(|x| {
                    (
                        x.stage.clone(),
                        vec![s(x.latency.p50_ms), s(x.latency.p95_ms), s(x.latency.p99_ms)],
                    )
                })
                .collect(),
        }
        .render(),
    );
    h.push_str("<table><tr><th>way</th><th>stage</th><th>visits</th><th>mean s</th><th>p50 s</th><th>p90 s</th><th>p95 s</th><th>p99 s</th><th>p99.9 s</th><th>max s</th></tr>");
    for x in &r.latency {
        let l = &x.latency;
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&x.way),
            escape(&x.stage),
            l.count,
            num(s(l.mean_ms)),
            num(s(l.p50_ms)),
            num(s(l.p90_ms)),
            num(s(l.p95_ms)),
            num(s(l.p99_ms)),
            num(s(l.p999_ms)),
            num(s(l.max_ms))
        );
    }
    h.push_str("</table>");

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
    h.push_str("<h2>Over time</h2>");
    h.push_str(
        &LineChart {
            title: "End-to-end latency of the patients arriving in each interval".into(),
            x_label: "minutes from the start".into(),
            y_label: "latency, seconds".into(),
            series: vec![
                Series {
                    name: "p50".into(),
                    color: P50,
                    points: latency(&se.p50_ms),
                },
                Series {
                    name: "p95".into(),
                    color: P95,
                    points: latency(&se.p95_ms),
                },
                Series {
                    name: "p99".into(),
                    color: P99,
                    points: latency(&se.p99_ms),
                },
            ],
        }
        .render(),
    );
    h.push_str(
        &LineChart {
            title: "Patients waiting (mean over each interval, all facilities)".into(),
            x_label: "minutes from the start".into(),
            y_label: "patients waiting".into(),
            series: vec![
                Series {
                    name: "at readers".into(),
                    color: P50,
                    points: line(&se.mean_queue_reader),
                },
                Series {
                    name: "at the desk".into(),
                    color: P95,
                    points: line(&se.mean_queue_desk),
                },
                Series {
                    name: "longest at one facility".into(),
                    color: P99,
                    points: line(
                        &se.max_queue_reader
                            .iter()
                            .zip(&se.max_queue_desk)
                            .map(|(a, b)| f64::from(*a.max(b)))
                            .collect::<Vec<_>>(),
                    ),
                },
            ],
        }
        .render(),
    );
    h.push_str(
        &LineChart {
            title: "Throughput: arrivals and visits reaching the client".into(),
            x_label: "minutes from the start".into(),
            y_label: "patients per minute".into(),
            series: vec![
                Series {
                    name: "arrivals".into(),
                    color: P50,
                    points: line(&se.arrivals.iter().map(|x| *x as f64 * per_min).collect::<Vec<_>>()),
                },
                Series {
                    name: "reached the client".into(),
                    color: P99,
                    points: line(&se.completed.iter().map(|x| *x as f64 * per_min).collect::<Vec<_>>()),
                },
            ],
        }
        .render(),
    );

    h.push_str("<h2>Outcomes</h2><table><tr><th>outcome</th><th>visits</th></tr>");
    for (k, v) in &c.outcomes {
        let _ = write!(h, "<tr><td>{}</td><td>{v}</td></tr>", escape(k));
    }
    h.push_str("</table>");
    let _ = write!(
        h,
        r#"<p class="meta">Latency counts from each patient's intended arrival (coordinated-omission safe). Stages: queue (待ち時間), reader or desk entry, terminal pickup, national answer, result written, client import. Format {}; the same data is in rush.json. All data is synthetic.</p></body></html>"#,
        escape(r.format)
    );
    h
}
