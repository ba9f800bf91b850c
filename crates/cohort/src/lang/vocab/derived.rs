//! Values derived from other variables: `categorised_as`, `satisfying`, `fixed_value`,
//! `minimum_of`/`maximum_of`, `date_of` and the reference-range functions.

use std::sync::Arc;

use query::model::{Comparison, Function};
use query::{Series, SeriesRef, Value};
use yaml::{Node, Scalar, Value as YValue};

use crate::expr::{Expr, ExprType};
use crate::lang::cx::{missing_value, Built, Cx};
use crate::lang::dates::parse_iso_date;
use crate::lang::diag::known_list;
use crate::lang::expr;
use crate::lang::model::{ColumnType, DateFormat, Derived};

/// A name an expression may use: its query-model value and type.
pub(crate) type Env<'e> = &'e dyn Fn(&str) -> Option<(SeriesRef, ExprType)>;

impl Cx<'_, '_, '_> {
    /// Parses and type-checks an expression over the study's variables.
    pub(crate) fn expression(
        &mut self,
        what: &str,
        node: &Node,
    ) -> Option<(Expr, SeriesRef, ExprType)> {
        let built = self.shared.built.clone();
        let env = move |n: &str| built.get(n).map(|b| (b.expr_value(), b.ty.expr_type()));
        let known = self.shared.names.clone();
        self.expression_in(what, node, &env, &known)
    }

    /// Parses and type-checks an expression whose names are given by `env` (`known` lists
    /// them for messages). `None` when it has an error (reported) or uses a variable that
    /// failed (silent).
    pub(crate) fn expression_in(
        &mut self,
        what: &str,
        node: &Node,
        env: Env<'_>,
        known: &[String],
    ) -> Option<(Expr, SeriesRef, ExprType)> {
        let label = if what.is_empty() {
            String::new()
        } else {
            format!("{what}: ")
        };
        let Some(text) = node.scalar_text().filter(|_| !node.is_null()) else {
            self.err(
                node.pos,
                format!("{label}expected an expression, found {}", node.kind_name()),
            );
            return None;
        };
        let e = match Expr::parse(text) {
            Ok(e) => e,
            Err(msg) => {
                self.err(node.pos, format!("{label}{msg}"));
                return None;
            }
        };
        if e.names().iter().any(|n| self.shared.failed.contains(*n)) {
            return None;
        }
        if let Err(msg) = e.check(&|n: &str| env(n).map(|(_, t)| t)) {
            let message = if msg.starts_with("unknown variable") {
                let unknown = e
                    .names()
                    .into_iter()
                    .find(|n| env(n).is_none())
                    .unwrap_or("")
                    .to_string();
                format!(
                    "{label}{msg} in expression `{e}` (known variables: {}){}",
                    known_list(known.iter().map(String::as_str)),
                    crate::lang::diag::did_you_mean(&unknown, known.iter().map(String::as_str))
                )
            } else {
                format!("{label}{msg}")
            };
            self.err(node.pos, message);
            return None;
        }
        let (s, t) = expr::compile(&e, &|n: &str| {
            env(n).unwrap_or((Series::null(query::Type::Bool), ExprType::Bool))
        });
        Some((e, s, t))
    }

    /// A mapping of category -> expression with exactly one `DEFAULT` (keys in file order;
    /// `variables:` skipped): the cases, the default label, and whether every key is an
    /// integer.
    #[allow(clippy::type_complexity)]
    pub(crate) fn categories(
        &mut self,
        node: &Node,
        env: Env<'_>,
        known: &[String],
    ) -> Option<(Vec<(String, Expr, SeriesRef)>, String, bool)> {
        let Some(entries) = node.as_map() else {
            self.err(node.pos, "expected a mapping of category -> expression");
            return None;
        };
        let mut cases: Vec<(String, Expr, SeriesRef, yaml::Pos)> = Vec::new();
        let mut defaults: Vec<(String, yaml::Pos)> = Vec::new();
        let mut int_keys = true;
        let mut ok = true;
        for (k, v) in entries {
            let Some(key) = k.scalar_text() else {
                self.err(k.pos, "category keys must be scalars");
                ok = false;
                continue;
            };
            if key == "variables" && v.as_map().is_some() {
                continue;
            }
            int_keys &= matches!(k.value, YValue::Scalar(_, Scalar::Int(_)));
            let label = match k.value {
                YValue::Scalar(_, Scalar::Int(i)) => i.to_string(),
                _ => key.to_string(),
            };
            if v.scalar_text() == Some("DEFAULT") && !v.quoted {
                defaults.push((label, k.pos));
            } else {
                match self.expression_in(&format!("category `{key}`"), v, env, known) {
                    Some((e, s, t)) => cases.push((label, e, expr::truthy((s, t)), k.pos)),
                    None => ok = false,
                }
            }
        }
        match defaults.as_slice() {
            [] => {
                let pos = self.func_pos;
                self.err(pos, "no category is DEFAULT (exactly one must be)");
                return None;
            }
            [_] => {}
            [_, second, ..] => {
                let msg = format!(
                    "more than one DEFAULT category (`{}` and `{}`)",
                    defaults[0].0, second.0
                );
                self.err(second.1, msg);
                return None;
            }
        }
        if !ok {
            return None;
        }
        let default = defaults.swap_remove(0).0;
        let mut labels = std::collections::HashSet::new();
        for (label, _, _, pos) in &cases {
            if !labels.insert(label.clone()) || *label == default {
                self.err(*pos, format!("category `{label}` defined more than once"));
                return None;
            }
        }
        Some((
            cases.into_iter().map(|(l, e, c, _)| (l, e, c)).collect(),
            default,
            int_keys,
        ))
    }
}

