//! Drawing one chart with plotters into an RGB buffer, and encoding it as JPEG: a line chart
//! (one line per group) or a deciles chart (the 10th…90th percentiles dashed, the median solid).
//!
//! Text is drawn with the DejaVu Sans font carried in `assets/`, registered with plotters'
//! `ab_glyph` text path, so no system font is needed. Drawing and encoding are deterministic:
//! the same data gives the same bytes.

use std::sync::OnceLock;

use std::ops::Range;

use charts::axis::{axis_number, label_step, nice_ceiling, series_colour};
use charts::data::{group_display, month_label, ChartData, Quantity};
use charts::deciles::{DecilesData, MEDIAN};
use charts::{Body, LoadedChart};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::text::GlyphText;

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Errors drawing or encoding a chart.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    /// The carried font could not be loaded.
    #[error("cannot load the carried font DejaVuSans.ttf")]
    Font,
    /// plotters failed to draw.
    #[error("drawing {title:?} failed: {message}")]
    Draw {
        /// The chart's title.
        title: String,
        /// plotters' message.
        message: String,
    },
    /// The JPEG encoder failed.
    #[error("encoding {title:?} as JPEG failed: {source}")]
    Encode {
        /// The chart's title.
        title: String,
        /// The encoder's error.
        source: jpeg_encoder::EncodingError,
    },
}

/// The words on a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartText<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Y-axis label.
    pub y_label: &'a str,
    /// Legend heading; `None` draws no legend (a single series).
    pub legend_title: Option<&'a str>,
    /// Counts at or below this were redacted (said when nothing is left to draw).
    pub redact_at_or_below: u32,
}

/// Image size in pixels.
pub const WIDTH: u32 = 1100;
/// Image size in pixels.
pub const HEIGHT: u32 = 640;
/// JPEG quality (0-100).
pub const JPEG_QUALITY: u8 = 90;

fn register_font() -> Result<(), DrawError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(DrawError::Font)
    }
}

/// What one chart draws.
#[derive(Clone, Copy)]
enum Drawn<'d> {
    Lines(&'d ChartData, Quantity),
    Deciles(&'d DecilesData),
}

/// A legend entry: name, colour, dashed, with a marker.
type LegendEntry = (String, (u8, u8, u8), bool, bool);

/// The legend's entries of a deciles chart: (name, dashed).
pub const DECILES_LEGEND: [(&str, bool); 2] = [("Median", false), ("10th-90th percentiles", true)];

impl Drawn<'_> {
    fn months(&self) -> usize {
        match self {
            Self::Lines(d, _) => d.dates.len(),
            Self::Deciles(d) => d.months.len(),
        }
    }

    fn date(&self, i: usize) -> Option<chrono::NaiveDate> {
        match self {
            Self::Lines(d, _) => d.dates.get(i).copied(),
            Self::Deciles(d) => d.months.get(i).map(|m| m.date),
        }
    }

    fn max_value(&self) -> Option<f64> {
        match self {
            Self::Lines(d, q) => d.max_value(*q),
            Self::Deciles(d) => d.max_value(),
        }
    }

    /// Legend entries: name, colour, dashed, marker.
    fn legend(&self) -> Vec<LegendEntry> {
        match self {
            Self::Lines(d, _) => d
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    (
                        group_display(&s.name).to_string(),
                        series_colour(i),
                        false,
                        true,
                    )
                })
                .collect(),
            Self::Deciles(_) => DECILES_LEGEND
                .iter()
                .map(|(name, dashed)| ((*name).to_string(), series_colour(0), *dashed, false))
                .collect(),
        }
    }
}

/// Draws `data` and returns the image as `WIDTH * HEIGHT` RGB pixels, row by row.
///
/// Redacted points are not drawn; a line is broken where a month is missing. The legend (one
/// entry per series, with the series' colour) sits to the right of the plot area.
pub fn render_rgb(
    data: &ChartData,
    quantity: Quantity,
    text: ChartText<'_>,
) -> Result<Vec<u8>, DrawError> {
    render(Drawn::Lines(data, quantity), text)
}

/// Draws a deciles chart: per month, the 10th…90th percentiles dashed and the median solid; a
/// month with too few groups is a gap.
pub fn render_deciles_rgb(data: &DecilesData, text: ChartText<'_>) -> Result<Vec<u8>, DrawError> {
    render(Drawn::Deciles(data), text)
}

