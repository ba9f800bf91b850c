//! The report crate's integration tests, in one binary.

mod browser;
#[path = "../../plots/tests/common/mod.rs"]
mod common;
mod report;
