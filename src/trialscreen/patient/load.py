"""Read a patient record (JSON, see patient.schema.json) into a :class:`Patient`.

Errors name the file, the line and column, and the field, and say what to do.
Names the vocabulary does not know (a lab, a finding, a condition) are not
errors but warnings: the value is left out, which can only make a criterion
unknown, never pass it.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from trialscreen import textio, vocab
from trialscreen.engine.logic import cmp
from trialscreen.errors import FileReadError, Location, PatientError, Problem, UnitError
from trialscreen.patient.jsonpos import loads_strict, locate
from trialscreen.patient.model import ConditionState, Event, FindingResult, LabValue, Patient
from trialscreen.units import convert
from trialscreen.units.normalize import normalize, split_value
from trialscreen.vocab.detection import below_detection

MAX_BYTES = 5_000_000

SECTIONS = ("diagnoses", "treatments", "neoplasms", "allergies")
FLAGS = ("childbearing_potential", "pregnant", "lactating", "transplant_candidate")
TOP_KEYS = {
    "$schema", "id", "sex", "age", "birth_date", "ecog", "as_of", "lab_date", "weight", "height", "labs",
    "cytogenetics", "conditions", "diagnoses", "treatments", "neoplasms", "allergies",
    "attestations", "complete", "notes", *FLAGS,
}
_SEX = {"f": "female", "female": "female", "woman": "female", "w": "female",
        "m": "male", "male": "male", "man": "male"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Plausibility limits: a value outside them is a data error, not a patient.
LIMITS = {"age": (0, 130), "weight_kg": (0.5, 500), "height_cm": (30, 260)}


def read_text(path: str) -> tuple[str, str]:
    """Read a patient file (or '-' for stdin) as text; return (text, name for messages)."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        name = "<stdin>"
    else:
        p = Path(path)
        try:
            if p.is_dir():
                raise FileReadError(f"'{path}' is a folder, not a patient file", Location(path))
            if p.stat().st_size > MAX_BYTES:
                raise PatientError(f"the file is larger than {MAX_BYTES // 1_000_000} MB",
                                   Location(path), hint="a patient record is a small JSON file")
            data = p.read_bytes()
        except FileNotFoundError:
            raise FileReadError(f"no such file: {path}", Location(path),
                                hint="check the path") from None
        except PermissionError:
            raise FileReadError(f"cannot read {path}: permission denied", Location(path)) from None
        name = path
    if len(data) > MAX_BYTES:
        raise PatientError(f"the input is larger than {MAX_BYTES // 1_000_000} MB", Location(name))
    return decode(data, name), name


def decode(data: bytes, name: str) -> str:
    return textio.decode(data, name, PatientError)


def load_patient(path: str) -> Patient:
    text, name = read_text(path)
    return parse_patient(text, name)


def parse_patient(text: str, name: str = "<patient>") -> Patient:
    data = loads_strict(text, name)
    return patient_from_dict(data, name, text)


