//! The loaded, validated study definition (see `spec/study-definition.md`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::codelist::Codelist;
use crate::dates::DateExpr;
use crate::expr::{Expr, ExprType};

/// A validated study definition.
#[derive(Debug, Clone)]
pub struct StudyDefinition {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The default index date (used when no index-date range is given).
    pub index_date: Option<NaiveDate>,
    /// `default_expectations`, as written (plain YAML value; used only by expectations dummy
    /// data).
    pub default_expectations: Option<serde_yaml::Value>,
    /// Codelists by name, loaded from their CSV files.
    pub codelists: BTreeMap<String, Codelist>,
    /// The population variable (named `population`; true = in the cohort).
    pub population: Variable,
    /// Every variable in definition order. Inline helpers (hidden) come right before the
    /// variable that defines them, as cohortextractor flattens them.
    pub variables: Vec<Variable>,
    /// The `measures:` section, in file order.
    pub measures: Vec<MeasureDef>,
}

/// One variable of a study definition.
#[derive(Debug, Clone)]
pub struct Variable {
    /// The name: the output column's.
    pub name: String,
    /// Line of the variable's name in the file.
    pub line: usize,
    /// Column of the variable's name in the file.
    pub col: usize,
    /// What it computes.
    pub function: Function,
    /// The output column type.
    pub column_type: ColumnType,
    /// An inline helper of `categorised_as` / `satisfying`: computed, not written.
    pub hidden: bool,
    /// `return_expectations`, as written (plain YAML value).
    pub return_expectations: Option<serde_yaml::Value>,
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
    pub fn expr_type(self) -> ExprType {
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
}

/// How a date-returning variable is written.
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

    /// Formats a date.
    pub fn format(self, d: NaiveDate) -> String {
        let full = d.format("%Y-%m-%d").to_string();
        match self {
            DateFormat::Year => full[..full.len() - 6].to_string(),
            DateFormat::YearMonth => full[..full.len() - 3].to_string(),
            DateFormat::YearMonthDay => full,
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

/// A date window: `between` (inclusive both ends), `on_or_before`, `on_or_after`, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// No window: every date.
    All,
    /// `between: [start, end]`, both ends included.
    Between(DateExpr, DateExpr),
    /// `on_or_before: date`.
    OnOrBefore(DateExpr),
    /// `on_or_after: date`.
    OnOrAfter(DateExpr),
}

/// `registered_practice_as_of(returning=…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PracticeReturning {
    /// `nuts1_region_name`: the practice's region (str).
    Nuts1RegionName,
    /// `pseudo_id`: the practice's pseudonymous id (int).
    PseudoId,
    /// `stp_code`: the practice's STP (str).
    StpCode,
}

/// `died_from_any_cause(returning=…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiedReturning {
    /// `binary_flag`: 1 when died in the window.
    BinaryFlag,
    /// `date_of_death`.
    DateOfDeath,
}

/// `with_these_clinical_events(returning=…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsReturning {
    /// `binary_flag`: 1 when any event matches.
    BinaryFlag,
    /// `date` of the matching event.
    Date,
    /// `number_of_matches_in_period`.
    NumberOfMatchesInPeriod,
    /// `code` of the matching event.
    Code,
    /// `category` of the matching event's code in the codelist.
    Category,
    /// `numeric_value` of the matching event.
    NumericValue,
}

/// Which matching event `date`, `code`, `category` and `numeric_value` come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// `find_first_match_in_period: true`.
    First,
    /// The last (the default).
    Last,
}

/// A variable's function with its validated arguments.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // the fields are the function's arguments, named as in YAML
pub enum Function {
    /// `registered_as_of`: registered with a practice on `date`.
    RegisteredAsOf { date: DateExpr },
    /// `registered_with_one_practice_between`: one registration covering the whole period.
    RegisteredWithOnePracticeBetween {
        start_date: DateExpr,
        end_date: DateExpr,
    },
    /// `with_complete_history_between`: registrations covering the whole period.
    WithCompleteHistoryBetween {
        start_date: DateExpr,
        end_date: DateExpr,
    },
    /// `registered_practice_as_of`: an attribute of the practice on `date`.
    RegisteredPracticeAsOf {
        date: DateExpr,
        returning: PracticeReturning,
    },
    /// `age_as_of`: age in whole years on `date`.
    AgeAsOf { date: DateExpr },
    /// `sex`.
    Sex,
    /// `date_of_birth`.
    DateOfBirth { date_format: DateFormat },
    /// `died_from_any_cause`.
    DiedFromAnyCause {
        window: Window,
        returning: DiedReturning,
        date_format: DateFormat,
    },
    /// `with_these_clinical_events`: over the events whose code is in `codelist`.
    WithTheseClinicalEvents {
        codelist: String,
        window: Window,
        returning: EventsReturning,
        find: Find,
        date_format: DateFormat,
    },
    /// `categorised_as`: `cases` in file order; keys are the category labels (`int_keys`: all
    /// keys are integers and the column is int).
    CategorisedAs {
        cases: Vec<(String, Expr)>,
        default: String,
        int_keys: bool,
    },
    /// `satisfying`: a boolean expression over other variables.
    Satisfying { expression: Expr },
}

impl Function {
    /// The function's name as written in YAML.
    pub fn name(&self) -> &'static str {
        match self {
            Function::RegisteredAsOf { .. } => "registered_as_of",
            Function::RegisteredWithOnePracticeBetween { .. } => {
                "registered_with_one_practice_between"
            }
            Function::WithCompleteHistoryBetween { .. } => "with_complete_history_between",
            Function::RegisteredPracticeAsOf { .. } => "registered_practice_as_of",
            Function::AgeAsOf { .. } => "age_as_of",
            Function::Sex => "sex",
            Function::DateOfBirth { .. } => "date_of_birth",
            Function::DiedFromAnyCause { .. } => "died_from_any_cause",
            Function::WithTheseClinicalEvents { .. } => "with_these_clinical_events",
            Function::CategorisedAs { .. } => "categorised_as",
            Function::Satisfying { .. } => "satisfying",
        }
    }

    /// Names of the variables this function's expressions use.
    pub fn dependencies(&self) -> Vec<&str> {
        match self {
            Function::CategorisedAs { cases, .. } => {
                let mut out: Vec<&str> = Vec::new();
                for (_, e) in cases {
                    for n in e.names() {
                        if !out.contains(&n) {
                            out.push(n);
                        }
                    }
                }
                out
            }
            Function::Satisfying { expression } => expression.names(),
            _ => Vec::new(),
        }
    }
}

/// `group_by` of a measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// absent or null: one total row (see measures-and-outputs.md).
    None,
    /// the word `population`: one total row.
    Population,
    /// a list of variable names.
    Variables(Vec<String>),
}

/// One entry of `measures:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureDef {
    /// The id, naming the measure's files.
    pub id: String,
    /// The numerator variable.
    pub numerator: String,
    /// A variable name, or `population` (1 for every patient in the cohort).
    pub denominator: String,
    /// The grouping.
    pub group_by: GroupBy,
    /// cohortextractor's small-number suppression.
    pub small_number_suppression: bool,
    /// Line of the measure in the file.
    pub line: usize,
}

/// Every problem found in a study definition (never empty), in file order, each naming the
/// file, line and column (`yaml::Diagnostic`, the type `project.yaml` problems have too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyError {
    /// The problems.
    pub problems: Vec<yaml::Diagnostic>,
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
