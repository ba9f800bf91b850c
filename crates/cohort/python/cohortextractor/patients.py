"""`patients.<function>(...)`: records each call; nothing is queried.

Every function of cohortextractor's `patients` module exists here with its parameter list
(cohortextractor 1.93.3, `cohortextractor/patients.py`), so that positional arguments get their
names. Any other name also works (`patients.anything(...)`) and is recorded as it is: the
study-definition front end, not Python, reports unknown functions and unknown arguments, with
the position of the call.
"""

from ._recording import MISSING, Call, Signature, caller_origin

# cohortextractor's parameter lists. Where our YAML schema names an argument differently, the
# rename is listed in _RENAMES and applied to positional and keyword arguments alike.
_SPECS = {
    "all": "",
    "random_sample": "percent=None, return_expectations=None",
    "sex": "return_expectations=None",
    "age_as_of": "reference_date, return_expectations=None",
    "date_of_birth": "date_format=None, return_expectations=None",
    "registered_as_of": "reference_date, return_expectations=None",
    "registered_with_one_practice_between": "start_date, end_date, return_expectations=None",
    "with_complete_history_between": "start_date, end_date, return_expectations=None",
    "most_recent_bmi": "on_or_before=None, on_or_after=None, between=None, "
    "minimum_age_at_measurement=16, return_expectations=None, include_measurement_date=False, "
    "date_format=None, include_month=False, include_day=False",
    "mean_recorded_value": "codelist, on_most_recent_day_of_measurement=None, "
    "return_expectations=None, on_or_before=None, on_or_after=None, between=None, "
    "include_measurement_date=False, date_format=None, include_month=False, include_day=False",
    "min_recorded_value": "codelist, on_most_recent_day_of_measurement=None, "
    "return_expectations=None, on_or_before=None, on_or_after=None, between=None, "
    "include_measurement_date=False, date_format=None",
    "max_recorded_value": "codelist, on_most_recent_day_of_measurement=None, "
    "return_expectations=None, on_or_before=None, on_or_after=None, between=None, "
    "include_measurement_date=False, date_format=None",
    "with_these_medications": "codelist, return_expectations=None, on_or_before=None, "
    "on_or_after=None, between=None, find_first_match_in_period=None, "
    "find_last_match_in_period=None, returning='binary_flag', include_date_of_match=False, "
    "date_format=None, ignore_days_where_these_clinical_codes_occur=None, "
    "episode_defined_as=None, return_binary_flag=None, return_number_of_matches_in_period=False, "
    "return_first_date_in_period=False, return_last_date_in_period=False, include_month=False, "
    "include_day=False",
    "with_these_clinical_events": "codelist, return_expectations=None, on_or_before=None, "
    "on_or_after=None, between=None, find_first_match_in_period=None, "
    "find_last_match_in_period=None, returning='binary_flag', include_date_of_match=False, "
    "date_format=None, ignore_missing_values=False, ignore_days_where_these_codes_occur=None, "
    "episode_defined_as=None, return_binary_flag=None, return_number_of_matches_in_period=False, "
    "return_first_date_in_period=False, return_last_date_in_period=False, include_month=False, "
    "include_day=False",
    "comparator_from": "source, return_expectations=None",
    "reference_range_lower_bound_from": "source, return_expectations=None",
    "reference_range_upper_bound_from": "source, return_expectations=None",
    "categorised_as": "category_definitions, return_expectations=None, **extra_columns",
    "satisfying": "expression, return_expectations=None, **extra_columns",
    "registered_practice_as_of": "date, returning=None, return_expectations=None",
    "address_as_of": "date, returning=None, round_to_nearest=None, return_expectations=None",
    "care_home_status_as_of": "date, categorised_as=None, return_expectations=None",
    "admitted_to_icu": "on_or_after=None, on_or_before=None, between=None, "
    "find_first_match_in_period=None, find_last_match_in_period=None, returning='binary_flag', "
    "date_format=None, return_expectations=None, include_month=False, include_day=False",
    "with_these_codes_on_death_certificate": "codelist, on_or_before=None, on_or_after=None, "
    "between=None, match_only_underlying_cause=False, returning='binary_flag', date_format=None, "
    "include_month=False, include_day=False, return_expectations=None",
    "died_from_any_cause": "on_or_before=None, on_or_after=None, between=None, "
    "returning='binary_flag', date_format=None, include_month=False, include_day=False, "
    "return_expectations=None",
    "with_death_recorded_in_cpns": "on_or_before=None, on_or_after=None, between=None, "
    "returning='binary_flag', date_format=None, include_month=False, include_day=False, "
    "return_expectations=None",
    "with_death_recorded_in_primary_care": "on_or_before=None, on_or_after=None, between=None, "
    "returning='binary_flag', date_format=None, return_expectations=None",
    "date_of": "source, date_format=None, include_month=False, include_day=False, "
    "return_expectations=None",
    "with_vaccination_record": "tpp, emis, on_or_before=None, on_or_after=None, between=None, "
    "returning='binary_flag', date_format=None, find_first_match_in_period=None, "
    "find_last_match_in_period=None, return_expectations=None",
    "with_tpp_vaccination_record": "target_disease_matches=None, product_name_matches=None, "
    "on_or_before=None, on_or_after=None, between=None, returning='binary_flag', "
    "date_format=None, find_first_match_in_period=None, find_last_match_in_period=None, "
    "return_expectations=None",
    "with_gp_consultations": "on_or_before=None, on_or_after=None, between=None, "
    "find_first_match_in_period=None, find_last_match_in_period=None, returning='binary_flag', "
    "date_format=None, return_expectations=None",
    "with_complete_gp_consultation_history_between": "start_date, end_date, "
    "return_expectations=None",
    "with_test_result_in_sgss": "pathogen=None, test_result='any', on_or_before=None, "
    "on_or_after=None, between=None, find_first_match_in_period=None, "
    "find_last_match_in_period=None, restrict_to_earliest_specimen_date=True, "
    "returning='binary_flag', date_format=None, return_expectations=None",
    "maximum_of": "*column_names, **extra_columns",
    "minimum_of": "*column_names, **extra_columns",
    "fixed_value": "value",
    "household_as_of": "reference_date, returning=None, return_expectations=None",
    "attended_emergency_care": "on_or_before=None, on_or_after=None, between=None, "
    "returning='binary_flag', find_first_match_in_period=None, find_last_match_in_period=None, "
    "date_format=None, with_these_diagnoses=None, discharged_to=None, return_expectations=None",
    "date_deregistered_from_all_supported_practices": "on_or_before=None, on_or_after=None, "
    "between=None, date_format=None, return_expectations=None",
    "admitted_to_hospital": "on_or_before=None, on_or_after=None, between=None, "
    "returning='binary_flag', find_first_match_in_period=None, find_last_match_in_period=None, "
    "date_format=None, with_these_diagnoses=None, with_these_primary_diagnoses=None, "
    "with_these_procedures=None, with_admission_method=None, with_source_of_admission=None, "
    "with_discharge_destination=None, with_patient_classification=None, "
    "with_admission_treatment_function_code=None, with_administrative_category=None, "
    "with_at_least_one_day_in_critical_care=False, return_expectations=None",
    "with_high_cost_drugs": "drug_name_matches=None, on_or_before=None, on_or_after=None, "
    "between=None, returning='binary_flag', date_format=None, find_first_match_in_period=None, "
    "find_last_match_in_period=None, return_expectations=None",
    "with_ethnicity_from_sus": "returning=None, use_most_frequent_code=None, "
    "return_expectations=None",
    "with_these_decision_support_values": "algorithm, on_or_before=None, on_or_after=None, "
    "between=None, find_first_match_in_period=None, find_last_match_in_period=None, "
    "returning='numeric_value', include_date_of_match=False, date_format=None, "
    "ignore_missing_values=False, return_expectations=None",
    "with_healthcare_worker_flag_on_covid_vaccine_record": "returning='binary_flag', "
    "return_expectations=None",
    "outpatient_appointment_date": "returning='binary_flag', attended=None, "
    "is_first_attendance=None, with_these_treatment_function_codes=None, "
    "with_these_procedures=None, on_or_after=None, between=None, date_format='YYYY-MM-DD', "
    "find_first_match_in_period=None, return_expectations=None",
    "with_covid_therapeutics": "with_these_statuses=None, with_these_therapeutics=None, "
    "with_these_indications=None, on_or_before=None, on_or_after=None, between=None, "
    "returning='binary_flag', date_format=None, find_first_match_in_period=None, "
    "find_last_match_in_period=None, include_date_of_match=False, episode_defined_as=None, "
    "return_expectations=None",
    "with_value_from_file": "f_path, returning, returning_type, date_format='YYYY-MM-DD'",
    "which_exist_in_file": "f_path",
    "with_an_isaric_record": "returning, between=None, date_filter_column=None, "
    "date_format='YYYY-MM-DD', return_expectations=None",
    "with_record_in_ukrr": "from_dataset=None, returning=None, on_or_before=None, "
    "on_or_after=None, between=None, date_format=None, return_expectations=None",
}