/// The `Case` of categories: each label (an int when `int_keys`) where its condition holds.
pub(crate) fn category_case(
    cases: &[(String, Expr, SeriesRef)],
    default: &str,
    int_keys: bool,
) -> (ColumnType, SeriesRef) {
    let lit = |l: &str| {
        if int_keys {
            Value::Int(l.parse().unwrap_or(0))
        } else {
            Value::str(l)
        }
    };
    let value = Series::function(Function::Case {
        cases: cases
            .iter()
            .map(|(l, _, cond)| (Arc::clone(cond), Series::value(lit(l))))
            .collect(),
        default: Some(Series::value(lit(default))),
    });
    (
        if int_keys {
            ColumnType::Int
        } else {
            ColumnType::Str
        },
        value,
    )
}

pub(super) fn categorised_as(cx: &mut Cx) -> Option<Built> {
    let node = cx.categories?;
    let built = cx.shared.built.clone();
    let env = move |n: &str| built.get(n).map(|b| (b.expr_value(), b.ty.expr_type()));
    let known = cx.shared.names.clone();
    let (cases, default, int_keys) = cx.categories(node, &env, &known)?;
    let (ty, value) = category_case(&cases, &default, int_keys);
    let mut b = Built::new(ty, value);
    b.derived = Derived::Categorised {
        cases: cases.into_iter().map(|(l, e, _)| (l, e)).collect(),
        default,
    };
    Some(b)
}

pub(super) fn satisfying(cx: &mut Cx) -> Option<Built> {
    let Some(node) = cx.arg_node("expression") else {
        cx.err(cx.func_pos, "missing required argument `expression`");
        return None;
    };
    let (e, s, t) = cx.expression("", node)?;
    let mut b = Built::new(ColumnType::Bool, expr::truthy((s, t)));
    b.derived = Derived::Satisfying(e);
    Some(b)
}

pub(super) fn fixed_value(cx: &mut Cx) -> Option<Built> {
    let Some(node) = cx.arg_node("value") else {
        cx.err(cx.func_pos, "missing required argument `value`");
        return None;
    };
    let text = node.scalar_text().unwrap_or("").to_string();
    let (ty, value, format) = match &node.value {
        YValue::Scalar(_, Scalar::Bool(b)) => (ColumnType::Bool, Value::Bool(*b), None),
        YValue::Scalar(_, Scalar::Int(i)) => (ColumnType::Int, Value::Int(*i), None),
        YValue::Scalar(_, Scalar::Float(f)) => (ColumnType::Float, Value::Float(*f), None),
        YValue::Scalar(s, Scalar::Str) => match parse_iso_date(s) {
            Some(d) => (
                ColumnType::Date,
                Value::Date(query::Date::from_naive(d)),
                Some(DateFormat::YearMonthDay),
            ),
            None => (ColumnType::Str, Value::str(s), None),
        },
        _ => {
            cx.arg_err(
                "value",
                format!("expected a literal value, found {}", node.kind_name()),
            );
            return None;
        }
    };
    let mut b = Built::new(ty, Series::value(value));
    b.format = format;
    b.derived = Derived::Fixed(text);
    b.no_date_of = Some("`fixed_value` has no date".into());
    Some(b)
}

