"""The shim's parts, in-process: parameter binding, codelists, text quoting, the package."""

import ast
import csv
import os
import shutil
import sys
import tempfile
import unittest

from support import PYTHON_DIR

sys.path.insert(0, PYTHON_DIR)

import cohortextractor  # noqa: E402
from cohortextractor import _emit, _record, _recording, codelistlib, patients  # noqa: E402
from flowtext import parse  # noqa: E402

PACKAGE = os.path.join(PYTHON_DIR, "cohortextractor")


class Params(unittest.TestCase):
    def test_dict_from_params_joins_parts_and_splits_at_the_first_equals_sign(self):
        params = [["key1=value1"], ["key2", "=", "value2"], ["key3=", "value 3"], ["k=a=b"], ["flag"]]
        self.assertEqual(
            _record.dict_from_params(params),
            {"key1": "value1", "key2": "value2", "key3": "value 3", "k": "a=b", "flag": ""},
        )

    def test_a_missing_param_raises_missing_parameter_error(self):
        cohortextractor.params.clear()
        cohortextractor.params["given"] = "1"
        self.addCleanup(cohortextractor.params.clear)
        self.assertEqual(cohortextractor.params.get("absent", "x"), "x")
        with self.assertRaises(cohortextractor.MissingParameterError) as cm:
            cohortextractor.params["absent"]
        self.assertEqual(str(cm.exception), "no --param absent=... was given (params: given)")


class Binding(unittest.TestCase):
    def call(self, function, *args, **kwargs):
        return getattr(patients, function)(*args, **kwargs)

    def test_positional_arguments_get_cohortextractor_names(self):
        cases = [
            (("registered_as_of", "2020-01-01"), [("date", "2020-01-01")]),
            (("age_as_of", "index_date"), [("date", "index_date")]),
            (("registered_with_one_practice_between", "a", "b"), [("start_date", "a"), ("end_date", "b")]),
            (("with_these_clinical_events", "cl"), [("codelist", "cl")]),
            (("with_these_medications", "cl"), [("codelist", "cl")]),
            (("registered_practice_as_of", "d", "stp_code"), [("date", "d"), ("returning", "stp_code")]),
            (("died_from_any_cause", "d"), [("on_or_before", "d")]),
            (("admitted_to_icu", "d"), [("on_or_after", "d")]),
            (("fixed_value", 1), [("value", 1)]),
            (("date_of", "x", "YYYY-MM"), [("source", "x"), ("date_format", "YYYY-MM")]),
            (("address_as_of", "d", "msoa"), [("date", "d"), ("returning", "msoa")]),
            (("household_as_of", "2020-02-01"), [("reference_date", "2020-02-01")]),
            (("with_value_from_file", "f.csv", "c", "int"), [("f_path", "f.csv"), ("returning", "c"), ("returning_type", "int")]),
            (("which_exist_in_file", "f.csv"), [("f_path", "f.csv")]),
            (("with_vaccination_record", {"a": 1}, {}), [("tpp", {"a": 1}), ("emis", {})]),
            (("outpatient_appointment_date", "date"), [("returning", "date")]),
            (("with_these_decision_support_values", "electronic_frailty_index"), [("algorithm", "electronic_frailty_index")]),
        ]
        for (function, *args), expected in cases:
            with self.subTest(function=function):
                self.assertEqual(self.call(function, *args).arguments, expected)

    def test_return_expectations_belongs_to_the_variable(self):
        call = patients.age_as_of("index_date", {"rate": "universal"})
        self.assertEqual(call.arguments, [("date", "index_date")])
        self.assertEqual(call.return_expectations, {"rate": "universal"})
        call = patients.minimum_of("a", "b", return_expectations={"x": 1})
        self.assertEqual((call.star, call.helpers), (["a", "b"], []))
        self.assertEqual(call.return_expectations, {"x": 1})

    def test_keyword_arguments_keep_their_order_and_reference_date_is_renamed(self):
        call = patients.age_as_of(reference_date="index_date")
        self.assertEqual(call.arguments, [("date", "index_date")])
        call = patients.with_these_clinical_events("cl", returning="date", between=["a", "b"])
        self.assertEqual([k for k, _ in call.arguments], ["codelist", "returning", "between"])

    def test_explicit_none_is_dropped_only_where_none_is_the_default(self):
        call = patients.with_these_clinical_events(
            "cl", between=None, date_format=None, returning=None, include_date_of_match=None
        )
        self.assertEqual(
            call.arguments,
            [("codelist", "cl"), ("returning", None), ("include_date_of_match", None)],
        )

    def test_helpers_are_the_extra_keyword_arguments(self):
        helper = patients.age_as_of("index_date")
        call = patients.categorised_as({"a": "x > 1", "b": "DEFAULT"}, x=helper)
        self.assertEqual(call.arguments, [("category_definitions", {"a": "x > 1", "b": "DEFAULT"})])
        self.assertEqual(call.helpers, [("x", helper)])
        call = patients.satisfying("x", x=helper)
        self.assertEqual((call.arguments, call.helpers), ([("expression", "x")], [("x", helper)]))

    def test_unknown_functions_and_arguments_are_recorded(self):
        call = patients.with_something_new("cl", 3, flag=True)
        self.assertEqual((call.function, call.known), ("with_something_new", False))
        self.assertEqual((call.arguments, call.star), ([("flag", True)], ["cl", 3]))
        call = patients.sex(unknown_argument=1)
        self.assertEqual(call.arguments, [("unknown_argument", 1)])
        with self.assertRaises(AttributeError):
            patients.__wrapped__

    def test_every_function_of_the_contract_has_a_signature(self):
        contract = """registered_as_of registered_with_one_practice_between
        with_complete_history_between registered_practice_as_of age_as_of sex date_of_birth
        died_from_any_cause with_these_clinical_events categorised_as satisfying all fixed_value
        minimum_of maximum_of date_of comparator_from reference_range_lower_bound_from
        reference_range_upper_bound_from address_as_of care_home_status_as_of
        with_these_medications most_recent_bmi mean_recorded_value min_recorded_value
        max_recorded_value date_deregistered_from_all_supported_practices
        with_complete_gp_consultation_history_between with_gp_consultations
        with_these_codes_on_death_certificate with_death_recorded_in_primary_care
        with_death_recorded_in_cpns with_tpp_vaccination_record with_vaccination_record
        admitted_to_hospital attended_emergency_care outpatient_appointment_date admitted_to_icu
        with_ethnicity_from_sus with_test_result_in_sgss household_as_of
        with_these_decision_support_values with_value_from_file which_exist_in_file""".split()
        for name in contract:
            with self.subTest(function=name):
                self.assertIn(name, patients.SIGNATURES)
                self.assertTrue(callable(getattr(patients, name)))