class _Reader:
    def __init__(self, source: str | None, text: str | None):
        self.source = source
        self.text = text
        self.warnings: list[Problem] = []
        self.unrecognised: dict = {}

    def where(self, path: tuple) -> Location:
        line = col = None
        if self.text is not None:
            line, col = locate(self.text, path)
        return Location(self.source, line, col, field=_dotted(path))

    def fail(self, path: tuple, message: str, hint: str = "", value=None) -> PatientError:
        return PatientError(message, self.where(path), hint, value)

    def warn(self, path: tuple, message: str, hint: str = ""):
        self.warnings.append(Problem(self.where(path), message, hint, severity="warning"))

    # --- scalar readers -------------------------------------------------
    def string(self, value, path) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty text")
        return value.strip()

    def number(self, value, path, lo=None, hi=None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path, f"must be a number, not {_kind(value)}")
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

    def opt_date(self, obj: dict, key: str, path) -> date | None:
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
            raise self.fail(path, f"must be an object, not {_kind(value)}")
        return value

    def array(self, value, path) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, not {_kind(value)}")
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


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), "a number" if isinstance(value, (int, float)) else "?")


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def patient_from_dict(data, source: str | None = None, text: str | None = None) -> Patient:
    """Validate and normalise a decoded patient record."""
    r = _Reader(source, text)
    if not isinstance(data, dict):
        raise PatientError(f"a patient record must be a JSON object, not {_kind(data)}", Location(source))
    for key in data:
        if key not in TOP_KEYS:
            close = [k for k in TOP_KEYS if vocab.name_key(k) == vocab.name_key(key)]
            r.warn((key,), f"unknown field '{key}' is ignored",
                   f"did you mean '{close[0]}'?" if close else "see patient.schema.json")
    if "id" not in data:
        raise PatientError("the record has no 'id'", Location(source, 1, 1, field="id"),
                           hint='add "id": "..." to the record')
    pid = data["id"]
    if isinstance(pid, int) and not isinstance(pid, bool):
        pid = str(pid)
    p = Patient(id=r.string(pid, ("id",)), source=source)
    if data.get("sex") is not None:
        sex = data["sex"]
        key = sex.strip().lower() if isinstance(sex, str) else None
        if key not in _SEX and key not in ("other", "unknown", "x"):
            raise r.fail(("sex",), "is not a sex trialscreen knows", hint="use female or male", value=sex)
        p.sex = _SEX.get(key)
    if data.get("age") is not None:
        p.age = r.number(data["age"], ("age",), *LIMITS["age"])
    if data.get("birth_date") is not None:
        p.birth_date = r.date(data["birth_date"], ("birth_date",))
    if data.get("ecog") is not None:
        ecog = data["ecog"]
        # the range first: NaN, infinity and 400-digit integers all fail it without overflow
        if isinstance(ecog, bool) or not isinstance(ecog, (int, float)) or not 0 <= ecog <= 5 or ecog != int(ecog):
            raise r.fail(("ecog",), "is not an ECOG grade 0 to 5", value=ecog)
        p.ecog = int(ecog)
    if data.get("as_of") is not None:
        p.as_of = r.date(data["as_of"], ("as_of",))
    if p.birth_date and p.as_of and p.birth_date > p.as_of:
        raise r.fail(("birth_date",), "the birth date is after the as-of date")
    if p.birth_date and p.age is not None and p.as_of:
        computed, _ = p.age_at(p.as_of)
        if abs(computed - p.age) > 1:
            raise r.fail(("age",), "does not agree with the birth date at the as-of date",
                         hint="give one of age and birth_date, or correct one", value=p.age)
    if data.get("weight") is not None:
        p.weight_kg = r.quantity(data["weight"], ("weight",), "body", "kg", *LIMITS["weight_kg"], "'68 kg'")
    if data.get("height") is not None:
        p.height_cm = r.quantity(data["height"], ("height",), "body", "cm", *LIMITS["height_cm"], "'170 cm'")
    for flag in FLAGS:
        if flag in data:
            p.flags[flag] = r.boolean(data[flag], (flag,))
    if data.get("labs") is not None:
        p.labs = _labs(r, r.mapping(data["labs"], ("labs",)))
    if data.get("lab_date") is not None:  # the date of the labs that give none of their own
        panel = r.date(data["lab_date"], ("lab_date",))
        p.labs = {k: (replace(v, date=panel) if v.date is None else v) for k, v in p.labs.items()}
    if data.get("cytogenetics") is not None:
        p.cytogenetics = _cytogenetics(r, r.mapping(data["cytogenetics"], ("cytogenetics",)))
    if data.get("conditions") is not None:
        p.conditions = _conditions(r, r.mapping(data["conditions"], ("conditions",)))
    if data.get("diagnoses") is not None:
        p.diagnoses = _events(r, data["diagnoses"], "diagnoses", "name")
    if data.get("treatments") is not None:
        p.treatments = _events(r, data["treatments"], "treatments", "type")
    if data.get("neoplasms") is not None:
        p.neoplasms = _events(r, data["neoplasms"], "neoplasms", "type")
    if data.get("allergies") is not None:
        for i, a in enumerate(r.array(data["allergies"], ("allergies",))):
            text = r.string(a, ("allergies", i))
            p.allergies.append(vocab.substance(text) or "?" + text)  # '?': a substance not recognised
    if data.get("attestations") is not None:
        atts = r.mapping(data["attestations"], ("attestations",))
        for key, raw in atts.items():
            name, value = vocab.name_key(key), r.boolean(raw, ("attestations", key))
            if name in p.attestations and p.attestations[name] != value:
                raise r.fail(("attestations", key), f"contradicts another spelling of the attestation '{name}'",
                             hint="keep the one that applies")
            p.attestations[name] = value
    if data.get("complete") is not None:
        complete = set()
        for i, name in enumerate(r.array(data["complete"], ("complete",))):
            if name not in SECTIONS:
                raise r.fail(("complete", i), f"'{name}' is not a list section",
                             hint="complete may name " + ", ".join(SECTIONS))
            complete.add(name)
        p.complete = frozenset(complete)
    p.warnings = r.warnings
    p.unrecognised = {k: tuple(v) for k, v in r.unrecognised.items()}
    return p


