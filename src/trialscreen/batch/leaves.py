"""Leaf results of a batch's fast path (batch/reuse.py), by the leaf, the trial and the
readings of the groups the leaf reads; each distinct result is one ``Leaf`` object, so that
the same leaf results give the same criterion result without evaluating it again."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from trialscreen.evaluate.core import EVALUATORS


def readings_of(groups, columns: list, size: int, rows: list | None = None) -> list:
    """The keys of ``size`` rows (all, or the indices ``rows``) by the readings of ``groups``
    (group numbers into the readings ``columns``): None without groups, the reading itself
    for one group, else the tuple of readings, as a row's getter gives them."""
    if groups is None:
        return [None] * size
    picked = [columns[j] if rows is None else [columns[j][i] for i in rows] for j in groups]
    return picked[0] if len(groups) == 1 else list(zip(*picked))


class Leaf:
    """One distinct result of one leaf: its value and the checks it recorded."""

    __slots__ = ("value", "trace")

    def __init__(self, value: tuple, trace: tuple):
        self.value = value
        self.trace = trace


class LeafResults:
    """Leaf results on the fast path, by the leaf, the trial and the readings of the groups
    the leaf reads (the ``leaves`` of evaluate/core.py), each distinct result one ``Leaf``:
    a criterion whose readings are new (six labs together) has its leaves judged already,
    and the same leaf results give the same criterion result."""

    def __init__(self, rows):       # the DistinctRows whose rows these are
        self.rows = rows
        self.nodes: dict = {}     # id(node) -> (node, groups, getter, {trial number: table})
        self.interned: dict = {}
        self.row: Any = None      # the _Row being screened
        self.trial = 0

    def entry(self, node) -> tuple:
        """(node, groups, getter, {trial: table}) of a node; groups False for a junction or a
        leaf reading a path this table does not know."""
        entry: Any = self.nodes.get(id(node))
        if entry is None or entry[0] is not node:
            groups: Any = False if node.children() else self.rows.groups_read(node.reads())
            get = itemgetter(*groups) if groups else None
            entry = self.nodes[id(node)] = (node, groups, get, {})
        return entry

    def leaf(self, node, ctx) -> Leaf | None:
        """The leaf's result for the row (judged if new; the trace left as it was), or None
        for a junction or a leaf reading a path this table does not know."""
        _, groups, get, tables = self.entry(node)
        if groups is False:
            return None
        table = tables.get(self.trial)
        if table is None:
            table = tables[self.trial] = {}
        key = get(self.row.readings) if get is not None else None
        kept = table.get(key)
        if kept is None:
            if ctx.patient is None:
                ctx.patient = self.row.patient()
            trace = ctx.trace
            start = len(trace) if trace is not None else 0
            value = EVALUATORS[type(node)](node, ctx)
            recorded = ()
            if trace is not None:
                recorded = tuple(trace[start:])
                del trace[start:]
            kept = self._intern(node, value, recorded)
            self.rows.keep(table, key, kept)
        return kept

    def column(self, node, columns: list, rows: list, number: int, trial, row) -> list | None:
        """The leaf's result for each of ``rows`` (indices into the readings ``columns``),
        from its table where the row's readings were seen, else judged (``leaf``); None for a
        junction or a path this table does not know."""
        _, groups, _, tables = self.entry(node)
        if groups is False:
            return None
        table = tables.get(number)
        keys = readings_of(groups, columns, len(rows), rows)
        got = list(map(table.get, keys)) if table is not None else [None] * len(rows)
        if None in got:
            self.trial = number
            for k, leaf in enumerate(got):
                if leaf is None:
                    self.row = row(rows[k])
                    got[k] = self.leaf(node, self.row.context(trial))
        return got

    def _intern(self, node, value: tuple, recorded: tuple) -> Leaf:
        key = (id(node), self.trial, value, recorded)
        try:
            kept = self.interned.get(key)
        except TypeError:         # checks with facts that cannot be hashed: not shared
            self.rows.kept += self.cost(recorded)
            return Leaf(value, recorded)
        if kept is None:
            kept = Leaf(value, recorded)
            self.rows.keep(self.interned, key, kept, self.cost(recorded))
        return kept

    def cost(self, recorded: tuple) -> int:
        """The bytes a distinct leaf result is counted (batch/reuse.py ``_COST``)."""
        cost = self.rows.costs
        return cost["leaf"] + cost["check"] * len(recorded)

    def result(self, node, ctx, judge):
        kept = self.leaf(node, ctx)
        if kept is None:
            if ctx.patient is None and not node.children():
                ctx.patient = self.row.patient()
            return judge(node, ctx)
        if ctx.trace is not None:
            ctx.trace.extend(kept.trace)
        return kept.value