_RENAMES = {
    "age_as_of": {"reference_date": "date"},
    "registered_as_of": {"reference_date": "date"},
}

SIGNATURES = {
    name: Signature("patients." + name, spec, _RENAMES.get(name))
    for name, spec in _SPECS.items()
}


def _record(function, args, kwargs, origin):
    signature = SIGNATURES.get(function)
    if signature is None:
        # Not a cohortextractor function: record it as called; the front end reports it.
        arguments = list(kwargs.items())
        return_expectations = kwargs.get("return_expectations", MISSING)
        arguments = [(k, v) for k, v in arguments if k != "return_expectations"]
        return Call(function, arguments, list(args), [], return_expectations, origin, False)
    named, star = signature.bind(args, kwargs, origin)
    return_expectations = MISSING
    arguments = []
    helpers = []
    for key, value in named:
        if key == "return_expectations":
            # Always a property of the variable; the front end rejects it where
            # cohortextractor does (minimum_of, fixed_value, ...).
            return_expectations = value
        elif signature.varkw is not None and key not in signature.params:
            helpers.append((key, value))
        else:
            arguments.append((key, value))
    return Call(function, arguments, star, helpers, return_expectations, origin, True)


def _make(function):
    def recorder(*args, **kwargs):
        return _record(function, args, kwargs, caller_origin())

    recorder.__name__ = function
    recorder.__qualname__ = function
    recorder.__doc__ = "Records patients.%s(%s)." % (function, _SPECS[function])
    return recorder


for _name in _SPECS:
    globals()[_name] = _make(_name)
del _name


def __getattr__(name):
    """Any other `patients.<name>` is recorded too (PEP 562); the front end reports it."""
    if name.startswith("_"):
        raise AttributeError("module 'cohortextractor.patients' has no attribute %r" % name)

    def recorder(*args, **kwargs):
        return _record(name, args, kwargs, caller_origin())

    recorder.__name__ = name
    recorder.__qualname__ = name
    return recorder


__all__ = sorted(_SPECS)
