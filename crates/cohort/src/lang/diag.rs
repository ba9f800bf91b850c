//! Collecting diagnostics while loading a study definition.

use std::path::{Path, PathBuf};

use yaml::{Diagnostic, Pos};

/// The diagnostics of one file.
pub(crate) struct Diags {
    file: PathBuf,
    pub(crate) list: Vec<Diagnostic>,
}

impl Diags {
    pub(crate) fn new(file: &Path) -> Self {
        Diags {
            file: file.to_path_buf(),
            list: Vec::new(),
        }
    }

    /// Records an error at `pos`.
    pub(crate) fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.list
            .push(Diagnostic::error(pos, message).in_file(&self.file));
    }

    /// The number of diagnostics so far.
    pub(crate) fn count(&self) -> usize {
        self.list.len()
    }
}

/// `known` as a message fragment: `a, b, c` or `none`.
pub(crate) fn known_list<'a>(known: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = known.into_iter().collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// ` (did you mean `x`?)` when a known name is close to `name`, else empty.
pub(crate) fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    match yaml::suggest::closest(name, known) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}
