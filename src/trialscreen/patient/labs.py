"""One lab value of a patient record, read exactly as written or not used at all.

Only a broken structure (an unknown key, a list where a value belongs) refuses the
record. A value that cannot be used (a word, an unknown unit, a negative or implausible
number, a bare reference limit in an unusual unit) is kept with its problem: the criteria
that need it are unknown, the reason is in their explanation, and the record carries a
warning. Laboratory words for a result below detection become a bound.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from trialscreen import vocab
from trialscreen.errors import PatientError, UnitError
from trialscreen.patient.model import LabValue
from trialscreen.patient.reader import Reader, dotted
from trialscreen.semantics.logic import cmp
from trialscreen.units import convert
from trialscreen.units.normalize import delog, normalize, split_value
from trialscreen.vocab.detection import below_detection


def read_lab(r: Reader, analyte, raw, path: tuple, decimal_comma: bool = False, panel=None) -> LabValue:
    """One lab value: 'value unit' text, or an object with value, unit, uln, lln, date.

    Only a broken structure (an unknown key, a list where a value belongs) refuses the
    record. A value that cannot be read (a word, an unknown unit, a negative number, a
    limit in no unit) is kept with its problem: the criteria that need it are unknown,
    the reason is in their explanation, and the record carries a warning."""
    field = dotted(path)
    obj = raw if isinstance(raw, dict) else {"value": raw}
    for key in obj:
        if key not in ("value", "unit", "uln", "lln", "date", "result", "flag", "earlier", "unusable"):
            raise r.fail(path + (key,), f"unknown key '{key}' in a lab value",
                         hint="a lab object has value, unit, uln, lln, date, flag, earlier and unusable")
    earlier = obj.get("earlier", 0)
    if isinstance(earlier, bool) or not isinstance(earlier, int) or earlier < 0:
        raise r.fail(path + ("earlier",), "is not a count of earlier results",
                     hint="earlier is a whole number, 0 or more")
    if "unusable" in obj:
        return _said_unusable(r, analyte, obj, path)
    value = obj.get("result", obj.get("value"))
    if isinstance(value, (dict, list)):
        raise r.fail(path, "is not a lab value", hint="write it like '1.4 mg/dL'")
    try:
        when = r.opt_date(obj, "date", path) or panel   # its own date, else the panel's
    except PatientError as exc:
        return _unreadable_lab(r, analyte, path, exc, None)
    try:
        lab = _read_lab_value(r, analyte, obj, value, path, field, when, decimal_comma, isinstance(raw, dict))
    except PatientError as exc:
        lab = _unreadable_lab(r, analyte, path, exc, when)
    return replace(lab, earlier=earlier) if earlier else lab


def _said_unusable(r: Reader, analyte, obj: dict, path: tuple) -> LabValue:
    """A lab the source holds but that cannot be used, with the reason its reader gave (results
    of one day that disagree and cannot be ordered): its criteria are unknown and say why."""
    why = obj["unusable"]
    if not isinstance(why, str) or not why.strip() or set(obj) - {"unusable", "date", "earlier"}:
        raise r.fail(path + ("unusable",), "is not the reason a lab cannot be used",
                     hint="unusable is a text, beside at most date and earlier")
    when = r.opt_date(obj, "date", path)
    r.unusable(r.where(path), f"{analyte.name}: {why.strip()}")
    return LabValue(analyte.name, None, None, "", date=when, field=dotted(path),
                    problem=f"the recorded value cannot be used: {why.strip()}")


def _unreadable_lab(r: Reader, analyte, path: tuple, exc: PatientError, when) -> LabValue:
    where = exc.location if exc.location.field else r.where(path)
    r.unusable(where, exc.message, exc.hint)
    return LabValue(analyte.name, None, None, "", date=when, field=dotted(path),
                    problem=f"the recorded value cannot be used: {exc.message}")


def _read_lab_value(r: Reader, analyte, obj, value, path, field, when, decimal_comma, nested) -> LabValue:
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
    # the number as the record wrote it ('3.0', not 3): its last digit is what a log was rounded to
    written_number = _written_number(value) if isinstance(value, str) else repr(number)
    log_value = number
    logged = _delog(r, analyte, number, unit_text, path)  # '3.0 log IU/mL': 1000 IU/mL, the log kept to show
    if logged:
        number, unit_text, written = logged
    if number < 0:
        raise r.fail(path, "is negative; a lab value cannot be", hint="correct the value", value=number)
    unit = lab_unit(r, analyte, unit_text, path)
    uln = _limit(r, analyte, obj.get("uln"), unit, path + ("uln",), decimal_comma)
    lln = _limit(r, analyte, obj.get("lln"), unit, path + ("lln",), decimal_comma)
    if lln == 0:  # how laboratories write "no lower limit" (0-40 U/L): there is no LLN to use
        lln = None
    shown = f"{censor or ''}{number:.12g} {unit_text}".strip()  # as written, not rounded
    spread = None
    if logged:
        shown = f"{censor or ''}{written} (= {censor or ''}{number:.4g} {unit_text})"
        if censor is None:  # a log printed to d decimals stands for log +- half its last digit
            spread = _log_spread(log_value, written_number)
            log_unit = written.split(" ", 1)[1]
            shown = f"{written_number} {log_unit} (= {spread[0]:.4g} to {spread[1]:.4g} {unit_text}, as rounded)"
    lab = LabValue(analyte.name, number, unit, shown, censor, uln, lln, when, field=field, spread=spread)
    _plausible(r, analyte, lab, path)
    if obj.get("flag") is not None:
        _check_flag(r, lab, obj["flag"], path + ("flag",))
    return lab


_FLAGS = {"h": "high", "hh": "high", "high": "high", "+": "high", "l": "low", "ll": "low", "low": "low",
          "-": "low", "n": "normal", "normal": "normal", "": None}


def _check_flag(r: Reader, lab: LabValue, flag, path: tuple) -> None:
    """A laboratory's H / L / N flag beside the value: it must agree with the value and the
    reference range. A flag that cannot be read, or that contradicts them (H on a value not
    above the ULN), is a PatientError: the lab cannot be used until someone looks."""
    said = _FLAGS.get(str(flag).strip().lower(), "?")
    if said == "?":
        raise r.fail(path, "is not a flag", value=flag, hint="a flag is H (high), L (low) or N (normal)")
    if said is None or lab.value is None or lab.censor is not None:
        return
    above = lab.uln is not None and lab.value > lab.uln
    below = lab.lln is not None and lab.value < lab.lln
    wrong = ((said == "high" and lab.uln is not None and not above)
             or (said == "low" and lab.lln is not None and not below)
             or (said == "normal" and (above or below)))
    if wrong:
        limits = " to ".join(f"{x:g}" for x in (lab.lln, lab.uln) if x is not None)
        raise r.fail(path, f"says {said}, but {lab.raw} is not {said} for the reference range {limits}",
                     value=flag, hint="check the value, its range and the flag in the source")


def _below_detection(r: Reader, analyte, obj, text, bound, path, field, when, decimal_comma) -> LabValue:
    """'not detected', '<LoD', 'target not detected (<20 IU/mL)': below the assay's
    detection limit. With a limit written beside the words, that limit is the bound;
    otherwise the vocabulary's highest usual detection limit for the analyte is; an
    analyte without one cannot be compared, and the value is unknown."""
    censor: str | None = "<"
    if bound:
        try:
            censor, number, unit_text = split_value(bound, decimal_comma)
        except ValueError:
            raise r.fail(path, "cannot read the detection limit written beside the result",
                         value=text) from None
        unit_text = unit_text or obj.get("unit") or ""
        logged = _delog(r, analyte, number, unit_text, path)
        if logged:
            number, unit_text, _ = logged
    else:
        limit = analyte.detection_limit
        if limit is None:
            raise r.fail(path, f"'{text}' gives no number for {analyte.name}, and its usual detection "
                         "limit is not known", hint="give the value, or the limit as '<20 IU/mL'")
        number, unit_text = limit
    unit = lab_unit(r, analyte, unit_text, path) if isinstance(unit_text, str) else None
    if unit is None:
        raise r.fail(path, "the unit must be text")
    shown = f"{text.strip()} (below the detection limit: {censor} {number:g} {unit_text})"
    return LabValue(analyte.name, number, unit, shown, censor, None, None, when, field=field)


def _delog(r: Reader, analyte, number, unit_text, path):
    """(value, unit, the log as written) for a value in a log10 unit ('3.0 log IU/mL' ->
    1000 IU/mL), or None for any other unit (units.normalize.delog)."""
    try:
        plain = delog(number, unit_text, analyte.klass)
    except UnitError as exc:
        raise r.fail(path, exc.message, exc.hint) from None
    return (*plain, f"{number:.12g} {unit_text}") if plain else None


_NUMBER_TEXT = re.compile(r"\d*[.,]?\d+")


def _written_number(text: str) -> str:
    """The number of a value as written ('2.30 log IU/mL' -> '2.30', '.5' -> '.5'): its last
    digit is what the laboratory rounded to."""
    found = _NUMBER_TEXT.search(text)
    return found.group(0).replace(",", ".") if found else ""


def _log_spread(x: float, written: str) -> tuple:
    """A log x printed as ``written`` ('2.3') -> (10**2.25, 10**2.35): the values it stands for
    (the laboratory rounded it to its last digit). The interval is closed: a conservative
    reading; a number whose digits are not known stands for +- 0.5."""
    decimals = len(written.split(".", 1)[1]) if "." in written else 0
    h = 0.5 * 10.0 ** -decimals
    return 10.0 ** (x - h), 10.0 ** (x + h)


def _within(x: float, lo: float, hi: float) -> bool:
    """lo <= x <= hi, a value converted onto a bound counting as on it (logic.cmp)."""
    return cmp(x, lo) >= 0 and cmp(x, hi) <= 0


def _plausible(r: Reader, analyte, lab: LabValue, path: tuple) -> None:
    """A value or reference limit outside what a human sample can have means a wrong
    unit or number (creatinine 2.1 umol/L meant as mg/dL; an ALT ULN of 40 ukat/L):
    refuse to use it, so the criteria that need it are unknown. An LLN of 0 is how
    laboratories write 'no lower limit' and is not checked."""
    assert lab.unit is not None   # a lab value read with its unit
    found = _RANGES.get((analyte.name, lab.unit), False)
    if found is False:
        found = next(((rng, convert.factor(lab.unit, rng.unit, analyte)) for rng in analyte.plausible
                      if convert.convertible(lab.unit, rng.unit, analyte)), None)
        if len(_RANGES) < 10_000:
            _RANGES[(analyte.name, lab.unit)] = found
    if found is not None:
        rng, f = found
        lo, hi = rng.value
        x = lab.value * f
        # a bound is implausible when every value it allows is ('<2.1 umol/L' creatinine)
        if (not _within(x, lo, hi) if lab.censor is None else
                cmp(x, lo) < 0 if lab.censor in ("<", "<=") else cmp(x, hi) > 0):
            raise r.fail(path, f"the value is outside what a sample can have ({lo:g} to {hi:g} "
                         f"{rng.unit}); check the unit", value=lab.value,
                         hint="correct the value or its unit")
        for name, limit in (("ULN", lab.uln), ("LLN", lab.lln)):
            if limit is None:
                continue
            if rng.limit is None:
                raise r.fail(path + (name.lower(),), f"{analyte.name} has no reference interval, so "
                             f"a {name} is not expected; check the unit and the field")
            lo, hi = rng.limit
            if not _within(limit * f, lo, hi):
                raise r.fail(path + (name.lower(),), f"the {name} is outside the reference limits "
                             f"laboratories use ({lo:g} to {hi:g} {rng.unit}); check the unit",
                             value=limit, hint="give the limit with the unit it is written in")


# (analyte, unit) -> (the plausible range in that unit's family, factor to its unit) or None
_RANGES: dict = {}
_UNITS_OK: dict = {}


def lab_unit(r: Reader, analyte, unit_text: str, path: tuple):
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


def _limit(r: Reader, analyte, raw, unit, path, decimal_comma=False) -> float | None:
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


def _bare_limit(r: Reader, analyte, number: float, unit, path) -> float:
    """A limit with no unit is taken in the value's unit only where laboratories
    usually report this analyte's range in that unit (ALT in U/L, not ukat/L)."""
    usual = analyte.reference_units
    if not any(convert.convertible(unit, u, analyte) and abs(convert.factor(unit, u, analyte) - 1) < 1e-9
               for u in usual):
        raise r.fail(path, f"a reference limit without a unit is not accepted for {analyte.name} "
                     f"in {unit} (laboratories seldom report its range in that unit)", value=number,
                     hint=f"give the limit with the unit it is in, such as '{unit}'")
    return number
