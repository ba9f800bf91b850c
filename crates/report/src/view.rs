//! What the templates draw: each chart's SVG geometry (precomputed here, so the templates only
//! place numbers) and the monthly table behind it, both already redacted.

use plots::chart::{axis_number, group_thousands, label_step, nice_ceiling, series_colour};
use plots::data::{month_label, ChartData, Point, Quantity};
use plots::study::group_display;
use serde::Serialize;

/// The SVG's coordinate system (its `viewBox` is `0 0 VIEW_WIDTH VIEW_HEIGHT`).
pub const VIEW_WIDTH: f64 = 1080.0;
/// See [`VIEW_WIDTH`].
pub const VIEW_HEIGHT: f64 = 400.0;
const PLOT_LEFT: f64 = 76.0;
/// The plot's right edge without a legend.
const PLOT_RIGHT: f64 = VIEW_WIDTH - 20.0;

/// The plot's right edge with a legend of these entries to its right: room for the line
/// sample and the longest name (about 8.2 units a character at the legend's 14px).
fn plot_right_with_legend<'a>(names: impl Iterator<Item = &'a str>) -> f64 {
    let longest = names.map(|n| n.chars().count()).max().unwrap_or(0);
    let width = (64.0 + 8.2 * longest as f64).clamp(140.0, 360.0);
    VIEW_WIDTH - width
}
const PLOT_TOP: f64 = 14.0;
const PLOT_BOTTOM: f64 = 340.0;
/// Space between the plot edges and the first and last month.
const X_PAD: f64 = 14.0;
const Y_TICKS: usize = 5;

/// The date range buttons, as the notebook's plotly charts had them: label and months back
/// from the last month (0 = all).
pub const RANGES: [(&str, usize); 4] = [("1m", 1), ("6m", 6), ("1y", 12), ("all", 0)];

/// One chart, ready for `chart.html`.
#[derive(Debug, Clone, Serialize)]
pub struct ChartView {
    /// Section id, e.g. `region`; also prefixes the SVG's ids.
    pub id: String,
    /// Chart title.
    pub title: String,
    /// Y-axis label.
    pub y_label: String,
    /// The legend, right of the plot area (`None` for a single series).
    pub legend: Option<LegendView>,
    /// `viewBox` width and height.
    pub view_width: String,
    /// See `view_width`.
    pub view_height: String,
    /// Plot area.
    pub plot: Rect,
    /// x of the first month at full range (the script's `data-left`).
    pub x_left: String,
    /// Distance from the first to the last month at full range (the script's `data-width`).
    pub x_width: String,
    /// Index of the last month (the script's `data-last`).
    pub last: usize,
    /// Horizontal grid lines with their labels.
    pub y_ticks: Vec<YTick>,
    /// One entry per month: vertical grid line and (for major months) a label.
    pub months: Vec<MonthTick>,
    /// One invisible column per month whose hover text lists every series' value.
    pub columns: Vec<HoverColumn>,
    /// The lines.
    pub series: Vec<SeriesView>,
    /// True when every point is redacted.
    pub empty: bool,
    /// The range selector's buttons.
    pub ranges: Vec<RangeButton>,
    /// The x-axis label y position and the label.
    pub x_label_y: String,
}

/// A rectangle in SVG units, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct Rect {
    /// Left.
    pub x: String,
    /// Top.
    pub y: String,
    /// Width.
    pub width: String,
    /// Height.
    pub height: String,
    /// Right edge.
    pub right: String,
    /// Bottom edge.
    pub bottom: String,
    /// Vertical middle.
    pub middle: String,
    /// Horizontal middle.
    pub center: String,
    /// x of the y-axis tick labels (right-aligned).
    pub tick_x: String,
    /// Baseline of the x-axis tick labels.
    pub tick_y: String,
}

/// The legend: a heading and one entry per series.
#[derive(Debug, Clone, Serialize)]
pub struct LegendView {
    /// Heading text.
    pub title: String,
    /// Left edge.
    pub x: String,
    /// Heading baseline.
    pub title_y: String,
    /// One entry per series, in series order.
    pub entries: Vec<LegendEntry>,
}

