"""Turn a unit as written in a lab export into a unit we are sure of.

A raw unit string never goes to pint. This module reads it with a small
grammar of its own: an optional power of ten in any of the spellings labs use
(``10^9``, ``10**9``, ``10*9``, ``10E9``, ``x10^9``, superscripts), an optional
count prefix (``K/uL`` = thousands per microlitre, ``M/uL``, ``G/L``), then
``/``-separated parts made only of whitelisted atoms. Anything else fails with
a :class:`UnitError` naming the spelling: a unit we are not sure of is an
error, never a guess.

The analyte's class decides the few spellings whose meaning depends on it:
``u/L`` and ``IU/L`` are enzyme units only for enzymes; ``G/L`` is giga per
litre only for cell counts; ``K/uL`` is never kelvin.

Older and regional spellings read here: ``mg%`` / ``g%`` (per 100 mL, so mg/dL and
g/dL), ``mcL`` and ``mcmol`` / ``micromol`` (micro-), ``g/24 hours``, the eGFR
body surface with a decimal comma (``mL/min/1,73m2``). A log10 unit (``log IU/mL``)
is not a unit of this grammar: :func:`delog` turns a viral load written in it into
its plain unit (3.0 log IU/mL = 1000 IU/mL), and :func:`normalize` refuses it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from trialscreen.errors import UnitError

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

# lower-case atom -> (pint name, display spelling)
ATOMS: dict[str, tuple[str, str]] = {
    # mass
    "g": ("gram", "g"), "gm": ("gram", "g"), "gr": ("gram", "g"),
    "kg": ("kilogram", "kg"),
    "mg": ("milligram", "mg"),
    "ug": ("microgram", "ug"), "mcg": ("microgram", "ug"), "microgram": ("microgram", "ug"),
    "ng": ("nanogram", "ng"),
    "pg": ("picogram", "pg"),
    "lb": ("pound", "lb"), "lbs": ("pound", "lb"),
    # amount of substance
    "mol": ("mole", "mol"),
    "mmol": ("millimole", "mmol"), "millimol": ("millimole", "mmol"), "millimole": ("millimole", "mmol"),
    "umol": ("micromole", "umol"), "mcmol": ("micromole", "umol"),
    "micromol": ("micromole", "umol"), "micromole": ("micromole", "umol"),
    "nmol": ("nanomole", "nmol"),
    "pmol": ("picomole", "pmol"),
    "eq": ("equivalent", "Eq"),
    "meq": ("milliequivalent", "mEq"),
    "ueq": ("microequivalent", "uEq"),
    # volume
    "l": ("liter", "L"),
    "dl": ("deciliter", "dL"),
    "ml": ("milliliter", "mL"),
    "ul": ("microliter", "uL"), "mcl": ("microliter", "uL"),
    "nl": ("nanoliter", "nL"),
    "fl": ("femtoliter", "fL"),
    "mm3": ("millimeter ** 3", "mm3"), "mm^3": ("millimeter ** 3", "mm3"), "cmm": ("millimeter ** 3", "mm3"),
    "cm3": ("centimeter ** 3", "cm3"), "cc": ("centimeter ** 3", "cm3"),
    # length (height)
    "m": ("meter", "m"),
    "cm": ("centimeter", "cm"),
    "mm": ("millimeter", "mm"),
    "in": ("inch", "in"),
    # time
    "s": ("second", "s"), "sec": ("second", "s"),
    "min": ("minute", "min"),
    "h": ("hour", "h"), "hr": ("hour", "h"), "hour": ("hour", "h"), "hrs": ("hour", "h"), "hours": ("hour", "h"),
    "d": ("day", "d"), "day": ("day", "d"), "days": ("day", "d"),
    "wk": ("week", "wk"), "week": ("week", "wk"),
    # enzyme activity
    "kat": ("katal", "kat"),
    "ukat": ("microkatal", "ukat"),
    "nkat": ("nanokatal", "nkat"),
    # counts, copies, percent
    "cells": ("count", "cells"), "cell": ("count", "cells"), "#": ("count", "cells"),
    "count": ("count", "cells"), "cnt": ("count", "cells"),
    "copies": ("copy", "copies"), "copy": ("copy", "copies"), "cp": ("copy", "copies"),
    "%": ("percent", "%"), "percent": ("percent", "%"),
    # body surface normalisation for eGFR (also with a decimal comma: 1,73 m2)
    "1.73m2": ("bsa_173", "1.73m2"), "1.73m^2": ("bsa_173", "1.73m2"),
    "1,73m2": ("bsa_173", "1.73m2"), "1,73m^2": ("bsa_173", "1.73m2"),
}
_BSA = ("1.73m2", "1.73m^2", "1,73m2", "1,73m^2")

# Mass per cent: an older way of writing mass per 100 mL (mg% = mg/100 mL = mg/dL; UCUM's
# 'g%' is g/dL). Read only as a whole unit: '%' alone stays percent.
_PER_CENT_MASS = {"mg%": "mg/dL", "g%": "g/dL", "gm%": "g/dL", "gr%": "g/dL", "ug%": "ug/dL", "mcg%": "ug/dL"}

# A log10 unit: 'log IU/mL', 'log10 IU/mL', 'log(copies/mL)', 'lg IU/mL' (NFKC makes log₁₀ log10).
_LOG_UNIT = re.compile(r"^(?:log\s*(?:10)?|lg)\s*(?:\(\s*(?P<a>[^()]+?)\s*\)|(?P<b>[^\s(].*?))\s*$", re.IGNORECASE)

# Atoms whose meaning depends on the analyte class.
ENZYME_ATOMS = {
    "u": ("enzyme_unit", "U"), "iu": ("enzyme_unit", "U"),
    "mu": ("millienzyme_unit", "mU"), "miu": ("millienzyme_unit", "mU"),
}
IU_ATOMS = {
    "iu": ("international_unit", "IU"),
    "miu": ("milliinternational_unit", "mIU"),
    "kiu": ("kilointernational_unit", "kIU"),
}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_POWER = re.compile(
    r"^(?:[x*]\s*)?10\s*(?:\^|\*\*|\*|[eE])\s*\(?\s*([+-]?\d{1,2})\s*\)?\s*(.*)$"
)
# Count prefixes: case matters (K and k thousand; M million; G giga; T tera).
_COUNT_PREFIX = re.compile(
    r"^(K|k|thou|Thou|THOU|thousand|Thousand|M|m|mil|Mil|mill|Mill|million|Million|G|T)"
    r"\s*(?:cells?)?\s*/\s*(uL|ul|UL|µL|mcL|mcl|MCL|mm3|MM3|mm\^3|L|l|cmm)$"
)
COUNT_SCALE = {
    "k": 1e3, "thou": 1e3, "thousand": 1e3,
    "m": 1e6, "mil": 1e6, "mill": 1e6, "million": 1e6,
    "g": 1e9, "t": 1e12,
}
_PART = re.compile(r"^(" + _NUMBER + r")?\s*(.+?)(?:\^([+-]?\d))?$")


@dataclass(frozen=True)
class Unit:
    """A unit we understand: a power-of-ten scale times a product of atoms."""

    display: str                     # canonical spelling, for explanations
    scale: float                     # e.g. 1e9 for 10^9/L, 1/24 for mg/24h
    expr: str                        # a pint expression built only from whitelisted names

    def __str__(self) -> str:
        return self.display


DIMENSIONLESS = Unit("1", 1.0, "count")


_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")


def _clean(raw: str) -> str:
    # Superscripts first: NFKC would turn '10⁹' into '109'.
    s = _SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group(0).translate(_SUPERSCRIPTS), raw)
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("µ", "u").replace("μ", "u").replace("×", "x").replace("·", "*")
    s = re.sub(r"\s+", " ", s.strip())
    return s


def _atom(token: str, klass: str | None, raw: str) -> tuple[str, str]:
    low = token.lower()
    if klass == "enzyme" and low in ENZYME_ATOMS:
        return ENZYME_ATOMS[low]
    if low in IU_ATOMS and klass != "enzyme":
        return IU_ATOMS[low]
    if low in ("u", "mu"):
        raise UnitError(
            f"the unit '{raw}' is ambiguous here: '{token}' is an enzyme unit only for enzymes",
            hint="write the unit in full (for example IU/mL or U/L) for this analyte",
        )
    if low in ATOMS:
        return ATOMS[low]
    raise UnitError(f"unknown unit '{raw}': '{token}' is not a unit trialscreen knows",
                    hint="use a unit such as mg/dL, umol/L, g/L, 10^9/L, U/L, %, IU/mL")


def _parts(body: str, klass: str | None, raw: str) -> tuple[float, list[str], list[str], list[str]]:
    """Parse 'a/b/c' (= a per (b*c)) into (scale, numerator, denominator, display parts)."""
    scale = 1.0
    num: list[str] = []
    den: list[str] = []
    shown: list[str] = []
    pieces = [p.strip() for p in body.split("/")]
    for index, piece in enumerate(pieces):
        if piece in ("", "1"):
            if index == 0:
                shown.append("" if piece == "" else "1")
                continue
            raise UnitError(f"cannot read the unit '{raw}'", hint="check the slashes")
        # products within one part: "mmol*L" is rare; allow spaces/dots between atoms not at all
        # except for the eGFR body-surface atom, which carries its own number.
        compact = piece.replace(" ", "")
        if compact.lower() in _BSA:
            name, disp = ATOMS[compact.lower()]
            power, factor = 1, 1.0
        else:
            m = _PART.match(compact)
            if not m:
                raise UnitError(f"cannot read the unit '{raw}'")
            factor = float(m.group(1)) if m.group(1) else 1.0
            # A number inside a unit only makes sense as a whole period ("mg/24h");
            # anywhere else ("1..2 mg/dL" read as 1 x ".2mg") it is a typo, not a unit.
            if m.group(1) and (index == 0 or not factor.is_integer() or factor < 1):
                raise UnitError(f"cannot read the unit '{raw}': a number inside a unit is only "
                                "allowed as a period such as /24h", hint="check the value and its unit")
            name, disp = _atom(m.group(2), klass, raw)
            power = int(m.group(3)) if m.group(3) else 1
            if m.group(1):
                disp = f"{m.group(1)}{disp}"
            if power != 1:
                disp = f"{disp}^{power}"
        target = num if index == 0 else den
        target.append(name if power == 1 else f"({name}) ** {power}")
        try:
            scale = scale * factor ** power if index == 0 else scale / factor ** power
        except OverflowError:
            scale = 0.0
        if not 1e-30 < scale < 1e30:
            raise UnitError(f"cannot read the unit '{raw}': its numbers are out of any lab's range")
        shown.append(disp)
    return scale, num, den, shown


@lru_cache(maxsize=4096)
def normalize(raw: str, klass: str | None = None) -> Unit:
    """Return the :class:`Unit` a lab unit spelling means, or raise :class:`UnitError`."""
    if not isinstance(raw, str):
        raise UnitError(f"a unit must be text, not {raw!r}")
    s = _clean(raw)
    if s == "" or s.lower() in ("1", "ratio", "none", "-"):
        return DIMENSIONLESS
    inner = _log_inner(s)
    if inner is not None:
        raise UnitError(f"the unit '{raw}' is a log10 unit: trialscreen reads it only in a viral load's "
                        f"value, which it converts to {inner} (3.0 log {inner} = 1000 {inner})",
                        hint=f"give this one in {inner}")
    s = _PER_CENT_MASS.get(s.replace(" ", "").lower(), s)
    scale = 1.0
    prefix = ""
    body = s
    m = _POWER.match(s)
    if m:
        exponent = int(m.group(1))
        scale = 10.0 ** exponent
        prefix = f"10^{exponent}"
        body = m.group(2).strip()
        if body.lower().startswith("cells") or body.lower().startswith("cell"):
            body = body.split("/", 1)[1] if "/" in body else ""
            body = "/" + body if body else ""
        if not body.startswith("/"):
            raise UnitError(f"cannot read the unit '{raw}': a power of ten must be followed by '/volume'",
                            hint="write it like 10^9/L or 10^3/uL")
    elif klass in ("count", None):
        cm = _COUNT_PREFIX.match(s)
        if cm:
            key = cm.group(1).lower()
            if cm.group(1) == "m":
                raise UnitError(f"the unit '{raw}' is ambiguous: 'm' could mean milli or million",
                                hint="write M/uL or 10^6/uL for millions")
            scale = COUNT_SCALE[key]
            prefix = f"10^{int(round(math.log10(scale)))}"
            body = "/" + cm.group(2)
    part_scale, num, den, shown = _parts(body, klass, raw)
    scale *= part_scale
    numerator = " * ".join(num) if num else "count"
    expr = numerator + "".join(f" / ({d})" for d in den)
    display = "x" + prefix + "/".join(shown) if prefix else "/".join(shown)
    return Unit(display=display, scale=scale, expr=expr)


def _log_inner(cleaned: str) -> str | None:
    """'log IU/mL' -> 'IU/mL'; None when the unit is not a log10 unit."""
    m = _LOG_UNIT.match(cleaned)
    return (m.group("a") or m.group("b")).strip() if m else None


def delog(number: float, unit_text, klass: str | None = None) -> tuple[float, str] | None:
    """A value written in a log10 unit, as the plain value and unit it stands for:
    (3.0, 'log IU/mL') -> (1000.0, 'IU/mL'); a bound keeps its sign ('<1.3 log IU/mL' is
    < 19.95 IU/mL, 10**x being increasing). None when the unit is not a log unit.

    Only a viral load is read this way (laboratories print HBV DNA and HCV RNA so); for any
    other analyte a log unit raises :class:`UnitError`. The log value is taken as exact: a
    laboratory that rounds its log to one decimal rounds the value by up to 12 %."""
    if not isinstance(unit_text, str):
        return None
    inner = _log_inner(_clean(unit_text))
    if inner is None:
        return None
    if klass != "viral_load":
        raise UnitError(f"the unit '{unit_text}' is a log10 unit, which trialscreen reads only for a "
                        "viral load", hint="give the value in the analyte's own unit")
    if not -30 <= number <= 30:
        raise UnitError(f"{number:g} {unit_text} is out of any laboratory's range",
                        hint="check the value: it is a log10 of the load")
    return 10.0 ** number, inner


_VALUE = re.compile(r"^\s*(<=|>=|≤|≥|<|>)?\s*(" + _NUMBER + r")\s*(.*?)\s*$")

# Thousands separators a source may declare: a dot (with a decimal comma), a comma (with a
# decimal point), or a space (plain, no-break U+00A0 or narrow no-break U+202F: one class).
SPACES = " \u00a0\u202f"
THOUSANDS = (".", ",", *SPACES)
# Digits with every dot and comma next to them: the number as written, before it is read.
# A space joins digits only as a thousands separator followed by a group of three.
_LOOSE = r"[+-]?[.,]*\d[\d.,]*"
_LOOSE_SPACED = r"[+-]?(?:\d{1,3}(?:[" + SPACES + r"]\d{3})+(?!\d)[\d.,]*|[.,]*\d[\d.,]*)"
_EXPONENT = r"(?:[eE][+-]?\d+)?"


def number_pattern(thousands: str | None = None) -> str:
    """The regular expression of a number as written (digits, dots, commas and, where
    spaces group thousands, spaces), before :func:`plain_number` reads it."""
    return _LOOSE_SPACED if thousands is not None and thousands in SPACES else _LOOSE


def _check_format(decimal_comma: bool, thousands: str | None) -> None:
    if thousands is not None and thousands not in THOUSANDS:
        raise ValueError(f"{thousands!r} is not a thousands separator (one of . , or a space)")
    if thousands == ("," if decimal_comma else "."):
        raise ValueError("the decimal mark cannot also be the thousands separator")


@lru_cache(maxsize=16)
def _strict(decimal_comma: bool, thousands: str | None) -> re.Pattern:
    mark = re.escape("," if decimal_comma else ".")
    if thousands is None:
        whole = r"\d+"
    else:
        sep = "[" + SPACES + "]" if thousands in SPACES else re.escape(thousands)
        whole = r"\d{1,3}(?:" + sep + r"\d{3})+|\d+"
    return re.compile(r"([+-]?)(?:(" + whole + r")(?:" + mark + r"(\d*))?|" + mark + r"(\d+))")


def plain_number(written: str, decimal_comma: bool = False, thousands: str | None = None) -> str:
    """A number as a source writes it (``1.500,5`` with a decimal comma and dots between
    thousands) in plain notation (``1500.5``). Raises ValueError for anything that is not
    exactly such a number: with a decimal comma a dot is a thousands separator only where
    ``thousands`` says so, and then only between groups of three digits (``1.50``,
    ``1.5000`` and ``.5`` are refused, never guessed); without one, a comma likewise."""
    _check_format(decimal_comma, thousands)
    m = _strict(decimal_comma, thousands).fullmatch(written)
    if not m:
        raise ValueError(written)
    sign, whole, fraction, only_fraction = m.groups()
    digits = re.sub(r"\D", "", whole or "")
    if only_fraction is not None:
        return f"{sign}.{only_fraction}"
    return f"{sign}{digits}.{fraction}" if fraction is not None else f"{sign}{digits}"


# '/1,73 m2' (after a slash, before m): the eGFR body surface written with a decimal comma
_BSA_COMMA = re.compile(r"(/\s*)1,73(?=\s*m)")


def split_value(text: str, decimal_comma: bool = False,
                thousands: str | None = None) -> tuple[str | None, float, str]:
    """Split '1.4 mg/dL' or '<10 %' into (censor, number, unit text).

    The censor is one of None, '<', '<=', '>', '>='. A comma is read as a
    decimal point only when ``decimal_comma`` says the source writes numbers
    that way; otherwise a comma in a number is refused (``1,500`` is a
    thousand and a half in one country and one and a half in another).
    Likewise, with ``decimal_comma`` a dot in the number is refused (``1.500``
    is not 1.5 there) unless ``thousands='.'`` says the source groups
    thousands with dots: then ``1.500`` is 1500 and a dot that does not group
    three digits is refused. ``thousands`` may also be ``','`` (without a
    decimal comma) or a space. Raises ValueError for text that is not a number
    with an optional unit. The body-surface unit of an eGFR may carry its own decimal
    comma (``45 mL/min/1,73m2``) in any notation: it is read as 1.73 m2.
    """
    if "," in text:
        text = _BSA_COMMA.sub(r"\g<1>1.73", text)
    if not decimal_comma and thousands is None:  # the plain notation: 1.5, no commas at all
        if "," in text:
            raise ValueError(text)
        m = _VALUE.match(text)
        if not m:
            raise ValueError(text)
        censor = {"≤": "<=", "≥": ">="}.get(m.group(1), m.group(1))
        return censor, float(m.group(2)), m.group(3)
    _check_format(decimal_comma, thousands)
    m = re.match(r"^\s*(<=|>=|≤|≥|<|>)?\s*(" + number_pattern(thousands) + r")(" + _EXPONENT + r")\s*(.*?)\s*$",
                 text)
    if not m:
        raise ValueError(text)
    censor = {"≤": "<=", "≥": ">="}.get(m.group(1), m.group(1))
    number = plain_number(m.group(2), decimal_comma, thousands) + m.group(3)
    unit_text = m.group(4)
    if "," in unit_text or (thousands is not None and thousands in SPACES and re.match(r"\d", unit_text)
                            and not _POWER.match(unit_text)):
        raise ValueError(text)  # 1,5,3 / 1 5000: not one number
    try:
        value = float(number)
    except ValueError:
        raise ValueError(text) from None
    return censor, value, unit_text
