"""Writes a recorded study definition as text in the YAML study-definition schema.

The text is a YAML flow document in JSON syntax (see ../README.md for the exact rules), laid
out so that every node recorded from a call starts on its own line; each line is paired with
the position (`file:line`) of the call that produced it.
"""

import ast
import datetime
import json
import math
import numbers
import os
import re
import sys

from ._recording import MISSING, BadCall, Call, in_shim, in_study
from .codelistlib import Codelist

_UNSAFE = re.compile("[\u007f-\u009f\u2028\u2029\ufeff\ud800-\udfff]")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def quote(text):
    """A double-quoted scalar, valid as JSON and as YAML."""
    out = json.dumps(text, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: "\\u%04x" % ord(m.group()), out)


# Layout nodes: a Block is a mapping written one entry per line, a Seq a list written one item
# per line, Inline anything written on the line where it starts.
class Block:
    def __init__(self):
        self.entries = []  # (key text, node, origin)

    def add(self, key_text, node, origin):
        self.entries.append((key_text, node, origin))


class Seq:
    def __init__(self):
        self.items = []  # (node, origin)


class Inline:
    def __init__(self, text):
        self.text = text


def _layout(node, depth, prefix, origin, suffix, out):
    pad = "  " * depth
    if isinstance(node, Block) and node.entries:
        out.append((pad + prefix + "{", origin))
        last = len(node.entries) - 1
        for i, (key, child, child_origin) in enumerate(node.entries):
            _layout(child, depth + 1, key + ": ", child_origin, "," if i < last else "", out)
        out.append((pad + "}" + suffix, origin))
    elif isinstance(node, Seq) and node.items:
        out.append((pad + prefix + "[", origin))
        last = len(node.items) - 1
        for i, (child, child_origin) in enumerate(node.items):
            _layout(child, depth + 1, "", child_origin, "," if i < last else "", out)
        out.append((pad + "]" + suffix, origin))
    elif isinstance(node, Block):
        out.append((pad + prefix + "{}" + suffix, origin))
    elif isinstance(node, Seq):
        out.append((pad + prefix + "[]" + suffix, origin))
    else:
        out.append((pad + prefix + node.text + suffix, origin))