/// One legend entry: a line sample, a marker and the name.
#[derive(Debug, Clone, Serialize)]
pub struct LegendEntry {
    /// Series name.
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Line sample from `x1` to `x2` at `y`; marker at `marker_x`.
    pub x1: String,
    /// See `x1`.
    pub x2: String,
    /// See `x1`.
    pub marker_x: String,
    /// See `x1`.
    pub y: String,
    /// Name position.
    pub text_x: String,
    /// Name baseline.
    pub text_y: String,
}

/// A horizontal grid line and its label.
#[derive(Debug, Clone, Serialize)]
pub struct YTick {
    /// y position.
    pub y: String,
    /// Label y position (baseline).
    pub label_y: String,
    /// The label.
    pub label: String,
}

/// One month on the x axis.
#[derive(Debug, Clone, Serialize)]
pub struct MonthTick {
    /// Month index.
    pub m: usize,
    /// x position at full range.
    pub x: String,
    /// `Jan 2019`.
    pub label: String,
    /// Whether the label shows at full range (every `label_step` months).
    pub major: bool,
}

/// A month's hover column: the full plot height, one month wide.
#[derive(Debug, Clone, Serialize)]
pub struct HoverColumn {
    /// Month index.
    pub m: usize,
    /// Left edge at full range.
    pub x: String,
    /// Width at full range.
    pub width: String,
    /// The month and every series' value (one per line; `redacted` where not shown).
    pub tip: String,
}

/// One line of a chart.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesView {
    /// Legend name.
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Line segments between consecutive shown months.
    pub segments: Vec<Segment>,
    /// Markers of the shown months, each with its hover text.
    pub points: Vec<PointView>,
}

/// A line from month `m` to month `m2 = m + 1`.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    /// First month index.
    pub m: usize,
    /// Second month index.
    pub m2: usize,
    /// Coordinates.
    pub x1: String,
    /// Coordinates.
    pub y1: String,
    /// Coordinates.
    pub x2: String,
    /// Coordinates.
    pub y2: String,
}

/// A marker with its hover text.
#[derive(Debug, Clone, Serialize)]
pub struct PointView {
    /// Month index.
    pub m: usize,
    /// Coordinates.
    pub x: String,
    /// Coordinates.
    pub y: String,
    /// Shown on hover (an SVG `<title>`).
    pub tip: String,
}

/// A range selector button.
#[derive(Debug, Clone, Serialize)]
pub struct RangeButton {
    /// `1m`, `6m`, `1y`, `all`.
    pub label: String,
    /// Months back from the last month; 0 for all.
    pub months: usize,
    /// Whether this range is the one shown initially (all).
    pub pressed: bool,
}

/// The monthly numbers behind a chart.
#[derive(Debug, Clone, Serialize)]
pub struct TableView {
    /// The group column's heading; `None` for the total.
    pub group_header: Option<String>,
    /// One row per month (and group), in month order.
    pub rows: Vec<TableRow>,
}

/// One month of one group; redacted rows have blank numbers.
#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// `Jan 2019`.
    pub month: String,
    /// `2019-01-01`.
    pub date: String,
    /// Group name, for grouped tables.
    pub group: Option<String>,
    /// Patients with a code, or blank.
    pub numerator: String,
    /// Registered patients, or blank.
    pub denominator: String,
    /// Rate per 1,000, or blank.
    pub rate: String,
    /// Whether the row was redacted.
    pub redacted: bool,
}

/// Words of one chart.
#[derive(Debug, Clone, Copy)]
pub struct ChartLabels<'a> {
    /// Section id.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Y-axis label.
    pub y_label: &'a str,
    /// Legend heading.
    pub legend_title: Option<&'a str>,
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}

/// A count as a whole number with thousands separators (`1,302`); fractional counts keep their
/// decimals.
pub fn format_count(x: f64) -> String {
    if x.fract() == 0.0 {
        group_thousands(&format!("{x:.0}"))
    } else {
        group_thousands(&format!("{x}"))
    }
}

