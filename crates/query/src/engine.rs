//! The interface every engine implements.

use crate::batch::Batch;
use crate::check::ModelError;
use crate::model::Dataset;
use crate::value::Date;

/// An evaluation failure.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A table the query reads is not in the data source.
    #[error("table `{table}` is missing{}", location_suffix(location))]
    MissingTable {
        /// The table.
        table: String,
        /// Where it was looked for (a folder, a schema).
        location: String,
    },
    /// A column the query reads is not in its table.
    #[error(
        "table `{table}` has no column `{column}`{}",
        location_suffix(location)
    )]
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Where the table was found.
        location: String,
    },
    /// The data breaks a rule of the table contract (e.g. two rows for one patient in a
    /// one-row-per-patient table).
    #[error("{0}")]
    Data(String),
    /// The query is not valid (a front-end bug).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The database or cluster failed (connection, authentication, SQL).
    #[error("{0}")]
    Backend(String),
    /// The sink (the output writer) failed; its message.
    #[error("{0}")]
    Sink(String),
}

fn location_suffix(location: &str) -> String {
    if location.is_empty() {
        String::new()
    } else {
        format!(" (looked in {location})")
    }
}

/// Receives each index date's rows, in ascending date order.
pub type Sink<'a> = dyn FnMut(Date, Batch) -> Result<(), EngineError> + 'a;

/// Evaluates datasets over one data source.
pub trait Engine {
    /// A short name (`interpreter`, `polars`, `postgres`, `spark`) for messages and tests.
    fn name(&self) -> &str;

    /// Evaluates `dataset` for every date of `index_dates` (ascending, without duplicates)
    /// and hands each date's rows to `sink`, in ascending date order. A sink error stops the
    /// run and is returned.
    fn run(
        &self,
        dataset: &Dataset,
        index_dates: &[Date],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError>;

    /// [`Engine::run`], collecting every date's rows.
    fn run_all(
        &self,
        dataset: &Dataset,
        index_dates: &[Date],
    ) -> Result<Vec<(Date, Batch)>, EngineError> {
        let mut out = Vec::new();
        self.run(dataset, index_dates, &mut |d, b| {
            out.push((d, b));
            Ok(())
        })?;
        Ok(out)
    }
}
