"""The evaluation context: one patient at one as-of date, derived values, and the optional
trace of what each leaf saw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from trialscreen.errors import UnitError
from trialscreen.evaluate.missing import NOTHING, Missing
from trialscreen.patient.model import LabValue, Patient
from trialscreen.semantics.logic import fmt
from trialscreen.units import convert
from trialscreen.units.normalize import normalize

_MG_DL = normalize("mg/dL")
_ML_MIN = normalize("mL/min")


@lru_cache(maxsize=None)
def _kinds(kind: str) -> tuple:
    """(a treatment type with every kind of it, the broader types an item might be one under)."""
    from trialscreen import vocab

    covered, maybe = vocab.kinds(vocab.treatments(), [kind])
    return frozenset(covered), frozenset(maybe)


@dataclass(frozen=True, slots=True)
class Check:
    """What one leaf saw: its value, which case it met (``what``, such as 'lab.compared'),
    the facts of that case (the lab value, the threshold, the factor, a date ...) and the
    data to fetch. Plain data: trialscreen.explain writes the words. ``decisive`` is False for a
    check of an item that did not decide its junction (shown in the checks, not in the reason)."""

    node: object
    result: bool | None
    what: str
    facts: dict
    missing: tuple
    decisive: bool = True


class Context:
    __slots__ = ("patient", "as_of", "trace", "_derived", "lab_window", "leaves")

    def __init__(self, patient: Patient, as_of: date, trace: bool, lab_window: tuple):
        self.patient = patient
        self.as_of = as_of
        # the Check records of the leaves evaluated, when the caller wants an explanation
        self.trace: list[Check] | None = [] if trace else None
        self._derived: dict = {}
        # (Duration, whose it is): how old a lab may be when a criterion gives no window
        self.lab_window = lab_window
        # a batch's memo of leaf results (evaluate/reuse.py), or None
        self.leaves: Any = None

    def record(self, node, result, what: str, missing=NOTHING, **facts) -> None:
        """Add a leaf's Check to the trace (callers test ``ctx.trace is not None`` first
        where building the facts costs anything)."""
        if self.trace is not None:
            self.trace.append(Check(node, result, what, facts, tuple(missing)))

    # --- fields -------------------------------------------------------------------------
    def field(self, name: str):
        """(value, how it was obtained, missing) of a patient field."""
        p = self.patient
        if name == "age":
            age, how = p.age_at(self.as_of)
            shown = how if p.birth_date or isinstance(age, tuple) or how != "as recorded" else ""
            return age, shown, (Missing("age", alt="birth_date"),)
        if name == "weight":
            return p.weight_kg, "kg", (Missing("weight"),)
        if name == "height":
            return p.height_cm, "cm", (Missing("height"),)
        if name in ("sex", "ecog"):
            return getattr(p, name), "", (Missing(name),)
        return p.flags.get(name), "", (Missing(name),)

    def latest_treatment_date(self, kind: str) -> tuple:
        """(the last day of the latest finished treatment of this kind or a kind of it, the
        paths of later items that might be one): the anchor of 'within N after ...'. Ongoing
        or future treatments are no anchor. An item recorded only as a broader type ('stem
        cell transplant') or under a type the vocabulary does not know, finished after that
        day, might be a later one, and so might one with no date at all and one that ended on a
        day nobody recorded (its path then names its end): then the anchor is in doubt."""
        kinds, maybe = _kinds(kind)
        last = None
        for t in self.patient.treatments:
            end = t.span()[1]
            if t.kind in kinds and end is not None and end <= self.as_of and (last is None or end > last):
                last = end
        doubt = tuple(f"treatments[{t.index}]" for t in self.patient.treatments
                      if (t.kind in maybe or not t.known) and (end := t.span()[1]) is not None
                      and end <= self.as_of and (last is None or end > last))
        # one of this kind (or that might be) with no date at all might be the latest
        undated = tuple(f"treatments[{t.index}]" for t in self.patient.treatments
                        if (t.kind in kinds or t.kind in maybe or not t.known) and t.span() == (None, None))
        # one that ended on a day nobody recorded (on or before the as-of date) may have ended
        # after that day, unless that day is the as-of date itself
        ended = tuple(f"treatments[{t.index}].end" for t in self.patient.treatments
                      if (t.kind in kinds or t.kind in maybe or not t.known) and t.end_unknown
                      and t.span()[0] is not None and t.span()[0] <= self.as_of
                      and (last is None or last < self.as_of))
        return last, doubt + undated + ended

    # --- labs ---------------------------------------------------------------------------
    def lab(self, analyte):
        """(LabValue or None, missing, note). Derives what can be derived."""
        lab = self.patient.labs.get(analyte.name)
        if lab is not None:
            if lab.problem:
                return None, (Missing(f"labs.{analyte.name}", lab.problem),), lab.problem
            if lab.value is None:
                return None, (Missing(f"labs.{analyte.name}"),), f"the result is qualitative: {lab.raw}"
            return lab, NOTHING, ""
        derive = DERIVATIONS.get(analyte.name)
        if derive is None:
            return None, (Missing(f"labs.{analyte.name}"),), ""
        if analyte.name not in self._derived:
            self._derived[analyte.name] = derive(self)
        return self._derived[analyte.name]


def cockcroft_gault(ctx: Context):
    """Creatinine clearance (mL/min) = (140 - age) x weight kg / (72 x creatinine mg/dL),
    x 0.85 for women (Cockcroft & Gault 1976; not normalised to 1.73 m2)."""
    p = ctx.patient
    missing = [Missing("labs.crcl", "or the Cockcroft-Gault inputs below")]
    need = []
    creat = p.labs.get("creatinine")
    age, _ = p.age_at(ctx.as_of)
    if creat is None or creat.value is None:
        need.append(Missing("labs.creatinine", creat.problem if creat is not None else ""))
    if age is None or isinstance(age, tuple):
        need.append(Missing("birth_date") if isinstance(age, tuple) else Missing("age", alt="birth_date"))
    if p.weight_kg is None:
        need.append(Missing("weight"))
    if p.sex not in ("female", "male"):
        need.append(Missing("sex"))
    if need:
        return None, tuple(missing + need), "creatinine clearance not given and cannot be computed"
    assert creat is not None and creat.value is not None and isinstance(age, float) and p.weight_kg is not None
    if creat.censor:
        return None, (Missing("labs.crcl"),), f"creatinine {creat.raw} is a bound; Cockcroft-Gault needs a value"
    from trialscreen.vocab import analytes

    try:
        scr = creat.value * convert.factor(creat.unit, _MG_DL, analytes().get("creatinine"))
    except UnitError:
        return None, (Missing("labs.crcl"),), f"creatinine {creat.raw} cannot be converted to mg/dL"
    if scr <= 0:
        return None, (Missing("labs.crcl"),), "creatinine must be above zero for Cockcroft-Gault"
    value = (140 - age) * p.weight_kg / (72 * scr)
    sex_factor = ""
    if p.sex == "female":
        value *= 0.85
        sex_factor = " x 0.85 (female)"
    how = (f"Cockcroft-Gault: (140 - {fmt(age)} y) x {fmt(p.weight_kg)} kg / "
           f"(72 x creatinine {fmt(scr)} mg/dL){sex_factor}")
    raw = f"{fmt(value)} mL/min"
    # as old as the creatinine it comes from: its date (or its absence) is the creatinine's
    return LabValue("crcl", value, _ML_MIN, raw, date=creat.date, field=creat.field), NOTHING, how


DERIVATIONS = {"crcl": cockcroft_gault}
