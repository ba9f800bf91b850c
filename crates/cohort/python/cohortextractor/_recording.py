"""Shared machinery of the recording shim: call positions, argument binding, recorded calls.

Nothing here touches a database or reads study data; every public function of the shim only
records what the study asked for, so that the definition can be written out by `_record`.
"""

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
_study_root = os.path.realpath(os.getcwd())
_realpaths = {}

MISSING = object()


def set_study_root(path):
    """Sets the folder that positions are reported relative to (the study root, the cwd)."""
    global _study_root
    _study_root = os.path.realpath(path)
    _realpaths.clear()


def study_root():
    return _study_root


def _realpath(filename):
    path = _realpaths.get(filename)
    if path is None:
        path = os.path.realpath(os.path.join(_study_root, filename))
        _realpaths[filename] = path
    return path


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def in_shim(filename):
    """Is `filename` (a code object's file name) part of this package?"""
    if filename.startswith("<"):
        return False
    return _inside(_realpath(filename), _PACKAGE_DIR)


def in_study(filename):
    """Is `filename` one of the study's own files (under the study root, not the shim, not an
    installed package of a virtual environment kept there)?"""
    if filename.startswith("<"):
        return False
    path = _realpath(filename)
    if not _inside(path, _study_root) or _inside(path, _PACKAGE_DIR):
        return False
    parts = os.path.relpath(path, _study_root).split(os.sep)
    return "site-packages" not in parts and "dist-packages" not in parts


def display_path(filename):
    """`filename` relative to the study root with `/` separators, or absolute when outside."""
    if filename.startswith("<"):
        return filename
    path = _realpath(filename)
    if _inside(path, _study_root):
        return os.path.relpath(path, _study_root).replace(os.sep, "/")
    return path


class Origin:
    """The position of a call in the study's code: the first stack frame outside the shim."""

    __slots__ = ("file", "line", "function", "module")

    def __init__(self, file, line, function, module):
        self.file = file
        self.line = line
        self.function = function
        self.module = module

    def __str__(self):
        return "%s:%d" % (self.file, self.line)

    def __repr__(self):
        return "Origin(%s)" % self


def caller_origin():
    """The Origin of the innermost frame outside this package (None if there is none)."""
    frame = sys._getframe(1)
    while frame is not None and in_shim(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    return Origin(
        display_path(frame.f_code.co_filename),
        frame.f_lineno,
        frame.f_code.co_name,
        frame.f_globals.get("__name__"),
    )


class BadCall(TypeError):
    """A call to the shim whose arguments cannot be recorded (reported as kind `bad_call`)."""

    def __init__(self, message, origin):
        TypeError.__init__(self, message)
        self.message = message
        self.origin = origin


class Signature:
    """A cohortextractor parameter list: names in order, which default to None, *args, **kwargs.

    `spec` is written like a Python parameter list without annotations, e.g.
    "codelist, return_expectations=None, returning='binary_flag', **extra_columns".
    """

    def __init__(self, name, spec, renames=None):
        self.name = name
        self.params = []
        self.none_default = set()
        self.varargs = None
        self.varkw = None
        self.renames = dict(renames or {})
        for part in [p.strip() for p in spec.split(",") if p.strip()]:
            if part.startswith("**"):
                self.varkw = part[2:]
            elif part.startswith("*"):
                self.varargs = part[1:]
            else:
                pname, eq, default = part.partition("=")
                pname = pname.strip()
                self.params.append(pname)
                if eq and default.strip() == "None":
                    self.none_default.add(pname)

    def bind(self, args, kwargs, origin):
        """Maps a call's arguments to names.

        Returns (named, star): `named` is a list of (name, value) — positional arguments first,
        in parameter order, then keyword arguments in call order, with cohortextractor's names
        translated to the YAML ones (`renames`) and explicit `None`s dropped where None is the
        default (cohortextractor treats both the same); `star` is the list of extra positional
        arguments (only for a signature with *args). Unknown keyword arguments are kept: the
        front end reports them. Raises BadCall for what Python itself would refuse to bind.
        """
        if len(args) > len(self.params) and self.varargs is None:
            raise BadCall(
                "%s() takes %s but %d were given"
                % (self.name, _count(len(self.params), "positional argument"), len(args)),
                origin,
            )
        named = []
        seen = set()
        for pname, value in zip(self.params, args):
            named.append((pname, value))
            seen.add(pname)
        star = list(args[len(self.params):]) if self.varargs is not None else []
        for key, value in kwargs.items():
            if key in seen:
                raise BadCall(
                    "%s() got multiple values for argument '%s'" % (self.name, key), origin
                )
            if key in self.renames.values():
                source = [k for k, v in self.renames.items() if v == key][0]
                raise BadCall(
                    "%s() got an unexpected keyword argument '%s' (cohortextractor calls it '%s')"
                    % (self.name, key, source),
                    origin,
                )
            seen.add(key)
            named.append((key, value))
        out = []
        for key, value in named:
            if value is None and key in self.none_default:
                continue
            out.append((self.renames.get(key, key), value))
        return out, star


def _count(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


class Call:
    """One recorded `patients.<function>(...)` call.

    `arguments`: [(name, value)] in YAML names; `star`: extra positional values (the column
    names of minimum_of/maximum_of, or unmappable ones of an unknown function); `helpers`:
    [(name, value)] of the **kwargs that define hidden helper variables; `return_expectations`
    or MISSING; `known`: whether the function is one of cohortextractor's.
    """

    __slots__ = (
        "function", "arguments", "star", "helpers", "return_expectations", "origin", "known"
    )

    def __init__(self, function, arguments, star, helpers, return_expectations, origin, known):
        self.function = function
        self.arguments = arguments
        self.star = star
        self.helpers = helpers
        self.return_expectations = return_expectations
        self.origin = origin
        self.known = known

    def __repr__(self):
        return "<patients.%s(...) at %s>" % (self.function, self.origin)
