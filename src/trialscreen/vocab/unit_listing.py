"""The unit reader in words, behind ``trialscreen vocab units`` and a unit look-up: what a
unit spelling means for each kind of analyte, and every spelling the reader accepts.

Split out of ``vocab/lookup.py`` (which lists and looks up the vocabularies) so that each
module holds one concern; the listing is read from the unit reader's own tables, so it says
what the reader accepts.
"""

from __future__ import annotations

import math
import re

from trialscreen.errors import UnitError
from trialscreen.units.normalize import (  # the reader's own tables: what it accepts
    ATOMS,
    COUNT_SCALE,
    DIMENSIONLESS,
    ENZYME_ATOMS,
    IU_ATOMS,
    Unit,
    normalize,
)

# The analyte classes the unit reader treats differently (normalize.py): 'enzyme' reads U and IU
# as enzyme units; 'count' reads K/uL, M/uL, G/L; every other class reads neither.
_CONTEXTS = (("enzyme", "enzyme analytes"), ("count", "cell counts"), ("chemistry", "other analytes"))
_WORDS = {"count": "cells", "copy": "copies", "bsa_173": "1.73 m2 of body surface",
          "enzyme_unit": "enzyme unit", "millienzyme_unit": "enzyme milliunit",
          "international_unit": "international unit", "milliinternational_unit": "international milliunit",
          "kilointernational_unit": "international kilounit"}


def _word(name: str) -> str:
    name = name.strip()
    m = re.fullmatch(r"\((.+)\) \*\* (-?\d+)", name)
    if m:
        return f"{_word(m.group(1))}^{m.group(2)}"
    m = re.fullmatch(r"(\w+) \*\* 3", name)
    if m:
        return f"cubic {_word(m.group(1))}"
    return _WORDS.get(name, name.replace("_", " "))


def meaning(unit: Unit) -> str:
    """A unit in words: x10^9/L -> '10^9 cells per liter'."""
    if unit == DIMENSIONLESS:
        return "no unit: a ratio or a plain number"
    parts = unit.expr.split(" / ")
    num = " ".join(_word(p) for p in parts[0].split(" * "))
    dens = [_word(p[1:-1] if p.startswith("(") and p.endswith(")") else p) for p in parts[1:]]
    scale = unit.scale
    prefix = ""
    if scale < 1 and dens and abs(1 / scale - round(1 / scale)) < 1e-9:
        dens[0] = f"{round(1 / scale)} {dens[0]}s"  # mg/24h: a period
    elif scale != 1:
        exponent = math.log10(scale)
        prefix = f"10^{round(exponent)} " if abs(exponent - round(exponent)) < 1e-9 else f"{scale:g} x "
    text = prefix + num
    return text + "".join(f" per {d}" for d in dens)


def read_unit(spelling: str) -> list[dict]:
    """How the unit reader reads a spelling for each kind of analyte, grouped where it reads
    it the same: [{"for": [...], "unit": "U/L", "means": "..."} or {"for": [...], "error": "..."}]."""
    readings: list[dict] = []
    for klass, label in _CONTEXTS:
        try:
            unit = normalize(spelling, klass)
            reading = {"unit": unit.display, "means": meaning(unit)}
        except UnitError as exc:
            reading = {"error": exc.message, "hint": exc.hint}
        for r in readings:
            if {k: v for k, v in r.items() if k != "for"} == reading:
                r["for"].append(label)
                break
        else:
            readings.append({"for": [label], **reading})
    return readings


def _accepted(spelling: str, klass: str | None) -> Unit | None:
    try:
        return normalize(spelling, klass)
    except UnitError:
        return None


def unit_spellings() -> list[dict]:
    """The spellings the unit reader accepts, from its own tables: one row per meaning, with
    the spellings (matched without regard to case, except for count prefixes), the canonical
    spelling, what it means and a note (where it is read only for some analytes)."""
    rows: list[dict] = []
    grouped: dict[tuple, list[str]] = {}
    for spelling, (pint_name, display) in ATOMS.items():
        grouped.setdefault((pint_name, display), []).append(spelling)
    for (pint_name, display), spellings in grouped.items():
        rows.append({"spellings": spellings, "unit": display, "means": _word(pint_name), "note": None})
    for table, only in ((ENZYME_ATOMS, "enzyme analytes only"),
                        (IU_ATOMS, "analytes other than enzymes (for enzymes: U)")):
        grouped = {}
        for spelling, (pint_name, display) in table.items():
            grouped.setdefault((pint_name, display), []).append(spelling)
        for (pint_name, display), spellings in grouped.items():
            rows.append({"spellings": spellings, "unit": display, "means": _word(pint_name), "note": only})
    # count prefixes (K/uL ...), checked against the reader itself
    by_scale: dict[float, list[str]] = {}
    for key, scale in COUNT_SCALE.items():
        volume = "L" if scale >= 1e9 else "uL"  # G/L, T/L; K/uL, M/uL
        for prefix in dict.fromkeys((key, key.capitalize(), key.upper())):
            unit = _accepted(f"{prefix}/{volume}", "count")
            if unit is not None and unit.display.startswith("x10^"):  # g/uL is grams
                by_scale.setdefault(scale, []).append(f"{prefix}/{volume}")
    for _scale, spellings in sorted(by_scale.items()):
        unit = normalize(spellings[0], "count")
        rows.append({"spellings": spellings, "unit": unit.display, "means": meaning(unit),
                     "note": "cell counts only; also per uL, mm3, cmm or L"})
    powers = [s for s in ("10^9/L", "10**9/L", "10*9/L", "10E9/L", "x10^9/L", "x10E9/L", "10\u2079/L")
              if _accepted(s, None) is not None]
    rows.append({"spellings": powers, "unit": "x10^9/L", "means": meaning(normalize("10^9/L")),
                 "note": "any power of ten 10^-99 to 10^99, followed by /volume (10^3/uL, 10^12/L)"})
    rows.append({"spellings": ["(empty)", "1", "ratio", "none", "-"], "unit": "1",
                 "means": meaning(DIMENSIONLESS), "note": None})
    rows.append({"spellings": ["a/b", "a/b/c", "mg/24h"], "unit": "a/b", "means": "a per b (per c); a number only "
                 "as a period such as /24h", "note": "\u00b5 and \u03bc are read as u (micro)"})
    return rows
