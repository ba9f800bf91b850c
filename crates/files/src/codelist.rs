//! Reading a codelist CSV with the rules of cohortextractor's `codelist_from_csv`: the code
//! column (by default `code`) and an optional category column, each cell stripped of
//! surrounding whitespace; rows whose code is blank are skipped; a code listed twice with the
//! same category is kept once, and with two different categories is an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The code column when a codelist names none.
pub const DEFAULT_CODE_COLUMN: &str = "code";

/// Why a codelist CSV could not be read; each names the file, and the line where there is one.
#[derive(Debug, thiserror::Error)]
pub enum CodelistError {
    /// The file could not be read.
    #[error("{}: cannot read codelist: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file has no header row.
    #[error("{}:1: empty codelist file (no header row)", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// A column is not in the header.
    #[error("{}:1: no column `{column}` in the header (columns: {})", path.display(), header.join(", "))]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header found.
        header: Vec<String>,
    },
    /// The file is not CSV, or a row does not fit the header.
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// One code is listed with two different categories.
    #[error("{}:{line}: code `{code}` has two categories: `{first}` (line {first_line}) and `{second}`", path.display())]
    InconsistentCategory {
        /// The file.
        path: PathBuf,
        /// The code.
        code: String,
        /// Its first category.
        first: String,
        /// Where the first is.
        first_line: u64,
        /// The other category.
        second: String,
        /// Where the other is.
        line: u64,
    },
}

/// One distinct code of a codelist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodelistRow {
    /// The code, stripped.
    pub code: String,
    /// Its category, stripped, when the codelist has a category column.
    pub category: Option<String>,
    /// The line of the first row listing it.
    pub line: u64,
    cells: Vec<String>,
}

impl CodelistRow {
    /// The stripped cell of column `index` (see [`CodelistCsv::column`]) in the row that first
    /// listed this code; empty where the row is short.
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map_or("", String::as_str)
    }
}

/// A codelist CSV: its header and its distinct codes in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodelistCsv {
    path: PathBuf,
    header: Vec<String>,
    /// One row per distinct code, in the order the codes first appear.
    pub rows: Vec<CodelistRow>,
}

