//! Semantics of the scalar functions on values, shared by the reference interpreter and by
//! engines that evaluate some functions outside their native expression language (codelist
//! matching, date arithmetic).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::model::*;
use crate::value::{Date, Value};

/// A codelist prepared for matching strings under a rule.
#[derive(Debug, Clone)]
pub struct CodeMatcher {
    rule: MatchRule,
    /// The codes (ASCII upper case when the rule ignores case).
    codes: HashSet<String>,
    /// Lengths of the codes, ascending, distinct.
    lengths: Vec<usize>,
    /// Code (as in the codelist) -> category, for exact lookups.
    categories: HashMap<String, Option<String>>,
}

impl CodeMatcher {
    /// Prepares `codelist` for `rule`.
    pub fn new(codelist: &Codelist, rule: MatchRule) -> Self {
        let norm = |c: &str| {
            if rule.ascii_case_insensitive {
                c.to_ascii_uppercase()
            } else {
                c.to_string()
            }
        };
        let codes: HashSet<String> = codelist.codes.keys().map(|c| norm(c)).collect();
        let mut lengths: Vec<usize> = codes.iter().map(String::len).collect();
        lengths.sort_unstable();
        lengths.dedup();
        CodeMatcher {
            rule,
            codes,
            lengths,
            categories: codelist
                .codes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Whether `value` matches a code.
    pub fn matches(&self, value: &str) -> bool {
        let upper;
        let v = if self.rule.ascii_case_insensitive {
            upper = value.to_ascii_uppercase();
            upper.as_str()
        } else {
            value
        };
        let prefix_at = |start: usize| {
            self.lengths.iter().any(|&n| {
                v.get(start..start + n)
                    .is_some_and(|p| self.codes.contains(p))
            })
        };
        match self.rule.kind {
            MatchKind::Exact => self.codes.contains(v),
            MatchKind::Prefix => prefix_at(0),
            MatchKind::Substring => (0..v.len()).any(|i| v.is_char_boundary(i) && prefix_at(i)),
            MatchKind::TokenPrefix => {
                let bytes = v.as_bytes();
                (0..v.len()).any(|i| {
                    (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
                        && v.is_char_boundary(i)
                        && prefix_at(i)
                })
            }
        }
    }

    /// The category of `code` (exact match, case as the rule says).
    pub fn category(&self, code: &str) -> Option<&str> {
        if let Some(c) = self.categories.get(code) {
            return c.as_deref();
        }
        if self.rule.ascii_case_insensitive {
            return self
                .categories
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(code))
                .and_then(|(_, c)| c.as_deref());
        }
        None
    }
}

/// Caches [`CodeMatcher`]s by codelist and rule.
#[derive(Default)]
pub struct Matchers {
    cache: HashMap<(*const Codelist, MatchRule), Arc<CodeMatcher>>,
}

impl Matchers {
    /// The matcher for `codelist` under `rule`.
    pub fn get(&mut self, codelist: &Arc<Codelist>, rule: MatchRule) -> Arc<CodeMatcher> {
        Arc::clone(
            self.cache
                .entry((Arc::as_ptr(codelist), rule))
                .or_insert_with(|| Arc::new(CodeMatcher::new(codelist, rule))),
        )
    }
}

/// `a <op> b` (null when either is null).
pub fn compare(op: Comparison, a: &Value, b: &Value) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    let ord = a.total_cmp(b);
    Value::Bool(match op {
        Comparison::Eq => ord.is_eq(),
        Comparison::Ne => ord.is_ne(),
        Comparison::Lt => ord.is_lt(),
        Comparison::Le => ord.is_le(),
        Comparison::Gt => ord.is_gt(),
        Comparison::Ge => ord.is_ge(),
    })
}

/// `a <op> b` on numbers (null when either is null, or dividing by zero).
pub fn arithmetic(op: Arithmetic, a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) if op != Arithmetic::Div => Value::Int(match op {
            Arithmetic::Add => x.wrapping_add(*y),
            Arithmetic::Sub => x.wrapping_sub(*y),
            _ => x.wrapping_mul(*y),
        }),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => match op {
                Arithmetic::Add => Value::Float(x + y),
                Arithmetic::Sub => Value::Float(x - y),
                Arithmetic::Mul => Value::Float(x * y),
                Arithmetic::Div if y == 0.0 => Value::Null,
                Arithmetic::Div => Value::Float(x / y),
            },
            _ => Value::Null,
        },
    }
}

