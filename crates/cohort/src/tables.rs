//! The electronic health record tables of `spec/data-sources.md`, as plain rows.
//!
//! This row form is what the reference interpreter reads and what tests build by hand; the
//! fast engine reads the same tables as polars frames with the column names below.

use chrono::NaiveDate;

/// Table and column names of the data-source contract.
pub mod names {
    pub const PATIENTS: &str = "patients";
    pub const PRACTICE_REGISTRATIONS: &str = "practice_registrations";
    pub const CLINICAL_EVENTS: &str = "clinical_events";

    pub const PATIENT_ID: &str = "patient_id";
    pub const DATE_OF_BIRTH: &str = "date_of_birth";
    pub const SEX: &str = "sex";
    pub const DATE_OF_DEATH: &str = "date_of_death";
    pub const START_DATE: &str = "start_date";
    pub const END_DATE: &str = "end_date";
    pub const PRACTICE_PSEUDO_ID: &str = "practice_pseudo_id";
    pub const PRACTICE_NUTS1_REGION_NAME: &str = "practice_nuts1_region_name";
    pub const PRACTICE_STP: &str = "practice_stp";
    pub const DATE: &str = "date";
    pub const CTV3_CODE: &str = "ctv3_code";
    pub const SNOMEDCT_CODE: &str = "snomedct_code";
    pub const NUMERIC_VALUE: &str = "numeric_value";
}

/// A row of `patients` (one per patient).
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub patient_id: i64,
    /// Always the first of a month.
    pub date_of_birth: NaiveDate,
    /// `M`, `F`, `I` or `U`, as stored.
    pub sex: String,
    pub date_of_death: Option<NaiveDate>,
}

/// A row of `practice_registrations` (many per patient).
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub patient_id: i64,
    pub start_date: NaiveDate,
    /// `None` = still registered; the end day itself is not covered.
    pub end_date: Option<NaiveDate>,
    pub practice_pseudo_id: i64,
    pub practice_nuts1_region_name: Option<String>,
    pub practice_stp: Option<String>,
}

/// A row of `clinical_events` (many per patient).
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicalEvent {
    pub patient_id: i64,
    pub date: NaiveDate,
    pub ctv3_code: Option<String>,
    pub snomedct_code: Option<String>,
    pub numeric_value: Option<f64>,
}

/// All tables of one data source, in row form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EhrTables {
    pub patients: Vec<Patient>,
    pub practice_registrations: Vec<Registration>,
    pub clinical_events: Vec<ClinicalEvent>,
}

// ---------------------------------------------------------------------------------------------
// Columnar form (polars), shared by the data-source loaders and the fast engine.

use polars::prelude::{
    Column, DataFrame, DataType, NamedFrom, PolarsError, PolarsResult, Schema, Series,
};

/// The column names and polars dtypes of one contract table, in contract order.
/// ids are `Int64`, dates polars `Date`, strings `String`, `numeric_value` `Float64`.
pub fn table_columns(table: &str) -> Option<&'static [(&'static str, DataType)]> {
    use names::*;
    static PATIENTS_COLS: [(&str, DataType); 4] = [
        (PATIENT_ID, DataType::Int64),
        (DATE_OF_BIRTH, DataType::Date),
        (SEX, DataType::String),
        (DATE_OF_DEATH, DataType::Date),
    ];
    static REGISTRATIONS_COLS: [(&str, DataType); 6] = [
        (PATIENT_ID, DataType::Int64),
        (START_DATE, DataType::Date),
        (END_DATE, DataType::Date),
        (PRACTICE_PSEUDO_ID, DataType::Int64),
        (PRACTICE_NUTS1_REGION_NAME, DataType::String),
        (PRACTICE_STP, DataType::String),
    ];
    static EVENTS_COLS: [(&str, DataType); 5] = [
        (PATIENT_ID, DataType::Int64),
        (DATE, DataType::Date),
        (CTV3_CODE, DataType::String),
        (SNOMEDCT_CODE, DataType::String),
        (NUMERIC_VALUE, DataType::Float64),
    ];
    match table {
        PATIENTS => Some(&PATIENTS_COLS),
        PRACTICE_REGISTRATIONS => Some(&REGISTRATIONS_COLS),
        CLINICAL_EVENTS => Some(&EVENTS_COLS),
        _ => None,
    }
}

/// The polars schema of one contract table (see [`table_columns`]).
pub fn table_schema(table: &str) -> Option<Schema> {
    table_columns(table).map(|cols| {
        cols.iter()
            .map(|(name, dtype)| ((*name).into(), dtype.clone()))
            .collect()
    })
}

