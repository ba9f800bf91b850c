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
