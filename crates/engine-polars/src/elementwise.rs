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
        // Kleene logic on bitmaps (polars' `!`, `&` and `|` on boolean arrays are Kleene).
        Function::Not(_) => Ok(bool_col(!&bools(&args[0])?)),
        Function::And(..) => Ok(bool_col(&bools(&args[0])? & &bools(&args[1])?)),
        Function::Or(..) => Ok(bool_col(&bools(&args[0])? | &bools(&args[1])?)),
        Function::IsNull(_) => Ok(bool_col(args[0].is_null())),
        Function::Compare(op, ..) => compare(*op, &args[0], &args[1], arg_types),
        Function::Arithmetic(op, ..) => arithmetic(*op, &args[0], &args[1], arg_types),
        Function::Case { cases, default } => case(cases.len(), default.is_some(), args, ty, len),
        Function::Coalesce(_) => {
            // Arguments after the first one without nulls are never reached.
            let used = args
                .iter()
                .position(|a| a.null_count() == 0)
                .map_or(args.len(), |i| i + 1);
            let args = &args[..used];
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
    if let Some(ca) = compare_integers(op, a, b, types)? {
        return Ok(bool_col(ca));
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

/// The value of a constant (scalar) column.
fn scalar_value(c: &Column) -> Option<&AnyValue<'static>> {
    match c {
        Column::Scalar(s) => Some(s.scalar().value()),
        _ => None,
    }
}

/// Comparisons of two integer or two date columns with polars' vectorised kernels (a constant
/// side compared as a scalar, without materialising it); `None` for other types. A null on
/// either side gives null, as in [`scalar::apply`].
fn compare_integers(
    op: Comparison,
    a: &Column,
    b: &Column,
    types: &[Type],
) -> R<Option<BooleanChunked>> {
    fn kernel<T, Rhs>(op: Comparison, x: &ChunkedArray<T>, y: Rhs) -> BooleanChunked
    where
        ChunkedArray<T>: ChunkCompareEq<Rhs, Item = BooleanChunked>
            + ChunkCompareIneq<Rhs, Item = BooleanChunked>,
        T: PolarsDataType,
    {
        match op {
            Comparison::Eq => x.equal(y),
            Comparison::Ne => x.not_equal(y),
            Comparison::Lt => x.lt(y),
            Comparison::Le => x.lt_eq(y),
            Comparison::Gt => x.gt(y),
            Comparison::Ge => x.gt_eq(y),
        }
    }
    let same = types[0] == types[1];
    if !(same && matches!(types[0], Type::Int | Type::Date)) {
        return Ok(None);
    }
    let len = a.len();
    // A constant side is compared as a scalar (the column on the left, the operator flipped).
    let (op, a, b) = match (scalar_value(a), scalar_value(b)) {
        (Some(_), None) => (crate::eval::flip(op), b, a),
        _ => (op, a, b),
    };
    let date = types[0] == Type::Date;
    let ints = |c: &Column| -> R<Int64Chunked> { Ok(c.i64()?.rechunk().into_owned()) };
    let out = match scalar_value(b) {
        Some(AnyValue::Null) => BooleanChunked::full_null(name(), len),
        Some(v) => {
            let x = v.extract::<i64>().ok_or_else(
                || polars_err!(ComputeError: "comparison with a constant of another type"),
            )?;
            if date {
                kernel(op, &days(a)?, x)
            } else {
                kernel(op, &ints(a)?, x)
            }
        }
        None if date => kernel(op, &days(a)?, &days(b)?),
        None => kernel(op, &ints(a)?, &ints(b)?),
    };
    Ok(Some(out.with_name(name())))
}

/// `CASE`: each row takes the value of the first case whose condition is true (a null
/// condition counts as false), else the default (or null). The branch of every row is found
/// on the conditions' bitmaps, and the result is one gather from the branches' values (a
/// constant branch contributes one value, not a column of them).
fn case(m: usize, has_default: bool, args: &[Column], ty: Type, len: usize) -> R<Column> {
    let dtype = convert::dtype(ty);
    // branches[j]: the value of case j (j < m) or the default (j == m), cast to the result.
    let mut branches: Vec<Column> = (0..m)
        .map(|j| args[2 * j + 1].cast(&dtype))
        .collect::<R<_>>()?;
    branches.push(if has_default {
        args[2 * m].cast(&dtype)?
    } else {
        convert::constant(&Value::Null, ty, len)
    });
    // Where each branch's values start in the gathered-from series: a constant takes one slot.
    let mut starts = Vec::with_capacity(branches.len());
    let mut pieces: Vec<Series> = Vec::with_capacity(branches.len());
    let mut offset: usize = 0;
    for b in &branches {
        starts.push(offset);
        let piece = match b {
            Column::Scalar(s) => s.as_single_value_series(),
            _ => b.as_materialized_series().clone(),
        };
        offset += piece.len();
        pieces.push(piece);
    }
    let constant: Vec<bool> = branches
        .iter()
        .map(|b| matches!(b, Column::Scalar(_)))
        .collect();
    let slot = |j: usize, row: usize| -> IdxSize {
        (starts[j] + if constant[j] { 0 } else { row }) as IdxSize
    };
    let mut choice: Vec<IdxSize> = (0..len).map(|row| slot(m, row)).collect();
    // Later cases first, so that the first true condition is the one that stays.
    for j in (0..m).rev() {
        let cond = bools(&args[2 * j])?;
        let mut first_row = 0;
        for arr in cond.downcast_iter() {
            let truth = match arr.validity() {
                Some(valid) => arr.values() & valid,
                None => arr.values().clone(),
            };
            for row in truth.true_idx_iter() {
                choice[first_row + row] = slot(j, first_row + row);
            }
            first_row += arr.len();
        }
    }
    let mut all = pieces[0].clone();
    for piece in &pieces[1..] {
        all.append(piece)?;
    }
    let out = all.rechunk().take_slice(&choice)?;
    Ok(Column::from(out.with_name(name())))
}
