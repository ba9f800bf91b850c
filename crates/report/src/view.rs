//! What the templates draw: each chart's SVG geometry (precomputed here, so the templates only
//! place numbers) and the monthly table behind it, both already redacted.

use charts::axis::{
    axis_number, format_count, format_rate, label_step, nice_ceiling, per_text, series_colour,
};
use charts::data::{group_display, month_label, ChartData, Point, Quantity};
use charts::deciles::{DecilesData, MEDIAN, PERCENTILES};
use charts::{Body, LoadedChart};
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
    /// The plot's top and bottom (the script's `data-top`, `data-bottom`: where the y axis
    /// rescales).
    pub y_range: (String, String),
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
    /// What the chart says when it is empty.
    pub empty_text: String,
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
    /// A dashed line sample (a decile).
    pub dashed: bool,
    /// Whether the entry has a marker (lines with markers).
    pub marker: bool,
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
    /// Index from the bottom (the script relabels ticks by it when the y axis rescales).
    pub i: usize,
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
    /// Drawn dashed (a decile other than the median).
    pub dashed: bool,
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
    /// The values at both ends (for the script's y rescale).
    pub v1: String,
    /// See `v1`.
    pub v2: String,
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
    /// The value (for the script's y rescale).
    pub v: String,
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
    /// The column headings after `Month`.
    pub columns: Vec<String>,
    /// One row per month (and group), in month order.
    pub rows: Vec<TableRow>,
    /// The same numbers as CSV, unformatted (the section's download).
    pub csv: String,
}

/// One month (of one group); redacted rows have blank numbers.
#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// `Jan 2019`.
    pub month: String,
    /// `2019-01-01`.
    pub date: String,
    /// The cells after the month.
    pub cells: Vec<String>,
    /// Whether the row was redacted (or, in a deciles table, left out).
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
    /// What the numerator counts (`patients with a code`).
    pub numerator: &'a str,
    /// What the denominator counts (`registered patients`).
    pub denominator: &'a str,
    /// Counts at or below this are redacted.
    pub redact_at_or_below: u32,
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}

/// The value of a point as data (Python's float repr: round-trips exactly).
fn data_value(v: f64) -> String {
    files::python_float_repr(v)
}

fn tip(series: &str, point: &Point, quantity: Quantity, labels: &ChartLabels<'_>) -> String {
    let per = match quantity {
        Quantity::Rate { per } => per,
        Quantity::Count => 1000.0,
    };
    let (Some(n), Some(d), Some(r)) = (point.numerator, point.denominator, point.rate(per)) else {
        return String::new();
    };
    let month = month_label(point.date);
    let prefix = if labels.legend_title.is_some() {
        format!("{}, ", group_display(series))
    } else {
        String::new()
    };
    let (num, den, per) = (labels.numerator, labels.denominator, per_text(per));
    match quantity {
        Quantity::Count => format!(
            "{prefix}{month}: {} {num} ({} {per} of {} {den})",
            format_count(n),
            format_rate(r),
            format_count(d)
        ),
        Quantity::Rate { .. } => format!(
            "{prefix}{month}: {} {per} ({} of {} {den})",
            format_rate(r),
            format_count(n),
            format_count(d)
        ),
    }
}

/// The hover text of month `m`: the month, then one line per series.
fn column_tip(
    date: chrono::NaiveDate,
    data: &ChartData,
    m: usize,
    quantity: Quantity,
    labels: &ChartLabels<'_>,
) -> String {
    let per = match quantity {
        Quantity::Rate { per } => per,
        Quantity::Count => 1000.0,
    };
    let per_words = per_text(per);
    let mut lines = vec![month_label(date)];
    for s in &data.series {
        let p = &s.points[m];
        let value = match (quantity, p.numerator, p.denominator, p.rate(per)) {
            (Quantity::Count, Some(n), Some(d), Some(r)) => format!(
                "{} {}, {} {per_words} of {} {}",
                format_count(n),
                labels.numerator,
                format_rate(r),
                format_count(d),
                labels.denominator
            ),
            (Quantity::Rate { .. }, _, _, Some(r)) => format!("{} {per_words}", format_rate(r)),
            _ => "redacted".to_string(),
        };
        lines.push(if labels.legend_title.is_some() {
            format!("{}: {value}", group_display(&s.name))
        } else {
            value
        });
    }
    lines.join("\n")
}