/// A rate per 1,000: 3 decimals below 10, 2 below 100, 1 above (`0.266`, `14.20`, `500.0`).
pub fn format_rate(x: f64) -> String {
    let decimals = if x < 10.0 {
        3
    } else if x < 100.0 {
        2
    } else {
        1
    };
    group_thousands(&format!("{x:.decimals$}"))
}

fn tip(series: &str, point: &Point, quantity: Quantity) -> String {
    let (Some(n), Some(d), Some(r)) = (point.numerator, point.denominator, point.rate_per_1000)
    else {
        return String::new();
    };
    let month = month_label(point.date);
    match quantity {
        Quantity::Count => format!(
            "{month}: {} patients with a code ({} per 1,000 of {} registered patients)",
            format_count(n),
            format_rate(r),
            format_count(d)
        ),
        Quantity::RatePer1000 => format!(
            "{}, {month}: {} per 1,000 ({} of {} registered patients)",
            group_display(series),
            format_rate(r),
            format_count(n),
            format_count(d)
        ),
    }
}

/// The hover text of month `m`: the month, then one line per series.
fn column_tip(date: chrono::NaiveDate, data: &ChartData, m: usize, quantity: Quantity) -> String {
    let mut lines = vec![month_label(date)];
    for s in &data.series {
        let p = &s.points[m];
        let value = match (quantity, p.numerator, p.denominator, p.rate_per_1000) {
            (Quantity::Count, Some(n), Some(d), Some(r)) => format!(
                "{} patients with a code, {} per 1,000 of {} registered",
                format_count(n),
                format_rate(r),
                format_count(d)
            ),
            (Quantity::RatePer1000, _, _, Some(r)) => format!("{} per 1,000", format_rate(r)),
            _ => "redacted".to_string(),
        };
        lines.push(match quantity {
            Quantity::Count => value,
            Quantity::RatePer1000 => format!("{}: {value}", group_display(&s.name)),
        });
    }
    lines.join("\n")
}

