//! The tables of the data-source contract (`data-sources.md` and `tables.md`): names, columns,
//! types, nullability and shape. Every data source (a folder, PostgreSQL, Spark) holds tables
//! with these names and columns; a study needs only the columns its functions read.

use std::sync::{Arc, OnceLock};

use query::{ColumnSchema, TableSchema, Type};

/// Table names.
pub mod names {
    /// One row per patient: date of birth, sex, primary-care date of death.
    pub const PATIENTS: &str = "patients";
    /// Registrations with practices.
    pub const PRACTICE_REGISTRATIONS: &str = "practice_registrations";
    /// Coded events in primary care.
    pub const CLINICAL_EVENTS: &str = "clinical_events";
    /// Address periods, with IMD, rural/urban class and care-home matches.
    pub const ADDRESSES: &str = "addresses";
    /// Prescription issues.
    pub const MEDICATIONS: &str = "medications";
    /// dm+d VMP code history (a reference table without `patient_id`).
    pub const VMP_MAPPING: &str = "vmp_mapping";
    /// Inpatient spells.
    pub const APCS: &str = "apcs";
    /// A&E attendances.
    pub const EMERGENCY_CARE_ATTENDANCES: &str = "emergency_care_attendances";
    /// Outpatient appointments.
    pub const OPA: &str = "opa";
    /// ONS death registrations.
    pub const ONS_DEATHS: &str = "ons_deaths";
    /// Vaccinations (one row per target disease).
    pub const VACCINATIONS: &str = "vaccinations";
    /// GP appointments.
    pub const APPOINTMENTS: &str = "appointments";
    /// Every SARS-CoV-2 test.
    pub const SGSS_COVID_ALL_TESTS: &str = "sgss_covid_all_tests";
    /// Earliest SARS-CoV-2 specimens.
    pub const SGSS_COVID_EARLIEST_SPECIMENS: &str = "sgss_covid_earliest_specimens";
    /// Households on 2020-02-01 (one row per patient).
    pub const HOUSEHOLD_MEMBERSHIPS_2020: &str = "household_memberships_2020";
    /// Decision-support values (the electronic frailty index).
    pub const DECISION_SUPPORT_VALUES: &str = "decision_support_values";
    /// COVID-19 patient notification system deaths.
    pub const CPNS: &str = "cpns";
    /// ICNARC ICU admissions.
    pub const ICNARC: &str = "icnarc";
}

use names::*;
use Type::{Bool, Date, Float, Int, Str};

/// (name, type, nullable)
type Col = (&'static str, Type, bool);

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i:02}")).collect()
}

fn build(name: &str, one_row: bool, cols: &[Col], extra_str: &[String]) -> Arc<TableSchema> {
    let mut columns: Vec<ColumnSchema> = cols
        .iter()
        .map(|(n, ty, nullable)| ColumnSchema {
            name: (*n).to_string(),
            ty: *ty,
            nullable: *nullable,
        })
        .collect();
    for n in extra_str {
        columns.push(ColumnSchema {
            name: n.clone(),
            ty: Str,
            nullable: true,
        });
    }
    Arc::new(TableSchema {
        name: name.to_string(),
        columns,
        one_row_per_patient: one_row,
    })
}