/// Draws a chart of the chart model, with its own words.
pub fn render_chart_rgb(
    chart: &LoadedChart,
    redact_at_or_below: u32,
) -> Result<Vec<u8>, DrawError> {
    let spec = &chart.spec;
    let text = ChartText {
        title: &spec.title,
        y_label: &spec.y_label,
        legend_title: spec.legend.as_deref(),
        redact_at_or_below,
    };
    match &chart.body {
        Body::Lines(d) => render_rgb(d, spec.quantity, text),
        Body::Deciles(d) => render_deciles_rgb(d, text),
    }
}

/// [`render_chart_rgb`], encoded as a baseline JPEG.
pub fn render_chart_jpeg(
    chart: &LoadedChart,
    redact_at_or_below: u32,
) -> Result<Vec<u8>, DrawError> {
    encode(
        &render_chart_rgb(chart, redact_at_or_below)?,
        &chart.spec.title,
    )
}

fn render(drawn: Drawn<'_>, text: ChartText<'_>) -> Result<Vec<u8>, DrawError> {
    register_font()?;
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    let draw_err = |e: &dyn std::fmt::Display| DrawError::Draw {
        title: text.title.to_string(),
        message: e.to_string(),
    };
    {
        let font = ab_glyph::FontRef::try_from_slice(FONT).map_err(|_| DrawError::Font)?;
        let backend = GlyphText::new(BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)), font);
        let root = backend.into_drawing_area();
        draw(&root, drawn, text).map_err(|e| draw_err(&e))?;
        root.present().map_err(|e| draw_err(&e))?;
    }
    Ok(buf)
}

/// Draws `data` (see [`render_rgb`]) and encodes it as a baseline JPEG.
pub fn render_jpeg(
    data: &ChartData,
    quantity: Quantity,
    text: ChartText<'_>,
) -> Result<Vec<u8>, DrawError> {
    encode(&render_rgb(data, quantity, text)?, text.title)
}

fn encode(rgb: &[u8], title: &str) -> Result<Vec<u8>, DrawError> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
    // Full-resolution colour: thin coloured lines keep their colour.
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    #[allow(clippy::cast_possible_truncation)] // WIDTH and HEIGHT are constants below 2^16.
    encoder
        .encode(
            rgb,
            WIDTH as u16,
            HEIGHT as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|source| DrawError::Encode {
            title: title.to_string(),
            source,
        })?;
    Ok(out)
}

type Area<'a> = DrawingArea<GlyphText<'a>, plotters::coord::Shift>;
type DrawResult<'a> =
    Result<(), DrawingAreaErrorKind<<GlyphText<'a> as DrawingBackend>::ErrorType>>;

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// What an empty chart says instead of drawing empty axes.
pub fn empty_message(deciles: bool, redact_at_or_below: u32) -> String {
    if deciles {
        format!(
            "No values to show: no month has more than {redact_at_or_below} groups with a value"
        )
    } else {
        format!(
            "No values to show: every month is redacted (counts of {redact_at_or_below} or fewer)"
        )
    }
}

