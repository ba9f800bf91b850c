//! Engine output: the rows of one index date, column by column.

use crate::value::{Date, Type, Value};

/// Strings stored contiguously (Arrow's layout): value `i` is
/// `bytes[offsets[i]..offsets[i + 1]]`, null where `valid[i]` is false.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrColumn {
    /// `len + 1` offsets into `bytes`.
    pub offsets: Vec<usize>,
    /// UTF-8 bytes of every value.
    pub bytes: Vec<u8>,
    /// Validity per value.
    pub valid: Vec<bool>,
}

impl StrColumn {
    /// An empty column.
    pub fn new() -> Self {
        StrColumn {
            offsets: vec![0],
            bytes: Vec::new(),
            valid: Vec::new(),
        }
    }

    /// With room for `n` values.
    pub fn with_capacity(n: usize) -> Self {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        StrColumn {
            offsets,
            bytes: Vec::with_capacity(n * 8),
            valid: Vec::with_capacity(n),
        }
    }

    /// Appends a value.
    pub fn push(&mut self, value: Option<&str>) {
        if let Some(s) = value {
            self.bytes.extend_from_slice(s.as_bytes());
        }
        self.offsets.push(self.bytes.len());
        self.valid.push(value.is_some());
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.valid.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.valid.is_empty()
    }

    /// Value `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        if !self.valid[i] {
            return None;
        }
        std::str::from_utf8(&self.bytes[self.offsets[i]..self.offsets[i + 1]]).ok()
    }
}

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Integers.
    Int(Vec<Option<i64>>),
    /// Floats.
    Float(Vec<Option<f64>>),
    /// Strings.
    Str(StrColumn),
    /// Dates.
    Date(Vec<Option<Date>>),
}

impl ColumnData {
    /// An empty column of type `ty`.
    pub fn new(ty: Type) -> Self {
        match ty {
            Type::Bool => ColumnData::Bool(Vec::new()),
            Type::Int => ColumnData::Int(Vec::new()),
            Type::Float => ColumnData::Float(Vec::new()),
            Type::Str => ColumnData::Str(StrColumn::new()),
            Type::Date => ColumnData::Date(Vec::new()),
        }
    }

    /// The column's type.
    pub fn ty(&self) -> Type {
        match self {
            ColumnData::Bool(_) => Type::Bool,
            ColumnData::Int(_) => Type::Int,
            ColumnData::Float(_) => Type::Float,
            ColumnData::Str(_) => Type::Str,
            ColumnData::Date(_) => Type::Date,
        }
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Bool(v) => v.len(),
            ColumnData::Int(v) => v.len(),
            ColumnData::Float(v) => v.len(),
            ColumnData::Str(v) => v.len(),
            ColumnData::Date(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a value (a value of another type is stored as null).
    pub fn push(&mut self, v: &Value) {
        match self {
            ColumnData::Bool(c) => c.push(v.as_bool()),
            ColumnData::Int(c) => c.push(v.as_int()),
            ColumnData::Float(c) => c.push(v.as_f64()),
            ColumnData::Str(c) => c.push(v.as_str()),
            ColumnData::Date(c) => c.push(v.as_date()),
        }
    }

    /// Value `i`.
    pub fn get(&self, i: usize) -> Value {
        match self {
            ColumnData::Bool(c) => c[i].map_or(Value::Null, Value::Bool),
            ColumnData::Int(c) => c[i].map_or(Value::Null, Value::Int),
            ColumnData::Float(c) => c[i].map_or(Value::Null, Value::Float),
            ColumnData::Str(c) => c.get(i).map_or(Value::Null, Value::str),
            ColumnData::Date(c) => c[i].map_or(Value::Null, Value::Date),
        }
    }
}

/// The rows of one index date: one per patient in the population, ascending `patient_id`, and
/// one column per dataset column, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The patients.
    pub patient_ids: Vec<i64>,
    /// The dataset's columns, in dataset order.
    pub columns: Vec<ColumnData>,
}

impl Batch {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.patient_ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.patient_ids.is_empty()
    }

    /// Row `i` as values (`patient_id` first).
    pub fn row(&self, i: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.columns.len() + 1);
        out.push(Value::Int(self.patient_ids[i]));
        out.extend(self.columns.iter().map(|c| c.get(i)));
        out
    }
}
