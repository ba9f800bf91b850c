"""Codelists as cohortextractor builds them, remembering how each one was made.

A codelist is still a list of codes (or of `(code, category)` tuples), so a study can iterate
it, take its `len`, or build new codelists from its codes. What the recorder writes out, though,
is how it was made: `codelist_from_csv` becomes `{csv, system, column, category_column}`, the
CSV itself being read again (and validated) by the front end; `codelist` becomes
`{codes, system}`; `combine_codelists` and `filter_codes_by_category` refer to their inputs by
name. A codelist whose codes the study changed in place is written out as `{codes, system}`.

`codelist_from_csv` reads the CSV with the csv module when it is called (as cohortextractor
does), only so that the codes are there for a study that looks at them. If the file cannot be
read (missing, no such column, not UTF-8), nothing is raised at the call: the front end reports
the problem with the file and the position of the call. Only a study that then looks at the
codes gets the error, at the line where it does.
"""

import itertools
import os

from ._recording import BadCall, caller_origin, display_path, study_root

_sequence = itertools.count(1)

_KINDS = ("csv", "codes", "combine", "filter")


class Codelist(list):
    """A list of codes with a `system` and `has_categories`, as in cohortextractor."""

    system = None
    has_categories = False

    # Recorder state, set by _setup: _kind (one of _KINDS), _spec (dict), _parts (codelists
    # this one was made from), _parts_ok (the parts were unchanged when it was made),
    # _snapshot (the codes when it was made), _error (why the codes could not be read),
    # _origin, _sequence. A Codelist a study makes itself (`Codelist([...])`) keeps these
    # defaults and is written out with its codes.
    _kind = "codes"
    _spec = {}
    _parts = ()
    _parts_ok = True
    _error = None
    _origin = None
    _sequence = 0

    def _setup(self, kind, spec, system, has_categories, origin, parts=(), error=None):
        self.system = system
        self.has_categories = has_categories
        self._kind = kind
        self._spec = spec
        self._parts = tuple(parts)
        self._parts_ok = all(p._by_reference() for p in self._parts)
        self._snapshot = tuple(list.__iter__(self))
        self._error = error
        self._origin = origin
        self._sequence = next(_sequence)
        return self

    def _codes(self):
        """The codes as stored, without raising a deferred read error."""
        return list(list.__iter__(self))

    def _unchanged(self):
        return "_snapshot" in self.__dict__ and tuple(list.__iter__(self)) == self._snapshot

    def _by_reference(self):
        """Can this codelist be written out as it was made (CSV, combination, filter)?"""
        if not self._unchanged():
            return False
        if self._kind in ("combine", "filter"):
            return self._parts_ok and all(p._by_reference() for p in self._parts)
        return True


def _guarded(name):
    base = getattr(list, name)

    def method(self, *args, **kwargs):
        error = self.__dict__.get("_error")
        if error is not None:
            raise error.with_traceback(None)
        return base(self, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = "Codelist." + name
    return method


for _name in (
    "__iter__", "__len__", "__getitem__", "__contains__", "__reversed__", "__eq__", "__ne__",
    "__lt__", "__le__", "__gt__", "__ge__", "__add__", "__mul__", "__rmul__", "index", "count",
    "copy",
):
    setattr(Codelist, _name, _guarded(_name))
del _name


def _recorded_path(filename):
    """The CSV path as given, relative to the study root when it was given as absolute."""
    text = os.fspath(filename)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if os.path.isabs(text):
        return display_path(os.path.normpath(text))
    return text.replace(os.sep, "/")


def _read_csv(filename, column, category_column):
    import csv

    codes = []
    with open(filename, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for wanted in [column] + ([category_column] if category_column else []):
            if wanted not in header:
                raise KeyError(
                    "%s has no column %r (header: %s)"
                    % (filename, wanted, ", ".join(header) or "empty")
                )
        for row in reader:
            code = (row[column] or "").strip()
            if not code:
                continue
            if category_column:
                codes.append((code, (row[category_column] or "").strip()))
            else:
                codes.append(code)
    return codes


def codelist_from_csv(filename, system, column="code", category_column=None):
    """Records a codelist read from a CSV file (a path relative to the study root)."""
    origin = caller_origin()
    path = _recorded_path(filename)
    error = None
    try:
        codes = _read_csv(os.path.join(study_root(), path), column, category_column)
    except (OSError, KeyError, ValueError) as e:
        codes, error = [], e
    spec = {"csv": path, "system": system, "column": column}
    if category_column is not None:
        spec["category_column"] = category_column
    return Codelist(codes)._setup("csv", spec, system, bool(category_column), origin, error=error)


def codelist(codes, system, check_categories=True):
    """Records a codelist written in the study: codes, or (code, category) tuples."""
    origin = caller_origin()
    cl = Codelist(codes)
    has_categories = bool(list.__len__(cl)) and isinstance(list.__getitem__(cl, 0), tuple)
    return cl._setup("codes", {}, system, has_categories, origin)


def _check_codelist(function, position, value, origin):
    if not isinstance(value, Codelist):
        raise BadCall(
            "%s(): argument %d is %s, not a codelist (made by codelist, codelist_from_csv, "
            "combine_codelists or filter_codes_by_category)"
            % (function, position, _describe(value)),
            origin,
        )


def _describe(value):
    name = type(value).__name__
    return "an " + name if name[:1] in "aeiouAEIOU" else "a " + name


def combine_codelists(first_codelist, *other_codelists):
    """Records the union of codelists, referring to them by name."""
    origin = caller_origin()
    parts = (first_codelist,) + other_codelists
    for i, part in enumerate(parts, 1):
        _check_codelist("combine_codelists", i, part, origin)
    combined = {}
    error = None
    for part in parts:
        error = error or part.__dict__.get("_error")
        for item in part._codes():
            code = item[0] if part.has_categories else item
            combined.setdefault(code, item)
    cl = Codelist(combined.values())
    return cl._setup(
        "combine", {}, first_codelist.system, first_codelist.has_categories, origin, parts, error
    )


def filter_codes_by_category(codes, include):
    """Records the codes of a categorised codelist whose category is in `include`."""
    origin = caller_origin()
    _check_codelist("filter_codes_by_category", 1, codes, origin)
    error = codes.__dict__.get("_error")
    if error is None and not codes.has_categories:
        error = AssertionError("filter_codes_by_category needs a codelist with categories")
    kept = [
        item
        for item in codes._codes()
        if isinstance(item, tuple) and len(item) == 2 and item[1] in include
    ]
    cl = Codelist(kept)
    cl._setup("filter", {"include": include}, codes.system, True, origin, (codes,), error)
    return cl

