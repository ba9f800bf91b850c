//! Values and their types: the scalar domain of the query model.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;

/// The type of a series or a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// true / false
    Bool,
    /// 64-bit signed integer
    Int,
    /// 64-bit float
    Float,
    /// UTF-8 text
    Str,
    /// A calendar day
    Date,
}

impl Type {
    /// Lower-case name: `bool`, `int`, `float`, `str`, `date`.
    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Float => "float",
            Type::Str => "str",
            Type::Date => "date",
        }
    }

    /// Int or Float.
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Float)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A calendar day, stored as days since 1970-01-01 (the physical form of Arrow and polars
/// dates). Month and year arithmetic clamps to the end of the month, as SQL's `DATEADD` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub i32);

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => unreachable!(),
};

impl Date {
    /// The day `y-m-d`, if it exists.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(y, m, d).map(Date::from_naive)
    }

    /// From a chrono date.
    pub fn from_naive(d: NaiveDate) -> Date {
        Date((d - EPOCH).num_days() as i32)
    }

    /// As a chrono date (days outside chrono's range saturate to its bounds).
    pub fn to_naive(self) -> NaiveDate {
        EPOCH
            .checked_add_signed(chrono::Duration::days(self.0.into()))
            .unwrap_or(if self.0 < 0 {
                NaiveDate::MIN
            } else {
                NaiveDate::MAX
            })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        if s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
            return None;
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Date::from_naive)
    }

    /// (year, month, day), by Howard Hinnant's `civil_from_days`.
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = i64::from(self.0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year as i32, month, day)
    }

    /// The day `y-m-d` without validation (Hinnant's `days_from_civil`; `d` must exist).
    fn from_civil(y: i32, m: u32, d: u32) -> Date {
        let y = i64::from(y) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Date((era * 146_097 + doe - 719_468) as i32)
    }

    /// `self + n` days.
    pub fn add_days(self, n: i64) -> Date {
        Date((i64::from(self.0) + n).clamp(i32::MIN.into(), i32::MAX.into()) as i32)
    }

    /// `self + n` months, keeping the day of the month where it exists and otherwise taking
    /// the last day of the month (`2020-01-31 + 1 month = 2020-02-29`).
    pub fn add_months_clamped(self, n: i64) -> Date {
        let (y, m, d) = self.ymd();
        let total = i64::from(y) * 12 + i64::from(m) - 1 + n;
        let year = total.div_euclid(12).clamp(-200_000, 200_000) as i32;
        let month = (total.rem_euclid(12) + 1) as u32;
        let last = days_in_month(year, month);
        Date::from_civil(year, month, d.min(last))
    }

    /// `self + n` months only if that day exists (`None` for `2020-01-31 + 1 month`).
    pub fn add_months_exact(self, n: i64) -> Option<Date> {
        let shifted = self.add_months_clamped(n);
        (shifted.ymd().2 == self.ymd().2).then_some(shifted)
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Date {
        let (y, m, _) = self.ymd();
        Date::from_civil(y, m, 1)
    }

    /// 1 January of this date's year.
    pub fn first_of_year(self) -> Date {
        let (y, _, _) = self.ymd();
        Date::from_civil(y, 1, 1)
    }

    /// Completed years from `self` to `to` (an age): negative when `to` is earlier.
    pub fn years_until(self, to: Date) -> i64 {
        let (y0, m0, d0) = self.ymd();
        let (y1, m1, d1) = to.ymd();
        let mut years = i64::from(y1) - i64::from(y0);
        if (m1, d1) < (m0, d0) {
            years -= 1;
        }
        years
    }

    /// Completed months from `self` to `to`.
    pub fn months_until(self, to: Date) -> i64 {
        let (y0, m0, d0) = self.ymd();
        let (y1, m1, d1) = to.ymd();
        let mut months = (i64::from(y1) - i64::from(y0)) * 12 + i64::from(m1) - i64::from(m0);
        if d1 < d0 {
            months -= 1;
        }
        months
    }
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A scalar value; `Null` is SQL's null (unknown / missing).
#[derive(Debug, Clone)]
pub enum Value {
    /// Missing.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (never NaN in tables: NaN is read as null).
    Float(f64),
    /// A string.
    Str(Arc<str>),
    /// A date.
    Date(Date),
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// The value's type (`None` for null).
    pub fn ty(&self) -> Option<Type> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::Str(_) => Type::Str,
            Value::Date(_) => Type::Date,
        })
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as a float, if this is an int or a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The date, if this is one.
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// Total order used by sorting, MIN/MAX and DISTINCT: null first, then by value; numbers
    /// compare numerically (ints and floats together; -0.0 equals 0.0), strings by code point, dates by day.
    /// Values of different non-numeric types order by type (never compared in valid queries).
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::{Bool, Date, Float, Int, Null, Str};
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Int(_) | Float(_), Int(_) | Float(_)) => {
                // `+ 0.0` turns -0.0 into 0.0: the two are equal, as in SQL and Python.
                let (a, b) = (self.as_f64().unwrap_or(0.0), other.as_f64().unwrap_or(0.0));
                (a + 0.0).total_cmp(&(b + 0.0))
            }
            (Str(a), Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Date(a), Date(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::Str(_) => 3,
            Value::Date(_) => 4,
        }
    }
}