def _known(r: _Reader, data: dict, section: str, vocabulary, present=None):
    """(name, canonical, raw, path) for each entry whose name the vocabulary knows.

    An unknown name is a warning. Where ``present`` says the record reports it as
    present or detected (or cannot tell), it is kept in ``r.unrecognised[section]``:
    the rules reading that section cannot rule it out, and become unknown unless
    known data already decide them. An unknown name reported absent changes nothing."""
    for name, raw in data.items():
        path = (section, name)
        canonical = vocabulary.canonical(name)
        if canonical is None:
            state = present(raw) if present is not None else False
            if state is False:
                r.warn(path, f"unknown {vocabulary.kind} '{name}' (reported absent) is ignored",
                       vocabulary.suggest(name))
            else:
                word = {"cytogenetics": "detected", "conditions": "present"}.get(section, "recorded")
                r.unrecognised.setdefault(section, []).append(str(name))
                r.warn(path, f"unrecognised {vocabulary.kind} '{name}' {word}: criteria about "
                       f"{section} cannot rule it out, so a person must judge them", vocabulary.suggest(name))
            continue
        yield name, canonical, raw, path


def _finding_present(raw) -> bool | None:
    """Whether an entry of 'cytogenetics' reports its finding detected (None: cannot tell)."""
    value = raw.get("result") if isinstance(raw, dict) else raw
    try:
        return vocab.qualitative(value)
    except (ValueError, TypeError):
        return None


def _condition_present(raw) -> bool | None:
    """Whether an entry of 'conditions' reports its condition present (None: cannot tell)."""
    if isinstance(raw, dict):
        if raw.get("present") is None and isinstance(raw.get("grade"), int):
            return raw["grade"] > 0
        raw = raw.get("present")
    try:
        return vocab.yes_no(raw) if not isinstance(raw, (int, float)) or isinstance(raw, bool) else None
    except (ValueError, TypeError):
        return None


def _labs(r: _Reader, labs: dict) -> dict:
    out = {}
    for name, canonical, raw, path in _known(r, labs, "labs", vocab.analytes()):
        analyte = vocab.analytes().entries[canonical]
        if analyte.name in out:
            raise r.fail(path, f"'{name}' repeats {analyte.name}, given already as "
                         f"'{out[analyte.name].field.split('.', 1)[1]}'",
                         hint="give each lab once (the value the screening should use)")
        out[analyte.name] = read_lab(r, analyte, raw, path)
    return out


