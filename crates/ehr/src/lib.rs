//! Electronic health record tables: the data-source contract ([`contract`]) and the table
//! folder source ([`folder`]). Engines receive loaded tables; nothing here evaluates queries.

pub mod contract;
mod error;
pub mod folder;
pub mod partition;
pub mod rows;
pub mod sort;
pub mod source;

pub use error::SourceError;
pub use folder::TableFolder;
pub use partition::{PartitionPlan, PartitionedFolder};
pub use sort::SortProgress;
pub use source::DataSource;