/// Lays out `data` as an SVG line chart at full range.
pub fn chart_view(data: &ChartData, quantity: Quantity, labels: ChartLabels<'_>) -> ChartView {
    let n = data.dates.len();
    let last = n.saturating_sub(1);
    let plot_right = if let Some(title) = labels.legend_title {
        plot_right_with_legend(
            data.series
                .iter()
                .map(|s| group_display(&s.name))
                .chain([title]),
        )
    } else {
        PLOT_RIGHT
    };
    let x_left = PLOT_LEFT + X_PAD;
    let x_width = plot_right - PLOT_LEFT - 2.0 * X_PAD;
    let x = |m: usize| x_left + m as f64 / last.max(1) as f64 * x_width;
    let max = data.max_value(quantity);
    let y_top = nice_ceiling(max.unwrap_or(0.0) * 1.05);
    let y = |v: f64| PLOT_BOTTOM - v / y_top * (PLOT_BOTTOM - PLOT_TOP);

    let y_ticks = (0..=Y_TICKS)
        .map(|i| {
            let v = y_top * i as f64 / Y_TICKS as f64;
            YTick {
                y: f1(y(v)),
                label_y: f1(y(v) + 4.0),
                label: axis_number(v, y_top),
            }
        })
        .collect();
    let step = label_step(n);
    let months = data
        .dates
        .iter()
        .enumerate()
        .map(|(m, date)| MonthTick {
            m,
            x: f1(x(m)),
            label: month_label(*date),
            major: m % step == 0,
        })
        .collect();
    let column_width = x_width / last.max(1) as f64;
    let columns = data
        .dates
        .iter()
        .enumerate()
        .map(|(m, date)| HoverColumn {
            m,
            x: f1(x(m) - column_width / 2.0),
            width: f1(column_width),
            tip: column_tip(*date, data, m, quantity),
        })
        .collect();
    let series: Vec<SeriesView> = data
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (r, g, b) = series_colour(i);
            let shown: Vec<(usize, f64, &Point)> = s
                .points
                .iter()
                .enumerate()
                .filter_map(|(m, p)| p.value(quantity).map(|v| (m, v, p)))
                .collect();
            let segments = shown
                .windows(2)
                .filter(|w| w[1].0 == w[0].0 + 1)
                .map(|w| Segment {
                    m: w[0].0,
                    m2: w[1].0,
                    x1: f1(x(w[0].0)),
                    y1: f1(y(w[0].1)),
                    x2: f1(x(w[1].0)),
                    y2: f1(y(w[1].1)),
                })
                .collect();
            let points = shown
                .iter()
                .map(|&(m, v, p)| PointView {
                    m,
                    x: f1(x(m)),
                    y: f1(y(v)),
                    tip: tip(&s.name, p, quantity),
                })
                .collect();
            SeriesView {
                name: group_display(&s.name).to_string(),
                colour: format!("#{r:02x}{g:02x}{b:02x}"),
                segments,
                points,
            }
        })
        .collect();
    ChartView {
        id: labels.id.to_string(),
        title: labels.title.to_string(),
        y_label: labels.y_label.to_string(),
        legend: labels.legend_title.map(|title| {
            let x = plot_right + 24.0;
            LegendView {
                title: title.to_string(),
                x: f1(x),
                title_y: f1(PLOT_TOP + 12.0),
                entries: series
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let y = PLOT_TOP + 36.0 + 22.0 * i as f64;
                        LegendEntry {
                            name: s.name.clone(),
                            colour: s.colour.clone(),
                            x1: f1(x),
                            x2: f1(x + 24.0),
                            marker_x: f1(x + 12.0),
                            y: f1(y),
                            text_x: f1(x + 32.0),
                            text_y: f1(y + 4.5),
                        }
                    })
                    .collect(),
            }
        }),
        view_width: f1(VIEW_WIDTH),
        view_height: f1(VIEW_HEIGHT),
        plot: Rect {
            x: f1(PLOT_LEFT),
            y: f1(PLOT_TOP),
            width: f1(plot_right - PLOT_LEFT),
            height: f1(PLOT_BOTTOM - PLOT_TOP),
            right: f1(plot_right),
            bottom: f1(PLOT_BOTTOM),
            middle: f1(f64::midpoint(PLOT_TOP, PLOT_BOTTOM)),
            center: f1(f64::midpoint(PLOT_LEFT, plot_right)),
            tick_x: f1(PLOT_LEFT - 8.0),
            tick_y: f1(PLOT_BOTTOM + 20.0),
        },
        x_left: f1(x_left),
        x_width: f1(x_width),
        last,
        y_ticks,
        months,
        columns,
        series,
        empty: max.is_none(),
        ranges: RANGES
            .iter()
            .map(|&(label, months)| RangeButton {
                label: label.to_string(),
                months,
                pressed: months == 0,
            })
            .collect(),
        x_label_y: f1(PLOT_BOTTOM + 48.0),
    }
}

