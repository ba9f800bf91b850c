//! Drawing one chart with plotters into an RGB buffer, and encoding it as JPEG.
//!
//! Text is drawn with the DejaVu Sans font carried in `assets/`, registered with plotters'
//! `ab_glyph` text path, so no system font is needed. Drawing and encoding are deterministic:
//! the same data gives the same bytes.

use std::sync::OnceLock;

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::data::{month_label, ChartData, Quantity};
use crate::text::GlyphText;

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Line colours, in series order (matplotlib's `tab10`, as the study's figures had).
pub const PALETTE: [(u8, u8, u8); 10] = [
    (0x1f, 0x77, 0xb4),
    (0xff, 0x7f, 0x0e),
    (0x2c, 0xa0, 0x2c),
    (0xd6, 0x27, 0x28),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0xe3, 0x77, 0xc2),
    (0x7f, 0x7f, 0x7f),
    (0xbc, 0xbd, 0x22),
    (0x17, 0xbe, 0xcf),
];

/// The colour of the `i`-th series.
pub fn series_colour(i: usize) -> (u8, u8, u8) {
    PALETTE[i % PALETTE.len()]
}

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
        source: image::ImageError,
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

/// Draws `data` and returns the image as `WIDTH * HEIGHT` RGB pixels, row by row.
///
/// Redacted points are not drawn; a line is broken where a month is missing. The legend (one
/// entry per series, with the series' colour) sits to the right of the plot area.
pub fn render_rgb(
    data: &ChartData,
    quantity: Quantity,
    text: ChartText<'_>,
) -> Result<Vec<u8>, DrawError> {
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
        draw(&root, data, quantity, text).map_err(|e| draw_err(&e))?;
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
    let rgb = render_rgb(data, quantity, text)?;
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode(&rgb, WIDTH, HEIGHT, image::ExtendedColorType::Rgb8)
        .map_err(|source| DrawError::Encode {
            title: text.title.to_string(),
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

fn draw<'a>(
    root: &Area<'a>,
    data: &ChartData,
    quantity: Quantity,
    text: ChartText<'_>,
) -> DrawResult<'a> {
    root.fill(&WHITE)?;
    let legend_font = TextStyle::from((FAMILY, 16).into_font());
    let legend_width = match text.legend_title {
        None => 0,
        Some(heading) => {
            let widest = data
                .series
                .iter()
                .map(|s| crate::study::group_display(&s.name))
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

    let n = data.dates.len();
    let step = label_step(n);
    let x_range = MonthAxis { months: n, step };
    let max = data.max_value(quantity).unwrap_or(0.0);
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

    let dates = &data.dates;
    let x_fmt = |x: &f64| {
        let i = x.round();
        if i >= 0.0 && (i as usize) < dates.len() {
            month_label(dates[i as usize])
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

    if data.max_value(quantity).is_none() {
        let (w, h) = plot_area.dim_in_pixel();
        plot_area.draw(&Text::new(
            "No values to show: every month is redacted (counts of 5 or fewer)",
            (w as i32 / 2, h as i32 / 2),
            (FAMILY, 16)
                .into_font()
                .color(&RGBColor(0x55, 0x55, 0x55))
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }

    if let Some(heading) = text.legend_title {
        draw_legend(&legend_area, data, heading)?;
    }
    Ok(())
}

fn draw_legend<'a>(area: &Area<'a>, data: &ChartData, heading: &str) -> DrawResult<'a> {
    let font = (FAMILY, 16).into_font();
    let left_middle = Pos::new(HPos::Left, VPos::Center);
    let top = 60;
    area.draw(&Text::new(
        heading.to_string(),
        (8, top),
        font.clone().color(&BLACK).pos(left_middle),
    ))?;
    for (i, series) in data.series.iter().enumerate() {
        let y = top + 30 + 26 * i as i32;
        let colour = rgb(series_colour(i));
        area.draw(&PathElement::new(
            vec![(8, y), (40, y)],
            colour.stroke_width(2),
        ))?;
        area.draw(&Circle::new((24, y), 3, colour.filled()))?;
        area.draw(&Text::new(
            crate::study::group_display(&series.name).to_string(),
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

/// Months between x-axis labels: every month up to 13 months, then every 3rd, 6th or 12th.
pub fn label_step(months: usize) -> usize {
    match months {
        0..=13 => 1,
        14..=39 => 3,
        40..=78 => 6,
        _ => 12,
    }
}

/// The smallest "nice" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at or
/// above `x`; 1 for zero or less.
pub fn nice_ceiling(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&v| v >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * magnitude)
}

/// Formats an axis tick: thousands separators, and as many decimals as the axis range needs.
pub fn axis_number(y: f64, range_top: f64) -> String {
    let decimals = if range_top >= 20.0 {
        0
    } else if range_top >= 2.0 {
        1
    } else if range_top >= 0.2 {
        2
    } else {
        3
    };
    group_thousands(&format!("{y:.decimals$}"))
}

/// Inserts `,` between groups of three integer digits: `1234567.5` → `1,234,567.5`.
pub fn group_thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", number),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(540.0), 600.0);
        assert_eq!(nice_ceiling(15.4), 20.0);
        assert_eq!(nice_ceiling(14.9), 15.0);
        assert_eq!(nice_ceiling(500.0), 500.0);
        assert_eq!(nice_ceiling(2.1), 2.5);
        assert_eq!(nice_ceiling(2600.0), 3000.0);
        assert_eq!(nice_ceiling(0.034), 0.04);
        assert_eq!(nice_ceiling(1234.0), 1500.0);
    }

    #[test]
    fn axis_numbers() {
        assert_eq!(axis_number(5000.0, 10000.0), "5,000");
        assert_eq!(axis_number(1.5, 5.0), "1.5");
        assert_eq!(axis_number(0.25, 0.5), "0.25");
        assert_eq!(group_thousands("1234567.25"), "1,234,567.25");
        assert_eq!(group_thousands("-123"), "-123");
        assert_eq!(group_thousands("123456"), "123,456");
    }

    #[test]
    fn label_steps() {
        assert_eq!(label_step(3), 1);
        assert_eq!(label_step(25), 3);
        assert_eq!(label_step(60), 6);
    }
}
