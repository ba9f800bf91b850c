"""Runs a study definition under the shim and writes what it defines as JSON.

    python3 -m cohortextractor._record --study-definition NAME --output FILE [--param K=V]...

Run with the study root as the working directory. The module NAME is imported as
cohortextractor imports it (`sys.path += [cwd, cwd/analysis]`, `importlib.import_module`), after
`cohortextractor.params` has been filled from the `--param`s. FILE (written to a temporary name,
then renamed) holds one JSON object: on success `{"text", "origins", "measures_only"}`, on
failure `{"error": {"kind", "message", "file", "line", "detail"}}` (see ../README.md). Exit
status: 0 success, 1 the study failed (FILE holds the error), 2 bad usage or FILE unwritable.
"""

import argparse
import importlib
import importlib.util
import json
import linecache
import os
import sys
import tempfile
import traceback

import cohortextractor

from . import _emit
from ._recording import BadCall, display_path, in_study, set_study_root, study_root
from .measure import Measure
from .study_definition import StudyDefinition

PROVIDED_MODULES = ("codelistlib", "exceptions", "measure", "patients", "study_definition")


def dict_from_params(params):
    """cohortextractor's rule: each --param's parts are joined, then split at the first `=`."""
    return dict("".join(parts).partition("=")[::2] for parts in params)


class StudyFailure(Exception):
    def __init__(self, error):
        Exception.__init__(self, error["message"])
        self.error = error


def _frame_detail(file, line, function):
    text = '  File "%s", line %s, in %s\n' % (file, line, function)
    source = linecache.getline(os.path.join(study_root(), file), line).strip() if line else ""
    if source:
        text += "    %s\n" % source
    return text


def _last_study_frame(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if in_study(f.filename)]
    return frames[-1] if frames else None


def _error(kind, message, file, line, detail, **extra):
    error = {"kind": kind, "message": message, "file": file, "line": line, "detail": detail}
    error.update(extra)
    return error


def _exception_error(exc, kind, message, default_file, **extra):
    """The error for `exc`, positioned at its traceback's last frame in the study's files."""
    if isinstance(exc, SyntaxError) and exc.filename and in_study(exc.filename):
        file, line = display_path(exc.filename), exc.lineno
        detail = "".join(traceback.format_exception_only(type(exc), exc))
        detail = detail.replace(exc.filename, file, 1)
        return _error(kind, message, file, line, detail, **extra)
    frame = _last_study_frame(exc)
    if frame is None:
        return _error(kind, message, default_file, None, None, **extra)
    file = display_path(frame.filename)
    detail = _frame_detail(file, frame.lineno, frame.name)
    return _error(kind, message, file, frame.lineno, detail, **extra)


def _bad_call_error(exc, default_file):
    origin = exc.origin
    if origin is None:
        return _error("bad_call", exc.message, default_file, None, None)
    detail = _frame_detail(origin.file, origin.line, origin.function)
    return _error("bad_call", exc.message, origin.file, origin.line, detail)


def _message(exc):
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


def _study_file(name):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin and os.path.isfile(spec.origin):
        return display_path(spec.origin)
    return "analysis/%s.py" % name


def _module_failure(message, default_file):
    """A failure of the module as a whole (no position within it)."""
    return StudyFailure(_error("exception", message, default_file, None, None))


def _import_study(name, default_file):
    try:
        return importlib.import_module(name)
    except BadCall as exc:
        raise StudyFailure(_bad_call_error(exc, default_file))
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == name:
            raise _module_failure(
                "no study definition module %r (looked for %s)" % (name, default_file), default_file
            )
        message = _message(exc)
        if missing.startswith("cohortextractor."):
            message += " (this cohortextractor provides cohortextractor.%s)" % (
                ", cohortextractor.".join(PROVIDED_MODULES)
            )
        error = _exception_error(exc, "missing_module", message, default_file, module=missing)
        raise StudyFailure(error)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: B902 - a study may raise anything, even SystemExit
        raise StudyFailure(_exception_error(exc, "exception", _message(exc), default_file))


def record(name, params):
    """Imports study module `name` from the working directory; returns the output object."""
    root = os.getcwd()
    set_study_root(root)
    sys.path.extend([root, os.path.join(root, "analysis")])
    sys.dont_write_bytecode = True
    cohortextractor.params.clear()
    cohortextractor.params.update(params)
    default_file = _study_file(name)
    try:
        module = _import_study(name, default_file)
        study = getattr(module, "study", None)
        has_measures = hasattr(module, "measures")
        if study is None and not has_measures:
            raise _module_failure(
                "%s defines neither `study` nor `measures`" % default_file, default_file
            )
        if study is not None and not isinstance(study, StudyDefinition):
            raise _module_failure(
                "`study` in %s is %s, not a cohortextractor StudyDefinition"
                % (default_file, type(study).__name__),
                default_file,
            )
        measures = None
        if has_measures:
            try:
                items = iter(module.measures)
            except TypeError:
                raise _module_failure(
                    "`measures` in %s is not a list of Measure (it is %s)"
                    % (default_file, type(module.measures).__name__),
                    default_file,
                )
            try:
                measures = list(items)
            except Exception as exc:  # a generator of the study's raised
                raise StudyFailure(_exception_error(exc, "exception", _message(exc), default_file))
            for i, m in enumerate(measures, 1):
                if not isinstance(m, Measure):
                    raise _module_failure(
                        "`measures` in %s: item %d is %s, not a Measure"
                        % (default_file, i, type(m).__name__),
                        default_file,
                    )
        try:
            text, origins = _emit.build(study, measures, module)
        except BadCall as exc:
            raise StudyFailure(_bad_call_error(exc, default_file))
        except Exception as exc:
            # A fault of the recorder itself; still an answer the front end can show.
            message = "internal error of the cohortextractor recorder: %s" % _message(exc)
            raise _module_failure(message, default_file)
    except StudyFailure as failure:
        return {"error": failure.error}, 1
    return {"text": text, "origins": origins, "measures_only": study is None}, 0


def write_atomically(path, obj):
    folder = os.path.dirname(os.path.abspath(path))
    prefix = "." + os.path.basename(path) + "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=True, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m cohortextractor._record",
        description="Record a cohortextractor study definition as JSON (run in the study root).",
    )
    parser.add_argument(
        "--study-definition", required=True, help="module name, e.g. study_definition"
    )
    parser.add_argument("--output", required=True, help="the JSON file to write")
    parser.add_argument("--param", nargs="+", action="append", default=[], help="key=value")
    options = parser.parse_args(argv)
    output = os.path.abspath(options.output)
    result, status = record(options.study_definition, dict_from_params(options.param))
    try:
        write_atomically(output, result)
    except OSError as exc:
        sys.stderr.write("cannot write %s: %s\n" % (output, exc))
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
