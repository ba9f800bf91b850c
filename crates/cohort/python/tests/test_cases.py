"""Deliberate mistakes and unusual studies: what the recorder reports, and where."""

import os
import unittest

from flowtext import parse
from support import cleanup, position, run_recorder

STUDY = "cases"
SD = "analysis/study_definition.py"


def at(marker, relpath=SD):
    return position(STUDY, relpath, marker)


class Case(unittest.TestCase):
    def record(self, case=None, definition="study_definition", params=()):
        params = list(params) + (["case=" + case] if case else [])
        result = run_recorder(STUDY, definition=definition, params=params)
        self.addCleanup(cleanup, result)
        return result

    def assertFailure(self, result, kind, where, message_part):
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(list(result.output), ["error"])
        error = result.output["error"]
        self.assertEqual(set(error) - {"module"}, {"kind", "message", "file", "line", "detail"})
        self.assertEqual(error["kind"], kind)
        self.assertEqual("%s:%s" % (error["file"], error["line"]), where)
        self.assertIn(message_part, error["message"])
        self.assertEqual(os.listdir(os.path.join(result.folder, "out")), ["result.json"])
        return error


class Errors(Case):
    def test_an_exception_is_placed_at_the_last_frame_in_the_study_files(self):
        error = self.assertFailure(
            self.record("exception"),
            "exception",
            at("divide", "analysis/helpers.py"),
            "ZeroDivisionError: division by zero",
        )
        self.assertIn('File "analysis/helpers.py", line', error["detail"])
        self.assertIn("in events_per_month", error["detail"])
        self.assertIn("return events / months", error["detail"])

    def test_a_missing_package_is_named(self):
        error = self.assertFailure(
            self.record("missing_module"),
            "missing_module",
            at("import_missing"),
            "nonexistent_analysis_package",
        )
        self.assertEqual(error["module"], "nonexistent_analysis_package")
        self.assertIn("import nonexistent_analysis_package", error["detail"])

    def test_a_cohortextractor_module_the_shim_lacks_is_named(self):
        error = self.assertFailure(
            self.record("missing_shim_module"),
            "missing_module",
            at("import_backend"),
            "cohortextractor.tpp_backend",
        )
        self.assertEqual(error["module"], "cohortextractor.tpp_backend")
        self.assertIn("cohortextractor.patients", error["message"])

    def test_a_missing_param_is_reported_at_the_study_line(self):
        self.assertFailure(
            self.record("missing_param"),
            "exception",
            at("missing_param"),
            "MissingParameterError: no --param start_date=... was given (params: case)",
        )

    def test_the_study_exiting_is_an_error(self):
        self.assertFailure(self.record("system_exit"), "exception", at("exit"), "SystemExit: 3")

    def test_a_syntax_error_is_placed_where_it_is(self):
        error = self.assertFailure(
            self.record(definition="study_definition_syntax"),
            "exception",
            at("syntax", "analysis/study_definition_syntax.py"),
            "SyntaxError",
        )
        self.assertIn("analysis/study_definition_syntax.py", error["detail"])

    def test_iterating_a_codelist_whose_csv_cannot_be_read_raises_there(self):
        self.assertFailure(
            self.record("missing_csv_iterated"),
            "exception",
            at("len_missing"),
            "FileNotFoundError",
        )

    def test_measures_must_be_measures(self):
        self.assertFailure(
            self.record("bad_measures"),
            "exception",
            "analysis/study_definition.py:None",
            "item 2 is str, not a Measure",
        )

    def test_study_must_be_a_study_definition(self):
        self.assertFailure(
            self.record("wrong_study"),
            "exception",
            "analysis/study_definition.py:None",
            "`study` in analysis/study_definition.py is dict, not a cohortextractor StudyDefinition",
        )

    def test_a_module_without_study_or_measures(self):
        self.assertFailure(
            self.record(definition="study_definition_empty"),
            "exception",
            "analysis/study_definition_empty.py:None",
            "defines neither `study` nor `measures`",
        )