/// Rounds half away from zero to `digits` decimal places.
pub fn round(x: f64, digits: u8) -> f64 {
    let scale = 10f64.powi(i32::from(digits));
    (x * scale).round() / scale
}

/// `date + amount unit`, months and years clamped to the month's end.
pub fn date_add(date: Date, amount: i64, unit: DateUnit) -> Date {
    match unit {
        DateUnit::Days => date.add_days(amount),
        DateUnit::Months => date.add_months_clamped(amount),
        DateUnit::Years => date.add_months_clamped(amount.saturating_mul(12)),
    }
}

/// A string function.
pub fn str_function(f: StrFunction, s: &str) -> String {
    match f {
        StrFunction::Upper => s.to_ascii_uppercase(),
        StrFunction::TrimEnd => s.trim_end_matches(' ').to_string(),
        StrFunction::Left(n) => s.chars().take(n).collect(),
    }
}

/// A part of a date.
pub fn date_part(part: DatePart, d: Date) -> i64 {
    let (y, m, day) = d.ymd();
    match part {
        DatePart::Year => i64::from(y),
        DatePart::Month => i64::from(m),
        DatePart::Day => i64::from(day),
    }
}

/// The arguments of a function, in order: what [`apply`] receives evaluated. `Case` lists
/// each condition then its value, then the default if any. `ExistsMatching` is not
/// element-wise and has no arguments here.
pub fn arguments(f: &Function) -> Vec<&SeriesRef> {
    match f {
        Function::Not(a)
        | Function::IsNull(a)
        | Function::Negate(a)
        | Function::Round { value: a, .. }
        | Function::ToFloat(a)
        | Function::Str(_, a)
        | Function::InCodelist { code: a, .. }
        | Function::CodelistCategory { code: a, .. }
        | Function::DateAdd { date: a, .. }
        | Function::FirstOfMonth(a)
        | Function::FirstOfYear(a)
        | Function::DatePart(_, a)
        | Function::DateToStr(a, _) => vec![a],
        Function::And(a, b)
        | Function::Or(a, b)
        | Function::Compare(_, a, b)
        | Function::Arithmetic(_, a, b)
        | Function::YearsBetween(a, b) => vec![a, b],
        Function::Case { cases, default } => {
            let mut out: Vec<&SeriesRef> = Vec::new();
            for (c, v) in cases {
                out.push(c);
                out.push(v);
            }
            out.extend(default);
            out
        }
        Function::Coalesce(xs) | Function::Least(xs) | Function::Greatest(xs) => {
            xs.iter().collect()
        }
        Function::ExistsMatching { .. } => Vec::new(),
    }
}