class Writer:
    """Turns recorded objects into layout nodes, naming the codelists they use."""

    def __init__(self, study_module):
        self.study_module = study_module
        self.codelists = {}  # id -> Codelist, in the order found
        self.referrers = {}  # id -> first variable (or codelist) name referring to it
        self.names = {}  # id -> name

    # --- codelists -----------------------------------------------------------------------

    def collect(self, value, referrer):
        """Finds every codelist `value` refers to (through calls, containers, combinations)."""
        if isinstance(value, Codelist):
            key = id(value)
            if key not in self.codelists:
                self.codelists[key] = value
                self.referrers[key] = referrer
                if value._by_reference():
                    for part in value._parts:
                        self.collect(part, referrer)
        elif isinstance(value, Call):
            for _, v in value.arguments:
                self.collect(v, referrer)
            for v in value.star:
                self.collect(v, referrer)
            for name, v in value.helpers:
                self.collect(v, name)
        elif isinstance(value, dict):
            for v in value.values():
                self.collect(v, referrer)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                self.collect(v, referrer)

    def assign_names(self):
        ordered = sorted(self.codelists.values(), key=lambda cl: cl._sequence)
        bindings = self._module_bindings()
        taken = set()
        for cl in ordered:
            name = None
            creator = getattr(cl._origin, "module", None) if cl._origin else None
            for module_name, names in bindings:
                if module_name == creator and id(cl) in names:
                    name = names[id(cl)]
                    break
            if name is None:
                for _, names in bindings:
                    if id(cl) in names:
                        name = names[id(cl)]
                        break
            if name is None:
                if cl._kind == "csv" and cl._by_reference():
                    stem = os.path.basename(cl._spec["csv"])
                    for ext in (".gz", ".csv"):
                        if stem.lower().endswith(ext):
                            stem = stem[: -len(ext)]
                    name = stem
                else:
                    name = "%s_codelist" % (self.referrers.get(id(cl)) or "inline")
            name = _identifier(name)
            unique, n = name, 1
            while unique in taken:
                n += 1
                unique = "%s_%d" % (name, n)
            taken.add(unique)
            self.names[id(cl)] = unique
        self.ordered_codelists = ordered

    def _module_bindings(self):
        """[(module name, {id(codelist): first global name})]: the study module first, then
        the other modules of the study (in import order). A name that is the target of a
        module-level `for` loop is left out: after the loop it holds whatever came last."""
        modules = []
        if self.study_module is not None:
            modules.append(self.study_module)
        for module in list(sys.modules.values()):
            if module is self.study_module or module is None:
                continue
            filename = getattr(module, "__file__", None)
            if not isinstance(filename, str) or in_shim(filename) or not in_study(filename):
                continue
            modules.append(module)
        bindings = []
        for module in modules:
            names = {}
            try:
                items = list(vars(module).items())
            except TypeError:
                continue
            loop_names = _loop_targets(getattr(module, "__file__", None))
            for key, value in items:
                if key.startswith("__") or key in loop_names:
                    continue
                if isinstance(value, Codelist) and id(value) not in names:
                    names[id(value)] = key
            bindings.append((getattr(module, "__name__", None), names))
        return bindings

    def codelist_node(self, cl):
        kind = cl._kind if cl._by_reference() else "codes"
        if kind == "csv":
            data = dict(cl._spec)
        elif kind == "codes":
            data = {"codes": cl._codes(), "system": cl.system}
        elif kind == "combine":
            data = {"combine_codelists": list(cl._parts)}
        else:
            data = {"filter_codes_by_category": cl._parts[0], "include": cl._spec["include"]}
        return Inline(self.inline(data, "codelist %s" % self.names[id(cl)], cl._origin))

    # --- values --------------------------------------------------------------------------

    def inline(self, value, where, origin, categories=False):
        """`value` as flow text. Codelists become their names; `categories` writes a string
        value DEFAULT as the plain scalar DEFAULT (a category mapping's default)."""
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Codelist):
            if id(value) not in self.names:
                raise BadCall("%s: a codelist cannot be used here" % where, origin)
            return quote(self.names[id(value)])
        if isinstance(value, str):
            return quote(str(value))
        if isinstance(value, numbers.Integral):
            return str(int(value))
        if isinstance(value, numbers.Real):
            f = float(value)
            if math.isnan(f):
                return ".nan"
            if math.isinf(f):
                return ".inf" if f > 0 else "-.inf"
            return repr(f)
        if isinstance(value, (datetime.date, datetime.datetime)):
            return quote(value.isoformat())
        if isinstance(value, os.PathLike):
            return quote(os.fspath(value).replace(os.sep, "/"))
        if isinstance(value, dict):
            parts = []
            for k, v in value.items():
                key = self.key(k, where, origin)
                if categories and isinstance(v, str) and v == "DEFAULT":
                    text = "DEFAULT"
                else:
                    text = self.inline(v, where, origin)
                parts.append("%s: %s" % (key, text))
            return "{" + ", ".join(parts) + "}"
        if isinstance(value, (set, frozenset)):
            items = list(value)
            try:
                items.sort()
            except TypeError:
                pass
            value = items
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.inline(v, where, origin) for v in value) + "]"
        if isinstance(value, Call):
            return "{%s: %s}" % (quote(value.function), self.inline_call_arguments(value))
        if type(value).__module__.split(".")[0] == "numpy" and hasattr(value, "item"):
            return self.inline(value.item(), where, origin)
        raise BadCall(
            "%s: cannot record a value of type %s (%r)" % (where, type(value).__name__, value),
            origin,
        )

    def inline_call_arguments(self, call):
        data = dict(call.arguments)
        return self.inline(data, "patients.%s" % call.function, call.origin)

    def key(self, k, where, origin):
        if isinstance(k, bool):
            return "true" if k else "false"
        if isinstance(k, (str, numbers.Number, datetime.date)) or k is None:
            return self.inline(k, where, origin)
        raise BadCall(
            "%s: cannot record a mapping key of type %s (%r)" % (where, type(k).__name__, k),
            origin,
        )

    # --- variables -----------------------------------------------------------------------

    def variable(self, name, value, fallback_origin):
        """(node, origin) of one variable definition."""
        if not isinstance(value, Call):
            where = "variable %s" % name
            return Inline(self.inline(value, where, fallback_origin)), fallback_origin
        call = value
        origin = call.origin
        where = "patients.%s (variable %s)" % (call.function, name)
        node = Block()
        node.add(quote(call.function), self.function_arguments(call, where), origin)
        if call.return_expectations is not MISSING:
            node.add(
                quote("return_expectations"),
                Inline(self.inline(call.return_expectations, where, origin)),
                origin,
            )
        return node, origin

    def helpers(self, call):
        block = Block()
        for name, value in call.helpers:
            node, origin = self.variable(name, value, call.origin)
            block.add(quote(name), node, origin)
        return block

    def function_arguments(self, call, where):
        origin = call.origin
        f = call.function
        if call.known and f == "categorised_as":
            node = Block()
            arguments = dict(call.arguments)
            categories = arguments.pop("category_definitions", MISSING)
            if isinstance(categories, dict):
                for k, v in categories.items():
                    text = "DEFAULT" if v == "DEFAULT" and isinstance(v, str) else None
                    if text is None:
                        text = self.inline(v, where, origin)
                    node.add(self.key(k, where, origin), Inline(text), origin)
            elif categories is not MISSING:
                # Not a mapping: write it as given, for the front end to report.
                return Inline(self.inline(categories, where, origin))
            for k, v in arguments.items():
                node.add(quote(k), Inline(self.inline(v, where, origin)), origin)
            if call.helpers:
                node.add(quote("variables"), self.helpers(call), origin)
            return node
        if call.known and f in ("minimum_of", "maximum_of"):
            columns = Inline(self.inline(list(call.star), where, origin))
            if not call.helpers and not call.arguments:
                return columns
            node = Block()
            node.add(quote("columns"), columns, origin)
            for k, v in call.arguments:
                node.add(quote(k), Inline(self.inline(v, where, origin)), origin)
            node.add(quote("variables"), self.helpers(call), origin)
            return node
        node = Block()
        for k, v in call.arguments:
            categories = call.known and f == "care_home_status_as_of" and k == "categorised_as"
            text = self.inline(v, where, origin, categories=categories)
            node.add(quote(k), Inline(text), origin)
        if call.star:
            # Positional arguments of a function cohortextractor does not have.
            node.add(quote("*args"), Inline(self.inline(list(call.star), where, origin)), origin)
        if call.helpers:
            node.add(quote("variables"), self.helpers(call), origin)
        return node

    # --- measures ------------------------------------------------------------------------

    def measure(self, m):
        order = ["id", "numerator", "denominator", "group_by", "small_number_suppression"]
        arguments = dict(m._arguments)
        data = {}
        for k in order:
            if k in arguments:
                data[k] = arguments.pop(k)
        data.update(arguments)
        return Inline(self.inline(data, "Measure %r" % (m.id,), m._origin))


