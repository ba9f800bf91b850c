//! What a compiled study reads, for the generator: the tables and columns, and the codes it
//! looks for in each code column (from the query model's codelist-membership nodes), so the
//! generated rows carry codes the study's variables actually match.

use std::collections::{BTreeMap, BTreeSet};

use query::model::Function;
use query::{Dataset, Frame, FrameRef, Series, SeriesRef};

/// The tables, columns and sought codes of one or more studies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudyNeeds {
    /// Every table and column read (`query::check::columns_read`).
    pub tables: BTreeMap<String, BTreeSet<String>>,
    /// `(table, column)` -> the codelists matched against that column, each a list of codes
    /// (in codelist order, duplicates dropped).
    pub codes: BTreeMap<(String, String), Vec<Vec<String>>>,
    /// The tables some study reads other than through a codelist filter on one code column
    /// (`query::check::code_prefilters`): rows with other codes can show in its results.
    pub unfiltered: BTreeSet<String>,
}

impl StudyNeeds {
    /// What `dataset` reads and looks for.
    pub fn of(dataset: &Dataset) -> StudyNeeds {
        let tables = query::check::columns_read(dataset);
        let prefilters = query::check::code_prefilters(dataset);
        let unfiltered = tables
            .keys()
            .filter(|t| !prefilters.contains_key(*t))
            .cloned()
            .collect();
        StudyNeeds {
            tables,
            codes: codes_sought(dataset),
            unfiltered,
        }
    }

    /// Adds what `other` needs.
    pub fn merge(&mut self, other: StudyNeeds) {
        for (t, cols) in other.tables {
            self.tables.entry(t).or_default().extend(cols);
        }
        self.unfiltered.extend(other.unfiltered);
        for (k, lists) in other.codes {
            let mine = self.codes.entry(k).or_default();
            for l in lists {
                if !mine.contains(&l) {
                    mine.push(l);
                }
            }
        }
    }

    /// The codelists sought in any of `columns` of `table`.
    pub(crate) fn lists(&self, table: &str, columns: &[&str]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for ((t, c), lists) in &self.codes {
            if t == table && columns.contains(&c.as_str()) {
                for l in lists {
                    if !out.contains(l) {
                        out.push(l.clone());
                    }
                }
            }
        }
        out
    }
}

/// The table column a row-level series reads, through string functions, filters, picks and
/// concatenations.
fn table_columns(s: &SeriesRef, out: &mut Vec<(String, String)>) {
    match &**s {
        Series::Function(Function::Str(_, inner)) => table_columns(inner, out),
        Series::Column { frame, column } => frame_column(frame, column, out),
        _ => {}
    }
}

fn frame_column(frame: &FrameRef, column: &str, out: &mut Vec<(String, String)>) {
    match &**frame {
        Frame::Table(schema) => out.push((schema.name.clone(), column.to_string())),
        Frame::Filter { source, .. } | Frame::Pick { source, .. } => {
            frame_column(source, column, out);
        }
        Frame::Concat { columns, parts } => {
            if let Some(i) = columns.iter().position(|(c, _)| c == column) {
                for (_, series) in parts {
                    if let Some(s) = series.get(i) {
                        table_columns(s, out);
                    }
                }
            }
        }
        Frame::Inline(_) => {}
    }
}

/// `(table, column)` -> codelists matched against it anywhere in `dataset`.
fn codes_sought(dataset: &Dataset) -> BTreeMap<(String, String), Vec<Vec<String>>> {
    let mut out: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
    query::check::walk(
        dataset,
        |s| {
            if let Series::Function(Function::InCodelist { code, codelist, .. }) = &**s {
                let mut targets = Vec::new();
                table_columns(code, &mut targets);
                let codes: Vec<String> = codelist.codes.keys().cloned().collect();
                for t in targets {
                    let lists = out.entry(t).or_default();
                    if !codes.is_empty() && !lists.contains(&codes) {
                        lists.push(codes.clone());
                    }
                }
            }
        },
        |_| {},
    );
    out
}
