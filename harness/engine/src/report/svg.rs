//! Inline SVG charts for the HTML reports: plain markup, no script, no external assets. Axes
//! carry units, and the numbers are in the markup as text (tick labels, value labels, a
//! `<title>` per point), so a reader without a mouse — and a test — can find them.

use maud::{Markup, html};

/// A number as a label: few digits, no trailing zeros.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Round tick values from 0 to at least `max`.
fn ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let raw = max / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (max / step).ceil() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// One line of a line chart.
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// Its colour (CSS).
    pub color: &'static str,
    /// (x, y) in the chart's units.
    pub points: Vec<(f64, f64)>,
}

/// A line chart over a shared x axis.
pub struct LineChart {
    /// The title above the chart.
    pub title: String,
    /// The x axis' label.
    pub x_label: String,
    /// The y axis' label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
}

const W: f64 = 760.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 48.0;

impl LineChart {
    /// The chart as an inline SVG element (texts escaped).
    pub fn render(&self) -> Markup {
        let all = self.series.iter().flat_map(|s| s.points.iter());
        let (xmin, xmax, ymax) = all.fold((f64::INFINITY, f64::NEG_INFINITY, 0.0f64), |(a, b, c), &(x, y)| {
            (a.min(x), b.max(x), c.max(y))
        });
        let (xmin, xmax) = if xmin.is_finite() && xmax > xmin {
            (xmin, xmax)
        } else {
            (0.0, 1.0)
        };
        let yt = ticks(ymax, 5);
        let ytop = *yt.last().expect("at least one tick");
        let xt: Vec<f64> = ticks(xmax - xmin, 8)
            .iter()
            .map(|x| x + xmin)
            .filter(|x| *x <= xmax + 1e-9)
            .collect();
        let px = |x: f64| LEFT + (x - xmin) / (xmax - xmin) * (W - LEFT - RIGHT);
        let py = |y: f64| H - BOTTOM - y / ytop * (H - TOP - BOTTOM);
        let b = H - BOTTOM;
        // SVG elements get explicit end tags: inside HTML, `<line …>` without one would
        // swallow its siblings.
        html! {
            svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(self.title) xmlns="http://www.w3.org/2000/svg" {
                title { (self.title) }
                text.ctitle x=(LEFT) y="18" { (self.title) }
                @for y in &yt {
                    line.grid x1=(LEFT) x2=(W - RIGHT) y1=(py(*y)) y2=(py(*y)) {}
                    text.tick x=(LEFT - 6.0) y=(py(*y) + 4.0) text-anchor="end" { (num(*y)) }
                }
                @for x in &xt {
                    line.axis x1=(px(*x)) x2=(px(*x)) y1=(b) y2=(b + 5.0) {}
                    text.tick x=(px(*x)) y=(b + 18.0) text-anchor="middle" { (num(*x)) }
                }
                line.axis x1=(LEFT) x2=(W - RIGHT) y1=(b) y2=(b) {}
                line.axis x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(b) {}
                text.label x=((LEFT + W - RIGHT) / 2.0) y=(H - 10.0) text-anchor="middle" { (self.x_label) }
                text.label transform={ "translate(16 " ((TOP + b) / 2.0) ") rotate(-90)" } text-anchor="middle" { (self.y_label) }
                @for (i, series) in self.series.iter().enumerate() {
                    @let pts: Vec<String> = series
                        .points
                        .iter()
                        .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
                        .collect();
                    @let max = series.points.iter().map(|p| p.1).fold(0.0, f64::max);
                    polyline.line data-series=(series.name) fill="none" stroke=(series.color) stroke-width="2" points=(pts.join(" ")) {}
                    @if series.points.len() <= 240 {
                        @for &(x, y) in &series.points {
                            circle cx=(format!("{:.1}", px(x))) cy=(format!("{:.1}", py(y))) r="2.2" fill=(series.color) {
                                title { (series.name) " at " (num(x)) ": " (num(y)) }
                            }
                        }
                    }
                    // legend with the series' highest value
                    @let lx = LEFT + 10.0 + i as f64 * 210.0;
                    rect x=(lx) y="26" width="12" height="4" fill=(series.color) {}
                    text.legend x=(lx + 16.0) y="32" { (series.name) " (max " (num(max)) ")" }
                }
            }
        }
    }
}

