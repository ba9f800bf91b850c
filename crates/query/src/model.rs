//! The nodes of the query model.
//!
//! A query is a tree (a DAG: subtrees are shared through `Arc`) of two kinds of node:
//!
//! - a [`Frame`] is a set of rows: a table, a filtered table, or the one row per patient picked
//!   from one;
//! - a [`Series`] is a value: either one per patient (*patient-level*, e.g. an aggregate over a
//!   frame, or a column of a picked row) or one per row of an event frame (*row-level*, e.g. a
//!   column of a table, used inside a filter, a sort key or an aggregate).
//!
//! Every value is evaluated per patient **and per index date**: [`Series::IndexDate`] is the
//! one parameter, and an engine evaluates a [`Dataset`] for a whole list of index dates at once.
//!
//! Semantics every engine implements (pinned down by the spec tests, which run on every engine):
//! - **Nulls** are SQL's: a function of a null is null (except `IsNull`, `Coalesce`, `Case`,
//!   `Least`/`Greatest`, and three-valued `And`/`Or`: `false AND null = false`,
//!   `true OR null = true`); a filter, a case condition or the population keeps a row only
//!   where the condition is true (null counts as false).
//! - **Patients**: a dataset is evaluated for every `patient_id` found in any table (or inline
//!   table) the dataset reads; the population keeps those for which it is true.
//! - **Aggregates** ignore nulls; over no rows (or only nulls) they are null, except `Exists`
//!   (false), `Count` and `CountDistinct` (0).
//! - **Order**: values compare as [`crate::Value::total_cmp`] says: numbers numerically
//!   (-0.0 equals 0.0), strings by code point, dates by day, null before any value.
//! - **Picks** sort a patient's rows by the keys (ascending, nulls first) and take the first or
//!   the last; rows that tie on every key must not differ in any column the query reads
//!   (front ends add keys until that holds).
//! - **Dates**: month and year arithmetic clamps to the end of the month.
//! - **Division** is float division; by zero it is null.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::value::{Type, Value};

/// A shared frame node.
pub type FrameRef = Arc<Frame>;
/// A shared series node.
pub type SeriesRef = Arc<Series>;

/// The name, column types and shape of a table an engine reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableSchema {
    /// The table's name in the data source.
    pub name: String,
    /// The columns a query may read (every table also has `patient_id`, Int, never null,
    /// which is not listed here).
    pub columns: Vec<ColumnSchema>,
    /// `true` for tables with at most one row per patient (their columns are patient-level).
    pub one_row_per_patient: bool,
}

/// One column of a [`TableSchema`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSchema {
    /// Column name.
    pub name: String,
    /// Column type.
    pub ty: Type,
    /// Whether the column may hold nulls.
    pub nullable: bool,
}

impl TableSchema {
    /// The column called `name` (`patient_id` included, as a non-null Int).
    pub fn column(&self, name: &str) -> Option<ColumnSchema> {
        if name == PATIENT_ID {
            return Some(ColumnSchema {
                name: PATIENT_ID.to_string(),
                ty: Type::Int,
                nullable: false,
            });
        }
        self.columns.iter().find(|c| c.name == name).cloned()
    }
}

/// The name of the patient identifier column every table has.
pub const PATIENT_ID: &str = "patient_id";

/// A patient-level table given in the query itself (e.g. values read from a file named in a
/// study definition): one row per patient.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InlineTable {
    /// Its schema (`one_row_per_patient` is true).
    pub schema: TableSchema,
    /// Rows: `patient_id` then one value per column of the schema, ascending `patient_id`,
    /// unique.
    pub rows: Vec<(i64, Vec<Value>)>,
}

/// A set of rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frame {
    /// Every row of a table of the data source.
    Table(Arc<TableSchema>),
    /// The rows of an inline table (patient-level).
    Inline(Arc<InlineTable>),
    /// The rows of several event-level frames, each projected onto the same named columns
    /// (SQL `UNION ALL`). Its rows are event-level; row-level series over it are
    /// [`Series::Column`]s of this frame.
    Concat {
        /// The output columns and their types.
        columns: Vec<(String, Type)>,
        /// Each part: a frame and one row-level series over it per output column.
        parts: Vec<(FrameRef, Vec<SeriesRef>)>,
    },
    /// The rows of `source` for which `condition` (a row-level series over `source`'s rows,
    /// possibly using patient-level series) is true. Over a patient-level `source` the
    /// condition is patient-level: the patient's one row is kept or not (a column of the
    /// filtered frame is null where it is not).
    Filter {
        /// The frame filtered.
        source: FrameRef,
        /// A boolean series.
        condition: SeriesRef,
    },
    /// Per patient, one row of the event-level `source`: the first or last in the order of
    /// `sort_by` (row-level series, ascending, nulls first). The result is patient-level: a
    /// patient without rows has a row of nulls.
    Pick {
        /// The frame picked from.
        source: FrameRef,
        /// Sort keys, most significant first.
        sort_by: Vec<SeriesRef>,
        /// First or last row.
        position: Position,
    },
}

