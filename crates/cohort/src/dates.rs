//! Date expressions of study definitions: an ISO date, `index_date`, or
//! `index_date ± N day(s)|month(s)|year(s)`, optionally wrapped in `first_day_of_month(..)`
//! and friends (the wrapping function is applied before the offset).
//!
//! Month and year arithmetic keep the day of the month; a day that does not exist is an
//! error naming the expression and the index date, never a silent clamp.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};

/// What a date expression starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateBase {
    IndexDate,
    Fixed(NaiveDate),
    /// A nested expression: `first_day_of_month(index_date + 1 month)`.
    Nested(Box<DateExpr>),
}

/// The wrapping functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFunction {
    FirstDayOfMonth,
    LastDayOfMonth,
    FirstDayOfYear,
    LastDayOfYear,
    FirstDayOfNhsFinancialYear,
    LastDayOfNhsFinancialYear,
}

impl DateFunction {
    const ALL: [(&'static str, DateFunction); 6] = [
        ("first_day_of_month", DateFunction::FirstDayOfMonth),
        ("last_day_of_month", DateFunction::LastDayOfMonth),
        ("first_day_of_year", DateFunction::FirstDayOfYear),
        ("last_day_of_year", DateFunction::LastDayOfYear),
        (
            "first_day_of_nhs_financial_year",
            DateFunction::FirstDayOfNhsFinancialYear,
        ),
        (
            "last_day_of_nhs_financial_year",
            DateFunction::LastDayOfNhsFinancialYear,
        ),
    ];

    fn apply(self, d: NaiveDate) -> NaiveDate {
        let ymd = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(d);
        // NHS financial years run from 1 April to 31 March.
        let fy_start = if d.month() >= 4 {
            d.year()
        } else {
            d.year() - 1
        };
        match self {
            DateFunction::FirstDayOfMonth => ymd(d.year(), d.month(), 1),
            DateFunction::LastDayOfMonth => {
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                ymd(y, m, 1).pred_opt().unwrap_or(d)
            }
            DateFunction::FirstDayOfYear => ymd(d.year(), 1, 1),
            DateFunction::LastDayOfYear => ymd(d.year(), 12, 31),
            DateFunction::FirstDayOfNhsFinancialYear => ymd(fy_start, 4, 1),
            DateFunction::LastDayOfNhsFinancialYear => ymd(fy_start + 1, 3, 31),
        }
    }
}

/// Unit of an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateUnit {
    Days,
    Months,
    Years,
}

/// A parsed date expression; evaluate it with [`DateExpr::eval`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateExpr {
    /// The expression as written (for messages).
    pub source: String,
    pub function: Option<DateFunction>,
    pub base: DateBase,
    /// Signed amount and unit.
    pub offset: Option<(i64, DateUnit)>,
}