/// `10th`, `50th (median)`.
pub fn percentile_name(p: u32) -> String {
    if p == 50 {
        "50th (median)".to_string()
    } else {
        format!("{p}th")
    }
}

/// The geometry shared by line and deciles charts at full range.
struct Layout {
    plot_right: f64,
    x_left: f64,
    x_width: f64,
    last: usize,
    y_top: f64,
}

impl Layout {
    fn new<'a>(months: usize, max: Option<f64>, legend: Option<(&'a str, Vec<&'a str>)>) -> Self {
        let plot_right = match legend {
            Some((title, names)) => plot_right_with_legend(names.into_iter().chain([title])),
            None => PLOT_RIGHT,
        };
        let x_left = PLOT_LEFT + X_PAD;
        Layout {
            plot_right,
            x_left,
            x_width: plot_right - PLOT_LEFT - 2.0 * X_PAD,
            last: months.saturating_sub(1),
            y_top: nice_ceiling(max.unwrap_or(0.0) * 1.05),
        }
    }

    fn x(&self, m: usize) -> f64 {
        self.x_left + m as f64 / self.last.max(1) as f64 * self.x_width
    }

    fn y(&self, v: f64) -> f64 {
        PLOT_BOTTOM - v / self.y_top * (PLOT_BOTTOM - PLOT_TOP)
    }

    /// A series' segments between consecutive shown months, and its markers.
    fn lines(&self, shown: &[(usize, f64)]) -> Vec<Segment> {
        shown
            .windows(2)
            .filter(|w| w[1].0 == w[0].0 + 1)
            .map(|w| Segment {
                m: w[0].0,
                m2: w[1].0,
                x1: f1(self.x(w[0].0)),
                y1: f1(self.y(w[0].1)),
                x2: f1(self.x(w[1].0)),
                y2: f1(self.y(w[1].1)),
                v1: data_value(w[0].1),
                v2: data_value(w[1].1),
            })
            .collect()
    }

    /// The chart around `series`, with hover columns of `tips` (one per month).
    #[allow(clippy::too_many_arguments)]
    fn view(
        &self,
        dates: &[chrono::NaiveDate],
        labels: &ChartLabels<'_>,
        series: Vec<SeriesView>,
        legend_entries: Option<Vec<(String, String, bool, bool)>>,
        tips: Vec<String>,
        empty: bool,
        empty_text: String,
    ) -> ChartView {
        let y_ticks = (0..=Y_TICKS)
            .map(|i| {
                let v = self.y_top * i as f64 / Y_TICKS as f64;
                YTick {
                    i,
                    y: f1(self.y(v)),
                    label_y: f1(self.y(v) + 4.0),
                    label: axis_number(v, self.y_top),
                }
            })
            .collect();
        let step = label_step(dates.len());
        let months = dates
            .iter()
            .enumerate()
            .map(|(m, date)| MonthTick {
                m,
                x: f1(self.x(m)),
                label: month_label(*date),
                major: m % step == 0,
            })
            .collect();
        let column_width = self.x_width / self.last.max(1) as f64;
        let columns = tips
            .into_iter()
            .enumerate()
            .map(|(m, tip)| HoverColumn {
                m,
                x: f1(self.x(m) - column_width / 2.0),
                width: f1(column_width),
                tip,
            })
            .collect();
        let plot_right = self.plot_right;
        ChartView {
            id: labels.id.to_string(),
            title: labels.title.to_string(),
            y_label: labels.y_label.to_string(),
            legend: labels
                .legend_title
                .zip(legend_entries)
                .map(|(title, entries)| {
                    let x = plot_right + 24.0;
                    LegendView {
                        title: title.to_string(),
                        x: f1(x),
                        title_y: f1(PLOT_TOP + 12.0),
                        entries: entries
                            .into_iter()
                            .enumerate()
                            .map(|(i, (name, colour, dashed, marker))| {
                                let y = PLOT_TOP + 36.0 + 22.0 * i as f64;
                                LegendEntry {
                                    name,
                                    colour,
                                    dashed,
                                    marker,
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
            x_left: f1(self.x_left),
            x_width: f1(self.x_width),
            last: self.last,
            y_range: (f1(PLOT_TOP), f1(PLOT_BOTTOM)),
            y_ticks,
            months,
            columns,
            series,
            empty,
            empty_text,
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
}

fn colour_hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Lays out `data` as an SVG line chart at full range.
pub fn chart_view(data: &ChartData, quantity: Quantity, labels: ChartLabels<'_>) -> ChartView {
    let max = data.max_value(quantity);
    let layout = Layout::new(
        data.dates.len(),
        max,
        labels.legend_title.map(|t| {
            (
                t,
                data.series.iter().map(|s| group_display(&s.name)).collect(),
            )
        }),
    );
    let series: Vec<SeriesView> = data
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let shown: Vec<(usize, f64)> = s
                .points
                .iter()
                .enumerate()
                .filter_map(|(m, p)| p.value(quantity).map(|v| (m, v)))
                .collect();
            let points = shown
                .iter()
                .map(|&(m, v)| PointView {
                    m,
                    x: f1(layout.x(m)),
                    y: f1(layout.y(v)),
                    v: data_value(v),
                    tip: tip(&s.name, &s.points[m], quantity, &labels),
                })
                .collect();
            SeriesView {
                name: group_display(&s.name).to_string(),
                colour: colour_hex(series_colour(i)),
                dashed: false,
                segments: layout.lines(&shown),
                points,
            }
        })
        .collect();
    let entries = series
        .iter()
        .map(|s| (s.name.clone(), s.colour.clone(), false, true))
        .collect();
    let tips = data
        .dates
        .iter()
        .enumerate()
        .map(|(m, date)| column_tip(*date, data, m, quantity, &labels))
        .collect();
    layout.view(
        &data.dates,
        &labels,
        series,
        Some(entries),
        tips,
        max.is_none(),
        format!(
            "No values to show: every month is redacted (counts of {} or fewer)",
            labels.redact_at_or_below
        ),
    )
}

/// The legend of a deciles chart: the median solid, the other percentiles dashed.
pub const DECILES_LEGEND: [(&str, bool); 2] = [("Median", false), ("10th-90th percentiles", true)];

/// Lays out a deciles chart: nine lines (the median solid, with markers whose hover text is the
/// month's median; the others dashed), and hover columns listing every percentile of the month.
pub fn deciles_view(data: &DecilesData, labels: ChartLabels<'_>) -> ChartView {
    let max = data.max_value();
    let dates = data.dates();
    let layout = Layout::new(
        dates.len(),
        max,
        labels
            .legend_title
            .map(|t| (t, DECILES_LEGEND.iter().map(|(n, _)| *n).collect())),
    );
    let colour = colour_hex(series_colour(0));
    let series = PERCENTILES
        .iter()
        .enumerate()
        .map(|(p, percentile)| {
            let shown: Vec<(usize, f64)> = data
                .months
                .iter()
                .enumerate()
                .filter_map(|(m, month)| month.values.map(|v| (m, v[p])))
                .collect();
            let points = if p == MEDIAN {
                shown
                    .iter()
                    .map(|&(m, v)| PointView {
                        m,
                        x: f1(layout.x(m)),
                        y: f1(layout.y(v)),
                        v: data_value(v),
                        tip: format!(
                            "{}: median {} ({} groups)",
                            month_label(data.months[m].date),
                            format_rate(v),
                            data.months[m].groups
                        ),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            SeriesView {
                name: percentile_name(*percentile),
                colour: colour.clone(),
                dashed: p != MEDIAN,
                segments: layout.lines(&shown),
                points,
            }
        })
        .collect();
    let entries = DECILES_LEGEND
        .iter()
        .map(|(name, dashed)| ((*name).to_string(), colour.clone(), *dashed, false))
        .collect();
    let tips = data
        .months
        .iter()
        .map(|month| {
            let mut lines = vec![format!(
                "{} ({} groups)",
                month_label(month.date),
                month.groups
            )];
            match month.values {
                Some(values) => {
                    for (p, v) in PERCENTILES.iter().zip(values).rev() {
                        lines.push(format!("{}: {}", percentile_name(*p), format_rate(v)));
                    }
                }
                None => lines.push(format!(
                    "not shown ({} or fewer groups)",
                    labels.redact_at_or_below
                )),
            }
            lines.join("\n")
        })
        .collect();
    layout.view(
        &dates,
        &labels,
        series,
        Some(entries),
        tips,
        max.is_none(),
        format!(
            "No values to show: no month has more than {} groups with a value",
            labels.redact_at_or_below
        ),
    )
}

/// Quotes a CSV field when it needs it.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A count as data: a whole number without separators (`2309`), else Python's repr.
fn count_data(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        files::python_float_repr(x)
    }
}

/// The monthly table behind a line chart: one row per month and series, redacted rows blank.
pub fn table_view(
    data: &ChartData,
    group_header: Option<&str>,
    chart: &charts::ChartSpec,
) -> TableView {
    let per = match chart.quantity {
        Quantity::Rate { per } => per,
        Quantity::Count => 1000.0,
    };
    let mut columns: Vec<String> = group_header.map(str::to_string).into_iter().collect();
    columns.extend([
        charts::model::capitalise(&chart.numerator_label),
        charts::model::capitalise(&chart.denominator_label),
        format!("Rate {}", per_text(per)),
    ]);
    let m = &chart.measure;
    let mut csv = String::from("date");
    if group_header.is_some() {
        csv.push(',');
        csv.push_str(&csv_field(&m.group_by.join("_")));
    }
    csv.push_str(&format!(
        ",{},{},rate_per_{}\n",
        csv_field(&m.numerator),
        csv_field(&m.denominator),
        count_data(per)
    ));
    let mut rows = Vec::new();
    for (i, date) in data.dates.iter().enumerate() {
        for s in &data.series {
            let p = &s.points[i];
            let mut cells: Vec<String> = group_header
                .map(|_| group_display(&s.name).to_string())
                .into_iter()
                .collect();
            cells.extend([
                p.numerator.map(format_count).unwrap_or_default(),
                p.denominator.map(format_count).unwrap_or_default(),
                p.rate(per).map(format_rate).unwrap_or_default(),
            ]);
            let day = date.format("%Y-%m-%d").to_string();
            csv.push_str(&day);
            if group_header.is_some() {
                csv.push(',');
                csv.push_str(&csv_field(&s.name));
            }
            for x in [p.numerator, p.denominator] {
                csv.push(',');
                csv.push_str(&x.map(count_data).unwrap_or_default());
            }
            csv.push(',');
            csv.push_str(&p.rate(per).map(data_value).unwrap_or_default());
            csv.push('\n');
            rows.push(TableRow {
                month: month_label(*date),
                date: day,
                cells,
                redacted: p.is_redacted(),
            });
        }
    }
    TableView { columns, rows, csv }
}

/// The monthly table behind a deciles chart: the number of groups with a value and every
/// percentile; months left out are blank.
pub fn deciles_table_view(data: &DecilesData) -> TableView {
    let mut columns = vec!["Groups with a value".to_string()];
    columns.extend(PERCENTILES.iter().map(|p| percentile_name(*p)));
    let mut csv = String::from("date,groups");
    for p in PERCENTILES {
        csv.push_str(&format!(",p{p}"));
    }
    csv.push('\n');
    let rows = data
        .months
        .iter()
        .map(|month| {
            let day = month.date.format("%Y-%m-%d").to_string();
            csv.push_str(&format!("{day},{}", month.groups));
            let mut cells = vec![format_count(month.groups as f64)];
            for i in 0..PERCENTILES.len() {
                let v = month.values.map(|v| v[i]);
                cells.push(v.map(format_rate).unwrap_or_default());
                csv.push(',');
                csv.push_str(&v.map(data_value).unwrap_or_default());
            }
            csv.push('\n');
            TableRow {
                month: month_label(month.date),
                date: day,
                cells,
                redacted: month.values.is_none(),
            }
        })
        .collect();
    TableView { columns, rows, csv }
}

/// The chart and the table of a loaded chart.
pub fn views(chart: &LoadedChart, redact_at_or_below: u32) -> (ChartView, TableView) {
    let spec = &chart.spec;
    let labels = ChartLabels {
        id: &spec.id,
        title: &spec.caption,
        y_label: &spec.y_label,
        legend_title: spec.legend.as_deref(),
        numerator: &spec.numerator_label,
        denominator: &spec.denominator_label,
        redact_at_or_below,
    };
    match &chart.body {
        Body::Lines(data) => (
            chart_view(data, spec.quantity, labels),
            table_view(data, spec.legend.as_deref(), spec),
        ),
        Body::Deciles(data) => (deciles_view(data, labels), deciles_table_view(data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charts::data::{parse_measure_csv, MeasureColumns, REDACTION_THRESHOLD};
    use std::path::Path;

    fn data(text: &str) -> ChartData {
        let cols = MeasureColumns::new(Some("sex"), "had_pulse_ox", "population");
        let rows = parse_measure_csv(Path::new("m.csv"), text.as_bytes(), &cols).unwrap();
        ChartData::from_rows(
            Path::new("m.csv"),
            Some("sex"),
            &rows,
            |_| true,
            REDACTION_THRESHOLD,
        )
        .unwrap()
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
            numerator: "patients with a code",
            denominator: "registered patients",
            redact_at_or_below: 5,
        }
    }

    #[test]
    fn geometry_maps_months_and_values_into_the_plot() {
        let v = chart_view(&data(TEXT), Quantity::PER_1000, labels());
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
        assert_eq!(f.points[2].v, "40.0");
        assert_eq!(
            (f.segments[1].v1.as_str(), f.segments[1].v2.as_str()),
            ("20.0", "40.0")
        );
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

    fn spec() -> charts::ChartSpec {
        let study = charts::Study {
            measures: vec![
                charts::Measure::new("m", "had_pulse_ox", "population").grouped(&["sex"])
            ],
            ..charts::Study::default()
        };
        charts::plan(&study, None).unwrap().charts.remove(0)
    }

    #[test]
    fn table_blanks_redacted_rows() {
        let t = table_view(&data(TEXT), Some("Sex"), &spec());
        assert_eq!(
            t.columns,
            ["Sex", "Had pulse ox", "Population", "Rate per 1,000"]
        );
        assert_eq!(t.rows.len(), 6);
        let m_jan = &t.rows[1];
        assert_eq!(m_jan.month, "Jan 2020");
        assert!(m_jan.redacted);
        assert_eq!(m_jan.cells, ["M", "", "", ""]);
        assert_eq!(t.rows[5].cells, ["M", "60", "2,000", "30.00"]);
        let csv: Vec<&str> = t.csv.lines().collect();
        assert_eq!(csv[0], "date,sex,had_pulse_ox,population,rate_per_1000");
        assert_eq!(csv[1], "2020-01-01,F,10,1000,10.0");
        assert_eq!(csv[2], "2020-01-01,M,,,");
        assert_eq!(csv.len(), 7);
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
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("a"), "a");
        assert_eq!(csv_field("York, and \"the\""), "\"York, and \"\"the\"\"\"");
        assert_eq!(count_data(2309.0), "2309");
        assert_eq!(count_data(2.5), "2.5");
    }
}
