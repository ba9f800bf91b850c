//! End-to-end tests through the driver, in one binary (each test binary links polars).

mod architecture;
mod cli;
mod pipeline_commands;
mod study_run_all;
mod vocabulary_study;
mod yaml_edge_cases;
