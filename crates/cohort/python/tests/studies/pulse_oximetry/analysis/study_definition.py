# The pulse oximetry SRO study (opensafely/SRO-pulse-oximetry, job request 1029) as a
# cohortextractor study definition, reconstructed like benchmarks/original_study: its recorded
# definition must be the repository's analysis/study_definition.yaml. As there, the codelist
# already carries the CTV3 codes (the original mapped SNOMED CT to CTV3 with pandas on import).
from cohortextractor import Measure, StudyDefinition, codelist_from_csv, patients

pulse_oximetry_codes = codelist_from_csv(  # @codelist
    "codelists/opensafely-pulse-oximetry.csv", system="ctv3", column="CTV3ID"
)

AGE_BANDS = ["0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"]

study = StudyDefinition(  # @study
    index_date="2019-01-01",
    default_expectations={
        "date": {"earliest": "2019-01-01", "latest": "2020-01-01"},
        "rate": "exponential_increase",
        "incidence": 1,
    },
    population=patients.registered_as_of("index_date"),  # @population
    had_pulse_ox=patients.with_these_clinical_events(  # @had_pulse_ox
        pulse_oximetry_codes,
        returning="binary_flag",
        between=["index_date", "index_date + 1 month"],
        return_expectations={"incidence": 0.5},
    ),
    region=patients.registered_practice_as_of(  # @region
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
    age=patients.age_as_of(  # @age
        "index_date",
        return_expectations={
            "rate": "universal",
            "int": {"distribution": "population_ages"},
        },
    ),
    age_band=patients.categorised_as(  # @age_band
        dict(
            [("0", "DEFAULT")]
            + [
                (band, "age >= %s AND age < %s" % bounds)
                for band, bounds in zip(
                    AGE_BANDS,
                    [(0, 20), (20, 30), (30, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 120)],
                )
            ]
        ),
        return_expectations={
            "rate": "universal",
            "category": {"ratios": {band: 0.125 for band in AGE_BANDS}},
        },
    ),
    sex=patients.sex(  # @sex
        return_expectations={
            "rate": "universal",
            "category": {"ratios": {"M": 0.49, "F": 0.51}},
        }
    ),
)

measures = [
    Measure(  # @measure_by_group
        id="pulse_ox_by_%s" % group,
        numerator="had_pulse_ox",
        denominator="population",
        group_by=[group],
    )
    for group in ["sex", "region", "age_band"]
] + [
    # The original used group_by=None: one total (see the study-definition contract).
    Measure(  # @measure_total
        id="pulse_ox_total",
        numerator="had_pulse_ox",
        denominator="population",
        group_by=None,
    ),
]
