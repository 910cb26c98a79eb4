"""Which of several results of one lab or person field decides (docs/fhir.md, "Observation").

Results sort by the local day each is written with (a date alone is a whole day, wherever it was
taken), then by instant within the day, then by place in the file; an undated one (no date, or one
that cannot be read) sorts before every dated one. Results whose order cannot be told decide
nothing unless they agree with the one that sorts last, as in ``batch --extract``: they agree when
a rule would read the same from them (the value in one unit, the result word, the limits that
both give).
"""

from __future__ import annotations

from datetime import date

from trialscreen.errors import UnitError
from trialscreen.fhir import values as v
from trialscreen.fhir.ranges import RANGES
from trialscreen.fhir.results import NOTE
from trialscreen.units.convert import factor
from trialscreen.units.normalize import normalize

_UNREAD = ("date", "earlier", NOTE)      # not what a rule compares (NOTE: a limit that was not read)


def sort_key(latest: date | None, text: str, index: int, day: date | None) -> tuple:
    """(dated, local day, instant, place in the file, the full date written): ``latest`` is the
    day the result sorts by (for a partial date its last possible day), ``day`` its own date."""
    return (latest is not None, latest or date.min, v.instant(text, latest), index, day)


def undecided(seen: list, key: tuple, entry, analyte=None) -> str | None:
    """Why the results ``seen`` of one lab or field ((sort key, entry, its clock: values.clock,
    date as written) each) do not let the one that sorts last (``key``, ``entry``) decide; None
    if it does. ``analyte``: the lab's, whose class and units decide whether two values agree."""
    timed = next((t for k, _, t, _ in seen if k == key), None)
    for k, other, clock, written in seen:
        if k == key or agrees(other, entry, analyte):
            continue
        if not key[0]:
            return "results with no readable date that differ"
        if not k[0]:
            said = f"its date: {written!r}" if written else "it has no date"
            return f"a result with no readable date differs from the latest dated one ({key[1].isoformat()}; {said})"
        day = key[1].isoformat()
        if k[1] == key[1] and not (clock and timed):
            return f"results of one day that differ and whose order cannot be told ({day})"
        if k[1] == key[1] and clock != timed:
            return (f"results of one day that differ and whose order cannot be told ({day}; one of them has "
                    "a time but no time zone)")
        if clock == timed and k[2] == key[2]:
            return f"two results at the same time that differ ({written!r})"
        if clock == timed and k[1] != key[1] and k[2] > key[2]:
            return ("results that differ and whose order cannot be told: their time zones put them in "
                    f"another order than their days ({written!r} is later than the result of {day})")
    return None


def agrees(one, other, analyte=None) -> bool:
    """Whether a rule reads the same from two results: the same value in one unit (88 umol/L,
    88 µmol/L, 0.088 mmol/L), the same result word, and the same ULN and LLN where both give one
    (a limit one of them leaves out is no disagreement). A unit the grammar cannot read differs
    from any other spelling."""
    if not (isinstance(one, dict) and isinstance(other, dict)):
        return bool(one == other)
    for name in (set(one) | set(other)) - set(_UNREAD) - {"unit"}:
        a, b = one.get(name), other.get(name)
        if name in ("uln", "lln", RANGES) and (a is None or b is None):
            continue
        if name == "value":
            same = _same(a, one.get("unit", ""), b, other.get("unit", ""), analyte)
        elif name in ("uln", "lln"):
            same = _same(*_split(a), *_split(b), analyte)
        elif name == RANGES:
            same = isinstance(a, dict) and isinstance(b, dict) and a.get("ranges") == b.get("ranges")
        elif name == "result" and isinstance(a, str) and isinstance(b, str):
            same = a.strip().lower() == b.strip().lower()
        else:
            same = a == b
        if not same:
            return False
    if (RANGES in one) != (RANGES in other):
        given = other if RANGES in one else one
        return not {"uln", "lln"} & set(given)     # limits still to choose, beside limits given: not told
    return True


def _same(a, unit_a: str, b, unit_b: str, analyte) -> bool:
    """Whether ``a unit_a`` is ``b unit_b``: the same as written, else both numbers whose units
    the grammar reads and converts for this analyte."""
    if (a, unit_a) == (b, unit_b):
        return True
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if not numbers or not isinstance(unit_a, str) or not isinstance(unit_b, str):
        return False
    klass = analyte.klass if analyte is not None else None
    try:
        f = factor(normalize(unit_a, klass), normalize(unit_b, klass), analyte)
    except (UnitError, ValueError, ArithmeticError):
        return False
    return abs(a * f - b) <= 1e-9 * max(abs(b), 1.0)


def _split(limit) -> tuple[object, str]:
    """A limit as the record writes it ('40 U/L') as (number, unit); else (itself, '')."""
    number, _, unit = str(limit).strip().partition(" ")
    try:
        return float(number), unit.strip()
    except ValueError:
        return limit, ""