class BadCalls(Case):
    def test_too_many_positional_arguments(self):
        self.assertFailure(
            self.record("too_many_positional"),
            "bad_call",
            at("too_many"),
            "patients.age_as_of() takes 2 positional arguments but 3 were given",
        )

    def test_the_yaml_name_of_a_renamed_argument(self):
        self.assertFailure(
            self.record("renamed_keyword"),
            "bad_call",
            at("renamed"),
            "patients.registered_as_of() got an unexpected keyword argument 'date' "
            "(cohortextractor calls it 'reference_date')",
        )

    def test_an_argument_given_twice(self):
        self.assertFailure(
            self.record("given_twice"),
            "bad_call",
            at("twice"),
            "got multiple values for argument 'codelist'",
        )

    def test_a_value_that_cannot_be_written_out(self):
        error = self.assertFailure(
            self.record("unrecordable"),
            "bad_call",
            at("unrecordable"),
            "patients.age_as_of (variable odd): cannot record a value of type object",
        )
        self.assertIn("patients.age_as_of(object())", error["detail"])

    def test_combining_something_that_is_not_a_codelist(self):
        self.assertFailure(
            self.record("not_a_codelist"),
            "bad_call",
            at("combine_list"),
            "combine_codelists(): argument 2 is a list, not a codelist",
        )


class Unusual(Case):
    def test_an_unknown_function_is_recorded_for_the_front_end_to_report(self):
        result = self.record("unknown_function")
        self.assertEqual(result.returncode, 0, result.output)
        definition, lines = parse(result.output["text"])
        self.assertEqual(
            definition["variables"]["flu_contact"],
            {"with_gp_contact_for": {"lenient": True, "*args": ["flu", "index_date"]}},
        )
        self.assertEqual(definition["codelists"], {
            "flu": {"csv": "codelists/flu.csv", "system": "ctv3", "column": "code"}
        })
        line = lines[("variables", "flu_contact", "with_gp_contact_for")]
        self.assertEqual(result.output["origins"][line - 1], at("unknown"))

    def test_a_module_with_measures_only(self):
        result = self.record(definition="study_definition_measures_only")
        self.assertEqual(result.returncode, 0, result.output)
        self.assertIs(result.output["measures_only"], True)
        definition, lines = parse(result.output["text"])
        self.assertEqual(definition, {"measures": [
            {"id": "flu_rate", "numerator": "flu", "denominator": "population", "group_by": ["sex"]},
        ]})
        origins = result.output["origins"]
        self.assertEqual(origins[lines[("measures", 0)] - 1],
                         at("m1", "analysis/study_definition_measures_only.py"))
        self.assertEqual(origins[0], None)

    def test_a_study_without_a_mistake(self):
        result = self.record("none")
        self.assertEqual(result.returncode, 0, result.output)
        definition, _ = parse(result.output["text"])
        self.assertEqual(definition, {"population": {"all": {}}, "measures": []})
        self.assertNotIn("index_date", definition, "index_date=None is left out")


class CommandLine(Case):
    def test_usage_errors_exit_2_without_output(self):
        result = run_recorder(STUDY, extra_args=["--study-definition", "study_definition"])
        self.addCleanup(cleanup, result)
        self.assertEqual(result.returncode, 2)
        self.assertIsNone(result.output)
        self.assertIn("--output", result.stderr)

    def test_an_unwritable_output_exits_2(self):
        result = run_recorder(STUDY, extra_args=[
            "--study-definition", "study_definition", "--param", "case=none",
            "--output", "no/such/folder/out.json",
        ])
        self.addCleanup(cleanup, result)
        self.assertEqual(result.returncode, 2)
        self.assertIn("cannot write", result.stderr)

    def test_params_are_joined_and_split_at_the_first_equals_sign(self):
        # As cohortextractor: `--param case = none` is case=none; `--param index_date= X`.
        result = self.record(params=[["case", "=", "none"], ["index_date=", "2020-02-01"]])
        self.assertEqual(result.returncode, 0, result.output)
        definition, _ = parse(result.output["text"])
        self.assertEqual(definition["index_date"], "2020-02-01")

if __name__ == "__main__":
    unittest.main()