/// Which row a [`Frame::Pick`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// The least row in sort order.
    First,
    /// The greatest row in sort order.
    Last,
}

/// A value per patient (patient-level) or per row of an event frame (row-level).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Series {
    /// A constant (of type `ty` when `value` is null).
    Value {
        /// The value.
        value: Value,
        /// Its type.
        ty: Type,
    },
    /// The index date being evaluated.
    IndexDate,
    /// A column of a frame: patient-level for a patient-level frame (a one-row-per-patient
    /// table, an inline table, a pick), row-level otherwise (then `frame` is the table or
    /// concat whose rows the enclosing filter, sort or aggregate goes through).
    Column {
        /// The frame.
        frame: FrameRef,
        /// The column name (`patient_id` is allowed).
        column: String,
    },
    /// A per-patient aggregate over the rows of an event-level frame.
    Aggregate {
        /// The rows aggregated.
        frame: FrameRef,
        /// What is computed.
        function: Aggregate,
    },
    /// A scalar function.
    Function(Function),
}

/// Per-patient aggregates (over the patient's rows of the frame).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Aggregate {
    /// Whether there is a row (bool, never null).
    Exists,
    /// The number of rows (int, never null).
    Count,
    /// The least non-null value.
    Min(SeriesRef),
    /// The greatest non-null value.
    Max(SeriesRef),
    /// The sum of the non-null values (int for ints, float for floats).
    Sum(SeriesRef),
    /// The mean of the non-null values (float).
    Mean(SeriesRef),
    /// The number of distinct non-null values (int, never null).
    CountDistinct(SeriesRef),
    /// The most frequent non-null value; among equally frequent values, the greatest.
    Mode(SeriesRef),
    /// Episodes: the rows' non-null dates in order, a new episode starting at the first and
    /// at each date more than `max_gap_days` after the previous one (int, never null).
    CountEpisodes {
        /// A row-level date.
        date: SeriesRef,
        /// The largest gap, in days, within one episode.
        max_gap_days: i64,
    },
    /// Whether the rows' intervals `[start, end)` (end null = open), merged where they
    /// overlap or touch, include one interval covering every day of `[from, to]`: `start <=
    /// from` and (`end` null or `end > to`) (bool, never null; false when `from` or `to` is
    /// null).
    SpanCovered {
        /// Row-level start date (rows with a null start are ignored).
        start: SeriesRef,
        /// Row-level end date (null = open).
        end: SeriesRef,
        /// Patient-level first day to cover.
        from: SeriesRef,
        /// Patient-level last day to cover.
        to: SeriesRef,
    },
    /// Groups the rows by `key`; sums `max(value) + add` over the groups whose greatest
    /// `value` is non-null (int; 0 when no group has one).
    SumOfGroupMax {
        /// Row-level grouping key.
        key: SeriesRef,
        /// Row-level int value.
        value: SeriesRef,
        /// Added to each group's maximum.
        add: i64,
    },
}

/// How a code is looked up in a codelist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// The value equals a code.
    Exact,
    /// The value starts with a code.
    Prefix,
    /// The value contains a code anywhere.
    Substring,
    /// The value contains a code at its start or right after a character that is not an ASCII
    /// letter or digit (a prefix match on any code of a delimited list such as `A01,B021`).
    TokenPrefix,
}

/// Codelist matching rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatchRule {
    /// Where the code must appear.
    pub kind: MatchKind,
    /// Compare ASCII letters case-insensitively.
    pub ascii_case_insensitive: bool,
}

impl MatchRule {
    /// Exact, case-sensitive.
    pub const EXACT: MatchRule = MatchRule {
        kind: MatchKind::Exact,
        ascii_case_insensitive: false,
    };
}

/// A set of codes, each with an optional category.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Codelist {
    /// A name for messages and generated SQL comments.
    pub name: String,
    /// Code -> category.
    pub codes: BTreeMap<String, Option<String>>,
}

/// Date arithmetic units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateUnit {
    /// Days.
    Days,
    /// Calendar months (clamped to the month's end).
    Months,
    /// Calendar years (clamped to the month's end: 29 February + 1 year = 28 February).
    Years,
}