fn all_tables() -> Vec<Arc<TableSchema>> {
    const N: bool = true; // nullable
    const R: bool = false; // required
    let mut ec_diagnoses = numbered("diagnosis_", 24);
    ec_diagnoses.push("ethnic_category".to_string());
    let mut causes = numbered("cause_of_death_", 15);
    causes.push("place".to_string());
    vec![
        build(
            PATIENTS,
            true,
            &[
                ("date_of_birth", Date, R),
                ("sex", Str, R),
                ("date_of_death", Date, N),
            ],
            &[],
        ),
        build(
            PRACTICE_REGISTRATIONS,
            false,
            &[
                ("start_date", Date, R),
                ("end_date", Date, N),
                ("practice_pseudo_id", Int, R),
                ("practice_nuts1_region_name", Str, N),
                ("practice_stp", Str, N),
                ("practice_msoa_code", Str, N),
                ("practice_systmone_go_live_date", Date, N),
            ],
            &[],
        ),
        build(
            CLINICAL_EVENTS,
            false,
            &[
                ("date", Date, R),
                ("ctv3_code", Str, N),
                ("snomedct_code", Str, N),
                ("numeric_value", Float, N),
                ("lower_bound", Float, N),
                ("upper_bound", Float, N),
                ("comparator", Str, N),
            ],
            &[],
        ),
        build(
            ADDRESSES,
            false,
            &[
                ("address_id", Int, R),
                ("start_date", Date, R),
                ("end_date", Date, N),
                ("rural_urban_classification", Int, N),
                ("imd_rounded", Int, N),
                ("msoa_code", Str, N),
                ("has_postcode", Bool, R),
                ("care_home_is_potential_match", Bool, R),
                ("care_home_requires_nursing", Bool, N),
                ("care_home_does_not_require_nursing", Bool, N),
            ],
            &[],
        ),
        build(
            MEDICATIONS,
            false,
            &[("date", Date, R), ("dmd_code", Str, N)],
            &[],
        ),
        build(
            APCS,
            false,
            &[
                ("apcs_ident", Int, R),
                ("admission_date", Date, R),
                ("discharge_date", Date, N),
                ("admission_method", Str, N),
                ("source_of_admission", Str, N),
                ("discharge_destination", Str, N),
                ("patient_classification", Str, N),
                ("admission_treatment_function_code", Str, N),
                ("administrative_category", Str, N),
                ("duration_of_elective_wait", Str, N),
                ("length_of_stay", Int, N),
                ("days_in_critical_care", Int, N),
                ("primary_diagnosis", Str, N),
                ("all_diagnoses", Str, N),
                ("all_procedures", Str, N),
                ("ethnic_category", Str, N),
            ],
            &[],
        ),
        build(
            EMERGENCY_CARE_ATTENDANCES,
            false,
            &[
                ("id", Int, R),
                ("arrival_date", Date, R),
                ("discharge_destination", Str, N),
            ],
            &ec_diagnoses,
        ),
        build(
            OPA,
            false,
            &[
                ("opa_ident", Int, R),
                ("appointment_date", Date, R),
                ("attendance_status", Str, N),
                ("first_attendance", Str, N),
                ("consultation_medium_used", Str, N),
                ("treatment_function_code", Str, N),
                ("primary_procedure_code", Str, N),
                ("ethnic_category", Str, N),
            ],
            &[],
        ),
        build(
            ONS_DEATHS,
            false,
            &[("date", Date, R), ("underlying_cause_of_death", Str, N)],
            &causes,
        ),
        build(
            VACCINATIONS,
            false,
            &[
                ("vaccination_id", Int, R),
                ("date", Date, R),
                ("target_disease", Str, N),
                ("product_name", Str, N),
            ],
            &[],
        ),
        build(
            APPOINTMENTS,
            false,
            &[
                ("booked_date", Date, N),
                ("start_date", Date, N),
                ("seen_date", Date, N),
                ("status", Str, R),
            ],
            &[],
        ),
        build(
            SGSS_COVID_ALL_TESTS,
            false,
            &[
                ("specimen_taken_date", Date, R),
                ("is_positive", Bool, R),
                ("lab_report_date", Date, N),
                ("was_symptomatic", Bool, N),
                ("sgtf_status", Int, N),
                ("variant", Str, N),
                ("variant_detection_method", Str, N),
            ],
            &[],
        ),
        build(
            SGSS_COVID_EARLIEST_SPECIMENS,
            false,
            &[
                ("specimen_taken_date", Date, R),
                ("is_positive", Bool, R),
                ("sgtf_status", Int, N),
                ("case_category", Str, N),
            ],
            &[],
        ),
        build(
            HOUSEHOLD_MEMBERSHIPS_2020,
            true,
            &[
                ("household_pseudo_id", Int, R),
                ("household_size", Int, N),
                ("is_prison", Bool, R),
                ("has_members_in_other_ehr_systems", Bool, R),
                ("percentage_of_members_with_data_in_this_backend", Int, N),
                ("msoa_code", Str, N),
                ("no_fixed_abode_or_unknown", Bool, R),
            ],
            &[],
        ),
        build(
            DECISION_SUPPORT_VALUES,
            false,
            &[
                ("calculation_date", Date, R),
                ("numeric_value", Float, N),
                ("algorithm_description", Str, R),
                ("algorithm_version", Str, R),
            ],
            &[],
        ),
        build(CPNS, false, &[("date_of_death", Date, R)], &[]),
        build(
            ICNARC,
            false,
            &[
                ("icu_admission_date", Date, N),
                ("original_icu_admission_date", Date, N),
                ("basic_days_respiratory_support", Int, N),
                ("advanced_days_respiratory_support", Int, N),
            ],
            &[],
        ),
    ]
}

/// Every patient table of the contract, in contract order.
pub fn tables() -> &'static [Arc<TableSchema>] {
    static TABLES: OnceLock<Vec<Arc<TableSchema>>> = OnceLock::new();
    TABLES.get_or_init(all_tables)
}

/// The patient table called `name`.
pub fn table(name: &str) -> Option<&'static Arc<TableSchema>> {
    tables().iter().find(|t| t.name == name)
}

/// The columns of `vmp_mapping` (a reference table: no `patient_id`; optional).
pub const VMP_MAPPING_COLUMNS: [&str; 2] = ["id", "prev_id"];

/// Extra rules on single columns, checked when a table is loaded: `imd_rounded` is a
/// multiple of 100 in [0, 32800].
pub fn check_value(table: &str, column: &str, value: i64) -> Result<(), String> {
    if table == ADDRESSES
        && column == "imd_rounded"
        && !(value % 100 == 0 && (0..=32_800).contains(&value))
    {
        return Err(format!(
            "{value} is not a multiple of 100 between 0 and 32800 (IMD ranks arrive rounded to the nearest 100)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_tables() {
        assert_eq!(tables().len(), 17);
        let ec = table(EMERGENCY_CARE_ATTENDANCES).unwrap();
        assert!(ec.column("diagnosis_24").is_some());
        assert!(ec.column("diagnosis_25").is_none());
        assert!(table(PATIENTS).unwrap().one_row_per_patient);
        assert!(
            table(HOUSEHOLD_MEMBERSHIPS_2020)
                .unwrap()
                .one_row_per_patient
        );
        assert!(!table(ONS_DEATHS).unwrap().one_row_per_patient);
        assert!(table(VMP_MAPPING).is_none());
        let deaths = table(ONS_DEATHS).unwrap();
        assert!(deaths.column("cause_of_death_15").is_some());
        assert!(check_value(ADDRESSES, "imd_rounded", 32_800).is_ok());
        assert!(check_value(ADDRESSES, "imd_rounded", 150).is_err());
    }
}
