//! Event rates that change over time.

use chrono::NaiveDate;

use crate::tables::date_to_days;

/// A monthly event rate (events per registered patient per month) that changes over time:
/// piecewise linear between the given points, constant before the first and after the last.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    points: Vec<(NaiveDate, f64)>,
}

impl RateProfile {
    /// A profile through `points` (sorted by date here; rates must be finite and >= 0).
    pub fn new(mut points: Vec<(NaiveDate, f64)>) -> Result<RateProfile, String> {
        if points.is_empty() {
            return Err("a rate profile needs at least one point".into());
        }
        if let Some((d, r)) = points.iter().find(|(_, r)| !r.is_finite() || *r < 0.0) {
            return Err(format!("rate {r} at {d} is not a finite number >= 0"));
        }
        points.sort_by_key(|(d, _)| *d);
        Ok(RateProfile { points })
    }

    /// The same rate at all times.
    pub fn flat(rate: f64) -> RateProfile {
        RateProfile {
            points: vec![(ymd(2000, 1, 1), rate.max(0.0))],
        }
    }

    /// The default for study codes (this study's service change): near zero before April 2020,
    /// rising through 2020 to a peak in January 2021, then easing.
    pub fn service_change() -> RateProfile {
        RateProfile {
            points: vec![
                (ymd(2018, 1, 1), 0.0002),
                (ymd(2020, 3, 15), 0.0002),
                (ymd(2020, 5, 1), 0.0012),
                (ymd(2020, 11, 1), 0.005),
                (ymd(2021, 1, 15), 0.008),
                (ymd(2021, 12, 31), 0.006),
            ],
        }
    }

    /// The default for background codes, relative to their average rate: steady, with the dip
    /// in routine care of spring 2020.
    pub fn background_shape() -> RateProfile {
        RateProfile {
            points: vec![
                (ymd(2018, 1, 1), 1.0),
                (ymd(2020, 3, 1), 1.0),
                (ymd(2020, 4, 15), 0.6),
                (ymd(2020, 7, 1), 0.9),
                (ymd(2020, 10, 1), 1.0),
            ],
        }
    }

    /// This profile with every rate multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> RateProfile {
        RateProfile {
            points: self
                .points
                .iter()
                .map(|(d, r)| (*d, r * factor.max(0.0)))
                .collect(),
        }
    }

    /// The monthly rate on `day` (days since 1970-01-01).
    pub fn rate_at(&self, day: i32) -> f64 {
        let days: Vec<i32> = self.points.iter().map(|(d, _)| date_to_days(*d)).collect();
        let i = days.partition_point(|&d| d <= day);
        if i == 0 {
            return self.points[0].1;
        }
        if i == days.len() {
            return self.points[i - 1].1;
        }
        let (d0, r0) = (days[i - 1], self.points[i - 1].1);
        let (d1, r1) = (days[i], self.points[i].1);
        r0 + (r1 - r0) * f64::from(day - d0) / f64::from(d1 - d0)
    }

    /// Cumulative expected events from `start` over each day up to `end` (exclusive):
    /// `out[k]` = expected events in `[start, start + k)`.
    pub(crate) fn cumulative(&self, start: i32, end: i32) -> Vec<f64> {
        const DAYS_PER_MONTH: f64 = 365.25 / 12.0;
        let mut out = Vec::with_capacity((end - start).max(0) as usize + 1);
        let mut total = 0.0;
        out.push(total);
        for day in start..end {
            total += self.rate_at(day) / DAYS_PER_MONTH;
            out.push(total);
        }
        out
    }
}

pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_linear() {
        let p = RateProfile::new(vec![(ymd(2020, 1, 11), 2.0), (ymd(2020, 1, 1), 1.0)]).unwrap();
        let day = |d| date_to_days(ymd(2020, 1, d));
        assert_eq!(p.rate_at(day(1) - 100), 1.0);
        assert_eq!(p.rate_at(day(1)), 1.0);
        assert_eq!(p.rate_at(day(6)), 1.5);
        assert_eq!(p.rate_at(day(11)), 2.0);
        assert_eq!(p.rate_at(day(31)), 2.0);
        let c = RateProfile::flat(365.25 / 12.0).cumulative(0, 10);
        assert_eq!(c.len(), 11);
        assert!((c[10] - 10.0).abs() < 1e-9);
        assert!(RateProfile::new(vec![]).is_err());
        assert!(RateProfile::new(vec![(ymd(2020, 1, 1), -1.0)]).is_err());
    }

    #[test]
    fn service_change_rises_after_april_2020() {
        let p = RateProfile::service_change();
        let before = p.rate_at(date_to_days(ymd(2019, 6, 1)));
        let after = p.rate_at(date_to_days(ymd(2021, 1, 1)));
        assert!(after > 20.0 * before, "{before} -> {after}");
    }
}