/// Horizontal grouped bars: one group per row label, one bar per measure, value labels at
/// the bars' ends.
pub struct BarChart {
    /// The title above the chart.
    pub title: String,
    /// The unit of the values (shown at the bars' ends).
    pub unit: String,
    /// The measures, with their colours (e.g. p50, p95, p99).
    pub measures: Vec<(String, &'static str)>,
    /// (row label, one value per measure).
    pub rows: Vec<(String, Vec<f64>)>,
}

impl BarChart {
    /// The chart as an inline SVG element (texts escaped).
    pub fn render(&self) -> Markup {
        let bar = 11.0;
        let gap = 10.0;
        let label_w = 120.0;
        let group_h = bar * self.measures.len() as f64 + gap;
        let h = TOP + group_h * self.rows.len() as f64 + 40.0;
        let max = self.rows.iter().flat_map(|r| r.1.iter().copied()).fold(0.0, f64::max);
        let xt = ticks(max, 6);
        let xtop = *xt.last().expect("at least one tick");
        let px = |v: f64| label_w + v / xtop * (W - label_w - 90.0);
        let bottom = h - 30.0;
        html! {
            svg.chart viewBox={ "0 0 " (W) " " (h) } role="img" aria-label=(self.title) xmlns="http://www.w3.org/2000/svg" {
                title { (self.title) }
                text.ctitle x="10" y="18" { (self.title) }
                @for x in &xt {
                    line.grid x1=(px(*x)) x2=(px(*x)) y1=(TOP) y2=(bottom) {}
                    text.tick x=(px(*x)) y=(bottom + 14.0) text-anchor="middle" { (num(*x)) }
                }
                text.label x=((label_w + W - 90.0) / 2.0) y=(h - 4.0) text-anchor="middle" { (self.unit) }
                @for (i, (m, c)) in self.measures.iter().enumerate() {
                    @let lx = label_w + i as f64 * 90.0;
                    rect x=(lx) y="26" width="12" height="6" fill=(c) {}
                    text.legend x=(lx + 16.0) y="32" { (m) }
                }
                @for (r, (label, values)) in self.rows.iter().enumerate() {
                    @let y0 = TOP + r as f64 * group_h;
                    text.tick x=(label_w - 8.0) y=(y0 + group_h / 2.0) text-anchor="end" { (label) }
                    @for (i, v) in values.iter().enumerate() {
                        @let (m, c) = &self.measures[i];
                        @let y = y0 + i as f64 * bar;
                        rect.bar x=(label_w) y=(y) width=(format!("{:.1}", (px(*v) - label_w).max(0.5))) height=(bar - 2.0) fill=(c) {
                            title { (label) " " (m) ": " (num(*v)) " " (self.unit) }
                        }
                        text.value x=(format!("{:.1}", px(*v) + 4.0)) y=(y + bar - 3.0) { (num(*v)) }
                    }
                }
            }
        }
    }
}

/// The stylesheet the charts expect (inlined into each report).
pub const CHART_CSS: &str = "
svg.chart { width: 100%; max-width: 760px; height: auto; display: block; margin: 0.5rem 0 1.5rem; }
svg.chart .ctitle { font: 600 14px sans-serif; }
svg.chart .tick, svg.chart .legend, svg.chart .value { font: 11px sans-serif; fill: #333; }
svg.chart .label { font: 12px sans-serif; fill: #333; }
svg.chart .grid { stroke: #e4e4e4; }
svg.chart .axis { stroke: #777; }
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(9.3, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0, 5), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert!(*ticks(48_213.0, 5).last().unwrap() >= 48_213.0);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(48.213), "48.2");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(1234.4), "1234");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(f64::NAN), "–");
    }

    #[test]
    fn charts_carry_their_numbers_and_escape_text() {
        let c = LineChart {
            title: "latency <over> time".into(),
            x_label: "minutes".into(),
            y_label: "seconds".into(),
            series: vec![Series {
                name: "p99".into(),
                color: "#c00",
                points: vec![(0.0, 1.0), (1.0, 48.2), (2.0, 3.0)],
            }],
        }
        .render()
        .into_string();
        assert!(c.contains("latency &lt;over&gt; time") && !c.contains("<over>"));
        assert!(c.contains("p99 (max 48.2)") && c.contains("p99 at 1: 48.2"));
        let b = BarChart {
            title: "stages".into(),
            unit: "seconds".into(),
            measures: vec![("p50".into(), "#08c"), ("p99".into(), "#c00")],
            rows: vec![("queue".into(), vec![0.0, 12.5]), ("national".into(), vec![0.4, 3.1])],
        }
        .render()
        .into_string();
        assert!(b.contains(">12.5</text>") && b.contains(">3.1</text>") && b.contains("national p99: 3.1 seconds"));
        assert_eq!(b.matches("<rect class=\"bar\"").count(), 4);
    }

    #[test]
    fn empty_charts_render() {
        let c = LineChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![],
        }
        .render()
        .into_string();
        assert!(c.starts_with("<svg") && c.ends_with("</svg>") && !c.contains("NaN"));
    }
}
