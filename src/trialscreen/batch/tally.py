"""What a batch counts: per trial the verdicts and each criterion's attrition, and the run's
summary (rows in and out, errors, warnings, what the columns left out). Plain data, written by
every runner (CSV, JSON records, FHIR, OMOP, Spark) and rendered by the CLI."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.patient.memo import ReadMemo
from trialscreen.semantics.status import Verdict

if TYPE_CHECKING:
    from trialscreen.batch.reuse import DistinctRows

ERROR = Verdict.ERROR.value
VERDICTS = tuple(v.value for v in (Verdict.ELIGIBLE, Verdict.NEEDS_REVIEW, Verdict.INELIGIBLE, Verdict.ERROR))


@dataclass
class TrialTally:
    """Counts for one trial: verdicts and, per criterion, the attrition (how many fail it, fail
    it alone, are unknown on it, and are first excluded by it in the trial's order: the funnel),
    and how many patients lack each data item."""

    trial_id: str
    criteria: list
    verdicts: dict = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    fail: dict = field(default_factory=dict)
    fail_only: dict = field(default_factory=dict)
    unknown: dict = field(default_factory=dict)
    first_fail: dict = field(default_factory=dict)
    missing: Counter = field(default_factory=Counter)     # data item path -> patients lacking it
    order: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        self.order = {cid: i for i, cid in enumerate(self.criteria)}
        for cid in self.criteria:
            self.fail[cid] = self.fail_only[cid] = self.unknown[cid] = self.first_fail[cid] = 0

    def add(self, result) -> None:
        self.count(*self.counted(result))

    @staticmethod
    def counted(result) -> tuple:
        """(verdict, failed ids, unknown ids, missing paths) of a result: what ``count`` adds."""
        missing = tuple(dict.fromkeys(getattr(m, "path", str(m)) for m in result.missing))
        return (result.verdict, tuple(c.id for c in result.criteria if c.status == "fail"),
                tuple(c.id for c in result.criteria if c.status == "unknown"), missing)

    def count(self, verdict: str, failed: tuple, unknown: tuple, missing: tuple = (), times: int = 1) -> None:
        self.verdicts[verdict] += times
        for cid in failed:
            self.fail[cid] += times
        if failed:
            self.first_fail[min(failed, key=self.order.__getitem__)] += times
        if len(failed) == 1:
            self.fail_only[failed[0]] += times
        for cid in unknown:
            self.unknown[cid] += times
        for path in missing:
            self.missing[path] += times

    def merge(self, other: TrialTally) -> None:
        """Add another part's counts (a parallel run's)."""
        for verdict, n in other.verdicts.items():
            self.verdicts[verdict] += n
        for cid in self.criteria:
            for mine, theirs in ((self.fail, other.fail), (self.fail_only, other.fail_only),
                                 (self.unknown, other.unknown), (self.first_fail, other.first_fail)):
                mine[cid] += theirs[cid]
        self.missing.update(other.missing)

    def funnel(self) -> list[tuple[str, int]]:
        """(criterion id, patients not excluded by it or any criterion before it), in order."""
        left = sum(n for v, n in self.verdicts.items() if v != ERROR)
        out = []
        for cid in self.criteria:
            left -= self.first_fail[cid]
            out.append((cid, left))
        return out

    def as_dict(self) -> dict:
        return {
            "trial": self.trial_id,
            "verdicts": dict(self.verdicts),
            "criteria": [{"id": cid, "fail": self.fail[cid], "fail_only": self.fail_only[cid],
                          "unknown": self.unknown[cid], "first_fail": self.first_fail[cid]} for cid in self.criteria],
            "missing": dict(self.missing.most_common()),
        }


@dataclass
class Summary:
    rows_in: int = 0
    rows_out: int = 0
    error_rows: int = 0
    internal_errors: int = 0
    trials: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    errors: list = field(default_factory=list)     # the first errors, for the console
    ignored_columns: list = field(default_factory=list)
    unusable_cells: int = 0                        # cells read but not usable (their criteria unknown)
    blank_rows: int = 0                            # rows with no cell filled (Excel's), skipped
    duplicate_ids: int = 0                         # rows whose id an earlier row had
    notes: list = field(default_factory=list)      # columns left out (not used, not mapped), one line each
    # (column, message, hint) -> [rows saying it, the first few of those rows]
    cell_warnings: dict = field(default_factory=dict, repr=False)
    cell_warnings_dropped: int = 0
    unused_columns: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rows_in": self.rows_in, "rows_out": self.rows_out, "error_rows": self.error_rows,
                "unusable_cells": self.unusable_cells, "blank_rows": self.blank_rows,
                "duplicate_ids": self.duplicate_ids,
                "trials": [t.as_dict() for t in self.trials],
                "warnings": [str(w) for w in self.warnings],
                "notes": list(self.notes),
                "ignored_columns": self.ignored_columns, "unused_columns": self.unused_columns}


@dataclass
class Memos:
    """What a batch reuses: record parts read and criteria evaluated for the rows it reads
    whole, and the distinct readings of the file's rows."""

    reads: ReadMemo
    criteria: CriterionMemo
    rows: DistinctRows | None = None    # the fast path of the file being read (batch/reuse.py)
