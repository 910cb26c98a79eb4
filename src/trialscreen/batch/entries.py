"""What the fast path's tables hold (batch/reuse.py): a group's reading, a criterion's
result, a trial's outcome, and each criterion with its own tables."""

from __future__ import annotations

from trialscreen.ir import walk
from trialscreen.patient.model import Patient


class Reading:
    """One distinct tuple of a group's cells, read: its identity stands for those cells."""

    __slots__ = ("part",)

    def __init__(self, part: Patient):
        self.part = part


class Evaluated:
    """One criterion's result for one combination of readings."""

    __slots__ = ("result",)

    def __init__(self, result):
        self.result = result


class Outcome:
    """One trial's result for one combination of criterion results: its line and its counts."""

    __slots__ = ("result", "template", "counted")

    def __init__(self, result, template, counted: tuple):
        self.result = result
        self.template = template
        self.counted = counted


class Criterion:
    """A criterion on the fast path: the getter of the readings it reads, its results by
    those readings, its leaves, and its results by its leaves' results."""

    __slots__ = ("criterion", "get", "evaluated", "leaves", "signed")

    def __init__(self, criterion, get):
        self.criterion = criterion
        self.get = get            # the numbers of the groups it reads, None, or False
        self.evaluated: dict = {}
        roots = [criterion.rule] + ([criterion.applies_if] if criterion.applies_if is not None else [])
        self.leaves = tuple({n: None for root in roots for n in walk(root) if not n.children()})
        self.signed: dict = {}
