//! Strict parsers for table cells given as text.

use chrono::NaiveDate;

use crate::tables::date_to_days;

/// A `YYYY-MM-DD` date as days since 1970-01-01; `None` unless the text is exactly that form
/// and the day exists.
pub(crate) fn parse_date_days(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    Some(date_to_days(date))
}

/// An integer in plain decimal (an optional leading `-`).
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    if s.starts_with('+') {
        return None;
    }
    s.parse().ok()
}

/// A decimal or scientific number (`nan`/`inf` included, as Python writes them).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date_days("1970-01-01"), Some(0));
        assert_eq!(parse_date_days("1969-12-31"), Some(-1));
        assert_eq!(parse_date_days("2020-02-29"), Some(18321));
        for bad in [
            "2019-02-29",
            "2020-1-01",
            "2020/01/01",
            "20200101",
            "2020-01-01 ",
            "",
            "abcd-ef-gh",
            "2020-00-10",
            "2020-01-32",
        ] {
            assert_eq!(parse_date_days(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("+12"), None);
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_int(" 1"), None);
        assert_eq!(parse_float("1e-05"), Some(1e-5));
        assert_eq!(parse_float("12"), Some(12.0));
        assert_eq!(parse_float("x"), None);
    }
}
