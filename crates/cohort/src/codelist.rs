//! Codelists: sets of clinical codes loaded from a CSV file, with an optional category per
//! code. Codes are stripped of surrounding whitespace and blank codes are skipped (as
//! cohortextractor's `codelist_from_csv` does); matching is exact and case-sensitive.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The coding system of a codelist: which `clinical_events` column its codes are matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeSystem {
    /// `clinical_events.ctv3_code`
    Ctv3,
    /// `clinical_events.snomedct_code`
    Snomedct,
}

impl CodeSystem {
    /// Parses `ctv3` or `snomedct`.
    pub fn parse(s: &str) -> Option<CodeSystem> {
        match s {
            "ctv3" => Some(CodeSystem::Ctv3),
            "snomedct" => Some(CodeSystem::Snomedct),
            _ => None,
        }
    }

    /// The `clinical_events` column holding codes of this system.
    pub fn events_column(self) -> &'static str {
        match self {
            CodeSystem::Ctv3 => crate::tables::names::CTV3_CODE,
            CodeSystem::Snomedct => crate::tables::names::SNOMEDCT_CODE,
        }
    }
}

/// A loaded codelist.
#[derive(Debug, Clone, PartialEq)]
pub struct Codelist {
    pub system: CodeSystem,
    /// The distinct codes.
    pub codes: BTreeSet<String>,
    /// code -> category, when the codelist has a category column (first row wins).
    pub categories: Option<BTreeMap<String, String>>,
}

impl Codelist {
    /// True if `code` is in the codelist (exact, case-sensitive).
    pub fn contains(&self, code: &str) -> bool {
        self.codes.contains(code)
    }

    /// Loads `column` (and `category_column`) from the CSV file at `path`. Errors name the
    /// file, and the line where there is one.
    pub fn from_csv(
        path: &Path,
        system: CodeSystem,
        column: &str,
        category_column: Option<&str>,
    ) -> Result<Codelist, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read codelist: {e}", path.display()))?;
        Codelist::from_csv_text(&text, system, column, category_column)
            .map_err(|e| format!("{}:{e}", path.display()))
    }

    /// [`Codelist::from_csv`] on CSV text; errors start with `LINE: `.
    pub fn from_csv_text(
        text: &str,
        system: CodeSystem,
        column: &str,
        category_column: Option<&str>,
    ) -> Result<Codelist, String> {
        let rows = parse_csv(text)?;
        let Some((_, header)) = rows.first() else {
            return Err("1: empty codelist file (no header row)".to_string());
        };
        let find = |name: &str| {
            header.iter().position(|h| h.trim() == name).ok_or_else(|| {
                format!(
                    "1: no column `{name}` in the header (columns: {})",
                    header.join(", ")
                )
            })
        };
        let code_idx = find(column)?;
        let cat_idx = category_column.map(find).transpose()?;
        let mut codes = BTreeSet::new();
        let mut categories = cat_idx.map(|_| BTreeMap::new());
        for (line, row) in &rows[1..] {
            if row.len() == 1 && row[0].is_empty() {
                continue; // blank line
            }
            let field = |i: usize| {
                row.get(i).map(|s| s.trim()).ok_or_else(|| {
                    format!(
                        "{line}: row has {} fields but the header has {}",
                        row.len(),
                        header.len()
                    )
                })
            };
            let code = field(code_idx)?;
            if code.is_empty() {
                continue;
            }
            codes.insert(code.to_string());
            if let (Some(i), Some(map)) = (cat_idx, categories.as_mut()) {
                let cat = field(i)?;
                map.entry(code.to_string())
                    .or_insert_with(|| cat.to_string());
            }
        }
        Ok(Codelist {
            system,
            codes,
            categories,
        })
    }
}

/// Minimal RFC 4180 CSV: comma separated, `"` quoting with `""` escapes, LF or CRLF. Returns
/// each record with the (1-based) line it starts on.
fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start_line = line;
        let mut row = Vec::new();
        let mut field = String::new();
        let mut in_quotes = false;
        loop {
            match chars.next() {
                None => {
                    if in_quotes {
                        return Err(format!("{start_line}: unterminated quoted field"));
                    }
                    row.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if in_quotes => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        in_quotes = false;
                    }
                }
                Some('"') if field.is_empty() => in_quotes = true,
                Some('\n') if !in_quotes => {
                    line += 1;
                    row.push(std::mem::take(&mut field));
                    break;
                }
                Some('\r') if !in_quotes && chars.peek() == Some(&'\n') => {}
                Some(',') if !in_quotes => row.push(std::mem::take(&mut field)),
                Some(c) => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
        }
        rows.push((start_line, row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_codes_by_column_name_stripping_and_skipping_blanks() {
        let text = "code,term,CTV3ID\r\n1,\"Pulse, oximetry\",Y2a48\r\n2,x, XaY1 \r\n3,blank,\n4,dup,Y2a48\n";
        let cl = Codelist::from_csv_text(text, CodeSystem::Ctv3, "CTV3ID", None).unwrap();
        assert_eq!(
            cl.codes.iter().map(String::as_str).collect::<Vec<_>>(),
            ["XaY1", "Y2a48"]
        );
        assert!(cl.contains("Y2a48"));
        assert!(!cl.contains("y2a48"));
        assert_eq!(cl.categories, None);
    }

    #[test]
    fn categories_and_missing_columns() {
        let text = "code,cat\nA,1\nB,2\n";
        let cl = Codelist::from_csv_text(text, CodeSystem::Snomedct, "code", Some("cat")).unwrap();
        assert_eq!(cl.categories.unwrap()["B"], "2");
        let err = Codelist::from_csv_text(text, CodeSystem::Ctv3, "CTV3ID", None).unwrap_err();
        assert_eq!(
            err,
            "1: no column `CTV3ID` in the header (columns: code, cat)"
        );
        let err = Codelist::from_csv_text("code,cat\nA\n", CodeSystem::Ctv3, "code", Some("cat"))
            .unwrap_err();
        assert!(err.starts_with("2: row has 1 fields"), "{err}");
    }
}
