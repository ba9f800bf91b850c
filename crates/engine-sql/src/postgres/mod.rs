//! The PostgreSQL executor (feature `postgres`): [`PostgresEngine`] runs a compiled plan in one
//! transaction and streams the result out with binary COPY; [`PgUrl`] parses and redacts URLs;
//! [`copy`] is the binary COPY codec; [`load`] creates and fills tables.

pub mod copy;
mod engine;
pub mod load;
mod url;

pub use engine::{describe_error, PostgresEngine, ROWS_PER_COPY};
pub use load::load_tables;
pub use url::{is_postgres_url, redact, PgUrl, UrlError};
