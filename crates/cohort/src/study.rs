//! Study definitions: the study language of [`crate::lang`], under the name other crates
//! know it by.

pub use crate::lang::*;
