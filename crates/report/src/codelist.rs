//! The codelist shown in the report's methods (`code,term[,CTV3ID]`), read with the same rules
//! as the cohort's codelists (`files::codelist`).

use std::path::{Path, PathBuf};

/// Problems reading the codelist; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum CodelistError {
    /// The file could not be read as a codelist (unreadable, malformed, a column missing).
    #[error(transparent)]
    Read(#[from] files::CodelistError),
    /// The codelist has no codes.
    #[error("codelist {}: no codes", path.display())]
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

/// Reads the codelist at `path`: each distinct `code` in file order, with its `term` and, when
/// the file has a `CTV3ID` column, its CTV3 code.
pub fn read_codelist(path: &Path) -> Result<Vec<Code>, CodelistError> {
    let csv = files::CodelistCsv::read(path, files::codelist::DEFAULT_CODE_COLUMN, None)?;
    codes(&csv)
}

fn codes(csv: &files::CodelistCsv) -> Result<Vec<Code>, CodelistError> {
    let term = csv.column("term")?;
    let ctv3 = csv.column("CTV3ID").ok();
    let codes: Vec<Code> = csv
        .rows
        .iter()
        .map(|row| Code {
            code: row.code.clone(),
            term: row.cell(term).to_string(),
            ctv3: ctv3
                .map(|i| row.cell(i).to_string())
                .filter(|c| !c.is_empty()),
        })
        .collect();
    if codes.is_empty() {
        return Err(CodelistError::Empty {
            path: csv.path().to_path_buf(),
        });
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Vec<Code>, CodelistError> {
        codes(&files::CodelistCsv::parse(
            Path::new("c.csv"),
            text,
            "code",
            None,
        )?)
    }

    #[test]
    fn reads_codes_terms_and_ctv3() {
        let codes = parse(
            b"code,term,CTV3ID\r\n1325191000000108,\"Telehealth, started\",Y2a48\r\n1325211000000107,Provision,\r\n,blank code,\r\n1325191000000108,again,Y2a48\r\n",
        )
        .unwrap();
        assert_eq!(codes.len(), 2);
        assert_eq!(codes[0].term, "Telehealth, started");
        assert_eq!(codes[0].ctv3.as_deref(), Some("Y2a48"));
        assert_eq!(codes[1].ctv3, None);
    }

    #[test]
    fn errors_name_the_file_and_column() {
        let e = parse(b"id,term\n1,x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.csv:1: no column `code` in the header (columns: id, term)"
        );
        let e = parse(b"code,name\n1,x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.csv:1: no column `term` in the header (columns: code, name)"
        );
        let e = parse(b"code,term\n,y\n").unwrap_err();
        assert_eq!(e.to_string(), "codelist c.csv: no codes");
    }
}