fn draw<'a>(root: &Area<'a>, drawn: Drawn<'_>, text: ChartText<'_>) -> DrawResult<'a> {
    root.fill(&WHITE)?;
    let Some(max) = drawn.max_value() else {
        // Nothing left after redaction: the title and a sentence, no empty axes.
        let (w, h) = root.dim_in_pixel();
        root.draw(&Text::new(
            text.title.to_string(),
            (w as i32 / 2, 40),
            (FAMILY, 22)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        root.draw(&Text::new(
            empty_message(matches!(drawn, Drawn::Deciles(_)), text.redact_at_or_below),
            (w as i32 / 2, h as i32 / 2),
            (FAMILY, 16)
                .into_font()
                .color(&RGBColor(0x55, 0x55, 0x55))
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        return Ok(());
    };
    let legend_font = TextStyle::from((FAMILY, 16).into_font());
    let entries = drawn.legend();
    let legend_width = match text.legend_title {
        None => 0,
        Some(heading) => {
            let widest = entries
                .iter()
                .map(|e| e.0.as_str())
                .chain([heading])
                .map(|t| root.estimate_text_size(t, &legend_font).map(|(w, _)| w))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .max()
                .unwrap_or(0);
            widest + 80
        }
    };
    let (plot_area, legend_area) = root.split_horizontally(WIDTH - legend_width);

    let n = drawn.months();
    let step = label_step(n);
    let x_range = MonthAxis { months: n, step };
    let y_top = nice_ceiling(max * 1.08);

    let mut chart = ChartBuilder::on(&plot_area)
        .caption(text.title, (FAMILY, 22))
        .margin_top(12)
        .margin_left(12)
        .margin_right(if legend_width > 0 { 8 } else { 28 })
        .margin_bottom(8)
        .x_label_area_size(56)
        .y_label_area_size(88)
        .build_cartesian_2d(x_range, 0f64..y_top)?;

    let x_fmt = |x: &f64| {
        let i = x.round();
        if i >= 0.0 {
            drawn.date(i as usize).map(month_label).unwrap_or_default()
        } else {
            String::new()
        }
    };
    let y_fmt = |y: &f64| axis_number(*y, y_top);
    chart
        .configure_mesh()
        .x_desc("Date")
        .y_desc(text.y_label)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(8)
        .y_max_light_lines(1)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .bold_line_style(RGBColor(0xd0, 0xd0, 0xd0))
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
        .draw()?;

    match drawn {
        Drawn::Lines(data, quantity) => {
            for (i, series) in data.series.iter().enumerate() {
                let colour = rgb(series_colour(i));
                let shown: Vec<(usize, f64)> = series
                    .points
                    .iter()
                    .enumerate()
                    .filter_map(|(m, p)| p.value(quantity).map(|v| (m, v)))
                    .collect();
                for run in shown.chunk_by(|a, b| b.0 == a.0 + 1) {
                    chart.draw_series(LineSeries::new(
                        run.iter().map(|&(m, v)| (m as f64, v)),
                        colour.stroke_width(2),
                    ))?;
                }
                chart.draw_series(
                    shown
                        .iter()
                        .map(|&(m, v)| Circle::new((m as f64, v), 3, colour.filled())),
                )?;
            }
        }
        Drawn::Deciles(data) => {
            let colour = rgb(series_colour(0));
            for p in 0..9 {
                let shown: Vec<(usize, f64)> = data
                    .months
                    .iter()
                    .enumerate()
                    .filter_map(|(m, month)| month.values.map(|v| (m, v[p])))
                    .collect();
                for run in shown.chunk_by(|a, b| b.0 == a.0 + 1) {
                    let points = run.iter().map(|&(m, v)| (m as f64, v));
                    if p == MEDIAN {
                        chart.draw_series(LineSeries::new(points, colour.stroke_width(2)))?;
                    } else {
                        chart.draw_series(DashedLineSeries::new(
                            points,
                            6,
                            4,
                            colour.stroke_width(1),
                        ))?;
                    }
                }
            }
        }
    }

    if let Some(heading) = text.legend_title {
        draw_legend(&legend_area, &entries, heading)?;
    }
    Ok(())
}

fn draw_legend<'a>(area: &Area<'a>, entries: &[LegendEntry], heading: &str) -> DrawResult<'a> {
    let font = (FAMILY, 16).into_font();
    let left_middle = Pos::new(HPos::Left, VPos::Center);
    let top = 60;
    area.draw(&Text::new(
        heading.to_string(),
        (8, top),
        font.clone().color(&BLACK).pos(left_middle),
    ))?;
    for (i, (name, colour, dashed, marker)) in entries.iter().enumerate() {
        let y = top + 30 + 26 * i as i32;
        let colour = rgb(*colour);
        if *dashed {
            area.draw(&plotters::element::DashedPathElement::new(
                vec![(8, y), (40, y)],
                6,
                4,
                colour.stroke_width(1),
            ))?;
        } else {
            area.draw(&PathElement::new(
                vec![(8, y), (40, y)],
                colour.stroke_width(2),
            ))?;
        }
        if *marker {
            area.draw(&Circle::new((24, y), 3, colour.filled()))?;
        }
        area.draw(&Text::new(
            name.clone(),
            (50, y),
            font.clone().color(&BLACK).pos(left_middle),
        ))?;
    }
    Ok(())
}

/// The x axis: month `i` of the chart at `i`, labelled every `step` months, a light grid line
/// every month.
struct MonthAxis {
    months: usize,
    step: usize,
}

impl Ranged for MonthAxis {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        -0.5..(self.months.max(1) as f64 - 0.5)
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let r = self.range();
        let frac = (value - r.start) / (r.end - r.start);
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let step = if hint.weight().allow_light_points() {
            1
        } else {
            self.step
        };
        (0..self.months).step_by(step).map(|i| i as f64).collect()
    }
}
