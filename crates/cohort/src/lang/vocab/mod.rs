//! The vocabulary: every function of the study language, its arguments, and how it is built
//! from the query model. A function is a [`FunctionSpec`]: the loader checks arguments
//! against it (unknown ones, shorthand, dependencies) and calls its builder.

// Every builder has the signature of `FunctionSpec::build`, even those that cannot fail.
#![allow(clippy::unnecessary_wraps)]

mod apcs;
mod clinical;
mod deaths;
mod derived;
mod files;
mod people;
mod places;
mod tests_vaccines;

use super::cx::{Built, Cx};

/// What kind of value an argument takes (used to find dependencies and check shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    /// A date expression (may name a date variable).
    Date,
    /// `[start, end]` date expressions.
    Dates2,
    /// A codelist name.
    Codelist,
    /// One of fixed words.
    Choice,
    /// true / false.
    Bool,
    /// An integer.
    Int,
    /// A string.
    Str,
    /// A string or a list of strings.
    StrList,
    /// An expression of `categorised_as` / `satisfying`.
    Expr,
    /// The name of another variable.
    Source,
    /// A list of variable names or ISO dates (`minimum_of`, `maximum_of`).
    Sources,
    /// Inline helper variables (`variables:`).
    Helpers,
    /// Anything (checked by the builder).
    Any,
}

/// Whether a function can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Implemented.
    Supported,
    /// In cohortextractor's vocabulary but not implemented yet.
    NotYet,
    /// Deliberately not supported, with the reason.
    Unsupported(&'static str),
}

/// One function of the study language.
pub(crate) struct FunctionSpec {
    pub(crate) name: &'static str,
    pub(crate) status: Status,
    pub(crate) args: &'static [(&'static str, ArgKind)],
    /// The argument a scalar value stands for (`age_as_of: index_date`).
    pub(crate) shorthand: Option<&'static str>,
    /// Whether `return_expectations` is accepted.
    pub(crate) expectations: bool,
    pub(crate) build: fn(&mut Cx<'_, '_, '_>) -> Option<Built>,
}

impl FunctionSpec {
    /// Whether the function takes argument `name`.
    pub(crate) fn takes(&self, name: &str) -> bool {
        self.args.iter().any(|(n, _)| *n == name)
    }

    /// The kind of argument `name`.
    pub(crate) fn arg(&self, name: &str) -> Option<ArgKind> {
        self.args.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }
}

use ArgKind::{
    Any, Bool, Choice, Codelist, Date, Dates2, Expr, Helpers, Int, Source, Sources, Str, StrList,
};

macro_rules! args {
    ($($name:literal: $kind:ident),* $(,)?) => { &[$(($name, $kind)),*] };
}

fn unsupported(_: &mut Cx<'_, '_, '_>) -> Option<Built> {
    None
}

