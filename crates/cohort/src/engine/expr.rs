//! Translation of the expression language to polars expressions over defaulted columns (one
//! column per variable, named after it). Mirrors [`crate::expr::Expr::eval`].

use polars::prelude::{col, lit, DataType, Expr as PlExpr};

use crate::expr::{ArithOp, CmpOp, Expr, ExprType, Value};

/// A polars expression with its expression-language type.
pub(crate) type Typed = (PlExpr, ExprType);

/// "not 0 / not empty" as a Boolean expression.
pub(crate) fn truthy((e, t): Typed) -> PlExpr {
    match t {
        ExprType::Bool => e,
        ExprType::Int => e.neq(lit(0i64)),
        ExprType::Float => e.neq(lit(0.0f64)),
        ExprType::Str => e.neq(lit("")),
    }
}

fn numeric((e, _): Typed, float: bool) -> PlExpr {
    e.cast(if float {
        DataType::Float64
    } else {
        DataType::Int64
    })
}

/// A literal for a category label or default.
pub(crate) fn value_lit(v: &Value) -> PlExpr {
    match v {
        Value::Bool(b) => lit(*b),
        Value::Int(i) => lit(*i),
        Value::Float(f) => lit(*f),
        Value::Str(s) => lit(s.as_str()),
    }
}

/// Translates a type-checked expression; `var_type` gives each variable's type.
pub(crate) fn translate(e: &Expr, var_type: &dyn Fn(&str) -> ExprType) -> Typed {
    match e {
        Expr::Var(n) => (col(n.as_str()), var_type(n)),
        Expr::Int(i) => (lit(*i), ExprType::Int),
        Expr::Float(f) => (lit(*f), ExprType::Float),
        Expr::Str(s) => (lit(s.as_str()), ExprType::Str),
        Expr::Neg(inner) => {
            let t = translate(inner, var_type);
            if t.1 == ExprType::Float {
                (t.0 * lit(-1.0f64), ExprType::Float)
            } else {
                (numeric(t, false) * lit(-1i64), ExprType::Int)
            }
        }
        Expr::Not(inner) => (truthy(translate(inner, var_type)).not(), ExprType::Bool),
        Expr::And(a, b) => (
            truthy(translate(a, var_type)).and(truthy(translate(b, var_type))),
            ExprType::Bool,
        ),
        Expr::Or(a, b) => (
            truthy(translate(a, var_type)).or(truthy(translate(b, var_type))),
            ExprType::Bool,
        ),
        Expr::Cmp(op, a, b) => {
            let (a, b) = (translate(a, var_type), translate(b, var_type));
            let (x, y) = if a.1 == ExprType::Str {
                (a.0, b.0)
            } else {
                let float = a.1 == ExprType::Float || b.1 == ExprType::Float;
                (numeric(a, float), numeric(b, float))
            };
            let out = match op {
                CmpOp::Eq => x.eq(y),
                CmpOp::Ne => x.neq(y),
                CmpOp::Lt => x.lt(y),
                CmpOp::Le => x.lt_eq(y),
                CmpOp::Gt => x.gt(y),
                CmpOp::Ge => x.gt_eq(y),
            };
            (out, ExprType::Bool)
        }
        Expr::Arith(op, a, b) => {
            let (a, b) = (translate(a, var_type), translate(b, var_type));
            let float = *op == ArithOp::Div || a.1 == ExprType::Float || b.1 == ExprType::Float;
            let (x, y) = (numeric(a, float), numeric(b, float));
            let out = match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
            };
            (
                out,
                if float {
                    ExprType::Float
                } else {
                    ExprType::Int
                },
            )
        }
    }
}
