//! The cohort crate's integration tests, in one binary (each test binary links polars).

mod cli_edge_cases;
mod cli_generate_cohort;
mod cli_partitions;
mod expectations_dummy;
mod output_writers;
mod prop_engines;
mod pyfront;
mod source_load;
mod source_roundtrip_prop;
mod spec_data;
mod spec_study;
mod spec_study_snapshot;
mod spec_support;
mod synth_generator;
mod synth_tables;