def read_lab(r: _Reader, analyte, raw, path: tuple, decimal_comma: bool = False) -> LabValue:
    """One lab value: 'value unit' text, or an object with value, unit, uln, lln, date.

    Only a broken structure (an unknown key, a list where a value belongs) refuses the
    record. A value that cannot be read (a word, an unknown unit, a negative number, a
    limit in no unit) is kept with its problem: the criteria that need it are unknown,
    the reason is in their explanation, and the record carries a warning."""
    field = _dotted(path)
    obj = raw if isinstance(raw, dict) else {"value": raw}
    for key in obj:
        if key not in ("value", "unit", "uln", "lln", "date", "result"):
            raise r.fail(path + (key,), f"unknown key '{key}' in a lab value",
                         hint="a lab object has value, unit, uln, lln and date")
    value = obj.get("result", obj.get("value"))
    if isinstance(value, (dict, list)):
        raise r.fail(path, "is not a lab value", hint="write it like '1.4 mg/dL'")
    try:
        when = r.opt_date(obj, "date", path)
    except PatientError as exc:
        return _unreadable_lab(r, analyte, path, exc, None)
    try:
        return _read_lab_value(r, analyte, obj, value, path, field, when, decimal_comma,
                               isinstance(raw, dict))
    except PatientError as exc:
        return _unreadable_lab(r, analyte, path, exc, when)


def _unreadable_lab(r: _Reader, analyte, path: tuple, exc: PatientError, when) -> LabValue:
    where = exc.location if exc.location.field else r.where(path)
    r.warnings.append(Problem(where, f"{exc.message}; the criteria that need it are unknown",
                              exc.hint, severity="warning"))
    return LabValue(analyte.name, None, None, "", date=when, field=_dotted(path),
                    problem=f"the recorded value cannot be used: {exc.message}")


def _read_lab_value(r: _Reader, analyte, obj, value, path, field, when, decimal_comma, nested) -> LabValue:
    if analyte.qualitative:
        try:
            result = vocab.qualitative(value)
        except ValueError:
            raise r.fail(path, f"is not a result for {analyte.name}", value=value,
                         hint="use " + vocab.QUALITATIVE_WORDS) from None
        return LabValue(analyte.name, None, None, str(value), date=when, result=result, field=field)
    censor = None
    if isinstance(value, str):
        below = below_detection(value)
        if below is not None:
            return _below_detection(r, analyte, obj, value, below, path, field, when, decimal_comma)
        try:
            censor, number, unit_text = split_value(value, decimal_comma)
        except ValueError:
            censor, number, unit_text = None, None, None
        if "unit" in obj:  # the unit is given apart (a 'unit' key, a unit in a column header)
            if number is None or unit_text:
                raise r.fail(path, "is not a number", value=value,
                             hint="the unit is given separately, so the value is a number alone")
            unit_text = obj["unit"]
        elif number is None:
            raise r.fail(path, "is not a number with a unit", hint="write it like '1.4 mg/dL'", value=value)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise r.fail(path, "is not a lab value", hint="write it like '1.4 mg/dL'", value=value)
    else:
        number = r.number(value, path + ("value",) if nested else path)
        unit_text = obj.get("unit", "")
    if unit_text is None or not isinstance(unit_text, str):
        raise r.fail(path, "the unit must be text")
    if not math.isfinite(number):
        raise r.fail(path, "must be a finite number")
    if number < 0:
        raise r.fail(path, "is negative; a lab value cannot be", hint="correct the value", value=number)
    unit = _lab_unit(r, analyte, unit_text, path)
    uln = _limit(r, analyte, obj.get("uln"), unit, path + ("uln",), decimal_comma)
    lln = _limit(r, analyte, obj.get("lln"), unit, path + ("lln",), decimal_comma)
    shown = f"{censor or ''}{number:.12g} {unit_text}".strip()  # as written, not rounded
    lab = LabValue(analyte.name, number, unit, shown, censor, uln, lln, when, field=field)
    _plausible(r, analyte, lab, path)
    return lab