def _loop_targets(filename):
    """Names bound by module-level `for` loops (and `with ... as`) in the file's source."""
    if not isinstance(filename, str) or not filename.endswith(".py"):
        return set()
    try:
        with open(filename, "rb") as f:
            tree = ast.parse(f.read(), filename)
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()

    def visit(statements):
        for stmt in statements:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            targets = []
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                targets.append(stmt.target)
            if isinstance(stmt, (ast.With, ast.AsyncWith)):
                targets.extend(i.optional_vars for i in stmt.items if i.optional_vars)
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        names.add(node.id)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(stmt, field, []) or [])

    visit(tree.body)
    return names


def _identifier(name):
    name = _NOT_NAME.sub("_", name)
    if not name or name[0].isdigit():
        name = "codelist_" + name
    return name


def build(study, measures, study_module):
    """(text, origins) of the definition: `study` a StudyDefinition or None (measures only),
    `measures` a list of Measure or None (no `measures` attribute)."""
    writer = Writer(study_module)
    if study is not None:
        writer.collect(study._settings.get("population", MISSING), "population")
        for name, value in study._variables:
            writer.collect(value, name)
    writer.assign_names()

    root = Block()
    root_origin = study._origin if study is not None else None
    if study is not None:
        settings = study._settings
        for key in ("index_date", "default_expectations"):
            if key in settings:
                text = writer.inline(settings[key], key, root_origin)
                root.add(quote(key), Inline(text), root_origin)
        if writer.ordered_codelists:
            block = Block()
            for cl in writer.ordered_codelists:
                block.add(quote(writer.names[id(cl)]), writer.codelist_node(cl), cl._origin)
            root.add(quote("codelists"), block, None)
        if "population" in settings:
            node, origin = writer.variable("population", settings["population"], root_origin)
            root.add(quote("population"), node, origin)
        if study._variables:
            block = Block()
            for name, value in study._variables:
                node, origin = writer.variable(name, value, root_origin)
                block.add(quote(name), node, origin)
            root.add(quote("variables"), block, root_origin)
    if measures is not None:
        seq = Seq()
        for m in measures:
            seq.items.append((writer.measure(m), m._origin))
        root.add(quote("measures"), seq, None)
    lines = []
    _layout(root, 0, "", root_origin, "", lines)
    text = "".join(line + "\n" for line, _ in lines)
    origins = [str(origin) if origin is not None else None for _, origin in lines]
    return text, origins
