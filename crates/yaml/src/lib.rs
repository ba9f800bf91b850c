//! The one YAML reader of the workspace, for `project.yaml`, study definitions and any other
//! YAML a study holds.
//!
//! [`parse`] turns text into a tree of [`Node`]s that remember their line and column, and
//! reports every problem it can find as a [`Diagnostic`] instead of stopping at the first:
//! duplicate mapping keys at any depth (the first value is kept), keys that are not scalars,
//! a second document, tabs used for indentation, syntax errors. Plain scalars are resolved with
//! the YAML 1.2 core schema, as `ruamel.yaml` (OpenSAFELY's loader) does: `0x1F` and `0o17`
//! are integers, `~` and `null` are null, `true`/`false` are booleans, `yes`/`no`/`on`/`off`
//! are strings, `.inf` and `.nan` are floats.
//!
//! ```
//! let (root, diagnostics) = yaml::parse("a:\n  b: 0x1F\n  b: 2\n");
//! let b = root.unwrap().get("a").unwrap().get("b").unwrap().clone();
//! assert_eq!(b.value, yaml::Value::Scalar("0x1F".into(), yaml::Scalar::Int(31)));
//! assert_eq!(
//!     diagnostics[0].clone().in_file("x.yaml").to_string(),
//!     "x.yaml:3:3: found duplicate key \"b\" (first defined at line 2, column 3)"
//! );
//! ```
//!
//! This crate depends on no other crate of the workspace but `files` (for Python's float text).

mod diagnostic;
mod node;
mod parse;

pub use diagnostic::{Diagnostic, Pos, Severity};
pub use node::{Node, Scalar, Value};
pub use parse::{parse, resolve_plain};
