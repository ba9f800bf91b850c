//! [`TableFrames`] → [`EhrTables`]: the row form the reference interpreter reads.

use polars::prelude::*;

use super::SourceError;
use crate::tables::{
    days_to_date, names, ClinicalEvent, EhrTables, Patient, Registration, TableFrames,
};

/// Converts the frames (contract columns and dtypes, as [`super::load_tables`] returns them)
/// into rows, keeping row order. A null in a required column or a wrong dtype is an error
/// naming the table, column and row.
pub fn frames_to_rows(frames: &TableFrames) -> Result<EhrTables, SourceError> {
    let p = Table::new(names::PATIENTS, &frames.patients);
    let ids = p.ints(names::PATIENT_ID)?;
    let dobs = p.dates(names::DATE_OF_BIRTH)?;
    let sexes = p.strs(names::SEX)?;
    let deaths = p.dates(names::DATE_OF_DEATH)?;
    let patients = (0..p.df.height())
        .map(|i| {
            Ok(Patient {
                patient_id: p.required(names::PATIENT_ID, i, ids[i])?,
                date_of_birth: p.required(names::DATE_OF_BIRTH, i, dobs[i])?,
                sex: p.required(names::SEX, i, sexes[i].clone())?,
                date_of_death: deaths[i],
            })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;

    let r = Table::new(
        names::PRACTICE_REGISTRATIONS,
        &frames.practice_registrations,
    );
    let ids = r.ints(names::PATIENT_ID)?;
    let starts = r.dates(names::START_DATE)?;
    let ends = r.dates(names::END_DATE)?;
    let practices = r.ints(names::PRACTICE_PSEUDO_ID)?;
    let regions = r.strs(names::PRACTICE_NUTS1_REGION_NAME)?;
    let stps = r.strs(names::PRACTICE_STP)?;
    let practice_registrations = (0..r.df.height())
        .map(|i| {
            Ok(Registration {
                patient_id: r.required(names::PATIENT_ID, i, ids[i])?,
                start_date: r.required(names::START_DATE, i, starts[i])?,
                end_date: ends[i],
                practice_pseudo_id: r.required(names::PRACTICE_PSEUDO_ID, i, practices[i])?,
                practice_nuts1_region_name: regions[i].clone(),
                practice_stp: stps[i].clone(),
            })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;

    let e = Table::new(names::CLINICAL_EVENTS, &frames.clinical_events);
    let ids = e.ints(names::PATIENT_ID)?;
    let dates = e.dates(names::DATE)?;
    let ctv3 = e.strs(names::CTV3_CODE)?;
    let snomed = e.strs(names::SNOMEDCT_CODE)?;
    let values = e.floats(names::NUMERIC_VALUE)?;
    let clinical_events = (0..e.df.height())
        .map(|i| {
            Ok(ClinicalEvent {
                patient_id: e.required(names::PATIENT_ID, i, ids[i])?,
                date: e.required(names::DATE, i, dates[i])?,
                ctv3_code: ctv3[i].clone(),
                snomedct_code: snomed[i].clone(),
                numeric_value: values[i],
            })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;

    Ok(EhrTables {
        patients,
        practice_registrations,
        clinical_events,
    })
}

struct Table<'a> {
    name: &'a str,
    df: &'a DataFrame,
}

impl<'a> Table<'a> {
    fn new(name: &'a str, df: &'a DataFrame) -> Self {
        Table { name, df }
    }

    fn series(&self, column: &str) -> Result<&'a Series, SourceError> {
        self.df
            .column(column)
            .map(Column::as_materialized_series)
            .map_err(|source| SourceError::Frame {
                table: self.name.to_string(),
                source,
            })
    }

    fn frame_err(&self, source: PolarsError) -> SourceError {
        SourceError::Frame {
            table: self.name.to_string(),
            source,
        }
    }

    fn ints(&self, column: &str) -> Result<Vec<Option<i64>>, SourceError> {
        Ok(self
            .series(column)?
            .i64()
            .map_err(|e| self.frame_err(e))?
            .iter()
            .collect())
    }

    fn floats(&self, column: &str) -> Result<Vec<Option<f64>>, SourceError> {
        Ok(self
            .series(column)?
            .f64()
            .map_err(|e| self.frame_err(e))?
            .iter()
            .collect())
    }

    fn strs(&self, column: &str) -> Result<Vec<Option<String>>, SourceError> {
        Ok(self
            .series(column)?
            .str()
            .map_err(|e| self.frame_err(e))?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    }

    fn dates(&self, column: &str) -> Result<Vec<Option<chrono::NaiveDate>>, SourceError> {
        self.series(column)?
            .date()
            .map_err(|e| self.frame_err(e))?
            .physical()
            .iter()
            .enumerate()
            .map(|(row, v)| match v {
                None => Ok(None),
                Some(days) => days_to_date(days)
                    .map(Some)
                    .ok_or_else(|| SourceError::InFrame {
                        table: self.name.to_string(),
                        column: column.to_string(),
                        row: row + 1,
                        problem: format!("day {days} is out of range"),
                    }),
            })
            .collect()
    }

    fn required<T>(&self, column: &str, row: usize, value: Option<T>) -> Result<T, SourceError> {
        value.ok_or_else(|| SourceError::InFrame {
            table: self.name.to_string(),
            column: column.to_string(),
            row: row + 1,
            problem: "empty value (this column is required)".to_string(),
        })
    }
}
