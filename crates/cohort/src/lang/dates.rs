//! Date arguments: `[FUNC(] BASE [)] [± N day(s)|month(s)|year(s)]` where BASE is an ISO date,
//! `index_date`, `today` or the name of a date variable (functions.md §2); FUNC one of
//! `first_day_of_month` and friends, applied before the offset.
//!
//! An expression without a variable is *static*: it is evaluated for every index date before
//! any row is read, and a day that does not exist (31 February) is an error naming the
//! expression, its position and the index date. With a variable it is evaluated per patient,
//! and month and year offsets clamp to the end of the month (SQL's `DATEADD`).

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};
use query::model::{DateUnit as QUnit, Function};
use query::{Series, SeriesRef, Value};

/// What a date expression starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateBase {
    /// `index_date`
    IndexDate,
    /// `today`: the run's start date.
    Today,
    /// An ISO date.
    Fixed(NaiveDate),
    /// A date variable.
    Variable(String),
    /// A nested expression: `first_day_of_month(index_date + 1 month)`.
    Nested(Box<DateExpr>),
}

/// The wrapping functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFunction {
    /// 1st of the month.
    FirstDayOfMonth,
    /// Last day of the month.
    LastDayOfMonth,
    /// 1 January.
    FirstDayOfYear,
    /// 31 December.
    LastDayOfYear,
    /// 1 April of the NHS financial year.
    FirstDayOfNhsFinancialYear,
    /// 31 March ending the NHS financial year.
    LastDayOfNhsFinancialYear,
    /// 1 September of the school year.
    FirstDayOfSchoolYear,
    /// 31 August ending the school year.
    LastDayOfSchoolYear,
}

impl DateFunction {
    const ALL: [(&'static str, DateFunction); 8] = [
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
        (
            "first_day_of_school_year",
            DateFunction::FirstDayOfSchoolYear,
        ),
        ("last_day_of_school_year", DateFunction::LastDayOfSchoolYear),
    ];

    /// The start month of the year this function's years begin in (1 = January).
    fn year_start(self) -> u32 {
        match self {
            DateFunction::FirstDayOfNhsFinancialYear | DateFunction::LastDayOfNhsFinancialYear => 4,
            DateFunction::FirstDayOfSchoolYear | DateFunction::LastDayOfSchoolYear => 9,
            _ => 1,
        }
    }

    fn apply(self, d: NaiveDate) -> NaiveDate {
        let ymd = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(d);
        let start_month = self.year_start();
        let start_year = if d.month() >= start_month {
            d.year()
        } else {
            d.year() - 1
        };
        let first_of_next = |y: i32, m: u32| {
            let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            ymd(y, m, 1)
        };
        match self {
            DateFunction::FirstDayOfMonth => ymd(d.year(), d.month(), 1),
            DateFunction::LastDayOfMonth => {
                first_of_next(d.year(), d.month()).pred_opt().unwrap_or(d)
            }
            DateFunction::FirstDayOfYear
            | DateFunction::FirstDayOfNhsFinancialYear
            | DateFunction::FirstDayOfSchoolYear => ymd(start_year, start_month, 1),
            DateFunction::LastDayOfYear
            | DateFunction::LastDayOfNhsFinancialYear
            | DateFunction::LastDayOfSchoolYear => {
                ymd(start_year + 1, start_month, 1).pred_opt().unwrap_or(d)
            }
        }
    }

    /// The function over a query-model date (month arithmetic is exact where it is used).
    fn series(self, d: SeriesRef) -> SeriesRef {
        let add = |date: SeriesRef, amount: i64, unit: QUnit| {
            Series::function(Function::DateAdd { date, amount, unit })
        };
        let shift = i64::from(self.year_start()) - 1;
        // The first day of the year that starts in `year_start()`'s month.
        let first_of_year = |d: SeriesRef| {
            if shift == 0 {
                Series::function(Function::FirstOfYear(d))
            } else {
                add(
                    Series::function(Function::FirstOfYear(add(d, -shift, QUnit::Months))),
                    shift,
                    QUnit::Months,
                )
            }
        };
        match self {
            DateFunction::FirstDayOfMonth => Series::function(Function::FirstOfMonth(d)),
            DateFunction::LastDayOfMonth => add(
                add(
                    Series::function(Function::FirstOfMonth(d)),
                    1,
                    QUnit::Months,
                ),
                -1,
                QUnit::Days,
            ),
            DateFunction::FirstDayOfYear
            | DateFunction::FirstDayOfNhsFinancialYear
            | DateFunction::FirstDayOfSchoolYear => first_of_year(d),
            _ => add(add(first_of_year(d), 1, QUnit::Years), -1, QUnit::Days),
        }
    }
}

/// Unit of an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateUnit {
    /// Days.
    Days,
    /// Months.
    Months,
    /// Years.
    Years,
}

