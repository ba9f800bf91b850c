"""The `features` study: what a cohortextractor study does, recorded in the YAML schema."""

import os
import unittest

from flowtext import DEFAULT, parse
from support import cleanup, position, run_recorder

STUDY = "features"
SD = "analysis/study_definition.py"
CL = "analysis/codelists.py"
PARAMS = ["start_date=2020-03-01", "window=2 years"]


def at(marker):
    return position(STUDY, SD, marker)


def cl_at(marker):
    return position(STUDY, CL, marker)


def condition(codelist):
    return {
        "with_these_clinical_events": {
            "codelist": codelist,
            "between": ["index_date - 2 years", "index_date"],
            "returning": "binary_flag",
            "include_date_of_match": True,
            "date_format": "YYYY-MM-DD",
        },
        "return_expectations": {"incidence": 0.2},
    }


EXPECTED = {
    "index_date": "2020-01-01",
    "default_expectations": {
        "date": {"earliest": "2019-01-01", "latest": "today"},
        "rate": "uniform",
        "incidence": 0.5,
    },
    "codelists": {
        "asthma_codes": {"csv": "codelists/asthma.csv", "system": "ctv3", "column": "CTV3ID"},
        "copd_codes": {"csv": "codelists/copd.csv", "system": "ctv3", "column": "CTV3ID"},
        "smoking_codes": {
            "csv": "codelists/smoking.csv",
            "system": "ctv3",
            "column": "CTV3Code",
            "category_column": "Category",
        },
        "respiratory_codes": {"combine_codelists": ["asthma_codes", "copd_codes"]},
        "current_smoker_codes": {"filter_codes_by_category": "smoking_codes", "include": ["S"]},
        "covid_codes": {"codes": ["U071", "U072"], "system": "icd10"},
        "ethnicity_codes": {"codes": [["XaBVJ", "1"], ["137R.", "2"]], "system": "ctv3"},
        "opensafely_diabetes": {
            "csv": "codelists/opensafely-diabetes.csv",
            "system": "ctv3",
            "column": "CTV3ID",
        },
        "opensafely_hypertension": {
            "csv": "codelists/opensafely-hypertension.csv",
            "system": "ctv3",
            "column": "CTV3ID",
        },
        "copd_extended_codes": {"codes": ["H3...", "H31..", "H32.."], "system": "ctv3"},
        "first_asthma": {"codes": ["H33.."], "system": "ctv3"},
        "inline_flag_codelist": {"codes": ["X1234"], "system": "ctv3"},
    },
    "population": {
        "satisfying": {
            "expression": "\n        registered AND\n        NOT died\n        ",
            "variables": {
                "registered": {
                    "registered_with_one_practice_between": {
                        "start_date": "index_date - 1 year",
                        "end_date": "index_date",
                    }
                },
                "died": {"died_from_any_cause": {"on_or_before": "index_date"}},
            },
        }
    },
    "variables": {
        "age": {
            "age_as_of": {"date": "index_date"},
            "return_expectations": {"rate": "universal", "int": {"distribution": "population_ages"}},
        },
        "age_group": {
            "categorised_as": {
                0: DEFAULT,
                1: "age_years < 50",
                2: "age_years >= 50",
                "variables": {"age_years": {"age_as_of": {"date": "index_date"}}},
            },
            "return_expectations": {"category": {"ratios": {0: 0.1, 1: 0.5, 2: 0.4}}},
        },
        "asthma": {
            "with_these_clinical_events": {
                "codelist": "asthma_codes",
                "on_or_before": "index_date",
                "find_first_match_in_period": True,
                "returning": "date",
                "date_format": "YYYY-MM",
            }
        },
        "respiratory": {
            "with_these_clinical_events": {
                "codelist": "respiratory_codes",
                "between": ["index_date - 5 years", "index_date"],
            }
        },
        "current_smoker": {
            "with_these_clinical_events": {
                "codelist": "current_smoker_codes",
                "returning": "category",
                "find_last_match_in_period": True,
            }
        },
        "ethnicity": {
            "with_these_clinical_events": {
                "codelist": "ethnicity_codes",
                "returning": "category",
                "find_last_match_in_period": True,
            }
        },
        "covid_death": {
            "with_these_codes_on_death_certificate": {
                "codelist": "covid_codes",
                "on_or_after": "2020-03-01",
                "match_only_underlying_cause": True,
            }
        },
        "first_asthma_count": {
            "with_these_clinical_events": {
                "codelist": "first_asthma",
                "returning": "number_of_matches_in_period",
            }
        },
        "copd_extended": {"with_these_clinical_events": {"codelist": "copd_extended_codes"}},
        "inline_flag": {"with_these_clinical_events": {"codelist": "inline_flag_codelist"}},
        "earliest_respiratory": {
            "minimum_of": {
                "columns": ["asthma"],
                "variables": {
                    "copd_date": {
                        "with_these_clinical_events": {
                            "codelist": "copd_codes",
                            "returning": "date",
                            "date_format": "YYYY-MM",
                            "find_first_match_in_period": True,
                        }
                    }
                },
            }
        },
        "latest_date": {"maximum_of": ["has_diabetes_date", "2020-06-01"]},
        "region": {
            "registered_practice_as_of": {"date": "index_date", "returning": "nuts1_region_name"}
        },
        "care_home": {
            "care_home_status_as_of": {
                "date": "index_date",
                "categorised_as": {"Y": "IsPotentialCareHome", "N": DEFAULT},
            }
        },
        "asthma_date": {"date_of": {"source": "asthma", "date_format": "YYYY-MM"}},
        "constant": {"fixed_value": {"value": 3}},
        "has_diabetes": condition("opensafely_diabetes"),
        "has_hypertension": condition("opensafely_hypertension"),
    },
    "measures": [
        {
            "id": "diabetes_by_age",
            "numerator": "has_diabetes",
            "denominator": "population",
            "group_by": ["age_group"],
        },
        {
            "id": "hypertension_by_age",
            "numerator": "has_hypertension",
            "denominator": "population",
            "group_by": ["age_group"],
        },
        {
            "id": "diabetes_total",
            "numerator": "has_diabetes",
            "denominator": "population",
            "group_by": "population",
            "small_number_suppression": True,
        },
    ],
}


