"""Runs the recorder on a copy of a test study, as the front end runs it."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
STUDIES = os.path.join(HERE, "studies")
REPO_ROOT = os.path.abspath(os.path.join(PYTHON_DIR, "..", "..", ".."))

_MARKER = re.compile(r"#\s*@([A-Za-z0-9_]+)")


class Run:
    def __init__(self, proc, output, root, folder):
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        self.stdout = proc.stdout
        self.output = output
        self.root = root
        self.folder = folder

    @property
    def error(self):
        return self.output["error"]


def run_recorder(study, definition="study_definition", params=(), extra_args=None):
    """Copies tests/studies/<study> to a temporary study root and records `definition` there.

    Returns a Run; its `folder` (removed by the caller with `cleanup`) holds the study root
    and `out/` with the output file `result.json`."""
    folder = tempfile.mkdtemp(prefix="pyshim-test-")
    root = os.path.join(folder, study)
    shutil.copytree(os.path.join(STUDIES, study), root)
    out_dir = os.path.join(folder, "out")
    os.makedirs(out_dir)
    output_file = os.path.join(out_dir, "result.json")
    argv = [sys.executable, "-m", "cohortextractor._record"]
    if extra_args is None:
        argv += ["--study-definition", definition, "--output", output_file]
        for p in params:
            argv += ["--param"] + (list(p) if isinstance(p, (list, tuple)) else [p])
    else:
        argv += extra_args
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(argv, cwd=root, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    output = None
    if os.path.exists(output_file):
        with open(output_file, encoding="utf-8") as f:
            output = json.load(f)
    return Run(proc, output, root, folder)


def cleanup(run):
    shutil.rmtree(run.folder, ignore_errors=True)


def markers(study, relpath):
    """{marker: line} of the `# @marker` comments in tests/studies/<study>/<relpath>."""
    found = {}
    with open(os.path.join(STUDIES, study, relpath), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            for name in _MARKER.findall(line):
                assert name not in found, "marker @%s twice in %s" % (name, relpath)
                found[name] = number
    return found


def position(study, relpath, marker):
    """"relpath:line" of `# @marker` in the study's file."""
    return "%s:%d" % (relpath, markers(study, relpath)[marker])
