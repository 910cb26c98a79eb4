"""A bounded memo of the patient reader's pure parts, for batches.

Reading a lab value, a cytogenetics section, a conditions section or a list section is a
function of what the record holds there (and of the panel date and the source name): the
same cells give the same values, the same warnings, the same unrecognised names and the
same error. In a batch most cells repeat from row to row, so ``ReadMemo`` keeps each part's
outcome by a key of exactly those inputs and replays it: the values (containers copied, the
frozen items shared), the warnings and unrecognised names in their order, or the error.

A key is built from the inputs with their types (1, 1.0, True and '1' are four keys; floats
by their repr), so two inputs share an outcome only when they are the same data. Anything
that cannot be keyed is read afresh. The memo holds at most ``limit`` outcomes and is
emptied when full: a file whose cells never repeat costs what it cost without it, in bounded
memory. Only records read without their text (batch rows: their messages carry no line
numbers) use it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from trialscreen.errors import TrialscreenError


class Unkeyable(Exception):
    """An input the memo cannot key: it is read afresh."""


def freeze(value) -> object:
    """A hashable key of a decoded record part that tells types apart."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is dict and all(type(v) is str for v in value.values()):   # most cells of a batch row
        return ("dict",) + tuple(value.items())
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, dict):
        return ("dict",) + tuple((freeze(k), freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ("list",) + tuple(freeze(v) for v in value)
    if isinstance(value, date):
        return ("date", value.isoformat())
    raise Unkeyable(type(value).__name__)


def keep(table: dict, limit: int, key, value) -> None:
    """Store ``value`` under ``key``, emptying the table first when it holds ``limit`` entries."""
    if len(table) >= limit:
        table.clear()
    table[key] = value


class PerObject:
    """``compute(obj)`` once per live object: keyed by its id, with the object kept beside the
    value so that a later object given the same id is never taken for it."""

    def __init__(self, compute: Callable):
        self.compute = compute
        self.table: dict = {}

    def __call__(self, obj):
        kept = self.table.get(id(obj))
        if kept is None or kept[0] is not obj:
            kept = self.table[id(obj)] = (obj, self.compute(obj))
        return kept[1]


class Worth:
    """Whether keeping one kind of result pays. After ``trial`` lookups to warm up, a kind
    that missed more than half of its next ``trial`` lookups is no longer kept: its results
    are computed afresh, at the cost they had without a memo (a lab whose values all differ,
    a criterion reading six labs). A kind with a few thousand values in a large file misses
    while it warms up, then hits: it is kept."""

    def __init__(self, trial: int = 5_000):
        self.trial = trial
        self.counts: dict = {}      # kind -> [lookups, misses after the warm-up] while it is tried
        self.dropped: set = set()   # the kinds no longer kept
        self.decided: set = set()   # the kinds tried (kept or dropped)

    def kept(self, kind) -> bool:
        return kind not in self.dropped

    def count(self, kind, hit: bool) -> None:
        if kind in self.decided:
            return
        counts = self.counts.get(kind)
        if counts is None:
            counts = self.counts[kind] = [0, 0]
        counts[0] += 1
        if counts[0] > self.trial and not hit:
            counts[1] += 1
        if counts[0] == 2 * self.trial:
            self.decided.add(kind)
            if counts[1] * 2 > self.trial:
                self.dropped.add(kind)


class ReadMemo:
    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self.table: dict = {}
        self.worth = Worth()

    def read(self, r, key: tuple, compute: Callable, args: tuple, copy: Callable | None = None, kind=None):
        """``compute(r, *args)``, from the memo when the same ``key`` was read before, with its
        warnings and unrecognised names added to the reader ``r`` as ``compute`` adds them
        (or its error raised again). ``copy`` makes a fresh container of a kept value;
        ``kind`` (with ``compute``) is what ``Worth`` counts."""
        kind = (compute, kind)
        if r.text is not None or not self.worth.kept(kind):
            return compute(r, *args)
        try:
            full = (r.source, compute) + tuple(freeze(part) for part in key)
        except Unkeyable:
            return compute(r, *args)
        kept = self.table.get(full)
        self.worth.count(kind, kept is not None)
        if kept is not None:
            value, warnings, unrecognised, error = kept
            r.warnings.extend(warnings)
            for section, names in unrecognised:
                r.unrecognised.setdefault(section, []).extend(names)
            if error is not None:
                raise error
            return copy(value) if copy is not None else value
        before_warnings = len(r.warnings)
        before = {k: len(v) for k, v in r.unrecognised.items()}
        error = value = None
        try:
            value = compute(r, *args)
        except TrialscreenError as exc:
            error = exc
        added = tuple((k, tuple(v[before.get(k, 0):])) for k, v in r.unrecognised.items() if len(v) > before.get(k, 0))
        keep(self.table, self.limit, full, (value, tuple(r.warnings[before_warnings:]), added, error))
        if error is not None:
            raise error
        return copy(value) if copy is not None else value
