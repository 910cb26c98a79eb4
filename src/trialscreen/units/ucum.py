"""UCUM codes (OMOP's unit concepts, FHIR's Quantity.code) in trialscreen's unit spelling.

A UCUM code is not read by pint and not trusted by its display name: it is rewritten into the
spelling the unit grammar (normalize.py) reads, and that grammar decides, with the analyte's
class, what it means. So OMOP's 'K/uL' concept stays thousands per microlitre (the grammar's count
prefix), never kelvin, whatever CONCEPT calls it. The rewrites are those UCUM needs and the
grammar lacks (UCUM, https://ucum.org/ucum, sections 2.1 and 2.4: '.' multiplies, '*' is a power
of ten, '[...]' is an arbitrary unit, '{...}' an annotation that carries no meaning):

- '10*3/uL' and '10*9/L' are written 'x10^3/uL' and 'x10^9/L', as laboratories print them (the
  grammar reads both; an explanation shows the unit as written here);
- '[iU]', '[IU]' -> IU and '[U]' -> U (the grammar's class rule still decides U and IU);
- '{copies}/mL' -> copies/mL, '{cells}/uL' -> cells/uL; any other annotation is refused, since
  '{score}' or '{ratio}' alone does not say what was measured;
- '10*-3.eq' -> mEq and '10*-6.eq' -> uEq (UCUM's milliequivalent);
- '/(24.h)' -> /24h; the eGFR surface '/(173.10*-2.m2)', '/{1.73_m2}', '/1.73.m2' -> /1.73m2.

Anything still holding UCUM syntax the grammar does not read ('.', brackets, braces) is left for
the grammar to refuse, with the code in its message: never a guess.
"""

from __future__ import annotations

import re

_REWRITES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"\[(iu|IU|iU)\]"), "IU"),
    (re.compile(r"\[U\]"), "U"),
    (re.compile(r"\{(copies|copy)\}"), "copies"),
    (re.compile(r"\{(cells|cell)\}"), "cells"),
    (re.compile(r"10\*-3\.eq\b", re.IGNORECASE), "mEq"),
    (re.compile(r"10\*-6\.eq\b", re.IGNORECASE), "uEq"),
    (re.compile(r"/\(24\.h\)"), "/24h"),
    (re.compile(r"/\((173\.10\*-2|1\.73)\.m2\)"), "/1.73m2"),
    (re.compile(r"/\{1\.73_?m2\}"), "/1.73m2"),
    (re.compile(r"/1\.73\.m2"), "/1.73m2"),
    (re.compile(r"^10\*(\d+)/"), r"x10^\1/"),
)


def from_ucum(code: str) -> str:
    """The unit grammar's spelling of a UCUM code ('' for an empty code)."""
    text = code.strip()
    for pattern, spelling in _REWRITES:
        text = pattern.sub(spelling, text)
    return text


# the other way, for the exporter: trialscreen spellings -> UCUM (checked by reading them back)
_TO_UCUM: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^(?:x\s*)?10\^(\d+)/"), r"10*\1/"),
    (re.compile(r"^K/uL$", re.IGNORECASE), "10*3/uL"),
    (re.compile(r"\bIU\b"), "[iU]"),
    (re.compile(r"\bcopies\b"), "{copies}"),
    (re.compile(r"/24\s*h$"), "/(24.h)"),
    (re.compile(r"/1\.73\s*m2$"), "/(173.10*-2.m2)"),
)


def to_ucum(unit: str) -> str:
    """The UCUM code of a trialscreen unit spelling ('x10^9/L' -> '10*9/L', 'IU/mL' -> '[iU]/mL');
    the caller reads it back with ``from_ucum`` to check that it is the same unit."""
    text = unit.strip()
    for pattern, code in _TO_UCUM:
        text = pattern.sub(code, text)
    return text
