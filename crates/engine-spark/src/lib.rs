//! The SQL engine on Spark: a [`query::Dataset`] compiled by `engine_sql` to Spark SQL
//! ([`engine_sql::SparkSql`]) and run through Spark Connect on whatever cluster is behind the
//! server: every index date in one statement set, materialised steps as cached temporary
//! views, loaded data (codelists, string constants, inline tables) as temporary views of Arrow
//! local relations (never SQL text), the result fetched as Arrow batches and split by index
//! date, or, when large, written by the cluster as Parquet files into a folder both sides see and
//! read back date by date ([`ParquetResults`]).

mod arrow;
mod engine;
mod parquet;

pub use arrow::{decode_rows, encode};
pub use engine::{SparkEngine, ROWS_PER_FETCH};
pub use parquet::{read_rows, ParquetResults, DEFAULT_PARQUET_ROWS};
