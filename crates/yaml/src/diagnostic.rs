//! Diagnostics: errors and warnings with a file and a position in it.

use std::fmt;
use std::path::{Path, PathBuf};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file is invalid.
    Error,
    /// The file is valid, but something deserves attention.
    Warning,
}

/// A 1-based position in a text file; line 0 stands for the whole file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, from 1 (0: no line).
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

impl Pos {
    /// The start of the file.
    pub const START: Pos = Pos { line: 1, col: 1 };

    /// No particular place: the whole file (e.g. it cannot be read).
    pub const FILE: Pos = Pos { line: 0, col: 0 };

    /// A position.
    pub fn new(line: usize, col: usize) -> Self {
        Pos { line, col }
    }
}

/// One problem found in a file.
///
/// Shown as `FILE:LINE:COL: [warning: ]message[ (hint)]`; without a column (0) as
/// `FILE:LINE: message`, without a line as `FILE: message`, and without a file (not yet
/// known) as `LINE:COL: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as it should be shown (empty until known; see [`Diagnostic::in_file`]).
    pub file: PathBuf,
    /// Where the problem is.
    pub pos: Pos,
    /// Error or warning.
    pub severity: Severity,
    /// What the problem is.
    pub message: String,
    /// An optional suggestion, shown after the message.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `pos`.
    pub fn error(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: PathBuf::new(),
            pos,
            severity: Severity::Error,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning at `pos`.
    pub fn warning(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(pos, message)
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Names the file the diagnostic is about.
    #[must_use]
    pub fn in_file(mut self, file: impl AsRef<Path>) -> Self {
        self.file = file.as_ref().to_path_buf();
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display().to_string();
        match (file.is_empty(), self.pos.line) {
            (true, 0) => {}
            (true, line) if self.pos.col == 0 => write!(f, "{line}: ")?,
            (true, line) => write!(f, "{line}:{}: ", self.pos.col)?,
            (false, 0) => write!(f, "{file}: ")?,
            (false, line) if self.pos.col == 0 => write!(f, "{file}:{line}: ")?,
            (false, line) => write!(f, "{file}:{line}:{}: ", self.pos.col)?,
        }
        if self.severity == Severity::Warning {
            write!(f, "warning: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let d = Diagnostic::error(Pos::new(3, 7), "bad").with_hint("try this");
        assert_eq!(d.to_string(), "3:7: bad (try this)");
        assert_eq!(
            d.clone().in_file("project.yaml").to_string(),
            "project.yaml:3:7: bad (try this)"
        );
        let w = Diagnostic::warning(Pos::new(1, 1), "old").in_file("a/b.yaml");
        assert_eq!(w.to_string(), "a/b.yaml:1:1: warning: old");
        assert!(!w.is_error());
        let whole = Diagnostic::error(Pos::FILE, "cannot read").in_file("x.yaml");
        assert_eq!(whole.to_string(), "x.yaml: cannot read");
        let no_column = Diagnostic::error(Pos::new(4, 0), "raised").in_file("a.py");
        assert_eq!(no_column.to_string(), "a.py:4: raised");
    }
}
