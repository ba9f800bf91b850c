//! The codelists shown in the report's methods, read with the same rules as the cohort's
//! codelists (`files::codelist`): each distinct code with its term (from a `term` or
//! `description` column) and, when the study matches on another column than `code` (e.g.
//! `CTV3ID`), that column too.

use std::path::{Path, PathBuf};

use crate::study::StudyCodelist;

/// Problems reading a codelist; each names the file.
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

/// One code of a codelist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The code (the `code` column, or the study's column when there is none).
    pub code: String,
    /// Its description; empty when the file has no term column.
    pub term: String,
    /// The study's column, when it is not the code shown (e.g. the mapped CTV3 code).
    pub extra: Option<String>,
}

/// A codelist as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodelistTable {
    /// Its name in the study definition.
    pub name: String,
    /// The file, relative to the study folder; `None` for codes written inline.
    pub csv: Option<PathBuf>,
    /// Whether the file has a term column.
    pub has_terms: bool,
    /// The heading of the extra column, when there is one (`CTV3 ID`).
    pub extra_header: Option<String>,
    /// The codes, in file order.
    pub codes: Vec<Code>,
}

/// The words for a coding system's codes in a column heading.
pub fn system_header(system: &str, column: &str) -> String {
    match system.to_ascii_lowercase().as_str() {
        "ctv3" => "CTV3 ID".to_string(),
        "snomed" | "snomedct" => "SNOMED CT code".to_string(),
        "icd10" => "ICD-10 code".to_string(),
        "opcs4" => "OPCS-4 code".to_string(),
        "dmd" => "dm+d code".to_string(),
        _ => column.to_string(),
    }
}

/// Reads the CSV at `path` (shown as `shown`) as codelist `codelist` of the study: codes from
/// `code` when the file has that column, else from the study's column; the study's column as an
/// extra column when it is another.
pub fn read_table(
    path: &Path,
    shown: &Path,
    codelist: &StudyCodelist,
) -> Result<CodelistTable, CodelistError> {
    let bytes = std::fs::read(path).map_err(|source| files::CodelistError::Io {
        path: shown.to_path_buf(),
        source,
    })?;
    let study_column = codelist
        .column
        .as_deref()
        .unwrap_or(files::codelist::DEFAULT_CODE_COLUMN);
    // Find the header first: the code shown is `code` when there is one.
    let probe = files::CodelistCsv::parse(shown, &bytes, study_column, None)?;
    let has_code = probe
        .header()
        .iter()
        .any(|h| h == files::codelist::DEFAULT_CODE_COLUMN);
    let csv = if has_code && study_column != files::codelist::DEFAULT_CODE_COLUMN {
        files::CodelistCsv::parse(shown, &bytes, files::codelist::DEFAULT_CODE_COLUMN, None)?
    } else {
        probe
    };
    let term = csv
        .column("term")
        .or_else(|_| csv.column("description"))
        .ok();
    let extra = (has_code && study_column != files::codelist::DEFAULT_CODE_COLUMN)
        .then(|| csv.column(study_column).ok())
        .flatten();
    let codes: Vec<Code> = csv
        .rows
        .iter()
        .map(|row| Code {
            code: row.code.clone(),
            term: term.map(|i| row.cell(i).to_string()).unwrap_or_default(),
            extra: extra.map(|i| row.cell(i).to_string()),
        })
        .collect();
    if codes.is_empty() {
        return Err(CodelistError::Empty {
            path: shown.to_path_buf(),
        });
    }
    Ok(CodelistTable {
        name: codelist.name.clone(),
        csv: Some(shown.to_path_buf()),
        has_terms: term.is_some(),
        extra_header: extra.map(|_| system_header(&codelist.system, study_column)),
        codes,
    })
}

/// The table of a codelist written inline in the study definition (codes only).
pub fn inline_table(codelist: &StudyCodelist) -> CodelistTable {
    CodelistTable {
        name: codelist.name.clone(),
        csv: None,
        has_terms: false,
        extra_header: None,
        codes: codelist
            .codes
            .iter()
            .map(|c| Code {
                code: c.clone(),
                term: String::new(),
                extra: None,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &[u8], column: &str, system: &str) -> Result<CodelistTable, CodelistError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, text).unwrap();
        read_table(
            &path,
            Path::new("c.csv"),
            &StudyCodelist {
                name: "c".into(),
                system: system.into(),
                csv: Some("c.csv".into()),
                column: Some(column.into()),
                codes: Vec::new(),
            },
        )
    }

    #[test]
    fn reads_codes_terms_and_the_study_column() {
        let t = table(
            b"code,term,CTV3ID\r\n1325191000000108,\"Telehealth, started\",Y2a48\r\n1325211000000107,Provision,\r\n,blank code,\r\n1325191000000108,again,Y2a48\r\n",
            "CTV3ID",
            "ctv3",
        )
        .unwrap();
        assert_eq!(t.codes.len(), 2);
        assert_eq!(t.codes[0].term, "Telehealth, started");
        assert_eq!(t.codes[0].extra.as_deref(), Some("Y2a48"));
        assert_eq!(t.codes[1].extra.as_deref(), Some(""));
        assert_eq!(t.extra_header.as_deref(), Some("CTV3 ID"));
        let t = table(b"code,description\n1,one\n", "code", "snomed").unwrap();
        assert_eq!((t.has_terms, t.extra_header.clone()), (true, None));
        assert_eq!(t.codes[0].term, "one");
        let t = table(b"ctv3_id\nXaa1\n", "ctv3_id", "ctv3").unwrap();
        assert_eq!(t.codes[0].code, "Xaa1");
        assert!(!t.has_terms);
    }

    #[test]
    fn errors_name_the_file_and_column() {
        let e = table(b"id,term\n1,x\n", "code", "snomed").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.csv:1: no column `code` in the header (columns: id, term)"
        );
        let e = table(b"code,term\n,y\n", "code", "snomed").unwrap_err();
        assert_eq!(e.to_string(), "codelist c.csv: no codes");
    }
}