/// Equality as [`Value::total_cmp`] (so `Int(1) == Float(1.0)` and `Null == Null`).
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.total_cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Bool(b) => b.hash(state),
            // Ints and floats that compare equal hash equally.
            Value::Int(i) => (*i as f64).to_bits().hash(state),
            Value::Float(f) => (f + 0.0).to_bits().hash(state),
            Value::Str(s) => s.hash(state),
            Value::Date(d) => d.hash(state),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Date(d) => write!(f, "{d}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        assert_eq!(d("2020-01-31").add_months_clamped(1), d("2020-02-29"));
        assert_eq!(d("2020-02-29").add_months_clamped(12), d("2021-02-28"));
        assert_eq!(d("2020-03-31").add_months_clamped(-1), d("2020-02-29"));
        assert_eq!(d("2020-12-15").add_months_clamped(1), d("2021-01-15"));
        assert_eq!(d("2020-01-15").add_months_clamped(-13), d("2018-12-15"));
        assert_eq!(d("2020-01-31").add_months_exact(1), None);
        assert_eq!(d("2020-01-30").add_months_exact(-1), Some(d("2019-12-30")));
    }

    #[test]
    fn completed_years_and_months() {
        assert_eq!(d("2000-03-01").years_until(d("2020-02-29")), 19);
        assert_eq!(d("2000-03-01").years_until(d("2020-03-01")), 20);
        assert_eq!(d("2020-03-01").years_until(d("2000-03-01")), -20);
        assert_eq!(d("2020-01-31").months_until(d("2020-02-29")), 0);
        assert_eq!(d("2020-01-31").months_until(d("2020-03-31")), 2);
    }

    #[test]
    fn civil_conversion_matches_chrono() {
        for days in (-800_000..800_000).step_by(97) {
            let d = Date(days);
            let n = d.to_naive();
            assert_eq!(d.ymd(), (n.year(), n.month(), n.day()), "{days}");
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn iso_parsing_is_strict() {
        assert_eq!(d("1970-01-02"), Date(1));
        assert_eq!(Date::parse_iso("2020-02-30"), None);
        assert_eq!(Date::parse_iso("2020-2-3"), None);
        assert_eq!(d("1969-12-31").to_string(), "1969-12-31");
    }

    #[test]
    fn values_order_nulls_first_and_numbers_together() {
        let mut v = [
            Value::Float(2.5),
            Value::Null,
            Value::Int(2),
            Value::Int(-1),
        ];
        v.sort_by(Value::total_cmp);
        assert_eq!(
            v,
            [
                Value::Null,
                Value::Int(-1),
                Value::Int(2),
                Value::Float(2.5)
            ]
        );
        assert_eq!(
            Value::str("320002").total_cmp(&Value::str("1000004")),
            Ordering::Greater
        );
    }
}
