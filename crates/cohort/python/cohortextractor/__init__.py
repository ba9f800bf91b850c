"""A recording stand-in for OpenSAFELY's cohortextractor, carried by this repository.

Running a cohortextractor study definition (`analysis/study_definition*.py`) under this package
records what it defines — `StudyDefinition`, `patients.*` calls, codelists, `Measure`s — instead
of querying anything; `python3 -m cohortextractor._record` writes the definition out in the
YAML study-definition schema (see ../README.md). The module layout mirrors cohortextractor's:
`cohortextractor.patients`, `.codelistlib`, `.measure`, `.study_definition`, `.exceptions`.
"""

from . import patients
from .codelistlib import (
    codelist,
    codelist_from_csv,
    combine_codelists,
    filter_codes_by_category,
)
from .exceptions import MissingParameterError
from .measure import Measure
from .study_definition import StudyDefinition

__all__ = [
    "StudyDefinition",
    "Measure",
    "codelist",
    "codelist_from_csv",
    "filter_codes_by_category",
    "combine_codelists",
    "params",
]


class ParamDict(dict):
    """`params[key]` raises MissingParameterError for a key no `--param` gave."""

    def __getitem__(self, key):
        try:
            return dict.__getitem__(self, key)
        except KeyError:
            raise MissingParameterError(key) from None


# Filled from `--param key=value` arguments before the study module is imported.
params = ParamDict()
