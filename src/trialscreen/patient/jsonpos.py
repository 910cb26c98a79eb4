"""Strict JSON reading, and finding the line and column of a value by its path.

``json.loads`` is fast but forgets positions; we only need a position when
something is wrong, so :func:`locate` re-scans the text on demand.
"""

from __future__ import annotations

import json
import re

from trialscreen.errors import Location, PatientError

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SCALAR = re.compile(r"-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|NaN|-?Infinity")


def _pairs(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


class _Duplicate(ValueError):
    def __init__(self, key):
        super().__init__(key)
        self.key = key


def _no_constant(name):
    raise _BadNumber(name)


class _BadNumber(ValueError):
    pass


def loads_strict(text: str, file: str):
    """Parse JSON refusing duplicate keys, NaN and Infinity, with located errors."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise PatientError("the file is empty", Location(file), hint="a patient record is a JSON object")
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant,
                          parse_float=_finite_float, parse_int=bounded_int)
    except _Duplicate as exc:
        line, col = _find_key(text, exc.key)
        raise PatientError(f"duplicate key '{exc.key}'", Location(file, line, col),
                           hint="each key may appear once in an object") from None
    except _BadNumber as exc:
        line, col = _find_token(text, str(exc))
        raise PatientError(f"'{exc}' is not a number a patient record may hold", Location(file, line, col),
                           hint="give a finite number or leave the value out") from None
    except json.JSONDecodeError as exc:
        what = exc.msg.removesuffix(" starting at").removesuffix(" at")
        raise PatientError(f"invalid JSON: {what}", Location(file, exc.lineno, exc.colno),
                           hint="check commas, quotes and brackets") from None
    except RecursionError:
        raise PatientError("the JSON nests too deeply", Location(file),
                           hint="a patient record nests only a few levels; check that this is the right file") from None


def bounded_int(text: str) -> int:
    """An integer Python can convert (it refuses more than 4300 digits); the readers then
    refuse those too large for their field, naming it."""
    if len(text.lstrip("-")) > 4000:
        raise _BadNumber(text[:24])  # the start is enough to find it
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadNumber(text)
    return value


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def _find_key(text: str, key: str) -> tuple[int, int]:
    needle = json.dumps(key)
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    return _line_col(text, second if second >= 0 else max(first, 0))


def _find_token(text: str, token: str) -> tuple[int, int]:
    index = text.find(token)
    return _line_col(text, max(index, 0))


def locate(text: str, path: tuple) -> tuple[int, int] | tuple[None, None]:
    """Line and column of the value at ``path`` (keys and indexes), best effort."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return _Locator(text).find(path)
    except Exception:  # a locator must never turn one error into another
        return None, None


class _Locator:
    def __init__(self, text: str):
        self.text = text
        self.i = 0

    def ws(self):
        self.i = _WS.match(self.text, self.i).end()

    def find(self, path):
        self.ws()
        return self.value(tuple(path))

    def value(self, path):
        """Scan one value; return the position of the target if it is inside it."""
        self.ws()
        start = self.i
        if not path:
            return _line_col(self.text, start)
        ch = self.text[self.i]
        if ch == "{":
            self.i += 1
            while True:
                self.ws()
                if self.text[self.i] == "}":
                    self.i += 1
                    return None, None
                m = _STRING.match(self.text, self.i)
                key = json.loads(m.group(0))
                self.i = m.end()
                self.ws()
                self.i += 1  # ':'
                self.ws()
                if key == path[0]:
                    return self.value(path[1:])
                self.skip()
                self.ws()
                if self.text[self.i] == ",":
                    self.i += 1
        if ch == "[":
            self.i += 1
            index = 0
            while True:
                self.ws()
                if self.text[self.i] == "]":
                    self.i += 1
                    return None, None
                if index == path[0]:
                    return self.value(path[1:])
                self.skip()
                self.ws()
                if self.text[self.i] == ",":
                    self.i += 1
                index += 1
        return None, None

    def skip(self):
        self.ws()
        ch = self.text[self.i]
        if ch == '"':
            self.i = _STRING.match(self.text, self.i).end()
        elif ch in "{[":
            close = "}" if ch == "{" else "]"
            self.i += 1
            while True:
                self.ws()
                if self.text[self.i] == close:
                    self.i += 1
                    return
                if ch == "{":
                    self.i = _STRING.match(self.text, self.i).end()
                    self.ws()
                    self.i += 1
                self.skip()
                self.ws()
                if self.text[self.i] == ",":
                    self.i += 1
        else:
            self.i = _SCALAR.match(self.text, self.i).end()
