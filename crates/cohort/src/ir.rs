//! The intermediate representation both engines consume: one small query per variable,
//! evaluated per patient and parameterised by the index date (cohortextractor's
//! `patients.*` vocabulary, like a tiny ehrQL query model).
//!
//! Produced by [`StudyDefinition::compile`]. Variables are stored in evaluation order
//! (every variable after the variables its expression uses).
//!
//! Semantics shared by both engines (beyond `spec/study-definition.md`):
//! - the patients considered are every `patient_id` present in any of the three tables;
//! - `with_these_clinical_events` picks the event for `date` / `code` / `category` /
//!   `numeric_value` by ordering the matching events in the window by (date, code,
//!   numeric_value with nulls first) and taking the first (`find_first_match_in_period`) or
//!   the last (default); a null `numeric_value` on the chosen event gives 0.0;
//! - `with_complete_history_between(a, b)`: the patient's registrations, merged where they
//!   overlap or touch (one ends the day the next starts), include one interval with
//!   `start <= a` and (`end` null or `end > b`): every day of `[a, b]` is covered;
//! - every date expression is evaluated for every index date before any row is read, so a
//!   day that does not exist is an error naming the expression and the index date.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::codelist::Codelist;
use crate::dates::{DateError, DateExpr};
use crate::expr::{Expr, Value};
use crate::study::{
    ColumnType, DateFormat, DiedReturning, EventsReturning, Find, Function, PracticeReturning,
    StudyDefinition, Window,
};

/// A compiled study.
#[derive(Debug, Clone)]
pub struct Study {
    /// All variables (including hidden helpers and `population`) in evaluation order.
    pub variables: Vec<Variable>,
    /// Index of the population variable in `variables`.
    pub population: usize,
    /// Indices in `variables` of the output columns, in definition order.
    pub outputs: Vec<usize>,
}

/// One variable: a name, its output kind and its query.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub kind: Kind,
    pub query: Query,
}

/// Output kind (and dtype) of a variable. Date-returning variables are `Str`: their
/// formatted date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// polars `Boolean`, missing = false
    Bool,
    /// polars `Int64`, missing = 0
    Int,
    /// polars `Float64`, missing = 0.0
    Float,
    /// polars `String`, missing = ""
    Str,
}

impl Kind {
    /// The missing value.
    pub fn default_value(self) -> Value {
        match self {
            Kind::Bool => Value::Bool(false),
            Kind::Int => Value::Int(0),
            Kind::Float => Value::Float(0.0),
            Kind::Str => Value::Str(String::new()),
        }
    }
}

/// Which registrations make a patient count.
#[derive(Debug, Clone, PartialEq)]
pub enum Registration {
    /// `registered_as_of(d)`: a registration with `start <= d` and (`end` null or `end > d`).
    AsOf(DateExpr),
    /// `registered_with_one_practice_between(a, b)`: one registration with `start <= a` and
    /// (`end` null or `end > b`).
    OnePracticeBetween(DateExpr, DateExpr),
    /// `with_complete_history_between(a, b)`: merged registrations cover `[a, b]`.
    CompleteHistoryBetween(DateExpr, DateExpr),
}

/// A variable's query.
#[derive(Debug, Clone)]
pub enum Query {
    Registered(Registration),
    /// The registration active on `date` with the latest start, then latest end (null =
    /// latest), then lowest practice id.
    Practice {
        date: DateExpr,
        returning: PracticeReturning,
    },
    Age {
        date: DateExpr,
    },
    Sex,
    DateOfBirth {
        format: DateFormat,
    },
    Died {
        window: Window,
        returning: DiedReturning,
        format: DateFormat,
    },
    Events {
        codelist: Arc<Codelist>,
        window: Window,
        returning: EventsReturning,
        find: Find,
        format: DateFormat,
    },
    /// First case (in order) whose expression is true, else `default`. Labels are
    /// `Value::Int` or `Value::Str` as the variable's kind says.
    Categorised {
        cases: Vec<(Value, Expr)>,
        default: Value,
    },
    Satisfying(Expr),
}