fn min_max(cx: &mut Cx, max: bool) -> Option<Built> {
    let Some(node) = cx.arg_node("columns") else {
        cx.err(cx.func_pos, "missing required argument `columns`");
        return None;
    };
    let items: Vec<&Node> = match &node.value {
        YValue::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    // The sources: the listed variables and ISO dates, then the inline helpers.
    let mut sources: Vec<(String, Built)> = Vec::new();
    for item in items {
        let Some(name) = item.scalar_text() else {
            cx.err(
                item.pos,
                "argument `columns`: expected variable names or ISO dates",
            );
            return None;
        };
        if let Some(d) = parse_iso_date(name) {
            let mut b = Built::date(
                Series::value(Value::Date(query::Date::from_naive(d))),
                DateFormat::YearMonthDay,
            );
            b.derived = Derived::Fixed(name.to_string());
            sources.push((name.to_string(), b));
            continue;
        }
        let b = cx.var(name, item.pos, "argument `columns`")??;
        sources.push((name.to_string(), b));
    }
    for h in cx.helpers.clone() {
        if !sources.iter().any(|(n, _)| *n == h) {
            let pos = cx.func_pos;
            let b = cx.var(&h, pos, "key `variables`")??;
            sources.push((h, b));
        }
    }
    let Some((first_name, first)) = sources.first().cloned() else {
        cx.err(node.pos, "argument `columns`: expected at least one source");
        return None;
    };
    for (n, b) in &sources {
        if b.ty != first.ty {
            cx.err(
                node.pos,
                format!(
                    "all sources must have the same type: `{first_name}` is {} and `{n}` is {}",
                    first.ty.name(),
                    b.ty.name()
                ),
            );
            return None;
        }
        if b.ty == ColumnType::Date && b.format != first.format {
            cx.err(
                node.pos,
                format!(
                    "all date sources must have the same date_format: `{first_name}` is {} and `{n}` is {}",
                    first.format.map_or("YYYY-MM-DD", |f| f.name()),
                    b.format.map_or("YYYY-MM-DD", |f| f.name())
                ),
            );
            return None;
        }
    }
    // Each source's value, with its missing value (0, "", …) counted as absent.
    let values: Vec<SeriesRef> = sources
        .iter()
        .map(|(_, b)| {
            if b.missing.is_null() {
                Arc::clone(&b.value)
            } else {
                let v = Series::coalesce(&b.value, &Series::value(b.missing.clone()));
                Series::function(Function::Case {
                    cases: vec![(
                        Series::compare(Comparison::Eq, &v, &Series::value(b.missing.clone())),
                        Series::null(b.ty.query_type()),
                    )],
                    default: Some(v),
                })
            }
        })
        .collect();
    let value = Series::function(if max {
        Function::Greatest(values)
    } else {
        Function::Least(values)
    });
    let mut b = Built::new(first.ty, value);
    b.format = first.format;
    b.derived = Derived::MinMax {
        sources: sources.iter().map(|(n, _)| n.clone()).collect(),
        max,
    };
    b.no_date_of = Some("`minimum_of`/`maximum_of` have no date".into());
    Some(b)
}

pub(super) fn minimum_of(cx: &mut Cx) -> Option<Built> {
    min_max(cx, false)
}

pub(super) fn maximum_of(cx: &mut Cx) -> Option<Built> {
    min_max(cx, true)
}

/// The variable named by argument `source`.
fn source(cx: &mut Cx) -> Option<(String, Built)> {
    let Some(node) = cx.arg_node("source") else {
        cx.err(cx.func_pos, "missing required argument `source`");
        return None;
    };
    let Some(name) = node.scalar_text() else {
        cx.arg_err("source", "expected a variable name");
        return None;
    };
    let b = cx.var(name, node.pos, "argument `source`")??;
    Some((name.to_string(), b))
}

pub(super) fn date_of(cx: &mut Cx) -> Option<Built> {
    let format = cx.date_format(DateFormat::Year);
    let (name, src) = source(cx)?;
    let format = format?;
    let date = match (&src.match_date, &src.no_date_of) {
        (Some(d), None) => Arc::clone(d),
        (_, why) => {
            let why = why.clone().unwrap_or_else(|| "it has no date".into());
            cx.arg_err(
                "source",
                format!("`date_of` cannot be used on `{name}`: {why}"),
            );
            return None;
        }
    };
    let mut b = Built::date(date, format);
    b.derived = Derived::DateOf(name);
    b.no_date_of = Some("it is already a date".into());
    Some(b)
}

fn from_row(cx: &mut Cx, column: &str, ty: ColumnType) -> Option<Built> {
    let (name, src) = source(cx)?;
    let Some((rows, keys, find)) = src.row.clone() else {
        let f = cx.spec.name;
        cx.arg_err(
            "source",
            format!("`{f}` needs a `with_these_clinical_events` variable with `returning: numeric_value`, and `{name}` is not one"),
        );
        return None;
    };
    // The source's row; rows that tie on the source's keys are told apart by the column
    // read, the same way on every engine.
    let events = cx.table(ehr::contract::names::CLINICAL_EVENTS);
    let mut keys = keys;
    keys.push(Series::column(&events, column));
    let row = query::Frame::pick(&rows, keys, find);
    let mut b = Built::new(ty, Series::column(&row, column));
    b.missing = missing_value(ty);
    b.no_date_of = Some("it comes from another variable's row".into());
    Some(b)
}

pub(super) fn comparator_from(cx: &mut Cx) -> Option<Built> {
    from_row(cx, "comparator", ColumnType::Str)
}

pub(super) fn lower_bound_from(cx: &mut Cx) -> Option<Built> {
    from_row(cx, "lower_bound", ColumnType::Float)
}

pub(super) fn upper_bound_from(cx: &mut Cx) -> Option<Built> {
    from_row(cx, "upper_bound", ColumnType::Float)
}
