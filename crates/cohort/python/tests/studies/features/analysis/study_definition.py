# A study definition in cohortextractor's style, exercising what the recorder must get right.
import os
from datetime import date

from cohortextractor import Measure, StudyDefinition, codelist, params, patients
import codelists
from codelists import (
    asthma_codes,
    copd_codes as copd,  # the codelist keeps the name it was defined with
    covid_codes,
    current_smoker_codes,
    ethnicity_codes,
    respiratory_codes,
)

START = params["start_date"]
WINDOW = params.get("window", "1 year")

# A side effect, as real studies have (the SRO study rewrote its codelist on import).
os.makedirs("output", exist_ok=True)
with open("output/imported.txt", "w") as f:
    f.write("imported with start_date=%s\n" % START)

alias_of_asthma = asthma_codes  # a second name: the codelist keeps its first one


def condition_variables(name, codes):
    return {
        "has_" + name: patients.with_these_clinical_events(  # @has_condition
            codes,
            between=["index_date - " + WINDOW, "index_date"],
            returning="binary_flag",
            include_date_of_match=True,
            date_format="YYYY-MM-DD",
            return_expectations={"incidence": 0.2},
        ),
    }


condition_vars = {}
for condition, codes in codelists.CONDITIONS.items():
    condition_vars.update(condition_variables(condition, codes))

# Codes can be looked at: this codelist is built from the first asthma code.
first_asthma = codelist([c for c in asthma_codes][:1], system="ctv3")  # @cl_first_asthma
N_ASTHMA_CODES = len(asthma_codes)

study = StudyDefinition(  # @study
    index_date=date(2020, 1, 1),
    default_expectations={
        "date": {"earliest": "2019-01-01", "latest": "today"},
        "rate": "uniform",
        "incidence": 0.5,
    },
    population=patients.satisfying(  # @population
        """
        registered AND
        NOT died
        """,
        registered=patients.registered_with_one_practice_between(  # @registered
            "index_date - 1 year", "index_date"
        ),
        died=patients.died_from_any_cause(on_or_before="index_date"),  # @died
    ),
    age=patients.age_as_of(  # @age
        "index_date",
        return_expectations={"rate": "universal", "int": {"distribution": "population_ages"}},
    ),
    age_group=patients.categorised_as(  # @age_group
        {0: "DEFAULT", 1: "age_years < 50", 2: "age_years >= 50"},
        age_years=patients.age_as_of("index_date"),  # @age_years
        return_expectations={"category": {"ratios": {0: 0.1, 1: 0.5, 2: 0.4}}},
    ),
    asthma=patients.with_these_clinical_events(  # @asthma
        alias_of_asthma,
        on_or_before="index_date",
        find_first_match_in_period=True,
        returning="date",
        date_format="YYYY-MM",
    ),
    respiratory=patients.with_these_clinical_events(  # @respiratory
        respiratory_codes, between=("index_date - 5 years", "index_date"), on_or_before=None
    ),
    current_smoker=patients.with_these_clinical_events(  # @current_smoker
        current_smoker_codes, returning="category", find_last_match_in_period=True
    ),
    ethnicity=patients.with_these_clinical_events(  # @ethnicity
        ethnicity_codes, returning="category", find_last_match_in_period=True
    ),
    covid_death=patients.with_these_codes_on_death_certificate(  # @covid_death
        covid_codes, on_or_after=START, match_only_underlying_cause=True
    ),
    first_asthma_count=patients.with_these_clinical_events(  # @first_asthma_count
        first_asthma, returning="number_of_matches_in_period"
    ),
    copd_extended=patients.with_these_clinical_events(codelists.copd_extended_codes),  # @copd_extended
    inline_flag=patients.with_these_clinical_events(codelist(["X1234"], system="ctv3")),  # @inline_flag
    earliest_respiratory=patients.minimum_of(  # @earliest_respiratory
        "asthma",
        copd_date=patients.with_these_clinical_events(  # @copd_date
            copd, returning="date", date_format="YYYY-MM", find_first_match_in_period=True
        ),
    ),
    latest_date=patients.maximum_of("has_diabetes_date", "2020-06-01"),  # @latest_date
    region=patients.registered_practice_as_of("index_date", returning="nuts1_region_name"),  # @region
    care_home=patients.care_home_status_as_of(  # @care_home
        "index_date",
        categorised_as={"Y": "IsPotentialCareHome", "N": "DEFAULT"},
    ),
    asthma_date=patients.date_of("asthma", date_format="YYYY-MM"),  # @asthma_date
    constant=patients.fixed_value(N_ASTHMA_CODES),  # @constant
    **condition_vars,
)

measures = [
    Measure(  # @measure_by_age
        id="%s_by_age" % condition,
        numerator="has_" + condition,
        denominator="population",
        group_by=["age_group"],
    )
    for condition in codelists.CONDITIONS
] + [
    # cohortextractor's positional order: id, denominator, numerator, group_by, suppression.
    Measure("diabetes_total", "population", "has_diabetes", "population", True),  # @measure_total
]
