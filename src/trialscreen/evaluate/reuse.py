"""Criteria evaluated once per distinct input, for the batch rows read whole (a row on the
fast path, batch/reuse.py, is keyed by its cells instead).

A criterion's result is a function of the patient fields its rule reads (the IR's
``reads()``), of the as-of date, of the lab window and of whether a trace is kept: two rows
that agree on those give the same result. ``CriterionMemo`` keeps each result by a key of
exactly those values and hands it to the next row that has the same ones, so the evaluator
runs once per distinct input, not once per row. It is the same evaluator: nothing here
judges a rule.

``view(patient, path)`` is the one table of how a path of ``reads()`` is looked up on the
patient model; a path it does not know makes the criterion evaluated afresh (never a
guess). The memo holds at most ``limit`` results and is emptied when full.
"""

from __future__ import annotations

from datetime import date

from trialscreen.patient.memo import PerObject, Unkeyable, Worth, freeze, keep

_SCALARS = {"sex": "sex", "ecog": "ecog", "birth_date": "birth_date", "weight": "weight_kg",
            "height": "height_cm"}
_EVENTS = ("diagnoses", "treatments", "neoplasms")


def _event(e) -> tuple:
    return (e.kind, e.date, e.start, e.end, freeze(e.attrs), e.index, e.known, e.end_unknown)


def _lab(lab) -> tuple:
    """A lab value with its numbers also by their repr: values that compare equal but print
    differently (-0.0 and 0.0) must not share an explanation."""
    if lab is None:
        return (None,)
    return lab, repr(lab.value), repr(lab.uln), repr(lab.lln), repr(lab.spread)


def view(patient, path: str) -> object:
    """What the patient holds at ``path`` (a path of ``Node.reads()``), as a hashable value
    whose equality is the data's (numbers typed and by repr: -0.0 is not 0.0, 1 is not 1.0)."""
    head, _, name = path.partition(".")
    if name:
        if head == "labs":
            return _lab(patient.labs.get(name))
        if head == "cytogenetics":
            result = patient.cytogenetics.get(name)
            return result, (freeze(result.percent) if result is not None else None)
        if head == "conditions":
            states = tuple(patient.conditions.get(name, ()))
            return states, tuple(freeze(s.grade) for s in states)
        if head == "attestations":
            return patient.attestations.get(name)
        if head == "complete":
            return name in patient.complete
        if head == "unrecognised":
            return tuple(patient.unrecognised.get(name, ()))
        raise Unkeyable(path)
    if head in _EVENTS:
        return tuple(_event(e) for e in getattr(patient, head))
    if head == "allergies":
        return tuple(patient.allergies)
    if head == "age":   # a recorded age holds on the record's own as-of date
        return freeze(patient.age), patient.as_of
    if head in _SCALARS:
        value = getattr(patient, _SCALARS[head])
        return value if value is None or isinstance(value, (str, date)) else freeze(value)
    return ("flag", freeze(patient.flags.get(head)))   # ctx.field reads any other name as a yes/no flag


def _viewed(patient, paths: tuple, seen: dict) -> tuple:
    """The patient's values at ``paths``, each looked up once per patient (``seen``)."""
    parts = []
    for path in paths:
        if path not in seen:
            seen[path] = view(patient, path)
        parts.append(seen[path])
    return tuple(parts)


class LeafMemo:
    """Leaf results (value, missing and the checks recorded) by the leaf and its inputs."""

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self.table: dict = {}
        # the paths a node reads, or None for a junction (all / any / not / a reference)
        self.paths = PerObject(lambda node: None if node.children() else tuple(sorted(node.reads())))
        self.seen: dict = {}       # the current patient's looked-up paths
        self.worth = Worth()

    def result(self, node, ctx, judge):
        paths = self.paths(node)
        if paths is None or not self.worth.kept(id(node)):   # a junction: its items are leaves
            return judge(node, ctx)
        try:
            key = (id(node), ctx.as_of, ctx.lab_window, ctx.trace is not None,
                   _viewed(ctx.patient, paths, self.seen))
            kept = self.table.get(key)
        except (Unkeyable, TypeError):
            return judge(node, ctx)
        trace = ctx.trace
        hit = kept is not None and kept[0] is node
        self.worth.count(id(node), hit)
        if kept is not None and hit:
            if trace is not None:
                trace.extend(kept[2])
            return kept[1]
        start = len(trace) if trace is not None else 0
        value = judge(node, ctx)
        keep(self.table, self.limit, key, (node, value, tuple(trace[start:]) if trace is not None else ()))
        return value


class CriterionMemo:
    def __init__(self, limit: int = 20_000):
        self.limit = limit
        self.table: dict = {}
        self.paths = PerObject(lambda criterion: tuple(sorted(criterion.reads())))
        self.leaves = LeafMemo()
        self.worth = Worth()

    def begin(self, ctx) -> None:
        """Start screening ``ctx``'s patient: its leaves go through the leaf memo, and its
        fields are looked up afresh."""
        ctx.leaves = self.leaves
        self.leaves.seen = {}

    def result(self, criterion, ctx, evaluate_criterion):
        """``evaluate_criterion(criterion, ctx)``, or the result of an earlier row whose
        inputs to this criterion were the same."""
        if not self.worth.kept(id(criterion)):
            return evaluate_criterion(criterion, ctx)
        try:
            key = (id(criterion), ctx.as_of, ctx.lab_window, ctx.trace is not None,
                   _viewed(ctx.patient, self.paths(criterion), self.leaves.seen))
            kept = self.table.get(key)
        except (Unkeyable, TypeError):   # TypeError: a value that cannot be hashed
            return evaluate_criterion(criterion, ctx)
        hit = kept is not None and kept[0] is criterion
        self.worth.count(id(criterion), hit)
        if kept is not None and hit:
            return kept[1]
        result = evaluate_criterion(criterion, ctx)
        keep(self.table, self.limit, key, (criterion, result))
        return result
