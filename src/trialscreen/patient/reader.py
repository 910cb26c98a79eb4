"""The reader of a decoded patient record: located errors and warnings.

Every error names the file, the line and column (found in the JSON text), and the
field; a warning is the same, kept in the record instead of raised.
"""

from __future__ import annotations

import math
import re
from datetime import date

from trialscreen import vocab
from trialscreen.errors import Location, PatientError, Problem, UnitError
from trialscreen.patient.jsonpos import locate
from trialscreen.patient.model import Day
from trialscreen.units import convert
from trialscreen.units.normalize import normalize, split_value

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The end of every warning about a value that is kept but cannot be used (batch counts them).
UNUSABLE = "the criteria that need it are unknown"


class Reader:
    def __init__(self, source: str | None, text: str | None):
        self.source = source
        self.text = text
        self.warnings: list[Problem] = []
        self.unrecognised: dict = {}

    def where(self, path: tuple) -> Location:
        line = col = None
        if self.text is not None:
            line, col = locate(self.text, path)
        return Location(self.source, line, col, field=dotted(path))

    def fail(self, path: tuple, message: str, hint: str = "", value=None) -> PatientError:
        return PatientError(message, self.where(path), hint, value)

    def unusable(self, where: Location, message: str, hint: str = ""):
        """A value kept but not used: its criteria are unknown, and the record says why."""
        self.warnings.append(Problem(where, f"{message}; {UNUSABLE}", hint, severity="warning"))

    def warn(self, path: tuple, message: str, hint: str = ""):
        self.warnings.append(Problem(self.where(path), message, hint, severity="warning"))

    # --- scalar readers -------------------------------------------------
    def string(self, value, path) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty text")
        return value.strip()

    def number(self, value, path, lo=None, hi=None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path, f"must be a number, not {type_word(value)}")
        original = value
        try:
            value = float(value)
        except OverflowError:  # an integer too large for any measurement
            value = math.inf if lo is not None else math.nan
        if isinstance(original, float) and not math.isfinite(value):
            raise self.fail(path, "must be a finite number")
        if (lo is not None and not lo <= value) or (hi is not None and not value <= hi):
            raise self.fail(path, f"is outside the possible range {lo:g} to {hi:g}", value=original,
                            hint="correct the value or leave it out")
        return float(value)

    def date(self, value, path) -> date:
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(path, "is not a date", hint="write dates as YYYY-MM-DD", value=value)

    def opt_date(self, obj: dict, key: str, path) -> Day | None:
        value = obj.get(key)
        return None if value is None else self.date(value, path + (key,))

    def boolean(self, value, path) -> bool | None:
        if value is None or isinstance(value, (bool, str)):
            try:
                return vocab.yes_no(value)
            except ValueError:
                pass
        raise self.fail(path, "is not true or false", value=value)

    def mapping(self, value, path) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, not {type_word(value)}")
        return value

    def array(self, value, path) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, not {type_word(value)}")
        return value

    def quantity(self, value, path, klass, target, lo, hi, what) -> float:
        """A body measure such as weight '68 kg', returned in ``target`` units."""
        if isinstance(value, dict):
            number = self.number(value.get("value"), path + ("value",))
            unit_text = value.get("unit")
            if not isinstance(unit_text, str):
                raise self.fail(path + ("unit",), "needs a unit", hint=f"for example {what}")
        elif isinstance(value, str):
            try:
                censor, number, unit_text = split_value(value)
            except ValueError:
                raise self.fail(path, "is not a number with a unit", hint=f"for example {what}",
                                value=value) from None
            if censor:
                raise self.fail(path, "a body measure cannot be a bound")
        else:
            raise self.fail(path, "needs a unit", hint=f"write it like {what}", value=value)
        if not unit_text:
            raise self.fail(path, "needs a unit", hint=f"write it like {what}")
        try:
            unit = normalize(unit_text, klass)
            result = number * convert.factor(unit, normalize(target, klass))
        except UnitError as exc:
            raise self.fail(path, exc.message, exc.hint) from None
        if not lo <= result <= hi:
            raise self.fail(path, f"is outside the possible range (in {unit_text})",
                            hint="correct the value or its unit", value=number)
        return result


def type_word(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), "a number" if isinstance(value, (int, float)) else "?")


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def known_names(r: Reader, data: dict, section: str, vocabulary, present=None):
    """(name, canonical, raw, path) for each entry whose name the vocabulary knows.

    An unknown name is a warning. Where ``present`` says the record reports it as
    present or detected (or cannot tell), it is kept in ``r.unrecognised[section]``:
    the rules reading that section cannot rule it out, and become unknown unless
    known data already decide them. An unknown name reported absent changes nothing."""
    for name, raw in data.items():
        path = (section, name)
        canonical = vocabulary.canonical(name)
        refusal = vocabulary.ambiguity(name) if canonical is None else None
        if refusal:  # 'K': potassium or kappa? Never guessed, never dropped: the record is refused
            raise r.fail(path, refusal, hint="rename the entry to the full name of what was measured, "
                         "or to its LOINC code")
        if canonical is None:
            state = present(raw) if present is not None else False
            if state is False:
                absent = " (reported absent)" if present is not None else ""
                r.warn(path, f"unknown {vocabulary.kind} '{name}'{absent} is ignored", vocabulary.suggest(name))
            else:
                word = {"cytogenetics": "detected", "conditions": "present"}.get(section, "recorded")
                r.unrecognised.setdefault(section, []).append(str(name))
                r.warn(path, f"unrecognised {vocabulary.kind} '{name}' {word}: criteria about "
                       f"{section} cannot rule it out, so a person must judge them", vocabulary.suggest(name))
            continue
        yield name, canonical, raw, path