/// The monthly table behind `data`: one row per month and series, redacted rows blank.
pub fn table_view(data: &ChartData, group_header: Option<&str>) -> TableView {
    let mut rows = Vec::new();
    for (i, date) in data.dates.iter().enumerate() {
        for s in &data.series {
            let p = &s.points[i];
            rows.push(TableRow {
                month: month_label(*date),
                date: date.format("%Y-%m-%d").to_string(),
                group: group_header.map(|_| group_display(&s.name).to_string()),
                numerator: p.numerator.map(format_count).unwrap_or_default(),
                denominator: p.denominator.map(format_count).unwrap_or_default(),
                rate: p.rate_per_1000.map(format_rate).unwrap_or_default(),
                redacted: p.is_redacted(),
            });
        }
    }
    TableView {
        group_header: group_header.map(str::to_string),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plots::data::{parse_measure_csv, MeasureColumns};
    use std::path::Path;

    fn data(text: &str) -> ChartData {
        let cols = MeasureColumns::new(Some("sex"), "had_pulse_ox", "population");
        let rows = parse_measure_csv(Path::new("m.csv"), text.as_bytes(), &cols).unwrap();
        ChartData::from_rows(Path::new("m.csv"), Some("sex"), &rows, |_| true).unwrap()
    }

    const TEXT: &str = "sex,had_pulse_ox,population,value,date\n\
        F,10.0,1000,,2020-01-01\nM,3.0,1000,,2020-01-01\n\
        F,20.0,1000,,2020-02-01\nM,30.0,1000,,2020-02-01\n\
        F,40.0,1000,,2020-03-01\nM,60.0,2000,,2020-03-01\n";

    fn labels() -> ChartLabels<'static> {
        ChartLabels {
            id: "sex",
            title: "Rate by sex",
            y_label: "Rate per 1,000",
            legend_title: Some("Sex"),
        }
    }

    #[test]
    fn geometry_maps_months_and_values_into_the_plot() {
        let v = chart_view(&data(TEXT), Quantity::RatePer1000, labels());
        assert_eq!(v.last, 2);
        assert_eq!(v.months.len(), 3);
        assert_eq!(v.months[0].x, f1(PLOT_LEFT + X_PAD));
        assert_eq!(v.months[2].x, f1(VIEW_WIDTH - 140.0 - X_PAD));
        let legend = v.legend.as_ref().unwrap();
        assert_eq!(legend.title, "Sex");
        let names: Vec<_> = legend.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["F", "M"]);
        assert_eq!(legend.entries[1].colour, "#ff7f0e");
        // Max rate 40 → axis 0..50 (40 * 1.05 = 42 → 50).
        assert_eq!(v.y_ticks.last().unwrap().label, "50");
        let f = &v.series[0];
        assert_eq!(f.colour, "#1f77b4");
        assert_eq!(f.points.len(), 3);
        assert_eq!(f.segments.len(), 2);
        let top = PLOT_BOTTOM - 40.0 / 50.0 * (PLOT_BOTTOM - PLOT_TOP);
        assert_eq!(f.points[2].y, f1(top));
        assert_eq!(
            f.points[0].tip,
            "F, Jan 2020: 10.00 per 1,000 (10 of 1,000 registered patients)"
        );
        // M's January (3) is redacted: no marker, no segment into February.
        let m = &v.series[1];
        assert_eq!(m.points.iter().map(|p| p.m).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(m.segments.len(), 1);
        assert_eq!((m.segments[0].m, m.segments[0].m2), (1, 2));
        assert!(!v.empty);
        // Hover columns: one per month, listing every series.
        assert_eq!(v.columns.len(), 3);
        assert_eq!(
            v.columns[0].tip,
            "Jan 2020\nF: 10.00 per 1,000\nM: redacted"
        );
        assert_eq!(
            v.columns[2].tip,
            "Mar 2020\nF: 40.00 per 1,000\nM: 30.00 per 1,000"
        );
    }

    #[test]
    fn table_blanks_redacted_rows() {
        let t = table_view(&data(TEXT), Some("Sex"));
        assert_eq!(t.rows.len(), 6);
        let m_jan = &t.rows[1];
        assert_eq!(
            (m_jan.month.as_str(), m_jan.group.as_deref()),
            ("Jan 2020", Some("M"))
        );
        assert!(m_jan.redacted);
        assert_eq!(
            (
                m_jan.numerator.as_str(),
                m_jan.denominator.as_str(),
                m_jan.rate.as_str()
            ),
            ("", "", "")
        );
        let m_mar = &t.rows[5];
        assert_eq!(
            (
                m_mar.numerator.as_str(),
                m_mar.denominator.as_str(),
                m_mar.rate.as_str()
            ),
            ("60", "2,000", "30.00")
        );
    }

    #[test]
    fn legend_makes_room_for_the_longest_name() {
        assert_eq!(
            plot_right_with_legend(["F", "Sex"].into_iter()),
            VIEW_WIDTH - 140.0
        );
        let right = plot_right_with_legend(["Yorkshire and the Humber"].into_iter());
        assert_eq!(right, VIEW_WIDTH - (64.0 + 8.2 * 24.0));
    }

    #[test]
    fn number_formats() {
        assert_eq!(format_count(1302.0), "1,302");
        assert_eq!(format_count(2.5), "2.5");
        assert_eq!(format_rate(0.2661), "0.266");
        assert_eq!(format_rate(14.2011), "14.20");
        assert_eq!(format_rate(1500.0), "1,500.0");
    }
}