class Codelists(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pyshim-units-")
        self.addCleanup(shutil.rmtree, self.root, True)
        _recording.set_study_root(self.root)
        self.addCleanup(_recording.set_study_root, os.getcwd())
        os.makedirs(os.path.join(self.root, "codelists"))
        with open(os.path.join(self.root, "codelists", "c.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerows([["code", "cat"], [" A1 ", "x"], ["", "y"], ["B2", "y"], ["C3", "x"]])

    def test_a_csv_codelist_holds_its_codes_like_cohortextractors(self):
        cl = codelistlib.codelist_from_csv("codelists/c.csv", system="ctv3")
        self.assertEqual(list(cl), ["A1", "B2", "C3"])
        self.assertEqual((len(cl), cl.system, cl.has_categories), (3, "ctv3", False))
        self.assertIsInstance(cl, list)
        cat = codelistlib.codelist_from_csv("codelists/c.csv", "ctv3", category_column="cat")
        self.assertEqual(list(cat), [("A1", "x"), ("B2", "y"), ("C3", "x")])
        only_x = codelistlib.filter_codes_by_category(cat, include=["x"])
        self.assertEqual(list(only_x), [("A1", "x"), ("C3", "x")])
        both = codelistlib.combine_codelists(cl, codelistlib.codelist(["D4", "A1"], "ctv3"))
        self.assertEqual(list(both), ["A1", "B2", "C3", "D4"])

    def test_an_unreadable_csv_raises_only_when_its_codes_are_used(self):
        cl = codelistlib.codelist_from_csv("codelists/absent.csv", system="ctv3")
        with self.assertRaises(FileNotFoundError):
            len(cl)
        with self.assertRaises(FileNotFoundError):
            list(cl)
        wrong = codelistlib.codelist_from_csv("codelists/c.csv", "ctv3", column="CTV3ID")
        with self.assertRaises(KeyError) as cm:
            "A1" in wrong
        self.assertIn("no column 'CTV3ID' (header: code, cat)", str(cm.exception))

    def test_changed_codelists_are_written_with_their_codes(self):
        cl = codelistlib.codelist_from_csv("codelists/c.csv", system="ctv3")
        combined = codelistlib.combine_codelists(cl)
        self.assertTrue(cl._by_reference() and combined._by_reference())
        cl.append("Z9")
        self.assertFalse(cl._by_reference())
        self.assertFalse(combined._by_reference(), "its part changed")
        writer = _emit.Writer(None)
        writer.collect(combined, "v")
        writer.assign_names()
        node = writer.codelist_node(combined)
        self.assertEqual(parse(node.text)[0], {"codes": ["A1", "B2", "C3"], "system": "ctv3"})


class Text(unittest.TestCase):
    def test_strings_are_quoted_for_json_and_yaml(self):
        cases = {
            "plain": '"plain"',
            'a "b" \\ c': '"a \\"b\\" \\\\ c"',
            "line\nbreak\ttab": '"line\\nbreak\\ttab"',
            "é – 日本": '"é – 日本"',
            "\x85\u2028\ufeff": '"\\u0085\\u2028\\ufeff"',
        }
        for value, expected in cases.items():
            with self.subTest(value=value):
                self.assertEqual(_emit.quote(value), expected)
                self.assertEqual(parse(expected)[0], value)

    def test_values(self):
        import datetime

        writer = _emit.Writer(None)
        inline = lambda v: writer.inline(v, "test", None)  # noqa: E731
        self.assertEqual(inline(datetime.date(2020, 2, 29)), '"2020-02-29"')
        self.assertEqual(inline((1, 2.5, True, None)), "[1, 2.5, true, null]")
        self.assertEqual(inline({0: "a", "b": 1e-05}), '{0: "a", "b": 1e-05}')
        self.assertEqual(inline({"S", "E", "N"}), '["E", "N", "S"]')
        self.assertEqual(inline(float("nan")), ".nan")
        self.assertEqual(inline({"a": "DEFAULT"}), '{"a": "DEFAULT"}')
        self.assertEqual(writer.inline({"a": "DEFAULT"}, "t", None, categories=True), "{\"a\": DEFAULT}")
        with self.assertRaises(_recording.BadCall):
            inline(object())


class Package(unittest.TestCase):
    def sources(self):
        for name in sorted(os.listdir(PACKAGE)):
            if name.endswith(".py"):
                with open(os.path.join(PACKAGE, name), encoding="utf-8") as f:
                    yield name, f.read()

    def test_the_package_is_python_3_8_syntax(self):
        for name, source in self.sources():
            with self.subTest(file=name):
                ast.parse(source, name, feature_version=(3, 8))

    @unittest.skipUnless(hasattr(sys, "stdlib_module_names"), "needs Python 3.10+ to list stdlib")
    def test_the_package_imports_only_the_standard_library(self):
        for name, source in self.sources():
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    with self.subTest(file=name, module=module):
                        self.assertTrue(top in sys.stdlib_module_names or top == "cohortextractor")

    def test_the_layout_studies_import_from(self):
        import cohortextractor.codelistlib
        import cohortextractor.exceptions
        import cohortextractor.measure
        import cohortextractor.patients
        import cohortextractor.study_definition

        for name in ["StudyDefinition", "patients", "codelist", "codelist_from_csv",
                     "combine_codelists", "filter_codes_by_category", "Measure", "params"]:
            self.assertTrue(hasattr(cohortextractor, name), name)
        self.assertIs(cohortextractor.codelistlib.Codelist, codelistlib.Codelist)
        self.assertIs(cohortextractor.measure.Measure, cohortextractor.Measure)
        self.assertIs(cohortextractor.study_definition.StudyDefinition, cohortextractor.StudyDefinition)


if __name__ == "__main__":
    unittest.main()
