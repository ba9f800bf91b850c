//! Rows of a contract table, column by column, and their polars form.

use std::borrow::Cow;

use polars::prelude::*;

use crate::tables::names::PATIENT_ID;

/// One value of a row, of the column's type (or null).
#[derive(Debug, Clone)]
pub(crate) enum V {
    N,
    B(bool),
    I(i64),
    F(f64),
    /// Days since 1970-01-01.
    D(i32),
    S(&'static str),
    O(String),
}

impl V {
    pub(crate) fn opt_d(d: Option<i32>) -> V {
        d.map_or(V::N, V::D)
    }
    pub(crate) fn opt_s(s: Option<&'static str>) -> V {
        s.map_or(V::N, V::S)
    }
    pub(crate) fn opt_i(i: Option<i64>) -> V {
        i.map_or(V::N, V::I)
    }
}

enum Buf {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Date(Vec<Option<i32>>),
    Str(Vec<Option<Cow<'static, str>>>),
}

/// The rows of one table of the contract (`patient_id` first, then every contract column).
pub(crate) struct Rows {
    pub table: &'static str,
    names: Vec<String>,
    ids: Vec<i64>,
    cols: Vec<Buf>,
}

impl Rows {
    /// No rows of `table` (a contract table).
    pub fn new(table: &'static str) -> Rows {
        let (names, cols) = ehr::contract::table(table)
            .map(|schema| {
                schema
                    .columns
                    .iter()
                    .map(|c| {
                        let buf = match c.ty {
                            query::Type::Bool => Buf::Bool(Vec::new()),
                            query::Type::Int => Buf::Int(Vec::new()),
                            query::Type::Float => Buf::Float(Vec::new()),
                            query::Type::Date => Buf::Date(Vec::new()),
                            query::Type::Str => Buf::Str(Vec::new()),
                        };
                        (c.name.clone(), buf)
                    })
                    .unzip()
            })
            .unwrap_or_default();
        Rows {
            table,
            names,
            ids: Vec::new(),
            cols,
        }
    }

    /// Appends a row: one value per contract column, in contract order. A value of the wrong
    /// type, or a missing one, is stored as null (a generator bug the tests catch).
    pub fn push(&mut self, patient_id: i64, values: Vec<V>) {
        debug_assert_eq!(values.len(), self.cols.len(), "{}", self.table);
        self.ids.push(patient_id);
        let mut values = values.into_iter();
        for buf in &mut self.cols {
            let v = values.next().unwrap_or(V::N);
            match (buf, v) {
                (Buf::Bool(b), V::B(x)) => b.push(Some(x)),
                (Buf::Int(b), V::I(x)) => b.push(Some(x)),
                (Buf::Float(b), V::F(x)) => b.push(Some(x)),
                (Buf::Date(b), V::D(x)) => b.push(Some(x)),
                (Buf::Str(b), V::S(x)) => b.push(Some(Cow::Borrowed(x))),
                (Buf::Str(b), V::O(x)) => b.push(Some(Cow::Owned(x))),
                (buf, v) => {
                    debug_assert!(matches!(v, V::N), "{}: {v:?}", self.table);
                    match buf {
                        Buf::Bool(b) => b.push(None),
                        Buf::Int(b) => b.push(None),
                        Buf::Float(b) => b.push(None),
                        Buf::Date(b) => b.push(None),
                        Buf::Str(b) => b.push(None),
                    }
                }
            }
        }
    }

    /// The rows as a frame with the contract's columns and dtypes.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let height = self.ids.len();
        let mut columns = vec![Int64Chunked::from_vec(PATIENT_ID.into(), self.ids).into_column()];
        for (name, buf) in self.names.into_iter().zip(self.cols) {
            let name = PlSmallStr::from(name);
            columns.push(match buf {
                Buf::Bool(v) => {
                    BooleanChunked::from_iter_options(name, v.into_iter()).into_column()
                }
                Buf::Int(v) => Int64Chunked::from_iter_options(name, v.into_iter()).into_column(),
                Buf::Float(v) => {
                    Float64Chunked::from_iter_options(name, v.into_iter()).into_column()
                }
                Buf::Date(v) => Int32Chunked::from_iter_options(name, v.into_iter())
                    .into_date()
                    .into_column(),
                Buf::Str(v) => {
                    StringChunked::from_iter_options(name, v.iter().map(|s| s.as_deref()))
                        .into_column()
                }
            });
        }
        DataFrame::new(height, columns)
    }
}

/// The polars schema of a whole contract table (`patient_id` first).
pub(crate) fn contract_schema(table: &str) -> Schema {
    let mut schema = Schema::default();
    schema.insert(PATIENT_ID.into(), DataType::Int64);
    if let Some(t) = ehr::contract::table(table) {
        for c in &t.columns {
            schema.insert(c.name.as_str().into(), ehr::folder::dtype(c.ty));
        }
    }
    schema
}
