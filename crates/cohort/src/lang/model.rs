//! A loaded, validated study definition.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use yaml::{Diagnostic, Node, Pos};

use super::codelists::Codelist;
use super::dates::DateExpr;

/// A validated study definition (`analysis/study_definition*.yaml`, or the definition a
/// `study_definition*.py` records).
#[derive(Debug, Clone)]
pub struct StudyDefinition {
    /// The file it was loaded from (the `.yaml`, or the `.py` it was recorded from).
    pub path: PathBuf,
    /// The folder codelist CSVs and study files are resolved against (the study root).
    pub project_dir: PathBuf,
    /// The default index date (used when no index-date range is given).
    pub index_date: Option<NaiveDate>,
    /// `default_expectations`, as written.
    pub default_expectations: Option<serde_yaml::Value>,
    /// Codelists by name, resolved (`combine_codelists` and `filter_codes_by_category` applied).
    pub codelists: BTreeMap<String, Codelist>,
    /// The population (named `population`; true = in the cohort).
    pub population: Variable,
    /// Every variable in definition order. Inline helpers (hidden) come right before the
    /// variable that defines them; a `<name>_date` column added by `include_date_of_match`
    /// right after `<name>`.
    pub variables: Vec<Variable>,
    /// The `measures:` section, in file order.
    pub measures: Vec<MeasureDef>,
    /// The definition as parsed, for compiling it again with run-time inputs.
    pub(crate) source: Node,
    /// For a definition recorded from a `.py` file: where its lines came from.
    pub(crate) origins: Option<std::sync::Arc<crate::pyfront::Origins>>,
}

/// One variable of a study definition.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Line and column of the variable's name in the file.
    pub line: usize,
    /// Column of the name.
    pub col: usize,
    /// The function that defines it (`with_these_clinical_events`, …); for a column added by
    /// `include_date_of_match`, the parent's function.
    pub function: String,
    /// The output column type.
    pub column_type: ColumnType,
    /// How a date column is written (`None` for other types).
    pub date_format: Option<DateFormat>,
    /// A helper: computed, not written.
    pub hidden: bool,
    /// `return_expectations`, as written.
    pub return_expectations: Option<serde_yaml::Value>,
    /// What `--dummy-data=expectations` computes instead of sampling.
    pub derived: Derived,
    /// The window (`between` / `on_or_before` / `on_or_after`) when its bounds do not depend on
    /// a patient: (lower, upper), each absent or a date expression.
    pub window: Option<(Option<DateExpr>, Option<DateExpr>)>,
    /// The `codelist` argument, if the function has one.
    pub codelist: Option<String>,
}

impl Variable {
    /// Where the variable is defined.
    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.col)
    }
}

/// For expectations dummy data: how a column follows from others (or `Sampled`).
#[derive(Debug, Clone, PartialEq)]
pub enum Derived {
    /// Sampled from `return_expectations`.
    Sampled,
    /// `categorised_as`: the first category whose expression holds, else the default.
    Categorised {
        /// (label, expression) in file order.
        cases: Vec<(String, crate::expr::Expr)>,
        /// The DEFAULT label.
        default: String,
    },
    /// `satisfying`.
    Satisfying(crate::expr::Expr),
    /// `fixed_value`: this constant.
    Fixed(String),
    /// `minimum_of` / `maximum_of` over these variables.
    MinMax {
        /// Source variables.
        sources: Vec<String>,
        /// Maximum (else minimum).
        max: bool,
    },
    /// `date_of` this variable (or the date column of `include_date_of_match`): empty where
    /// the source is missing.
    DateOf(String),
    /// `with_value_from_file` / `which_exist_in_file`: values from this CSV.
    FromFile {
        /// The file, relative to the study root.
        path: String,
        /// The column (`None` for `which_exist_in_file`).
        column: Option<String>,
    },
}

/// The type of an output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// written `0`/`1`; missing = 0
    Bool,
    /// missing = 0
    Int,
    /// missing = 0.0
    Float,
    /// missing = ""
    Str,
    /// A date written per the variable's `date_format`; missing = ""
    Date,
}