/// The inclusive bounds of a window for one index date (`None` = unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub lo: Option<NaiveDate>,
    pub hi: Option<NaiveDate>,
}

impl Bounds {
    /// Is `d` inside?
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.lo.is_none_or(|lo| d >= lo) && self.hi.is_none_or(|hi| d <= hi)
    }
}

/// Evaluates a window for an index date.
pub fn window_bounds(window: &Window, index_date: NaiveDate) -> Result<Bounds, DateError> {
    let d = |e: &DateExpr| e.eval(Some(index_date)).map(Some);
    Ok(match window {
        Window::All => Bounds { lo: None, hi: None },
        Window::Between(a, b) => Bounds {
            lo: d(a)?,
            hi: d(b)?,
        },
        Window::OnOrBefore(b) => Bounds {
            lo: None,
            hi: d(b)?,
        },
        Window::OnOrAfter(a) => Bounds {
            lo: d(a)?,
            hi: None,
        },
    })
}

impl Query {
    /// Every date expression of the query.
    pub fn date_exprs(&self) -> Vec<&DateExpr> {
        fn window(w: &Window) -> Vec<&DateExpr> {
            match w {
                Window::All => vec![],
                Window::Between(a, b) => vec![a, b],
                Window::OnOrBefore(d) | Window::OnOrAfter(d) => vec![d],
            }
        }
        match self {
            Query::Registered(Registration::AsOf(d)) => vec![d],
            Query::Registered(
                Registration::OnePracticeBetween(a, b) | Registration::CompleteHistoryBetween(a, b),
            ) => vec![a, b],
            Query::Practice { date, .. } | Query::Age { date } => vec![date],
            Query::Died { window: w, .. } | Query::Events { window: w, .. } => window(w),
            Query::Sex
            | Query::DateOfBirth { .. }
            | Query::Categorised { .. }
            | Query::Satisfying(_) => vec![],
        }
    }
}

impl Study {
    /// Evaluates every date expression for `index_date`: the first that fails (a day that
    /// does not exist) is the error.
    pub fn check_dates(&self, index_date: NaiveDate) -> Result<(), DateError> {
        for v in &self.variables {
            for e in v.query.date_exprs() {
                e.eval(Some(index_date))?;
            }
        }
        Ok(())
    }

    /// The population variable.
    pub fn population_variable(&self) -> &Variable {
        &self.variables[self.population]
    }

    /// The output variables in order.
    pub fn output_variables(&self) -> impl Iterator<Item = &Variable> {
        self.outputs.iter().map(|&i| &self.variables[i])
    }
}

/// An error compiling a study (a codelist or variable the loader did not check, e.g. in a
/// hand-built [`StudyDefinition`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CompileError(pub String);

