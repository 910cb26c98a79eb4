"""The patient record as the engine sees it: normalised, typed, canonical names.

Nothing here is guessed. A value that is absent stays absent (the engine
turns that into "unknown"), and a list section (treatments, neoplasms,
diagnoses, allergies) counts as complete only when the record says so in
``complete``: an empty list alone is "nothing recorded", not "none".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from trialscreen.units.normalize import Unit

Day = date   # the type of dated fields (a field named 'date' would hide the type inside a class)


@dataclass(frozen=True)
class LabValue:
    analyte: str                 # canonical analyte name
    value: float | None          # None for a qualitative result
    unit: Unit | None
    raw: str                     # the value as written, for explanations
    censor: str | None = None    # '<', '<=', '>', '>=' for a censored value such as '<10 %'
    uln: float | None = None     # in the value's unit
    lln: float | None = None
    date: Day | None = None
    result: bool | None = None   # qualitative result (positive / negative)
    field: str = ""              # where it came from, e.g. labs.creatinine
    problem: str = ""            # why the recorded value cannot be used (then value is None)
    spread: tuple | None = None  # (low, high) the value stands for when it was printed rounded on a
                                 # log scale ('2.3 log IU/mL' is 178 to 224 IU/mL)
    earlier: int = 0             # earlier results of the analyte in the source (this is the latest)


@dataclass(frozen=True)
class FindingResult:
    finding: str                 # canonical finding
    detected: bool | None        # None: explicitly undecided (failed, equivocal)
    percent: float | None = None
    raw_name: str = ""
    date: Day | None = None
    problem: str = ""            # why the recorded result cannot be read (then detected is None)


@dataclass(frozen=True)
class ConditionState:
    condition: str
    present: bool | None
    grade: int | None = None
    date: Day | None = None
    end: Day | None = None
    active: bool | None = None
    raw_name: str = ""
    problem: str = ""            # why the recorded state cannot be read (then present is None)


@dataclass(frozen=True)
class Event:
    """An item of a list section: a diagnosis, a treatment or a neoplasm."""

    kind: str                    # canonical name or type
    date: Day | None = None     # diagnosis date, or the treatment's single date (ASCT)
    start: Day | None = None
    end: Day | None = None
    attrs: dict = field(default_factory=dict)
    index: int = 0
    known: bool = True           # the kind is a vocabulary name (an unknown spelling might be anything)
    # a treatment that ended, on or before the as-of date, on a day nobody recorded ('"end":
    # "unknown"'): its last day is somewhere from its start to the as-of date, never ongoing
    end_unknown: bool = False

    def span(self) -> tuple:
        """(first day, last day) of the event; last is None while it is ongoing
        (a start and no end) and when its end is unknown (``end_unknown``: every reader of a
        span asks which), and both are None when it has no date at all."""
        first = self.start or self.date or self.end
        if self.end_unknown:
            return first, None
        if self.end is not None:
            return first, self.end
        if self.date is not None:
            return first, self.date
        return first, None


@dataclass
class Patient:
    id: str
    sex: str | None = None
    age: float | None = None
    birth_date: Day | None = None
    ecog: int | None = None
    as_of: Day | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    flags: dict = field(default_factory=dict)            # childbearing_potential, pregnant, ...
    labs: dict = field(default_factory=dict)             # analyte -> LabValue
    cytogenetics: dict = field(default_factory=dict)     # finding -> FindingResult
    conditions: dict = field(default_factory=dict)       # condition -> ConditionState
    diagnoses: list = field(default_factory=list)        # Event
    treatments: list = field(default_factory=list)       # Event
    neoplasms: list = field(default_factory=list)        # Event
    allergies: list = field(default_factory=list)        # canonical substances; '?text' if not recognised
    attestations: dict = field(default_factory=dict)     # name -> bool | None
    complete: frozenset = frozenset()
    # What the record says but the vocabulary cannot place: section -> names recorded as
    # present / detected. Rules reading that section cannot rule them out.
    unrecognised: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)         # Problem
    source: str | None = None

    def age_at(self, when: date) -> tuple[float | tuple | None, str]:
        """Age in whole years at ``when`` and how it was obtained. A recorded age (no
        birth date) holds on the record's own as-of date; at another date it is known only
        to a range (low, high): the birthday may fall anywhere in between."""
        if self.birth_date is not None:
            return float(_whole_years(self.birth_date, when)), \
                f"from birth date {self.birth_date.isoformat()} at {when.isoformat()}"
        if self.age is None:
            return None, ""
        # age in whole years, as a birth date gives it: a recorded 80.4 is 80 years old
        whole = float(math.floor(self.age))
        recorded = f"{self.age:g}" + (f" ({whole:g} whole years)" if whole != self.age else "")
        if self.as_of is None or self.as_of == when:
            return whole, "as recorded" if whole == self.age else f"{recorded} as recorded"
        if when > self.as_of:
            years = _whole_years(self.as_of, when)
            low, high = whole + years, whole + years + 1
        else:
            years = _whole_years(when, self.as_of)
            low, high = whole - years - 1, whole - years
        return (float(max(low, 0)), float(high)), \
            f"{recorded} as recorded on {self.as_of.isoformat()}, so {low:g} to {high:g} at {when.isoformat()}"


def _whole_years(first: date, last: date) -> int:
    return last.year - first.year - ((last.month, last.day) < (first.month, first.day))