/// The three tables as polars frames: exactly the contract columns, in contract order, with the
/// dtypes of [`table_columns`] (nullable columns may hold nulls; no other column is present).
///
/// Data-source loaders produce this; [`crate::engine`] consumes it.
#[derive(Debug, Clone)]
pub struct TableFrames {
    pub patients: DataFrame,
    pub practice_registrations: DataFrame,
    pub clinical_events: DataFrame,
}

impl TableFrames {
    /// Three empty tables with the contract schema.
    pub fn empty() -> Self {
        let empty = |t: &str| DataFrame::empty_with_schema(&table_schema(t).unwrap_or_default());
        TableFrames {
            patients: empty(names::PATIENTS),
            practice_registrations: empty(names::PRACTICE_REGISTRATIONS),
            clinical_events: empty(names::CLINICAL_EVENTS),
        }
    }
}

/// Days since 1970-01-01: polars' physical representation of `Date`.
pub fn date_to_days(d: NaiveDate) -> i32 {
    const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
        Some(d) => d,
        None => unreachable!(),
    };
    (d - EPOCH).num_days() as i32
}

/// The inverse of [`date_to_days`].
pub fn days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(days.into()))
}

fn date_column(name: &str, values: Vec<Option<i32>>) -> PolarsResult<Column> {
    Series::new(name.into(), values)
        .cast(&DataType::Date)
        .map(Column::from)
}

impl EhrTables {
    /// The same tables as polars frames (row order kept).
    pub fn to_frames(&self) -> PolarsResult<TableFrames> {
        use names::*;
        let p = &self.patients;
        let patients = DataFrame::new_infer_height(vec![
            Column::new(
                PATIENT_ID.into(),
                p.iter().map(|r| r.patient_id).collect::<Vec<_>>(),
            ),
            date_column(
                DATE_OF_BIRTH,
                p.iter()
                    .map(|r| Some(date_to_days(r.date_of_birth)))
                    .collect(),
            )?,
            Column::new(
                SEX.into(),
                p.iter().map(|r| r.sex.as_str()).collect::<Vec<_>>(),
            ),
            date_column(
                DATE_OF_DEATH,
                p.iter()
                    .map(|r| r.date_of_death.map(date_to_days))
                    .collect(),
            )?,
        ])?;
        let r = &self.practice_registrations;
        let practice_registrations = DataFrame::new_infer_height(vec![
            Column::new(
                PATIENT_ID.into(),
                r.iter().map(|r| r.patient_id).collect::<Vec<_>>(),
            ),
            date_column(
                START_DATE,
                r.iter().map(|r| Some(date_to_days(r.start_date))).collect(),
            )?,
            date_column(
                END_DATE,
                r.iter().map(|r| r.end_date.map(date_to_days)).collect(),
            )?,
            Column::new(
                PRACTICE_PSEUDO_ID.into(),
                r.iter().map(|r| r.practice_pseudo_id).collect::<Vec<_>>(),
            ),
            Column::new(
                PRACTICE_NUTS1_REGION_NAME.into(),
                r.iter()
                    .map(|r| r.practice_nuts1_region_name.as_deref())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                PRACTICE_STP.into(),
                r.iter()
                    .map(|r| r.practice_stp.as_deref())
                    .collect::<Vec<_>>(),
            ),
        ])?;
        let e = &self.clinical_events;
        let clinical_events = DataFrame::new_infer_height(vec![
            Column::new(
                PATIENT_ID.into(),
                e.iter().map(|r| r.patient_id).collect::<Vec<_>>(),
            ),
            date_column(DATE, e.iter().map(|r| Some(date_to_days(r.date))).collect())?,
            Column::new(
                CTV3_CODE.into(),
                e.iter().map(|r| r.ctv3_code.as_deref()).collect::<Vec<_>>(),
            ),
            Column::new(
                SNOMEDCT_CODE.into(),
                e.iter()
                    .map(|r| r.snomedct_code.as_deref())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                NUMERIC_VALUE.into(),
                e.iter().map(|r| r.numeric_value).collect::<Vec<_>>(),
            ),
        ])?;
        Ok(TableFrames {
            patients,
            practice_registrations,
            clinical_events,
        })
    }
}

