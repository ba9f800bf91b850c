//! The study language: YAML study definitions (and the definitions `study_definition.py`
//! files record), compiled to the query model.
//!
//! ```no_run
//! let study = cohort::lang::StudyDefinition::load("analysis/study_definition.yaml".as_ref())?;
//! for (name, ty) in study.output_columns() {
//!     println!("{name}: {}", ty.name());
//! }
//! # Ok::<(), cohort::lang::StudyError>(())
//! ```

pub mod codelists;
mod cx;
pub mod dates;
mod diag;
mod expr;
mod load;
mod model;
mod vocab;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use yaml::{Diagnostic, Pos};

pub use codelists::{CodeSystem, Codelist};
pub use cx::Runtime;
pub(crate) use load::project_dir_of;
pub use load::valid_name;
pub use model::*;

use crate::pyfront::Origins;
use dates::DateExpr;

/// A study compiled for a run: the dataset every engine evaluates and how to write it.
#[derive(Debug, Clone)]
pub struct CompiledStudy {
    /// The query.
    pub dataset: query::Dataset,
    /// How each dataset column is written (aligned with `dataset.columns`).
    pub columns: Vec<OutputColumn>,
    static_dates: Vec<(DateExpr, Pos)>,
    required_dates: Vec<(DateExpr, Pos, NaiveDate, &'static str)>,
    file: PathBuf,
    today: NaiveDate,
    origins: Option<Arc<Origins>>,
}

/// Where the lines of a recorded (`.py`) definition came from: places its diagnostics.
fn placed(origins: Option<&Origins>, d: Diagnostic) -> Diagnostic {
    match origins {
        Some(o) => o.place(d),
        None => d,
    }
}

/// Validates a definition recorded from the `.py` file `path` (its YAML `text`), placing every
/// problem with `origins`.
pub(crate) fn from_recorded(
    text: &str,
    path: &Path,
    origins: Arc<Origins>,
) -> Result<StudyDefinition, StudyError> {
    let project_dir = load::project_dir_of(path);
    match StudyDefinition::from_yaml(text, path, &project_dir) {
        Ok(mut study) => {
            let variables = study.variables.iter_mut();
            for v in variables.chain(std::iter::once(&mut study.population)) {
                if let Some(line) = origins.line(v.line) {
                    (v.line, v.col) = (line, 0);
                }
            }
            for m in &mut study.measures {
                if let Some(line) = origins.line(m.line) {
                    m.line = line;
                }
            }
            study.origins = Some(origins);
            Ok(study)
        }
        Err(e) => Err(origins.place_all(e)),
    }
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputColumn {
    /// The column name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// How a date column is written.
    pub date_format: Option<DateFormat>,
}

impl StudyDefinition {
    /// Loads and validates the study definition at `path`, with its codelists (CSV paths are
    /// relative to the study root: the parent of the folder holding the file). Returns every
    /// problem found, each naming file, line and key.
    pub fn load(path: &Path) -> Result<StudyDefinition, StudyError> {
        StudyDefinition::load_with_params(path, &[])
    }

    /// [`StudyDefinition::load`], with `--param`s: a `.py` definition is run (see
    /// [`crate::pyfront`]) with them; a YAML one takes none.
    pub fn load_with_params(
        path: &Path,
        params: &[(String, String)],
    ) -> Result<StudyDefinition, StudyError> {
        if path.extension().is_some_and(|e| e == "py") {
            return crate::pyfront::load(path, params);
        }
        let text = load::read(path)?;
        let project_dir = load::project_dir_of(path);
        StudyDefinition::from_yaml(&text, path, &project_dir)
    }

    /// Validates study-definition YAML `text`; `path` names the file in messages and codelist
    /// CSV paths are resolved against `project_dir`.
    pub fn from_yaml(
        text: &str,
        path: &Path,
        project_dir: &Path,
    ) -> Result<StudyDefinition, StudyError> {
        let loaded = load::load_text(text, path, project_dir, &Runtime::check());
        match loaded.study {
            Some(s) if loaded.diagnostics.is_empty() => Ok(s),
            _ => Err(StudyError {
                problems: loaded.diagnostics,
            }),
        }
    }

    /// Compiles the study to the query model with the run's inputs.
    pub fn compile(&self, runtime: &Runtime) -> Result<CompiledStudy, StudyError> {
        self.compile_unplaced(runtime)
            .map_err(|e| match &self.origins {
                Some(o) => o.place_all(e),
                None => e,
            })
    }

    fn compile_unplaced(&self, runtime: &Runtime) -> Result<CompiledStudy, StudyError> {
        let d = diag::Diags::new(&self.path);
        let loaded = load::load_node(d, &self.source, &self.path, &self.project_dir, runtime);
        if !loaded.diagnostics.is_empty() {
            return Err(StudyError {
                problems: loaded.diagnostics,
            });
        }
        let get = |name: &str| {
            loaded.built.get(name).ok_or_else(|| StudyError {
                problems: vec![Diagnostic::error(
                    Pos::FILE,
                    format!("internal error: variable `{name}` was not built"),
                )
                .in_file(&self.path)],
            })
        };
        let population = load::output_series(get("population")?);
        let mut columns = Vec::new();
        let mut out = Vec::new();
        for v in self.variables.iter().filter(|v| !v.hidden) {
            let b = get(&v.name)?;
            columns.push((v.name.clone(), load::output_series(b)));
            out.push(OutputColumn {
                name: v.name.clone(),
                ty: b.ty,
                date_format: b.format,
            });
        }
        let dataset = query::Dataset {
            population,
            columns,
        };
        if let Err(e) = query::check::check_dataset(&dataset) {
            return Err(StudyError {
                problems: vec![Diagnostic::error(Pos::FILE, format!("internal error: {e}"))
                    .in_file(&self.path)],
            });
        }
        Ok(CompiledStudy {
            dataset,
            columns: out,
            static_dates: loaded.static_dates,
            required_dates: loaded.required_dates,
            file: self.path.clone(),
            today: runtime.today,
            origins: self.origins.clone(),
        })
    }
}

impl CompiledStudy {
    /// Evaluates every date expression that does not depend on a patient for `index_date`:
    /// a day that does not exist is an error naming the expression's file, line and column
    /// and the index date.
    pub fn check_dates(&self, index_date: NaiveDate) -> Result<(), Diagnostic> {
        self.check_dates_unplaced(index_date)
            .map_err(|d| placed(self.origins.as_deref(), d))
    }

    fn check_dates_unplaced(&self, index_date: NaiveDate) -> Result<(), Diagnostic> {
        for (e, pos) in &self.static_dates {
            if let Err(err) = e.eval(Some(index_date), self.today) {
                return Err(Diagnostic::error(*pos, err.to_string()).in_file(&self.file));
            }
        }
        for (e, pos, want, message) in &self.required_dates {
            let got = e
                .eval(Some(index_date), self.today)
                .map_err(|err| Diagnostic::error(*pos, err.to_string()).in_file(&self.file))?;
            if got != *want {
                return Err(Diagnostic::error(
                    *pos,
                    format!("{message} (`{e}` is {got} for index date {index_date})"),
                )
                .in_file(&self.file));
            }
        }
        Ok(())
    }

    /// Every table and column the study reads.
    pub fn tables(&self) -> BTreeMap<String, BTreeSet<String>> {
        query::check::columns_read(&self.dataset)
    }
}