/// The value of an element-wise function of evaluated arguments (in [`arguments`] order).
/// `ExistsMatching` gives null: it is not element-wise.
pub fn apply(f: &Function, args: &[Value], matchers: &mut Matchers) -> Value {
    let a = || &args[0];
    match f {
        Function::Not(_) => match a() {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Function::And(..) => match (args[0].as_bool(), args[1].as_bool()) {
            (Some(false), _) | (_, Some(false)) => Value::Bool(false),
            (Some(true), Some(true)) => Value::Bool(true),
            _ => Value::Null,
        },
        Function::Or(..) => match (args[0].as_bool(), args[1].as_bool()) {
            (Some(true), _) | (_, Some(true)) => Value::Bool(true),
            (Some(false), Some(false)) => Value::Bool(false),
            _ => Value::Null,
        },
        Function::IsNull(_) => Value::Bool(a().is_null()),
        Function::Compare(op, ..) => compare(*op, &args[0], &args[1]),
        Function::Arithmetic(op, ..) => arithmetic(*op, &args[0], &args[1]),
        Function::Negate(_) => match a() {
            Value::Int(i) => Value::Int(i.wrapping_neg()),
            Value::Float(x) => Value::Float(-x),
            _ => Value::Null,
        },
        Function::Round { digits, .. } => a()
            .as_f64()
            .map_or(Value::Null, |x| Value::Float(round(x, *digits))),
        Function::ToFloat(_) => a().as_f64().map_or(Value::Null, Value::Float),
        Function::Str(func, _) => match a() {
            Value::Str(s) => Value::str(&str_function(*func, s)),
            _ => Value::Null,
        },
        Function::InCodelist { codelist, rule, .. } => match a() {
            Value::Str(s) => Value::Bool(matchers.get(codelist, *rule).matches(s)),
            _ => Value::Null,
        },
        Function::CodelistCategory { codelist, .. } => match a() {
            Value::Str(s) => codelist
                .codes
                .get(&**s)
                .and_then(|c| c.as_deref())
                .map_or(Value::Null, Value::str),
            _ => Value::Null,
        },
        Function::DateAdd { amount, unit, .. } => a()
            .as_date()
            .map_or(Value::Null, |d| Value::Date(date_add(d, *amount, *unit))),
        Function::FirstOfMonth(_) => a()
            .as_date()
            .map_or(Value::Null, |d| Value::Date(d.first_of_month())),
        Function::FirstOfYear(_) => a()
            .as_date()
            .map_or(Value::Null, |d| Value::Date(d.first_of_year())),
        Function::DatePart(part, _) => a()
            .as_date()
            .map_or(Value::Null, |d| Value::Int(date_part(*part, d))),
        Function::YearsBetween(..) => match (args[0].as_date(), args[1].as_date()) {
            (Some(x), Some(y)) => Value::Int(x.years_until(y)),
            _ => Value::Null,
        },
        Function::DateToStr(_, format) => a()
            .as_date()
            .map_or(Value::Null, |d| Value::str(&format.format(d))),
        Function::Case { cases, default } => {
            for (i, _) in cases.iter().enumerate() {
                if args[2 * i].as_bool() == Some(true) {
                    return args[2 * i + 1].clone();
                }
            }
            match default {
                Some(_) => args[2 * cases.len()].clone(),
                None => Value::Null,
            }
        }
        Function::Coalesce(_) => args
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null),
        Function::Least(_) => args
            .iter()
            .filter(|v| !v.is_null())
            .min_by(|x, y| x.total_cmp(y))
            .cloned()
            .unwrap_or(Value::Null),
        Function::Greatest(_) => args
            .iter()
            .filter(|v| !v.is_null())
            .max_by(|x, y| x.total_cmp(y))
            .cloned()
            .unwrap_or(Value::Null),
        Function::ExistsMatching { .. } => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(codes: &[&str]) -> Codelist {
        Codelist {
            name: "t".into(),
            codes: codes.iter().map(|c| (c.to_string(), None)).collect(),
        }
    }

    fn rule(kind: MatchKind, ci: bool) -> MatchRule {
        MatchRule {
            kind,
            ascii_case_insensitive: ci,
        }
    }

    #[test]
    fn exact_matching_respects_case_rule() {
        let cl = list(&["XaBVJ", "abc"]);
        let cs = CodeMatcher::new(&cl, rule(MatchKind::Exact, false));
        assert!(cs.matches("XaBVJ"));
        assert!(!cs.matches("xabvj"));
        let ci = CodeMatcher::new(&cl, rule(MatchKind::Exact, true));
        assert!(ci.matches("xabvj"));
        assert!(ci.matches("ABC"));
        assert!(!ci.matches("ab"));
    }

    #[test]
    fn prefix_substring_and_token_prefix() {
        let cl = list(&["J12", "xxx"]);
        let p = CodeMatcher::new(&cl, rule(MatchKind::Prefix, true));
        assert!(p.matches("J120"));
        assert!(p.matches("XXXA"));
        assert!(!p.matches("AJ12"));
        let s = CodeMatcher::new(&list(&["D07"]), rule(MatchKind::Substring, true));
        assert!(s.matches("D071"));
        assert!(s.matches("AD07"));
        assert!(!s.matches("D0"));
        let t = CodeMatcher::new(&cl, rule(MatchKind::TokenPrefix, true));
        assert!(t.matches("||E119 ,J120 ||I801"));
        assert!(t.matches("J12"));
        assert!(!t.matches("AJ120"));
        assert!(!t.matches("E11J12"));
    }

    #[test]
    fn arithmetic_and_comparison_with_nulls() {
        assert_eq!(
            arithmetic(Arithmetic::Div, &Value::Int(1), &Value::Int(0)),
            Value::Null
        );
        assert_eq!(
            arithmetic(Arithmetic::Div, &Value::Int(1), &Value::Int(4)),
            Value::Float(0.25)
        );
        assert_eq!(
            arithmetic(Arithmetic::Add, &Value::Int(i64::MAX), &Value::Int(1)),
            Value::Int(i64::MIN)
        );
        assert_eq!(
            compare(Comparison::Lt, &Value::Int(1), &Value::Float(1.5)),
            Value::Bool(true)
        );
        assert_eq!(
            compare(Comparison::Eq, &Value::Null, &Value::Null),
            Value::Null
        );
        assert_eq!(round(0.25, 1), 0.3);
        assert_eq!(round(-0.25, 1), -0.3);
    }
}
