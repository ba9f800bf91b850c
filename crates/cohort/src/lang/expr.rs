//! Expressions of `categorised_as` and `satisfying`, compiled to the query model.
//!
//! A name is the variable's value with its missing value defaulted (dates: the formatted
//! string, `""` when missing); bools count as 0/1 in arithmetic and comparisons; a value used
//! as a condition means "not 0 / not empty".

use query::model::{Arithmetic, Comparison, Function};
use query::{Series, SeriesRef, Value};

use crate::expr::{ArithOp, CmpOp, Expr, ExprType};

/// The query-model form of `e`, and its type. `var` gives a name's value and type.
pub(crate) fn compile(
    e: &Expr,
    var: &dyn Fn(&str) -> (SeriesRef, ExprType),
) -> (SeriesRef, ExprType) {
    match e {
        Expr::Var(n) => var(n),
        Expr::Int(i) => (Series::value(Value::Int(*i)), ExprType::Int),
        Expr::Float(f) => (Series::value(Value::Float(*f)), ExprType::Float),
        Expr::Str(s) => (Series::value(Value::str(s)), ExprType::Str),
        Expr::Neg(a) => {
            let (a, t) = numeric(compile(a, var));
            (Series::function(Function::Negate(a)), t)
        }
        Expr::Not(a) => (Series::not(&truthy(compile(a, var))), ExprType::Bool),
        Expr::And(a, b) => (
            Series::and(&truthy(compile(a, var)), &truthy(compile(b, var))),
            ExprType::Bool,
        ),
        Expr::Or(a, b) => (
            Series::or(&truthy(compile(a, var)), &truthy(compile(b, var))),
            ExprType::Bool,
        ),
        Expr::Cmp(op, a, b) => {
            let (a, b) = (compile(a, var), compile(b, var));
            let (a, b) = if a.1 == ExprType::Str || b.1 == ExprType::Str {
                (a.0, b.0)
            } else {
                (numeric(a).0, numeric(b).0)
            };
            let op = match op {
                CmpOp::Eq => Comparison::Eq,
                CmpOp::Ne => Comparison::Ne,
                CmpOp::Lt => Comparison::Lt,
                CmpOp::Le => Comparison::Le,
                CmpOp::Gt => Comparison::Gt,
                CmpOp::Ge => Comparison::Ge,
            };
            (Series::compare(op, &a, &b), ExprType::Bool)
        }
        Expr::Arith(op, a, b) => {
            let (a, ta) = numeric(compile(a, var));
            let (b, tb) = numeric(compile(b, var));
            let op = match op {
                ArithOp::Add => Arithmetic::Add,
                ArithOp::Sub => Arithmetic::Sub,
                ArithOp::Mul => Arithmetic::Mul,
                ArithOp::Div => Arithmetic::Div,
            };
            let t = if op != Arithmetic::Div && ta == ExprType::Int && tb == ExprType::Int {
                ExprType::Int
            } else {
                ExprType::Float
            };
            (Series::function(Function::Arithmetic(op, a, b)), t)
        }
    }
}

/// A bool as 0/1; numbers unchanged.
fn numeric((s, t): (SeriesRef, ExprType)) -> (SeriesRef, ExprType) {
    match t {
        ExprType::Bool => (
            Series::function(Function::Case {
                cases: vec![(s, Series::value(Value::Int(1)))],
                default: Some(Series::value(Value::Int(0))),
            }),
            ExprType::Int,
        ),
        _ => (s, t),
    }
}

/// "Not 0 / not empty" as a bool.
pub(crate) fn truthy((s, t): (SeriesRef, ExprType)) -> SeriesRef {
    let zero = match t {
        ExprType::Bool => return s,
        ExprType::Int => Value::Int(0),
        ExprType::Float => Value::Float(0.0),
        ExprType::Str => Value::str(""),
    };
    Series::compare(Comparison::Ne, &s, &Series::value(zero))
}
