//! The plots crate's integration tests, in one binary.

mod common;
mod figures;