/// Parts of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatePart {
    /// The year.
    Year,
    /// The month, 1-12.
    Month,
    /// The day of the month, 1-31.
    Day,
}

/// How [`Function::DateToStr`] writes a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateFormat {
    /// `YYYY`
    Year,
    /// `YYYY-MM`
    YearMonth,
    /// `YYYY-MM-DD`
    YearMonthDay,
}

impl DateFormat {
    /// Formats a date.
    pub fn format(self, d: crate::Date) -> String {
        let (y, m, day) = d.ymd();
        match self {
            DateFormat::Year => format!("{y:04}"),
            DateFormat::YearMonth => format!("{y:04}-{m:02}"),
            DateFormat::YearMonthDay => format!("{y:04}-{m:02}-{day:02}"),
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arithmetic {
    /// `+` (ints wrap)
    Add,
    /// `-` (ints wrap)
    Sub,
    /// `*` (ints wrap)
    Mul,
    /// `/`: float division, null when dividing by zero.
    Div,
}

/// String functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrFunction {
    /// ASCII upper case.
    Upper,
    /// Without trailing spaces.
    TrimEnd,
    /// The first `n` characters.
    Left(usize),
}

/// Scalar functions (each argument of the same level as the result, or patient-level inside a
/// row-level function).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Function {
    /// Logical not.
    Not(SeriesRef),
    /// Three-valued and.
    And(SeriesRef, SeriesRef),
    /// Three-valued or.
    Or(SeriesRef, SeriesRef),
    /// Whether the value is null (never null).
    IsNull(SeriesRef),
    /// A comparison of two values of the same type (ints and floats compare together).
    Compare(Comparison, SeriesRef, SeriesRef),
    /// Arithmetic on numbers: int with int gives int (except `Div`), otherwise float.
    Arithmetic(Arithmetic, SeriesRef, SeriesRef),
    /// Negation of a number.
    Negate(SeriesRef),
    /// Rounds a float half away from zero to `digits` decimal places.
    Round {
        /// A number.
        value: SeriesRef,
        /// Decimal places.
        digits: u8,
    },
    /// An int as a float.
    ToFloat(SeriesRef),
    /// An int written in decimal (`-12`).
    IntToStr(SeriesRef),
    /// A string function.
    Str(StrFunction, SeriesRef),
    /// Whether a string matches a code of the codelist under the rule.
    InCodelist {
        /// A string.
        code: SeriesRef,
        /// The codes.
        codelist: Arc<Codelist>,
        /// How to match.
        rule: MatchRule,
    },
    /// The category of a code in the codelist (exact match), null when absent or uncategorised.
    CodelistCategory {
        /// A string.
        code: SeriesRef,
        /// The codes and their categories.
        codelist: Arc<Codelist>,
    },
    /// A date plus a whole number of units.
    DateAdd {
        /// A date.
        date: SeriesRef,
        /// Signed amount.
        amount: i64,
        /// Unit.
        unit: DateUnit,
    },
    /// The first day of the date's month.
    FirstOfMonth(SeriesRef),
    /// 1 January of the date's year.
    FirstOfYear(SeriesRef),
    /// A part of a date (int).
    DatePart(DatePart, SeriesRef),
    /// Completed years from the first date to the second (int; an age).
    YearsBetween(SeriesRef, SeriesRef),
    /// A date written as a string.
    DateToStr(SeriesRef, DateFormat),
    /// The value of the first case whose condition is true, else `default` (null if none).
    Case {
        /// (condition, value) pairs.
        cases: Vec<(SeriesRef, SeriesRef)>,
        /// The value when no condition is true.
        default: Option<SeriesRef>,
    },
    /// The first non-null value.
    Coalesce(Vec<SeriesRef>),
    /// The least non-null value (null if all are null).
    Least(Vec<SeriesRef>),
    /// The greatest non-null value (null if all are null).
    Greatest(Vec<SeriesRef>),
    /// Row-level: whether the patient has a row of `frame` whose `key` equals `value` (a series
    /// of the enclosing row or patient; false when `value` is null).
    ExistsMatching {
        /// An event-level frame.
        frame: FrameRef,
        /// A row-level series over `frame`.
        key: SeriesRef,
        /// The value looked for.
        value: SeriesRef,
    },
}

/// What an engine evaluates: the patients for whom `population` is true, and one named column
/// per series, per index date.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dataset {
    /// A patient-level bool series.
    pub population: SeriesRef,
    /// Output columns: name and patient-level series, in output order.
    pub columns: Vec<(String, SeriesRef)>,
}

