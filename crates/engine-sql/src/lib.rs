//! The SQL engine: a [`query::Dataset`] compiled to one set of SQL statements that evaluates
//! every index date of a run at once (an index-dates table joined in, never a query per date),
//! run inside the database.
//!
//! - [`plan`]: the compiler (dataset + index dates -> [`Plan`]) and the plan's shape;
//! - [`check`]: the tables and columns a dataset reads against what a database has;
//! - [`dialect`]: everything that differs between databases, behind the [`Dialect`] trait
//!   ([`Postgres`] now);
//! - [`dump_sql`]: the SQL that would run, readable, for review;
//! - `postgres` (feature `postgres`, default): [`postgres::PostgresEngine`] (the
//!   [`query::Engine`]), [`postgres::PgUrl`], the binary COPY codec and the table loader;
//! - `testing` (feature `testing`): a private throwaway PostgreSQL server for tests.

pub mod check;
pub mod dialect;
pub mod plan;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "testing")]
pub mod testing;

pub use dialect::{Dialect, Postgres, SparkSql};
pub use plan::{compile, Plan};

use query::{Dataset, Date, EngineError};

/// The SQL that would run for `dataset` over `index_dates` in `dialect`: one statement per
/// aggregate, picked row and data table, each with a comment saying what it computes and which
/// dataset columns use it, then the result query. Data (codelists, string constants, inline
/// tables) is shown as the COPY that sends it, never as SQL text.
pub fn dump_sql(
    dataset: &Dataset,
    index_dates: &[Date],
    dialect: &dyn Dialect,
) -> Result<String, EngineError> {
    let plan = compile(dataset, index_dates, dialect)?;
    Ok(plan::render(&plan, dialect))
}