/// A parsed date expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateExpr {
    /// The expression as written (for messages).
    pub source: String,
    /// The wrapping function.
    pub function: Option<DateFunction>,
    /// What it starts from.
    pub base: DateBase,
    /// Signed amount and unit.
    pub offset: Option<(i64, DateUnit)>,
}

/// A static date expression that gives a day that does not exist, or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError {
    /// The expression.
    pub expression: String,
    /// The index date it was evaluated for.
    pub index_date: Option<NaiveDate>,
    /// What went wrong.
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

fn is_name(s: &str) -> bool {
    crate::lang::valid_name(s)
}

impl DateExpr {
    /// Parses a date expression; the error explains what is accepted.
    pub fn parse(text: &str) -> Result<DateExpr, String> {
        let source = text.trim().to_string();
        // Spaces may separate tokens (`index_date + 1 month`), never split a name (`a b`).
        let mut splits_a_name = false;
        let mut before: Option<char> = None;
        let mut gap = false;
        for c in source.chars() {
            if c.is_whitespace() {
                gap = true;
                continue;
            }
            if gap
                && before.is_some_and(|b| b.is_ascii_alphabetic() || b == '_')
                && (c.is_ascii_alphanumeric() || c == '_')
            {
                splits_a_name = true;
            }
            gap = false;
            before = Some(c);
        }
        let s: String = source.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = || {
            format!(
                "invalid date expression `{source}`: expected an ISO date (YYYY-MM-DD), \
                 `index_date`, `today` or a date variable, optionally `± N days|months|years`, \
                 optionally wrapped in one of {}",
                DateFunction::ALL
                    .iter()
                    .map(|(n, _)| format!("`{n}(..)`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if splits_a_name {
            return Err(bad());
        }
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
        } else if head == "today" {
            (None, DateBase::Today)
        } else if let Some(d) = parse_iso_date(head) {
            (None, DateBase::Fixed(d))
        } else if is_name(head) && !head.starts_with(|c: char| c.is_ascii_digit()) {
            (None, DateBase::Variable(head.to_string()))
        } else {
            return Err(bad());
        };
        Ok(DateExpr {
            source,
            function,
            base,
            offset,
        })
    }

    /// The variable the expression is relative to, if any.
    pub fn variable(&self) -> Option<&str> {
        match &self.base {
            DateBase::Variable(v) => Some(v),
            DateBase::Nested(inner) => inner.variable(),
            _ => None,
        }
    }

    /// True when the expression depends on the index date.
    pub fn uses_index_date(&self) -> bool {
        match &self.base {
            DateBase::IndexDate => true,
            DateBase::Nested(inner) => inner.uses_index_date(),
            _ => false,
        }
    }

    /// Evaluates a static expression for `index_date`; month and year offsets must land on a
    /// day that exists.
    pub fn eval(
        &self,
        index_date: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<NaiveDate, DateError> {
        let err = |message: String| DateError {
            expression: self.source.clone(),
            index_date,
            message,
        };
        let mut d = match &self.base {
            DateBase::Fixed(d) => *d,
            DateBase::Today => today,
            DateBase::IndexDate => index_date.ok_or_else(|| {
                err("uses `index_date` but the study has no index date".to_string())
            })?,
            DateBase::Variable(v) => {
                return Err(err(format!("depends on the variable `{v}`")));
            }
            DateBase::Nested(inner) => inner.eval(index_date, today).map_err(|e| err(e.message))?,
        };
        if let Some(f) = self.function {
            d = f.apply(d);
        }
        if let Some((n, unit)) = self.offset {
            d = add_offset(d, n, unit).map_err(err)?;
        }
        Ok(d)
    }

    /// The expression as a query-model date. `variable` gives a date variable's value (as a
    /// date: a `YYYY-MM` variable means the first day of its month).
    pub fn series(&self, today: NaiveDate, variable: &dyn Fn(&str) -> SeriesRef) -> SeriesRef {
        let mut d = match &self.base {
            DateBase::IndexDate => Series::index_date(),
            DateBase::Today => Series::value(Value::Date(query::Date::from_naive(today))),
            DateBase::Fixed(d) => Series::value(Value::Date(query::Date::from_naive(*d))),
            DateBase::Variable(v) => variable(v),
            DateBase::Nested(inner) => inner.series(today, variable),
        };
        if let Some(f) = self.function {
            d = f.series(d);
        }
        if let Some((n, unit)) = self.offset {
            let unit = match unit {
                DateUnit::Days => QUnit::Days,
                DateUnit::Months => QUnit::Months,
                DateUnit::Years => QUnit::Years,
            };
            d = Series::function(Function::DateAdd {
                date: d,
                amount: n,
                unit,
            });
        }
        d
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
        DateExpr::parse(text)
            .unwrap()
            .eval(Some(index), ymd(2026, 12, 1))
    }

    #[test]
    fn offsets_in_every_unit() {
        let i = ymd(2019, 1, 15);
        assert_eq!(eval("index_date", i).unwrap(), i);
        assert_eq!(eval("index_date + 1 month", i).unwrap(), ymd(2019, 2, 15));
        assert_eq!(eval("index_date+1month", i).unwrap(), ymd(2019, 2, 15));
        assert_eq!(eval("index_date - 1 month", i).unwrap(), ymd(2018, 12, 15));
        assert_eq!(eval("index_date - 10 days", i).unwrap(), ymd(2019, 1, 5));
        assert_eq!(eval("index_date - 2 years", i).unwrap(), ymd(2017, 1, 15));
        assert_eq!(eval("2020-03-01 - 1 day", i).unwrap(), ymd(2020, 2, 29));
        assert_eq!(eval("today - 1 day", i).unwrap(), ymd(2026, 11, 30));
    }

    #[test]
    fn nonexistent_days_are_errors_naming_expression_and_index_date() {
        let msg = eval("index_date + 1 month", ymd(2019, 1, 31))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`index_date + 1 month`"), "{msg}");
        assert!(msg.contains("2019-01-31"), "{msg}");
        assert!(msg.contains("no such date 31 February 2019"), "{msg}");
        assert!(eval("index_date + 1 year", ymd(2020, 2, 29)).is_err());
    }

    #[test]
    fn wrapping_functions_apply_before_the_offset() {
        let i = ymd(2019, 5, 17);
        let cases = [
            ("first_day_of_month(index_date)", ymd(2019, 5, 1)),
            ("last_day_of_month(index_date)", ymd(2019, 5, 31)),
            ("first_day_of_year(index_date)", ymd(2019, 1, 1)),
            ("last_day_of_year(index_date)", ymd(2019, 12, 31)),
            (
                "first_day_of_nhs_financial_year(index_date)",
                ymd(2019, 4, 1),
            ),
            (
                "last_day_of_nhs_financial_year(index_date)",
                ymd(2020, 3, 31),
            ),
            ("first_day_of_school_year(index_date)", ymd(2018, 9, 1)),
            ("last_day_of_school_year(index_date)", ymd(2019, 8, 31)),
            ("first_day_of_month(index_date + 1 month)", ymd(2019, 6, 1)),
            ("first_day_of_month(index_date) - 1 day", ymd(2019, 4, 30)),
        ];
        for (text, want) in cases {
            assert_eq!(eval(text, i).unwrap(), want, "{text}");
        }
        assert_eq!(
            eval("first_day_of_school_year(index_date)", ymd(2019, 9, 1)).unwrap(),
            ymd(2019, 9, 1)
        );
        assert_eq!(
            eval(
                "first_day_of_nhs_financial_year(index_date)",
                ymd(2019, 3, 31)
            )
            .unwrap(),
            ymd(2018, 4, 1)
        );
    }

    #[test]
    fn the_query_form_agrees_with_static_evaluation() {
        // Evaluate the query-model form with the reference semantics, day by day.
        let texts = [
            "last_day_of_month(index_date)",
            "first_day_of_nhs_financial_year(index_date)",
            "last_day_of_nhs_financial_year(index_date)",
            "first_day_of_school_year(index_date)",
            "last_day_of_school_year(index_date) - 3 days",
            "last_day_of_year(index_date)",
        ];
        for text in texts {
            let e = DateExpr::parse(text).unwrap();
            let s = e.series(ymd(2026, 1, 1), &|_| Series::null(query::Type::Date));
            for offset in (0..800).step_by(7) {
                let d = ymd(2019, 1, 1) + Duration::days(offset);
                let want = e.eval(Some(d), ymd(2026, 1, 1)).unwrap();
                let got = eval_const(&s, d);
                assert_eq!(got, want, "{text} at {d}");
            }
        }
    }

    /// Evaluates a constant date series for one index date.
    fn eval_const(s: &SeriesRef, index: NaiveDate) -> NaiveDate {
        fn go(s: &Series, i: query::Date) -> query::Date {
            match s {
                Series::IndexDate => i,
                Series::Value { value, .. } => value.as_date().unwrap(),
                Series::Function(f) => {
                    let args: Vec<Value> = query::scalar::arguments(f)
                        .into_iter()
                        .map(|a| Value::Date(go(a, i)))
                        .collect();
                    query::scalar::apply(f, &args, &mut query::scalar::Matchers::default())
                        .as_date()
                        .unwrap()
                }
                _ => unreachable!(),
            }
        }
        go(s, query::Date::from_naive(index)).to_naive()
    }

    #[test]
    fn variables_and_malformed_expressions() {
        let e = DateExpr::parse("first_day_of_month(covid_date) + 28 days").unwrap();
        assert_eq!(e.variable(), Some("covid_date"));
        assert!(!e.uses_index_date());
        for bad in [
            "index_date + 1 week",
            "2019-02-30",
            "19-01-01",
            "first_day_of_decade(index_date)",
            "index_date + month",
            "",
            "a b",
        ] {
            let err = DateExpr::parse(bad).unwrap_err();
            assert!(err.contains("invalid date expression"), "{bad}: {err}");
        }
    }
}
