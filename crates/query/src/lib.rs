//! The query model: one small language that every study front end compiles to and every
//! engine evaluates, in the spirit of ehrQL's `query_model`.
//!
//! - [`model`]: the nodes (frames, series, aggregates, functions) and a [`Dataset`];
//! - [`check`]: types and levels of nodes (a front end's query is checked before it runs);
//! - [`Engine`]: the interface of every engine (this crate's [`Interpreter`], polars, SQL);
//! - [`Batch`]: what an engine returns per index date;
//! - [`Interpreter`]: the reference interpreter, row by row, the oracle of every other engine.
//!
//! The crate knows no study language, no table of any particular data source, and does no I/O.

pub mod batch;
pub mod check;
pub mod data;
pub mod engine;
pub mod interpret;
pub mod model;
pub mod scalar;
#[cfg(feature = "testing")]
pub mod testing;
pub mod value;

pub use batch::{Batch, ColumnData, StrColumn};
pub use check::ModelError;
pub use data::{Table, Tables};
pub use engine::{Engine, EngineError, Sink};
pub use interpret::Interpreter;
pub use model::*;
pub use value::{Date, Type, Value};
