//! `generate_measures`: per index date, numerator / denominator per group, written as
//! cohortextractor writes it.
