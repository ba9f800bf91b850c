use chrono::{Datelike, Days, NaiveDate};

use super::OutputError;

/// Parses an `--index-date-range`: `"A"`, `"A to B"` (monthly) or `"A to B by week|month"`,
/// where a date is `YYYY-MM-DD` or `today`. The dates run from A to B inclusive, in ascending
/// order; `month` keeps the day of month, and a day that does not exist in some month (a start
/// on the 31st) is an error, never a clamp.
pub fn parse_index_date_range(range: &str) -> Result<Vec<NaiveDate>, OutputError> {
    parse_index_date_range_at(range, chrono::Utc::now().date_naive())
}

/// [`parse_index_date_range`] with `today` fixed (for tests).
fn parse_index_date_range_at(range: &str, today: NaiveDate) -> Result<Vec<NaiveDate>, OutputError> {
    let err = |reason: String| OutputError::IndexDateRange {
        range: range.to_string(),
        reason,
    };
    let parse_date = |s: &str| -> Result<NaiveDate, OutputError> {
        let s = s.trim();
        if s == "today" {
            return Ok(today);
        }
        if s.len() != 10 {
            return Err(err(format!("`{s}` is not a YYYY-MM-DD date")));
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| err(format!("`{s}` is not a YYYY-MM-DD date")))
    };
    let Some((start, rest)) = range.split_once(" to ") else {
        return Ok(vec![parse_date(range)?]);
    };
    let (end, period) = match rest.split_once(" by ") {
        Some((end, period)) => (end, period.trim()),
        None => (rest, "month"),
    };
    let (start, end) = (parse_date(start)?, parse_date(end)?);
    if end < start {
        return Err(err(format!("{end} is before {start}")));
    }
    let step: fn(NaiveDate) -> Option<NaiveDate> = match period {
        "week" => |d| d.checked_add_days(Days::new(7)),
        "month" => |d| {
            let (year, month) = if d.month() == 12 {
                (d.year() + 1, 1)
            } else {
                (d.year(), d.month() + 1)
            };
            NaiveDate::from_ymd_opt(year, month, d.day())
        },
        other => {
            return Err(err(format!(
                "unknown period `{other}` (expected `week` or `month`)"
            )))
        }
    };
    let mut dates = vec![start];
    let mut current = start;
    loop {
        let next = step(current).ok_or_else(|| {
            err(format!(
                "the month after {current} has no day {} (start on a day every month has)",
                current.day()
            ))
        })?;
        if next > end {
            break;
        }
        dates.push(next);
        current = next;
    }
    Ok(dates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn today() -> NaiveDate {
        d("2021-03-15")
    }

    #[test]
    fn the_study_range_has_25_monthly_dates() {
        let dates =
            parse_index_date_range_at("2019-01-01 to 2021-01-01 by month", today()).unwrap();
        assert_eq!(dates.len(), 25);
        assert_eq!(dates[0], d("2019-01-01"));
        assert_eq!(dates[12], d("2020-01-01"));
        assert_eq!(dates[24], d("2021-01-01"));
    }

    #[test]
    fn single_date_and_default_period() {
        assert_eq!(
            parse_index_date_range_at("2020-02-29", today()).unwrap(),
            [d("2020-02-29")]
        );
        assert_eq!(
            parse_index_date_range_at("2020-01-15 to 2020-03-15", today()).unwrap(),
            [d("2020-01-15"), d("2020-02-15"), d("2020-03-15")]
        );
        assert_eq!(
            parse_index_date_range_at("2021-01-01 to today by month", today()).unwrap(),
            [d("2021-01-01"), d("2021-02-01"), d("2021-03-01")]
        );
    }

    #[test]
    fn weeks_are_inclusive_of_the_end() {
        assert_eq!(
            parse_index_date_range_at("2020-01-01 to 2020-01-15 by week", today()).unwrap(),
            [d("2020-01-01"), d("2020-01-08"), d("2020-01-15")]
        );
        assert_eq!(
            parse_index_date_range_at("2020-01-01 to 2020-01-14 by week", today())
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn month_keeps_the_day_and_a_missing_day_is_an_error() {
        assert_eq!(
            parse_index_date_range_at("2020-01-28 to 2020-03-28 by month", today()).unwrap(),
            [d("2020-01-28"), d("2020-02-28"), d("2020-03-28")]
        );
        // As cohortextractor: stepping to a day that does not exist fails, even past the end.
        assert!(parse_index_date_range_at("2020-01-30 to 2020-01-31 by month", today()).is_err());
        let e = parse_index_date_range_at("2020-01-31 to 2020-03-31 by month", today())
            .unwrap_err()
            .to_string();
        assert!(e.contains("2020-01-31 to 2020-03-31 by month"), "{e}");
        assert!(e.contains("no day 31"), "{e}");
        // Jan 30 → Feb 30 does not exist either.
        assert!(parse_index_date_range_at("2019-01-30 to 2019-03-30", today()).is_err());
    }

    #[test]
    fn bad_ranges_are_errors() {
        for bad in [
            "2020-01-01 to 2019-01-01",
            "2020-01-01 to 2020-06-01 by day",
            "2020-13-01",
            "2020-02-30",
            "20200101",
            "",
            "2020-01-01 to",
        ] {
            let e = parse_index_date_range_at(bad, today());
            assert!(e.is_err(), "{bad:?} parsed as {e:?}");
        }
    }
}