/// The three core tables of a table folder, with the core contract columns (as the synthetic
/// generator writes them).
pub fn load_core_tables(dir: &std::path::Path) -> Result<TableFrames, ehr::SourceError> {
    let folder = ehr::TableFolder::open(dir)?;
    let mut needed = std::collections::BTreeMap::new();
    for t in [
        names::PATIENTS,
        names::PRACTICE_REGISTRATIONS,
        names::CLINICAL_EVENTS,
    ] {
        let cols = table_columns(t)
            .unwrap_or(&[])
            .iter()
            .map(|(c, _)| (*c).to_string())
            .filter(|c| c != names::PATIENT_ID)
            .collect();
        needed.insert(t.to_string(), cols);
    }
    let mut loaded = folder.load(&needed)?;
    let mut take = |t: &str| -> PolarsResult<DataFrame> {
        let df = loaded.remove(t).unwrap_or_default();
        let order: Vec<&str> = table_columns(t)
            .unwrap_or(&[])
            .iter()
            .map(|(c, _)| *c)
            .collect();
        df.select(order)
    };
    let frame_err = |e: PolarsError| ehr::SourceError::Read {
        table: "core tables".into(),
        file: dir.to_path_buf(),
        source: e,
    };
    Ok(TableFrames {
        patients: take(names::PATIENTS).map_err(frame_err)?,
        practice_registrations: take(names::PRACTICE_REGISTRATIONS).map_err(frame_err)?,
        clinical_events: take(names::CLINICAL_EVENTS).map_err(frame_err)?,
    })
}

impl EhrTables {
    /// The frames (core contract columns and dtypes) as rows, in row order.
    pub fn from_frames(frames: &TableFrames) -> PolarsResult<EhrTables> {
        use names::*;
        let ints = |df: &DataFrame, c: &str| -> PolarsResult<Vec<Option<i64>>> {
            Ok(df.column(c)?.i64()?.iter().collect())
        };
        let strs = |df: &DataFrame, c: &str| -> PolarsResult<Vec<Option<String>>> {
            Ok(df
                .column(c)?
                .str()?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect())
        };
        let dates = |df: &DataFrame, c: &str| -> PolarsResult<Vec<Option<NaiveDate>>> {
            Ok(df
                .column(c)?
                .date()?
                .physical()
                .iter()
                .map(|v| v.and_then(days_to_date))
                .collect())
        };
        let p = &frames.patients;
        let (ids, dobs, sexes, deaths) = (
            ints(p, PATIENT_ID)?,
            dates(p, DATE_OF_BIRTH)?,
            strs(p, SEX)?,
            dates(p, DATE_OF_DEATH)?,
        );
        let patients = (0..p.height())
            .map(|i| Patient {
                patient_id: ids[i].unwrap_or_default(),
                date_of_birth: dobs[i].unwrap_or_default(),
                sex: sexes[i].clone().unwrap_or_default(),
                date_of_death: deaths[i],
            })
            .collect();
        let r = &frames.practice_registrations;
        let (ids, starts, ends, practices, regions, stps) = (
            ints(r, PATIENT_ID)?,
            dates(r, START_DATE)?,
            dates(r, END_DATE)?,
            ints(r, PRACTICE_PSEUDO_ID)?,
            strs(r, PRACTICE_NUTS1_REGION_NAME)?,
            strs(r, PRACTICE_STP)?,
        );
        let practice_registrations = (0..r.height())
            .map(|i| Registration {
                patient_id: ids[i].unwrap_or_default(),
                start_date: starts[i].unwrap_or_default(),
                end_date: ends[i],
                practice_pseudo_id: practices[i].unwrap_or_default(),
                practice_nuts1_region_name: regions[i].clone(),
                practice_stp: stps[i].clone(),
            })
            .collect();
        let e = &frames.clinical_events;
        let (ids, ds, ctv3, snomed) = (
            ints(e, PATIENT_ID)?,
            dates(e, DATE)?,
            strs(e, CTV3_CODE)?,
            strs(e, SNOMEDCT_CODE)?,
        );
        let values: Vec<Option<f64>> = e.column(NUMERIC_VALUE)?.f64()?.iter().collect();
        let clinical_events = (0..e.height())
            .map(|i| ClinicalEvent {
                patient_id: ids[i].unwrap_or_default(),
                date: ds[i].unwrap_or_default(),
                ctv3_code: ctv3[i].clone(),
                snomedct_code: snomed[i].clone(),
                numeric_value: values[i],
            })
            .collect();
        Ok(EhrTables {
            patients,
            practice_registrations,
            clinical_events,
        })
    }
}
