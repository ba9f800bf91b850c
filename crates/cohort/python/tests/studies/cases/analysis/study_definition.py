# One study, several deliberate mistakes: `--param case=NAME` chooses which one happens.
from cohortextractor import (
    Measure,
    StudyDefinition,
    codelist_from_csv,
    combine_codelists,
    params,
    patients,
)
import helpers

CASE = params["case"]
EXTRA = {}
measures = []

if CASE == "exception":
    RATE = helpers.events_per_month(12, 0)  # @call_helper
elif CASE == "missing_module":
    import nonexistent_analysis_package  # @import_missing  # noqa: F401
elif CASE == "missing_shim_module":
    from cohortextractor.tpp_backend import TPPBackend  # @import_backend  # noqa: F401
elif CASE == "missing_param":
    START = params["start_date"]  # @missing_param
elif CASE == "system_exit":
    raise SystemExit(3)  # @exit
elif CASE == "too_many_positional":
    EXTRA["age"] = patients.age_as_of("index_date", None, "extra")  # @too_many
elif CASE == "renamed_keyword":
    EXTRA["registered"] = patients.registered_as_of(date="index_date")  # @renamed
elif CASE == "given_twice":
    flu = codelist_from_csv("codelists/flu.csv", system="ctv3")
    EXTRA["flu"] = patients.with_these_clinical_events(flu, codelist=flu)  # @twice
elif CASE == "unrecordable":
    EXTRA["odd"] = patients.age_as_of(object())  # @unrecordable
elif CASE == "not_a_codelist":
    flu = codelist_from_csv("codelists/flu.csv", system="ctv3")
    both = combine_codelists(flu, ["Xa1aB"])  # @combine_list
elif CASE == "missing_csv_iterated":
    missing = codelist_from_csv("codelists/not-there.csv", system="ctv3")
    N_CODES = len(missing)  # @len_missing
elif CASE == "bad_measures":
    measures = [Measure(id="ok", numerator="flag", denominator="population"), "not a measure"]
elif CASE == "unknown_function":
    flu = codelist_from_csv("codelists/flu.csv", system="ctv3")
    EXTRA["flu_contact"] = patients.with_gp_contact_for(flu, "index_date", lenient=True)  # @unknown

study = StudyDefinition(population=patients.all(), index_date=params.get("index_date"), **EXTRA)  # @study

if CASE == "wrong_study":
    study = {"population": study.population}