/// Every function, supported or not.
pub(crate) static FUNCTIONS: &[FunctionSpec] = &[
    // Registration and demographics.
    spec(
        "registered_as_of",
        args!("date": Date),
        Some("date"),
        people::registered_as_of,
    ),
    spec(
        "registered_with_one_practice_between",
        args!("start_date": Date, "end_date": Date),
        None,
        people::registered_with_one_practice_between,
    ),
    spec(
        "with_complete_history_between",
        args!("start_date": Date, "end_date": Date),
        None,
        people::with_complete_history_between,
    ),
    spec(
        "with_complete_gp_consultation_history_between",
        args!("start_date": Date, "end_date": Date),
        None,
        people::with_complete_gp_consultation_history_between,
    ),
    spec(
        "registered_practice_as_of",
        args!("date": Date, "returning": Choice),
        None,
        people::registered_practice_as_of,
    ),
    spec(
        "date_deregistered_from_all_supported_practices",
        args!("between": Dates2, "on_or_before": Date, "on_or_after": Date, "date_format": Str),
        None,
        people::date_deregistered,
    ),
    spec(
        "age_as_of",
        args!("date": Date),
        Some("date"),
        people::age_as_of,
    ),
    spec("sex", args!(), None, people::sex),
    spec(
        "date_of_birth",
        args!("date_format": Str),
        None,
        people::date_of_birth,
    ),
    spec("all", args!(), None, people::all),
    // Derived values.
    spec("categorised_as", args!(), None, derived::categorised_as),
    spec(
        "satisfying",
        args!("expression": Expr, "variables": Helpers),
        Some("expression"),
        derived::satisfying,
    ),
    spec_noexp(
        "fixed_value",
        args!("value": Any),
        Some("value"),
        derived::fixed_value,
    ),
    spec_noexp(
        "minimum_of",
        args!("columns": Sources, "variables": Helpers),
        Some("columns"),
        derived::minimum_of,
    ),
    spec_noexp(
        "maximum_of",
        args!("columns": Sources, "variables": Helpers),
        Some("columns"),
        derived::maximum_of,
    ),
    spec(
        "date_of",
        args!("source": Source, "date_format": Str, "include_month": Bool, "include_day": Bool),
        Some("source"),
        derived::date_of,
    ),
    spec(
        "comparator_from",
        args!("source": Source),
        Some("source"),
        derived::comparator_from,
    ),
    spec(
        "reference_range_lower_bound_from",
        args!("source": Source),
        Some("source"),
        derived::lower_bound_from,
    ),
    spec(
        "reference_range_upper_bound_from",
        args!("source": Source),
        Some("source"),
        derived::upper_bound_from,
    ),
    // Primary care events.
    spec(
        "with_these_clinical_events",
        args!(
            "codelist": Codelist, "between": Dates2, "on_or_before": Date, "on_or_after": Date,
            "returning": Choice, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool,
            "date_format": Str, "include_date_of_match": Bool, "include_month": Bool, "include_day": Bool,
            "ignore_missing_values": Bool, "ignore_days_where_these_codes_occur": Codelist,
            "episode_defined_as": Str, "return_binary_flag": Bool,
            "return_number_of_matches_in_period": Bool, "return_first_date_in_period": Bool,
            "return_last_date_in_period": Bool,
        ),
        None,
        clinical::with_these_clinical_events,
    ),
    spec(
        "with_these_medications",
        args!(
            "codelist": Codelist, "between": Dates2, "on_or_before": Date, "on_or_after": Date,
            "returning": Choice, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool,
            "date_format": Str, "include_date_of_match": Bool, "include_month": Bool, "include_day": Bool,
            "ignore_days_where_these_clinical_codes_occur": Codelist, "episode_defined_as": Str,
            "return_binary_flag": Bool, "return_number_of_matches_in_period": Bool,
            "return_first_date_in_period": Bool, "return_last_date_in_period": Bool,
        ),
        None,
        clinical::with_these_medications,
    ),
    spec(
        "most_recent_bmi",
        args!("between": Dates2, "on_or_before": Date, "on_or_after": Date, "minimum_age_at_measurement": Int, "include_measurement_date": Bool, "date_format": Str, "include_month": Bool, "include_day": Bool),
        None,
        clinical::most_recent_bmi,
    ),
    spec(
        "mean_recorded_value",
        args!("codelist": Codelist, "on_most_recent_day_of_measurement": Bool, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "include_measurement_date": Bool, "date_format": Str, "include_month": Bool, "include_day": Bool),
        None,
        clinical::mean_recorded_value,
    ),
    spec(
        "min_recorded_value",
        args!("codelist": Codelist, "on_most_recent_day_of_measurement": Bool, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "include_measurement_date": Bool, "date_format": Str),
        None,
        clinical::min_recorded_value,
    ),
    spec(
        "max_recorded_value",
        args!("codelist": Codelist, "on_most_recent_day_of_measurement": Bool, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "include_measurement_date": Bool, "date_format": Str),
        None,
        clinical::max_recorded_value,
    ),
    spec(
        "with_gp_consultations",
        args!("between": Dates2, "on_or_before": Date, "on_or_after": Date, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool, "returning": Choice, "date_format": Str),
        None,
        clinical::with_gp_consultations,
    ),
    // Addresses.
    spec(
        "address_as_of",
        args!("date": Date, "returning": Choice, "round_to_nearest": Int),
        None,
        places::address_as_of,
    ),
    spec(
        "care_home_status_as_of",
        args!("date": Date, "categorised_as": Any),
        Some("date"),
        places::care_home_status_as_of,
    ),
    spec(
        "household_as_of",
        args!("reference_date": Date, "returning": Choice),
        None,
        places::household_as_of,
    ),
    // Deaths.
    spec(
        "died_from_any_cause",
        args!("between": Dates2, "on_or_before": Date, "on_or_after": Date, "returning": Choice, "date_format": Str, "include_month": Bool, "include_day": Bool),
        None,
        deaths::died_from_any_cause,
    ),
    spec(
        "with_these_codes_on_death_certificate",
        args!("codelist": Codelist, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "match_only_underlying_cause": Bool, "returning": Choice, "date_format": Str, "include_month": Bool, "include_day": Bool),
        None,
        deaths::with_these_codes_on_death_certificate,
    ),
    spec(
        "with_death_recorded_in_primary_care",
        args!("between": Dates2, "on_or_before": Date, "on_or_after": Date, "returning": Choice, "date_format": Str),
        None,
        deaths::with_death_recorded_in_primary_care,
    ),
    not_yet(
        "with_death_recorded_in_cpns",
        deaths::with_death_recorded_in_cpns,
    ),
    // Vaccinations and tests.
    spec(
        "with_tpp_vaccination_record",
        args!("target_disease_matches": StrList, "product_name_matches": StrList, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "returning": Choice, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool, "date_format": Str),
        None,
        tests_vaccines::with_tpp_vaccination_record,
    ),
    spec(
        "with_vaccination_record",
        args!("tpp": Any, "emis": Any, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "returning": Choice, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool, "date_format": Str),
        None,
        tests_vaccines::with_vaccination_record,
    ),
    spec(
        "with_test_result_in_sgss",
        args!("pathogen": Str, "test_result": Choice, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool, "restrict_to_earliest_specimen_date": Bool, "returning": Choice, "date_format": Str),
        None,
        tests_vaccines::with_test_result_in_sgss,
    ),
    // Hospital.
    spec(
        "admitted_to_hospital",
        args!(
            "between": Dates2, "on_or_before": Date, "on_or_after": Date, "returning": Choice,
            "find_first_match_in_period": Bool, "find_last_match_in_period": Bool, "date_format": Str,
            "with_these_diagnoses": Codelist, "with_these_primary_diagnoses": Codelist,
            "with_these_procedures": Codelist, "with_admission_method": StrList,
            "with_source_of_admission": StrList, "with_discharge_destination": StrList,
            "with_patient_classification": StrList, "with_admission_treatment_function_code": StrList,
            "with_administrative_category": StrList, "with_at_least_one_day_in_critical_care": Bool,
        ),
        None,
        apcs::admitted_to_hospital,
    ),
    spec(
        "attended_emergency_care",
        args!("between": Dates2, "on_or_before": Date, "on_or_after": Date, "returning": Choice, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool, "date_format": Str, "with_these_diagnoses": Codelist, "discharged_to": StrList),
        None,
        apcs::attended_emergency_care,
    ),
    spec(
        "outpatient_appointment_date",
        args!("returning": Choice, "attended": Bool, "is_first_attendance": Bool, "with_these_treatment_function_codes": Any, "with_these_procedures": Codelist, "on_or_after": Date, "between": Dates2, "date_format": Str, "find_first_match_in_period": Bool),
        None,
        apcs::outpatient_appointment_date,
    ),
    spec(
        "with_ethnicity_from_sus",
        args!("returning": Choice, "use_most_frequent_code": Bool),
        None,
        apcs::with_ethnicity_from_sus,
    ),
    not_yet("admitted_to_icu", apcs::admitted_to_icu),
    // Files.
    spec_noexp(
        "with_value_from_file",
        args!("f_path": Str, "returning": Str, "returning_type": Choice, "date_format": Str),
        None,
        files::with_value_from_file,
    ),
    spec_noexp(
        "which_exist_in_file",
        args!("f_path": Str),
        Some("f_path"),
        files::which_exist_in_file,
    ),
    // Decision support.
    spec(
        "with_these_decision_support_values",
        args!("algorithm": Str, "between": Dates2, "on_or_before": Date, "on_or_after": Date, "find_first_match_in_period": Bool, "find_last_match_in_period": Bool, "returning": Choice, "include_date_of_match": Bool, "date_format": Str, "ignore_missing_values": Bool),
        None,
        clinical::with_these_decision_support_values,
    ),
    // Not supported.
    FunctionSpec {
        name: "random_sample",
        status: Status::Unsupported(
            "cohortextractor's RAND() gives a different sample on every run",
        ),
        args: &[],
        shorthand: None,
        expectations: true,
        build: unsupported,
    },
    FunctionSpec {
        name: "with_high_cost_drugs",
        status: Status::Unsupported(
            "it reads a restricted dataset that no study in this toolkit's census uses",
        ),
        args: &[],
        shorthand: None,
        expectations: true,
        build: unsupported,
    },
    FunctionSpec {
        name: "with_covid_therapeutics",
        status: Status::Unsupported(
            "it reads a restricted dataset that no study in this toolkit's census uses",
        ),
        args: &[],
        shorthand: None,
        expectations: true,
        build: unsupported,
    },
    FunctionSpec {
        name: "with_an_isaric_record",
        status: Status::Unsupported(
            "it reads a restricted dataset that no study in this toolkit's census uses",
        ),
        args: &[],
        shorthand: None,
        expectations: true,
        build: unsupported,
    },
    FunctionSpec {
        name: "with_record_in_ukrr",
        status: Status::Unsupported(
            "it reads a restricted dataset that no study in this toolkit's census uses",
        ),
        args: &[],
        shorthand: None,
        expectations: true,
        build: unsupported,
    },
    FunctionSpec {
        name: "with_healthcare_worker_flag_on_covid_vaccine_record",
        status: Status::Unsupported(
            "it reads a restricted dataset that no study in this toolkit's census uses",
        ),
        args: &[],
        shorthand: None,
        expectations: true,
        build: unsupported,
    },
];

const fn spec(
    name: &'static str,
    args: &'static [(&'static str, ArgKind)],
    shorthand: Option<&'static str>,
    build: fn(&mut Cx<'_, '_, '_>) -> Option<Built>,
) -> FunctionSpec {
    FunctionSpec {
        name,
        status: Status::Supported,
        args,
        shorthand,
        expectations: true,
        build,
    }
}

const fn not_yet(
    name: &'static str,
    build: fn(&mut Cx<'_, '_, '_>) -> Option<Built>,
) -> FunctionSpec {
    FunctionSpec {
        name,
        status: Status::NotYet,
        args: &[],
        shorthand: None,
        expectations: true,
        build,
    }
}

const fn spec_noexp(
    name: &'static str,
    args: &'static [(&'static str, ArgKind)],
    shorthand: Option<&'static str>,
    build: fn(&mut Cx<'_, '_, '_>) -> Option<Built>,
) -> FunctionSpec {
    FunctionSpec {
        name,
        status: Status::Supported,
        args,
        shorthand,
        expectations: false,
        build,
    }
}

/// The function called `name`.
pub(crate) fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The names of the supported functions, for messages.
pub(crate) fn supported_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .filter(|f| f.status == Status::Supported)
        .map(|f| f.name)
}