impl CodelistCsv {
    /// Reads the codelist at `path`, codes from `column` and categories from
    /// `category_column`.
    pub fn read(
        path: &Path,
        column: &str,
        category_column: Option<&str>,
    ) -> Result<CodelistCsv, CodelistError> {
        let bytes = std::fs::read(path).map_err(|source| CodelistError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        CodelistCsv::parse(path, &bytes, column, category_column)
    }

    /// [`CodelistCsv::read`] on the bytes of a file; `path` names it in errors.
    pub fn parse(
        path: &Path,
        bytes: &[u8],
        column: &str,
        category_column: Option<&str>,
    ) -> Result<CodelistCsv, CodelistError> {
        let malformed = |line: u64, message: String| CodelistError::Malformed {
            path: path.to_path_buf(),
            line,
            message,
        };
        // The line of a record from its byte offset: the csv crate miscounts lines after
        // `\r\n`, and puts a record after `\r\n` at the `\n`, hence the byte itself counts.
        let line_at = |byte: u64| {
            let end = usize::try_from(byte)
                .map_or(usize::MAX, |b| b.saturating_add(1))
                .min(bytes.len());
            1 + bytes[..end].iter().filter(|b| **b == b'\n').count() as u64
        };
        let csv_error = |e: &csv::Error| {
            let line = e.position().map_or(1, |p| line_at(p.byte()));
            malformed(line, format!("malformed CSV: {e}"))
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut records = reader.records();
        let header: Vec<String> = match records.next() {
            None => {
                return Err(CodelistError::NoHeader {
                    path: path.to_path_buf(),
                })
            }
            Some(record) => record
                .map_err(|e| csv_error(&e))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect(),
        };
        let mut codelist = CodelistCsv {
            path: path.to_path_buf(),
            header,
            rows: Vec::new(),
        };
        let code_index = codelist.column(column)?;
        let category_index = category_column.map(|c| codelist.column(c)).transpose()?;
        let mut seen: HashMap<String, usize> = HashMap::new();
        for record in records {
            let record = record.map_err(|e| csv_error(&e))?;
            let line = record.position().map_or(0, |p| line_at(p.byte()));
            let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
            let needed = code_index.max(category_index.unwrap_or(0));
            if cells.len() <= needed {
                return Err(malformed(
                    line,
                    format!(
                        "row has {} fields but the header has {}",
                        cells.len(),
                        codelist.header.len()
                    ),
                ));
            }
            let code = cells[code_index].clone();
            if code.is_empty() {
                continue;
            }
            let category = category_index.map(|i| cells[i].clone());
            match seen.get(&code) {
                None => {
                    seen.insert(code.clone(), codelist.rows.len());
                    codelist.rows.push(CodelistRow {
                        code,
                        category,
                        line,
                        cells,
                    });
                }
                Some(&i) => {
                    let first = &codelist.rows[i];
                    if first.category != category {
                        return Err(CodelistError::InconsistentCategory {
                            path: path.to_path_buf(),
                            code,
                            first: first.category.clone().unwrap_or_default(),
                            first_line: first.line,
                            second: category.unwrap_or_default(),
                            line,
                        });
                    }
                }
            }
        }
        Ok(codelist)
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header, stripped.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The index of column `name`; an error naming the file and listing the header when there
    /// is none.
    pub fn column(&self, name: &str) -> Result<usize, CodelistError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| CodelistError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                header: self.header.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, column: &str, category: Option<&str>) -> Result<CodelistCsv, String> {
        CodelistCsv::parse(Path::new("c.csv"), text.as_bytes(), column, category)
            .map_err(|e| e.to_string())
    }

    fn codes(c: &CodelistCsv) -> Vec<&str> {
        c.rows.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn strips_skips_blanks_and_keeps_first_order() {
        let text = "\u{feff}code,term,CTV3ID\r\n1,\"Pulse, oximetry\",Y2a48\r\n2,x, XaY1 \r\n3,blank,\n\n4,dup,Y2a48\n";
        let c = parse(text, "CTV3ID", None).unwrap();
        assert_eq!(codes(&c), ["Y2a48", "XaY1"]);
        assert_eq!(c.rows[0].line, 2);
        let term = c.column("term").unwrap();
        assert_eq!(c.rows[0].cell(term), "Pulse, oximetry");
        assert_eq!(c.rows[1].cell(term), "x");
        assert_eq!(c.rows[0].category, None);
        assert_eq!(c.header(), ["code", "term", "CTV3ID"]);
    }

    #[test]
    fn categories_same_twice_kept_once_different_an_error() {
        let c = parse("code,cat\nA, 1\nB,2\nA,1 \n", "code", Some("cat")).unwrap();
        assert_eq!(codes(&c), ["A", "B"]);
        assert_eq!(c.rows[0].category.as_deref(), Some("1"));
        assert_eq!(
            parse("code,cat\nA,1\nB,2\nA,3\n", "code", Some("cat")).unwrap_err(),
            "c.csv:4: code `A` has two categories: `1` (line 2) and `3`"
        );
    }

    #[test]
    fn missing_columns_list_the_header() {
        assert_eq!(
            parse("code,cat\nA,1\n", "CTV3ID", None).unwrap_err(),
            "c.csv:1: no column `CTV3ID` in the header (columns: code, cat)"
        );
        assert_eq!(
            parse("code,cat\nA,1\n", "code", Some("type")).unwrap_err(),
            "c.csv:1: no column `type` in the header (columns: code, cat)"
        );
        assert_eq!(
            parse("", "code", None).unwrap_err(),
            "c.csv:1: empty codelist file (no header row)"
        );
    }

    #[test]
    fn short_rows_and_bad_csv_name_the_line() {
        assert_eq!(
            parse("code,cat\nA,1\nB\n", "code", Some("cat")).unwrap_err(),
            "c.csv:3: row has 1 fields but the header has 2"
        );
        let e = CodelistCsv::parse(Path::new("c.csv"), b"code\nA\n\xff\n", "code", None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.csv:3: malformed CSV"), "{e}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = CodelistCsv::read(Path::new("/nonexistent/c.csv"), "code", None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/c.csv: cannot read codelist:"),
            "{e}"
        );
    }
}
