//! Reading the codelist CSV shown in the report's methods (`code,term[,CTV3ID]`).

use std::path::{Path, PathBuf};

/// Problems reading the codelist; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum CodelistError {
    /// The file could not be read.
    #[error("cannot read codelist {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid CSV.
    #[error("codelist {path}: malformed CSV: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What the CSV reader reported.
        message: String,
    },
    /// A required column is missing.
    #[error("codelist {path}: missing column `{column}` (header: {header})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// The header found.
        header: String,
    },
    /// A row has an empty code.
    #[error("codelist {path}: line {line}: empty `code`")]
    EmptyCode {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The codelist has no codes.
    #[error("codelist {path}: no codes")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// One code of the codelist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Code {
    /// The code (SNOMED CT in this study).
    pub code: String,
    /// Its description.
    pub term: String,
    /// The mapped CTV3 code, when the file has a `CTV3ID` column.
    pub ctv3: Option<String>,
}

/// Reads the codelist at `path`, in file order.
pub fn read_codelist(path: &Path) -> Result<Vec<Code>, CodelistError> {
    let text = std::fs::read(path).map_err(|source| CodelistError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_codelist(path, &text)
}

/// Parses codelist CSV text; `path` is used in error messages.
pub fn parse_codelist(path: &Path, text: &[u8]) -> Result<Vec<Code>, CodelistError> {
    let csv_err = |e: csv::Error| CodelistError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(text);
    let header = reader.headers().map_err(csv_err)?.clone();
    let find = |name: &str| header.iter().position(|h| h.trim() == name);
    let missing = |column: &str| CodelistError::MissingColumn {
        path: path.to_path_buf(),
        column: column.to_string(),
        header: header.iter().collect::<Vec<_>>().join(","),
    };
    let code_idx = find("code").ok_or_else(|| missing("code"))?;
    let term_idx = find("term").ok_or_else(|| missing("term"))?;
    let ctv3_idx = find("CTV3ID");
    let mut codes = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(csv_err)?;
        let cell = |idx: usize| record.get(idx).unwrap_or("").trim().to_string();
        let code = cell(code_idx);
        if code.is_empty() {
            return Err(CodelistError::EmptyCode {
                path: path.to_path_buf(),
                line: i + 2,
            });
        }
        codes.push(Code {
            code,
            term: cell(term_idx),
            ctv3: ctv3_idx.map(cell).filter(|c| !c.is_empty()),
        });
    }
    if codes.is_empty() {
        return Err(CodelistError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_terms_and_ctv3() {
        let codes = parse_codelist(
            Path::new("c.csv"),
            b"code,term,CTV3ID\r\n1325191000000108,\"Telehealth, started\",Y2a48\r\n1325211000000107,Provision,\r\n",
        )
        .unwrap();
        assert_eq!(codes.len(), 2);
        assert_eq!(codes[0].term, "Telehealth, started");
        assert_eq!(codes[0].ctv3.as_deref(), Some("Y2a48"));
        assert_eq!(codes[1].ctv3, None);
    }

    #[test]
    fn errors_name_the_file_and_column() {
        let e = parse_codelist(Path::new("c.csv"), b"id,term\n1,x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "codelist c.csv: missing column `code` (header: id,term)"
        );
        let e = parse_codelist(Path::new("c.csv"), b"code,term\n1,x\n,y\n").unwrap_err();
        assert_eq!(e.to_string(), "codelist c.csv: line 3: empty `code`");
        let e = parse_codelist(Path::new("c.csv"), b"code,term\n").unwrap_err();
        assert_eq!(e.to_string(), "codelist c.csv: no codes");
    }
}