def variable_paths(path, variable):
    """The paths of a variable's key, its keys, its arguments and its helpers (recursively)."""
    yield path
    function = [k for k in variable if k != "return_expectations"][0]
    for key in variable:
        yield path + (key,)
    arguments = variable[function]
    if isinstance(arguments, dict):
        for key, value in arguments.items():
            yield path + (function, key)
            if key == "variables":
                for name, helper in value.items():
                    for p in variable_paths(path + (function, key, name), helper):
                        yield p


class FeaturesStudy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = run_recorder(STUDY, params=PARAMS)
        assert cls.result.returncode == 0, (cls.result.stderr, cls.result.output)
        cls.text = cls.result.output["text"]
        cls.origins = cls.result.output["origins"]
        cls.definition, cls.lines = parse(cls.text)

    @classmethod
    def tearDownClass(cls):
        cleanup(cls.result)

    def origin(self, *path):
        return self.origins[self.lines[path] - 1]

    def test_output_fields(self):
        self.assertEqual(set(self.result.output), {"text", "origins", "measures_only"})
        self.assertIs(self.result.output["measures_only"], False)
        self.assertTrue(self.text.endswith("\n"))
        self.assertEqual(len(self.origins), len(self.text.splitlines()))

    def test_definition_in_the_yaml_schema(self):
        self.assertEqual(self.definition, EXPECTED)

    def test_key_order_is_the_order_of_the_study(self):
        self.assertEqual(list(self.definition), list(EXPECTED))
        self.assertEqual(list(self.definition["variables"]), list(EXPECTED["variables"]))
        self.assertEqual(list(self.definition["codelists"]), list(EXPECTED["codelists"]))
        arguments = self.definition["variables"]["asthma"]["with_these_clinical_events"]
        self.assertEqual(
            list(arguments),
            ["codelist", "on_or_before", "find_first_match_in_period", "returning", "date_format"],
        )

    def test_origins_of_variables_arguments_and_helpers(self):
        cases = {
            ("variables", "age"): at("age"),
            ("variables", "age", "age_as_of"): at("age"),
            ("variables", "age", "age_as_of", "date"): at("age"),
            ("variables", "age", "return_expectations"): at("age"),
            ("variables", "age_group", "categorised_as", 1): at("age_group"),
            ("variables", "age_group", "categorised_as", "variables", "age_years"): at("age_years"),
            ("variables", "age_group", "categorised_as", "variables", "age_years", "age_as_of", "date"): at("age_years"),
            ("variables", "earliest_respiratory", "minimum_of", "variables", "copd_date"): at("copd_date"),
            ("variables", "latest_date", "maximum_of"): at("latest_date"),
            ("variables", "care_home", "care_home_status_as_of", "categorised_as"): at("care_home"),
            ("variables", "has_diabetes"): at("has_condition"),
            ("variables", "has_hypertension", "with_these_clinical_events", "codelist"): at("has_condition"),
            ("population",): at("population"),
            ("population", "satisfying", "expression"): at("population"),
            ("population", "satisfying", "variables", "registered", "registered_with_one_practice_between", "end_date"): at("registered"),
            ("population", "satisfying", "variables", "died"): at("died"),
            ("index_date",): at("study"),
            ("variables",): at("study"),
        }
        for path, expected in cases.items():
            with self.subTest(path=path):
                self.assertEqual(self.origin(*path), expected)
        self.assertEqual(self.origins[0], at("study"), "the document's first line")
        self.assertEqual(self.origins[-1], at("study"), "the document's last line")

    def test_origins_of_codelists_and_measures(self):
        cases = {
            "asthma_codes": cl_at("cl_asthma"),
            "smoking_codes": cl_at("cl_smoking"),
            "respiratory_codes": cl_at("cl_respiratory"),
            "current_smoker_codes": cl_at("cl_current"),
            "covid_codes": cl_at("cl_covid"),
            "ethnicity_codes": cl_at("cl_ethnicity"),
            "opensafely_diabetes": cl_at("cl_diabetes"),
            "opensafely_hypertension": cl_at("cl_hypertension"),
            "copd_extended_codes": cl_at("cl_copd_extended"),
            "first_asthma": at("cl_first_asthma"),
            "inline_flag_codelist": at("inline_flag"),
        }
        for name, expected in cases.items():
            with self.subTest(codelist=name):
                self.assertEqual(self.origin("codelists", name), expected)
        self.assertEqual(self.origin("measures", 0), at("measure_by_age"))
        self.assertEqual(self.origin("measures", 1), at("measure_by_age"))
        self.assertEqual(self.origin("measures", 2), at("measure_total"))
        self.assertIsNone(self.origin("codelists"))
        self.assertIsNone(self.origin("measures"))

    def test_every_recorded_node_starts_on_its_own_line(self):
        # Variables, their function keys and arguments, categories, helpers, codelists and
        # measures: no two share a line, so each line's origin is that node's call.
        paths = list(variable_paths(("population",), self.definition["population"]))
        for name, variable in self.definition["variables"].items():
            paths.extend(variable_paths(("variables", name), variable))
        paths.extend(("codelists", name) for name in self.definition["codelists"])
        paths.extend(("measures", i) for i in range(len(self.definition["measures"])))
        self.assertGreater(len(paths), 100)
        seen = {}
        for p in paths:
            line = self.lines[p]
            self.assertNotIn(line, seen, "%r and %r share line %d" % (seen.get(line), p, line))
            seen[line] = p
            self.assertIsNotNone(self.origins[line - 1], p)

    @unittest.skipUnless(__import__("importlib").util.find_spec("yaml"), "PyYAML is not installed")
    def test_pyyaml_reads_the_text_alike(self):
        # An independent YAML parser: the same definition (DEFAULT a plain string there).
        import yaml

        def plain(value):
            if value == DEFAULT:
                return "DEFAULT"
            if isinstance(value, dict):
                return dict((k, plain(v)) for k, v in value.items())
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        self.assertEqual(yaml.safe_load(self.text), plain(self.definition))

    def test_the_study_ran_with_its_side_effects(self):
        with open(os.path.join(self.result.root, "output", "imported.txt")) as f:
            self.assertEqual(f.read(), "imported with start_date=2020-03-01\n")

    def test_nothing_but_the_output_file_is_written_next_to_it(self):
        self.assertEqual(os.listdir(os.path.join(self.result.folder, "out")), ["result.json"])

    def test_recording_twice_gives_the_same_output(self):
        again = run_recorder(STUDY, params=PARAMS)
        try:
            self.assertEqual(again.output, self.result.output)
        finally:
            cleanup(again)


if __name__ == "__main__":
    unittest.main()