/// A date expression that evaluates to a day that does not exist, or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError {
    pub expression: String,
    pub index_date: Option<NaiveDate>,
    pub message: String,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "date expression `{}`", self.expression)?;
        if let Some(d) = self.index_date {
            write!(f, " with index date {d}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DateError {}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Parses an ISO `YYYY-MM-DD` date strictly.
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

impl DateExpr {
    /// Parses a date expression; the error explains what is accepted.
    pub fn parse(text: &str) -> Result<DateExpr, String> {
        let source = text.trim().to_string();
        let s: String = source.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = || {
            format!(
                "invalid date expression `{source}`: expected an ISO date (YYYY-MM-DD), \
                 `index_date`, or `index_date ± N days|months|years`, optionally wrapped in one \
                 of {}",
                DateFunction::ALL
                    .iter()
                    .map(|(n, _)| format!("`{n}(..)`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        // Split off a trailing offset: the last + or - that is followed by digits and a unit
        // and is outside parentheses (ISO dates contain '-', so scan from the right).
        let (head, offset) = split_offset(&s);
        let offset = match offset {
            None => None,
            Some(off) => Some(parse_offset(off).ok_or_else(bad)?),
        };
        let (function, base) = if let Some(open) = head.find('(') {
            let name = &head[..open];
            let function = DateFunction::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, f)| *f)
                .ok_or_else(|| {
                    if name.is_empty() {
                        bad()
                    } else {
                        format!("{}: unknown function `{name}`", bad())
                    }
                })?;
            let inner = head[open + 1..].strip_suffix(')').ok_or_else(bad)?;
            let inner = DateExpr::parse(inner).map_err(|_| bad())?;
            let base = if inner.function.is_none() && inner.offset.is_none() {
                inner.base
            } else {
                DateBase::Nested(Box::new(inner))
            };
            (Some(function), base)
        } else if head == "index_date" {
            (None, DateBase::IndexDate)
        } else if let Some(d) = parse_iso_date(head) {
            (None, DateBase::Fixed(d))
        } else {
            return Err(bad());
        };
        if offset.is_some() && matches!(base, DateBase::Fixed(_)) && function.is_none() {
            // `2020-01-01 + 1 month` is fine too; nothing to reject.
        }
        Ok(DateExpr {
            source,
            function,
            base,
            offset,
        })
    }

    /// True when the expression depends on the index date.
    pub fn uses_index_date(&self) -> bool {
        match &self.base {
            DateBase::IndexDate => true,
            DateBase::Fixed(_) => false,
            DateBase::Nested(inner) => inner.uses_index_date(),
        }
    }

    /// Evaluates the expression for `index_date` (needed only if the expression uses it).
    pub fn eval(&self, index_date: Option<NaiveDate>) -> Result<NaiveDate, DateError> {
        let err = |message: String| DateError {
            expression: self.source.clone(),
            index_date,
            message,
        };
        let mut d = match &self.base {
            DateBase::Fixed(d) => *d,
            DateBase::IndexDate => index_date.ok_or_else(|| {
                err("uses `index_date` but the study has no index date".to_string())
            })?,
            DateBase::Nested(inner) => inner.eval(index_date).map_err(|e| err(e.message))?,
        };
        if let Some(f) = self.function {
            d = f.apply(d);
        }
        if let Some((n, unit)) = self.offset {
            d = add_offset(d, n, unit).map_err(err)?;
        }
        Ok(d)
    }
}

impl fmt::Display for DateExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn split_offset(s: &str) -> (&str, Option<&str>) {
    let bytes = s.as_bytes();
    let mut depth = 0i32;
    for i in (0..bytes.len()).rev() {
        match bytes[i] {
            b')' => depth += 1,
            b'(' => depth -= 1,
            b'+' | b'-' if depth == 0 && i > 0 => {
                let rest = &s[i + 1..];
                if rest.starts_with(|c: char| c.is_ascii_digit())
                    && rest.ends_with(|c: char| c.is_ascii_alphabetic())
                {
                    return (&s[..i], Some(&s[i..]));
                }
            }
            _ => {}
        }
    }
    (s, None)
}

fn parse_offset(off: &str) -> Option<(i64, DateUnit)> {
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let body = &off[1..];
    let digits_end = body.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = body[..digits_end].parse().ok()?;
    let unit = match &body[digits_end..] {
        "day" | "days" => DateUnit::Days,
        "month" | "months" => DateUnit::Months,
        "year" | "years" => DateUnit::Years,
        _ => return None,
    };
    Some((sign * n, unit))
}

/// Adds `n` units to `d`, keeping the day of the month for months and years.
pub fn add_offset(d: NaiveDate, n: i64, unit: DateUnit) -> Result<NaiveDate, String> {
    let out_of_range = || format!("date out of range ({d} {n:+} {unit:?})");
    let (year, month) = match unit {
        DateUnit::Days => {
            return d
                .checked_add_signed(Duration::try_days(n).ok_or_else(out_of_range)?)
                .ok_or_else(out_of_range)
        }
        DateUnit::Months => {
            let zero_based = i64::from(d.month0()) + n;
            (
                i64::from(d.year()) + zero_based.div_euclid(12),
                zero_based.rem_euclid(12) as u32 + 1,
            )
        }
        DateUnit::Years => (i64::from(d.year()) + n, d.month()),
    };
    let year = i32::try_from(year).map_err(|_| out_of_range())?;
    NaiveDate::from_ymd_opt(year, month, d.day()).ok_or_else(|| {
        format!(
            "no such date {} {} {year}",
            d.day(),
            MONTHS[(month - 1) as usize]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn eval(text: &str, index: NaiveDate) -> Result<NaiveDate, DateError> {
        DateExpr::parse(text).unwrap().eval(Some(index))
    }

    #[test]
    fn offsets_in_every_unit() {
        let i = ymd(2019, 1, 15);
        assert_eq!(eval("index_date", i).unwrap(), i);
        assert_eq!(eval("index_date + 1 month", i).unwrap(), ymd(2019, 2, 15));
        assert_eq!(eval("index_date+1month", i).unwrap(), ymd(2019, 2, 15));
        assert_eq!(eval("index_date - 1 month", i).unwrap(), ymd(2018, 12, 15));
        assert_eq!(eval("index_date + 13 months", i).unwrap(), ymd(2020, 2, 15));
        assert_eq!(eval("index_date - 10 days", i).unwrap(), ymd(2019, 1, 5));
        assert_eq!(eval("index_date + 1 day", i).unwrap(), ymd(2019, 1, 16));
        assert_eq!(eval("index_date - 2 years", i).unwrap(), ymd(2017, 1, 15));
        assert_eq!(eval("2020-03-01", i).unwrap(), ymd(2020, 3, 1));
        assert_eq!(eval("2020-03-01 - 1 day", i).unwrap(), ymd(2020, 2, 29));
    }

    #[test]
    fn nonexistent_days_are_errors_naming_expression_and_index_date() {
        let err = eval("index_date + 1 month", ymd(2019, 1, 31)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`index_date + 1 month`"), "{msg}");
        assert!(msg.contains("2019-01-31"), "{msg}");
        assert!(msg.contains("no such date 31 February 2019"), "{msg}");
        assert!(eval("index_date + 1 year", ymd(2020, 2, 29)).is_err());
        assert!(eval("index_date + 4 years", ymd(2020, 2, 29)).is_ok());
    }

    #[test]
    fn wrapping_functions_apply_before_the_offset() {
        let i = ymd(2019, 5, 17);
        assert_eq!(
            eval("first_day_of_month(index_date)", i).unwrap(),
            ymd(2019, 5, 1)
        );
        assert_eq!(
            eval("last_day_of_month(index_date)", i).unwrap(),
            ymd(2019, 5, 31)
        );
        assert_eq!(
            eval("last_day_of_month(index_date) + 1 month", ymd(2019, 2, 3)).unwrap(),
            ymd(2019, 3, 28)
        );
        assert!(eval("last_day_of_month(index_date) + 1 month", ymd(2019, 1, 3)).is_err());
        assert_eq!(
            eval("first_day_of_year(index_date)", i).unwrap(),
            ymd(2019, 1, 1)
        );
        assert_eq!(
            eval("last_day_of_year(index_date)", i).unwrap(),
            ymd(2019, 12, 31)
        );
        assert_eq!(
            eval("first_day_of_nhs_financial_year(index_date)", i).unwrap(),
            ymd(2019, 4, 1)
        );
        assert_eq!(
            eval(
                "last_day_of_nhs_financial_year(index_date)",
                ymd(2019, 3, 31)
            )
            .unwrap(),
            ymd(2019, 3, 31)
        );
        assert_eq!(
            eval(
                "first_day_of_nhs_financial_year(index_date)",
                ymd(2019, 3, 31)
            )
            .unwrap(),
            ymd(2018, 4, 1)
        );
        assert_eq!(
            eval("first_day_of_month(index_date + 1 month)", i).unwrap(),
            ymd(2019, 6, 1)
        );
        assert_eq!(
            eval("first_day_of_month(index_date) - 1 day", i).unwrap(),
            ymd(2019, 4, 30)
        );
    }

    #[test]
    fn malformed_expressions_are_rejected() {
        for bad in [
            "index_date + 1 week",
            "index_dat",
            "2019-02-30",
            "19-01-01",
            "first_day_of_decade(index_date)",
            "index_date + month",
            "",
        ] {
            let err = DateExpr::parse(bad).unwrap_err();
            assert!(err.contains("invalid date expression"), "{bad}: {err}");
        }
    }
}
