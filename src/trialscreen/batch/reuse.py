"""Batch rows screened once per distinct input: the fast path of ``trialscreen batch``.

A file's columns fall into groups that the patient reader reads apart (batch/groups.py):
what the reader makes of a group depends only on that group's cells, and a criterion's
result only on the groups holding what its rule reads (the IR's ``reads()``), on the as-of
date and on the lab window. Rows come in blocks, and each step runs over a whole block at
once, so that a row whose every part was seen before costs a few dictionary lookups:

1. each group's cells are looked up in a table of the distinct cells that group has had; a
   new one is read once, as a row of those columns alone (with the id), by the same
   ``row_to_record`` and ``patient_from_dict`` as any row;
2. each criterion is looked up by the readings of the groups it reads. For a combination
   not seen before, its leaves are looked up by the readings each reads (batch/leaves.py),
   and the criterion by its leaves' results: a criterion reading six labs whose values
   never repeat together is evaluated once per distinct set of leaf results, not per row.
   What is new is evaluated by the one evaluator (``evaluate_criterion``) on the row's
   patient put together from its groups. A criterion that reads no column of the file has
   one combination: it is evaluated once for the file (per as-of date);
3. each trial's combination of criterion results is looked up; a new one is combined
   (``combine``: verdict, data to fetch), its output line rendered once less its patient id
   and row number, and counted from then on by its verdict, failed and unknown criteria.

Nothing here judges a rule: the tables only say which earlier evaluation a row can take.
Only groups read cleanly are used: when a group gave an error, a warning or a name the
vocabulary could not place, or an evaluation raised, the row is read and screened whole
(``run.py``), so its messages and error rows come out exactly as they always did. A plan
this module cannot group (a coded value for an empty cell, a coded id) is read row by row,
and so is a file whose cells hardly repeat: the first block of rows warms the tables up, the
second is timed on this path and the third row by row, and the rest of the file goes the
faster way (both give the same output). Every table holds at most ``limit`` entries, and all
of them together about ``budget`` bytes (each entry counted by the size measured for its kind,
``_COST``): then they are all emptied, and the two ways are timed again.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from operator import itemgetter

from trialscreen.batch.columns import ColumnPlan
from trialscreen.batch.entries import Criterion, Evaluated, Outcome, Reading
from trialscreen.batch.groups import assemble, column_groups, group_of
from trialscreen.batch.leaves import LeafResults, readings_of
from trialscreen.batch.rows import row_to_record
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.screen import combine, evaluate_criterion, lab_window
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import Unkeyable, freeze, keep
from trialscreen.patient.model import Patient

# Rows per block: the first warms the tables up, the second is timed on the fast path and the
# third row by row, and the faster path reads the rest of the file.
_TRIAL_ROWS = 512
_clock = time.perf_counter
# Bytes the tables of one file keep between them before they are emptied, each entry counted
# by the size of its kind, as measured on the bench files (Python object sizes, what the
# entry alone holds): a reading holds a part of a patient; a key of a leaf, criterion or trial
# table a tuple of readings; a distinct criterion result its checks (and, explained, its
# trace); a distinct leaf result its recorded checks; an outcome its output line (JSON Lines
# with explanations: about 20 KiB).
_BUDGET = 100 * 2**20
_COST = {"reading": 1700, "key": 120, "result": 900, "explained": 3000, "leaf": 300, "check": 300, "outcome": 600}


_UNUSABLE = object()      # a group whose reading must come from the whole row
_FEW = 16                 # new combinations in a block evaluated row by row; more, by their leaves at once


class DistinctRows:
    """The fast path of one batch file: ``outcomes(block)`` gives each row's outcomes from
    the distinct readings, evaluations and outcomes before it, or None for a row to read whole."""

    def __init__(self, plan: ColumnPlan, source: str, trials, tallies, writer, as_of: date | None,
                 max_lab_age, memo=None, limit: int = 50_000, today: date | None = None):
        self.source = source
        self.today = today or date.today()   # the as-of date of rows with none
        self.memo = memo                      # the record-part memo (patient/memo.py)
        self.writer = writer
        self.as_of = as_of
        self.max_lab_age = max_lab_age
        self.limit = limit
        groups = column_groups(plan)
        id_column = next(c for c in plan.columns if c.kind == "id")
        self.on = groups is not None and id_column.values is None
        self.plain = False         # the rest of the file row by row, without memos: its cells hardly repeat
        self.missing = plan.missing
        groups = groups or []
        # per group: the getter of its cells, its table of readings, the plan of its columns alone
        self.getters = [itemgetter(*indices) for _, indices, _ in groups]
        self.tables: list[dict] = [{} for _ in groups]
        self.plans = [replace(plan, columns=[id_column, *columns], roles={}) for _, _, columns in groups]
        self.names = [name for name, _, _ in groups]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.dates = self.index.get("person.dates") if as_of is None else None   # the row's own as-of date
        self.leaves = LeafResults(self)
        self.results: dict = {}      # each distinct criterion result, by its value: equal results are one
        self.trials: list = []
        for trial, tally in zip(trials, tallies):
            criteria = [Criterion(c, self.groups_read(c.reads())) for c in trial.criteria]
            # a path this table does not know: every row is read whole
            self.on = self.on and all(c.get is not False for c in criteria)
            self.trials.append((trial, tally, criteria, {}))
        self.decided = not self.on            # after the trials: a path this table does not know turns it off
        self.block = _TRIAL_ROWS              # rows per block (batch/run.py)
        # bytes kept in all tables together (readings, leaf and criterion results, outcomes):
        # at most ``budget`` (and a block's worth), then every table is emptied
        self.kept = 0
        self.budget = _BUDGET
        self.costs = _COST                    # bytes counted per entry, by kind
        self.result_cost = _COST["explained" if writer.explain else "result"]
        self.rows = 0                         # rows timed so far
        self.started = 0.0
        self.seconds = {True: 0.0, False: 0.0}   # time of the timed blocks, on this path and row by row

    def groups_read(self, paths):
        """The numbers of the groups that hold ``paths`` (and the row's as-of date when the
        batch has none), None when there are none, or False for a path this table does not know."""
        names = {group_of(path) for path in paths}
        if None in names:
            return False
        read = {self.index[n] for n in names if n in self.index} | ({self.dates} if self.dates is not None else set())
        return tuple(sorted(read)) or None

    def outcomes(self, block: list) -> list:
        """For each row of ``block`` ([(cells, id)]), its outcome per trial, or None: the
        row is to be read and screened whole. Each step runs over the whole block at once
        (a group's cells looked up for every row, then each criterion's readings, then each
        trial's results), so that a row whose every part was seen before costs a few
        dictionary lookups; only what is new is read, evaluated and combined."""
        if not self.on:
            return [None] * len(block)
        if self.kept > self.budget:
            # emptied; once the way was chosen, it is chosen again. While the two ways are
            # being timed they are not timed afresh, else a file that fills the tables
            # within a block would never be read row by row
            self._empty() if self.decided else self._clear()
        rows = [cells for cells, _ in block]
        bad = {i for i, (_, pid) in enumerate(block) if not pid or pid.lower() in self.missing}
        columns = []
        for number, (get, table) in enumerate(zip(self.getters, self.tables)):
            column = list(map(table.get, map(get, rows)))
            if None in column:
                for i, reading in enumerate(column):
                    if reading is None and i not in bad:
                        column[i] = table.get(get(rows[i])) or self._read(number, rows[i])
            if _UNUSABLE in column:
                bad.update(i for i, reading in enumerate(column) if reading is _UNUSABLE)
            columns.append(column)
        made: dict = {}     # the _Row of each row that had something new

        def row(i: int) -> _Row:
            if i not in made:
                made[i] = _Row(self, [column[i] for column in columns], block[i][1])
            return made[i]

        per_trial = []
        for number, (trial, tally, criteria, table) in enumerate(self.trials):
            results = [self._results(c, columns, len(rows), bad, row, number, trial) for c in criteria]
            if self.dates is not None:
                results.append(columns[self.dates])
            keys = list(zip(*results)) if results else [()] * len(rows)
            outcomes = list(map(table.get, keys))
            if None in outcomes:
                for i, outcome in enumerate(outcomes):
                    if outcome is None and i not in bad:
                        outcome = outcomes[i] = table.get(keys[i])
                        if outcome is None:
                            outcome = outcomes[i] = self._outcome(row(i), trial, tally, keys[i][:len(criteria)])
                            self.keep(table, keys[i], outcome, _COST["outcome"] + _size(outcome.template))
            per_trial.append(outcomes)
        return [None if i in bad else list(outcomes) for i, outcomes in enumerate(zip(*per_trial))] \
            if per_trial else [None] * len(rows)

    def _results(self, c: Criterion, columns: list, size: int, bad: set, row, number: int, trial) -> list:
        """Criterion ``c``'s result (an Evaluated) for each row, evaluating what is new; a row
        where evaluating raised is put in ``bad``."""
        keys = readings_of(c.get, columns, size)
        results = list(map(c.evaluated.get, keys))
        if None not in results:
            return results
        new = [i for i, got in enumerate(results) if got is None and i not in bad]
        if len(new) > _FEW and (signed := self._signed(c, columns, new, row, number, trial)) is not None:
            for i, got in zip(new, signed):
                results[i] = got
                if got is None:
                    bad.add(i)
                else:
                    self.keep(c.evaluated, keys[i], got)
            return results
        for i in new:
            got = results[i] = c.evaluated.get(keys[i])
            if got is None:
                got = results[i] = self._by_leaves(row(i), number, trial, c)
                if got is None:
                    bad.add(i)
                else:
                    self.keep(c.evaluated, keys[i], got)
        return results

    def _signed(self, c: Criterion, columns: list, new: list, row, number: int, trial) -> list | None:
        """For many rows whose readings criterion ``c`` had not seen together (six labs), its
        results by its leaves' results, looked up for all those rows at once: [Evaluated or
        None where evaluating raised], or None to go row by row."""
        try:
            leaves = [self.leaves.column(node, columns, new, number, trial, row) for node in c.leaves]
        except Exception:  # noqa: BLE001 - a bug: row by row, where the row that raised is reported
            return None
        if any(column is None for column in leaves):
            return None
        if self.dates is not None:
            leaves.append(readings_of((self.dates,), columns, len(new), new))
        keys = list(zip(*leaves))
        got = list(map(c.signed.get, keys))
        for k, evaluated in enumerate(got):
            if evaluated is None:
                evaluated = got[k] = c.signed.get(keys[k]) or self._evaluate(row(new[k]), number, trial, c.criterion)
                if evaluated is not None:
                    self.keep(c.signed, keys[k], evaluated)
        return got

    def keep(self, table: dict, key, value, weight: int = _COST["key"]) -> None:
        """Keep an entry in one of the tables, a new one counted against the budget by its
        ``weight`` (bytes)."""
        if key not in table:
            self.kept += weight
        keep(table, self.limit, key, value)

    def begin(self) -> None:
        """A block starts (``timed`` ends it)."""
        self.started = _clock()

    def timed(self, rows: int) -> None:
        """Count a block screened (on this path if ``on``, else row by row) and its time. The
        first block warms the tables up; the second is timed on this path, the third row by
        row; then the faster of the two screens the rest of the file."""
        if self.decided:
            return
        seconds = _clock() - self.started
        self.rows += rows
        if self.rows <= self.block:
            return
        self.seconds[self.on] += seconds
        if self.rows <= 2 * self.block:
            self.on = False           # the next block row by row, as it would go on
            self.plain = True
        else:
            self.decided = True
            self.on = self.seconds[True] <= self.seconds[False]
            self.plain = not self.on
            if not self.on:           # the cells hardly repeat: the rest row by row, the tables emptied
                self._clear()

    def _empty(self) -> None:
        """Empty every table (they hold ``budget`` bytes between them) and time the two
        ways again: the cells of the next rows may repeat less, or more."""
        self._clear()
        self.decided = False
        self.rows = 0
        self.seconds = {True: 0.0, False: 0.0}

    def _clear(self) -> None:
        self.kept = 0
        self.tables = [{} for _ in self.tables]
        self.results = {}
        self.leaves = LeafResults(self)
        for _, _, criteria, table in self.trials:
            table.clear()
            for c in criteria:
                c.evaluated.clear()
                c.signed.clear()

    def _read(self, number: int, cells: list[str]):
        """The reading of group ``number``'s cells in this row (kept), or _UNUSABLE."""
        try:
            record, _ = row_to_record(self.plans[number], cells)
            part = patient_from_dict(record, self.source, memo=self.memo)
        except Exception:  # noqa: BLE001 - an error (or a bug) is the whole row's to report, as before
            part = None
        reading = Reading(part) if part is not None and not part.warnings and not part.unrecognised else _UNUSABLE
        self.keep(self.tables[number], self.getters[number](cells), reading, _COST["reading"])
        return reading

    def _by_leaves(self, row: _Row, number: int, trial, c: Criterion) -> Evaluated | None:
        """The result of criterion ``c`` for a row whose readings it has not had: the result
        of an earlier row whose leaves gave the same results, or evaluated."""
        self.leaves.row, self.leaves.trial = row, number
        ctx = row.context(trial)
        try:
            signature = tuple(self.leaves.leaf(node, ctx) for node in c.leaves)
        except Exception:  # noqa: BLE001 - a bug: the whole-row path reports it
            return None
        if None in signature:
            return self._evaluate(row, number, trial, c.criterion)
        key = signature if self.dates is None else (row.readings[self.dates], signature)
        got = c.signed.get(key)
        if got is None:
            got = self._evaluate(row, number, trial, c.criterion)
            if got is not None:
                self.keep(c.signed, key, got)
        return got

    def _evaluate(self, row: _Row, number: int, trial, criterion) -> Evaluated | None:
        """The criterion evaluated for the row (its leaves through ``self.leaves``), as the one
        object standing for that result, or None if evaluating raised (a bug: the whole-row
        path reports it)."""
        self.leaves.row, self.leaves.trial = row, number
        try:
            result = evaluate_criterion(criterion, row.context(trial))
        except Exception:  # noqa: BLE001
            return None
        try:
            key = (id(criterion), result.status, result.reason, freeze(result.checks), tuple(result.missing))
            hash(key)
        except (Unkeyable, TypeError):
            self.kept += self.result_cost
            return Evaluated(result)
        got = self.results.get(key)
        if got is None or got.result.id != criterion.id:
            got = Evaluated(result)
            self.keep(self.results, key, got, self.result_cost)
        return got

    def _outcome(self, row: _Row, trial, tally, results) -> Outcome:
        ctx = row.context(trial)
        result = combine(trial, row.pid, ctx.as_of, [r.result for r in results], [], str(ctx.lab_window[0]))
        return Outcome(result, self.writer.template(result), tally.counted(result))


