"""Golden test: the reconstructed pulse oximetry study records to analysis/study_definition.yaml."""

import os
import re
import unittest

from flowtext import DEFAULT, parse
from support import REPO_ROOT, cleanup, position, run_recorder

STUDY = "pulse_oximetry"
SD = "analysis/study_definition.py"
REPOSITORY_YAML = os.path.join(REPO_ROOT, "analysis", "study_definition.yaml")

REGIONS = ["North East", "North West", "Yorkshire and the Humber", "East Midlands",
           "West Midlands", "East of England", "London", "South East"]
BANDS = ["0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"]
BOUNDS = [(0, 20), (20, 30), (30, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 120)]

# analysis/study_definition.yaml, written out by hand (the shorthand `registered_as_of:
# index_date` spelled as the mapping it stands for; `pulse_ox_total` has no group_by).
EXPECTED = {
    "index_date": "2019-01-01",
    "default_expectations": {
        "date": {"earliest": "2019-01-01", "latest": "2020-01-01"},
        "rate": "exponential_increase",
        "incidence": 1,
    },
    "codelists": {
        "pulse_oximetry_codes": {
            "csv": "codelists/opensafely-pulse-oximetry.csv",
            "system": "ctv3",
            "column": "CTV3ID",
        }
    },
    "population": {"registered_as_of": {"date": "index_date"}},
    "variables": {
        "had_pulse_ox": {
            "with_these_clinical_events": {
                "codelist": "pulse_oximetry_codes",
                "returning": "binary_flag",
                "between": ["index_date", "index_date + 1 month"],
            },
            "return_expectations": {"incidence": 0.5},
        },
        "region": {
            "registered_practice_as_of": {"date": "index_date", "returning": "nuts1_region_name"},
            "return_expectations": {
                "category": {"ratios": dict((r, 0.2 if r in ("London", "South East") else 0.1) for r in REGIONS)}
            },
        },
        "age": {
            "age_as_of": {"date": "index_date"},
            "return_expectations": {"rate": "universal", "int": {"distribution": "population_ages"}},
        },
        "age_band": {
            "categorised_as": dict(
                [("0", DEFAULT)]
                + [(b, "age >= %d AND age < %d" % lh) for b, lh in zip(BANDS, BOUNDS)]
            ),
            "return_expectations": {
                "rate": "universal",
                "category": {"ratios": dict((b, 0.125) for b in BANDS)},
            },
        },
        "sex": {
            "sex": {},
            "return_expectations": {"rate": "universal", "category": {"ratios": {"M": 0.49, "F": 0.51}}},
        },
    },
    "measures": [
        {"id": "pulse_ox_by_sex", "numerator": "had_pulse_ox", "denominator": "population", "group_by": ["sex"]},
        {"id": "pulse_ox_by_region", "numerator": "had_pulse_ox", "denominator": "population", "group_by": ["region"]},
        {"id": "pulse_ox_by_age_band", "numerator": "had_pulse_ox", "denominator": "population", "group_by": ["age_band"]},
        {"id": "pulse_ox_total", "numerator": "had_pulse_ox", "denominator": "population"},
    ],
}


def _normalise(value):
    """A YAML-loaded definition in the shape the recorder writes (for the PyYAML check)."""
    import datetime

    if isinstance(value, dict):
        return dict((_normalise(k), _normalise(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class PulseOximetry(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = run_recorder(STUDY)
        assert cls.result.returncode == 0, cls.result.output
        cls.definition, cls.lines = parse(cls.result.output["text"])

    @classmethod
    def tearDownClass(cls):
        cleanup(cls.result)

    def test_the_recorded_definition_is_the_repository_yaml(self):
        self.assertEqual(self.definition, EXPECTED)
        self.assertEqual(list(self.definition["variables"]), list(EXPECTED["variables"]))

    def test_the_hand_written_expectation_follows_the_repository_yaml(self):
        # Ties EXPECTED to the file: variable names and order, measure ids, codelist, bands.
        with open(REPOSITORY_YAML, encoding="utf-8") as f:
            text = f.read()
        variables = text.split("\nvariables:\n", 1)[1].split("\nmeasures:\n", 1)[0]
        self.assertEqual(re.findall(r"^  (\w+):$", variables, re.M), list(EXPECTED["variables"]))
        self.assertEqual(re.findall(r"^  - id: (\w+)$", text, re.M), [m["id"] for m in EXPECTED["measures"]])
        self.assertIn("csv: codelists/opensafely-pulse-oximetry.csv", text)
        self.assertIn("column: CTV3ID", text)
        self.assertIn('"0": DEFAULT', text)
        for band, (low, high) in zip(BANDS, BOUNDS):
            self.assertIn('"%s": age >= %d AND age < %d' % (band, low, high), text)

    @unittest.skipUnless(__import__("importlib").util.find_spec("yaml"), "PyYAML is not installed")
    def test_pyyaml_reads_the_text_as_the_repository_yaml(self):
        import yaml

        with open(REPOSITORY_YAML, encoding="utf-8") as f:
            repository = _normalise(yaml.safe_load(f))
        recorded = _normalise(yaml.safe_load(self.result.output["text"]))
        repository["population"] = {"registered_as_of": {"date": repository["population"]["registered_as_of"]}}
        repository["variables"]["age"]["age_as_of"] = {"date": repository["variables"]["age"]["age_as_of"]}
        self.assertEqual(recorded, repository)

    def test_origins(self):
        origins = self.result.output["origins"]
        for path, marker in [
            (("population",), "population"),
            (("population", "registered_as_of", "date"), "population"),
            (("variables", "had_pulse_ox", "with_these_clinical_events", "between"), "had_pulse_ox"),
            (("variables", "age_band", "categorised_as", "80+"), "age_band"),
            (("variables", "sex", "sex"), "sex"),
            (("codelists", "pulse_oximetry_codes"), "codelist"),
            (("measures", 0), "measure_by_group"),
            (("measures", 3), "measure_total"),
        ]:
            with self.subTest(path=path):
                self.assertEqual(origins[self.lines[path] - 1], position(STUDY, SD, marker))


if __name__ == "__main__":
    unittest.main()