def _below_detection(r: _Reader, analyte, obj, text, bound, path, field, when, decimal_comma) -> LabValue:
    """'not detected', '<LoD', 'target not detected (<20 IU/mL)': below the assay's
    detection limit. With a limit written beside the words, that limit is the bound;
    otherwise the vocabulary's highest usual detection limit for the analyte is; an
    analyte without one cannot be compared, and the value is unknown."""
    censor = "<"
    if bound:
        try:
            censor, number, unit_text = split_value(bound, decimal_comma)
        except ValueError:
            raise r.fail(path, f"cannot read the detection limit in '{text}'", value=text) from None
        unit_text = unit_text or obj.get("unit") or ""
    else:
        limit = analyte.detection_limit
        if limit is None:
            raise r.fail(path, f"'{text}' gives no number for {analyte.name}, and its usual detection "
                         "limit is not known", hint="give the value, or the limit as '<20 IU/mL'")
        number, unit_text = limit
    unit = _lab_unit(r, analyte, unit_text, path) if isinstance(unit_text, str) else None
    if unit is None:
        raise r.fail(path, "the unit must be text")
    shown = f"{text.strip()} (below the detection limit: {censor} {number:g} {unit_text})"
    return LabValue(analyte.name, number, unit, shown, censor, None, None, when, field=field,
                    below_detection=True)


def _within(x: float, lo: float, hi: float) -> bool:
    """lo <= x <= hi, a value converted onto a bound counting as on it (logic.cmp)."""
    return cmp(x, lo) >= 0 and cmp(x, hi) <= 0


def _plausible(r: _Reader, analyte, lab: LabValue, path: tuple) -> None:
    """A value or reference limit outside what a human sample can have means a wrong
    unit or number (creatinine 2.1 umol/L meant as mg/dL; an ALT ULN of 40 ukat/L):
    refuse to use it, so the criteria that need it are unknown. An LLN of 0 is how
    laboratories write 'no lower limit' and is not checked."""
    for rng in analyte.plausible:
        if not convert.convertible(lab.unit, rng.unit, analyte):
            continue
        f = convert.factor(lab.unit, rng.unit, analyte)
        lo, hi = rng.value
        if lab.censor is None and not _within(lab.value * f, lo, hi):
            raise r.fail(path, f"the value is outside what a sample can have ({lo:g} to {hi:g} "
                         f"{rng.unit}); check the unit", value=lab.value,
                         hint="correct the value or its unit")
        for name, limit in (("ULN", lab.uln), ("LLN", lab.lln)):
            if limit is None or (name == "LLN" and limit == 0):
                continue
            if rng.limit is None:
                raise r.fail(path + (name.lower(),), f"{analyte.name} has no reference interval, so "
                             f"a {name} is not expected; check the unit and the field")
            lo, hi = rng.limit
            if not _within(limit * f, lo, hi):
                raise r.fail(path + (name.lower(),), f"the {name} is outside the reference limits "
                             f"laboratories use ({lo:g} to {hi:g} {rng.unit}); check the unit",
                             value=limit, hint="give the limit with the unit it is written in, "
                             f"for example '{limit:g} {analyte.units[0]}'")
        return


_UNITS_OK: dict = {}


def _lab_unit(r: _Reader, analyte, unit_text: str, path: tuple):
    known = _UNITS_OK.get((analyte.name, unit_text))
    if known is not None:
        return known
    try:
        unit = normalize(unit_text, analyte.klass)
    except UnitError as exc:
        raise r.fail(path, exc.message, exc.hint) from None
    family, refusal = convert.family_of(unit, analyte)
    if family is not None:
        if len(_UNITS_OK) < 10_000:
            _UNITS_OK[(analyte.name, unit_text)] = unit
        return unit
    if unit.display == "1":
        raise r.fail(path, f"{analyte.name} needs a unit",
                     hint="give it like " + " or ".join(f"'1.0 {u}'" for u in analyte.units))
    raise r.fail(path, f"{unit_text} is not a unit for {analyte.name}",
                 hint=refusal.message if refusal else "check the unit")


