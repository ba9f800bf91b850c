//! Tables held in memory as rows: what the reference interpreter reads and what tests build.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::TableSchema;
use crate::value::Value;

/// A table: its schema and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Schema (column order of the rows).
    pub schema: Arc<TableSchema>,
    /// Rows: `patient_id`, then one value per schema column.
    pub rows: Vec<(i64, Vec<Value>)>,
}

impl Table {
    /// An empty table.
    pub fn new(schema: Arc<TableSchema>) -> Self {
        Table {
            schema,
            rows: Vec::new(),
        }
    }
}

/// Tables by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tables {
    /// The tables.
    pub tables: BTreeMap<String, Table>,
}

impl Tables {
    /// No tables.
    pub fn new() -> Self {
        Tables::default()
    }

    /// Adds (or replaces) a table.
    pub fn insert(&mut self, table: Table) {
        self.tables.insert(table.schema.name.clone(), table);
    }

    /// A table by name.
    pub fn get(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }
}
