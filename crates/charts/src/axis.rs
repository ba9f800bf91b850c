//! Axes, numbers and colours shared by the JPEG charts and the report's SVG charts: nice axis
//! tops, tick labels, month labels, count and rate formats, and the series palette.

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

/// A count as a whole number with thousands separators (`1,302`); fractional counts keep their
/// decimals.
pub fn format_count(x: f64) -> String {
    if x.fract() == 0.0 {
        group_thousands(&format!("{x:.0}"))
    } else {
        group_thousands(&format!("{x}"))
    }
}

/// A rate (or any plotted value): 3 decimals below 10, 2 below 100, 1 above (`0.266`, `14.20`,
/// `500.0`).
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

/// `per 1,000` (a whole number with separators; fractions as written).
pub fn per_text(per: f64) -> String {
    format!("per {}", format_count(per))
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
    fn number_formats() {
        assert_eq!(format_count(1302.0), "1,302");
        assert_eq!(format_count(2.5), "2.5");
        assert_eq!(format_rate(0.2661), "0.266");
        assert_eq!(format_rate(14.2011), "14.20");
        assert_eq!(format_rate(1500.0), "1,500.0");
        assert_eq!(per_text(1000.0), "per 1,000");
        assert_eq!(per_text(100.0), "per 100");
    }

    #[test]
    fn label_steps() {
        assert_eq!(label_step(3), 1);
        assert_eq!(label_step(25), 3);
        assert_eq!(label_step(60), 6);
    }
}
