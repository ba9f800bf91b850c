//! The tables and columns a dataset reads, checked against what a database reports, before
//! any query runs: one rule for every database engine.

use std::collections::{BTreeMap, BTreeSet};

use query::{EngineError, TableSchema, Type};

/// Checks one table the dataset reads against the database's columns of it (`found`: column
/// name -> the database's type name, lower case; `None` when the table is missing):
/// `patient_id` and every column in `needed` must be there with a type `accepted` allows.
/// Errors name the table, the column and `location`.
pub fn check_table_columns(
    schema: &TableSchema,
    needed: &BTreeMap<String, BTreeSet<String>>,
    found: Option<&BTreeMap<String, String>>,
    accepted: fn(Type) -> &'static [&'static str],
    location: &str,
) -> Result<(), EngineError> {
    let Some(columns) = found else {
        return Err(EngineError::MissingTable {
            table: schema.name.clone(),
            location: location.to_string(),
        });
    };
    let mut wanted = vec![query::PATIENT_ID.to_string()];
    wanted.extend(needed.get(&schema.name).into_iter().flatten().cloned());
    for column in wanted {
        let Some(actual) = columns.get(&column) else {
            return Err(EngineError::MissingColumn {
                table: schema.name.clone(),
                column,
                location: location.to_string(),
            });
        };
        let ty = schema.column(&column).map_or(Type::Int, |c| c.ty);
        if !accepted(ty).contains(&actual.as_str()) {
            return Err(EngineError::Data(format!(
                "table `{}` column `{column}` is {actual} in {location}, but must be {}",
                schema.name,
                accepted(ty).join(" or ")
            )));
        }
    }
    Ok(())
}