def _size(template) -> int:
    """The characters of a line template: an outcome kept counts them against the budget."""
    return len(template[0]) + len(template[1]) if isinstance(template, tuple) else len(template or "")


class _Row:
    """A row on the fast path: its readings, and its patient and contexts made when needed."""

    __slots__ = ("rows", "readings", "pid", "whole", "contexts")

    def __init__(self, rows: DistinctRows, readings: list, pid: str):
        self.rows = rows
        self.readings = readings
        self.pid = pid
        self.whole: Patient | None = None
        self.contexts: dict = {}

    def patient(self) -> Patient:
        if self.whole is None:
            self.whole = assemble(self.pid, self.rows.source, zip(self.rows.names, (r.part for r in self.readings)))
        return self.whole

    def context(self, trial) -> Context:
        """The row's context for ``trial``; its patient is put together only when a leaf is
        judged (``LeafResults``), or the as-of date is the row's own."""
        ctx = self.contexts.get(id(trial))
        if ctx is None:
            rows = self.rows
            when = rows.as_of or self.patient().as_of or rows.today
            ctx = self.contexts[id(trial)] = Context(self.whole, when, rows.writer.explain,  # type: ignore[arg-type]
                                                     lab_window(trial, rows.max_lab_age, when))
            ctx.leaves = rows.leaves
        return ctx
