//! Query parameters: values bound to `:name` or `?` markers, sent as typed Spark literals.

use chrono::NaiveDate;

use crate::proto;
use crate::proto::expression::literal::LiteralType;

/// One parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL `NULL` (of Spark's `void` type: comparisons with it are `NULL`).
    Null,
    /// `BOOLEAN`.
    Bool(bool),
    /// `INT`.
    Int(i32),
    /// `BIGINT`.
    Long(i64),
    /// `DOUBLE`.
    Double(f64),
    /// `STRING`, matched literally whatever characters it holds.
    String(String),
    /// `DATE`.
    Date(NaiveDate),
    /// `BINARY`.
    Binary(Vec<u8>),
}

/// The parameters of one statement.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Params {
    /// No parameters.
    #[default]
    None,
    /// Values for `:name` markers.
    Named(Vec<(String, Value)>),
    /// Values for `?` markers, in order.
    Positional(Vec<Value>),
}

impl Params {
    /// Named parameters, e.g. `Params::named([("code", "x".into()), ("n", 3i64.into())])`.
    pub fn named<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Params {
        Params::Named(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Positional parameters, e.g. `Params::positional(["x".into(), 3i64.into()])`.
    pub fn positional(values: impl IntoIterator<Item = Value>) -> Params {
        Params::Positional(values.into_iter().collect())
    }
}

impl Value {
    pub(crate) fn to_literal(&self) -> proto::expression::Literal {
        let literal_type = match self {
            Value::Null => LiteralType::Null(null_type()),
            Value::Bool(b) => LiteralType::Boolean(*b),
            Value::Int(i) => LiteralType::Integer(*i),
            Value::Long(i) => LiteralType::Long(*i),
            Value::Double(d) => LiteralType::Double(*d),
            Value::String(s) => LiteralType::String(s.clone()),
            Value::Date(d) => LiteralType::Date(days_since_epoch(*d)),
            Value::Binary(b) => LiteralType::Binary(b.clone()),
        };
        proto::expression::Literal {
            // Spark 4.1 reads a null's type here; older servers from `LiteralType::Null`.
            data_type: matches!(self, Value::Null).then(null_type),
            literal_type: Some(literal_type),
        }
    }
}

fn null_type() -> proto::DataType {
    proto::DataType {
        kind: Some(proto::data_type::Kind::Null(
            proto::data_type::Null::default(),
        )),
    }
}

/// Days since 1970-01-01 (Spark's `DATE` representation). Every `NaiveDate` fits in an i32.
fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a valid date");
    (date - epoch).num_days() as i32
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Long(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Binary(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_since_the_epoch() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(days_since_epoch(d(1970, 1, 1)), 0);
        assert_eq!(days_since_epoch(d(1969, 12, 31)), -1);
        assert_eq!(days_since_epoch(d(2020, 3, 1)), 18322);
    }

    #[test]
    fn null_carries_its_type_both_ways() {
        let literal = Value::from(None::<i64>).to_literal();
        assert_eq!(literal.data_type, Some(null_type()));
        assert_eq!(literal.literal_type, Some(LiteralType::Null(null_type())));
        assert_eq!(Value::from(7i64).to_literal().data_type, None);
    }
}