// --- Convenience constructors -------------------------------------------------------------

impl Series {
    /// A constant.
    pub fn value(value: Value) -> SeriesRef {
        let ty = value.ty().unwrap_or(Type::Bool);
        Arc::new(Series::Value { value, ty })
    }

    /// A typed null.
    pub fn null(ty: Type) -> SeriesRef {
        Arc::new(Series::Value {
            value: Value::Null,
            ty,
        })
    }

    /// The index date.
    pub fn index_date() -> SeriesRef {
        Arc::new(Series::IndexDate)
    }

    /// A column of a frame.
    pub fn column(frame: &FrameRef, column: &str) -> SeriesRef {
        Arc::new(Series::Column {
            frame: Arc::clone(frame),
            column: column.to_string(),
        })
    }

    /// An aggregate.
    pub fn aggregate(frame: &FrameRef, function: Aggregate) -> SeriesRef {
        Arc::new(Series::Aggregate {
            frame: Arc::clone(frame),
            function,
        })
    }

    /// A function.
    pub fn function(function: Function) -> SeriesRef {
        Arc::new(Series::Function(function))
    }

    /// `a <op> b`.
    pub fn compare(op: Comparison, a: &SeriesRef, b: &SeriesRef) -> SeriesRef {
        Series::function(Function::Compare(op, Arc::clone(a), Arc::clone(b)))
    }

    /// `a AND b`.
    pub fn and(a: &SeriesRef, b: &SeriesRef) -> SeriesRef {
        Series::function(Function::And(Arc::clone(a), Arc::clone(b)))
    }

    /// `a OR b`.
    pub fn or(a: &SeriesRef, b: &SeriesRef) -> SeriesRef {
        Series::function(Function::Or(Arc::clone(a), Arc::clone(b)))
    }

    /// `NOT a`.
    pub fn not(a: &SeriesRef) -> SeriesRef {
        Series::function(Function::Not(Arc::clone(a)))
    }

    /// `a IS NULL`.
    pub fn is_null(a: &SeriesRef) -> SeriesRef {
        Series::function(Function::IsNull(Arc::clone(a)))
    }

    /// The first non-null of `a`, `b`.
    pub fn coalesce(a: &SeriesRef, b: &SeriesRef) -> SeriesRef {
        Series::function(Function::Coalesce(vec![Arc::clone(a), Arc::clone(b)]))
    }

    /// The conjunction of every series (true when empty).
    pub fn all_of(parts: &[SeriesRef]) -> SeriesRef {
        let mut it = parts.iter();
        match it.next() {
            None => Series::value(Value::Bool(true)),
            Some(first) => it.fold(Arc::clone(first), |acc, p| Series::and(&acc, p)),
        }
    }

    /// The disjunction of every series (false when empty).
    pub fn any_of(parts: &[SeriesRef]) -> SeriesRef {
        let mut it = parts.iter();
        match it.next() {
            None => Series::value(Value::Bool(false)),
            Some(first) => it.fold(Arc::clone(first), |acc, p| Series::or(&acc, p)),
        }
    }
}

impl Frame {
    /// A table.
    pub fn table(schema: &Arc<TableSchema>) -> FrameRef {
        Arc::new(Frame::Table(Arc::clone(schema)))
    }

    /// `source` filtered by `condition`.
    pub fn filter(source: &FrameRef, condition: &SeriesRef) -> FrameRef {
        Arc::new(Frame::Filter {
            source: Arc::clone(source),
            condition: Arc::clone(condition),
        })
    }

    /// One row per patient of `source`.
    pub fn pick(source: &FrameRef, sort_by: Vec<SeriesRef>, position: Position) -> FrameRef {
        Arc::new(Frame::Pick {
            source: Arc::clone(source),
            sort_by,
            position,
        })
    }

    /// The frame whose rows this frame's rows are (the table, inline table or concat under
    /// any filters); a pick is its own root.
    #[allow(clippy::needless_lifetimes)]
    pub fn root<'a>(self: &'a FrameRef) -> &'a FrameRef {
        match &**self {
            Frame::Filter { source, .. } => source.root(),
            _ => self,
        }
    }

    /// Whether the frame has at most one row per patient.
    pub fn is_patient_level(&self) -> bool {
        match self {
            Frame::Table(schema) => schema.one_row_per_patient,
            Frame::Inline(_) | Frame::Pick { .. } => true,
            Frame::Concat { .. } => false,
            Frame::Filter { source, .. } => source.is_patient_level(),
        }
    }
}