def _limit(r: _Reader, analyte, raw, unit, path, decimal_comma=False) -> float | None:
    """A reference limit, returned in the value's own unit."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _bare_limit(r, analyte, r.number(raw, path, 0, float("inf")), unit, path)
    if isinstance(raw, str):
        try:
            censor, number, unit_text = split_value(raw, decimal_comma)
        except ValueError:
            raise r.fail(path, "is not a number with a unit", value=raw) from None
        if censor:
            raise r.fail(path, "a reference limit cannot be a bound")
        if not unit_text:
            return _bare_limit(r, analyte, number, unit, path)
        try:
            return number * convert.factor(normalize(unit_text, analyte.klass), unit, analyte)
        except UnitError as exc:
            raise r.fail(path, exc.message, exc.hint) from None
    raise r.fail(path, "a reference limit is a number or 'value unit' text")


def _bare_limit(r: _Reader, analyte, number: float, unit, path) -> float:
    """A limit with no unit is taken in the value's unit only where laboratories
    usually report this analyte's range in that unit (ALT in U/L, not ukat/L)."""
    usual = analyte.reference_units
    if not any(convert.convertible(unit, u, analyte) and abs(convert.factor(unit, u, analyte) - 1) < 1e-9
               for u in usual):
        example = f"'{number:g} {usual[0] if usual else unit}' if that is what it means"
        raise r.fail(path, f"a reference limit without a unit is not accepted for {analyte.name} "
                     f"in {unit} (laboratories seldom report its range in that unit)",
                     hint=f"give the limit with its unit, as {example}")
    return number


def _cytogenetics(r: _Reader, data: dict) -> dict:
    out = {}
    for name, canonical, raw, path in _known(r, data, "cytogenetics", vocab.findings(), _finding_present):
        percent = None
        value = raw
        when = None
        if isinstance(raw, dict):
            for key in raw:
                if key not in ("result", "percent", "date", "method"):
                    raise r.fail(path + (key,), f"unknown key '{key}' in a cytogenetic result",
                                 hint="use result and percent")
            value = raw.get("result")
            if raw.get("percent") is not None:
                percent = r.number(raw["percent"], path + ("percent",), 0, 100)
            when = r.opt_date(raw, "date", path)
        if isinstance(value, (dict, list)):
            raise r.fail(path, f"is not a result for {canonical}", hint="use " + vocab.QUALITATIVE_WORDS)
        problem = ""
        try:
            detected = vocab.qualitative(value)
        except ValueError:
            detected, problem = None, f"the result for {canonical} cannot be read"
            r.warn(path, f"{problem}; the criteria that need it are unknown",
                   "use " + vocab.QUALITATIVE_WORDS)
        previous = out.get(canonical)
        if previous is not None and (previous.detected, previous.percent) != (detected, percent):
            raise r.fail(path, f"'{name}' and '{previous.raw_name}' both report {canonical} "
                         "with different results", hint="keep the one that applies")
        out[canonical] = FindingResult(canonical, detected, percent, name, when, problem)
    return _implied(r, out)


def _implied(r: _Reader, out: dict) -> dict:
    """Apply the vocabulary's ``implies`` links: a detected finding implies its
    parent (amp(1q) -> 1q+); a parent not detected rules out its children."""
    parents = vocab.findings().parents
    given = dict(out)
    for child, res in given.items():
        for parent in parents.get(child, []):
            have = given.get(parent)
            if res.detected is True and have is not None and have.detected is False:
                raise r.fail(("cytogenetics", res.raw_name),
                             f"{child} is detected but {parent} is reported not detected",
                             hint="these results contradict each other; check the report")
            if res.detected is True and parent not in out:
                out[parent] = FindingResult(parent, True, None, f"implied by {res.raw_name}")
    for parent, res in given.items():
        if res.detected is not False:
            continue
        for child, ps in parents.items():
            if parent in ps and child not in out:
                out[child] = FindingResult(child, False, None, f"implied by {res.raw_name} not detected")
    return out


