//! End-to-end tests through the driver, in one binary (each test binary links polars).

mod architecture;
mod charts_study;
mod cli;
mod pipeline_commands;
mod python_study;
mod study_run_all;
mod support;
mod vocabulary_study;
mod yaml_edge_cases;
