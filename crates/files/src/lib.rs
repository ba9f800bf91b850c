//! The file conventions every stage of a study shares, in one place (as ripgrep's `grep-cli`
//! or rust-analyzer's `stdx`): no stage writes, names, finds or formats these files its own way.
//!
//! - [`atomic`]: outputs are written to a temporary name in their folder and renamed when
//!   complete ([`write_atomic`], [`PendingFile`]).
//! - [`float`]: floats as Python's `repr` writes them ([`python_float_repr`]), so outputs read
//!   like cohortextractor's.
//! - [`names`]: `input[_suffix]_<date>.<ext>` and `measure_<id>[_<date>].csv`, and the table
//!   formats ([`TableFormat`]).
//! - [`study`]: finding `analysis/study_definition*.{yaml,py}` as cohortextractor does.
//! - [`codelist`]: reading a codelist CSV with cohortextractor's `codelist_from_csv` rules.
//!
//! This crate depends on no other crate of the workspace.

pub mod atomic;
pub mod codelist;
pub mod float;
pub mod names;
pub mod study;

pub use atomic::{pending_target, sync_files, write_atomic, DeferSync, PendingFile};
pub use codelist::{CodelistCsv, CodelistError, CodelistRow};
pub use float::{pandas_float_cell, push_python_float_repr, python_float_repr};
pub use names::{TableFormat, UnknownFormat};
pub use study::{StudyDefinitionError, StudyDefinitionFile, StudyLanguage};
