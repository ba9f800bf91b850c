//! Element-wise functions over aligned columns: typed fast paths for the functions studies use
//! most, and for the rest the shared value semantics of [`query::scalar::apply`] (so every
//! engine agrees with the reference interpreter by construction).

use polars::prelude::*;
use query::model::{Arithmetic, Comparison, DateUnit, Function};
use query::scalar::{self, Matchers};
use query::{Date, Type, Value};

use crate::convert::{self, arr, date_column, Arr};

type R<T> = PolarsResult<T>;

fn name() -> PlSmallStr {
    PlSmallStr::from_static("#v")
}

fn bools(c: &Column) -> R<BooleanChunked> {
    Ok(c.cast(&DataType::Boolean)?.bool()?.rechunk().into_owned())
}

fn bool_col(ca: BooleanChunked) -> Column {
    Column::from(ca.with_name(name()).into_series())
}

/// `f` applied element-wise to `args` (each of the same length `len`, in
/// [`scalar::arguments`] order), giving a column of type `ty`.
pub(crate) fn apply(
    f: &Function,
    args: &[Column],
    arg_types: &[Type],
    ty: Type,
    len: usize,
    matchers: &mut Matchers,
) -> R<Column> {
    match f {
        Function::Not(_) => {
            let a = bools(&args[0])?;
            Ok(bool_col(a.iter().map(|v| v.map(|b| !b)).collect()))
        }
        Function::And(..) | Function::Or(..) => {
            let (a, b) = (bools(&args[0])?, bools(&args[1])?);
            let and = matches!(f, Function::And(..));
            Ok(bool_col(
                a.iter()
                    .zip(b.iter())
                    .map(|(x, y)| {
                        if and {
                            match (x, y) {
                                (Some(false), _) | (_, Some(false)) => Some(false),
                                (Some(true), Some(true)) => Some(true),
                                _ => None,
                            }
                        } else {
                            match (x, y) {
                                (Some(true), _) | (_, Some(true)) => Some(true),
                                (Some(false), Some(false)) => Some(false),
                                _ => None,
                            }
                        }
                    })
                    .collect(),
            ))
        }
        Function::IsNull(_) => Ok(bool_col(args[0].is_null())),
        Function::Compare(op, ..) => compare(*op, &args[0], &args[1], arg_types),
        Function::Arithmetic(op, ..) => arithmetic(*op, &args[0], &args[1], arg_types),
        Function::Case { cases, default } => {
            let mut out = match default {
                Some(_) => args[2 * cases.len()].cast(&convert::dtype(ty))?,
                None => convert::constant(&Value::Null, ty, len),
            };
            for i in (0..cases.len()).rev() {
                let cond = bools(&args[2 * i])?.fill_null_with_values(false)?;
                let value = args[2 * i + 1].cast(&convert::dtype(ty))?;
                out = value.zip_with(&cond, &out)?;
            }
            Ok(out)
        }
        Function::Coalesce(_) => {
            let mut out = args[args.len() - 1].cast(&convert::dtype(ty))?;
            for a in args[..args.len() - 1].iter().rev() {
                let a = a.cast(&convert::dtype(ty))?;
                let present = a.is_not_null();
                out = a.zip_with(&present, &out)?;
            }
            Ok(out)
        }
        Function::YearsBetween(..) => {
            let (a, b) = (days(&args[0])?, days(&args[1])?);
            let ca: Int64Chunked = a
                .iter()
                .zip(b.iter())
                .map(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) => Some(Date(x).years_until(Date(y))),
                    _ => None,
                })
                .collect();
            Ok(Column::from(ca.with_name(name()).into_series()))
        }
        Function::DateAdd { amount, unit, .. } => {
            let a = days(&args[0])?;
            let (amount, unit) = (*amount, *unit);
            Ok(date_column(a.iter().map(|d| {
                d.map(|d| match unit {
                    DateUnit::Days => Date(d).add_days(amount).0,
                    _ => scalar::date_add(Date(d), amount, unit).0,
                })
            })))
        }
        Function::FirstOfMonth(_) | Function::FirstOfYear(_) => {
            let a = days(&args[0])?;
            let month = matches!(f, Function::FirstOfMonth(_));
            Ok(date_column(a.iter().map(|d| {
                d.map(|d| {
                    if month {
                        Date(d).first_of_month().0
                    } else {
                        Date(d).first_of_year().0
                    }
                })
            })))
        }
        Function::InCodelist { codelist, rule, .. } => {
            let m = matchers.get(codelist, *rule);
            let s = args[0].str()?;
            Ok(bool_col(
                s.iter().map(|v| v.map(|v| m.matches(v))).collect(),
            ))
        }
        _ => generic(f, args, ty, len, matchers),
    }
}

