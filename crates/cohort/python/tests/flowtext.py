"""A strict reader for the recorder's `text`: JSON plus the few YAML plain scalars it may use.

Returns the value and the line of every mapping key and list item (by path), so tests can
check the layout rule and the `origins` of given nodes. Plain scalars other than integer keys,
`DEFAULT`, `.nan`, `.inf` and `-.inf` are rejected, as are duplicate keys and trailing text.
"""

import json
import re

_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_PLAIN = re.compile(r"-?\.?[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\n\r]*")


class Plain:
    """A plain (unquoted) scalar; equal only to a Plain with the same text."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Plain) and other.text == self.text

    def __hash__(self):
        return hash(("plain", self.text))

    def __repr__(self):
        return "Plain(%r)" % self.text


DEFAULT = Plain("DEFAULT")


class FlowError(ValueError):
    pass


class _Reader:
    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.lines = {}  # path -> line of the key / item

    def line(self):
        return self.text.count("\n", 0, self.pos) + 1

    def skip(self):
        self.pos = _SPACE.match(self.text, self.pos).end()

    def fail(self, what):
        raise FlowError("line %d: %s" % (self.line(), what))

    def expect(self, char):
        self.skip()
        if not self.text.startswith(char, self.pos):
            self.fail("expected %r, found %r" % (char, self.text[self.pos:self.pos + 20]))
        self.pos += 1

    def scalar(self, key):
        self.skip()
        t, p = self.text, self.pos
        if t.startswith('"', p):
            value, self.pos = json.decoder.scanstring(t, p + 1)
            return value
        m = _NUMBER.match(t, p)
        if m and m.end() > p and not _PLAIN.match(t, m.end()):
            self.pos = m.end()
            if m.group(2) or m.group(3):
                if key:
                    self.fail("a float key")
                return float(m.group())
            return int(m.group())
        m = _PLAIN.match(t, p)
        if m:
            word = m.group()
            self.pos = m.end()
            if word in ("true", "false"):
                return word == "true"
            if word == "null":
                return None
            if key:
                self.fail("a plain key %r" % word)
            if word in (".nan", ".inf", "-.inf"):
                return float(word.replace(".", ""))
            if word == "DEFAULT":
                return DEFAULT
            self.fail("unexpected plain scalar %r" % word)
        self.fail("expected a value, found %r" % t[p:p + 20])

    def value(self, path):
        self.skip()
        if self.text.startswith("{", self.pos):
            self.pos += 1
            out = {}
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return out
            while True:
                self.skip()
                line = self.line()
                key = self.scalar(key=True)
                if not isinstance(key, (str, int)):
                    self.fail("key %r" % (key,))
                if key in out:
                    self.fail("duplicate key %r" % (key,))
                self.expect(":")
                self.lines[path + (key,)] = line
                out[key] = self.value(path + (key,))
                self.skip()
                if self.text.startswith(",", self.pos):
                    self.pos += 1
                    continue
                self.expect("}")
                return out
        if self.text.startswith("[", self.pos):
            self.pos += 1
            out = []
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return out
            while True:
                self.skip()
                self.lines[path + (len(out),)] = self.line()
                out.append(self.value(path + (len(out),)))
                self.skip()
                if self.text.startswith(",", self.pos):
                    self.pos += 1
                    continue
                self.expect("]")
                return out
        return self.scalar(key=False)


def parse(text):
    """(value, lines): `lines[path]` is the 1-based line where the key or item at `path`
    (a tuple of keys and list indexes) starts."""
    reader = _Reader(text)
    value = reader.value(())
    reader.skip()
    if reader.pos != len(text):
        reader.fail("trailing text")
    return value, reader.lines
