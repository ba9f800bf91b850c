//! The measures crate's integration tests, in one binary (each test binary links polars).

mod cli;
mod errors;
mod fixtures;
mod python_study;