fn days(c: &Column) -> R<Int32Chunked> {
    Ok(c.cast(&DataType::Date)?
        .date()?
        .physical()
        .rechunk()
        .into_owned())
}

/// The shared value semantics, element by element.
fn generic(f: &Function, args: &[Column], ty: Type, len: usize, m: &mut Matchers) -> R<Column> {
    let cols: Vec<Vec<Value>> = args.iter().map(convert::values).collect::<R<_>>()?;
    let mut out = Vec::with_capacity(len);
    let mut row = Vec::with_capacity(cols.len());
    for i in 0..len {
        row.clear();
        row.extend(cols.iter().map(|c| c[i].clone()));
        out.push(scalar::apply(f, &row, m));
    }
    Ok(convert::from_values(&out, ty))
}

fn compare(op: Comparison, a: &Column, b: &Column, types: &[Type]) -> R<Column> {
    fn cmp<T: PartialOrd>(op: Comparison, x: T, y: T) -> bool {
        match op {
            Comparison::Eq => x == y,
            Comparison::Ne => x != y,
            Comparison::Lt => x < y,
            Comparison::Le => x <= y,
            Comparison::Gt => x > y,
            Comparison::Ge => x >= y,
        }
    }
    fn zip<T: PartialOrd + Copy>(
        op: Comparison,
        a: impl Iterator<Item = Option<T>>,
        b: impl Iterator<Item = Option<T>>,
    ) -> BooleanChunked {
        a.zip(b).map(|(x, y)| Some(cmp(op, x?, y?))).collect()
    }
    let (ta, tb) = (types[0], types[1]);
    let numeric_mix = ta != tb && ta.is_numeric() && tb.is_numeric();
    let (a, b) = if numeric_mix || (ta == Type::Float && tb == Type::Float) {
        (a.cast(&DataType::Float64)?, b.cast(&DataType::Float64)?)
    } else {
        (a.clone(), b.clone())
    };
    let a = Column::from(a.as_materialized_series().rechunk());
    let b = Column::from(b.as_materialized_series().rechunk());
    let ca = match (arr(&a)?, arr(&b)?) {
        (Arr::Int(x), Arr::Int(y)) => zip(op, x.iter(), y.iter()),
        (Arr::Float(x), Arr::Float(y)) => x
            .iter()
            .zip(y.iter())
            .map(|(x, y)| {
                let (x, y) = (x?, y?);
                // -0.0 equals 0.0, as in SQL and Python.
                Some(cmp(
                    op,
                    (x + 0.0).total_cmp(&(y + 0.0)),
                    std::cmp::Ordering::Equal,
                ))
            })
            .collect(),
        (Arr::Date(x), Arr::Date(y)) => zip(op, x.iter(), y.iter()),
        (Arr::Bool(x), Arr::Bool(y)) => zip(op, x.iter(), y.iter()),
        (Arr::Str(x), Arr::Str(y)) => x
            .iter()
            .zip(y.iter())
            .map(|(x, y)| Some(cmp(op, x?.as_bytes(), y?.as_bytes())))
            .collect(),
        _ => polars_bail!(ComputeError: "comparison of mismatched columns"),
    };
    Ok(bool_col(ca))
}

fn arithmetic(op: Arithmetic, a: &Column, b: &Column, types: &[Type]) -> R<Column> {
    if op != Arithmetic::Div && types[0] == Type::Int && types[1] == Type::Int {
        let (x, y) = (a.i64()?, b.i64()?);
        let ca: Int64Chunked = x
            .iter()
            .zip(y.iter())
            .map(|(x, y)| {
                let (x, y) = (x?, y?);
                Some(match op {
                    Arithmetic::Add => x.wrapping_add(y),
                    Arithmetic::Sub => x.wrapping_sub(y),
                    _ => x.wrapping_mul(y),
                })
            })
            .collect();
        return Ok(Column::from(ca.with_name(name()).into_series()));
    }
    let x = a.cast(&DataType::Float64)?;
    let y = b.cast(&DataType::Float64)?;
    let (x, y) = (x.f64()?, y.f64()?);
    let ca: Float64Chunked = x
        .iter()
        .zip(y.iter())
        .map(|(x, y)| {
            let (x, y) = (x?, y?);
            match op {
                Arithmetic::Add => Some(x + y),
                Arithmetic::Sub => Some(x - y),
                Arithmetic::Mul => Some(x * y),
                Arithmetic::Div if y == 0.0 => None,
                Arithmetic::Div => Some(x / y),
            }
        })
        .collect();
    Ok(Column::from(ca.with_name(name()).into_series()))
}