impl ColumnType {
    /// The type the expression language sees (dates are their formatted strings).
    pub fn expr_type(self) -> crate::expr::ExprType {
        use crate::expr::ExprType;
        match self {
            ColumnType::Bool => ExprType::Bool,
            ColumnType::Int => ExprType::Int,
            ColumnType::Float => ExprType::Float,
            ColumnType::Str | ColumnType::Date => ExprType::Str,
        }
    }

    /// Lower-case name: `bool`, `int`, `float`, `str`, `date`.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Bool => "bool",
            ColumnType::Int => "int",
            ColumnType::Float => "float",
            ColumnType::Str => "str",
            ColumnType::Date => "date",
        }
    }

    /// The query-model type.
    pub fn query_type(self) -> query::Type {
        match self {
            ColumnType::Bool => query::Type::Bool,
            ColumnType::Int => query::Type::Int,
            ColumnType::Float => query::Type::Float,
            ColumnType::Str => query::Type::Str,
            ColumnType::Date => query::Type::Date,
        }
    }
}

/// How a date is written.
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
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<DateFormat> {
        match s {
            "YYYY" => Some(DateFormat::Year),
            "YYYY-MM" => Some(DateFormat::YearMonth),
            "YYYY-MM-DD" => Some(DateFormat::YearMonthDay),
            _ => None,
        }
    }

    /// As written in a study definition.
    pub fn name(self) -> &'static str {
        match self {
            DateFormat::Year => "YYYY",
            DateFormat::YearMonth => "YYYY-MM",
            DateFormat::YearMonthDay => "YYYY-MM-DD",
        }
    }

    /// Formats a date.
    pub fn format(self, d: NaiveDate) -> String {
        self.query().format(query::Date::from_naive(d))
    }

    /// The query model's format.
    pub fn query(self) -> query::DateFormat {
        match self {
            DateFormat::Year => query::DateFormat::Year,
            DateFormat::YearMonth => query::DateFormat::YearMonth,
            DateFormat::YearMonthDay => query::DateFormat::YearMonthDay,
        }
    }

    /// The chrono format string.
    pub fn chrono_format(self) -> &'static str {
        match self {
            DateFormat::Year => "%Y",
            DateFormat::YearMonth => "%Y-%m",
            DateFormat::YearMonthDay => "%Y-%m-%d",
        }
    }
}

/// `group_by` of a measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// absent or null: one total row (see measures-and-outputs.md).
    None,
    /// the word `population` (or `[population]`): one total row.
    Population,
    /// a list of variable names.
    Variables(Vec<String>),
}

/// One entry of `measures:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureDef {
    /// The id (`[A-Za-z0-9_]+`).
    pub id: String,
    /// The numerator variable.
    pub numerator: String,
    /// A variable name, or `population` (1 for every patient in the cohort).
    pub denominator: String,
    /// The groups.
    pub group_by: GroupBy,
    /// cohortextractor's small-number suppression.
    pub small_number_suppression: bool,
    /// Line of the measure in the file.
    pub line: usize,
}

/// Every problem found in a study definition (never empty), sorted by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyError {
    /// The problems.
    pub problems: Vec<Diagnostic>,
}

impl fmt::Display for StudyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StudyError {}

impl StudyDefinition {
    /// A variable (including hidden helpers and `population`) by name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        if name == "population" {
            return Some(&self.population);
        }
        self.variables.iter().find(|v| v.name == name)
    }

    /// The output columns after `patient_id`: non-hidden variables in definition order, with
    /// their types.
    pub fn output_columns(&self) -> Vec<(&str, ColumnType)> {
        self.variables
            .iter()
            .filter(|v| !v.hidden)
            .map(|v| (v.name.as_str(), v.column_type))
            .collect()
    }

    /// The type of an output column (`None` for unknown or hidden names).
    pub fn column_type(&self, name: &str) -> Option<ColumnType> {
        self.variables
            .iter()
            .find(|v| v.name == name && !v.hidden)
            .map(|v| v.column_type)
    }
}