impl StudyDefinition {
    /// Compiles the study to the [`ir`](crate::ir).
    pub fn compile(&self) -> Result<Study, CompileError> {
        let codelists: HashMap<&str, Arc<Codelist>> = self
            .codelists
            .iter()
            .map(|(k, v)| (k.as_str(), Arc::new(v.clone())))
            .collect();
        let all: Vec<&crate::study::Variable> = self
            .variables
            .iter()
            .chain(std::iter::once(&self.population))
            .collect();
        let index: HashMap<&str, usize> = all
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.as_str(), i))
            .collect();
        // Depth-first topological order, dependencies first, otherwise definition order.
        let mut order: Vec<usize> = Vec::new();
        let mut state = vec![0u8; all.len()];
        fn visit(
            i: usize,
            all: &[&crate::study::Variable],
            index: &HashMap<&str, usize>,
            state: &mut [u8],
            order: &mut Vec<usize>,
        ) -> Result<(), CompileError> {
            match state[i] {
                2 => return Ok(()),
                1 => {
                    return Err(CompileError(format!(
                        "variable `{}` depends on itself",
                        all[i].name
                    )))
                }
                _ => {}
            }
            state[i] = 1;
            for dep in all[i].function.dependencies() {
                let j = *index.get(dep).ok_or_else(|| {
                    CompileError(format!(
                        "variable `{}` uses unknown variable `{dep}`",
                        all[i].name
                    ))
                })?;
                visit(j, all, index, state, order)?;
            }
            state[i] = 2;
            order.push(i);
            Ok(())
        }
        for i in 0..all.len() {
            visit(i, &all, &index, &mut state, &mut order)?;
        }
        let mut variables = Vec::with_capacity(order.len());
        let mut position = vec![0usize; all.len()];
        for (pos, &i) in order.iter().enumerate() {
            position[i] = pos;
            variables.push(compile_variable(all[i], &codelists)?);
        }
        let population = position[all.len() - 1];
        let outputs = (0..self.variables.len())
            .filter(|&i| !self.variables[i].hidden)
            .map(|i| position[i])
            .collect();
        Ok(Study {
            variables,
            population,
            outputs,
        })
    }
}

fn compile_variable(
    v: &crate::study::Variable,
    codelists: &HashMap<&str, Arc<Codelist>>,
) -> Result<Variable, CompileError> {
    let kind = match v.column_type {
        ColumnType::Bool => Kind::Bool,
        ColumnType::Int => Kind::Int,
        ColumnType::Float => Kind::Float,
        ColumnType::Str | ColumnType::Date => Kind::Str,
    };
    let label = |l: &str| -> Result<Value, CompileError> {
        if kind == Kind::Int {
            l.parse::<i64>().map(Value::Int).map_err(|_| {
                CompileError(format!(
                    "variable `{}`: category `{l}` is not an integer",
                    v.name
                ))
            })
        } else {
            Ok(Value::Str(l.to_string()))
        }
    };
    let query = match &v.function {
        Function::RegisteredAsOf { date } => Query::Registered(Registration::AsOf(date.clone())),
        Function::RegisteredWithOnePracticeBetween {
            start_date,
            end_date,
        } => Query::Registered(Registration::OnePracticeBetween(
            start_date.clone(),
            end_date.clone(),
        )),
        Function::WithCompleteHistoryBetween {
            start_date,
            end_date,
        } => Query::Registered(Registration::CompleteHistoryBetween(
            start_date.clone(),
            end_date.clone(),
        )),
        Function::RegisteredPracticeAsOf { date, returning } => Query::Practice {
            date: date.clone(),
            returning: *returning,
        },
        Function::AgeAsOf { date } => Query::Age { date: date.clone() },
        Function::Sex => Query::Sex,
        Function::DateOfBirth { date_format } => Query::DateOfBirth {
            format: *date_format,
        },
        Function::DiedFromAnyCause {
            window,
            returning,
            date_format,
        } => Query::Died {
            window: window.clone(),
            returning: *returning,
            format: *date_format,
        },
        Function::WithTheseClinicalEvents {
            codelist,
            window,
            returning,
            find,
            date_format,
        } => Query::Events {
            codelist: codelists.get(codelist.as_str()).cloned().ok_or_else(|| {
                CompileError(format!(
                    "variable `{}`: unknown codelist `{codelist}`",
                    v.name
                ))
            })?,
            window: window.clone(),
            returning: *returning,
            find: *find,
            format: *date_format,
        },
        Function::CategorisedAs { cases, default, .. } => Query::Categorised {
            cases: cases
                .iter()
                .map(|(l, e)| Ok((label(l)?, e.clone())))
                .collect::<Result<_, CompileError>>()?,
            default: label(default)?,
        },
        Function::Satisfying { expression } => Query::Satisfying(expression.clone()),
    };
    Ok(Variable {
        name: v.name.clone(),
        kind,
        query,
    })
}
