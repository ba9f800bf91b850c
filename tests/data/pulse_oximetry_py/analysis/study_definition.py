"""The pulse oximetry SRO study (opensafely/SRO-pulse-oximetry@5675c03), reconstructed for
cohortextractor 1.93.3 from the published study's description, for benchmarking only.

One deliberate difference from the original: the original rewrote
codelists/opensafely-pulse-oximetry.csv on every import to map SNOMED CT to CTV3; here the
codelist already carries the CTV3 codes in its CTV3ID column, so it is only read.
"""

from cohortextractor import Measure, StudyDefinition, codelist_from_csv, patients

pulse_oximetry_codes = codelist_from_csv(
    "codelists/opensafely-pulse-oximetry.csv", system="ctv3", column="CTV3ID"
)

AGE_BANDS = ["0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"]


study = StudyDefinition(
    index_date="2019-01-01",
    default_expectations={
        "date": {"earliest": "2019-01-01", "latest": "2020-01-01"},
        "rate": "exponential_increase",
        "incidence": 1,
    },
    population=patients.registered_as_of("index_date"),
    had_pulse_ox=patients.with_these_clinical_events(
        pulse_oximetry_codes,
        returning="binary_flag",
        between=["index_date", "index_date + 1 month"],
        return_expectations={"incidence": 0.5},
    ),
    region=patients.registered_practice_as_of(
        "index_date",
        returning="nuts1_region_name",
        return_expectations={
            "category": {
                "ratios": {
                    "North East": 0.1,
                    "North West": 0.1,
                    "Yorkshire and the Humber": 0.1,
                    "East Midlands": 0.1,
                    "West Midlands": 0.1,
                    "East of England": 0.1,
                    "London": 0.2,
                    "South East": 0.2,
                }
            }
        },
    ),
    age=patients.age_as_of(
        "index_date",
        return_expectations={
            "rate": "universal",
            "int": {"distribution": "population_ages"},
        },
    ),
    age_band=patients.categorised_as(
        {
            "0": "DEFAULT",
            "0-19": "age >= 0 AND age < 20",
            "20-29": "age >= 20 AND age < 30",
            "30-39": "age >= 30 AND age < 40",
            "40-49": "age >= 40 AND age < 50",
            "50-59": "age >= 50 AND age < 60",
            "60-69": "age >= 60 AND age < 70",
            "70-79": "age >= 70 AND age < 80",
            "80+": "age >= 80 AND age < 120",
        },
        return_expectations={
            "rate": "universal",
            "category": {"ratios": {band: 0.125 for band in AGE_BANDS}},
        },
    ),
    sex=patients.sex(
        return_expectations={
            "rate": "universal",
            "category": {"ratios": {"M": 0.49, "F": 0.51}},
        }
    ),
)

measures = [
    Measure(
        id=f"pulse_ox_by_{group}",
        numerator="had_pulse_ox",
        denominator="population",
        group_by=[group],
    )
    for group in ["sex", "region", "age_band"]
] + [
    # The original used group_by=None (per-patient rows) because group_by="population" was
    # broken in the cohortextractor it ran (v1.24.0); see reference §4.4.
    Measure(
        id="pulse_ox_total",
        numerator="had_pulse_ox",
        denominator="population",
        group_by=None,
    ),
]