def _conditions(r: _Reader, data: dict) -> dict:
    out = {}
    for name, canonical, raw, path in _known(r, data, "conditions", vocab.conditions(), _condition_present):
        if not isinstance(raw, (bool, str, dict)) and raw is not None:
            raise r.fail(path, "a condition is true / false or an object with present, grade, date")
        if isinstance(raw, dict):
            for key in raw:
                if key not in ("present", "grade", "date", "end", "active", "note"):
                    raise r.fail(path + (key,), f"unknown key '{key}' in a condition",
                                 hint="a condition has present, grade, date, end and active")
        try:
            state = _condition(r, canonical, name, raw, path)
        except PatientError as exc:
            r.warnings.append(Problem(exc.location, f"{exc.message}; the criteria that need it are unknown",
                                      exc.hint, severity="warning"))
            state = ConditionState(canonical, None, raw_name=name,
                                   problem=f"the recorded state cannot be read: {exc.message}")
        # Several spellings of one condition (sensory and motor neuropathy, DVT and
        # pulmonary embolism) are all kept: a rule holds if it holds for any of them.
        out[canonical] = out.get(canonical, ()) + (state,)
    return out


def _condition(r: _Reader, canonical: str, name: str, raw, path: tuple) -> ConditionState:
    if not isinstance(raw, dict):
        return ConditionState(canonical, r.boolean(raw, path), raw_name=name)
    grade = raw.get("grade")
    if grade is not None:
        if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= 5:
            raise r.fail(path + ("grade",), "is not a CTCAE grade 0 to 5", value=grade)
    present = r.boolean(raw.get("present"), path + ("present",))
    active = r.boolean(raw.get("active"), path + ("active",))
    if present is None and grade is not None:
        present = grade > 0
    if present is False and ((grade or 0) > 0 or active is True):
        raise r.fail(path, "says absent but gives a grade or says active",
                     hint="correct 'present', 'grade' or 'active' so that they agree")
    return ConditionState(canonical, present, grade, r.opt_date(raw, "date", path),
                          r.opt_date(raw, "end", path), active, name)


def _events(r: _Reader, data, section: str, key: str) -> list:
    items = r.array(data, (section,))
    out = []
    for i, raw in enumerate(items):
        path = (section, i)
        obj = r.mapping(raw, path)
        if key not in obj:
            raise r.fail(path, f"each item of {section} needs '{key}'")
        kind = vocab.name_key(r.string(obj[key], path + (key,)))
        known = True
        terms = {"diagnoses": vocab.diagnoses, "treatments": vocab.treatments}.get(section)
        if terms is not None:
            canonical = terms().canonical(kind)
            if canonical is None:
                known = False
                r.warn(path + (key,), f"unknown {terms().kind} '{obj[key]}': rules about "
                       f"{section} cannot rule it out", terms().suggest(kind))
            kind = canonical or kind
        attrs = {}
        for k, v in obj.items():
            if k in (key, "date", "start", "end"):
                continue
            if k == "drugs":
                v = [vocab.substance(d) or "?" + vocab.name_key(d)  # '?': a drug not recognised
                     for d in (r.string(d, path + ("drugs", j)) for j, d in enumerate(r.array(v, path + ("drugs",))))]
            elif isinstance(v, str):
                try:  # the words yes / no, not 1 / 0 (which may be a line number)
                    answer = vocab.yes_no(v, digits=False)
                except ValueError:
                    answer = None
                v = answer if answer is not None else v.strip()
            elif v is not None and not isinstance(v, (bool, int, float)):
                raise r.fail(path + (k,), "must be a single value (text, number, true or false)")
            attrs[vocab.name_key(k)] = v
        event = Event(kind, r.opt_date(obj, "date", path), r.opt_date(obj, "start", path),
                      r.opt_date(obj, "end", path), attrs, i, known)
        if event.start and event.end and event.end < event.start:
            raise r.fail(path + ("end",), "ends before it starts")
        out.append(event)
    return out
