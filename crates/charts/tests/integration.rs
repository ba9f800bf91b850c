//! The charts crate's integration tests, in one binary.

mod deciles;
mod properties;
