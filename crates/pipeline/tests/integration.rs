//! The pipeline crate's integration tests, in one binary.

mod corpus;
mod golden;
mod robustness;
mod runner;
mod study;
