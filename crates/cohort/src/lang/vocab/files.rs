//! Values from a CSV file of the study (`with_value_from_file`, `which_exist_in_file`):
//! typically an earlier action's output, such as matched cases.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use query::model::{Aggregate, InlineTable};
use query::{ColumnSchema, Frame, Series, TableSchema, Type, Value};

use crate::lang::cx::{Built, Cx};
use crate::lang::dates::parse_iso_date;
use crate::lang::model::{ColumnType, DateFormat, Derived};

/// Reads `f_path` (relative to the study root): `patient_id` and, if asked, one column.
/// The extension is compared as cohortextractor compares it: exactly.
#[allow(clippy::case_sensitive_file_extension_comparisons)]
fn read(cx: &mut Cx, f_path: &str, column: Option<(&str, Type)>) -> Option<Vec<(i64, Value)>> {
    if !(f_path.ends_with(".csv") || f_path.ends_with(".csv.gz")) {
        cx.arg_err(
            "f_path",
            format!("`{f_path}` must be a .csv or .csv.gz file"),
        );
        return None;
    }
    let path = cx.shared.project_dir.join(f_path);
    if !path.is_file() && !cx.shared.runtime.read_files {
        // Checked before the action that writes it: nothing to read yet.
        return Some(Vec::new());
    }
    match read_file(&path, f_path, column) {
        Ok(rows) => Some(rows),
        Err(msg) => {
            cx.arg_err("f_path", msg);
            None
        }
    }
}

fn read_file(
    path: &Path,
    shown: &str,
    column: Option<(&str, Type)>,
) -> Result<Vec<(i64, Value)>, String> {
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    if std::path::Path::new(shown)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{shown}: cannot read: {e}"))?;
    } else {
        std::io::BufReader::new(file)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{shown}: cannot read: {e}"))?;
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{shown}: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let find = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "{shown}: no column `{name}` (columns: {})",
                header.join(", ")
            )
        })
    };
    let pid_at = find("patient_id")?;
    let col_at = match column {
        Some((c, _)) => Some(find(c)?),
        None => None,
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| format!("{shown}:{row}: {e}"))?;
        let pid_text = record.get(pid_at).unwrap_or("");
        let pid: i64 = pid_text
            .trim()
            .parse()
            .map_err(|_| format!("{shown}:{row}: patient_id `{pid_text}` is not an integer"))?;
        if !seen.insert(pid) {
            return Err(format!("{shown}:{row}: patient_id {pid} appears twice"));
        }
        let value = match (col_at, column) {
            (Some(at), Some((name, ty))) => {
                let cell = record.get(at).unwrap_or("");
                parse_cell(cell, ty).ok_or_else(|| {
                    format!(
                        "{shown}:{row}: column `{name}`: `{cell}` is not a {}",
                        ty.name()
                    )
                })?
            }
            _ => Value::Null,
        };
        out.push((pid, value));
    }
    out.sort_by_key(|(p, _)| *p);
    Ok(out)
}

fn parse_cell(cell: &str, ty: Type) -> Option<Value> {
    if cell.is_empty() {
        return Some(Value::Null);
    }
    Some(match ty {
        Type::Bool => match cell {
            "1" => Value::Bool(true),
            "0" => Value::Bool(false),
            _ => return None,
        },
        Type::Int => Value::Int(cell.parse().ok()?),
        Type::Float => {
            let f: f64 = cell.parse().ok()?;
            if f.is_nan() {
                Value::Null
            } else {
                Value::Float(f)
            }
        }
        Type::Str => Value::str(cell),
        Type::Date => Value::Date(query::Date::from_naive(parse_iso_date(cell)?)),
    })
}

fn inline(f_path: &str, column: Option<(&str, Type)>, rows: Vec<(i64, Value)>) -> query::FrameRef {
    let columns: Vec<ColumnSchema> = column
        .map(|(name, ty)| ColumnSchema {
            name: name.to_string(),
            ty,
            nullable: true,
        })
        .into_iter()
        .collect();
    let width = columns.len();
    Arc::new(Frame::Inline(Arc::new(InlineTable {
        schema: TableSchema {
            name: format!("file {f_path}"),
            columns,
            one_row_per_patient: true,
        },
        rows: rows
            .into_iter()
            .map(|(p, v)| (p, if width == 1 { vec![v] } else { Vec::new() }))
            .collect(),
    })))
}

pub(super) fn with_value_from_file(cx: &mut Cx) -> Option<Built> {
    let f_path = cx.str("f_path");
    let returning = cx.str("returning");
    let ty = cx.choice(
        "returning_type",
        &["bool", "date", "str", "int", "float"],
        false,
    );
    let given_type = cx.has("returning_type");
    let format = cx.date_format(DateFormat::YearMonthDay);
    let (f_path, returning, ty, format) = (f_path?, returning?, ty?, format?);
    let Some(f_path) = f_path else {
        let pos = cx.func_pos;
        cx.err(pos, "missing required argument `f_path`");
        return None;
    };
    let (Some(column), true) = (returning.clone(), given_type) else {
        let pos = cx.func_pos;
        cx.err(
            pos,
            "`returning` and `returning_type` must be given together",
        );
        return None;
    };
    if column.is_empty()
        || !column
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        cx.arg_err("returning", format!("`{column}` must match [A-Za-z0-9_]+"));
        return None;
    }
    let (ct, qt) = match ty {
        "bool" => (ColumnType::Bool, Type::Bool),
        "date" => (ColumnType::Date, Type::Date),
        "str" => (ColumnType::Str, Type::Str),
        "int" => (ColumnType::Int, Type::Int),
        _ => (ColumnType::Float, Type::Float),
    };
    let rows = read(cx, &f_path, Some((&column, qt)))?;
    let frame = inline(&f_path, Some((&column, qt)), rows);
    let mut b = Built::new(ct, Series::column(&frame, &column));
    if ct == ColumnType::Date {
        b.format = Some(format);
    }
    b.derived = Derived::FromFile {
        path: f_path,
        column: Some(column),
    };
    b.no_date_of = Some("values from a file have no date".into());
    Some(b)
}

pub(super) fn which_exist_in_file(cx: &mut Cx) -> Option<Built> {
    let Some(f_path) = cx.str("f_path")? else {
        let pos = cx.func_pos;
        cx.err(pos, "missing required argument `f_path`");
        return None;
    };
    let rows = read(cx, &f_path, None)?;
    let frame = inline(&f_path, None, rows);
    let mut b = Built::new(
        ColumnType::Bool,
        Series::aggregate(&frame, Aggregate::Exists),
    );
    b.derived = Derived::FromFile {
        path: f_path,
        column: None,
    };
    Some(b)
}
