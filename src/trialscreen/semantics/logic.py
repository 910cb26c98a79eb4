"""Three-valued (Kleene) logic and exact comparisons.

A truth value is ``True``, ``False`` or ``None`` (unknown). ``False and
unknown`` is ``False``; ``True or unknown`` is ``True``; ``not unknown`` is
unknown. Comparisons treat two numbers within a relative 1e-9 of each other
as equal, so that ``75000 /mm3`` (75.00000000000001 x10^9/L after conversion)
is *not* greater than 75 x10^9/L.
"""

from __future__ import annotations

import math

REL_TOL = 1e-9


def _kleene(values, decisive: bool) -> bool | None:
    """Kleene AND (decisive value False) or OR (decisive value True): one decisive value
    decides; otherwise any unknown makes the whole unknown."""
    result: bool | None = not decisive
    for v in values:
        if v is decisive:
            return decisive
        if v is None:
            result = None
    return result


def k_and(values) -> bool | None:
    return _kleene(values, False)


def k_or(values) -> bool | None:
    return _kleene(values, True)


def k_not(value: bool | None) -> bool | None:
    return None if value is None else not value


def cmp(x: float, t: float) -> int:
    """-1, 0 or 1, with numbers within REL_TOL of each other equal."""
    if x == t:
        return 0
    if math.isinf(x) or math.isinf(t):
        return -1 if x < t else 1
    if abs(x - t) <= REL_TOL * max(abs(x), abs(t)):
        return 0
    return -1 if x < t else 1


class Interval:
    """What is known of a value: exact, or bounded on one side (a censored '<10')."""

    __slots__ = ("lo", "lo_open", "hi", "hi_open")

    def __init__(self, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False):
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open

    @classmethod
    def of(cls, value: float, censor: str | None = None) -> "Interval":
        if censor is None:
            return cls(value, value)
        if censor == "<":
            return cls(-math.inf, value, True, True)
        if censor == "<=":
            return cls(-math.inf, value, True, False)
        if censor == ">":
            return cls(value, math.inf, True, True)
        if censor == ">=":
            return cls(value, math.inf, False, True)
        raise ValueError(censor)

    def scaled(self, f: float, shift: float = 0.0) -> "Interval":
        return Interval(self.lo * f + shift, self.hi * f + shift, self.lo_open, self.hi_open)

    @property
    def exact(self) -> bool:
        return self.lo == self.hi


_EXACT = {"<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
          "==": lambda c: c == 0, "!=": lambda c: c != 0}


def holds(op: str, v: Interval, t: float) -> bool | None:
    """Does ``value op t`` hold for every value the interval allows (True), for
    none (False), or does it depend (None)?"""
    if v.lo == v.hi:
        return _EXACT[op](cmp(v.lo, t))
    lo, hi = cmp(v.lo, t), cmp(v.hi, t)
    if op == "<":
        if hi < 0 or (hi == 0 and v.hi_open):
            return True
        if lo >= 0:
            return False
        return None
    if op == "<=":
        if hi <= 0:
            return True
        if lo > 0 or (lo == 0 and v.lo_open):
            return False
        return None
    if op == ">":
        if lo > 0 or (lo == 0 and v.lo_open):
            return True
        if hi <= 0:
            return False
        return None
    if op == ">=":
        if lo >= 0:
            return True
        if hi < 0 or (hi == 0 and v.hi_open):
            return False
        return None
    if op in ("==", "!="):
        if v.exact:
            equal = lo == 0
        elif hi < 0 or lo > 0 or (hi == 0 and v.hi_open) or (lo == 0 and v.lo_open):
            equal = False
        else:
            return None
        return equal if op == "==" else not equal
    raise ValueError(op)


def holds_range(op: str, v: Interval, a: float, b: float) -> bool | None:
    """``between`` is a <= x <= b; ``outside`` is x < a or x > b."""
    if op == "between":
        return k_and((holds(">=", v, a), holds("<=", v, b)))
    if op == "outside":
        return k_or((holds("<", v, a), holds(">", v, b)))
    raise ValueError(op)


OP_WORDS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
SYMBOL = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


def fmt_against(x: float, t: float) -> str:
    """``x`` for people, with enough digits that it never looks equal to a
    threshold ``t`` it is not equal to (176.998 must not read as 177)."""
    text = fmt(x)
    if cmp(x, t) == 0 or text != fmt(t):
        return text
    for digits in range(5, 13):
        text = f"{x:.{digits}g}"
        if text != f"{t:.{digits}g}":
            return text
    return text


def fmt(x: float) -> str:
    """A number for people: up to 4 significant digits, integers without '.0'."""
    if x == 0:
        return "0"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    digits = max(4, int(math.floor(math.log10(abs(x)))) + 1)
    text = f"{x:.{digits}g}"
    if "e" in text:
        text = f"{x:.6f}".rstrip("0").rstrip(".")
    return text
