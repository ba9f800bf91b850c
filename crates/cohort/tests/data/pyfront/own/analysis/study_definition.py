# A respiratory study in cohortextractor's style: codelists from a module, variables made in a
# loop, a --param, measures built in a list comprehension.
from cohortextractor import StudyDefinition, Measure, params, patients

from codelists import CONDITIONS, current_smoking_codes, smoking_codes

WINDOW = params.get("window", "1 year")
BANDS = [(0, 40), (40, 65), (65, 120)]

condition_variables = {}
for name, codes in CONDITIONS.items():
    condition_variables["has_" + name] = patients.with_these_clinical_events(
        codes,
        between=["index_date - " + WINDOW, "index_date"],
        returning="binary_flag",
        include_date_of_match=True,
        date_format="YYYY-MM-DD",
        find_last_match_in_period=True,
        return_expectations={"incidence": 0.3},
    )
    condition_variables[name + "_count"] = patients.with_these_clinical_events(
        codes,
        on_or_before="index_date",
        returning="number_of_matches_in_period",
        return_expectations={"int": {"distribution": "poisson", "mean": 2}},
    )

study = StudyDefinition(
    index_date="2020-01-01",
    default_expectations={
        "date": {"earliest": "2019-01-01", "latest": "today"},
        "rate": "uniform",
        "incidence": 0.5,
    },
    population=patients.registered_as_of("index_date"),
    age=patients.age_as_of(
        "index_date",
        return_expectations={"rate": "universal", "int": {"distribution": "population_ages"}},
    ),
    sex=patients.sex(
        return_expectations={"rate": "universal", "category": {"ratios": {"M": 0.49, "F": 0.51}}}
    ),
    age_band=patients.categorised_as(
        dict(
            [("missing", "DEFAULT")]
            + [("%d-%d" % (lo, hi - 1), "age >= %d AND age < %d" % (lo, hi)) for lo, hi in BANDS]
        ),
        return_expectations={
            "rate": "universal",
            "category": {"ratios": {"0-39": 0.4, "40-64": 0.3, "65-119": 0.3}},
        },
    ),
    smoking=patients.with_these_clinical_events(
        smoking_codes,
        on_or_before="index_date",
        returning="category",
        find_last_match_in_period=True,
        return_expectations={"category": {"ratios": {"S": 0.2, "E": 0.3, "N": 0.5}}},
    ),
    current_smoker=patients.with_these_clinical_events(
        current_smoking_codes, on_or_before="index_date", returning="binary_flag"
    ),
    **condition_variables,
)

measures = [
    Measure(
        id="%s_by_%s" % (name, group),
        numerator="has_" + name,
        denominator="population",
        group_by=[group],
    )
    for name in CONDITIONS
    for group in ["sex", "age_band"]
] + [Measure(id="respiratory_total", numerator="has_respiratory", denominator="population")]
