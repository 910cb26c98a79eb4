"""Warnings for trial authors (shown by `trialscreen validate`).

- thresholds that contradict each other: two comparisons of one value under
  the same ``all`` that no value can satisfy together;
- comparisons no patient can satisfy (an age above 130, a lab value below 0);
- drift between text and logic: a number in the protocol text that appears
  nowhere in the criterion's logic (or in its note, where an author explains
  why, e.g. a window left to an attestation).
"""

from __future__ import annotations

import math
import re

from trialscreen.errors import Location, Problem, UnitError
from trialscreen.ir import (
    Absolute,
    All,
    ConditionTest,
    FieldTest,
    FindingTest,
    LabTest,
    NeoplasmTest,
    TreatmentTest,
    walk,
)
from trialscreen.patient.fields import FIELDS
from trialscreen.semantics.logic import fmt
from trialscreen.units import convert

# What a patient field can hold (the patient reader refuses anything else).
FIELD_RANGE = {name: f.range for name, f in FIELDS.items() if f.range is not None}
# A number standing alone: not part of a name such as t(4;14), 17p or 1q21, nor
# an exponent (10^9), and always whole ("1.65)" is 1.65, never 1).
_NUMBER = re.compile(r"(?<![\w(;./^])(\d+(?:\.\d+)?)(?![\w^]|\.\d|;)")


def lint_trial(trial) -> list[Problem]:
    out: list[Problem] = []
    for c in trial.criteria:
        where = Location(trial.path, c.line, None)
        for rule in (c.applies_if, c.rule):
            if rule is None:
                continue
            for node in walk(rule):
                if isinstance(node, All):
                    out.extend(Problem(where, f"{c.id}: {m}", severity="warning") for m in _contradictions(node))
                out.extend(Problem(where, f"{c.id}: {m}", severity="warning") for m in _impossible(node))
        for number in _drift(c):
            out.append(Problem(where, f"{c.id}: the text mentions {number}, which appears nowhere in the "
                               "logic", "encode it, or say in the criterion's note why it is not",
                               severity="warning"))
    return out


def _bounds(node):
    """(subject, op, value) for simple numeric comparisons, in one unit per subject."""
    if isinstance(node, LabTest) and len(node.alternatives) == 1:
        op, thr = node.alternatives[0]
        if isinstance(thr, Absolute):
            family = node.analyte.units[0] if node.analyte.units else thr.unit
            try:
                value = thr.value * convert.factor(thr.unit, family, node.analyte)
            except UnitError:
                return None
            return (f"{node.analyte.name} ({family})", op, value, f"{node.analyte.name} {op} {thr.text}")
    if isinstance(node, FieldTest) and node.op in ("<", "<=", ">", ">=") and isinstance(node.value, float):
        return (node.field, node.op, node.value, f"{node.field} {node.op} {fmt(node.value)}")
    return None


def _feasible(ops) -> bool:
    lo, lo_open, hi, hi_open = -math.inf, False, math.inf, False
    for op, v in ops:
        if op in (">", ">=") and (v > lo or (v == lo and op == ">")):
            lo, lo_open = v, op == ">"
        if op in ("<", "<=") and (v < hi or (v == hi and op == "<")):
            hi, hi_open = v, op == "<"
    return lo < hi or (lo == hi and not lo_open and not hi_open)


def _contradictions(node: All) -> list[str]:
    groups: dict = {}
    for child in node.items:
        b = _bounds(child)
        if b:
            groups.setdefault(b[0], []).append(b)
    out = []
    for items in groups.values():
        if len(items) > 1 and not _feasible([(op, v) for _, op, v, _ in items]):
            out.append("thresholds contradict each other: " + " and ".join(t for *_, t in items)
                       + " cannot both hold")
    return out


def _impossible(node) -> list[str]:
    if isinstance(node, FieldTest) and node.field in FIELD_RANGE and isinstance(node.value, float):
        lo, hi = FIELD_RANGE[node.field]
        if not _feasible([(">=", lo), ("<=", hi), (node.op, node.value)]):
            return [f"no patient can have {node.field} {node.op} {fmt(node.value)} "
                    f"(possible: {fmt(lo)} to {fmt(hi)})"]
    if isinstance(node, LabTest):
        for op, thr in node.alternatives:
            if not isinstance(thr, Absolute) or op not in ("<", "<="):
                continue
            if thr.value < 0 or (thr.value == 0 and op == "<"):
                return [f"no lab value can be {op} {thr.text}"]
    return []


def _logic_numbers(criterion) -> set[float]:
    nums: set[float] = set()
    for rule in (criterion.applies_if, criterion.rule):
        if rule is None:
            continue
        for node in walk(rule):
            if isinstance(node, LabTest):
                if node.within:
                    nums.add(node.within.n)
                for _, thr in node.alternatives:
                    nums.update(float(x) for x in re.findall(r"\d+(?:\.\d+)?", thr.text))
                    if isinstance(thr, Absolute):
                        nums.add(thr.value)
                        try:  # the same threshold in the analyte's other units
                            for fam in node.analyte.units:
                                nums.add(round(thr.value * convert.factor(thr.unit, fam, node.analyte), 6))
                        except UnitError:
                            pass
            elif isinstance(node, FieldTest):
                values = node.value if isinstance(node.value, (tuple, frozenset)) else (node.value,)
                nums.update(float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
            elif isinstance(node, ConditionTest) and node.grade:
                nums.add(node.grade[1])
            elif isinstance(node, FindingTest) and node.min_percent:
                nums.add(node.min_percent)
            window = getattr(node, "window", None)  # diagnosis, condition and treatment rules
            if window is not None:
                nums.add(window.within.n)
            if isinstance(node, TreatmentTest) and node.duration:
                nums.add(node.duration[1].n)
            if isinstance(node, NeoplasmTest) and node.free_for:
                nums.add(node.free_for.n)
    return nums


def _drift(criterion) -> list[str]:
    text = re.sub(r"(\d),(\d{3})", r"\1\2", criterion.text)
    known = _logic_numbers(criterion)
    known.update(float(x) for x in re.findall(r"\d+(?:\.\d+)?", criterion.note or ""))
    out = []
    for m in _NUMBER.finditer(text):
        value = float(m.group(1))
        if not any(math.isclose(value, k, rel_tol=1e-6) for k in known) and m.group(1) not in out:
            out.append(m.group(1))
    return out
